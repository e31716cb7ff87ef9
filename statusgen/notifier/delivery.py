"""What every transport shares: the message, the ledger it reports to, and the progress.

The notifier queues every (event, subscriber) delivery in its store, renders the
messages and hands them to a transport (outbox.py, smtp/) together with the store, seen
here as a `Ledger`. The ledger is what makes "never twice" hold, even when the process
is killed:

    pending ──committing()──▶ committing ──▶ sent | failed | retry_later | uncertain

A delivery is *pending* until the transport calls `committing`, which it does at the
last moment before the message can become delivered. A killed run leaves rows pending
(nothing was handed over: safe to send again) or committing (maybe handed over: the
next run reports them as uncertain and does not resend them).

Every transport reports to a `Progress`, which prints how the run goes and a one-line
summary. Addresses are masked in what it prints: CI logs are often public.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sized
from datetime import UTC, datetime, timedelta, tzinfo
from dataclasses import dataclass
from typing import Protocol, TextIO

# ── the contract between the notifier, its store and a transport ──────────────────────

class Ledger(Protocol):
    """The notifier store's side of a delivery; thread-safe, every call commits before
    returning, except that a store may write a `sent` with its next write (or before its
    next read or close): until then the delivery reads `committing`, which after a crash
    becomes `uncertain`, never `pending` (the SQLite store does, to save a commit)."""

    def committing(self, delivery_id: int) -> None: ...   # the message is about to be handed over for good
    def sent(self, delivery_id: int) -> None: ...
    def retry_later(self, delivery_id: int, error: str) -> None: ...   # transient: try again in a later run
    def failed(self, delivery_id: int, error: str) -> None: ...        # permanent (5xx for this address)
    def uncertain(self, delivery_id: int, error: str) -> None: ...     # may or may not have been delivered


@dataclass(frozen=True)
class Outgoing:
    """One rendered message for one recipient."""

    delivery_id: int
    sender: str
    """The envelope sender (MAIL FROM)."""
    recipient: str
    """The envelope recipient (RCPT TO)."""
    message_id: str
    """The Message-ID header's value, e.g. `<abc@status.example.org>`."""
    data: bytes
    """The whole message; CRLF or LF line ends (SMTP sends CRLF either way)."""


class Transport(Protocol):
    def deliver(self, messages: Iterable[Outgoing], ledger: Ledger, progress: Progress) -> None: ...


# ── progress ──────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Tally:
    """What a delivery run did."""

    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    deferred: int = 0
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.uncertain + self.deferred

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        return (f"{self.sent} sent, {self.failed} failed, {self.uncertain} uncertain, {self.deferred} deferred"
                f" in {self.seconds:.1f} s ({per_second(self.rate)} msg/s)")


class Progress:
    """Tells the operator how a delivery run goes: a line about every `interval` seconds
    (the rate over the last `window` seconds and, when the total is known, when the run
    should end), one line per problem (the first `shown` of them), and a summary at the end.

    A line every few seconds, not per message, so a CI log of a long send stays readable.
    Thread-safe: the SMTP transport reports from several threads. The clocks and stream
    are injectable so tests can drive it: `clock` measures (monotonic), `wall` tells the
    time of day, shown in `zone` (the site's timezone; None: this machine's).
    """

    def __init__(self, stream: TextIO | None = None, *, clock: Callable[[], float] = time.monotonic,
                 interval: float = 5.0, label: str = "notify", shown: int = 20, window: float = 10.0,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC), zone: tzinfo | None = None) -> None:
        self._stream = stream
        self._clock = clock
        self._interval = interval
        self._label = label
        self._shown = shown
        self._wall = wall
        self._zone = zone
        self._lock = threading.Lock()
        self._counts = {"sent": 0, "failed": 0, "uncertain": 0, "deferred": 0}
        self._problems = 0
        self._total: int | None = None
        self._expected: int | None = None
        self._started = self._reported = self._sampled = clock()
        self._samples: deque[tuple[float, int]] = deque(maxlen=max(1, round(window / SAMPLE_EVERY)))
        """(time, done) about every SAMPLE_EVERY seconds: the recent rate is measured from the oldest."""

    def expect(self, more: int) -> None:
        """About `more` messages are still to come, for a transport that cannot count them
        (the notifier's queue is claimed in batches as they go out): the total the line shows."""
        with self._lock:
            self._expected = sum(self._counts.values()) + more

    def started(self, total: int | None) -> None:
        """A run begins; `total` is None when the transport cannot know it in advance."""
        with self._lock:
            self._total = total if total is not None else self._expected
            self._started = self._reported = self._sampled = self._clock()
            self._samples.clear()

    def delivered(self) -> None:
        self._count("sent")

    def failed(self, recipient: str, error: str) -> None:
        self._count("failed", recipient, error)

    def uncertain(self, recipient: str, error: str) -> None:
        self._count("uncertain", recipient, error)

    def deferred(self, recipient: str, error: str) -> None:
        self._count("deferred", recipient, error)

    def tally(self) -> Tally:
        with self._lock:
            return self._tally()

    def finished(self) -> Tally:
        """Print the summary line and return the tally."""
        with self._lock:
            tally = self._tally()
            self._write(f"{self._label}: {tally}")
        return tally

    def _tally(self) -> Tally:
        return Tally(**self._counts, seconds=max(0.0, self._clock() - self._started))

    def _count(self, outcome: str, recipient: str | None = None, error: str = "") -> None:
        with self._lock:
            self._counts[outcome] += 1
            if recipient is not None:
                self._problem(outcome, recipient, error)
            now = self._clock()
            if now - self._reported >= self._interval:
                self._reported = now
                self._write(self._status_line(now))
            if now - self._sampled >= SAMPLE_EVERY:
                self._sampled = now
                self._samples.append((now, sum(self._counts.values())))

    def _problem(self, outcome: str, recipient: str, error: str) -> None:
        self._problems += 1
        if self._problems <= self._shown:
            self._write(f"{self._label}: {outcome} {masked(recipient)}: {masked_in(error, recipient)}")
        elif self._problems == self._shown + 1:
            self._write(f"{self._label}: more problems are counted below but not shown; the store has them all")

    def _status_line(self, now: float) -> str:
        tally = self._tally()
        of = f"/{self._total}" if self._total is not None else ""
        then, before = self._samples[0] if self._samples else (self._started, 0)
        rate = (tally.done - before) / (now - then) if now > then else 0.0
        return (f"{self._label}: {tally.done}{of} done, {tally.failed} failed, {tally.uncertain} uncertain,"
                f" {tally.deferred} deferred, {per_second(rate)} msg/s{self._finish(tally.done, rate)}")

    def _finish(self, done: int, rate: float) -> str:
        """`, done about 14:32 CET (in 12 min)`: when the rest should be out at the recent rate."""
        if self._total is None or rate <= 0 or done >= self._total:
            return ""
        left = (self._total - done) / rate
        now = self._wall().astimezone(self._zone)
        end = now + timedelta(seconds=left)
        when = f"{end:%H:%M %Z}" if end.date() == now.date() else f"{end:%Y-%m-%d %H:%M %Z}"
        return f", done about {when} (in {duration_text(left)})"

    def _write(self, line: str) -> None:
        stream = self._stream if self._stream is not None else sys.stderr  # late: tests swap sys.stderr
        stream.write(line + "\n")
        stream.flush()


SAMPLE_EVERY = 1.0
"""Seconds between the samples the recent rate is measured with."""


def per_second(rate: float) -> str:
    """`14`, `0.5`: whole numbers from 10 up, one decimal below (a slow relay's 0.5/s is not 0)."""
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.1f}".removesuffix(".0")


def duration_text(seconds: float) -> str:
    """`45 s`, `12 min`, `1 h 5 min`: how long something takes, to the unit that matters."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class Label(str):
    """A target's name that is already safe to print (a webhook URL as `masked_url` shows
    it): `masked` keeps it as it is instead of treating it as an email address."""


def masked(address: str) -> str:
    """`s***@partner.example`: enough to tell addresses apart in a log, not to harvest them."""
    if isinstance(address, Label):
        return str(address)
    local, at, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if at else "***"


def masked_in(text: str, address: str) -> str:
    """`text` with `address` masked: servers like to repeat the address in their errors."""
    return text.replace(address, masked(address)) if address else text


def known_count(messages: Iterable[Outgoing]) -> int | None:
    """How many messages there are, if that is known without rendering them all first."""
    return len(messages) if isinstance(messages, Sized) else None
