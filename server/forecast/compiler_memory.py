"""Give back the memory the compiler's code occupies once the kernels are loaded.

numba runs LLVM (inside libllvmlite.so, 170 MB of code) to initialise itself and to
load cached kernels: by the end of the warm-up some 65 MiB of that library has been
read into the server's memory, and nothing runs it again unless a new kernel has to
be compiled. Those pages are copies of the file and nothing else: madvise(DONTNEED)
drops them from the process (they stay in the page cache, reclaimable, and a later
compile faults back in what it needs). Only mappings that hold no private page (no
`Anonymous` or `Swap` in smaps: no relocated data, which lives in anonymous copies)
and cannot be written are dropped, so no state is ever lost. Linux only; elsewhere
this does nothing.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MADV_DONTNEED = 4
COMPILER_LIBRARY = "libllvmlite.so"
SMAPS = Path("/proc/self/smaps")


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    permissions: str
    path: str
    kib: dict[str, int]  # smaps' sizes: Rss, Anonymous, Swap, ...

    @property
    def only_file_pages(self) -> bool:
        return "w" not in self.permissions and self.kib.get("Anonymous", 1) == 0 \
            and self.kib.get("Swap", 1) == 0


def mappings(smaps_path: Path = SMAPS) -> Iterator[Mapping]:
    """The memory mappings of a process, this one by default, as /proc/<pid>/smaps lists them."""
    current: Mapping | None = None
    with smaps_path.open() as smaps:
        for line in smaps:
            fields = line.split(maxsplit=5)  # the path, last, may hold spaces
            if "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
                if current is not None:
                    yield current
                start, end = (int(bound, 16) for bound in fields[0].split("-"))
                current = Mapping(start, end, fields[1], fields[5].strip() if len(fields) > 5 else "", {})
            elif current is not None and len(fields) == 3 and fields[2] == "kB":
                current.kib[fields[0].rstrip(":")] = int(fields[1])
    if current is not None:
        yield current


def resident_compiler_bytes(smaps_path: Path = SMAPS) -> int:
    """Bytes of the compiler library resident in a process (0 where /proc is not)."""
    if not smaps_path.exists():
        return 0
    return sum(m.kib.get("Rss", 0) * 1024 for m in mappings(smaps_path)
               if m.path.endswith(COMPILER_LIBRARY))


def release_compiler_pages() -> int:
    """Drop the compiler library's file pages from this process; returns the bytes released."""
    if not SMAPS.exists():
        return 0
    library = [m for m in mappings() if m.path.endswith(COMPILER_LIBRARY)]
    before = sum(m.kib.get("Rss", 0) for m in library) * 1024
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for mapping in (m for m in library if m.only_file_pages and m.kib.get("Rss", 0)):
        if libc.madvise(mapping.start, mapping.end - mapping.start, MADV_DONTNEED) != 0:
            log.info("compiler pages kept in memory: madvise failed (errno %d)", ctypes.get_errno())
            return 0
    released = max(0, before - resident_compiler_bytes())
    log.info("released %.0f MiB of compiler code after warm-up", released / 2**20)
    return released
