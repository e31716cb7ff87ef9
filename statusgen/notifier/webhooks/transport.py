"""Webhook delivery: SSRF-checked POSTs in parallel, each outcome told to the ledger.

    requests ──schedule: per endpoint in order, ≤ per_host at a host, chat intervals──▶ workers (a bounded pool)
        ──attempt: check, connect, sign, commit, send, judge──▶ outcome
        sent | gone | failed | uncertain ──▶ ledger + progress
        retry ──▶ again in this run after a short backoff (or the Retry-After, when short),
                  else retry_later: the next run tries again

Why the outcomes are what they are:
- 2xx is sent. A 3xx is failed: redirects are not followed, and the same request would be
  redirected again, so retrying cannot help; the message says to subscribe with the URL
  it leads to (Statuspage counts it a failure too).
- 410 is gone (the caller unsubscribes the endpoint); for chat targets 404 too (Slack's
  channel_not_found, a deleted Discord webhook or Teams flow): `WebhookRequest.fmt` says.
  The endpoint's other requests in this run are not sent: they are gone too.
- 408, 425, 429 and 5xx, a failed DNS lookup, a refused or dropped connection, a TLS
  failure: nothing arrived, so it is tried again, `retries` times in this run after
  `backoff * 2**n` seconds (jittered), then left for the next run (`retry_later`). A
  Retry-After up to `max_wait` seconds is waited out in this run; a longer one is
  carried to the next run at once, and the endpoint's other requests in this run are
  not tried either (the receiver asked for quiet).
- The body went out and no answer came within `timeout`: uncertain, never resent (as
  with SMTP: the receiver may have acted on it).
- Refused by the network policy, a malformed signing secret, any other 4xx: failed.

`committing` is recorded right before the body is sent. When an attempt after it
fails in a way that proves nothing arrived (a 5xx, a 429) and it will be tried again in
this run, `retry_later` is recorded at once, so a run killed in between leaves the
delivery pending (resent), not committing (reported uncertain).
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from statusgen.notifier.delivery import Label, Ledger, Progress
from statusgen.notifier.webhooks.attempt import Outcome, Post, Watchdog
from statusgen.notifier.webhooks.network import NetworkPolicy, Resolver, masked_url, system_resolver
from statusgen.notifier.webhooks.schedule import Job, Schedule

log = logging.getLogger(__name__)

GONE = frozenset({410})
CHAT_GONE = frozenset({404, 410})
INTERVALS = {"slack": 1.0, "teams": 0.25, "googlechat": 1.0, "discord": 0.5, "mattermost": 0.0}
"""Chat targets' documented rates, as the least seconds between two messages to one
webhook: Slack about 1/s, Teams throttles beyond ~4/s, Google Chat 1/s per space,
Discord 5 per 2 s. Mattermost is self-hosted: no limit of its own."""
CHAT = frozenset(INTERVALS)


@dataclass(frozen=True)
class WebhookRequest:
    delivery_id: int
    url: str
    body: bytes
    webhook_id: str
    """Standard Webhooks `webhook-id`: the same on every retry of this delivery."""
    secrets: tuple[str, ...] = ()
    """`whsec_...` secrets to sign with (two during a rotation); none: unsigned (chat targets)."""
    label: str = ""
    """How progress lines name the target (host and masked path, never the whole URL);
    empty: `masked_url(url)`."""
    fmt: str = "statuspage"
    """The payload format (payloads.FORMATS): chat formats treat 404 as gone and space
    their messages to one webhook by INTERVALS."""

    @property
    def shown_as(self) -> Label:
        return Label(self.label or masked_url(self.url))


class WebhookLedger(Ledger, Protocol):
    def gone(self, delivery_id: int, error: str) -> None: ...   # 410 Gone: the endpoint unsubscribes


class WebhookTransport:
    """Delivers webhook requests over at most `workers` connections at once, at most
    `per_host` of them to one host, one at a time to one endpoint.

    `timeout` bounds the wait from connecting to the answer (Statuspage: a 2xx within 30
    s), `connect_timeout` connecting and the TLS handshake. `resolver` (host, port →
    addresses; default the system's), `clock` (monotonic), `wall_clock` (Unix time, for
    the signature timestamp and Retry-After dates), `jitter` and `tls_context` (default:
    the system's certificate authorities, host names checked) are injectable for tests.
    """

    def __init__(self, policy: NetworkPolicy, *, workers: int = 16, timeout: float = 30.0,
                 connect_timeout: float = 10.0, per_host: int = 4, retries: int = 2, backoff: float = 1.0,
                 max_wait: float = 10.0, lookahead: int = 1000, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time, resolver: Resolver = system_resolver,
                 jitter: Callable[[], float] = random.random, tls_context: ssl.SSLContext | None = None) -> None:
        if workers < 1 or per_host < 1 or lookahead < 1 or retries < 0 or min(backoff, max_wait) < 0 \
                or min(timeout, connect_timeout) <= 0:
            raise ValueError("WebhookTransport: expected at least 1 worker, 1 per host and 1 ahead, retries, backoff "
                             "and max_wait of 0 or more, and positive timeouts")
        self.policy = policy
        self.workers = workers
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.per_host = per_host
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.lookahead = lookahead
        self.clock = clock
        self.wall_clock = wall_clock
        self.resolver = resolver
        self.jitter = jitter
        self._tls = tls_context

    def deliver(self, requests: Iterable[WebhookRequest], ledger: WebhookLedger, progress: Progress) -> None:
        total = len(requests) if isinstance(requests, Sized) else None
        progress.started(total)
        try:
            workers = self.workers if total is None else min(self.workers, total)
            if workers:
                if self._tls is None:
                    self._tls = ssl.create_default_context()  # once: loading the authorities takes a while
                schedule = Schedule(map(_job, requests), per_host=self.per_host, lookahead=self.lookahead,
                                    clock=self.clock)
                with Watchdog(self.clock) as watchdog:
                    post = Post(self.policy, self.resolver, watchdog, self.wall_clock, self.timeout,
                                self.connect_timeout, self._tls)
                    Run(self, schedule, post, ledger, progress).run(workers)
        finally:
            progress.finished()


def _job(request: WebhookRequest) -> Job[WebhookRequest]:
    base = request.url.partition("#")[0].partition("?")[0]
    try:
        host = (urlsplit(base).hostname or "").lower()
    except ValueError:
        host = ""
    return Job(request, base, host, INTERVALS.get(request.fmt, 0.0))


class Run:
    """One `deliver` call: the worker threads, the ledger hand-over, and stopping."""

    def __init__(self, transport: WebhookTransport, schedule: Schedule[WebhookRequest], post: Post,
                 ledger: WebhookLedger, progress: Progress) -> None:
        self.transport = transport
        self.schedule = schedule
        self.post = post
        self.ledger = ledger
        self.progress = progress
        self._lock = threading.Lock()
        self._quiet: dict[str, tuple[float, str]] = {}
        """Endpoints that asked for a long pause (Retry-After): until when, and what they said."""
        self._gone: dict[str, str] = {}
        """Endpoints that answered gone in this run, and what they said."""
        self._crash: BaseException | None = None
        self._ended = threading.Condition()
        self._working = 0

    def run(self, workers: int) -> None:
        threads = [threading.Thread(target=self._work, name=f"webhook-{n}") for n in range(workers)]
        self._working = workers
        for thread in threads:
            thread.start()
        try:
            self._wait_for_workers()
        except BaseException:  # Ctrl-C: finish the requests in hand, leave the rest pending
            self.schedule.stop()
            self._wait_for_workers()
            raise
        for thread in threads:
            thread.join()
        if self._crash is not None:
            raise self._crash

    def _wait_for_workers(self) -> None:
        """Short waits, not Thread.join: see smtp/pool.py (a Ctrl-C inside join)."""
        with self._ended:
            while not self._ended.wait_for(lambda: self._working == 0, timeout=0.2):
                pass

    def _work(self) -> None:
        try:
            while (job := self.schedule.take()) is not None:
                again_at: float | None = None
                try:
                    again_at = self._settle(job)
                finally:
                    self.schedule.finish(job, again_at)
        except BaseException as error:  # noqa: BLE001 - run() raises it again in the caller's thread
            with self._lock:
                self._crash = self._crash or error
            self.schedule.stop()
        finally:
            with self._ended:
                self._working -= 1
                self._ended.notify_all()

    def _settle(self, job: Job[WebhookRequest]) -> float | None:
        """One attempt and its outcome told; the clock time to try again in this run, or None."""
        request = job.item
        with self._lock:
            quiet, gone = self._quiet.get(job.endpoint), self._gone.get(job.endpoint)
        if gone is not None:
            self._tell(request, Outcome("gone", f"not sent: the endpoint said {gone}"))
            return None
        if quiet is not None and quiet[0] > self.transport.clock():
            self._defer(request, f"not tried: {quiet[1]}")
            return None
        committed = False

        def commit() -> None:
            nonlocal committed
            self.ledger.committing(request.delivery_id)
            committed = True

        gone = CHAT_GONE if request.fmt in CHAT else GONE
        outcome = self.post(request.url, request.body, request.webhook_id, request.secrets, gone, commit)
        job.attempts += 1
        if outcome.kind == "retry":
            return self._again(job, outcome, committed)
        if outcome.kind == "gone":
            with self._lock:
                self._gone.setdefault(job.endpoint, outcome.error)
        self._tell(request, outcome)
        return None

    def _tell(self, request: WebhookRequest, outcome: Outcome) -> None:
        delivery, label = request.delivery_id, request.shown_as
        if outcome.kind == "sent":
            self.ledger.sent(delivery)
            self.progress.delivered()
            return
        log.info("webhook: %s %s: %s", outcome.kind, label, outcome.error)
        if outcome.kind == "gone":
            self.ledger.gone(delivery, outcome.error)
            self.progress.failed(label, f"gone: {outcome.error}")
        elif outcome.kind == "uncertain":
            self.ledger.uncertain(delivery, outcome.error)
            self.progress.uncertain(label, outcome.error)
        else:
            self.ledger.failed(delivery, outcome.error)
            self.progress.failed(label, outcome.error)

    def _again(self, job: Job[WebhookRequest], outcome: Outcome, committed: bool) -> float | None:
        """A transient problem: when to try again in this run, or None (left for the next)."""
        request, transport = job.item, self.transport
        now = transport.clock()
        if outcome.wait is not None and outcome.wait > transport.max_wait:
            asked = f"the receiver asked to wait {outcome.wait:.0f} s (Retry-After)"
            with self._lock:
                self._quiet[job.endpoint] = (now + outcome.wait, asked)
            self._defer(request, f"{outcome.error}; {asked}: left for the next run")
            return None
        if job.attempts > transport.retries:
            self._defer(request, outcome.error)
            return None
        if committed:  # the receiver said it did not take it: pending again, should this run die
            self.ledger.retry_later(request.delivery_id, outcome.error)
        delay = outcome.wait if outcome.wait is not None else \
            transport.backoff * 2 ** (job.attempts - 1) * (0.5 + transport.jitter() / 2)
        log.info("webhook: %s: %s; again in %.1f s", request.shown_as, outcome.error, delay)
        return now + delay

    def _defer(self, request: WebhookRequest, error: str) -> None:
        self.ledger.retry_later(request.delivery_id, error)
        self.progress.deferred(request.shown_as, error)

