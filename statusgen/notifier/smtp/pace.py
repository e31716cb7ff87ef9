"""The relay's rate limit, kept by all connections together: one schedule of send slots.

    worker 1 ─┐
    worker 2 ─┼─slot()──▶ waits for its slot, `gap` after the previous one ──▶ writes its MAIL FROM
    worker n ─┘           (one lock, held through the write: the connections queue for the next slot)

What counts is the start of a transaction, MAIL FROM, and every attempt counts, a retry
after a 4xx included: that is where relays count. Postfix's `smtpd_client_message_rate_limit`
(anvil) counts each MAIL FROM, accepted or not, and refuses the one over the limit right
there (421/450); hosted relays count each message they are asked to take. Pacing the first
command of each attempt also paces all that follows it (RCPT, DATA, the final dot), shifted
by one transaction's time, so a relay that counts at DATA or at the final dot sees the same
spacing.

Slots are evenly spaced (no bursts, whatever the number of connections). Each is `gap`
after the previous one, or, if that MAIL FROM's write ended more than `CATCH_UP` late (a
worker paused between its slot and its write), `gap - CATCH_UP` after that write: a late
command never lands among the next ones. `GUARD` widens each gap a little, so that the
relay, which sees each message after a network delay that is not always the same, still
never counts more than `rate` in any one-second window: with 14/s, any 15 MAIL FROMs span
at least 1.05 s on our side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

GUARD = 0.06
"""How much wider than 1/rate each gap is: the network's jitter, as a share of a second."""
CATCH_UP = 0.01
"""Seconds a slot's write may end late without moving the next slot: a sleeping thread wakes
a few milliseconds late on a busy machine, and the rate should not drop by that each time.
Any `rate` + 1 writes still span at least 1 s + GUARD - CATCH_UP, so the relay counts one
too many only when two messages' network delays differ by more than the remaining 50 ms."""
STEP = 0.2
"""The longest single sleep: a stopped run is noticed within this."""


class Stopped(Exception):
    """The run stopped while this message waited for its slot: it was not sent."""


class Pace:
    """At most `rate` transaction starts per second across every connection of a transport
    (None: no limit). Thread-safe; `clock` and `sleep` are injectable for tests."""

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, guard: float = GUARD) -> None:
        if rate is not None and not rate > 0:
            raise ValueError(f"Pace: expected a rate above 0 messages per second; found {rate!r}")
        self.rate = rate
        self.gap = (1 + guard) / rate if rate else 0.0
        """Seconds between two starts."""
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")

    @contextmanager
    def slot(self, stopped: Callable[[], bool] = lambda: False) -> Iterator[None]:
        """Wait for the next slot, then hold it while the caller writes its MAIL FROM; the
        next slot is `gap` after that write. Holding it through the write means a worker
        the system pauses between its slot and its command delays the others too, instead
        of letting its command land among theirs. Raises Stopped if `stopped()` turns true
        while waiting."""
        if not self.gap:
            yield
            return
        with self._lock:  # held while waiting: the other connections wait for the slot after
            due = max(self._next, self._clock())  # a slot free since before we came: it is due now
            while (wait := due - self._clock()) > 0:
                if stopped():
                    raise Stopped("the run was interrupted")
                self._sleep(min(wait, STEP))
            try:
                yield
            finally:  # from the slot it was due, unless its write ended more than CATCH_UP late
                self._next = max(due + self.gap, self._clock() + self.gap - CATCH_UP)

    def seconds_for(self, messages: int) -> float:
        """How long `messages` take at this pace at the least (0 without a limit)."""
        return max(0, messages - 1) * self.gap
