"""Logging for infracast processes: readable text for people, JSON lines for collectors."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


LOG_FILE_BYTES = 10 * 1024 * 1024
LOG_FILE_BACKUPS = 5


def configure_logging(level: str, log_format: str = "text",
                      filters: tuple[logging.Filter, ...] = (), log_file: Path | None = None) -> None:
    """Log at `level` ("info", ...) as "text" or "json" (one object per line), to stderr or,
    with log_file, to that file rotated at 10 MiB keeping 5 old files. filters may add
    fields to every record (the server adds trace and span ids)."""
    handler: logging.Handler = (
        logging.handlers.RotatingFileHandler(log_file, maxBytes=LOG_FILE_BYTES,
                                             backupCount=LOG_FILE_BACKUPS)
        if log_file is not None else logging.StreamHandler(sys.stderr))
    for log_filter in filters:
        handler.addFilter(log_filter)
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter  # only for JSON logs: the agent's RSS

        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z"))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
