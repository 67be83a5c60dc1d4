"""Logging for infracast processes: readable text for people, JSON lines for collectors."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, log_format: str = "text",
                      filters: tuple[logging.Filter, ...] = ()) -> None:
    """Log to stderr at `level` ("info", ...) as "text" or "json" (one object per line).
    filters may add fields to every record (the server adds trace and span ids)."""
    handler = logging.StreamHandler(sys.stderr)
    for log_filter in filters:
        handler.addFilter(log_filter)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z"))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
