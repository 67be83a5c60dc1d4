"""What the server says when a SQLite file in its data directory cannot be used.

A corrupt, foreign, unreadable or misplaced database file must stop the start with one
line an operator can act on, not a traceback, and the file must stay where it is: it may
be the only copy of what it holds, so the server never deletes or replaces it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path


class UnusableDatabaseFile(RuntimeError):
    """A database file of the data directory cannot be opened or read; the server stops."""


@contextlib.contextmanager
def database_file(path: Path, holds: str) -> Iterator[None]:
    """Check the file before SQLite opens it, and turn SQLite's refusal into
    UnusableDatabaseFile naming the file, what is wrong and what to do.

    `holds` says what the file keeps ("samples", "metric descriptors"): what is lost if
    the operator moves it aside instead of restoring it.
    """
    _check_usable(path)
    try:
        yield
    except sqlite3.DatabaseError as error:  # OperationalError and the rest derive from it
        raise UnusableDatabaseFile(
            f"{path} is not a usable SQLite database ({error}): restore it from a backup, "
            f"or move it aside together with {path.name}-wal and {path.name}-shm if present "
            f"to start without the {holds} it held; the server never deletes it") from None


def _check_usable(path: Path) -> None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return  # a new data directory: SQLite creates the file
    if stat.S_ISDIR(status.st_mode):
        raise UnusableDatabaseFile(
            f"{path} is a directory, not a database file: move it out of the data directory "
            f"or restore the file from a backup")
    if not stat.S_ISREG(status.st_mode):
        raise UnusableDatabaseFile(
            f"{path} is not a regular file: replace it with the database file from a backup, "
            f"or move it aside to start without it")
    if not os.access(path, os.R_OK | os.W_OK):
        raise UnusableDatabaseFile(
            f"{path} cannot be read and written by this process (uid {os.geteuid()}; the file "
            f"belongs to uid {status.st_uid} with mode {stat.S_IMODE(status.st_mode):04o}): "
            f"give the server's user read and write access to it")
