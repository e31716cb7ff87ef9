"""Several `statusgen subscriptions serve` processes against one PostgreSQL database behave
as one service; `statusgen notify` with the same database honours what they store; the
service says when the database is gone and recovers when it is back.

Everything is real: the service and the notifier are subprocesses, as systemd and CI run
them; PostgreSQL is the tests' own server; the emails go to an SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest

from statusgen.site.build import build
from tests.backends import upgraded
from tests.conftest import MakeSite
from tests.pgserver import Server, _as_server_user, binaries, free_port, running_server
from tests.smtpsink import SmtpSink
from tests.test_subscriptions import LISTED, SECRET, SITE_YAML, SUBSCRIBERS, Browser, Reply, links, one_click_url

INCIDENT = """\
---
title: {title}
impact: P2
components: {{{component}: major_outage}}
updates:
  - {{at: {at}, status: investigating, body: We are looking into it.}}
---
"""
ONE_CLICK = ("List-Unsubscribe=One-Click", {"Content-Type": "application/x-www-form-urlencoded"})


class Instance:
    """One `statusgen subscriptions serve` process on a port of 127.0.0.1."""

    def __init__(self, root: Path, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "statusgen", "subscriptions", "serve", "--site", str(root), "--port",
                 str(self.port)], env=env, stdout=subprocess.DEVNULL, stderr=output)
        self.wait_until(lambda reply: reply.status == 200, "to start")

    def wait_until(self, ready: Callable[[Reply], bool], what: str, timeout: float = 60) -> Reply:
        """Poll /healthz (what monitoring does) until `ready`; fail with the service's log."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"the service exited {self.process.returncode}: {self.errors()}"
            try:
                reply = self.request("GET", "/subscriptions/healthz")
                if ready(reply):
                    return reply
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the service did not come {what}: {self.errors()}"
            time.sleep(0.1)

    def errors(self) -> str:
        return self.log.read_text()

    def request(self, method: str, url: str, body: str | None = None, headers: dict[str, str] | None = None) -> Reply:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                               headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.getheaders(), response.read())
        finally:
            connection.close()

    def subscribe(self, email: str, components: list[str] | None = None) -> Reply:
        fields = {"email": email, "components": components or [], "language": "en", "website": ""}
        return self.request("POST", "/subscriptions/subscribe", urlencode(fields, doseq=True),
                            {"Content-Type": "application/x-www-form-urlencoded",
                             "Origin": "https://status.example.org"})

    def stop(self) -> None:
        """SIGTERM, as systemd stops it: the service finishes its emails and exits 0."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            assert self.process.wait(30) == 0, self.errors()
        finally:
            if self.process.poll() is None:
                self.process.kill()


class Deployment:
    """A site, its database, the SMTP sink, and what runs against them."""

    def __init__(self, root: Path, url: str, sink: SmtpSink, logs: Path) -> None:
        self.root, self.url, self.sink, self.logs = root, url, sink, logs
        self.env = {**os.environ, "STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_DATABASE_URL": url,
                    "STATUSGEN_SMTP_HOST": "127.0.0.1", "STATUSGEN_SMTP_PORT": str(sink.port),
                    "STATUSGEN_SMTP_SECURITY": "none"}
        self.env.pop("STATUSGEN_SUBSCRIPTIONS_DB", None)
        self.instances: list[Instance] = []

    def serve(self, env: dict[str, str] | None = None) -> Instance:
        instance = Instance(self.root, {**self.env, **(env or {})}, self.logs / f"service{len(self.instances)}.log")
        self.instances.append(instance)
        return instance

    def incident(self, name: str, component: str, ago: timedelta) -> None:
        at = (datetime.now(UTC) - ago).astimezone(ZoneInfo("Europe/Brussels")).strftime("%Y-%m-%d %H:%M")
        (self.root / "incidents" / f"{name}.md").write_text(INCIDENT.format(title=name, component=component, at=at))

    def notify(self) -> subprocess.CompletedProcess[str]:
        """Build now and run `statusgen notify` as CI does: only the database URL tells it
        about the service's subscribers and unsubscribes."""
        build(self.root, self.root / "public", datetime.now(UTC).isoformat(timespec="seconds"))
        done = subprocess.run([sys.executable, "-m", "statusgen", "notify", "--site", str(self.root), "--transport",
                               "smtp", "-q"], env=self.env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done

    def mail_to(self, address: str, count: int = 1) -> list:
        with self.sink.arrived:
            arrived = self.sink.arrived.wait_for(lambda: len(self.sink.to(address)) >= count, 30)
        assert arrived, f"{address} received {len(self.sink.to(address))} of {count} messages"
        return self.sink.to(address)


@pytest.fixture
def deployment(make_site: MakeSite, database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    with SmtpSink() as sink:
        running = Deployment(root, upgraded(database_url), sink, tmp_path)
        try:
            yield running
        finally:
            for instance in running.instances:
                instance.stop()


def health(reply: Reply) -> tuple[int, dict[str, str]]:
    return reply.status, json.loads(reply.body)


# ── two instances, one service ────────────────────────────────────────────────────────

def test_subscribe_on_one_instance_confirm_and_manage_on_the_other_unsubscribe_on_the_first(
        deployment: Deployment) -> None:
    a, b = deployment.serve(), deployment.serve()
    person = "traveller@example.net"
    assert a.subscribe(person, ["dcc-app"]).status == 200
    confirmation, = deployment.mail_to(person)
    on_b = Browser(b)
    confirmed = on_b.submit(on_b.get(links(confirmation)["confirm"]))
    assert confirmed.status == 200 and "You are subscribed" in confirmed.text and "Mobile app" in confirmed.text
    manage_url = next(url for url in links_in(confirmed.text) if "/manage?" in url)
    manage = on_b.get(manage_url)
    assert 'value="dcc-app" checked' in manage.text
    saved = on_b.submit(manage, {"components": ["lookup-portal"], "language": "nl"}, ("action", "save"))
    assert saved.status == 200 and "Uw keuzes zijn bewaard" in saved.text
    assert 'value="lookup-portal" checked' in Browser(a).get(manage_url).text  # A sees what B saved
    gone = a.request("POST", one_click_url(confirmation), *ONE_CLICK)
    assert gone.status == 200 and "Uw abonnement is opgezegd" in gone.text
    after = Browser(b).get(manage_url)
    assert "You are unsubscribed" in after.text and "<form" not in after.text


def links_in(page: str) -> list[str]:
    return [html.unescape(url) for url in re.findall(r'href="([^"]+)"', page)]


def test_rate_limits_are_counted_in_the_database_across_instances(deployment: Deployment) -> None:
    a, b = deployment.serve(), deployment.serve()
    flooded = [(a if n % 2 else b).subscribe("flooded@example.org").status for n in range(4)]
    assert flooded == [200] * 4
    others = [(a if n % 2 else b).subscribe(f"p{n}@example.org").status for n in range(6)]
    assert others == [200] * 6  # ten from this client in all, five on each instance
    for instance in (a, b):
        limited = instance.subscribe("p10@example.org")
        assert limited.status == 429 and 0 < int(limited.header("Retry-After")) <= 600
    for instance in (a, b):
        instance.stop()  # after handing over every email it queued
    assert len(deployment.sink.to("p5@example.org")) == 1
    assert len(deployment.sink.to("flooded@example.org")) == 3  # the fourth email was held back


def test_an_unsubscribe_through_the_service_stops_the_notifier_in_ci(deployment: Deployment) -> None:
    """The privacy defect of issue 11: CI mails subscribers.yaml; an address in it that
    unsubscribed through the service must not be mailed again. Two service instances,
    `statusgen notify` as a separate process with only STATUSGEN_DATABASE_URL in common."""
    a, b = deployment.serve(), deployment.serve()
    assert a.subscribe("self@example.org", ["dcc-app"]).status == 200
    browser = Browser(b)
    browser.submit(browser.get(links(deployment.mail_to("self@example.org")[0])["confirm"]))
    deployment.notify()  # the baseline
    deployment.incident("app-down", "dcc-app", timedelta(minutes=30))
    deployment.notify()
    first, = deployment.mail_to(LISTED)
    assert len(deployment.mail_to("self@example.org", 2)) == 2
    assert b.request("POST", one_click_url(first), *ONE_CLICK).status == 200  # on B; A served the others
    deployment.incident("certificates-down", "dcc-certificates", timedelta(minutes=20))
    deployment.incident("app-slow", "dcc-app", timedelta(minutes=10))
    deployment.notify()
    assert len(deployment.mail_to("self@example.org", 3)) == 3  # app-slow: the run did send
    assert len(deployment.sink.to(LISTED)) == 1, "an address that unsubscribed was mailed again"
    with psycopg.connect(deployment.url) as db:
        assert db.execute("SELECT count(*) FROM unsubscribes WHERE address = %s", (LISTED,)).fetchone() == (1,)


# ── failures ──────────────────────────────────────────────────────────────────────────

def test_a_database_that_cannot_be_used_stops_the_service_in_one_line(deployment: Deployment, postgres: Server,
                                                                      database_url: str) -> None:
    closed = f"postgresql://statusgen:hunter2@127.0.0.1:{free_port()}/statusgen"
    wrong_password = database_url.replace(":statusgen-test@", ":hunter2@")
    empty = postgres.create_database(f"{database_url.rsplit('/', 1)[1]}_empty")
    cases = {
        closed: "cannot connect to the database postgresql://statusgen:***@127.0.0.1:",
        wrong_password: "password authentication failed",
        empty: "has subscriptions schema version 0, this statusgen needs 2: run `statusgen db upgrade`",
    }
    for url, expected in cases.items():
        done = subprocess.run([sys.executable, "-m", "statusgen", "subscriptions", "serve", "--site",
                               str(deployment.root), "--port", str(free_port())],
                              env={**deployment.env, "STATUSGEN_DATABASE_URL": url}, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 1, done.stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("statusgen: ") and expected in lines[0], done.stderr
        assert "hunter2" not in done.stderr and "statusgen-test" not in done.stderr


def test_connections_killed_by_the_database_are_replaced_without_an_error(deployment: Deployment) -> None:
    a = deployment.serve()
    assert a.subscribe("before@example.org").status == 200
    with psycopg.connect(deployment.url, autocommit=True) as db:
        killed = db.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
    assert killed and killed[0] >= 1
    assert health(a.request("GET", "/subscriptions/healthz")) == (200, {"status": "ok", "database": "ok"})
    assert a.subscribe("after@example.org").status == 200
    deployment.mail_to("after@example.org")
    assert "Traceback" not in a.errors()


def test_the_service_says_503_while_the_database_is_down_and_recovers(make_site: MakeSite, tmp_path: Path) -> None:
    """Its own server, stopped and started again under the running service."""
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    with running_server() as server, SmtpSink() as sink:
        deployment = Deployment(root, upgraded(server.create_database("down")), sink, tmp_path)
        a = deployment.serve()
        try:
            assert a.subscribe("before@example.org").status == 200
            pg_ctl(server, "stop")
            down = a.request("GET", "/subscriptions/healthz")
            assert health(down) == (503, {"status": "unavailable", "database": "unreachable"})
            assert "postgresql" not in down.text and "127.0.0.1" not in down.text
            refused = a.subscribe("during@example.org")
            assert refused.status == 503 and "Temporarily unavailable" in refused.text
            assert refused.header("Retry-After") == "30" and refused.header("Content-Security-Policy")
            pg_ctl(server, "start")
            a.wait_until(lambda reply: reply.status == 200, "back after the database restarted")
            assert a.subscribe("after@example.org").status == 200
            deployment.mail_to("after@example.org")
            log = a.errors()
            assert "Traceback" not in log and "did not answer" in log
            assert not any(line[:1].isspace() for line in log.splitlines())  # one line per event
        finally:
            a.stop()


def pg_ctl(server: Server, action: str) -> None:
    """Stop or start the tests' server where it was (same folder, same port)."""
    command = [str(binaries() / "pg_ctl"), "-D", str(server.folder / "data"), "-w", "-t", "60"]
    if action == "stop":
        command += ["-m", "fast", "stop"]
    else:
        command += ["-l", str(server.folder / "server.log"), "-o",
                    f"-p {server.port} -k {server.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]
    subprocess.run(command, check=True, capture_output=True, cwd=server.folder, **_as_server_user())  # type: ignore[arg-type]
