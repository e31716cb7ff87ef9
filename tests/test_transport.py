"""The transports against real things: an aiosmtpd server on 127.0.0.1 that can misbehave
on request, and a Maildir on disk. The ledger is an in-memory fake that records calls."""

from __future__ import annotations

import asyncio
import io
import random
import re
import socket
import ssl
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from statusgen.content.relay import SmtpSettings
from statusgen.notifier.delivery import Outgoing, Progress, Tally, masked
from statusgen.notifier.outbox import OutboxTransport, maildir_name
from statusgen.notifier.smtp import SmtpTransport
from statusgen.notifier.smtp.wire import data_lines
from statusgen.notifier.wire import wire_bytes
from tests.smtpsink import LoopbackController

SENDER = "status@example.org"
WAIT = 10  # seconds: the most any server-side event may take


# ── the server ────────────────────────────────────────────────────────────────────────

class Relay:
    """An aiosmtpd handler that keeps what it accepts. Subclasses misbehave by overriding
    `answer_mail`, `answer_rcpt`, `answer_data` or `hold` (async, before answering the dot)."""

    DROP = "drop"

    pipelining = False
    """Offer PIPELINING (RFC 2920): the client then writes MAIL, RCPT and DATA at once."""

    def __init__(self) -> None:
        self.port = 0
        self.changed = threading.Condition()
        self.accepted: list[tuple[str, tuple[str, ...], bytes, Any]] = []
        self.ehlos = 0
        self.mails = 0
        self.rcpts: Counter[str] = Counter()
        self.ends: Counter[str] = Counter()
        self.sessions: set[int] = set()

    # what a subclass may change

    def answer_ehlo(self, session: Any) -> str | None:
        return None

    def answer_mail(self, number: int) -> str | None:
        return None

    def answer_rcpt(self, address: str, attempt: int) -> str | None:
        return None

    def answer_data(self, recipient: str, attempt: int) -> str | None:
        return None

    async def hold(self, session: Any, recipient: str) -> None:
        return None

    # aiosmtpd's hooks

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        with self.changed:
            self.ehlos += 1
        if (answer := self.answer_ehlo(session)) is not None:
            return [answer]
        session.host_name = hostname
        with self.changed:
            self.sessions.add(id(session))
        return [responses[0], "250-PIPELINING", *responses[1:]] if self.pipelining else responses

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        if (answer := self.answer_ehlo(session)) is not None:
            return answer
        session.host_name = hostname
        return "250 relay.test"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            self.sessions.discard(id(session))
        return "221 Bye"

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        with self.changed:
            self.mails += 1
            number = self.mails
        answer = self.answer_mail(number)
        if answer == self.DROP:
            server.transport.close()
            return "421 closing"  # never seen: the connection is gone
        if answer:
            return answer
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        with self.changed:
            self.rcpts[address] += 1
            attempt = self.rcpts[address]
        if answer := self.answer_rcpt(address, attempt):
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipient = envelope.rcpt_tos[0]
        with self.changed:
            self.ends[recipient] += 1
            attempt = self.ends[recipient]
        await self.hold(session, recipient)
        answer = self.answer_data(recipient, attempt)
        if answer and answer != self.DROP:
            return answer
        with self.changed:
            self.accepted.append((envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content, id(session)))
            self.changed.notify_all()
        if answer == self.DROP:  # the message is in; the answer never leaves
            server.transport.close()
        return "250 OK"

    # for the tests

    def wait_until(self, condition: Callable[[], bool], timeout: float = WAIT) -> bool:
        with self.changed:
            return self.changed.wait_for(condition, timeout)

    def per_recipient(self) -> Counter[str]:
        return Counter(recipient for _, recipients, _, _ in self.accepted for recipient in recipients)


@pytest.fixture(params=["one by one", "pipelined"])
def serve(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Start a relay (a `Relay` or a subclass of it); stopped after the test. Every test
    runs twice: against a relay that offers PIPELINING and against one that does not."""
    controllers: list[LoopbackController] = []

    def start(relay: Relay | None = None, **options: Any) -> Any:
        relay = relay or Relay()
        relay.pipelining = request.param == "pipelined"
        controller = LoopbackController(relay, ready_timeout=WAIT, server_hostname="relay.test", **options)
        controller.start()
        controllers.append(controller)
        relay.port = controller.port
        return relay

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def relay(serve: Callable[..., Relay]) -> Relay:
    return serve()


# ── the client side ───────────────────────────────────────────────────────────────────

class RecordingLedger:
    """The store's side of the contract, in memory: every call, in order."""

    def __init__(self, fail_committing: int | None = None) -> None:
        self.calls: list[tuple[str, int, str | None]] = []
        self._lock = threading.Lock()
        self._fail_committing = fail_committing

    def committing(self, delivery_id: int) -> None:
        if delivery_id == self._fail_committing:
            raise RuntimeError("disk full")
        self._record("committing", delivery_id)

    def sent(self, delivery_id: int) -> None:
        self._record("sent", delivery_id)

    def retry_later(self, delivery_id: int, error: str) -> None:
        self._record("retry_later", delivery_id, error)

    def failed(self, delivery_id: int, error: str) -> None:
        self._record("failed", delivery_id, error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._record("uncertain", delivery_id, error)

    def _record(self, call: str, delivery_id: int, error: str | None = None) -> None:
        with self._lock:
            self.calls.append((call, delivery_id, error))

    def outcomes(self) -> dict[int, str]:
        """Each delivery's last recorded outcome."""
        return {delivery_id: call for call, delivery_id, _ in self.calls if call != "committing"}

    def history(self, delivery_id: int) -> list[str]:
        return [call for call, number, _ in self.calls if number == delivery_id]

    def error(self, delivery_id: int) -> str | None:
        return [error for call, number, error in self.calls if number == delivery_id][-1]


def message(n: int, recipient: str | None = None, text: str | None = None) -> Outgoing:
    recipient = recipient or f"partner{n:04d}@example.org"
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = recipient
    mail["Subject"] = f"Incident {n}"
    mail["Message-ID"] = f"<incident-{n}@status.example.org>"
    mail.set_content(text or f"Update {n}: we are investigating.\n")
    return Outgoing(n, SENDER, recipient, mail["Message-ID"], wire_bytes(mail))


def messages(count: int, start: int = 1) -> list[Outgoing]:
    return [message(n) for n in range(start, start + count)]


class Sleeps(list[float]):
    """An injected sleep: remembers how long it was asked to wait, and does not."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def smtp(relay_port: int, sleep: Callable[[float], None] | None = None, settings: dict[str, Any] | None = None,
         **options: Any) -> SmtpTransport:
    options.setdefault("timeout", 5)
    return SmtpTransport(SmtpSettings(host="127.0.0.1", port=relay_port, **(settings or {})),
                         sleep=Sleeps() if sleep is None else sleep, local_hostname="client.test", **options)


def quiet() -> Progress:
    return Progress(io.StringIO())


# ── SMTP: the happy path ──────────────────────────────────────────────────────────────

def test_every_message_arrives_once_with_its_envelope_and_body(relay: Relay) -> None:
    batch = messages(40) + [message(41, text=".starts with a dot\n.\n..two dots\nend\n")]
    ledger = RecordingLedger()
    smtp(relay.port).deliver(batch, ledger, quiet())
    assert len(relay.accepted) == len(batch)
    assert {recipients: (sender, content) for sender, recipients, content, _ in relay.accepted} == \
        {(m.recipient,): (m.sender, m.data) for m in batch}
    dotted = relay.accepted[[r for _, r, _, _ in relay.accepted].index(("partner0041@example.org",))][2]
    assert b"\r\n\r\n.starts with a dot\r\n.\r\n..two dots\r\nend\r\n" in dotted
    assert ledger.outcomes() == {m.delivery_id: "sent" for m in batch}
    assert all(ledger.history(m.delivery_id) == ["committing", "sent"] for m in batch)


def test_bodies_arrive_byte_for_byte(relay: Relay) -> None:
    batch = [message(1, text=".\n"), message(2, text="é and ü, 8 bit\n"), message(3)]
    smtp(relay.port).deliver(batch, RecordingLedger(), quiet())
    assert {recipients[0]: content for _, recipients, content, _ in relay.accepted} == \
        {m.recipient: m.data for m in batch}


def test_lf_line_ends_go_out_as_crlf(relay: Relay) -> None:
    crlf = message(1)
    lf = Outgoing(1, crlf.sender, crlf.recipient, crlf.message_id, crlf.data.replace(b"\r\n", b"\n"))
    smtp(relay.port).deliver([lf], RecordingLedger(), quiet())
    assert [content for *_, content, _ in relay.accepted] == [crlf.data]


def test_odd_addresses_fail_alone_or_go_out_with_smtputf8(relay: Relay) -> None:
    plain = message(1)
    broken = Outgoing(2, SENDER, "x@example.org\r\nRCPT TO:<y@example.org>", "<2@x>", plain.data)
    accented = Outgoing(3, SENDER, "josé@example.org", "<3@x>", plain.data)
    ledger = RecordingLedger()
    smtp(relay.port, connections=1).deliver([plain, broken, accented], ledger, quiet())
    assert ledger.outcomes() == {1: "sent", 2: "failed", 3: "sent"}
    assert relay.per_recipient() == {"partner0001@example.org": 1, "josé@example.org": 1}


def test_connections_are_reused(relay: Relay) -> None:
    ledger = RecordingLedger()
    smtp(relay.port, connections=2).deliver(messages(300), ledger, quiet())
    assert len(relay.accepted) == 300
    assert relay.ehlos == 2
    assert len({session for *_, session in relay.accepted}) == 2


def test_no_more_connections_than_messages(relay: Relay) -> None:
    smtp(relay.port, connections=4).deliver(messages(1), RecordingLedger(), quiet())
    assert relay.ehlos == 1


class Gate(Relay):
    """Holds the first end of data of each connection until `width` connections are inside."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self.inside: set[int] = set()
        self.opened = asyncio.Event()
        self.overlapped = False

    async def hold(self, session: Any, recipient: str) -> None:
        if id(session) in self.inside:
            return
        self.inside.add(id(session))
        if len(self.inside) >= self.width:
            self.overlapped = True
            self.opened.set()
        try:
            await asyncio.wait_for(self.opened.wait(), WAIT)
        except TimeoutError:
            pass


def test_connections_work_in_parallel(serve: Callable[..., Any]) -> None:
    relay = serve(Gate(width=4))
    smtp(relay.port, connections=4).deliver(messages(40), RecordingLedger(), quiet())
    assert relay.overlapped
    assert len(relay.accepted) == 40


def test_a_generator_of_messages_is_fine(relay: Relay) -> None:
    progress = Progress(io.StringIO())
    smtp(relay.port).deliver((m for m in messages(10)), RecordingLedger(), progress)
    assert progress.tally().sent == 10 and len(relay.accepted) == 10


# ── SMTP: faults ──────────────────────────────────────────────────────────────────────

class Busy(Relay):
    """Answers 451 to the first `times` attempts of each message, at RCPT or at the dot."""

    def __init__(self, times: int, at: str) -> None:
        super().__init__()
        self.times, self.at = times, at

    def answer_rcpt(self, address: str, attempt: int) -> str | None:
        return "451 4.3.0 try again" if self.at == "rcpt" and attempt <= self.times else None

    def answer_data(self, recipient: str, attempt: int) -> str | None:
        return "451 4.3.0 try again" if self.at == "data" and attempt <= self.times else None


@pytest.mark.parametrize("at", ["rcpt", "data"])
def test_temporary_refusals_are_retried_with_backoff_and_delivered_once(serve: Callable[..., Any], at: str) -> None:
    relay = serve(Busy(times=2, at=at))
    sleeps, ledger = Sleeps(), RecordingLedger()
    batch = messages(6)
    smtp(relay.port, sleep=sleeps, retries=3, backoff=0.5).deliver(batch, ledger, quiet())
    assert relay.per_recipient() == {m.recipient: 1 for m in batch}
    assert ledger.outcomes() == {m.delivery_id: "sent" for m in batch}
    assert len(sleeps) == 12
    first, second = sorted(sleeps)[:6], sorted(sleeps)[6:]
    assert all(0.25 <= s <= 0.5 for s in first) and all(0.5 <= s <= 1.0 for s in second)


def test_after_its_retries_a_message_waits_for_the_next_run(serve: Callable[..., Any]) -> None:
    relay = serve(Busy(times=99, at="data"))
    sleeps, ledger = Sleeps(), RecordingLedger()
    smtp(relay.port, sleep=sleeps, retries=3, connections=1).deliver([message(1)], ledger, quiet())
    assert relay.ends["partner0001@example.org"] == 4  # the first try and 3 retries
    assert ledger.outcomes() == {1: "retry_later"}
    assert ledger.error(1) == "end of data: 451 4.3.0 try again"
    assert len(sleeps) == 3 and relay.accepted == []


class Unknown(Relay):
    def answer_rcpt(self, address: str, attempt: int) -> str | None:
        return "550 5.1.1 <partner0003@example.org>: no such user" if address == "partner0003@example.org" else None


def test_a_refused_address_fails_and_the_others_go_out(serve: Callable[..., Any]) -> None:
    relay = serve(Unknown())
    sleeps, ledger, stream = Sleeps(), RecordingLedger(), io.StringIO()
    smtp(relay.port, sleep=sleeps).deliver(messages(6), ledger, Progress(stream))
    assert ledger.outcomes() == {1: "sent", 2: "sent", 3: "failed", 4: "sent", 5: "sent", 6: "sent"}
    assert ledger.error(3) == "RCPT TO: 550 5.1.1 <partner0003@example.org>: no such user"
    assert ledger.history(3) == ["failed"]  # refused before anything was handed over
    assert relay.rcpts["partner0003@example.org"] == 1 and sleeps == []
    assert len(relay.accepted) == 5
    assert "notify: failed p***@example.org: RCPT TO: 550 5.1.1 <p***@example.org>: no such user" \
        in stream.getvalue()
    assert "partner0003" not in stream.getvalue()


class Dropping(Relay):
    """Closes the connection when it receives the MAIL commands numbered in `at`."""

    def __init__(self, at: set[int]) -> None:
        super().__init__()
        self.at = at

    def answer_mail(self, number: int) -> str | None:
        return self.DROP if number in self.at else None


def test_a_dropped_connection_is_reopened_and_everything_arrives_once(serve: Callable[..., Any]) -> None:
    relay = serve(Dropping(at={5, 23, 24}))
    ledger = RecordingLedger()
    batch = messages(60)
    smtp(relay.port, connections=2).deliver(batch, ledger, quiet())
    assert relay.per_recipient() == {m.recipient: 1 for m in batch}
    assert ledger.outcomes() == {m.delivery_id: "sent" for m in batch}
    assert relay.ehlos > 2


class LostAnswer(Relay):
    """Takes the message for `recipient`, then drops the connection instead of answering."""

    def __init__(self, recipient: str) -> None:
        super().__init__()
        self.recipient = recipient

    def answer_data(self, recipient: str, attempt: int) -> str | None:
        return self.DROP if recipient == self.recipient else None


def test_a_connection_lost_after_the_dot_is_uncertain_and_not_sent_again(serve: Callable[..., Any]) -> None:
    relay = serve(LostAnswer("partner0004@example.org"))
    ledger, sleeps = RecordingLedger(), Sleeps()
    batch = messages(8)
    smtp(relay.port, sleep=sleeps, connections=2).deliver(batch, ledger, quiet())
    assert ledger.history(4) == ["committing", "uncertain"]
    assert ledger.error(4).startswith("no answer to the end of data")
    assert {n: o for n, o in ledger.outcomes().items() if n != 4} == {n: "sent" for n in range(1, 9) if n != 4}
    assert relay.ends["partner0004@example.org"] == 1
    assert relay.per_recipient() == {m.recipient: 1 for m in batch}


class Slow(Relay):
    """Does not answer the dot for `recipient` until the test lets it."""

    def __init__(self, recipient: str) -> None:
        super().__init__()
        self.recipient = recipient
        self.release = threading.Event()

    async def hold(self, session: Any, recipient: str) -> None:
        while recipient == self.recipient and not self.release.is_set():
            await asyncio.sleep(0.01)


def test_no_answer_to_the_dot_within_the_timeout_is_uncertain(serve: Callable[..., Any]) -> None:
    relay = serve(Slow("partner0001@example.org"))
    ledger = RecordingLedger()
    try:
        smtp(relay.port, connections=1, timeout=0.5).deliver([message(1)], ledger, quiet())
    finally:
        relay.release.set()
    assert ledger.history(1) == ["committing", "uncertain"]
    assert "timed out" in ledger.error(1)
    assert relay.ends["partner0001@example.org"] == 1


def test_nothing_listening_defers_everything_quickly() -> None:
    with socket.socket() as bound:  # bound but not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        sleeps, ledger = Sleeps(), RecordingLedger()
        started = time.monotonic()
        smtp(bound.getsockname()[1], sleep=sleeps, retries=3, connections=4).deliver(messages(50), ledger, quiet())
    assert time.monotonic() - started < 3
    assert ledger.outcomes() == {n: "retry_later" for n in range(1, 51)}
    assert all(call == "retry_later" for call, _, _ in ledger.calls)  # nothing was ever committing
    assert len(sleeps) <= 4 * 3
    assert "cannot connect to 127.0.0.1:" in ledger.error(50)


class WrongSender(Relay):
    def answer_mail(self, number: int) -> str | None:
        return "553 5.7.1 sender not allowed"


def test_a_refused_sender_stops_the_run_and_keeps_the_messages_queued(serve: Callable[..., Any]) -> None:
    relay = serve(WrongSender())
    ledger = RecordingLedger()
    smtp(relay.port, connections=2).deliver(messages(30), ledger, quiet())
    assert ledger.outcomes() == {n: "retry_later" for n in range(1, 31)}
    assert relay.mails <= 2
    assert ledger.error(30) == "not tried: MAIL FROM: 553 5.7.1 sender not allowed"


class Limited(Relay):
    """Takes at most `limit` connections at a time; refuses more with 421 at EHLO and HELO."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.refused = 0

    def answer_ehlo(self, session: Any) -> str | None:
        with self.changed:
            if id(session) in self.sessions or len(self.sessions) < self.limit:
                return None
            self.refused += 1
            return "421 4.7.0 too many connections from your address"

    def serving(self) -> bool:
        return len({session for *_, session in self.accepted}) >= self.limit


def test_connections_the_server_refuses_leave_their_messages_to_the_others(serve: Callable[..., Any]) -> None:
    relay = serve(Limited(limit=2))
    ledger = RecordingLedger()

    def wait_for_the_others(seconds: float) -> None:
        relay.wait_until(relay.serving)

    batch = messages(200)
    smtp(relay.port, sleep=wait_for_the_others, connections=4).deliver(batch, ledger, quiet())
    assert relay.per_recipient() == {m.recipient: 1 for m in batch}
    assert ledger.outcomes() == {m.delivery_id: "sent" for m in batch}
    assert relay.refused >= 1


def test_a_failing_ledger_stops_the_run_and_that_message_never_ends(relay: Relay) -> None:
    ledger = RecordingLedger(fail_committing=3)
    with pytest.raises(RuntimeError, match="disk full"):
        smtp(relay.port, connections=1).deliver(messages(6), ledger, quiet())
    assert relay.ends["partner0003@example.org"] == 0
    assert relay.per_recipient() == {"partner0001@example.org": 1, "partner0002@example.org": 1}
    assert ledger.outcomes() == {1: "sent", 2: "sent"}  # the rest stays pending


def test_the_dot_line_costs_no_waiting(relay: Relay) -> None:
    """Without TCP_NODELAY the lone dot line waits for the body's delayed ACK: about 40 ms
    a message, 8 s for these 200 (it takes well under a second with it)."""
    started = time.monotonic()
    smtp(relay.port, connections=1).deliver(messages(200), RecordingLedger(), quiet())
    assert time.monotonic() - started < 4


def test_the_dot_line_is_held_back_and_leading_dots_are_doubled() -> None:
    assert data_lines(b"a\n.\n.b\nc") == b"a\r\n..\r\n..b\r\nc\r\n"
    assert data_lines(b"a\r\n\r\n") == b"a\r\n\r\n"
    assert not data_lines(message(1).data).endswith(b"\r\n.\r\n")


def test_data_lines_is_the_plain_rule_for_every_mix_of_dots_and_line_ends() -> None:
    """The fast path for CRLF-only messages (what the stencil makes) gives what the plain
    rule gives: every line end CRLF, every leading dot doubled."""
    line_end, leading_dot = re.compile(rb"\r\n|\r|\n"), re.compile(rb"^\.", re.MULTILINE)
    pick = random.Random(15)
    for _ in range(20_000):
        data = bytes(pick.choice(b".\r\nab") for _ in range(pick.randint(0, 12)))
        plain = leading_dot.sub(b"..", line_end.sub(b"\r\n", data))
        assert data_lines(data) == (plain if plain.endswith(b"\r\n") else plain + b"\r\n"), data


# ── SMTP over TLS, with a certificate made for the test ─────────────────────────────

@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made with `cryptography`."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(private.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def only_status(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    # handled=False: let aiosmtpd answer a failure (by default it leaves the client waiting)
    return AuthResult(success=isinstance(data, LoginPassword) and data == (b"status", b"s3cret"), handled=False)


def starttls_relay(serve: Callable[..., Any], certificate: tuple[Path, Path]) -> Relay:
    return serve(tls_context=server_tls(certificate), require_starttls=True, auth_required=True,
                 authenticator=only_status)


def test_starttls_and_login(serve: Callable[..., Any], certificate: tuple[Path, Path]) -> None:
    relay, ledger = starttls_relay(serve, certificate), RecordingLedger()
    login = {"security": "starttls", "user": "status", "password": "s3cret"}
    smtp(relay.port, settings=login, tls_context=trusting(certificate)).deliver(messages(8), ledger, quiet())
    assert ledger.outcomes() == {n: "sent" for n in range(1, 9)}
    assert len(relay.accepted) == 8
    assert relay.ehlos == 2 * len({session for *_, session in relay.accepted})  # before and after STARTTLS


def test_tls_from_the_first_byte(serve: Callable[..., Any], certificate: tuple[Path, Path]) -> None:
    relay, ledger = serve(ssl_context=server_tls(certificate)), RecordingLedger()
    smtp(relay.port, settings={"security": "tls"}, tls_context=trusting(certificate)).deliver(
        messages(8), ledger, quiet())
    assert ledger.outcomes() == {n: "sent" for n in range(1, 9)}


@pytest.mark.parametrize("settings, trust, error", [
    ({"security": "starttls", "user": "status", "password": "wrong"}, True, "535 5.7.8 Authentication credentials"),
    ({"security": "starttls", "user": "status", "password": "s3cret"}, False, "TLS certificate is not trusted"),
    ({"security": "none"}, True, "530 Must issue a STARTTLS command first"),
])
def test_a_server_that_will_not_have_us_stops_the_run_at_once(
        serve: Callable[..., Any], certificate: tuple[Path, Path], settings: dict[str, Any], trust: bool,
        error: str) -> None:
    relay, ledger, sleeps = starttls_relay(serve, certificate), RecordingLedger(), Sleeps()
    transport = smtp(relay.port, sleep=sleeps, settings=settings,
                     tls_context=trusting(certificate) if trust else None)
    transport.deliver(messages(20), ledger, quiet())
    assert ledger.outcomes() == {n: "retry_later" for n in range(1, 21)}
    assert error in ledger.error(20) and sleeps == [] and relay.accepted == []


def test_starttls_the_server_does_not_offer_stops_the_run(relay: Relay) -> None:
    ledger = RecordingLedger()
    smtp(relay.port, settings={"security": "starttls"}).deliver(messages(3), ledger, quiet())
    assert ledger.outcomes() == {n: "retry_later" for n in range(1, 4)}
    assert "STARTTLS extension not supported by server" in ledger.error(3)


# ── SMTP settings ─────────────────────────────────────────────────────────────────────

def test_settings_need_only_a_host() -> None:
    settings = SmtpSettings.from_environment({"STATUSGEN_SMTP_HOST": "smtp.example.org"})
    assert settings == SmtpSettings(host="smtp.example.org", port=25, security="none", user=None, password=None)


@pytest.mark.parametrize("security, port", [("none", 25), ("starttls", 587), ("tls", 465), ("STARTTLS", 587)])
def test_the_default_port_follows_the_security(security: str, port: int) -> None:
    settings = SmtpSettings.from_environment({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_SECURITY": security})
    assert (settings.security, settings.port) == (security.lower(), port)


def test_site_settings_are_defaults_and_the_environment_wins() -> None:
    defaults = {"host": "relay.internal", "port": "2525", "security": "starttls"}
    assert SmtpSettings.from_environment({}, defaults) == SmtpSettings("relay.internal", 2525, "starttls")
    env = {"STATUSGEN_SMTP_HOST": "smtp.example.org", "STATUSGEN_SMTP_SECURITY": "tls",
           "STATUSGEN_SMTP_USER": "status", "STATUSGEN_SMTP_PASSWORD": " s3cret "}
    settings = SmtpSettings.from_environment(env, defaults)
    assert settings == SmtpSettings("smtp.example.org", 2525, "tls", "status", " s3cret ")


def test_an_empty_variable_counts_as_unset() -> None:
    env = {"STATUSGEN_SMTP_HOST": "", "STATUSGEN_SMTP_PORT": " ", "STATUSGEN_SMTP_USER": "",
           "STATUSGEN_SMTP_PASSWORD": ""}
    assert SmtpSettings.from_environment(env, {"host": "relay.internal", "port": 26}) == \
        SmtpSettings("relay.internal", 26)


def test_a_password_never_comes_from_the_site_settings() -> None:
    with pytest.raises(ValueError) as raised:
        SmtpSettings.from_environment({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_USER": "u",
                                       "STATUSGEN_SMTP_PASSWORD": "p"}, {"password": "in git"})
    assert str(raised.value) == ("notify.smtp.password: the SMTP password may only come from the environment "
                                 "(STATUSGEN_SMTP_PASSWORD), never from a file in git")


def test_the_password_is_not_in_the_repr() -> None:
    settings = SmtpSettings.from_environment({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_USER": "u",
                                              "STATUSGEN_SMTP_PASSWORD": "hunter2"})
    assert settings.password == "hunter2" and "hunter2" not in repr(settings)


@pytest.mark.parametrize("env, defaults, message", [
    ({}, {}, "no SMTP server: set STATUSGEN_SMTP_HOST (or notify.smtp.host in content/site.yaml)"),
    ({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_SECURITY": "ssl"}, {},
     "STATUSGEN_SMTP_SECURITY: expected one of none, starttls, tls; found 'ssl' (did you mean 'tls'?)"),
    ({"STATUSGEN_SMTP_HOST": "h"}, {"security": "yes"},
     "notify.smtp.security: expected one of none, starttls, tls; found 'yes'"),
    ({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_PORT": "smtp"}, {},
     "STATUSGEN_SMTP_PORT: expected a port number from 1 to 65535; found 'smtp'"),
    ({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_PORT": "0"}, {},
     "STATUSGEN_SMTP_PORT: expected a port number from 1 to 65535; found '0'"),
    ({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_PORT": "65536"}, {},
     "STATUSGEN_SMTP_PORT: expected a port number from 1 to 65535; found '65536'"),
    ({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_PORT": "-25"}, {},
     "STATUSGEN_SMTP_PORT: expected a port number from 1 to 65535; found '-25'"),
    ({"STATUSGEN_SMTP_HOST": "h"}, {"port": True},
     "notify.smtp.port: expected a port number from 1 to 65535; found True"),
    ({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_USER": "u"}, {},
     "STATUSGEN_SMTP_USER is set but STATUSGEN_SMTP_PASSWORD is not: set both or neither"),
    ({"STATUSGEN_SMTP_HOST": "h", "STATUSGEN_SMTP_PASSWORD": "p"}, {},
     "STATUSGEN_SMTP_PASSWORD is set but STATUSGEN_SMTP_USER is not: set both or neither"),
    ({"STATUSGEN_SMTP_HOST": "h"}, {"hots": "x", "from": "y"},
     "notify.smtp: expected only host, port, security, user, rate, timeout, ca_file; found from, hots"),
])
def test_bad_settings_say_what_was_expected_and_found(env: dict[str, str], defaults: dict[str, Any],
                                                      message: str) -> None:
    with pytest.raises(ValueError) as raised:
        SmtpSettings.from_environment(env, defaults)
    assert str(raised.value) == message


# ── the outbox ────────────────────────────────────────────────────────────────────────

def test_the_outbox_writes_private_files_into_new(tmp_path: Path) -> None:
    outbox, ledger = tmp_path / "outbox", RecordingLedger()
    batch = messages(5)
    OutboxTransport(outbox).deliver(batch, ledger, quiet())
    files = sorted((outbox / "new").iterdir())
    assert [f.name for f in files] == sorted(maildir_name(m) for m in batch)
    assert {f.read_bytes() for f in files} == {m.data for m in batch}
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert all(stat.S_IMODE((outbox / sub).stat().st_mode) == 0o700 for sub in ("tmp", "new", "cur"))
    assert list((outbox / "tmp").iterdir()) == []
    assert all(ledger.history(m.delivery_id) == ["committing", "sent"] for m in batch)


def test_delivering_again_to_the_outbox_changes_nothing(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    OutboxTransport(outbox).deliver(messages(3), RecordingLedger(), quiet())
    read = next((outbox / "new").iterdir())
    read.rename(outbox / "cur" / f"{read.name}:2,S")  # a mail client has read one
    again, progress = RecordingLedger(), Progress(io.StringIO())
    OutboxTransport(outbox).deliver(messages(4), again, progress)
    assert len(list((outbox / "new").iterdir())) == 3 and len(list((outbox / "cur").iterdir())) == 1
    assert again.outcomes() == {1: "sent", 2: "sent", 3: "sent", 4: "sent"}
    assert progress.tally().sent == 4


def test_a_stale_temporary_file_does_not_get_in_the_way(tmp_path: Path) -> None:
    outbox, outgoing = tmp_path / "outbox", message(1)
    (outbox / "tmp").mkdir(parents=True)
    stale = outbox / "tmp" / maildir_name(outgoing)
    stale.write_bytes(b"half a mess")
    stale.chmod(0o644)
    OutboxTransport(outbox).deliver([outgoing], RecordingLedger(), quiet())
    delivered = outbox / "new" / maildir_name(outgoing)
    assert delivered.read_bytes() == outgoing.data
    assert stat.S_IMODE(delivered.stat().st_mode) == 0o600
    assert list((outbox / "tmp").iterdir()) == []


def test_a_message_the_outbox_cannot_write_is_deferred_and_the_others_go_in(tmp_path: Path) -> None:
    outbox, batch = tmp_path / "outbox", messages(3)
    (outbox / "tmp" / maildir_name(batch[1])).mkdir(parents=True)  # in the way, even for root
    ledger = RecordingLedger()
    OutboxTransport(outbox).deliver(batch, ledger, quiet())
    assert ledger.outcomes() == {1: "sent", 2: "retry_later", 3: "sent"}
    assert ledger.history(2) == ["retry_later"]
    assert len(list((outbox / "new").iterdir())) == 2


# ── progress ──────────────────────────────────────────────────────────────────────────

class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_reports_about_every_interval_and_sums_up() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, clock=clock, interval=1.0, wall=lambda: datetime(2026, 11, 30, 13, 0, tzinfo=UTC),
                        zone=ZoneInfo("Europe/Brussels"))
    progress.started(4)
    clock.now = 100.5
    progress.delivered()
    clock.now = 101.0
    progress.delivered()
    clock.now = 101.5
    progress.failed("spoc@partner.example", "RCPT TO: 550 <spoc@partner.example> unknown")
    clock.now = 104.0
    progress.deferred("x@partner.example", "451 busy")
    tally = progress.finished()
    assert tally == Tally(sent=2, failed=1, uncertain=0, deferred=1, seconds=4.0)
    assert stream.getvalue().splitlines() == [
        "notify: 2/4 done, 0 failed, 0 uncertain, 0 deferred, 2 msg/s, done about 14:00 CET (in 1 s)",
        "notify: failed s***@partner.example: RCPT TO: 550 <s***@partner.example> unknown",
        "notify: deferred x***@partner.example: 451 busy",
        "notify: 4/4 done, 1 failed, 0 uncertain, 1 deferred, 0.7 msg/s",  # over the last 3 s
        "notify: 2 sent, 1 failed, 0 uncertain, 1 deferred in 4.0 s (1 msg/s)",
    ]


def test_progress_shows_only_the_first_problems() -> None:
    stream = io.StringIO()
    progress = Progress(stream, shown=2, interval=3600)
    progress.started(None)
    for n in range(5):
        progress.uncertain(f"p{n}@example.org", "timed out")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("notify: more problems are counted")
    assert progress.tally().uncertain == 5


def test_progress_counts_from_many_threads() -> None:
    progress = Progress(io.StringIO())
    progress.started(8000)
    threads = [threading.Thread(target=lambda: [progress.delivered() for _ in range(1000)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert progress.finished().sent == 8000


def test_addresses_are_masked() -> None:
    assert masked("spoc@partner.example") == "s***@partner.example"
    assert masked("not an address") == "***"


# ── SMTP: pipelining (RFC 2920), against a scripted server ──────────────────────────────

class Scripted:
    """A one-connection SMTP server that offers PIPELINING and answers MAIL, RCPT and DATA
    only once all three have arrived (a client that waited for each answer would time out).
    `rcpt_answer` is what RCPT gets for an address; DATA gets 354 even after a refused RCPT,
    as a lax server does. Keeps every chunk of commands it answered and every message."""

    def __init__(self, rcpt_answer: Callable[[bytes], bytes] = lambda address: b"250 OK") -> None:
        self.rcpt_answer = rcpt_answer
        self.groups: list[bytes] = []
        self.messages: list[bytes] = []
        self.resets = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        with connection, self._listener:
            buffer = b""

            def until(marker: bytes) -> bytes:
                nonlocal buffer
                while marker not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        raise EOFError
                    buffer += chunk
                found, buffer = buffer.split(marker, 1)
                return found + marker

            connection.sendall(b"220 scripted\r\n")
            until(b"\r\n")
            connection.sendall(b"250-scripted\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            try:
                while True:
                    line = until(b"\r\n")
                    if line.upper().startswith(b"RSET"):
                        self.resets += 1
                        connection.sendall(b"250 OK\r\n")
                        continue
                    if line.upper().startswith(b"QUIT"):
                        connection.sendall(b"221 bye\r\n")
                        return
                    group = line + until(b"DATA\r\n")
                    self.groups.append(group)
                    address = group.split(b"RCPT TO:<", 1)[1].split(b">", 1)[0]
                    connection.sendall(b"250 OK\r\n" + self.rcpt_answer(address) + b"\r\n354 go on\r\n")
                    while len(buffer) < 3:  # enough to tell an empty message (a lone dot) from a body
                        buffer += connection.recv(65536)
                    body = until(b".\r\n") if buffer.startswith(b".\r\n") else until(b"\r\n.\r\n")
                    self.messages.append(body)
                    refused = not self.rcpt_answer(address).startswith(b"2")
                    connection.sendall(b"554 no valid recipients\r\n" if refused else b"250 queued\r\n")
            except EOFError:
                return


def test_a_pipelining_server_gets_mail_rcpt_and_data_in_one_write() -> None:
    server, ledger = Scripted(), RecordingLedger()
    smtp(server.port, connections=1).deliver(messages(3), ledger, quiet())
    assert ledger.outcomes() == {1: "sent", 2: "sent", 3: "sent"}
    assert [group.split(b"\r\n")[:3] for group in server.groups] == [
        [b"MAIL FROM:<status@example.org>", f"RCPT TO:<partner{n:04d}@example.org>".encode(), b"DATA"]
        for n in (1, 2, 3)]
    assert len(server.messages) == 3 and all(b"Subject: Incident" in body for body in server.messages)


def test_a_refused_recipient_in_a_pipeline_ends_data_empty_and_the_next_message_goes_out() -> None:
    server, ledger = Scripted(lambda address: b"550 no such user" if b"0002" in address else b"250 OK"), \
        RecordingLedger()
    smtp(server.port, connections=1).deliver(messages(3), ledger, quiet())
    assert ledger.outcomes() == {1: "sent", 2: "failed", 3: "sent"}
    assert ledger.history(2) == ["failed"]  # never committing: nothing could be delivered
    assert ledger.error(2) == "RCPT TO: 550 no such user"
    assert server.messages[1] == b".\r\n"  # the lone dot, after DATA's unexpected 354
    assert server.resets == 1
