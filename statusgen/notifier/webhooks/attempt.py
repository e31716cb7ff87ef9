"""One attempt at one webhook request, and what its answer means.

    URL ──network: checked target and addresses──▶ PinnedConnection (connect: nothing sent yet)
        ──headers (Standard Webhooks signature with this attempt's timestamp)──▶ commit() ──▶ the body
        ──the status line within `timeout` (the watchdog ends a receiver that drips)──▶ judge ──▶ Outcome

Where it stops decides the outcome: before the body went out nothing can have arrived
(refused: failed; could not resolve or connect: retry); after it, no answer means
the receiver may have acted on it (uncertain: never sent again). Redirects are not
followed: a 3xx is a failure, as in Statuspage's rules.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from email.message import Message
from email.utils import parsedate_to_datetime

from statusgen import REPOSITORY, __version__
from statusgen.notifier.webhooks.network import (NetworkPolicy, PinnedConnection, Refused, Resolver, Unresolved,
                                                 checked_addresses, masked_url, parse_target)
from statusgen.notifier.webhooks.signing import signature_headers, signing_problem

USER_AGENT = f"statusgen/{__version__} (+{REPOSITORY})"
TRANSIENT = frozenset({408, 425, 429})
"""4xx answers that mean "not now" rather than "never" (with every 5xx)."""
SNIPPET = 512
"""How much of an error answer's body is read, to quote the start of it."""


@dataclass(frozen=True)
class Outcome:
    kind: str
    """sent | gone | failed (permanent) | retry (transient: nothing arrived) | uncertain"""
    error: str = ""
    wait: float | None = None
    """Seconds the receiver asked us to wait (Retry-After), when it said."""
    status: int | None = None


@dataclass(frozen=True)
class Post:
    """What one attempt needs besides the request: the rules and the parts that do I/O."""

    policy: NetworkPolicy
    resolver: Resolver
    watchdog: Watchdog
    wall_clock: Callable[[], float]
    timeout: float
    connect_timeout: float
    tls: ssl.SSLContext | None

    def __call__(self, url: str, body: bytes, webhook_id: str, secrets: tuple[str, ...], gone: frozenset[int],
                 commit: Callable[[], None]) -> Outcome:
        """POST `body` to `url`; `commit` is called right before the body goes out."""
        try:
            target = parse_target(url, self.policy)
            if secrets and (problem := signing_problem(secrets, webhook_id)):
                return Outcome("failed", f"not sent: {problem}")
            addresses = checked_addresses(target, self.policy, self.resolver)
        except Refused as refused:
            return Outcome("failed", f"refused: {refused}")
        except Unresolved as unresolved:
            return Outcome("retry", str(unresolved))
        connection = PinnedConnection(target, addresses, connect_timeout=self.connect_timeout, timeout=self.timeout,
                                      tls=self.tls)
        try:
            try:
                connection.connect()
            except (OSError, ssl.SSLError, http.client.HTTPException) as error:
                return Outcome("retry", f"cannot connect to {target.host}: {_reason(error)}")
            return self._exchange(connection, target.target, body, webhook_id, secrets, gone, commit)
        finally:
            connection.close()

    def _exchange(self, connection: PinnedConnection, path: str, body: bytes, webhook_id: str,
                  secrets: tuple[str, ...], gone: frozenset[int], commit: Callable[[], None]) -> Outcome:
        assert connection.sock is not None
        watch = self.watchdog.watch(connection.sock, self.timeout)
        try:
            connection.putrequest("POST", path, skip_accept_encoding=True)
            headers = [("content-type", "application/json"), ("user-agent", USER_AGENT),
                       ("content-length", str(len(body))), ("connection", "close")]
            if secrets:
                headers += signature_headers(secrets, webhook_id, int(self.wall_clock()), body)
            for name, value in headers:
                connection.putheader(name, value)
            commit()
            try:
                connection.endheaders(body)
            except (OSError, http.client.HTTPException) as error:
                if self._timed_out(watch, error):
                    return Outcome("retry", f"the body could not be sent within {self.timeout:g} s")
                return Outcome("retry", f"the connection failed while sending: {_reason(error)}")
            try:
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as error:
                if self._timed_out(watch, error):
                    return Outcome("uncertain", f"sent, but no answer came within {self.timeout:g} s")
                return Outcome("uncertain", f"sent, but no answer came: {_reason(error)}")
            snippet = _snippet(response)
        finally:
            self.watchdog.release(watch)
        return judge(response.status, response.reason, response.headers, snippet, gone, self.wall_clock())

    @staticmethod
    def _timed_out(watch: Watch, error: BaseException) -> bool:
        return watch.fired or isinstance(error, TimeoutError)


def judge(status: int, reason: str, headers: Message, snippet: str, gone: frozenset[int], now: float) -> Outcome:
    """What an answer means: 2xx sent; a status in `gone` gone (410, and 404 for chat
    targets); a redirect failed (not followed: the same request would be redirected again);
    408, 425, 429 and 5xx retry (with the Retry-After, if any); any other status failed."""
    said = f"HTTP {status} {reason}".rstrip() + (f": {snippet}" if snippet else "")
    if 200 <= status < 300:
        return Outcome("sent", status=status)
    if status in gone:
        return Outcome("gone", said, status=status)
    if 300 <= status < 400:
        location = headers.get("location", "")
        where = masked_url(location) if "://" in location else "another path"
        return Outcome("failed", f"{said}: a redirect to {where}, not followed; subscribe with the URL it leads to",
                       status=status)
    if status in TRANSIENT or status >= 500:
        return Outcome("retry", said, retry_after(headers.get("retry-after"), now), status)
    return Outcome("failed", said, status=status)


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds from `now` (Unix time) that a Retry-After header asks for: whole seconds or
    an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _snippet(response: http.client.HTTPResponse) -> str:
    """The start of an error answer (Slack says `channel_not_found`), on one line; the
    rest is not read."""
    if 200 <= response.status < 300:
        return ""
    try:
        data = response.read(SNIPPET)
    except (OSError, http.client.HTTPException):
        return ""
    text = re.sub(r"\s+", " ", re.sub(r"[\x00-\x1f\x7f]", " ", data.decode("utf-8", "replace"))).strip()
    return text[:200] + ("…" if len(text) > 200 else "")


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the TLS certificate is not valid: {error.verify_message}"
    if isinstance(error, TimeoutError):
        return "timed out"
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return str(text)


# ── the watchdog ──────────────────────────────────────────────────────────────────────

@dataclass(eq=False)
class Watch:
    sock: socket.socket
    active: bool = True
    fired: bool = False


@dataclass(eq=False)
class Watchdog:
    """Ends requests that outlive their deadline by shutting their socket down. A socket
    timeout bounds each wait, not the whole answer: a receiver that drips a byte every
    few seconds would otherwise hold a worker for ever. One thread for all requests."""

    clock: Callable[[], float]
    _due: list[tuple[float, int, Watch]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _closed: bool = False
    _thread: threading.Thread | None = None

    def __enter__(self) -> Watchdog:
        self._thread = threading.Thread(target=self._run, name="webhook-watchdog", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()

    def watch(self, sock: socket.socket, seconds: float) -> Watch:
        watch = Watch(sock)
        with self._changed:
            heapq.heappush(self._due, (self.clock() + seconds, next(self._order), watch))
            self._changed.notify_all()
        return watch

    def release(self, watch: Watch) -> None:
        """The request is over: its socket is no longer ours to shut (it may be closed and
        its number reused), so this happens under the same lock as the shutting down."""
        with self._changed:
            watch.active = False

    def _run(self) -> None:
        with self._changed:
            while not self._closed:
                while self._due and not self._due[0][2].active:
                    heapq.heappop(self._due)
                if not self._due:
                    self._changed.wait()
                    continue
                deadline, _, watch = self._due[0]
                if (left := deadline - self.clock()) > 0:
                    self._changed.wait(left)
                    continue
                heapq.heappop(self._due)
                watch.active, watch.fired = False, True
                try:
                    socket.socket.shutdown(watch.sock, socket.SHUT_RDWR)  # not SSLSocket's: no TLS goodbye
                except OSError:
                    pass
