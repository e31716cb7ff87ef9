"""`statusgen doctor`: every check against real parts (SMTP servers on 127.0.0.1 with
certificates made here, SQLite files, the site loader), and the same checks where
`subscriptions serve` starts."""

from __future__ import annotations

import io
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.handlers import Sink

from statusgen.site.advice import Advice
from statusgen.site.build import build
from statusgen.cli import main
from statusgen.database import redacted
from statusgen.doctor import Diagnosis, diagnose, report_lines
from statusgen.notifier import pgstore as notifier_pgstore
from statusgen.notifier.store import SqliteNotifyStore
from statusgen.subscriptions import pgstore as subscriptions_pgstore
from statusgen.notifier.preflight import Check
from statusgen import notify
from tests.conftest import MakeSite
from tests.pgserver import Server
from tests.smtpsink import LoopbackController
from tests.test_transport import certificate, only_status, server_tls, trusting  # noqa: F401 (a fixture)

SECRET = "s" * 32
SITE_YAML = """\
title: {en: Example status, nl: Voorbeeldstatus}
base_url: https://status.integratieplatform.nl/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions: {url: https://status.integratieplatform.nl/subscriptions/}
notify: {from: status@integratieplatform.nl, unsubscribe_mailto: leave@integratieplatform.nl}
"""
INCIDENT = """\
---
title: App sign-in fails
components: {dcc-app: major_outage}
updates:
  - {at: 2026-11-30 09:00, status: investigating, body: We are looking into it.}
---
"""
CLEAN = {f"STATUSGEN_SMTP_{name}": "" for name in ("HOST", "PORT", "SECURITY", "USER", "PASSWORD", "FROM")}
"""An environment without relay settings (an empty variable counts as unset)."""


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site({"content/site.yaml": SITE_YAML})


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set the process environment for a CLI run: no relay, no database, the secret, then `values`."""

    def set_(**values: str) -> None:
        for name, value in {**CLEAN, "STATUSGEN_DATABASE_URL": "", "STATUSGEN_SECRET_KEY": SECRET, **values}.items():
            monkeypatch.setenv(name, value)

    return set_


@pytest.fixture
def servers() -> Iterator[Callable[..., int]]:
    """Start an SMTP server on 127.0.0.1 with aiosmtpd `options`; returns its port."""
    started: list[LoopbackController] = []

    def start(**options: Any) -> int:
        controller = LoopbackController(Sink(), server_hostname="relay.test", **options)
        controller.start()
        started.append(controller)
        return controller.port

    yield start
    for controller in started:
        controller.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_env(port: int, security: str = "none", **more: str) -> dict[str, str]:
    return {"STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_SMTP_HOST": "127.0.0.1", "STATUSGEN_SMTP_PORT": str(port),
            "STATUSGEN_SMTP_SECURITY": security, **more}


# ── the whole run ─────────────────────────────────────────────────────────────────────

def test_a_ready_site_passes_and_says_so(site: Path, run_cli: Any, environment: Callable[..., None]) -> None:
    environment()
    code, out, err = run_cli("doctor", "--site", site)
    assert code == 0, err
    assert out.splitlines() == ["doctor: ready to notify by outbox: 6 checks passed (1 warning)"]
    assert err.splitlines() == [
        f"no subscription store at {site}/.statusgen/subscriptions.db: only subscribers.yaml is mailed, and "
        "unsubscribes made through the subscription service are not applied; set STATUSGEN_DATABASE_URL to the "
        "service's database, or STATUSGEN_SUBSCRIPTIONS_DB to its file"]
    code, out, _ = run_cli("doctor", "--site", site, "-v")
    assert out.splitlines() == [
        f"ok: site: {site}: 3 components, 0 incidents and maintenance windows published",
        "ok: mail settings: from status@integratieplatform.nl",
        "ok: secret key: STATUSGEN_SECRET_KEY is set",
        f"ok: notifier store: {site}/.statusgen/notify.db (missing)",
        f"ok: subscription store: none at {site}/.statusgen/subscriptions.db",
        "ok: trusted proxies: 0 (STATUSGEN_TRUSTED_PROXIES)",
        "doctor: ready to notify by outbox: 6 checks passed (1 warning)"]
    assert not (site / ".statusgen").exists()  # the doctor writes nothing


def test_a_folder_that_is_not_a_site(tmp_path: Path, run_cli: Any) -> None:
    code, out, err = run_cli("doctor", "--site", tmp_path)
    assert code == 1
    assert err.splitlines() == [f"no content/site.yaml in {tmp_path}: this folder is not a statusgen site; pass "
                                "--site DIR with the site's folder, or create a site with `statusgen init DIR`"]
    assert out.splitlines() == ["doctor: 1 problem: fix them before `statusgen notify`, which stops at the same ones"]


def test_content_errors_are_reported_as_check_reports_them(site: Path, run_cli: Any,
                                                            environment: Callable[..., None]) -> None:
    environment()
    (site / "incidents" / "bad.md").write_text(INCIDENT.replace("investigating", "fixed"))
    code, _, err = run_cli("doctor", "--site", site)
    assert code == 1
    assert err.splitlines()[0] == ("incidents/bad.md:5: status: expected one of investigating, identified, "
                                   "monitoring, resolved; found 'fixed'")


def test_every_setting_to_fix_at_once_each_naming_the_setting(site: Path) -> None:
    env = {"STATUSGEN_SMTP_SECURITY": "ssl", "STATUSGEN_SMTP_PORT": "smtp", "STATUSGEN_SMTP_USER": "status"}
    assert diagnose(site, "smtp", env=env).problems == [
        "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: subscriptions.url is set in "
        "content/site.yaml, and the secret signs every unsubscribe and manage link in the emails and the "
        "subscription service's pages; it is not set",
        "no SMTP server: set STATUSGEN_SMTP_HOST (or notify.smtp.host in content/site.yaml); found "
        "STATUSGEN_SMTP_PORT, STATUSGEN_SMTP_SECURITY, STATUSGEN_SMTP_USER without it",
        "STATUSGEN_SMTP_SECURITY: expected one of none, starttls, tls; found 'ssl' (did you mean 'tls'?)",
        "STATUSGEN_SMTP_PORT: expected a port number from 1 to 65535; found 'smtp'",
        "STATUSGEN_SMTP_USER is set but STATUSGEN_SMTP_PASSWORD is not: set both or neither"]


def test_a_short_secret_a_missing_sender_and_no_way_to_unsubscribe(make_site: MakeSite) -> None:
    root = make_site({"content/site.yaml": SITE_YAML.replace(
        "subscriptions: {url: https://status.integratieplatform.nl/subscriptions/}\n", "").replace(
        "notify: {from: status@integratieplatform.nl, unsubscribe_mailto: leave@integratieplatform.nl}", "")})
    assert diagnose(root, env={"STATUSGEN_SECRET_KEY": "short"}).problems == [
        "no sender address: set notify.from in content/site.yaml or STATUSGEN_SMTP_FROM",
        "every email needs a way to unsubscribe: set subscriptions.url or notify.unsubscribe_mailto in "
        "content/site.yaml"]
    with_url = make_site({"content/site.yaml": SITE_YAML}, name="other")
    assert diagnose(with_url, env={"STATUSGEN_SECRET_KEY": "short"}).problems == [
        "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: subscriptions.url is set in "
        "content/site.yaml, and the secret signs every unsubscribe and manage link in the emails and the "
        "subscription service's pages; it has 5 characters"]


# ── the relay, reached as a delivery reaches it ───────────────────────────────────────

def problems_with(settings: dict[str, str], site: Path, trust: ssl.SSLContext | None = None,
                  timeout: float = 5) -> list[str]:
    diagnosis = diagnose(site, "smtp", env={"STATUSGEN_SECRET_KEY": SECRET, **settings}, tls_context=trust,
                         timeout=timeout, local_hostname="localhost")
    return diagnosis.problems


def test_a_plain_relay_that_answers_passes(site: Path, servers: Callable[..., int]) -> None:
    port = servers()
    diagnosis = diagnose(site, "smtp", env=smtp_env(port), local_hostname="localhost")
    assert diagnosis.ok
    relay = next(check for check in diagnosis.checks if check.name == "SMTP relay")
    assert relay.found == f"127.0.0.1:{port} answers"


def test_starttls_and_login_with_a_trusted_certificate_pass(site: Path, servers: Callable[..., int],
                                                             certificate: tuple[Path, Path]) -> None:
    port = servers(tls_context=server_tls(certificate), require_starttls=True, auth_required=True,
                   authenticator=only_status)
    env = smtp_env(port, "starttls", STATUSGEN_SMTP_USER="status", STATUSGEN_SMTP_PASSWORD="s3cret")
    assert problems_with(env, site, trusting(certificate)) == []


def test_tls_from_the_first_byte_passes(site: Path, servers: Callable[..., int],
                                        certificate: tuple[Path, Path]) -> None:
    port = servers(ssl_context=server_tls(certificate))
    assert problems_with(smtp_env(port, "tls"), site, trusting(certificate)) == []


def test_a_wrong_password(site: Path, servers: Callable[..., int], certificate: tuple[Path, Path]) -> None:
    port = servers(tls_context=server_tls(certificate), require_starttls=True, auth_required=True,
                   authenticator=only_status)
    env = smtp_env(port, "starttls", STATUSGEN_SMTP_USER="status", STATUSGEN_SMTP_PASSWORD="wrong")
    assert problems_with(env, site, trusting(certificate)) == [
        f"STATUSGEN_SMTP_USER / STATUSGEN_SMTP_PASSWORD: 127.0.0.1:{port} refused the login "
        "(535 5.7.8 Authentication credentials invalid); check both"]


def test_a_certificate_this_machine_does_not_trust(site: Path, servers: Callable[..., int],
                                                   certificate: tuple[Path, Path]) -> None:
    port = servers(tls_context=server_tls(certificate), require_starttls=True)
    [problem] = problems_with(smtp_env(port, "starttls"), site)  # the system's authorities only
    assert problem == (f"STATUSGEN_SMTP_CA_FILE: the TLS certificate of 127.0.0.1:{port} is not trusted "
                       "(certificate verify failed: self-signed certificate); if the relay's certificate is meant to "
                       "be private or self-signed, set STATUSGEN_SMTP_CA_FILE (or notify.smtp.ca_file) to a PEM file "
                       "holding it or the authority that issued it")


def test_tls_against_a_relay_that_starts_in_plain_text(site: Path, servers: Callable[..., int]) -> None:
    port = servers()
    assert problems_with(smtp_env(port, "tls"), site) == [
        f"STATUSGEN_SMTP_SECURITY=tls: the TLS handshake with 127.0.0.1:{port} failed (WRONG_VERSION_NUMBER); "
        "set STATUSGEN_SMTP_SECURITY=starttls if the relay starts without TLS (usually port 587)"]


def test_starttls_that_the_relay_does_not_offer(site: Path, servers: Callable[..., int]) -> None:
    port = servers()
    assert problems_with(smtp_env(port, "starttls"), site) == [
        f"STATUSGEN_SMTP_SECURITY=starttls: 127.0.0.1:{port} does not offer STARTTLS; set "
        "STATUSGEN_SMTP_SECURITY=tls if it speaks TLS from the first byte (usually port 465), or check "
        "STATUSGEN_SMTP_PORT"]


def test_a_login_the_relay_offers_only_over_tls(site: Path, servers: Callable[..., int]) -> None:
    port = servers(authenticator=only_status)  # aiosmtpd, like most relays, offers AUTH only after STARTTLS
    env = smtp_env(port, STATUSGEN_SMTP_USER="status", STATUSGEN_SMTP_PASSWORD="s3cret")
    assert problems_with(env, site) == [
        f"STATUSGEN_SMTP_SECURITY=none: 127.0.0.1:{port} offers no login (AUTH) on this connection; relays "
        "usually offer it only over TLS: set STATUSGEN_SMTP_SECURITY=starttls or tls, or unset STATUSGEN_SMTP_USER "
        "and STATUSGEN_SMTP_PASSWORD if the relay needs no login"]


def test_a_closed_port(site: Path) -> None:
    port = closed_port()
    assert problems_with(smtp_env(port), site) == [
        f"STATUSGEN_SMTP_PORT: 127.0.0.1:{port} refused the connection; check STATUSGEN_SMTP_HOST and "
        "STATUSGEN_SMTP_PORT (usually 587 with starttls, 465 with tls)"]


def test_a_relay_that_never_answers_is_given_up_on_quickly(site: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        assert problems_with(smtp_env(port), site, timeout=0.3) == [
            f"STATUSGEN_SMTP_HOST: no answer from 127.0.0.1:{port} within 0.3 s (STATUSGEN_SMTP_TIMEOUT or "
            "notify.smtp.timeout: the seconds the relay has for each answer); check STATUSGEN_SMTP_HOST and "
            "STATUSGEN_SMTP_PORT, that this machine may reach it, and STATUSGEN_SMTP_SECURITY (none: a relay on "
            "port 465 expects tls)"]


def test_the_command_line_trusts_what_the_system_trusts(site: Path, run_cli: Any, servers: Callable[..., int],
                                                        certificate: tuple[Path, Path],
                                                        environment: Callable[..., None]) -> None:
    port = servers(tls_context=server_tls(certificate), require_starttls=True, auth_required=True,
                   authenticator=only_status)
    settings = smtp_env(port, "starttls", STATUSGEN_SMTP_USER="status", STATUSGEN_SMTP_PASSWORD="s3cret")
    environment(**settings)
    code, _, err = run_cli("doctor", "--site", site, "--transport", "smtp")
    assert code == 1 and f"the TLS certificate of 127.0.0.1:{port} is not trusted" in err
    environment(**settings, SSL_CERT_FILE=str(certificate[0]))  # OpenSSL's own way to add an authority
    code, out, err = run_cli("doctor", "--site", site, "--transport", "smtp", "-v")
    assert code == 0, err
    assert (f"ok: SMTP settings: 127.0.0.1:{port}, security starttls, login as status, no rate limit "
            "(notify.smtp.rate or STATUSGEN_SMTP_RATE: the relay's messages per second)") in out.splitlines()
    assert f"ok: SMTP relay: 127.0.0.1:{port} answers and accepts the login" in out.splitlines()
    assert out.splitlines()[-1] == "doctor: ready to notify by smtp: 8 checks passed (1 warning)"


# ── the stores ────────────────────────────────────────────────────────────────────────

def test_a_lost_notifier_store_on_a_site_with_incidents(site: Path, run_cli: Any,
                                                        environment: Callable[..., None]) -> None:
    environment()
    (site / "incidents" / "app.md").write_text(INCIDENT)
    code, _, err = run_cli("doctor", "--site", site)
    assert code == 1
    assert err.splitlines()[0] == (
        f"the notifier store {site}/.statusgen/notify.db is missing but the site already has 1 incidents and "
        "maintenance windows: after losing the store, run `statusgen notify --since TIME` once to announce what "
        "changed after TIME (when the store was last saved), or `statusgen notify --baseline` to record what is "
        "there now without sending; or pass --store with the store you have")
    build(site, site / "public", "2026-11-30T10:00:00+01:00")
    notify(site, baseline=True, env={"STATUSGEN_SECRET_KEY": SECRET}, stream=io.StringIO())
    assert run_cli("doctor", "--site", site)[0] == 0


def test_a_file_that_is_not_a_store(site: Path, run_cli: Any, environment: Callable[..., None]) -> None:
    environment()
    (site / "notes.db").write_text("not a database\n" * 100)
    code, _, err = run_cli("doctor", "--site", site, "--store", site / "notes.db")
    assert code == 1
    assert err.splitlines()[0] == (f"the notifier store {site}/notes.db cannot be read (file is not a database); "
                                   "pass --store with the right file, or move this one away")


def test_a_subscription_store_that_cannot_be_read(site: Path, run_cli: Any, environment: Callable[..., None],
                                                  tmp_path: Path) -> None:
    broken = tmp_path / "subscriptions.db"
    broken.write_text("not a database\n" * 100)
    environment(STATUSGEN_SUBSCRIPTIONS_DB=str(broken))
    code, _, err = run_cli("doctor", "--site", site)
    assert code == 1
    assert err.splitlines()[0] == (f"STATUSGEN_SUBSCRIPTIONS_DB: the subscription store {broken} cannot be read: "
                                   "file is not a database")


# ── both stores in PostgreSQL (--db URL or STATUSGEN_DATABASE_URL) ─────────────────────

def upgraded(url: str) -> str:
    assert main(["db", "upgrade", "--db", url]) == 0
    return url


def test_with_a_database_the_doctor_checks_it_instead_of_the_files(site: Path, run_cli: Any, database_url: str,
                                                                   environment: Callable[..., None],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    environment(STATUSGEN_DATABASE_URL=upgraded(database_url))
    capsys.readouterr()
    shown = redacted(database_url)
    code, out, err = run_cli("doctor", "--site", site, "-v")
    assert code == 0 and "subscriptions.db" not in err  # no warning about a missing file: the database has it
    assert out.splitlines() == [
        f"ok: site: {site}: 3 components, 0 incidents and maintenance windows published",
        f"ok: database: {shown} answers; the notifier and subscriptions schemas are current",
        "ok: mail settings: from status@integratieplatform.nl",
        "ok: secret key: STATUSGEN_SECRET_KEY is set",
        f"ok: notifier store: {shown} (empty)",
        f"ok: subscription store: {shown} (PostgreSQL)",
        "ok: trusted proxies: 0 (STATUSGEN_TRUSTED_PROXIES)",
        "doctor: ready to notify by outbox: 7 checks passed"]
    assert "statusgen-test" not in out and not (site / ".statusgen").exists()


def test_a_database_without_the_schema_names_the_command_to_run(site: Path, run_cli: Any, database_url: str,
                                                                environment: Callable[..., None]) -> None:
    environment()
    code, out, err = run_cli("doctor", "--site", site, "--db", database_url)
    shown = redacted(database_url)
    assert code == 1
    needs = {store.STORE: len(store.MIGRATIONS) for store in (notifier_pgstore, subscriptions_pgstore)}
    assert err.splitlines() == [f"--db: the database {shown} has {name} schema version 0, this statusgen needs "
                                f"{version}: run `statusgen db upgrade`" for name, version in needs.items()]
    assert out.splitlines() == ["doctor: 2 problems: fix them before `statusgen notify`, which stops at the same ones"]
    with psycopg.connect(database_url) as db:  # the doctor created nothing
        assert db.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)


def test_an_empty_notifier_store_in_the_database_counts_as_lost(site: Path, run_cli: Any, database_url: str,
                                                                environment: Callable[..., None],
                                                                tmp_path: Path) -> None:
    environment()
    (site / "incidents" / "app.md").write_text(INCIDENT)
    code, _, err = run_cli("doctor", "--site", site, "--store", upgraded(database_url))  # --store URL = --db URL
    assert code == 1
    assert err.splitlines() == [
        f"the notifier store {redacted(database_url)} is empty but the site already has 1 incidents and maintenance "
        "windows: after losing the store, run `statusgen notify --since TIME` once to announce what changed after "
        "TIME (when the store was last saved), or `statusgen notify --baseline` to record what is there now without "
        "sending; or pass --store with the store you have"]
    kept = SqliteNotifyStore(tmp_path / "notify.db")  # the store a deployment had: moved with db copy
    kept.record_baseline({"incident:app"}, {"incidents": {}})
    kept.close()
    assert run_cli("db", "copy", "--site", site, "--to", database_url, "--store", tmp_path / "notify.db")[0] == 0
    code, out, err = run_cli("doctor", "--site", site, "--db", database_url, "-v")
    assert code == 0, err
    assert f"ok: notifier store: {redacted(database_url)} (baselined)" in out.splitlines()


def test_a_wrong_password_is_one_line_naming_the_setting_without_the_password(
        site: Path, run_cli: Any, postgres: Server, environment: Callable[..., None]) -> None:
    url = postgres.url(password="not-the-password")
    environment(STATUSGEN_DATABASE_URL=url)
    code, out, err = run_cli("doctor", "--site", site)
    assert code == 1 and "not-the-password" not in out + err
    [line] = err.splitlines()
    assert line.startswith(f"STATUSGEN_DATABASE_URL: cannot connect to the database postgresql://statusgen:***@"
                           f"127.0.0.1:{postgres.port}/postgres: ")
    assert 'password authentication failed for user "statusgen"' in line


def test_a_database_that_refuses_the_connection(site: Path, run_cli: Any, environment: Callable[..., None]) -> None:
    environment()
    url = f"postgresql://statusgen:secret-pw@127.0.0.1:{closed_port()}/statusgen"
    code, _, err = run_cli("doctor", "--site", site, "--db", url)
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(f"--db: cannot connect to the database {redacted(url)}: ") and "secret-pw" not in line
    assert "Connection refused" in line or "connection refused" in line.lower()


def test_a_database_that_never_answers_is_given_up_on_quickly(site: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections (the kernel does) and never says a word
        url = f"postgresql://statusgen:pw@127.0.0.1:{silent.getsockname()[1]}/statusgen"
        started = time.monotonic()
        diagnosis = diagnose(site, env={"STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_DATABASE_URL": url}, timeout=2)
        assert time.monotonic() - started < 8
    assert diagnosis.problems == [f"STATUSGEN_DATABASE_URL: cannot connect to the database {redacted(url)}: "
                                  "connection timeout expired"]


def test_a_database_url_that_is_not_postgresql(site: Path, run_cli: Any, environment: Callable[..., None]) -> None:
    environment(STATUSGEN_DATABASE_URL="mysql://status:pw@db.example.org/status")
    code, _, err = run_cli("doctor", "--site", site)
    assert code == 1
    assert err.splitlines() == ["STATUSGEN_DATABASE_URL: expected a URL such as postgresql://user@host:5432/statusgen; "
                                "found 'mysql://status:***@db.example.org/status'"]


# ── what is printed ───────────────────────────────────────────────────────────────────

def test_warnings_are_shown_and_do_not_fail() -> None:
    diagnosis = Diagnosis((Check("site", found="fine"),), (Advice("content/site.yaml", 2, "a likely mistake"),))
    assert diagnosis.ok
    assert report_lines(diagnosis, "outbox") == (["content/site.yaml:2: warning: a likely mistake"],
                                                 ["doctor: ready to notify by outbox: 1 checks passed (1 warning)"])
    failing = Diagnosis((Check("site", ("one", "two")),), diagnosis.advice)
    assert report_lines(failing, "smtp", verbose=True) == (
        ["one", "two", "content/site.yaml:2: warning: a likely mistake"],
        ["doctor: 2 problems and 1 warning: fix them before `statusgen notify`, which stops at the same ones"])


# ── the same checks where the subscription service starts ─────────────────────────────

def test_subscriptions_serve_names_every_setting_to_fix_before_it_starts(
        site: Path, run_cli: Any, environment: Callable[..., None]) -> None:
    environment(STATUSGEN_SECRET_KEY="", STATUSGEN_SMTP_HOST="smtp.example.org", STATUSGEN_SMTP_USER="status")
    code, _, err = run_cli("subscriptions", "serve", "--site", site, "--port", "0")
    assert code == 1
    assert err.splitlines() == [
        "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: subscriptions.url is set in "
        "content/site.yaml, and the secret signs every unsubscribe and manage link in the emails and the "
        "subscription service's pages; it is not set",
        "STATUSGEN_SMTP_USER is set but STATUSGEN_SMTP_PASSWORD is not: set both or neither",
        "statusgen: 2 settings to fix; nothing was done (`statusgen doctor` checks them all)"]
    assert not (site / ".statusgen").exists()


def test_subscriptions_serve_needs_a_store_it_can_create(site: Path, run_cli: Any,
                                                         environment: Callable[..., None], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    environment(STATUSGEN_SUBSCRIPTIONS_DB=str(tmp_path / "a-file" / "subscriptions.db"))
    code, _, err = run_cli("subscriptions", "serve", "--site", site, "--port", "0")
    assert code == 1
    assert err.splitlines()[0] == (f"STATUSGEN_SUBSCRIPTIONS_DB: the subscription store {tmp_path}/a-file/"
                                   f"subscriptions.db cannot be created ({tmp_path}/a-file is not a writable "
                                   "folder); set STATUSGEN_SUBSCRIPTIONS_DB or --db")
