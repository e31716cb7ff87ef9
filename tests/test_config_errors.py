"""Configuration errors name the fix (issue 16, item 4): for every setting and variable,
each way it can be wrong gives a message naming the exact setting to change and what was
found, with the exit code, before any work (nothing sent, nothing written).

The commands run as a user runs them: `python -m statusgen` in a subprocess where the
output on the terminal is the point, `cli.main` in-process elsewhere; the service and the
relay are real (waitress on 127.0.0.1, tests/smtpsink.py).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from statusgen.site.build import build
from tests.conftest import COMPONENTS_YAML, MakeSite
from tests.pgserver import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "a test secret, long enough"
NOW = "2026-11-30T10:00:00+01:00"
SITE_YAML = """\
title: {en: Example status, nl: Voorbeeldstatus}
base_url: https://status.acme.eu/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions:
  url: https://status.acme.eu/subscriptions/
notify:
  from: status@acme.eu
"""
INCIDENT = """\
---
title: App sign-in fails
type: incident
components: {dcc-app: major_outage}
updates:
  - at: 2026-11-30 09:00
    status: investigating
    body: We are looking into it.
---
"""
SUBSCRIBERS = "- email: partner@acme.eu\n"
RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the settings a test names: none from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("STATUSGEN_"):
            monkeypatch.delenv(name)


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    """A site with a subscription service, one incident published and built."""
    root = make_site({"content/site.yaml": SITE_YAML, "components.yaml": COMPONENTS_YAML,
                      "incidents/app.md": INCIDENT, "subscribers.yaml": SUBSCRIBERS})
    build(root, root / "public", NOW)
    return root


def statusgen(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120) -> \
        subprocess.CompletedProcess[str]:
    """`python -m statusgen ARGS` as a user runs it, with only `env`'s STATUSGEN_* settings."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("STATUSGEN_")}
    return subprocess.run([sys.executable, "-m", "statusgen", *map(str, args)], capture_output=True, text=True,
                          env={**clean, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=timeout, check=False)


@pytest.fixture
def run(run_cli: RunCli) -> RunCli:
    """`statusgen ARGS` with the environment of the test: in-process, but `subscriptions
    serve` in a process of its own with a time limit, since one that wrongly accepts its
    settings serves for ever (the limit is a safety net, not a measurement)."""

    def run_command(*args: str | Path) -> tuple[int, str, str]:
        if args[:2] != ("subscriptions", "serve"):
            return run_cli(*args)
        try:
            done = statusgen(*args, env={k: v for k, v in os.environ.items() if k.startswith("STATUSGEN_")},
                             timeout=60)
        except subprocess.TimeoutExpired:
            return -1, "", "the service started: its settings were accepted"
        return done.returncode, done.stdout, done.stderr

    return run_command


def nothing_done(root: Path) -> bool:
    """No email in the outbox, no notifier store, no subscription store: nothing started."""
    state = root / ".statusgen"
    return not (state / "outbox").exists() and not (state / "notify.db").exists() \
        and not (state / "subscriptions.db").exists()


# ── the bug a new user found ────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("secret", "found"), [(None, "it is not set"), ("", "it is not set"),
                                               ("short", "it has 5 characters")])
def test_notify_names_the_missing_secret_and_does_not_blame_subscriptions_url(site: Path, secret: str | None,
                                                                              found: str) -> None:
    """Issue 16: with subscriptions.url set and STATUSGEN_SECRET_KEY missing, notify said
    "every email needs a way to unsubscribe: set subscriptions.url or notify.unsubscribe_mailto"."""
    done = statusgen("notify", "--site", site, env={} if secret is None else {"STATUSGEN_SECRET_KEY": secret})
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == ("STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: subscriptions.url is set "
                        "in content/site.yaml, and the secret signs every unsubscribe and manage link in the emails "
                        f"and the subscription service's pages; {found}")
    assert "way to unsubscribe" not in done.stderr and "set subscriptions.url" not in done.stderr
    assert lines[-1].startswith("statusgen: ") and "nothing was done" in lines[-1]
    assert nothing_done(site)


# ── the secret, for every command that needs it ─────────────────────────────────────────

@pytest.mark.parametrize("secret", ["", "fifteen chars!!"])
@pytest.mark.parametrize(("command", "code", "expected"), [
    (("notify",), 1, "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: subscriptions.url"),
    (("subscriptions", "serve", "--port", "0"), 1,
     "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: subscriptions.url"),
    (("doctor",), 1, "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: subscriptions.url"),
    (("subscribers", "secret", "abcdefghijkl"), 2,
     "statusgen: STATUSGEN_SECRET_KEY: the webhooks' signing secrets are derived from it"),
])
def test_every_command_that_needs_the_secret_names_it_and_what_it_found(
        site: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...], code: int,
        expected: str, secret: str) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", secret)
    exit_code, _, err = run(*command, "--site", site)
    assert exit_code == code, err
    line = next(line for line in err.splitlines() if "STATUSGEN_SECRET_KEY" in line)
    assert line.startswith(expected)
    assert line.endswith("it is not set" if not secret else "it has 15 characters")
    assert secret not in line or not secret  # the key itself is never shown
    assert nothing_done(site)


# ── the SMTP relay, half set ────────────────────────────────────────────────────────────

SMTP_CASES = [
    ({"STATUSGEN_SMTP_HOST": "relay.acme.eu", "STATUSGEN_SMTP_USER": "status"},
     "STATUSGEN_SMTP_USER is set but STATUSGEN_SMTP_PASSWORD is not: set both or neither"),
    ({"STATUSGEN_SMTP_HOST": "relay.acme.eu", "STATUSGEN_SMTP_PASSWORD": "pw"},
     "STATUSGEN_SMTP_PASSWORD is set but STATUSGEN_SMTP_USER is not: set both or neither"),
    ({"STATUSGEN_SMTP_PORT": "587"},
     "no SMTP server: set STATUSGEN_SMTP_HOST (or notify.smtp.host in content/site.yaml); found "
     "STATUSGEN_SMTP_PORT without it"),
    ({"STATUSGEN_SMTP_SECURITY": "starttls", "STATUSGEN_SMTP_USER": "status", "STATUSGEN_SMTP_PASSWORD": "pw"},
     "no SMTP server: set STATUSGEN_SMTP_HOST (or notify.smtp.host in content/site.yaml); found "
     "STATUSGEN_SMTP_SECURITY, STATUSGEN_SMTP_USER, STATUSGEN_SMTP_PASSWORD without it"),
    ({"STATUSGEN_SMTP_HOST": "relay.acme.eu", "STATUSGEN_SMTP_SECURITY": "ssl"},
     "STATUSGEN_SMTP_SECURITY: expected one of none, starttls, tls; found 'ssl' (did you mean 'tls'?)"),
    ({"STATUSGEN_SMTP_HOST": "relay.acme.eu", "STATUSGEN_SMTP_PORT": "70000"},
     "STATUSGEN_SMTP_PORT: expected a port number from 1 to 65535; found '70000'"),
    ({"STATUSGEN_SMTP_HOST": "relay.acme.eu", "STATUSGEN_SMTP_RATE": "0"},
     "STATUSGEN_SMTP_RATE: expected the relay's limit in messages per second, a number above 0 such as 14 or 0.5; "
     "found '0'"),
    ({"STATUSGEN_SMTP_HOST": "relay.acme.eu", "STATUSGEN_SMTP_RATE": "-3"},
     "STATUSGEN_SMTP_RATE: expected the relay's limit in messages per second, a number above 0 such as 14 or 0.5; "
     "found '-3'"),
]


@pytest.mark.parametrize(("env", "expected"), SMTP_CASES)
@pytest.mark.parametrize("command", [("notify", "--transport", "smtp"), ("subscriptions", "serve", "--port", "0"),
                                     ("doctor",), ("doctor", "--transport", "smtp")])
def test_smtp_settings_half_set_are_named_by_every_command_that_mails(
        site: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str,
        command: tuple[str, ...]) -> None:
    """The service used to ignore a relay without a host and write to the outbox; doctor
    without --transport smtp passed settings the service then refused."""
    for name, value in {"STATUSGEN_SECRET_KEY": SECRET, **env}.items():
        monkeypatch.setenv(name, value)
    code, _, err = run(*command, "--site", site)
    assert code == 1, err
    assert expected in err.splitlines()
    assert "pw" not in err  # a password is never shown
    assert nothing_done(site)


@pytest.mark.parametrize(("sender", "found"), [
    ("nobody", "'nobody'"),
    ("status@", "'status@'"),
    ("status@acme.eu, boss@acme.eu", "'status@acme.eu, boss@acme.eu'"),
    ("Status status@acme.eu", "'Status status@acme.eu'"),
])
@pytest.mark.parametrize("command", [("notify",), ("subscriptions", "serve", "--port", "0"), ("doctor",)])
def test_a_malformed_sender_in_the_environment_is_named(site: Path, run: RunCli,
                                                         monkeypatch: pytest.MonkeyPatch, sender: str, found: str,
                                                         command: tuple[str, ...]) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    monkeypatch.setenv("STATUSGEN_SMTP_FROM", sender)
    code, _, err = run(*command, "--site", site)
    assert code == 1, err
    assert (f"STATUSGEN_SMTP_FROM: expected an email address such as 'status@example.org' or "
            f"'Status <status@example.org>'; found {found}") in err.splitlines()
    assert nothing_done(site)


def test_a_sender_with_a_line_break_never_reaches_a_header(site: Path) -> None:
    done = statusgen("notify", "--site", site, env={"STATUSGEN_SECRET_KEY": SECRET,
                                                     "STATUSGEN_SMTP_FROM": "status@acme.eu\r\nBcc: all@acme.eu"})
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == ("STATUSGEN_SMTP_FROM: expected one email address on one line; found a "
                                           "line break")
    assert nothing_done(site)


def test_a_good_sender_with_a_name_passes(site: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    monkeypatch.setenv("STATUSGEN_SMTP_FROM", '"Acme, status" <status@acme.eu>')
    code, _, err = run_cli("notify", "--site", site, "--baseline")
    assert code == 0, err  # the baseline is recorded: no problem with the sender
    assert "STATUSGEN_SMTP_FROM" not in err



@pytest.mark.parametrize("relay", [{"STATUSGEN_SMTP_HOST": "relay.acme.eu"}, {"STATUSGEN_SMTP_PASSWORD": "hunter2"}, {}])
def test_a_relay_set_but_the_outbox_chosen_is_named(site: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch,
                                                    relay: dict[str, str]) -> None:
    """Secrets for a relay in CI and `notify` without `--transport smtp`: nothing would be
    sent, which must not pass for a successful run."""
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    for name, value in relay.items():
        monkeypatch.setenv(name, value)
    code, _, err = run_cli("notify", "--site", site, "--baseline")
    assert code == 0, err
    if relay:
        assert f"a relay is set ({next(iter(relay))}) but this run writes its emails to the outbox" in err
        assert "add --transport smtp to send them" in err and "hunter2" not in err
    else:
        assert "a relay is set" not in err

# ── content/site.yaml: named at its line by check ───────────────────────────────────────

@pytest.mark.parametrize(("notify", "expected"), [
    ("notify:\n  from: status\n",
     "content/site.yaml:8: notify.from: expected an email address such as 'status@example.org' or "
     "'Status <status@example.org>'; found 'status'"),
    ("notify:\n  from: status@acme.eu\n  unsubscribe_mailto: Leave <leave@acme.eu>\n",
     "content/site.yaml:9: notify.unsubscribe_mailto: expected a bare address such as "
     "'status-unsubscribe@example.org' (it becomes a mailto: link); found 'Leave <leave@acme.eu>'"),
    ("notify:\n  from: status@acme.eu\n  unsubscribe_mailto: leave at acme.eu\n",
     "content/site.yaml:9: notify.unsubscribe_mailto: expected an email address such as 'status@example.org' or "
     "'Status <status@example.org>'; found 'leave at acme.eu'"),
    ("notify:\n  from: status@acme.eu\n  smtp: {host: relay.acme.eu, password: hunter2}\n",
     "content/site.yaml:9: notify.smtp.password: secrets come from the environment (STATUSGEN_SMTP_USER, "
     "STATUSGEN_SMTP_PASSWORD), never from files in git; remove it"),
    ("notify:\n  from: status@acme.eu\n  smtp: {host: relay.acme.eu, user: ops}\n",
     "content/site.yaml:9: notify.smtp.user: secrets come from the environment (STATUSGEN_SMTP_USER, "
     "STATUSGEN_SMTP_PASSWORD), never from files in git; remove it"),
    ("notify:\n  from: status@acme.eu\n  smtp: {host: relay.acme.eu, rate: 0}\n",
     "content/site.yaml:9: notify.smtp.rate: expected the relay's limit in messages per second, a number above 0 "
     "such as 14 or 0.5; found 0"),
])
def test_a_malformed_notify_setting_is_named_at_its_line(make_site: MakeSite, run_cli: RunCli, notify: str,
                                                          expected: str) -> None:
    root = make_site({"content/site.yaml": SITE_YAML.replace("notify:\n  from: status@acme.eu\n", notify)})
    code, _, err = run_cli("check", "--site", root)
    assert code == 1, err
    assert expected in err.splitlines()
    assert "hunter2" not in err


# ── published URLs without TLS ──────────────────────────────────────────────────────────

@pytest.mark.parametrize(("key", "expected"), [
    ("base_url", "content/site.yaml:2: warning: base_url: 'http://status.acme.eu/' is plain http: browsers mark "
                 "every page 'not secure', and a network in between may change what readers see; publish over TLS "
                 "and set base_url to 'https://status.acme.eu/'"),
    ("subscriptions.url", "content/site.yaml:6: warning: subscriptions.url: 'http://status.acme.eu/subscriptions/' is "
                          "plain http: addresses, signed links and the forms' tokens cross the network readable; "
                          "publish over TLS and set subscriptions.url to 'https://status.acme.eu/subscriptions/'"),
])
def test_a_plain_http_url_for_publication_warns_naming_it(make_site: MakeSite, run_cli: RunCli, key: str,
                                                           expected: str) -> None:
    written = SITE_YAML.replace("base_url: https:", "base_url: http:") if key == "base_url" \
        else SITE_YAML.replace("url: https://status.acme.eu/subscriptions/", "url: http://status.acme.eu/subscriptions/")
    root = make_site({"content/site.yaml": written, "components.yaml": COMPONENTS_YAML})
    code, _, err = run_cli("build", "--site", root, "--now", NOW)
    assert code == 0 and expected in err.splitlines(), err  # the build is published all the same
    code, _, err = run_cli("check", "--site", root, "--strict", "--now", NOW)
    assert code == 1 and expected in err.splitlines()  # CI that wants it can refuse it
    code, _, err = run_cli("doctor", "--site", root)
    assert expected in err.splitlines()


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000"])
def test_plain_http_on_this_machine_is_a_preview_not_a_mistake(make_site: MakeSite, run_cli: RunCli,
                                                                host: str) -> None:
    root = make_site({"content/site.yaml": SITE_YAML.replace("https://status.acme.eu/", f"http://{host}/")})
    code, _, err = run_cli("build", "--site", root, "--now", NOW)
    assert code == 0 and "plain http" not in err


# ── variables ───────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("typo", "meant"), [("STATUSGEN_SMTP_PASS", "STATUSGEN_SMTP_PASSWORD"),
                                             ("STATUSGEN_SECRET", "STATUSGEN_SECRET_KEY"),
                                             ("STATUSGEN_DATABASE", "STATUSGEN_DATABASE_URL"),
                                             ("STATUSGEN_TRUSTED_PROXY", "STATUSGEN_TRUSTED_PROXIES"),
                                             ("STATUSGEN_SMTP_SECURTY", "STATUSGEN_SMTP_SECURITY")])
def test_a_misspelt_variable_warns_naming_the_one_meant(site: Path, run_cli: RunCli,
                                                        monkeypatch: pytest.MonkeyPatch, typo: str, meant: str) -> None:
    monkeypatch.setenv(typo, "hunter2-value")
    monkeypatch.setenv("STATUSGEN_WEBHOOK_SECRET_PARTNER", "whsec_x")  # a webhook's: any name is right
    monkeypatch.setenv("STATUSGEN_PARTNER_DESK_KEY", "whsec_y")  # may be a secret_env: far from every setting
    code, _, err = run_cli("check", "--site", site, "--now", NOW)
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("environment:0:")]
    assert warnings == [f"environment:0: warning: {typo}: statusgen reads no such variable (did you mean {meant}?); "
                        f"{meant} is unset"]
    assert "hunter2" not in err


@pytest.mark.parametrize("value", ["abc", "-1", "11", "1.5"])
@pytest.mark.parametrize("command", [("subscriptions", "serve", "--port", "0"), ("doctor",)])
def test_trusted_proxies_out_of_range_stops_the_service_and_doctor_says_so(
        site: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch, value: str, command: tuple[str, ...]) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    monkeypatch.setenv("STATUSGEN_TRUSTED_PROXIES", value)
    code, _, err = run(*command, "--site", site)
    assert code == 1, err
    assert (f"STATUSGEN_TRUSTED_PROXIES: expected how many reverse proxies stand in front of the service, 0 to 10 "
            f"(0: none, clients connect to it directly); found {value!r}") in err.splitlines()
    assert nothing_done(site)


@pytest.mark.parametrize("command", [("notify",), ("subscriptions", "serve", "--port", "0"), ("doctor",),
                                     ("db", "upgrade")])
def test_a_malformed_database_url_is_named(site: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch,
                                           command: tuple[str, ...]) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    monkeypatch.setenv("STATUSGEN_DATABASE_URL", "mysql://status:hunter2@db.acme.eu/status")
    code, _, err = run(*command, *(("--site", site) if command[0] != "db" else ()))
    assert code in (1, 2), err
    assert any(line.endswith("STATUSGEN_DATABASE_URL: expected a URL such as postgresql://user@host:5432/statusgen; "
                             "found 'mysql://status:***@db.acme.eu/status'") for line in err.splitlines()), err
    assert "hunter2" not in err
    assert nothing_done(site)


@pytest.mark.parametrize("command", [("notify",), ("subscriptions", "serve", "--port", "0"), ("doctor",)])
def test_an_unreachable_database_is_named_once_with_its_variable(site: Path, run: RunCli,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 command: tuple[str, ...]) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    monkeypatch.setenv("STATUSGEN_DATABASE_URL", f"postgresql://status:hunter2@127.0.0.1:{free_port()}/status")
    code, _, err = run(*command, "--site", site)
    assert code == 1, err
    named = [line for line in err.splitlines() if "cannot connect to the database" in line]
    assert len(named) == 1, err  # one database for both stores: said once
    assert named[0].removeprefix("statusgen: ").startswith(
        "STATUSGEN_DATABASE_URL: cannot connect to the database postgresql://status:***@127.0.0.1:")
    assert "hunter2" not in err
    assert nothing_done(site)


# ── subscriptions.url against how the service is reached ────────────────────────────────

class RunningService:
    """`statusgen subscriptions serve` in a process of its own, on 127.0.0.1."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        clean = {name: value for name, value in os.environ.items() if not name.startswith("STATUSGEN_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "statusgen", "subscriptions", "serve", "--site", str(root), "--port",
             str(self.port)], env={**clean, "PYTHONPATH": str(ROOT), **env}, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60  # a safety net, not a measurement
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the service did not start: {self.stop()}") from None
                time.sleep(0.05)

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: str | None = None) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def stop(self) -> str:
        """SIGTERM (as systemd stops it); what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=60)
        return err


@pytest.fixture
def running(site: Path) -> Iterator[RunningService]:
    service = RunningService(site, {"STATUSGEN_SECRET_KEY": SECRET})
    try:
        yield service
    finally:
        service.stop()


def test_a_proxy_that_strips_the_path_prefix_is_named_once(running: RunningService) -> None:
    """The proxy forwards https://status.acme.eu/subscriptions/confirm as /confirm."""
    assert running.request("GET", "/confirm?token=abc") == 404
    assert running.request("GET", "/manage?token=abc") == 404
    assert running.request("GET", "/wp-login.php") == 404  # not one of the service's pages: no warning
    assert running.request("GET", "/subscriptions/subscribe") == 200  # where it should be: no warning
    err = running.stop()
    warnings = [line for line in err.splitlines() if "outside the path of subscriptions.url" in line]
    assert warnings == ["subscriptions: a request for /confirm is outside the path of subscriptions.url "
                        "(https://status.acme.eu/subscriptions/): a reverse proxy strips or adds a prefix, or "
                        "subscriptions.url in content/site.yaml names another path than the one the service is "
                        "reached at; every link in the emails and pages uses subscriptions.url, so make the two agree"]
    assert "token=abc" not in err


def test_a_service_reached_at_another_origin_is_named_once(running: RunningService) -> None:
    """Readers reach the service at http://127.0.0.1:PORT, but subscriptions.url says
    https://status.acme.eu/subscriptions/: its own forms are refused as cross-site."""
    own = f"http://127.0.0.1:{running.port}"
    form = {"Origin": own, "Content-Type": "application/x-www-form-urlencoded"}
    assert running.request("POST", "/subscriptions/subscribe", form, "email=reader%40acme.eu") == 403
    assert running.request("POST", "/subscriptions/subscribe", form, "email=reader%40acme.eu") == 403
    foreign = {**form, "Origin": "https://evil.example"}  # another site posting here: refused, and no hint
    assert running.request("POST", "/subscriptions/subscribe", foreign, "email=reader%40acme.eu") == 403
    err = running.stop()
    warnings = [line for line in err.splitlines() if "subscriptions.url in content/site.yaml says" in line]
    assert warnings == [f"subscriptions: a form was posted from {own}, the service's own address, but "
                        "subscriptions.url in content/site.yaml says https://status.acme.eu/subscriptions/: browsers "
                        "reach the service there, so its posts are refused as cross-site; set subscriptions.url to "
                        "the address readers use"]
    assert "reader@" not in err and "reader%40" not in err  # no address in the log


def test_the_typo_warning_knows_every_variable_statusgen_reads() -> None:
    """A variable the code reads but the warning does not know would be called a typo."""
    from statusgen.site.advice import VARIABLES, WEBHOOK_SECRETS

    package = Path(__file__).resolve().parent.parent / "statusgen"
    read = {name for path in package.rglob("*.py")
            for name in re.findall(r"STATUSGEN_[A-Z_]*[A-Z]", path.read_text(encoding="utf-8"))}
    read -= {"STATUSGEN_SMTP", WEBHOOK_SECRETS.rstrip("_")}  # prefixes, not variables
    read -= {name for name in read if name.startswith(WEBHOOK_SECRETS)}
    assert sorted(read - set(VARIABLES)) == []
