"""The live loop: fetch in a background thread, redraw on new data or a key, quit on q.

Keys are read from the terminal in cbreak mode (no Enter needed); fetching never
blocks them. Without a terminal, one snapshot is printed instead.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable, Iterator
from datetime import datetime

from rich.console import Console
from rich.live import Live

from infracast.clients.errors import ClientError
from infracast.clients.top.fleet import FILTERS, SORTS, FleetView, arrange
from infracast.clients.top.view import render


@contextlib.contextmanager
def _cbreak(fd: int) -> Iterator[None]:
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _next(options, current: str) -> str:
    names = list(options)
    return names[(names.index(current) + 1) % len(names)]


class TopState:
    """What the user chose (sort, filter, find text) and what the server last said."""

    def __init__(self) -> None:
        self.sort, self.show, self.find, self.typing = "urgency", "all", "", False
        self.fleet: FleetView | None = None
        self.error = ""
        self.updated = ""
        self.width = 200

    def key(self, char: str) -> bool:
        """Apply one key; False means quit."""
        if self.typing:
            if char in ("\n", "\r", "\x1b"):
                self.typing = False
                if char == "\x1b":
                    self.find = ""
            elif char in ("\x7f", "\b"):
                self.find = self.find[:-1]
            elif char.isprintable():
                self.find += char
            return True
        if char in ("q", "Q", "\x03"):
            return False
        if char == "s":
            self.sort = _next(SORTS, self.sort)
        elif char == "f":
            self.show = _next(FILTERS, self.show)
        elif char == "/":
            self.typing, self.find = True, ""
        return True

    def screen(self):
        if self.fleet is None:
            from rich.text import Text

            return Text(self.error or "asking the server…")
        rows = arrange(self.fleet.nodes, self.sort, self.show, self.find)
        status = f"updated {self.updated}" + (f" · last refresh failed: {self.error}" if self.error else "")
        return render(self.fleet, rows, self.sort, self.show, self.find, self.typing, status,
                      width=self.width)


def run_live(fetch: Callable[[], FleetView], refresh_s: float, stop: threading.Event | None = None,
             console: Console | None = None) -> int:
    """Until q (or `stop` is set): the view refreshed every refresh_s seconds."""
    stop = stop or threading.Event()
    state = TopState()
    changed = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                state.fleet, state.error = fetch(), ""
                state.updated = datetime.now().strftime("%H:%M:%S")
            except ClientError as error:
                state.error = str(error)
            changed.set()
            stop.wait(refresh_s)

    threading.Thread(target=poll, name="infracast-top", daemon=True).start()
    fd = sys.stdin.fileno()
    console = console or Console()
    state.width = console.width
    try:
        _loop(fd, console, state, changed, stop)
    except KeyboardInterrupt:  # Ctrl-C quits as q does (the terminal is restored on the way out)
        stop.set()
        return 130
    return 0


def _loop(fd: int, console: Console, state: TopState, changed: threading.Event,
          stop: threading.Event) -> None:
    with _cbreak(fd), Live(state.screen(), console=console, screen=True, auto_refresh=False) as live:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                char = os.read(fd, 1).decode(errors="ignore")
                if not state.key(char):
                    stop.set()
                    break
                changed.set()
            if changed.is_set() or console.width != state.width:
                changed.clear()
                state.width = console.width
                live.update(state.screen(), refresh=True)


def print_once(fleet: FleetView, sort: str = "urgency", show: str = "all", width: int = 200,
               out=None) -> None:
    """One snapshot as plain text (no terminal: piped, or a log)."""
    console = Console(file=out or sys.stdout, width=width, color_system=None, force_terminal=False,
                      soft_wrap=True)
    console.print(render(fleet, arrange(fleet.nodes, sort, show), sort, show,
                         updated=time.strftime("%H:%M:%S"), keys=False, width=width))
