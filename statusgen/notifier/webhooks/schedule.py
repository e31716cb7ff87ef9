"""Which webhook request goes next: fast for many receivers, polite to each one.

    requests (rendered lazily, up to `lookahead` ahead) ──▶ one queue per endpoint (URL without its query)
        an endpoint is ready when: none of its requests is in flight,
            its interval since the last start has passed (Slack: about one a second),
            a retry's wait is over, and its host has fewer than `per_host` requests in flight
        ──take()──▶ worker ──finish(job, again_at)──▶ next of that endpoint, or the job again later

One request per endpoint at a time keeps a channel's messages in the order they were
queued, and lets a receiver that answers 429 slow down only its own requests. Workers
never wait for one busy host while another's requests are ready.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(eq=False)
class Job(Generic[T]):
    """One request on its way, with what has happened to it so far."""

    item: T
    endpoint: str
    host: str
    interval: float = 0.0
    """The least time between the starts of two requests to this endpoint."""
    attempts: int = 0
    started: float = 0.0


class Schedule(Generic[T]):
    """The jobs of one `deliver` call, handed to worker threads (thread-safe)."""

    def __init__(self, jobs: Iterator[Job[T]], *, per_host: int, lookahead: int,
                 clock: Callable[[], float]) -> None:
        self._jobs = jobs
        self._per_host = per_host
        self._lookahead = lookahead
        self._clock = clock
        self._changed = threading.Condition()
        self._queues: dict[str, deque[Job[T]]] = {}
        self._buffered = 0
        self._in_flight = 0
        self._exhausted = False
        self._stopped = False
        self._busy: set[str] = set()
        self._host_busy: Counter[str] = Counter()
        self._next_start: dict[str, float] = {}
        self._ready: deque[str] = deque()
        self._timed: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._blocked: dict[str, deque[str]] = {}
        """Per host: endpoints that are ready but wait for a free place at their host."""

    def take(self) -> Job[T] | None:
        """The next job to send now; waits while none is ready; None when all are done."""
        with self._changed:
            while not self._stopped:
                self._wake_due()
                if (job := self._start_ready()) is not None:
                    return job
                if self._pull():
                    continue
                if self._exhausted and not self._buffered and not self._in_flight:
                    return None
                self._changed.wait(self._timed[0][0] - self._clock() if self._timed else None)
            return None

    def finish(self, job: Job[T], again_at: float | None = None) -> None:
        """A worker is done with `job`; `again_at` (clock time) puts it back for a retry,
        before the endpoint's later jobs."""
        with self._changed:
            self._in_flight -= 1
            self._busy.discard(job.endpoint)
            self._host_busy[job.host] -= 1
            blocked = self._blocked.get(job.host)
            if blocked:
                self._ready.append(blocked.popleft())
            start = job.started + job.interval
            if again_at is not None:
                self._queues.setdefault(job.endpoint, deque()).appendleft(job)
                self._buffered += 1
                start = max(start, again_at)
            self._next_start[job.endpoint] = start
            if self._queues.get(job.endpoint):
                self._schedule(job.endpoint)
            self._changed.notify_all()

    def stop(self) -> None:
        """No more jobs are handed out (those in flight finish)."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    # ── under the lock ──────────────────────────────────────────────────────────────

    def _start_ready(self) -> Job[T] | None:
        while self._ready:
            endpoint = self._ready.popleft()
            queue = self._queues[endpoint]
            host = queue[0].host
            if self._host_busy[host] >= self._per_host:
                self._blocked.setdefault(host, deque()).append(endpoint)
                continue
            job = queue.popleft()
            if not queue:
                del self._queues[endpoint]
            self._buffered -= 1
            self._in_flight += 1
            self._busy.add(endpoint)
            self._host_busy[host] += 1
            job.started = self._clock()
            return job
        return None

    def _pull(self) -> bool:
        """Take one more job from the source, if it has one and there is room for it."""
        if self._exhausted or self._buffered >= self._lookahead:
            return False
        job = next(self._jobs, None)  # the notifier renders lazily: one thread at a time
        if job is None:
            self._exhausted = True
            self._changed.notify_all()
            return False
        queue = self._queues.setdefault(job.endpoint, deque())
        queue.append(job)
        self._buffered += 1
        if len(queue) == 1 and job.endpoint not in self._busy:
            self._schedule(job.endpoint)
        return True

    def _schedule(self, endpoint: str) -> None:
        """An endpoint that has jobs and none in flight: ready now, or at its next start."""
        at = self._next_start.get(endpoint, 0.0)
        if at <= self._clock():
            self._ready.append(endpoint)
        else:
            heapq.heappush(self._timed, (at, next(self._order), endpoint))

    def _wake_due(self) -> None:
        now = self._clock()
        while self._timed and self._timed[0][0] <= now:
            self._ready.append(heapq.heappop(self._timed)[2])
