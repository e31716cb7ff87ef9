"""`SmtpTransport`: sending through an SMTP relay, several connections at once.

    settings (content/relay.py) ──connect: open, greet, STARTTLS, log in──▶ sessions
    messages ──pool: workers take, settle (retry policy; each attempt paced: rate)──▶ ledger hand-over + progress
"""

from __future__ import annotations

import random
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterable

from statusgen.content.relay import DEFAULT_TIMEOUT, SmtpSettings, tls_context
from statusgen.notifier.delivery import Ledger, Outgoing, Progress, known_count
from statusgen.notifier.smtp.deadline import DeadlineSMTP, DeadlineSMTP_SSL
from statusgen.notifier.smtp.handover import Handover
from statusgen.notifier.smtp.pace import Pace
from statusgen.notifier.smtp.pool import Pool
from statusgen.notifier.smtp.retry import RetryPolicy


class SmtpTransport:
    """Sends through an SMTP relay over `connections` parallel connections, each reused
    for many messages.

    A transient problem (a 4xx reply, a connection that drops or cannot be opened before
    the end of data) is retried up to `retries` more times, after `backoff * 2**n` seconds
    (jittered); then the delivery stays pending for the next run (`retry_later`). A 5xx
    for a recipient or a message is recorded as `failed` and the others still go out. When
    the server refuses the connection itself (authentication, TLS, our sender) or cannot
    be reached at all, the rest of the run is deferred at once instead of trying every
    message: a run never hangs on a dead relay. With `settings.rate`, no more transactions
    than that start in any second, over all connections and retries included (`pace`).

    `timeout` (default: `settings.timeout`, else 30 s) bounds every answer, whole
    (smtp/deadline.py), and every write: a relay that stops answering is given up on, and
    when a message has used its retries on timeouts the rest of the run is deferred (a slow
    relay costs minutes, not a timeout per message). `sleep` and `jitter` are injectable for
    tests; `local_hostname` is the EHLO name (default: this machine's FQDN); `tls_context`
    says which certificates to trust (default: `settings.ca_file`'s, else the system's; the
    host name always checked).
    """

    def __init__(self, settings: SmtpSettings, connections: int = 4, retries: int = 3, backoff: float = 0.5,
                 timeout: float | None = None, *, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random, local_hostname: str | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        if timeout is None:
            timeout = settings.timeout or DEFAULT_TIMEOUT
        if connections < 1 or retries < 0 or backoff < 0 or timeout <= 0:
            raise ValueError("SmtpTransport: expected at least 1 connection, retries and backoff of 0 or more"
                             " and a positive timeout")
        self.settings = settings
        self.connections = connections
        self.retry = RetryPolicy(retries, backoff, sleep, jitter)
        self.pace = Pace(settings.rate)
        """The relay's rate limit, kept across every connection and every `deliver` call."""
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._tls = tls_context  # None: settings.ca_file's or the system's certificate authorities

    def deliver(self, messages: Iterable[Outgoing], ledger: Ledger, progress: Progress) -> None:
        total = known_count(messages)
        progress.started(total)
        try:
            workers = self.connections if total is None else min(self.connections, total)
            if workers:
                self._prepare()
                pool = Pool(self.settings, self.connect, self.retry, iter(messages), Handover(ledger, progress),
                            self.pace)
                pool.run(workers)
        finally:
            progress.finished()

    def connect(self) -> smtplib.SMTP:
        """An open, greeted (and, as configured, encrypted and logged-in) connection."""
        settings = self.settings
        self._prepare()
        if settings.security == "tls":
            smtp: smtplib.SMTP = DeadlineSMTP_SSL(settings.host, settings.port, local_hostname=self.local_hostname,
                                                  timeout=self.timeout, context=self._tls)
        else:
            smtp = DeadlineSMTP(settings.host, settings.port, local_hostname=self.local_hostname,
                                timeout=self.timeout)
        try:
            _no_delay(smtp)
            smtp.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                _starttls(smtp, self._tls)
                smtp.ehlo_or_helo_if_needed()
            if settings.user is not None:
                smtp.login(settings.user, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _prepare(self) -> None:
        """Look up the EHLO name and load the trusted certificates once, before the
        connections start (not per connection: getfqdn may wait for DNS)."""
        if self.local_hostname is None:
            self.local_hostname = socket.getfqdn()
        if self._tls is None and self.settings.security != "none":
            self._tls = tls_context(self.settings)


def _starttls(smtp: smtplib.SMTP, context: ssl.SSLContext | None) -> None:
    """STARTTLS; a relay that goes away in the handshake closed the connection, whether its
    end (an EOF) or its reset (data it never read) reached us first: one error, not two."""
    try:
        smtp.starttls(context=context)
    except (ssl.SSLEOFError, ConnectionError) as error:
        smtp.close()
        raise smtplib.SMTPServerDisconnected(f"the connection ended in the TLS handshake: {error}") from error


def _no_delay(smtp: smtplib.SMTP) -> None:
    """Send small writes at once: the lone `.` line after the body would otherwise wait
    for the body's acknowledgement (Nagle + delayed ACK), up to 40 ms per message."""
    try:
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass
