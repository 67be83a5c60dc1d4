"""JIT flags, set once for every kernel, and where compiled kernels are cached.

cache=True keeps compiled machine code on disk so a restarted server does not
recompile; nogil=True lets forecasts run in executor threads while the event
loop keeps serving; parallel=True (batches only) spreads a prange over series.

numba keys a cached function on its own file only, so editing a kernel another
module inlines would leave stale machine code behind. The cache therefore lives
in a directory named after a digest of every kernel source and of fit_layout.py
(whose constants the kernels compile in): any change starts a fresh cache. The
base is NUMBA_CACHE_DIR when set (read by numba's own config), else
~/.cache/infracast/numba.
"""

import hashlib
import os
from pathlib import Path

from numba import config, njit


def _kernel_cache_dir() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for source in [*sorted(here.glob("*_kernels.py")), here / "fit_layout.py", here / "jit.py"]:
        digest.update(source.read_bytes())
    # numba fills its config module from the environment at import: mypy cannot see the names.
    base = config.CACHE_DIR  # type: ignore[attr-defined]
    base = base or os.path.join(os.path.expanduser("~"), ".cache", "infracast", "numba")
    return os.path.join(base, f"kernels-{digest.hexdigest()[:16]}")


config.CACHE_DIR = _kernel_cache_dir()  # type: ignore[attr-defined]

kernel = njit(cache=True, nogil=True)
parallel_kernel = njit(cache=True, nogil=True, parallel=True)
