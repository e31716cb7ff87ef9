"""Warnings for likely mistakes: the exact `PATH:LINE: warning: message` lines that
`statusgen check` and `build` print (exit 0), `check --strict` (exit 1), and
`statusgen.site.advice.site_advice` itself, a pure function of the site, `now` and the
environment it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from statusgen.site.advice import Advice, is_placeholder_host, site_advice
from statusgen.site.build import resolve_now
from statusgen.content.load import load_site
from statusgen.content.model import Site
from tests.conftest import SITE_YAML, MakeSite
from tests.test_validation import incident, lines

NOW = "2026-11-30T12:00:00+01:00"
RunCli = Callable[..., tuple[int, str, str]]
REAL_SITE = SITE_YAML.replace("https://status.example.org/", "https://status.acme.eu/")
"""The fixture's settings (title 1, base_url 2, languages 3, timezone 4) at a real address."""
PLACEHOLDER = ("content/site.yaml:2: warning: base_url: 'https://status.example.org/' is at "
               "'status.example.org', a name reserved for examples: every page, feed, API document and "
               "email links to it; set the real URL")
FUTURE = incident(
    "title: Slow downloads",                        # 2
    "updates:",                                     # 3
    "  - at: 2026-11-29 09:00",                     # 4
    "    status: investigating",                    # 5
    "    body: Looking.",                           # 6
    "  - status: identified",                       # 7
    "    at: 2036-11-30 10:00",                     # 8: the year mistyped
    "    body: Found it.",                          # 9
)
UNRESOLVED = incident(
    "title: Lookup portal slow",                    # 2
    "updates:",                                     # 3
    "  - at: 2026-11-01 09:00",                     # 4
    "    status: investigating",                    # 5
    "    body: Looking.",                           # 6
    "  - at: 2026-11-02 10:00",                     # 7
    "    status: monitoring",                       # 8
    "    body: Better.",                            # 9
)


def advice(site_dir: Path, env: dict[str, str] | None = None, now: str = NOW) -> list[str]:
    site, _ = load_site(site_dir)
    return [str(a) for a in site_advice(site, resolve_now(site, now), env or {})]


def loaded(site_dir: Path) -> Site:
    return load_site(site_dir)[0]


# ── check and build print them ────────────────────────────────────────────────────────

def test_check_prints_warnings_and_exits_0_and_strict_makes_them_errors(make_site: MakeSite,
                                                                        run_cli: RunCli) -> None:
    site = make_site({"incidents/slow.md": FUTURE})
    future = ("incidents/slow.md:8: warning: at: 2036-11-30 10:00 is in the future (now is 2026-11-30 12:00): "
              "this update stays unpublished until then; check the year, and the clock of the machine that builds")
    code, out, err = run_cli("check", "--site", site, "--now", NOW)
    assert (code, out) == (0, "")
    assert err == (f"{PLACEHOLDER}\n{future}\n"
                   f"{site.resolve()}: 3 components, 1 incident, 0 maintenance windows, no errors, 2 warnings\n")
    code, out, err = run_cli("check", "--site", site, "--now", NOW, "--strict")
    assert (code, out) == (1, "")
    assert err == f"{PLACEHOLDER}\n{future}\n2 warnings; --strict makes them errors\n"
    code, _, err = run_cli("check", "-q", "--site", site, "--now", NOW)  # quiet hides the summary only
    assert (code, err) == (0, f"{PLACEHOLDER}\n{future}\n")


def test_a_site_without_warnings_passes_strict(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/site.yaml": REAL_SITE})
    code, _, err = run_cli("check", "--site", site, "--now", NOW, "--strict")
    assert (code, err) == (0, f"{site.resolve()}: 3 components, 0 incidents, 0 maintenance windows, no errors\n")


def test_check_counts_in_the_singular_and_plural(make_site: MakeSite, run_cli: RunCli) -> None:
    window = incident("title: Upgrade", "type: maintenance", "components: [lookup-portal]",
                      "window: {start: 2026-12-01 08:00, end: 2026-12-01 09:00}")
    site = make_site({"content/site.yaml": REAL_SITE, "components.yaml": "- {id: portal, name: Portal}\n",
                      "incidents/up.md": window, "incidents/up2.md": window.replace("lookup-portal", "portal")})
    code, _, err = run_cli("check", "--site", site, "--now", NOW)
    assert (code, err) == (1, "incidents/up.md:4: unknown component 'lookup-portal' (did you mean 'portal'?)\n"
                           "1 error\n")
    (site / "incidents" / "up.md").unlink()
    (site / "incidents" / "slow.md").write_text(UNRESOLVED.replace("2026-11-0", "2026-11-2"))
    code, _, err = run_cli("check", "--site", site, "--now", NOW)
    assert (code, err) == (0, f"{site.resolve()}: 1 component, 1 incident, 1 maintenance window, no errors\n")


def test_build_prints_the_warnings_and_still_succeeds(make_site: MakeSite, run_cli: RunCli,
                                                      tmp_path: Path) -> None:
    site = make_site({"incidents/slow.md": FUTURE})
    code, _, err = run_cli("build", "--site", site, "--out", tmp_path / "out", "--now", NOW)
    assert code == 0
    printed = err.splitlines()
    assert printed[:2] == [PLACEHOLDER, "incidents/slow.md:8: warning: at: 2036-11-30 10:00 is in the future "
                           "(now is 2026-11-30 12:00): this update stays unpublished until then; check the year, "
                           "and the clock of the machine that builds"]
    assert printed[2].startswith("built ") and len(printed) == 3
    assert (tmp_path / "out" / "index.html").is_file()


# ── each warning ──────────────────────────────────────────────────────────────────────

def test_an_update_more_than_an_hour_ahead(make_site: MakeSite) -> None:
    site = loaded(make_site({"content/site.yaml": REAL_SITE, "incidents/slow.md": incident(
        "title: Slow downloads",                    # 2
        "updates:",                                 # 3
        "  - at: 2026-11-30 13:00",                 # 4: one hour ahead: a clock a bit fast
        "    status: investigating",                # 5
        "    body: Looking.",                       # 6
        "  - at: 2026-11-30 13:01",                 # 7
        "    status: identified",                   # 8
        "    body: Found it.",                      # 9
    )}))
    now = resolve_now(site, NOW)
    assert [str(a) for a in site_advice(site, now, {})] == [
        "incidents/slow.md:7: warning: at: 2026-11-30 13:01 is in the future (now is 2026-11-30 12:00): this "
        "update stays unpublished until then; check the year, and the clock of the machine that builds"]
    assert site_advice(site, now + timedelta(minutes=1), {}) == []


def test_an_incident_left_unresolved(make_site: MakeSite) -> None:
    message = ("incidents/slow.md:7: warning: not resolved 29 days after it started (2026-11-01 09:00): the site "
               "shows it as ongoing until an update with status: resolved is added; "
               "warnings.unresolved_after_days in content/site.yaml ({days}) sets when this warning starts")
    site = make_site({"content/site.yaml": REAL_SITE, "incidents/slow.md": UNRESOLVED})
    assert advice(site) == [message.format(days=14)]
    assert advice(site, now="2026-11-15T09:00:00+01:00") == []  # 14 days: not yet
    (site / "content/site.yaml").write_text(REAL_SITE + "warnings: {unresolved_after_days: 28}\n")
    assert advice(site) == [message.format(days=28)]
    (site / "content/site.yaml").write_text(REAL_SITE + "warnings:\n  unresolved_after_days: 30\n")
    assert advice(site) == []
    resolved = UNRESOLVED.replace("---\n", "", 1).replace("---\n", "  - {at: 2026-11-03 10:00, status: resolved, "
                                                                    "body: Fixed.}\n---\n", 1)
    (site / "incidents/slow.md").write_text("---\n" + resolved)
    (site / "content/site.yaml").write_text(REAL_SITE)
    assert advice(site) == []


def test_maintenance_is_never_unresolved(make_site: MakeSite) -> None:
    site = make_site({"content/site.yaml": REAL_SITE, "incidents/up.md": incident(
        "title: Upgrade", "type: maintenance", "components: [lookup-portal]",
        "window: {start: 2026-10-01 08:00, end: 2026-10-01 09:00}",
        "updates: [{at: 2026-09-01 10:00, status: scheduled, body: Planned.}]")})
    assert advice(site) == []


@pytest.mark.parametrize(("host", "placeholder"), [
    ("status.example.org", True), ("example.com", True), ("www.status.example.net", True),
    ("status.test", True), ("status.invalid", True), ("status.example", True), ("localhost", True),
    ("127.0.0.1", True), ("[::1]", True), ("STATUS.EXAMPLE.ORG.", True),
    ("status.acme.eu", False), ("example.org.acme.eu", False), ("myexample.org", False), ("10.0.0.1", False),
])
def test_placeholder_hosts(host: str, placeholder: bool) -> None:
    assert is_placeholder_host(host) is placeholder


def test_addresses_reserved_for_examples(make_site: MakeSite) -> None:
    site = make_site({"content/site.yaml": SITE_YAML.replace("https://status.example.org/", "http://localhost:8000")
                      + lines("subscriptions: {url: 'https://status.acme.eu/subscriptions/'}",   # 5
                              "notify:",                                                    # 6
                              "  from: status@example.com",                                 # 7
                              "  unsubscribe_mailto: unsubscribe@acme.eu")})                # 8
    assert advice(site) == [
        "content/site.yaml:2: warning: base_url: 'http://localhost:8000/' is at 'localhost', a name reserved for "
        "examples: every page, feed, API document and email links to it; set the real URL",
        "content/site.yaml:7: warning: notify.from: 'status@example.com' is at 'example.com', a name reserved for "
        "examples: mail from it fails the receivers' sender checks; set the real address"]
    # notify sends from STATUSGEN_SMTP_FROM when it is set: then that is what counts
    assert advice(site, {"STATUSGEN_SMTP_FROM": "status@acme.eu"})[1:] == []
    assert advice(site, {"STATUSGEN_SMTP_FROM": "ops@status.test"})[1:] == [
        "environment:0: warning: STATUSGEN_SMTP_FROM: 'ops@status.test' is at 'status.test', a name reserved for "
        "examples: mail from it fails the receivers' sender checks; set the real address"]


def test_the_example_sites_placeholders_are_warnings(run_cli: RunCli) -> None:
    from tests.conftest import ROOT

    code, _, err = run_cli("check", "--site", ROOT, "--now", NOW)
    assert code == 0
    assert [line.split(": warning: ")[1].split(":")[0] for line in err.splitlines()[:-1]] == [
        "base_url", "subscriptions.url", "notify.from", "notify.unsubscribe_mailto",
        "body"]  # the Dutch-only update of 2026-11-10-partner-portal-date-format, there to show a fallback


SMTP_SITE = REAL_SITE + lines(
    "notify:",                                      # 5
    "  from: status@acme.eu",                       # 6
    "  unsubscribe_mailto: unsubscribe@acme.eu",    # 7
    "  smtp:",                                      # 8
    "    host: relay.acme.eu",                      # 9
) + "subscriptions: {url: 'https://status.acme.eu/subscriptions/'}\n"  # 10
SMTP_FIX = ("set notify.smtp.security in content/site.yaml or STATUSGEN_SMTP_SECURITY to starttls (port 587) "
            "or tls (port 465)")


@pytest.mark.parametrize(("smtp", "env", "expected"), [
    ("", {}, [f"content/site.yaml:9: warning: notify.smtp.host: mail to relay.acme.eu:25 crosses the network "
              f"unencrypted (security: none, the default); {SMTP_FIX}"]),
    ("    port: 25\n    security: none\n", {},
     [f"content/site.yaml:11: warning: notify.smtp.security: mail to relay.acme.eu:25 crosses the network "
      f"unencrypted (security: none); {SMTP_FIX}"]),
    ("    port: 2525\n    security: none\n", {},
     [f"content/site.yaml:11: warning: notify.smtp.security: mail to relay.acme.eu:2525 crosses the network "
      f"unencrypted (security: none); {SMTP_FIX}"]),
    ("    security: starttls\n", {}, []),
    ("    security: tls\n", {"STATUSGEN_SMTP_SECURITY": "none", "STATUSGEN_SMTP_PORT": "25"},
     [f"environment:0: warning: STATUSGEN_SMTP_SECURITY: mail to relay.acme.eu:25 crosses the network "
      f"unencrypted (security: none); {SMTP_FIX}"]),
    ("", {"STATUSGEN_SMTP_SECURITY": "starttls"}, []),
    ("", {"STATUSGEN_SMTP_HOST": "127.0.0.1"}, []),  # a relay on this machine: nothing crosses the network
    ("", {"STATUSGEN_SMTP_HOST": "smtp.mail.eu", "STATUSGEN_SMTP_SECURITY": " "},  # empty: unset, as in CI
     [f"environment:0: warning: STATUSGEN_SMTP_HOST: mail to smtp.mail.eu:25 crosses the network unencrypted "
      f"(security: none, the default); {SMTP_FIX}"]),
], ids=["default", "none-25", "none-2525", "starttls", "env-none", "env-starttls", "loopback", "env-host"])
def test_smtp_without_encryption(make_site: MakeSite, smtp: str, env: dict[str, str],
                                 expected: list[str]) -> None:
    site_yaml = SMTP_SITE.replace("    host: relay.acme.eu\n", "    host: relay.acme.eu\n" + smtp)
    line = "subscriptions: {url: 'https://status.acme.eu/subscriptions/'}\n"
    site_yaml = site_yaml.replace(line, "") + line  # keep the smtp keys on the lines above
    assert advice(make_site({"content/site.yaml": site_yaml}), env) == expected


def test_without_any_relay_there_is_no_smtp_warning(make_site: MakeSite) -> None:
    site_yaml = SMTP_SITE.replace("  smtp:\n    host: relay.acme.eu\n", "")
    assert advice(make_site({"content/site.yaml": site_yaml})) == []


def test_unsubscribing_by_mail_only(make_site: MakeSite) -> None:
    site = make_site({"content/site.yaml": REAL_SITE + lines(
        "notify:",                                  # 5
        "  from: status@acme.eu",                   # 6
        "  unsubscribe_mailto: unsubscribe@acme.eu",  # 7
    )})
    assert advice(site) == [
        "content/site.yaml:7: warning: notify.unsubscribe_mailto: the only way to unsubscribe is a mail to "
        "unsubscribe@acme.eu, and nothing handles those on its own: someone must read that mailbox and run "
        "statusgen subscribers remove ADDRESS (and delete the address from subscribers.yaml) for each request; "
        "for one-click unsubscribe, run the subscription service and set subscriptions.url"]
    (site / "content/site.yaml").write_text(
        (site / "content/site.yaml").read_text() + "subscriptions: {url: 'https://status.acme.eu/subscriptions/'}\n")
    assert advice(site) == []


@pytest.mark.parametrize(("zone", "expected"), [
    ("CET", "content/site.yaml:4: warning: timezone: 'CET' names no place, so it may miss summer time or keep a "
            "clock no reader keeps; write the zone of the place whose clock the site follows, such as "
            "'Europe/Amsterdam', 'Europe/Andorra', 'Europe/Belgrade', ..."),
    ("Etc/GMT-1", "content/site.yaml:4: warning: timezone: 'Etc/GMT-1' names no place, so it may miss summer time "
                  "or keep a clock no reader keeps; write the zone of the place whose clock the site follows, "
                  "such as 'Africa/Algiers', 'Africa/Bangui', 'Africa/Brazzaville', ..."),
    ("UTC", None), ("Etc/UTC", None), ("America/Argentina/Buenos_Aires", None),
])
def test_a_timezone_that_names_no_place(make_site: MakeSite, zone: str, expected: str | None) -> None:
    site = make_site({"content/site.yaml": REAL_SITE.replace("Europe/Brussels", zone)})
    assert advice(site) == ([expected] if expected else [])


# ── the contract `statusgen doctor` relies on ─────────────────────────────────────────

def test_advice_is_sorted_printed_as_path_line_warning_and_reads_only_what_it_is_given(
        make_site: MakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    assert str(Advice("content/site.yaml", 3, "base_url: x")) == "content/site.yaml:3: warning: base_url: x"
    monkeypatch.setenv("STATUSGEN_SMTP_HOST", "relay.acme.eu")  # not in the env it is given
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    site = loaded(make_site({"incidents/slow.md": FUTURE, "incidents/old.md": UNRESOLVED,
                             "content/site.yaml": SITE_YAML.replace("Europe/Brussels", "CET")}))
    now = datetime.fromisoformat(NOW)
    found = site_advice(site, now, {"STATUSGEN_SMTP_FROM": "a@b.test"})
    assert found == sorted(found) and site_advice(site, now, {"STATUSGEN_SMTP_FROM": "a@b.test"}) == found
    assert [(a.path, a.line) for a in found] == [("content/site.yaml", 2), ("content/site.yaml", 4), ("environment", 0),
                                                 ("incidents/old.md", 7), ("incidents/slow.md", 8)]
    with pytest.raises(AttributeError):
        found[0].line = 1  # type: ignore[misc]


# ── a site's own templates under the published Content-Security-Policy ───────────────

OWN_BASE = """\
{% extends "!theme/base.html" %}
{% block head %}{{ super() }}
<script>console.log("inline")</script>
<script src="{{ static('own.js') }}"></script>
<div style="color: red">x</div>
<a href="#" onclick="go()">go</a>
<a href="javascript:void(0)">nothing</a>
<style>p { color: red }</style>
{% endblock %}
"""


def test_inline_code_in_a_sites_own_page_templates_is_named_by_line(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"site_templates/templates/base.html": OWN_BASE,
                      "site_templates/emails/layout.html": '<body style="margin:0">{{ body }}</body>\n'})
    found = [str(a) for a in site_advice(loaded(site), resolve_now(loaded(site), NOW), {}, site)]
    why = ("the Content-Security-Policy the site publishes (_headers) blocks inline code, so browsers will ignore "
           "it; move it into a file in site_templates/static/")
    assert [line for line in found if "site_templates" in line] == [
        f"site_templates/templates/base.html:{number}: warning: {what}: {why}"
        for number, what in ((3, "an inline script"), (5, "a style attribute"), (6, "an event handler attribute"),
                             (7, "a javascript: URL"), (8, "a <style> element"))]  # line 4 loads a file; emails may style
    code, _, err = run_cli("check", "--site", site, "--now", NOW)
    assert code == 0 and "site_templates/templates/base.html:3: warning: an inline script" in err


def test_the_themes_own_templates_have_no_inline_code() -> None:
    """The packaged theme, as a site's own templates would be checked (the example site in
    a checkout has it as its site_templates/)."""
    from statusgen.site.advice import _inline_code

    root = Path(__file__).resolve().parent.parent
    assert (root / "site_templates" / "templates").is_dir()
    assert list(_inline_code(root)) == []
