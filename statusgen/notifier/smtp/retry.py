"""The retry policy: how often, and after how long, a transient problem is tried again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `retries` more attempts after the first, after `backoff * 2**n` seconds
    (jittered); `sleep` and `jitter` are injectable so tests need not wait."""

    retries: int
    backoff: float
    sleep: Callable[[float], None]
    jitter: Callable[[], float]

    def gives_up(self, attempts: int) -> bool:
        """After `attempts` failed attempts, whether to stop trying in this run."""
        return attempts > self.retries

    def delay(self, attempt: int) -> float:
        """How long to wait before retry number `attempt` (from 1): exponential, jittered
        between half and the full value so that parallel connections do not retry in step."""
        return self.backoff * 2 ** (attempt - 1) * (0.5 + self.jitter() / 2)

    def wait(self, attempt: int) -> None:
        self.sleep(self.delay(attempt))
