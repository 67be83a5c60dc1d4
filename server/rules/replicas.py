"""Which replica evaluates which series: a hash of the series over the live replicas.

Each replica writes a heartbeat series, `infracast_replica_heartbeat{replica="<id>"}`, to
the TSDB every evaluation round, and reads back the replicas whose heartbeat is younger
than LIVE_ROUNDS rounds (PromQL `last_over_time`). A series belongs to the replica with
the highest hash of (replica, series) among the live ones (rendezvous hashing): every
replica computes the same owner from the same live set, and when a replica comes or
goes only the series it owned (or now owns) move.

While replicas come and go their views can differ for up to LIVE_ROUNDS rounds: a
series may then be evaluated twice or skipped once, never lost for longer. Without a
TSDB (embedded store) there is one replica and it owns everything.
"""

from __future__ import annotations

import hashlib
import logging
import time

import numpy as np

from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite

log = logging.getLogger(__name__)

HEARTBEAT = "infracast_replica_heartbeat"
LIVE_ROUNDS = 2.5


def owner(key: SeriesKey, replicas: list[str]) -> str:
    text = str(key).encode()
    return max(replicas, key=lambda replica: hashlib.blake2b(replica.encode() + b"\0" + text,
                                                             digest_size=8).digest())


class ReplicaSet:
    def __init__(self, replica_id: str, store=None, round_s: float = 60.0) -> None:
        self.replica_id = replica_id
        self._store = store  # a PrometheusStore, or None: alone
        self._round_s = round_s
        self.live: list[str] = [replica_id]
        self.beats = 0
        self.failed = False  # the last heartbeat failed (the TSDB is down): the live set is old

    async def heartbeat(self) -> list[str]:
        """Announce this replica and read the live set (this one always included)."""
        if self._store is None:
            self.beats += 1
            return self.live
        now_ms = int(time.time() * 1000)
        key = SeriesKey.of(HEARTBEAT, {"replica": self.replica_id})
        try:
            await self._store.write_derived([SeriesWrite(key, np.array([now_ms], dtype=np.int64),
                                                         np.array([now_ms / 1000]))])
            window_ms = int(self._round_s * LIVE_ROUNDS * 1000)
            result = await self._store.instant_query(f"last_over_time({HEARTBEAT}[{window_ms}ms])")
        except Exception:
            self.failed = True
            raise
        self.failed = False
        self.beats += 1
        live = sorted({series["metric"].get("replica", "") for series in result} | {self.replica_id})
        if live != self.live:
            log.info("live replicas: %s", ", ".join(live))
        self.live = live
        return live

    def owns(self, key: SeriesKey) -> bool:
        return len(self.live) == 1 or owner(key, self.live) == self.replica_id
