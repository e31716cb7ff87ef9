"""The subscription service against what the wire and the machine do to it: slow clients,
oversized requests refused by waitress itself (with the app's security headers, read as
raw bytes), SIGTERM with requests in flight, and a store that stops taking writes.

Every test runs a real `statusgen subscriptions serve` process on 127.0.0.1 with a real
SMTP sink; the unwritable store is a SQLite file made so with `chattr +i` (the tests run
as root, who ignores file modes, but not the immutable flag of ext4) or a PostgreSQL
database switched to read-only."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest

from statusgen import ids
from statusgen.tokens import make_token
from tests.backends import upgraded
from tests.conftest import MakeSite
from tests.pgserver import free_port
from tests.smtpsink import SmtpSink
from tests.test_service_instances import Instance
from tests.test_subscriptions import SECRET, SITE_YAML, SUBSCRIBERS, Reply
from tests.webhookreceiver import HANG, Receiver

STATUS_ORIGIN = "https://status.example.org"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Origin": STATUS_ORIGIN}
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control",
                    "X-Frame-Options", "Cross-Origin-Opener-Policy")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


def environment(sink: SmtpSink, **extra: str) -> dict[str, str]:
    env = {**os.environ, "STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_SMTP_HOST": "127.0.0.1",
           "STATUSGEN_SMTP_PORT": str(sink.port), "STATUSGEN_SMTP_SECURITY": "none", **extra}
    for name in ("STATUSGEN_DATABASE_URL", "STATUSGEN_SUBSCRIPTIONS_DB", "STATUSGEN_TRUSTED_PROXIES"):
        if name not in extra:
            env.pop(name, None)
    return env


@pytest.fixture
def root(make_site: MakeSite) -> Path:
    return make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})


@pytest.fixture
def service(root: Path, sink: SmtpSink, tmp_path: Path) -> Iterator[Instance]:
    instance = Instance(root, environment(sink), tmp_path / "service.log")
    try:
        yield instance
    finally:
        instance.stop()


def subscribe(service: Instance, email: str) -> Reply:
    return service.request("POST", "/subscriptions/subscribe",
                           urlencode({"email": email, "language": "en", "website": ""}), FORM)


def confirm(service: Instance, email: str) -> Reply:
    token = make_token(SECRET, "confirm", email)
    return service.request("POST", "/subscriptions/confirm", urlencode({"token": token}), FORM)


def raw(port: int, data: bytes, timeout: float = 30) -> bytes:
    """Send bytes, read until the server closes: the answer exactly as it was written."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        try:
            connection.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        chunks = []
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def parsed(answer: bytes) -> tuple[int, dict[str, str]]:
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        assert name not in headers, f"{name} twice in {head}"
        headers[name] = value.strip()
    return int(head[0].split()[1]), headers


def security_of(headers: dict[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, dict) else headers
    return {name: value for name, value in items if name in SECURITY_HEADERS}


# ── refused by waitress, secured all the same ─────────────────────────────────────────

def test_waitress_refusals_are_431_413_400_and_carry_the_apps_security_headers(service: Instance) -> None:
    page = service.request("GET", "/subscriptions/subscribe")
    expected = security_of(page.headers)
    assert page.status == 200 and set(expected) == set(SECURITY_HEADERS)

    huge_header = (b"GET /subscriptions/subscribe HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 40_000
                   + b"\r\n\r\n")
    huge_body = (b"POST /subscriptions/subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
                 b"urlencoded\r\nContent-Length: 1000000\r\n\r\n" + b"a" * 70_000)
    huge_chunks = (b"POST /subscriptions/subscribe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"%x\r\n" % 100_000 + b"a" * 100_000 + b"\r\n0\r\n\r\n")
    garbage = b"GET /subscriptions/subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"
    bare_cr = b"GET /subscriptions/subscribe HTTP/1.1\r\nHost: x\r\nX-Smuggled: a\rb\r\n\r\n"
    for request, status in ((huge_header, 431), (huge_body, 413), (huge_chunks, 413), (garbage, 400),
                            (bare_cr, 400)):
        code, headers = parsed(raw(service.port, request))
        assert code == status, headers
        assert security_of(headers) == expected, f"{status}: {headers}"
        assert headers["Connection"] == "close"
    assert "Traceback" not in service.errors()


# ── slow clients ──────────────────────────────────────────────────────────────────────

SLOW = 300
"""Slow connections at once: three times waitress's default connection limit (100)."""


def test_hundreds_of_slow_clients_do_not_keep_a_reader_from_an_answer(service: Instance) -> None:
    """Half dribble their headers, half their body, a byte per round; meanwhile ordinary
    requests (more than there are worker threads) are answered."""
    slow = []
    try:
        for number in range(SLOW):
            connection = socket.create_connection(("127.0.0.1", service.port), timeout=30)
            if number % 2:  # headers whole, the body promised and never coming
                connection.sendall(b"POST /subscriptions/subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                   b"application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\nemail=")
            else:
                connection.sendall(b"GET /subscriptions/subscribe HTTP/1.1\r\nHost: x\r\n")
            slow.append(connection)
        for round_ in range(12):
            for number, connection in enumerate(slow):
                connection.sendall(b"a" if number % 2 else b"X-Dribble-%d: 1\r\n" % round_)
            reply = service.request("GET", "/subscriptions/healthz")
            assert reply.status == 200, reply
            assert service.request("GET", "/subscriptions/subscribe").status == 200
        for connection in slow:  # still open: the server kept them, and still answered others
            connection.setblocking(False)
            with pytest.raises(BlockingIOError):
                connection.recv(1)
    finally:
        for connection in slow:
            connection.close()
    assert subscribe(service, "after.slow@partner.example").status == 200


class LimitedInstance(Instance):
    """The service started under `prlimit`: a soft and hard limit of open files."""

    def __init__(self, root: Path, env: dict[str, str], log: Path, open_files: int) -> None:
        self.port, self.log = free_port(), log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                ["prlimit", f"--nofile={open_files}:{open_files}", sys.executable, "-m", "statusgen", "subscriptions",
                 "serve", "--site", str(root), "--port", str(self.port)], env=env, stdout=subprocess.DEVNULL,
                stderr=output)
        self.wait_until(lambda reply: reply.status == 200, "to start")

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


def test_with_few_open_files_it_takes_fewer_connections_instead_of_spinning_on_accept(
        root: Path, sink: SmtpSink, tmp_path: Path) -> None:
    """Under a hard limit of 256 open files the service keeps its connections below it and
    says which setting to raise. Had it accepted up to the limit, each further accept()
    would fail (EMFILE), and waitress retries at once, logging a traceback each time."""
    service = LimitedInstance(root, environment(sink), tmp_path / "service.log", open_files=256)
    slow: list[socket.socket] = []
    try:
        assert "at most 192 connections at once (not 1000)" in service.errors()
        assert "raise it (LimitNOFILE= in the systemd unit, ulimit -n) to 1064" in service.errors()
        before = service.open_files()
        for _ in range(300):
            connection = socket.create_connection(("127.0.0.1", service.port), timeout=30)
            connection.sendall(b"GET /subscriptions/subscribe HTTP/1.1\r\nHost: x\r\n")
            slow.append(connection)
        deadline = time.monotonic() + 60
        while service.open_files() < before + 180:  # it has taken what it takes
            assert time.monotonic() < deadline, f"{service.open_files()} open files"
            time.sleep(0.05)
        most = max(service.open_files() for _ in range(40) if not time.sleep(0.05))
        assert most < 250, f"{most} open files: no reserve left"
        waiting: list[Reply] = []
        reader = threading.Thread(target=lambda: waiting.append(service.request("GET", "/subscriptions/healthz")))
        reader.start()  # queued behind the slow ones, beyond the limit
        for connection in slow[:150]:  # the first ones, accepted first: room for the rest
            connection.close()
        reader.join(60)
        assert [reply.status for reply in waiting] == [200]
    finally:
        for connection in slow:
            connection.close()
        service.stop()
    assert "accept() threw" not in service.errors()
    assert "Traceback" not in service.errors()


# ── SIGTERM ───────────────────────────────────────────────────────────────────────────

def test_sigterm_lets_requests_in_flight_finish_refuses_new_ones_and_exits_0(
        root: Path, tmp_path: Path) -> None:
    """In flight: a webhook's confirmation, waiting for its test message at a receiver that
    does not answer yet, and a confirmation email the SMTP relay is slow to take."""
    relay_free = threading.Event()

    def slow_relay(_session: object, _envelope: object) -> None:
        relay_free.wait(60)

    receiver = Receiver()
    receiver.script("/hang", [HANG])
    with SmtpSink(on_data=slow_relay) as sink:
        env = environment(sink, STATUSGEN_WEBHOOK_ALLOW_NETS="127.0.0.0/8")
        service = Instance(root, env, tmp_path / "service.log")
        try:
            url = receiver.url("/hang")
            asked = service.request("POST", "/subscriptions/webhook", urlencode(
                {"url": url, "email": "desk@partner.example", "format": "statuspage", "language": "en",
                 "website": ""}), FORM)
            assert asked.status == 200, asked.text
            assert subscribe(service, "reader@partner.example").status == 200
            token = make_token(SECRET, "confirm", f"webhook:{ids.webhook_id(url)}")
            answers: list[Reply] = []
            confirming = threading.Thread(target=lambda: answers.append(service.request(
                "POST", "/subscriptions/confirm", urlencode({"token": token}), FORM)))
            confirming.start()
            assert receiver.wait_for(1, timeout=30), "the test message never reached the receiver"

            service.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 30
            while True:  # the listening socket closes: new connections are refused
                try:
                    socket.create_connection(("127.0.0.1", service.port), timeout=5).close()
                except ConnectionRefusedError:
                    break
                assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
                time.sleep(0.05)
            assert service.process.poll() is None, "exited with a request in flight"

            receiver.release.set()
            relay_free.set()
            assert service.process.wait(60) == 0, service.errors()
            confirming.join(30)
            assert [answer.status for answer in answers] == [200]
            assert "whsec_" in answers[0].text  # the secret page: the confirmation went through
            delivered = sorted(recipient for recipient, _ in sink.messages)
            assert delivered == ["desk@partner.example", "reader@partner.example"], service.errors()
            assert "Traceback" not in service.errors()
        finally:
            receiver.release.set()
            relay_free.set()
            receiver.close()
            if service.process.poll() is None:
                service.process.kill()


# ── a store that stops taking writes ──────────────────────────────────────────────────

class SqliteFrozen:
    """The SQLite store made unwritable with `chattr +i` (root ignores file modes, not the
    immutable flag): the file and its WAL, not the `-shm` index SQLite maps into memory
    (a write to a mapped immutable page is a SIGBUS that kills the process; see the README)."""

    def __init__(self, root: Path) -> None:
        self.db = root / ".statusgen" / "subscriptions.db"
        self.paths = [self.db, self.db.with_name(self.db.name + "-wal")]

    def env(self) -> dict[str, str]:
        return {}

    def freeze(self, on: bool) -> None:
        done = subprocess.run(["chattr", "+i" if on else "-i", *map(str, self.paths)], capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, f"chattr needs root on ext4 (as in CI): {done.stderr}"

    def rows(self) -> dict[str, str]:
        with sqlite3.connect(f"{self.db.as_uri()}?mode=ro", uri=True) as connection:
            return dict(connection.execute("SELECT address, state FROM subscriptions").fetchall())


class PostgresFrozen:
    """The database switched to read-only as a failover to a replica does it: new sessions
    read only (`default_transaction_read_only`) and the service's connections dropped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = url.rsplit("/", 1)[1]

    def env(self) -> dict[str, str]:
        return {"STATUSGEN_DATABASE_URL": self.url}

    def freeze(self, on: bool) -> None:
        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute("SET default_transaction_read_only = off")  # this session's own, to undo it
            db.execute(f"ALTER DATABASE {self.name} SET default_transaction_read_only = {'on' if on else 'off'}")
            db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                       "pg_backend_pid()", (self.name,))

    def rows(self) -> dict[str, str]:
        with psycopg.connect(self.url) as db:
            return dict(db.execute("SELECT address, state FROM subscriptions").fetchall())


@pytest.fixture(params=["sqlite", "postgresql"])
def frozen(request: pytest.FixtureRequest, root: Path) -> SqliteFrozen | PostgresFrozen:
    if request.param == "sqlite":
        return SqliteFrozen(root)
    return PostgresFrozen(upgraded(request.getfixturevalue("database_url")))


def test_an_unwritable_store_is_503_with_retry_after_and_loses_nothing_confirmed(
        root: Path, sink: SmtpSink, tmp_path: Path, frozen: SqliteFrozen | PostgresFrozen) -> None:
    service = Instance(root, environment(sink, **frozen.env()), tmp_path / "service.log")
    try:
        assert subscribe(service, "kept@partner.example").status == 200
        assert confirm(service, "kept@partner.example").status == 200
        assert subscribe(service, "waiting@partner.example").status == 200
        frozen.freeze(True)
        try:
            refused = [subscribe(service, "new@partner.example"), confirm(service, "waiting@partner.example"),
                       service.request("POST", "/subscriptions/unsubscribe?" + urlencode(
                           {"token": make_token(SECRET, "unsubscribe", "kept@partner.example")}),
                           "List-Unsubscribe=One-Click", {"Content-Type": "application/x-www-form-urlencoded"})]
            for reply in refused:
                assert reply.status == 503, reply.text
                assert reply.header("Retry-After") == "30"
                assert set(security_of(reply.headers)) == set(SECURITY_HEADERS)
            health = service.request("GET", "/subscriptions/healthz")
            assert (health.status, json.loads(health.body)) == (503, {"status": "unavailable",
                                                                      "database": "read-only"})
            assert health.header("Retry-After") == "30"
            assert frozen.rows() == {"kept@partner.example": "confirmed", "waiting@partner.example": "pending"}
        finally:
            frozen.freeze(False)
        service.wait_until(lambda reply: reply.status == 200, "back")
        assert subscribe(service, "new@partner.example").status == 200  # the 503 said: send it again
        assert confirm(service, "waiting@partner.example").status == 200
        assert frozen.rows() == {"kept@partner.example": "confirmed", "waiting@partner.example": "confirmed",
                                 "new@partner.example": "pending"}
    finally:
        service.stop()
    assert "Traceback" not in service.errors()
    assert "cannot be written" in service.errors()


def test_a_store_that_cannot_be_written_at_start_stops_the_service_naming_the_setting(
        root: Path, sink: SmtpSink) -> None:
    """Its WAL (kept here by another connection, as the notifier's would) cannot be
    written: SQLite opens the store read-only, and the first write says so."""
    from statusgen.subscriptions.store import SqliteSubscriptionStore

    frozen = SqliteFrozen(root)
    holder = SqliteSubscriptionStore(frozen.db)
    holder.request("kept@partner.example", None, "en", datetime(2026, 11, 30, tzinfo=UTC))
    frozen.paths = frozen.paths[1:]  # the WAL only: the file itself still opens for writing
    frozen.freeze(True)
    try:
        done = subprocess.run([sys.executable, "-m", "statusgen", "subscriptions", "serve", "--site", str(root),
                               "--port", "0"], env=environment(sink), capture_output=True, text=True, timeout=120,
                              check=False)
    finally:
        frozen.freeze(False)
        holder.close()
    assert done.returncode == 1, done.stderr
    assert (f"STATUSGEN_SUBSCRIPTIONS_DB: the subscription store {frozen.db} cannot be written: attempt to write a "
            "readonly database (SQLITE_READONLY)") in done.stderr
    assert "Traceback" not in done.stderr
