"""A spinner on stderr while a command waits for the server: only on a terminal, never when piped."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def waiting(message: str) -> Iterator[None]:
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    # transient: the spinner line is erased when the answer is ready, leaving only the answer.
    with Console(stderr=True).status(message, spinner="dots"):
        yield
