"""Delivering email: the outbox (a Maildir, the default) and SMTP.

The notifier queues every (event, subscriber) delivery in its store, renders the
messages and hands them to a transport together with the store, seen here as a
`Ledger`. The ledger is what makes "never twice" hold, even when the process is killed:

    pending ──committing()──▶ committing ──▶ sent | failed | retry_later | uncertain

A delivery is *pending* until the transport calls `committing`, which it does at the
last moment before the message can become delivered. A killed run leaves rows pending
(nothing was handed over: safe to send again) or committing (maybe handed over: the
next run reports them as uncertain and does not resend them).

- `OutboxTransport` writes one file per message into a Maildir. The file name is derived
  from the message, so writing it again is a no-op: here even a crash cannot duplicate.
- `SmtpTransport` splits each SMTP transaction so that `committing` is recorded after the
  whole message body is on the wire but before the final `.` line, the one thing that
  makes a server accept it. A server that loses the connection before the dot throws the
  message away (RFC 5321 §4.1.1.4), so everything before the dot can be retried; anything
  going wrong after the dot is reported as uncertain and never retried.

Both report to a `Progress`, which prints how the run goes and a one-line summary.
Addresses are masked in what it prints: CI logs are often public.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import smtplib
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

log = logging.getLogger(__name__)


# ── the contract between the notifier, its store and a transport ──────────────────────

class Ledger(Protocol):
    """The notifier store's side of a delivery; thread-safe, every call commits before returning."""

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
                f" in {self.seconds:.1f} s ({self.rate:.0f} msg/s)")


class Progress:
    """Tells the operator how a delivery run goes: a line about every `interval` seconds,
    one line per problem (the first `shown` of them), and a summary at the end.

    Thread-safe: the SMTP transport reports from several threads. The clock and stream
    are injectable so tests can drive it.
    """

    def __init__(self, stream: TextIO | None = None, *, clock: Callable[[], float] = time.monotonic,
                 interval: float = 1.0, label: str = "notify", shown: int = 20) -> None:
        self._stream = stream
        self._clock = clock
        self._interval = interval
        self._label = label
        self._shown = shown
        self._lock = threading.Lock()
        self._counts = {"sent": 0, "failed": 0, "uncertain": 0, "deferred": 0}
        self._problems = 0
        self._total: int | None = None
        self._started = self._reported = clock()

    def started(self, total: int | None) -> None:
        """A run begins; `total` is None when the transport cannot know it in advance."""
        with self._lock:
            self._total = total
            self._started = self._reported = self._clock()

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
                self._write(self._status_line())

    def _problem(self, outcome: str, recipient: str, error: str) -> None:
        self._problems += 1
        if self._problems <= self._shown:
            self._write(f"{self._label}: {outcome} {masked(recipient)}: {masked_in(error, recipient)}")
        elif self._problems == self._shown + 1:
            self._write(f"{self._label}: more problems are counted below but not shown; the store has them all")

    def _status_line(self) -> str:
        tally = self._tally()
        of = f"/{self._total}" if self._total is not None else ""
        return (f"{self._label}: {tally.done}{of} done, {tally.failed} failed, {tally.uncertain} uncertain,"
                f" {tally.deferred} deferred, {tally.rate:.0f} msg/s")

    def _write(self, line: str) -> None:
        stream = self._stream if self._stream is not None else sys.stderr  # late: tests swap sys.stderr
        stream.write(line + "\n")
        stream.flush()


def masked(address: str) -> str:
    """`s***@partner.example`: enough to tell addresses apart in a log, not to harvest them."""
    local, at, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if at else "***"


def masked_in(text: str, address: str) -> str:
    """`text` with `address` masked: servers like to repeat the address in their errors."""
    return text.replace(address, masked(address)) if address else text


# ── the outbox ────────────────────────────────────────────────────────────────────────

class OutboxTransport:
    """The default transport: one `.eml` file per message in a Maildir, so `notify` works
    with no mail server at all (and a mail client, or a later relay, can read the folder).

    Each file's name is derived from the message id and the recipient; a file that is
    already there means the message was delivered before, so delivering it again is a
    no-op. The file is written to `tmp/`, fsynced and renamed into `new/` (the Maildir
    protocol: readers never see half a message). Files and folders are private to the
    user: they hold addresses.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, messages: Iterable[Outgoing], ledger: Ledger, progress: Progress) -> None:
        progress.started(_count(messages))
        for sub in ("tmp", "new", "cur"):
            (self.folder / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        present = self._present()
        folder = os.open(self.folder / "new", os.O_RDONLY | os.O_DIRECTORY)
        try:
            for outgoing in messages:
                self._deliver_one(outgoing, ledger, progress, present, folder)
        finally:
            os.close(folder)
            progress.finished()

    def _present(self) -> set[str]:
        """Names already delivered: in new/, or in cur/ once a mail client has read them
        (it appends `:2,FLAGS` to the name)."""
        names = set(os.listdir(self.folder / "new"))
        names.update(name.partition(":")[0] for name in os.listdir(self.folder / "cur"))
        return names

    def _deliver_one(self, outgoing: Outgoing, ledger: Ledger, progress: Progress,
                     present: set[str], folder: int) -> None:
        name = maildir_name(outgoing)
        if name in present or (self.folder / "new" / name).exists():
            log.debug("outbox: %s is already there", name)
            ledger.committing(outgoing.delivery_id)
            ledger.sent(outgoing.delivery_id)
            progress.delivered()
            return
        try:
            temporary = self._write_temporary(name, outgoing.data)
        except OSError as error:
            self._defer(outgoing, ledger, progress, f"outbox: cannot write {self.folder / 'tmp' / name}: {error}")
            return
        ledger.committing(outgoing.delivery_id)
        try:
            os.rename(temporary, self.folder / "new" / name)
        except OSError as error:  # a rename happens entirely or not at all: nothing was delivered
            self._defer(outgoing, ledger, progress, f"outbox: cannot move {name} into new/: {error}")
            return
        _sync(folder)
        present.add(name)
        ledger.sent(outgoing.delivery_id)
        progress.delivered()

    def _write_temporary(self, name: str, data: bytes) -> Path:
        """Write the message under tmp/, replacing what a crashed run may have left there."""
        temporary = self.folder / "tmp" / name
        temporary.unlink(missing_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # whatever the umask says
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
            os.fsync(descriptor)  # the data is on disk before the name in new/ promises it
        finally:
            os.close(descriptor)
        return temporary

    @staticmethod
    def _defer(outgoing: Outgoing, ledger: Ledger, progress: Progress, error: str) -> None:
        log.info("%s", error)
        ledger.retry_later(outgoing.delivery_id, error)
        progress.deferred(outgoing.recipient, error)


def maildir_name(outgoing: Outgoing) -> str:
    """The message's file name: the same for the same message to the same recipient."""
    digest = hashlib.sha256(f"{outgoing.message_id}\n{outgoing.recipient}".encode()).hexdigest()
    return f"{digest[:40]}.eml"


def _sync(folder: int) -> None:
    """Make a rename durable before the ledger says `sent`."""
    try:
        os.fsync(folder)
    except OSError as error:  # some file systems cannot sync a folder; the file itself is safe
        log.debug("outbox: cannot sync the folder: %s", error)


def _count(messages: Iterable[Outgoing]) -> int | None:
    """How many messages there are, if that is known without rendering them all first."""
    return len(messages) if isinstance(messages, Sized) else None


# ── SMTP settings ─────────────────────────────────────────────────────────────────────

SECURITY_MODES = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
SITE_SETTINGS = ("host", "port", "security", "user")
"""What `notify.smtp` in content/site.yaml may set: never the password."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP relay."""

    host: str
    port: int = 25
    security: str = "none"
    """`none`, `starttls` (upgrade a plain connection) or `tls` (TLS from the first byte)."""
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log or a traceback

    @classmethod
    def from_environment(cls, env: Mapping[str, str], defaults: Mapping[str, Any] | None = None) -> SmtpSettings:
        """Settings from `STATUSGEN_SMTP_*` (as CI secrets arrive), over the non-secret
        `defaults` from the site's `notify.smtp`. An empty variable counts as unset, as
        CI systems pass a missing secret as an empty string. Raises ValueError (the first
        problem `read` finds)."""
        settings, problems = cls.read(env, defaults or {})
        if settings is None:
            raise ValueError(problems[0])
        if settings.user is not None and settings.security == "none":
            log.warning("SMTP credentials will cross the network unencrypted; set STATUSGEN_SMTP_SECURITY")
        return settings

    @classmethod
    def read(cls, env: Mapping[str, str], defaults: Mapping[str, Any]) -> tuple[SmtpSettings | None, list[str]]:
        """The settings, or None and every problem, one line each naming the setting."""
        found, problems = setting_sources(env, defaults)
        if "host" not in found:
            problems.append("no SMTP server: set STATUSGEN_SMTP_HOST (or notify.smtp.host in content/site.yaml)")
        security = _checked(_security, found.get("security"), "none", problems)
        port = _checked(_port, found.get("port"), DEFAULT_PORTS.get(security, 25), problems)
        user = str(found["user"][1]).strip() if "user" in found else None
        password = str(found["password"][1]) if "password" in found else None
        if (user is None) != (password is None):
            given, missing = ("USER", "PASSWORD") if password is None else ("PASSWORD", "USER")
            problems.append(f"STATUSGEN_SMTP_{given} is set but STATUSGEN_SMTP_{missing} is not: set both or neither")
        if problems:
            return None, problems
        return cls(host=str(found["host"][1]).strip(), port=port, security=security, user=user,
                   password=password), []


def _checked(parse: Callable[[str, Any], Any], source: tuple[str, Any] | None, default: Any,
             problems: list[str]) -> Any:
    """A setting parsed from where it came from, or its default; a bad one adds a problem."""
    if source is None:
        return default
    try:
        return parse(*source)
    except ValueError as error:
        problems.append(str(error))
        return default


def setting_sources(env: Mapping[str, str], defaults: Mapping[str, Any]) -> tuple[dict[str, tuple[str, Any]],
                                                                                    list[str]]:
    """Each setting that is set, with where it came from (the environment wins), and the
    problems of the site's `notify.smtp`."""
    problems = []
    if "password" in defaults:
        problems.append("notify.smtp.password: the SMTP password may only come from the environment "
                        "(STATUSGEN_SMTP_PASSWORD), never from a file in git")
    unknown = sorted(str(key) for key in defaults if key not in (*SITE_SETTINGS, "password"))
    if unknown:
        problems.append(f"notify.smtp: expected only {', '.join(SITE_SETTINGS)}; found {', '.join(unknown)}")
    found: dict[str, tuple[str, Any]] = {}
    for name in (*SITE_SETTINGS, "password"):
        variable = f"STATUSGEN_SMTP_{name.upper()}"
        value = env.get(variable)
        if value is not None and (value if name == "password" else value.strip()):
            found[name] = (variable, value)
        elif name != "password" and defaults.get(name) not in (None, ""):
            found[name] = (f"notify.smtp.{name}", defaults[name])
    return found, problems


def _security(source: str, value: Any) -> str:
    mode = str(value).strip().lower()
    if mode not in SECURITY_MODES:
        hint = " (did you mean 'tls'?)" if mode in ("ssl", "smtps", "implicit") else ""
        raise ValueError(f"{source}: expected one of {', '.join(SECURITY_MODES)}; found {value!r}{hint}")
    return mode


def _port(source: str, value: Any) -> int:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise ValueError(f"{source}: expected a port number from 1 to 65535; found {value!r}")
    return int(text)


# ── SMTP: the transport ───────────────────────────────────────────────────────────────

class SmtpTransport:
    """Sends through an SMTP relay over `connections` parallel connections, each reused
    for many messages.

    A transient problem (a 4xx reply, a connection that drops or cannot be opened before
    the end of data) is retried up to `retries` more times, after `backoff * 2**n` seconds
    (jittered); then the delivery stays pending for the next run (`retry_later`). A 5xx
    for a recipient or a message is recorded as `failed` and the others still go out. When
    the server refuses the connection itself (authentication, TLS, our sender) or cannot
    be reached at all, the rest of the run is deferred at once instead of trying every
    message: a run never hangs on a dead relay.

    `timeout` bounds every network wait. `sleep` and `jitter` are injectable for tests;
    `local_hostname` is the EHLO name (default: this machine's FQDN); `tls_context` says
    which certificates to trust (default: the system's, with the host name checked).
    """

    def __init__(self, settings: SmtpSettings, connections: int = 4, retries: int = 3, backoff: float = 0.5,
                 timeout: float = 30, *, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random, local_hostname: str | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        if connections < 1 or retries < 0 or backoff < 0 or timeout <= 0:
            raise ValueError("SmtpTransport: expected at least 1 connection, retries and backoff of 0 or more"
                             " and a positive timeout")
        self.settings = settings
        self.connections = connections
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.sleep = sleep
        self.jitter = jitter
        self.local_hostname = local_hostname
        self._tls = tls_context  # None: the system's certificate authorities, host name checked

    def deliver(self, messages: Iterable[Outgoing], ledger: Ledger, progress: Progress) -> None:
        total = _count(messages)
        progress.started(total)
        try:
            workers = self.connections if total is None else min(self.connections, total)
            if workers:
                self._prepare()
                _Run(self, iter(messages), ledger, progress).run(workers)
        finally:
            progress.finished()

    def delay(self, attempt: int) -> float:
        """How long to wait before retry number `attempt` (from 1): exponential, jittered
        between half and the full value so that parallel connections do not retry in step."""
        return self.backoff * 2 ** (attempt - 1) * (0.5 + self.jitter() / 2)

    def connect(self) -> smtplib.SMTP:
        """An open, greeted (and, as configured, encrypted and logged-in) connection."""
        settings = self.settings
        self._prepare()
        if settings.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, local_hostname=self.local_hostname,
                                                  timeout=self.timeout, context=self._tls)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, local_hostname=self.local_hostname,
                                timeout=self.timeout)
        try:
            _no_delay(smtp)
            smtp.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                smtp.starttls(context=self._tls)
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
            self._tls = ssl.create_default_context()


def _no_delay(smtp: smtplib.SMTP) -> None:
    """Send small writes at once: the lone `.` line after the body would otherwise wait
    for the body's acknowledgement (Nagle + delayed ACK), up to 40 ms per message."""
    try:
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


# What can happen to one attempt; only `_Connection` and `_Run` see these.

class _Problem(Exception):
    def __init__(self, error: str, *, closes: bool = False, connecting: bool = False) -> None:
        super().__init__(error)
        self.closes = closes
        """The connection is unusable afterwards."""
        self.connecting = connecting
        """It happened while opening a connection, before any message was tried."""


class _Transient(_Problem):
    """Nothing was delivered; trying again may work."""


class _Permanent(_Problem):
    """The server refused this message or this recipient for good."""


class _Uncertain(_Problem):
    """The end of data was sent but no answer came: it may have been delivered."""


class _Refused(_Problem):
    """The server will not take mail from us at all (authentication, TLS, sender): stop."""


@dataclass
class _Job:
    outgoing: Outgoing
    attempts: int = 0
    committed: bool = False


class _Run:
    """One `deliver` call: workers (one connection each) take messages from a shared queue.

    A worker keeps a message through its retries. One that cannot even connect while
    others are connected hands its message back and stops: relays often limit connections
    per client. When the server refuses us or nobody can reach it, the run is halted and
    the remaining messages are deferred without trying; when a worker crashes (the ledger
    failed) or the run is interrupted, the others stop and the rest stays pending.
    """

    def __init__(self, transport: SmtpTransport, messages: Iterator[Outgoing], ledger: Ledger,
                 progress: Progress) -> None:
        self.transport = transport
        self.ledger = ledger
        self.progress = progress
        self._lock = threading.Lock()
        self._messages = messages
        self._handed_back: deque[_Job] = deque()
        self._live: set[int] = set()
        self._halted: str | None = None
        self._stopped = False
        self._crash: BaseException | None = None
        self._ended = threading.Condition()
        self._working = 0

    def run(self, workers: int) -> None:
        threads = [threading.Thread(target=self._work, args=(n,), name=f"smtp-{n}") for n in range(workers)]
        self._working = workers
        for thread in threads:
            thread.start()
        try:
            self._wait_for_workers()
        except BaseException:  # Ctrl-C: finish the messages in hand, leave the rest pending
            self._stop()
            self._wait_for_workers()
            raise
        for thread in threads:
            thread.join()  # they have ended their work: this returns at once
        if self._crash is not None:
            raise self._crash

    def _wait_for_workers(self) -> None:
        """Until every worker has ended its work.

        Not `Thread.join`: on Python 3.11 a KeyboardInterrupt raised inside `join` can mark
        a thread that is still running as ended (threading's bpo-45274 clean-up releases the
        running thread's own lock), and the run would then exit while a worker is handing a
        message over. Short waits also let the main thread notice a Ctrl-C whose signal the
        kernel gave to a worker thread.
        """
        with self._ended:
            while not self._ended.wait_for(lambda: self._working == 0, timeout=0.2):
                pass

    def _work(self, worker: int) -> None:
        connection = _Connection(self.transport, on_open=lambda: self._set_live(worker, True))
        try:
            while (job := self._take(worker)) is not None:
                if not self._settle(job, connection, worker):
                    break
        except BaseException as error:  # noqa: BLE001 - run() raises it again in the caller's thread
            with self._lock:
                self._crash = self._crash or error
            self._stop()
        finally:
            self._set_live(worker, False)
            connection.close()
            with self._ended:
                self._working -= 1
                self._ended.notify_all()

    def _take(self, worker: int) -> _Job | None:
        with self._lock:
            if self._stopped:
                return None
            if self._handed_back:
                return self._handed_back.popleft()
            outgoing = next(self._messages, None)  # the notifier renders lazily: one thread at a time
            if outgoing is None:
                self._live.discard(worker)
                return None
            return _Job(outgoing)

    def _settle(self, job: _Job, connection: _Connection, worker: int) -> bool:
        """Deliver one message, retrying what is transient; False: this worker should stop."""
        while True:
            if self._stopped:
                if job.committed:  # refused at the dot earlier: nothing was delivered
                    self._defer(job, "the run was interrupted")
                return False
            if self._halted is not None:
                self._defer(job, f"not tried: {self._halted}")
                return True
            try:
                connection.transact(job.outgoing, commit=lambda: self._commit(job))
            except _Transient as problem:
                if problem.connecting and self._hand_back(job, worker):
                    log.info("smtp: connection %d gives up (%s); the others go on", worker, problem)
                    return False
                job.attempts += 1
                if job.attempts > self.transport.retries:
                    if problem.connecting:
                        self._halt(str(problem))
                    self._defer(job, str(problem))
                    return True
                log.info("smtp: %s; retry %d in a moment", masked_in(str(problem), job.outgoing.recipient),
                         job.attempts)
                self.transport.sleep(self.transport.delay(job.attempts))
                continue
            except _Permanent as problem:
                self._record(job, "failed", str(problem))
            except _Uncertain as problem:
                self._record(job, "uncertain", str(problem))
            except _Refused as problem:
                self._halt(str(problem))
                self._defer(job, str(problem))
            else:
                self.ledger.sent(job.outgoing.delivery_id)
                self.progress.delivered()
            return True

    def _commit(self, job: _Job) -> None:
        self.ledger.committing(job.outgoing.delivery_id)
        job.committed = True

    def _record(self, job: _Job, outcome: str, error: str) -> None:
        log.info("smtp: %s %s: %s", outcome, masked(job.outgoing.recipient), masked_in(error, job.outgoing.recipient))
        getattr(self.ledger, outcome)(job.outgoing.delivery_id, error)
        getattr(self.progress, outcome)(job.outgoing.recipient, error)

    def _defer(self, job: _Job, error: str) -> None:
        self.ledger.retry_later(job.outgoing.delivery_id, error)
        self.progress.deferred(job.outgoing.recipient, error)

    def _hand_back(self, job: _Job, worker: int) -> bool:
        """Leave the message to a connected worker, if there is one (it will take it)."""
        with self._lock:
            if not self._live - {worker} or self._stopped:
                return False
            self._handed_back.append(job)
            self._live.discard(worker)
            return True

    def _set_live(self, worker: int, live: bool) -> None:
        with self._lock:
            (self._live.add if live else self._live.discard)(worker)

    def _halt(self, reason: str) -> None:
        with self._lock:
            if self._halted is None:
                log.error("smtp: %s; the remaining messages stay queued for the next run", reason)
                self._halted = reason

    def _stop(self) -> None:
        with self._lock:
            self._stopped = True


class _Connection:
    """One worker's SMTP session: opened when first needed, reused, reset after a problem."""

    def __init__(self, transport: SmtpTransport, on_open: Callable[[], None]) -> None:
        self._transport = transport
        self._on_open = on_open
        self._smtp: smtplib.SMTP | None = None
        self._dirty = False

    def transact(self, outgoing: Outgoing, commit: Callable[[], None]) -> None:
        """Hand one message over, or raise a _Problem saying why not.

        Three phases: up to the body, anything that breaks can be retried; then `commit`
        records in the ledger that the message is being handed over; then the end of
        data, after which a broken connection means it may have been delivered.
        """
        smtp = self._ready()
        try:
            _send_up_to_the_dot(smtp, outgoing)
        except OSError as error:  # includes smtplib's SMTPServerDisconnected and socket timeouts
            self._drop()
            raise _Transient(f"connection lost before the end of data: {error}") from error
        except ValueError as error:  # smtplib refuses to send a line break inside an address
            self._dirty = True
            raise _Permanent(f"not a deliverable address: {error}") from error
        except _Problem as problem:
            self._after(problem)
            raise
        try:
            commit()
        except BaseException:
            self._drop()  # without the final dot, the server throws the message away
            raise
        try:
            _end_data(smtp)
        except _Problem as problem:
            self._after(problem)
            raise

    def close(self) -> None:
        """Say QUIT if the session is in a clean state, then close."""
        if self._smtp is not None and not self._dirty:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _ready(self) -> smtplib.SMTP:
        if self._smtp is not None and self._dirty:
            self._reset()
        if self._smtp is None:
            self._smtp = self._open()
            self._dirty = False
            self._on_open()
        return self._smtp

    def _reset(self) -> None:
        """RSET after a refused transaction; a connection that will not reset is replaced."""
        assert self._smtp is not None
        try:
            code, _ = self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            code = -1
        if code == 250:
            self._dirty = False
        else:
            self._drop()

    def _open(self) -> smtplib.SMTP:
        settings = self._transport.settings
        where = f"{settings.host}:{settings.port}"
        try:
            smtp = self._transport.connect()
        except (OSError, smtplib.SMTPException) as error:
            raise _setup_problem(error, where) from error
        log.debug("smtp: connected to %s (%s)", where, settings.security)
        return smtp

    def _after(self, problem: _Problem) -> None:
        if problem.closes:
            self._drop()
        else:
            self._dirty = True


def _send_up_to_the_dot(smtp: smtplib.SMTP, outgoing: Outgoing) -> None:
    """MAIL FROM, RCPT TO, DATA and the body, stopping right before the final `.` line."""
    options = _mail_options(smtp, outgoing)
    smtp.command_encoding = "utf-8" if "SMTPUTF8" in options else "ascii"
    _expect(smtp.mail(outgoing.sender, options), "MAIL FROM", refuses=_Refused)
    _expect(smtp.rcpt(outgoing.recipient), "RCPT TO")
    smtp.putcmd("data")
    _expect(smtp.getreply(), "DATA", wanted=354)
    smtp.send(data_lines(outgoing.data))


def _end_data(smtp: smtplib.SMTP) -> None:
    """The final `.`: from here on, a lost connection leaves the outcome unknown."""
    try:
        smtp.send(b".\r\n")
        code, text = smtp.getreply()
    except OSError as error:
        raise _Uncertain(f"no answer to the end of data: {error}", closes=True) from error
    if 400 <= code < 600:
        _expect((code, text), "end of data")
    elif not 200 <= code < 300:
        raise _Uncertain(f"end of data: unexpected answer {code} {_text(text)}", closes=True)


def _expect(reply: tuple[int, bytes], step: str, wanted: int | None = None,
            refuses: type[_Problem] = _Permanent) -> None:
    """Turn an SMTP reply into a _Problem unless it is the one wanted (default: any 2xx)."""
    code, text = reply
    if code == wanted or (wanted is None and 200 <= code < 300):
        return
    error = f"{step}: {code} {_text(text)}"
    if 500 <= code < 600:
        raise refuses(error)
    raise _Transient(error, closes=not 400 <= code < 500 or code == 421)  # 421: the server is closing


def _setup_problem(error: BaseException, where: str) -> _Problem:
    """Why a connection could not be opened: worth retrying, or a reason to stop."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return _Refused(f"{where}: the server's TLS certificate is not trusted ({error.verify_message})")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return _Transient(f"{where}: {error}", connecting=True)
    if isinstance(error, smtplib.SMTPResponseException):
        problem = f"{where}: {error.smtp_code} {_text(error.smtp_error)}"
        return _Refused(problem) if error.smtp_code >= 500 else _Transient(problem, connecting=True)
    if isinstance(error, smtplib.SMTPException):  # no STARTTLS, no AUTH, no usable AUTH method
        return _Refused(f"{where}: {error}")
    return _Transient(f"cannot connect to {where}: {error}", connecting=True)


def _mail_options(smtp: smtplib.SMTP, outgoing: Outgoing) -> list[str]:
    """MAIL FROM parameters for this message; refuses an address that could smuggle in an
    SMTP command (smtplib sends a line break inside an address as it is)."""
    for address in (outgoing.sender, outgoing.recipient):
        if _CONTROL.search(address):
            raise _Permanent("not a deliverable address: it holds a control character")
    options = []
    if not outgoing.data.isascii() and smtp.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    if not (outgoing.sender + outgoing.recipient).isascii():
        if not smtp.has_extn("smtputf8"):
            raise _Permanent("the server does not accept non-ASCII addresses (no SMTPUTF8)")
        options.append("SMTPUTF8")
    return options


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def data_lines(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, a leading `.` doubled (so that a
    line holding only `.` is not taken for the end), ending in CRLF, without the final `.`."""
    data = _LEADING_DOT.sub(b"..", _LINE_END.sub(b"\r\n", data))
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
