"""Whether the durable log's writes succeed: the state the Status RPC, readiness, the
metrics and the log report while commits fail (a full disk, an I/O error).

Updated by the writer thread only; read from anywhere (plain attribute reads). Each
change of state is logged once, with its reason, rather than every failed commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class WriteHealth:
    def __init__(self, where: str) -> None:
        self.where = where
        self.commit_error: str | None = None  # why the last commit failed, while they fail
        self.failing_since: float | None = None  # time.monotonic() of the first failure
        self.failed_commits = 0  # in all, since start
        self.compaction_error: str | None = None  # why the last compaction failed, until one works
        # Called (in the writer thread) when commits start or stop failing.
        self.on_change: Callable[[bool], None] | None = None

    @property
    def writable(self) -> bool:
        return self.commit_error is None

    def commit_failed(self, error: BaseException) -> None:
        self.failed_commits += 1
        reason = describe(error)
        if self.commit_error is None:
            self.failing_since = time.monotonic()
            log.error("cannot write to the sample log in %s: %s; ingest answers UNAVAILABLE "
                      "(agents keep their data and resend) until a commit succeeds", self.where, reason)
            self.commit_error = reason
            self._changed(False)
        self.commit_error = reason

    def commit_succeeded(self) -> None:
        if self.commit_error is None:
            return
        failed_for = time.monotonic() - (self.failing_since or time.monotonic())
        log.warning("writing to the sample log in %s again, after %.0fs of failed commits (%d in all)",
                    self.where, failed_for, self.failed_commits)
        self.commit_error = self.failing_since = None
        self._changed(True)

    def compaction_failed(self, error: BaseException) -> None:
        if self.compaction_error is None:
            log.error("compacting the sample log in %s failed: %s; retried at the next interval",
                      self.where, describe(error))
        self.compaction_error = describe(error)

    def compaction_succeeded(self) -> None:
        if self.compaction_error is not None:
            log.warning("compacting the sample log in %s works again", self.where)
            self.compaction_error = None

    def _changed(self, writable: bool) -> None:
        if self.on_change is not None:
            try:
                self.on_change(writable)
            except Exception:  # a listener's fault must not stop the writer
                log.exception("reporting the sample log's state failed")


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
