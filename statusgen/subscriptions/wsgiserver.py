"""waitress as the service runs it: limits against slow and greedy clients, the app's
security headers on the answers waitress gives by itself, and a stop that lets the
requests in flight finish.

    client ──bytes──▶ waitress's one I/O loop (reads headers and body, however slowly)
           ──a whole request──▶ one of THREADS workers ──▶ the app ──▶ the loop writes the answer

Because a request reaches a worker only once it has arrived whole, a client that
dribbles its headers or its body a byte at a time (slowloris) holds a connection, never a
worker. What bounds such clients is how many connections are kept (`CONNECTION_LIMIT`,
watched with poll(), which has no 1,024-descriptor ceiling as select() does) and how long a
silent one is (`IDLE_TIMEOUT`); headers beyond `MAX_HEADERS` are refused with 431 and a
body beyond `MAX_WAITRESS_BODY` with 413 before the app sees them.

Those refusals (and waitress's 400 and 500) are written by waitress's `ErrorTask`, not the
app: `secured_channel` gives its channels an error task that adds the app's security
headers, so every answer on the wire carries them.

`Lifecycle.run` is waitress's loop, one poll at a time, until `stop()` (SIGTERM): then
the listening socket is closed (new connections are refused), connections with nothing
in flight are closed, and the loop runs on until every request already received has its
answer written (at most `GRACE` seconds).
"""

from __future__ import annotations

import logging
import resource
import threading
import time
from collections.abc import Mapping
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

log = logging.getLogger(__name__)

THREADS = 8
CONNECTION_LIMIT = 1000
"""Open connections at most; beyond it waitress stops accepting until some close. Each
costs a descriptor and a few KiB, so slow clients must open this many to make others wait."""
RESERVED_FILES = 64
"""Descriptors kept for everything but connections: the store, its pool, the SMTP
connection, the outbox's files, a webhook's test, waitress's own."""
IDLE_TIMEOUT = 30
"""Seconds a connection may stay silent (nothing received, nothing to send) before it is closed."""
CLEANUP_INTERVAL = 5
"""Seconds between waitress's sweeps for silent connections."""
MAX_HEADERS = 32 * 1024
"""Bytes of request line and headers: beyond, 431. A token link and its cookie need under 2 KiB;
nginx in front allows 4 buffers of 8 KiB (`large_client_header_buffers`), as much in all."""
LOOP_TIMEOUT = 0.5
"""Seconds one poll waits: how soon the loop notices a stop."""
GRACE = 15.0
"""Seconds the requests in flight get to finish after SIGTERM (a webhook's test message, the
slowest, waits at most 15); then the queued emails get up to 30 (`Mailer.close`), inside the
systemd unit's TimeoutStopSec=60s."""


def server_options(max_body: int, connections: int = CONNECTION_LIMIT) -> dict[str, Any]:
    """waitress's settings for the service (its keyword arguments)."""
    return {"threads": THREADS, "ident": "statusgen", "max_request_body_size": max_body,
            "max_request_header_size": MAX_HEADERS, "connection_limit": connections,
            "channel_timeout": IDLE_TIMEOUT, "cleanup_interval": CLEANUP_INTERVAL,
            "asyncore_use_poll": True, "asyncore_loop_timeout": 1,
            # waitress would drop X-Forwarded-For itself unless told which proxy to trust;
            # the app's ProxyFix does that (STATUSGEN_TRUSTED_PROXIES), so waitress leaves it be
            "clear_untrusted_proxy_headers": False}


def connection_limit(open_files: int) -> int:
    """How many connections fit in `open_files` descriptors (the soft `ulimit -n`) beside
    the reserve. More than fit would not be refused but fail in accept(), which waitress
    logs and retries at once: a busy loop writing a traceback each time."""
    return max(1, min(CONNECTION_LIMIT, open_files - RESERVED_FILES))


def open_files_for_connections() -> int:
    """Raise this process's soft limit of open files to what CONNECTION_LIMIT needs, as far
    as the hard limit allows (systemd's default soft limit is 1,024), and return the soft
    limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = CONNECTION_LIMIT + RESERVED_FILES
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    return raised


def secured_channel(headers: Mapping[str, str]) -> type[HTTPChannel]:
    """A waitress channel whose own error answers (400, 413, 431, 500) carry `headers`."""
    extra = list(headers.items())

    class SecuredErrorTask(ErrorTask):  # type: ignore[misc]
        def execute(self) -> None:
            self.response_headers.extend(extra)
            super().execute()

    class SecuredChannel(HTTPChannel):  # type: ignore[misc]
        error_task_class = SecuredErrorTask

    return SecuredChannel


class Lifecycle:
    """Runs a waitress server until `stop()`, then lets what is in flight finish."""

    def __init__(self, server: Any, grace: float = GRACE) -> None:
        self.server = server
        self.grace = grace
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the loop to stop (safe from a signal handler or another thread)."""
        self._stop.set()

    def run(self) -> None:
        server = self.server
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=LOOP_TIMEOUT, map=server._map, use_poll=True, count=1)
            self._finish()
        finally:
            # the workers first: one that has just answered still pulls the loop's trigger
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)

    def _finish(self) -> None:
        server = self.server
        # the listening socket only (waitress's `close` would take the trigger with it, which
        # the workers still pull): from now on a new connection is refused
        wasyncore.dispatcher.close(server)
        deadline = time.monotonic() + self.grace
        while True:
            busy = [channel for channel in list(server.active_channels.values()) if _in_flight(channel)]
            for channel in list(server.active_channels.values()):
                if channel not in busy:
                    channel.close()  # idle keep-alive, or a request not yet received whole
            if not busy:
                return
            if time.monotonic() >= deadline:
                log.warning("subscriptions: stopping with %d request(s) unanswered after %.0f s", len(busy),
                            self.grace)
                return
            wasyncore.loop(timeout=0.1, map=server._map, use_poll=True, count=1)


def _in_flight(channel: HTTPChannel) -> bool:
    """Whether a channel holds a request received whole and not yet answered, or an
    answer not yet written out."""
    return bool(channel.requests) or channel.total_outbufs_len > 0
