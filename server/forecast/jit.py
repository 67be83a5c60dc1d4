"""JIT flags, set once for every kernel.

cache=True writes compiled machine code next to the module (or under
NUMBA_CACHE_DIR) so a restarted server does not recompile; nogil=True lets
forecasts run in executor threads while the event loop keeps serving.
"""

from numba import njit

kernel = njit(cache=True, nogil=True)
