"""An SMTP relay that fails: slow, with a certificate nobody should trust, or gone in any
phase of a session. Real `statusgen notify` runs (a real build, the real SQLite store)
against a scripted relay on 127.0.0.1 (tests/faultyrelay.py), then against the same relay
healthy again: the ledger says what happened to each delivery, and in the end every
subscriber has exactly one copy, except a delivery the ledger calls uncertain, which the
design never sends again (DESIGN.md, Notifier 5; ARCHITECTURE.md, "Never twice")."""

from __future__ import annotations

import ipaddress
import sqlite3
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from statusgen import notify
from statusgen.content.relay import SmtpSettings
from statusgen.errors import DeliveryError
from statusgen.notifier.smtp import SmtpTransport
from statusgen.notifier.store import SqliteNotifyStore
from statusgen.site.build import build
from tests.conftest import MakeSite
from tests.faultyrelay import LOGIN, PHASES, SAFETY, FaultyRelay
from tests.test_notify import APP_DOWN as APP_DOWN_WITH
from tests.test_notify import SITE_YAML, SUBSCRIBERS

SECRET = "s" * 32
APP_DOWN = APP_DOWN_WITH.format(more="")
RECIPIENTS = ("all@example.org", "app@example.org", "group@example.org")  # who follows dcc-app
ONCE = {recipient: 1 for recipient in RECIPIENTS}


# ── certificates, made with `cryptography` (already what tests/test_transport.py uses) ──

@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path

    def server(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@dataclass(frozen=True)
class Certificates:
    ca: Path
    """The authority that issued `good`, `wrong_host` and `expired`."""
    good: Pair
    """For 127.0.0.1, valid now."""
    self_signed: Pair
    """For 127.0.0.1, issued by itself."""
    wrong_host: Pair
    """For `localhost` only, not for 127.0.0.1."""
    expired: Pair
    """For 127.0.0.1, expired yesterday."""


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("relay-tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "statusgen test authority")])
    ca = _certificate(ca_name, ca_name, ca_key, ca_key, [], now - timedelta(days=1), now + timedelta(days=2), ca=True)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    loopback = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]

    def pair(name: str, names: list[x509.GeneralName], *, signed_by_ca: bool = True, expired: bool = False) -> Pair:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        start, end = (now - timedelta(days=3), now - timedelta(days=1)) if expired else (now - timedelta(hours=1),
                                                                                         now + timedelta(days=2))
        cert = (_certificate(subject, ca_name, key, ca_key, names, start, end) if signed_by_ca
                else _certificate(subject, subject, key, key, names, start, end, ca=True))
        written = Pair(folder / f"{name}.pem", folder / f"{name}.key")
        written.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        written.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
        return written

    return Certificates(ca=folder / "ca.pem", good=pair("good", loopback),
                        self_signed=pair("self-signed", loopback, signed_by_ca=False),
                        wrong_host=pair("localhost", [x509.DNSName("localhost")]),
                        expired=pair("expired", loopback, expired=True))


def _certificate(subject: x509.Name, issuer: x509.Name, key: Any, issuer_key: Any, names: list[x509.GeneralName],
                 start: datetime, end: datetime, ca: bool = False) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


# ── the site, its notify runs and its ledger ─────────────────────────────────────────

@pytest.fixture
def site(make_site: MakeSite) -> Path:
    """A site whose baseline is recorded and whose next build announces one incident to
    three subscribers: what each test's notify runs have to send."""
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    build(root, root / "public", "2026-11-30T08:00:00+01:00")
    notify(root, env={"STATUSGEN_SECRET_KEY": SECRET}, stream=_Discard())  # the baseline: nothing sent
    (root / "incidents" / "app.md").parent.mkdir(exist_ok=True)
    (root / "incidents" / "app.md").write_text(APP_DOWN)
    build(root, root / "public", "2026-11-30T10:00:00+01:00")
    return root


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def transport(relay: FaultyRelay, security: str = "none", *, timeout: float = 5, connections: int = 2,
              ca_file: Path | None = None, host: str = "127.0.0.1") -> SmtpTransport:
    """The notifier's SMTP transport to `relay`, retrying once without waiting."""
    login = dict(zip(("user", "password"), LOGIN)) if relay.auth else {}
    settings = SmtpSettings(host=host, port=relay.port, security=security, ca_file=ca_file and str(ca_file),
                            **login)
    return SmtpTransport(settings, connections=connections, retries=1, backoff=0.01, timeout=timeout,
                         sleep=lambda _: None, local_hostname="client.test")


def run(root: Path, through: SmtpTransport, store: SqliteNotifyStore | None = None) -> str | None:
    """One notify run; the DeliveryError's message, or None when everything went out."""
    try:
        notify(root, transport=through, env={"STATUSGEN_SECRET_KEY": SECRET}, stream=_Discard(), store=store)
    except DeliveryError as error:
        return str(error)
    finally:
        if store is not None:
            store.close()
    return None


class AfterTheDrop(SqliteNotifyStore):
    """The site's store, whose `committing` (recorded between the body and the final dot)
    first waits until the relay has ended one more connection: a relay that drops in the
    middle of the body before the dot would be written (a large message, a slow line), made
    so here without a race between the relay's thread and the notifier's. For one connection
    at a time: with two, the other's end could be taken for this one's."""

    def __init__(self, root: Path, relay: FaultyRelay) -> None:
        super().__init__(root / ".statusgen" / "notify.db")
        self.relay, self.bodies, self._count = relay, 0, threading.Lock()

    def committing(self, delivery_id: int) -> None:
        with self._count:
            self.bodies += 1
            bodies = self.bodies
        self.relay.wait_for_ended(bodies)
        super().committing(delivery_id)


def ledger(root: Path) -> dict[str, tuple[str, str | None]]:
    """Each recipient's delivery state and last error, as the store has them."""
    with sqlite3.connect(root / ".statusgen" / "notify.db") as db:
        return {recipient: (state, error) for recipient, state, error
                in db.execute("SELECT recipient, state, error FROM deliveries")}


def states(root: Path) -> dict[str, str]:
    return {recipient: state for recipient, (state, _) in ledger(root).items()}


def summary(failed: int = 0, uncertain: int = 0, queued: int = 0) -> str:
    return (f"{failed} deliveries failed for good, {uncertain} are uncertain and {queued} are still queued for the "
            "next run; see the notifier store for the details")


@pytest.fixture
def relay(certs: Certificates, request: pytest.FixtureRequest) -> Iterator[FaultyRelay]:
    """A relay with STARTTLS (a certificate of the test authority) and a login."""
    with FaultyRelay(starttls=certs.good.server(), auth=True, pipelining=getattr(request, "param", False)) as server:
        yield server


# ── a connection dropped in every phase ──────────────────────────────────────────────

@pytest.mark.parametrize("relay", [False, True], ids=["one-by-one", "pipelined"], indirect=True)
@pytest.mark.parametrize("phase", PHASES)
def test_a_connection_dropped_in_any_phase_loses_nothing_and_sends_nothing_twice(
        site: Path, relay: FaultyRelay, certs: Certificates, phase: str) -> None:
    """Up to the end of the body nothing was delivered: everything stays queued and the
    next run sends it. After the final dot the relay may have it: uncertain, never sent
    again. At QUIT everything was delivered already."""
    relay.fault = phase
    if phase == "body":  # one connection: the store's wait is for this connection's end, no other's
        outcome = run(site, transport(relay, "starttls", ca_file=certs.ca, connections=1), AfterTheDrop(site, relay))
    else:
        outcome = run(site, transport(relay, "starttls", ca_file=certs.ca))
    assert relay.hits[phase] >= 1  # the relay did fail there
    if phase == "dot":
        assert outcome == summary(uncertain=3)
        assert states(site) == {r: "uncertain" for r in RECIPIENTS}
        assert {error for _, error in ledger(site).values()} == {
            "no answer to the end of data: Connection unexpectedly closed"}
        assert relay.per_recipient() == ONCE  # it had them all, and none twice
    elif phase == "quit":
        assert outcome is None and states(site) == {r: "sent" for r in RECIPIENTS}
    else:
        assert outcome == summary(queued=3)
        assert states(site) == {r: "pending" for r in RECIPIENTS}
        assert relay.accepted == []

    relay.fault = None  # the relay is back
    after = run(site, transport(relay, "starttls", ca_file=certs.ca))
    assert relay.per_recipient() == ONCE
    if phase == "dot":
        assert states(site) == {r: "uncertain" for r in RECIPIENTS}  # reported, never resent
        assert after is None  # and not reported as this run's
    else:
        assert after is None and states(site) == {r: "sent" for r in RECIPIENTS}


@pytest.mark.parametrize("phase, problem", [
    ("connect", "STATUSGEN_SMTP_HOST: 127.0.0.1:{port} closed the connection (Connection unexpectedly closed); check "
                "STATUSGEN_SMTP_HOST and STATUSGEN_SMTP_PORT"),
    ("ehlo", "STATUSGEN_SMTP_HOST: 127.0.0.1:{port} closed the connection (Connection unexpectedly closed); check "
             "STATUSGEN_SMTP_HOST and STATUSGEN_SMTP_PORT"),
    ("starttls", "STATUSGEN_SMTP_HOST: 127.0.0.1:{port} closed the connection (the connection ended in the TLS "
                 "handshake: "),
    ("auth", "STATUSGEN_SMTP_HOST: 127.0.0.1:{port} closed the connection (Connection unexpectedly closed); check "
             "STATUSGEN_SMTP_HOST and STATUSGEN_SMTP_PORT"),
])
def test_a_relay_that_drops_while_setting_up_stops_notify_before_anything_is_queued(
        site: Path, relay: FaultyRelay, certs: Certificates, phase: str, problem: str, run_cli: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`notify --transport smtp` reaches the relay before any work (preflight): a relay that
    cannot even set up a session is named, with the setting to look at, and nothing is queued."""
    smtp_environment(monkeypatch, relay, "starttls", STATUSGEN_SMTP_CA_FILE=str(certs.ca),
                     STATUSGEN_SMTP_USER=LOGIN[0], STATUSGEN_SMTP_PASSWORD=LOGIN[1])
    relay.fault = phase
    code, _, err = run_cli("notify", "--site", site, "--transport", "smtp")
    assert code == 1 and relay.hits[phase] == 1
    assert [line for line in err.splitlines() if line.startswith("STATUSGEN_SMTP_")][0].startswith(
        problem.format(port=relay.port))
    assert ledger(site) == {}  # nothing queued: the next run finds the incident again
    relay.fault = None
    code, _, err = run_cli("notify", "--site", site, "--transport", "smtp")
    assert code == 0, err
    assert relay.per_recipient() == ONCE


@pytest.mark.parametrize("phase", ["connect", "greeting", "ehlo", "mail", "data", "body", "dot"])
def test_tls_from_the_first_byte_dropped_in_any_phase(site: Path, certs: Certificates, phase: str) -> None:
    with FaultyRelay(implicit=certs.good.server(), auth=True, pipelining=True) as relay:
        relay.fault = phase
        if phase == "body":
            run(site, transport(relay, "tls", ca_file=certs.ca, connections=1), AfterTheDrop(site, relay))
        else:
            run(site, transport(relay, "tls", ca_file=certs.ca))
        assert relay.hits[phase] >= 1
        assert set(states(site).values()) == ({"uncertain"} if phase == "dot" else {"pending"})
        relay.fault = None
        assert run(site, transport(relay, "tls", ca_file=certs.ca)) is None
        assert relay.per_recipient() == ONCE


# ── a slow relay ─────────────────────────────────────────────────────────────────────

def in_time(root: Path, through: SmtpTransport) -> str | None:
    """A notify run in a thread, waited for at most SAFETY seconds: the test fails, rather
    than hangs, when a run would wait forever."""
    outcome: list[str | None] = []
    worker = threading.Thread(target=lambda: outcome.append(run(root, through)), daemon=True)
    worker.start()
    worker.join(SAFETY)
    assert not worker.is_alive(), "notify still waits for a relay that never answers"
    return outcome[0]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_slow_relay_that_answers_within_the_timeout_gets_everything(site: Path, certs: Certificates,
                                                                      security: str) -> None:
    """Every answer a byte at a time (each byte its own TCP segment and TLS record), well
    within a generous timeout: the answers are put together whole, and nothing is lost."""
    context = {"starttls": certs.good.server()} if security == "starttls" else {"implicit": certs.good.server()}
    with FaultyRelay(**context, auth=True, pipelining=True, trickle=0.001) as relay:
        assert in_time(site, transport(relay, security, timeout=30, ca_file=certs.ca)) is None
        assert relay.per_recipient() == ONCE
        assert states(site) == {r: "sent" for r in RECIPIENTS}


def test_a_relay_that_dribbles_its_greeting_forever_is_given_up_on(site: Path) -> None:
    """smtplib's timeout is per read: a relay sending `220-` lines a byte at a time never
    let it expire. Each answer now has to arrive whole within the timeout; the run stops
    trying (no connection per message) and keeps everything for the next run."""
    with FaultyRelay() as relay:
        relay.fault, relay.how = "connect", "dribble"
        outcome = in_time(site, transport(relay, timeout=1))
        assert outcome == summary(queued=3)
        assert states(site) == {r: "pending" for r in RECIPIENTS}
        errors = {error for _, error in ledger(site).values()}
        assert f"127.0.0.1:{relay.port}: timed out: no whole answer within 1 s (STATUSGEN_SMTP_TIMEOUT or " \
               "notify.smtp.timeout)" in errors
        assert relay.connections <= 4  # two connections, one retry each; not one per message
        relay.fault = None
        assert run(site, transport(relay)) is None
        assert relay.per_recipient() == ONCE


def test_a_relay_that_goes_silent_before_the_dot_keeps_everything_for_the_next_run(site: Path) -> None:
    with FaultyRelay() as relay:
        relay.fault, relay.how = "mail", "stall"
        outcome = in_time(site, transport(relay, timeout=1, connections=1))
        assert outcome == summary(queued=3)
        assert relay.hits["mail"] == 2  # one message, tried twice; the others were not tried
        errors = sorted(error or "" for _, error in ledger(site).values())
        assert errors[0].startswith("connection lost before the end of data: timed out: no whole answer within 1 s")
        assert all(error.startswith("not tried: connection lost before the end of data: timed out") for error in
                   errors[1:])
        relay.fault = None
        assert run(site, transport(relay)) is None
        assert relay.per_recipient() == ONCE


def test_a_relay_that_sits_on_the_dot_makes_one_delivery_uncertain_not_all(site: Path) -> None:
    """Silence after the final dot: that message may have been delivered (uncertain, never
    resent); the run stops there instead of making every message uncertain the same way."""
    with FaultyRelay() as relay:
        relay.fault, relay.how = "dot", "stall"
        outcome = in_time(site, transport(relay, timeout=1, connections=1))
        assert outcome == summary(uncertain=1, queued=2)
        found = states(site)
        [uncertain] = [recipient for recipient, state in found.items() if state == "uncertain"]
        assert sorted(found.values()) == ["pending", "pending", "uncertain"]
        assert ledger(site)[uncertain][1] == (
            "no answer to the end of data: timed out: no whole answer within 1 s (STATUSGEN_SMTP_TIMEOUT or "
            "notify.smtp.timeout)")
        relay.fault = None
        assert run(site, transport(relay)) is None
        assert relay.per_recipient() == ONCE  # the uncertain one arrived in the first run, and only then
        assert states(site)[uncertain] == "uncertain"


def test_a_relay_that_stops_reading_mid_body_leaves_that_delivery_uncertain(site: Path) -> None:
    """The body and the dot fit in the socket's buffers, so from here they were sent; no
    answer came. Whether the relay has the message cannot be known: uncertain, reported,
    not resent (the relay in this test did not get it: the report is what tells ops)."""
    with FaultyRelay() as relay:
        relay.fault, relay.how = "body", "stall"
        assert in_time(site, transport(relay, timeout=1, connections=1)) == summary(uncertain=1, queued=2)
        relay.fault = None
        assert run(site, transport(relay)) is None
        [uncertain] = [recipient for recipient, state in states(site).items() if state == "uncertain"]
        assert relay.per_recipient() == {r: 1 for r in RECIPIENTS if r != uncertain}


# ── certificates nobody should trust ─────────────────────────────────────────────────

def start_relay(pair: Pair, security: str) -> FaultyRelay:
    return FaultyRelay(**({"starttls": pair.server()} if security == "starttls" else {"implicit": pair.server()}))


def smtp_environment(monkeypatch: pytest.MonkeyPatch, relay: FaultyRelay, security: str, **more: str) -> None:
    for name, value in {"STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_SMTP_HOST": "127.0.0.1",
                        "STATUSGEN_SMTP_PORT": str(relay.port), "STATUSGEN_SMTP_SECURITY": security,
                        "STATUSGEN_SMTP_CA_FILE": "", **more}.items():
        monkeypatch.setenv(name, value)


SECURITIES = pytest.mark.parametrize("security", ["starttls", "tls"])


@SECURITIES
def test_a_self_signed_certificate_is_refused_until_its_file_is_trusted(
        site: Path, certs: Certificates, security: str, run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with start_relay(certs.self_signed, security) as relay:
        smtp_environment(monkeypatch, relay, security)
        code, _, err = run_cli("notify", "--site", site, "--transport", "smtp")
        assert code != 0 and relay.accepted == []
        assert (f"STATUSGEN_SMTP_CA_FILE: the TLS certificate of 127.0.0.1:{relay.port} is not trusted (certificate "
                "verify failed: self-signed certificate); if the relay's certificate is meant to be private or "
                "self-signed, set STATUSGEN_SMTP_CA_FILE (or notify.smtp.ca_file) to a PEM file holding it or the "
                "authority that issued it") in err.splitlines()
        smtp_environment(monkeypatch, relay, security, STATUSGEN_SMTP_CA_FILE=str(certs.self_signed.cert))
        code, _, err = run_cli("notify", "--site", site, "--transport", "smtp")
        assert code == 0, err
        assert relay.per_recipient() == ONCE


@SECURITIES
def test_a_certificate_for_another_host_is_refused_and_the_right_name_passes(
        site: Path, certs: Certificates, security: str, run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with start_relay(certs.wrong_host, security) as relay:
        smtp_environment(monkeypatch, relay, security, STATUSGEN_SMTP_CA_FILE=str(certs.ca))
        code, _, err = run_cli("notify", "--site", site, "--transport", "smtp")
        assert code != 0 and relay.accepted == []
        assert (f"STATUSGEN_SMTP_HOST: the TLS certificate of 127.0.0.1:{relay.port} is not trusted (certificate "
                "verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'.); set "
                "STATUSGEN_SMTP_HOST (or notify.smtp.host) to a name the certificate was issued for") \
            in err.splitlines()
        smtp_environment(monkeypatch, relay, security, STATUSGEN_SMTP_CA_FILE=str(certs.ca),
                         STATUSGEN_SMTP_HOST="localhost")
        code, _, err = run_cli("notify", "--site", site, "--transport", "smtp")
        assert code == 0, err
        assert relay.per_recipient() == ONCE


@SECURITIES
def test_an_expired_certificate_is_refused_even_from_a_trusted_authority(
        site: Path, certs: Certificates, security: str, run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with start_relay(certs.expired, security) as relay:
        smtp_environment(monkeypatch, relay, security, STATUSGEN_SMTP_CA_FILE=str(certs.ca))
        code, _, err = run_cli("notify", "--site", site, "--transport", "smtp")
        assert code != 0 and relay.accepted == [] and relay.commands["MAIL"] == 0
        assert (f"STATUSGEN_SMTP_HOST: the TLS certificate of 127.0.0.1:{relay.port} is not trusted (certificate "
                "verify failed: certificate has expired); the relay's certificate must be renewed (or the relay's "
                "clock or this machine's set right); no setting here makes statusgen accept it") in err.splitlines()


@SECURITIES
def test_a_certificate_that_goes_bad_after_the_check_stops_the_run_and_keeps_everything(
        site: Path, certs: Certificates, security: str) -> None:
    """Past the preflight (a transport handed in is not probed), the transport refuses the
    certificate itself: nothing is tried, everything stays queued, the error names the setting."""
    with start_relay(certs.self_signed, security) as relay:
        assert run(site, transport(relay, security)) == summary(queued=3)
        assert relay.commands["MAIL"] == 0
        assert {error for _, error in ledger(site).values()} >= {
            f"127.0.0.1:{relay.port}: the server's TLS certificate is not trusted (certificate verify failed: "
            "self-signed certificate); if the relay's certificate is meant to be private or self-signed, set "
            "STATUSGEN_SMTP_CA_FILE (or notify.smtp.ca_file) to a PEM file holding it or the authority that issued it"}
        assert run(site, transport(relay, security, ca_file=certs.self_signed.cert)) is None
        assert relay.per_recipient() == ONCE


# ── the settings ─────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("variable, value, message", [
    ("STATUSGEN_SMTP_TIMEOUT", "0", "STATUSGEN_SMTP_TIMEOUT: expected the seconds the relay has for each answer, a "
     "number above 0 and at most 600 (default 30); found '0'"),
    ("STATUSGEN_SMTP_TIMEOUT", "1 minute", "STATUSGEN_SMTP_TIMEOUT: expected the seconds the relay has for each "
     "answer, a number above 0 and at most 600 (default 30); found '1 minute'"),
    ("STATUSGEN_SMTP_CA_FILE", "relay-ca.pem", "STATUSGEN_SMTP_CA_FILE: expected the absolute path of a PEM file of "
     "certificates to trust for the relay; found 'relay-ca.pem', a relative path"),
    ("STATUSGEN_SMTP_CA_FILE", "/nonexistent/relay-ca.pem", "STATUSGEN_SMTP_CA_FILE: expected the absolute path of "
     "a PEM file of certificates to trust for the relay; cannot read /nonexistent/relay-ca.pem: No such file or "
     "directory"),
])
def test_bad_relay_settings_name_the_variable(variable: str, value: str, message: str) -> None:
    settings, problems = SmtpSettings.read({"STATUSGEN_SMTP_HOST": "relay.example.org", variable: value}, {})
    assert settings is None and problems == [message]


def test_a_ca_file_that_holds_no_certificate_is_named(tmp_path: Path, certs: Certificates) -> None:
    not_pem = tmp_path / "key-not-cert.pem"
    not_pem.write_bytes(certs.good.key.read_bytes())
    _, problems = SmtpSettings.read({"STATUSGEN_SMTP_HOST": "relay.example.org",
                                     "STATUSGEN_SMTP_CA_FILE": str(not_pem)}, {})
    assert problems == [f"STATUSGEN_SMTP_CA_FILE: expected the absolute path of a PEM file of certificates to trust "
                        f"for the relay; {not_pem} holds no PEM certificate"]


def test_timeout_and_ca_file_come_from_the_site_and_the_environment_wins(certs: Certificates) -> None:
    site = {"host": "relay.example.org", "timeout": 45, "ca_file": str(certs.ca)}
    assert SmtpSettings.from_environment({}, site).timeout == 45
    assert SmtpSettings.from_environment({}, site).ca_file == str(certs.ca)
    assert SmtpSettings.from_environment({"STATUSGEN_SMTP_TIMEOUT": "2.5"}, site).timeout == 2.5
    assert SmtpTransport(SmtpSettings.from_environment({}, site)).timeout == 45
    assert SmtpTransport(SmtpSettings(host="relay.example.org")).timeout == 30


def test_check_names_the_line_of_a_bad_timeout_or_a_relative_ca_file(make_site: MakeSite, run_cli: Any) -> None:
    root = make_site({"content/site.yaml": SITE_YAML.replace(
        "reminders: [24h]}", "reminders: [24h],\n         smtp: {timeout: -1, ca_file: certs/relay.pem}}")})
    code, _, err = run_cli("check", "--site", root)
    assert code == 1
    assert ("content/site.yaml:7: notify.smtp.timeout: expected the seconds the relay has for each answer, a number "
            "above 0 and at most 600 (default 30); found -1") in err.splitlines()
    assert ("content/site.yaml:7: notify.smtp.ca_file: expected the absolute path of a PEM file of certificates to "
            "trust for the relay; found 'certs/relay.pem', a relative path") in err.splitlines()
