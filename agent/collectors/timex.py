"""The kernel's clock discipline from adjtimex(2) (node_exporter's timex collector): whether
NTP keeps the clock synchronised, its offset and its error bound, which grows steadily
once synchronisation is lost (a forecast sees it coming before TLS and logs notice)."""

from __future__ import annotations

import ctypes
from collections.abc import Mapping

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths

TIME_ERROR = 5  # adjtimex's return value when the clock is not synchronised
STA_NANO = 0x2000  # status bit: offset and jitter are in ns, not us
PPM16 = 1_000_000.0 * 65536.0  # freq, ppsfreq and stabil are ppm with a 16-bit fraction
US = 1_000_000.0


class Timex(ctypes.Structure):
    """struct timex of <sys/timex.h> (ctypes aligns the fields as the C compiler does)."""

    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
        ("reserved", ctypes.c_int * 11),
    ]


FIELD_NAMES = tuple(field[0] for field in Timex._fields_ if field[0] != "reserved")


def timex_samples(state: int, timex: Mapping[str, int]) -> list[Sample]:
    """node_exporter's timex metrics from adjtimex's return value and struct fields."""
    divisor = 1e9 if timex["status"] & STA_NANO else US
    return [
        Sample("node_timex_sync_status", 0.0 if state == TIME_ERROR else 1.0),
        Sample("node_timex_offset_seconds", timex["offset"] / divisor),
        Sample("node_timex_frequency_adjustment_ratio", 1.0 + timex["freq"] / PPM16),
        Sample("node_timex_maxerror_seconds", timex["maxerror"] / US),
        Sample("node_timex_estimated_error_seconds", timex["esterror"] / US),
        Sample("node_timex_status", float(timex["status"])),
        Sample("node_timex_loop_time_constant", float(timex["constant"])),
        Sample("node_timex_tick_seconds", timex["tick"] / US),
        Sample("node_timex_pps_frequency_hertz", timex["ppsfreq"] / PPM16),
        Sample("node_timex_pps_jitter_seconds", timex["jitter"] / divisor),
        Sample("node_timex_pps_shift_seconds", float(timex["shift"])),
        Sample("node_timex_pps_stability_hertz", timex["stabil"] / PPM16),
        Sample("node_timex_pps_jitter_total", float(timex["jitcnt"])),
        Sample("node_timex_pps_calibration_total", float(timex["calcnt"])),
        Sample("node_timex_pps_error_total", float(timex["errcnt"])),
        Sample("node_timex_pps_stability_exceeded_total", float(timex["stbcnt"])),
        Sample("node_timex_tai_offset_seconds", float(timex["tai"])),
    ]


def read_adjtimex() -> tuple[int, dict[str, int]]:
    """adjtimex with modes 0 (read only, no privilege needed): the clock is the host's
    in any container, so no host path applies."""
    timex = Timex()
    state = LIBC.adjtimex(ctypes.byref(timex))
    if state < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"adjtimex: {errno}")
    return state, {name: getattr(timex, name) for name in FIELD_NAMES}


LIBC = ctypes.CDLL(None, use_errno=True)


class TimexCollector:
    name = "timex"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths  # unused: adjtimex is a system call

    def collect(self) -> list[Sample]:
        return timex_samples(*read_adjtimex())
