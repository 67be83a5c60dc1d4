"""Jittered exponential backoff between reconnection attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays double from `initial` up to `maximum`; each is drawn from [d/2, d] so a
    fleet that lost the same server does not reconnect in lockstep."""

    initial: float = 0.2
    maximum: float = 5.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * (2 ** self.attempt))
        self.attempt += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
