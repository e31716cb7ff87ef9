"""Incident templates: content/templates/NAME.yaml, checked with the site; `new incident|maintenance
--template NAME --var KEY=VALUE`; the Statuspage importer's template records and files."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, MakeSite
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from statusgen.content.load import load_site
from statusgen.content.model import Incident, Text
from statusgen.content.templates import PlaceholderError, escape, fill, placeholders
from statusgen.content.yamlsource import NOT_TEXT
from statusgen.errors import ContentErrors
from statusgen.importer.records import Report, TemplateRecord
from statusgen.importer.statuspage.dump import Dump
from statusgen.importer.statuspage.templates import templates_from_dump
from statusgen.importer.templatefiles import template_text
from statusgen.site.build import Builder, render

RunCli = Callable[..., tuple[int, str, str]]
NOW = "2026-11-30T09:20:00+01:00"

DOWN = """\
description: {en: Certificates cannot be issued, nl: Certificaten kunnen niet worden aangemaakt}
title:
  en: PDF certificates unavailable since {since}
  nl: PDF-certificaten niet beschikbaar sinds {since}
body:
  en: Since {since} no certificate can be issued. Next update at {next}.
  nl: Sinds {since} kan geen certificaat worden aangemaakt. Volgende update om {next}.
impact: P1
components:
  dcc-certificates: major_outage
"""

RENEWAL = """\
type: maintenance
description: Renewal of the signing certificates
title: {en: Certificate renewal, nl: Vernieuwing certificaten}
body:
  en: We renew the certificates ({{no}} new ones for {hours} hours).
  nl: We vernieuwen de certificaten ({{geen}} nieuwe gedurende {hours} uur).
components: [eu-dcc]
duration: 2h
"""


def loaded(site: Path, path: str) -> Incident:
    """The incident in `path` (as `new` printed it), loaded as a build loads it."""
    incident_id = Path(path.strip()).stem
    return next(i for i in load_site(site)[0].incidents if i.id == incident_id)


def written(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in (site / "incidents").rglob("*.md"))


# ── placeholders ───────────────────────────────────────────────────────────────────────


def test_placeholders_are_named_in_order_and_braces_can_be_escaped() -> None:
    assert placeholders("Since {since}, {{not one}} until {until}; {since} again") == ("since", "until")
    assert fill("Since {since}, {{not one}}", {"since": "{x}: y"}) == "Since {x}: y, {not one}"
    assert fill(escape("{a} }{ {{b}}"), {}) == "{a} }{ {{b}}"


@pytest.mark.parametrize(("text", "message"), [
    ("Down {since", "unclosed '{' at '{since'; expected {name} for a placeholder, or {{ for a literal brace"),
    ("a } b", "single '}' at '} b'; expected }} for a literal brace"),
    ("{ since }", "'{ since }' is not a placeholder: expected a name of letters, digits, '_' and '-' such as "
                  "{since}; write {{ and }} for literal braces"),
    ('{"json": 1}', "'{\"json\": 1}' is not a placeholder: expected a name of letters, digits, '_' and '-' "
                    "such as {since}; write {{ and }} for literal braces"),
    ("{}", "'{}' is not a placeholder: expected a name of letters, digits, '_' and '-' such as {since}; "
           "write {{ and }} for literal braces"),
])
def test_a_stray_brace_is_an_error_saying_where(text: str, message: str) -> None:
    with pytest.raises(PlaceholderError) as error:
        placeholders(text)
    assert str(error.value) == message


# ── loading and checking ───────────────────────────────────────────────────────────────


def test_a_template_is_loaded_with_the_site(make_site: MakeSite) -> None:
    site, _ = load_site(make_site({"content/templates/certificates-down.yaml": DOWN,
                                   "content/templates/renewal.yaml": RENEWAL}))
    down, renewal = site.templates
    assert (down.name, down.path, down.kind, down.status, down.impact, down.notify) == (
        "certificates-down", "content/templates/certificates-down.yaml", "incident", "investigating", "P1", True)
    assert down.components == (("dcc-certificates", "major_outage"),)
    assert down.placeholders == ("since", "next")
    assert down.title["nl"] == "PDF-certificaten niet beschikbaar sinds {since}"
    assert down.description == Text((("en", "Certificates cannot be issued"),
                                     ("nl", "Certificaten kunnen niet worden aangemaakt")), written=("en", "nl"))
    assert (renewal.kind, renewal.status, renewal.impact, renewal.duration) == (
        "maintenance", "scheduled", None, timedelta(hours=2))
    assert renewal.components == (("dcc-certificates", "under_maintenance"), ("dcc-app", "under_maintenance"))
    assert renewal.placeholders == ("hours",)


BROKEN = """\
title: {en: "Down since {since}", nl: "Stuk sinds {since"}
body:
  en: We look {at it}.
  nl: "Wij } kijken"
impact: P7
status: fixed
components:
  dcc-cert: major_outage
  dcc-app: down
duration: 2h
notfy: false
"""


def test_check_reports_every_problem_of_a_template_by_path_and_line(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/broken.yaml": BROKEN})
    code, _, err = run_cli("check", "--site", site)
    assert code == 1
    assert err.splitlines() == [
        "content/templates/broken.yaml:1: title.nl: unclosed '{' at '{since'; expected {name} for a "
        "placeholder, or {{ for a literal brace",
        "content/templates/broken.yaml:3: body.en: '{at it}' is not a placeholder: expected a name of "
        "letters, digits, '_' and '-' such as {since}; write {{ and }} for literal braces",
        "content/templates/broken.yaml:4: body.nl: single '}' at '} kijken'; expected }} for a literal brace",
        "content/templates/broken.yaml:5: impact: expected one of none, minor, major, critical, P1, P2, P3, P4; "
        "found 'P7'",
        "content/templates/broken.yaml:6: status: expected one of investigating, identified, monitoring, "
        "resolved; found 'fixed'",
        "content/templates/broken.yaml:8: unknown component 'dcc-cert' (did you mean 'dcc-certificates'?)",
        "content/templates/broken.yaml:9: dcc-app: expected a component status, one of operational, "
        "under_maintenance, degraded_performance, partial_outage, major_outage; found 'down'",
        "content/templates/broken.yaml:10: duration: only a template of type maintenance has one; "
        "found it on type incident",
        "content/templates/broken.yaml:11: unknown key 'notfy' (did you mean 'notify'?); expected one of "
        "description, type, title, body, impact, status, components, notify, duration",
        "9 errors",
    ]


def test_every_language_must_use_the_same_placeholders(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/partial.yaml": """\
        title: {en: "Down since {since}", nl: "Stuk"}
        body:
          en: Next update at {next}.
          nl: Volgende update om {next}.
        """, "content/templates/fine.yaml": """\
        title: {en: "Down since {since}", nl: "Stuk"}
        body: {en: "We look.", nl: "Sinds {since} kijken we."}
        """})
    code, _, err = run_cli("check", "--site", site)
    assert (code, err) == (1, "content/templates/partial.yaml:4: body.nl: missing {since}, which en uses; "
                              "expected the same placeholders in every language (title and body together)\n"
                              "1 error\n")


def test_the_templates_folder_holds_templates_only(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/Down.yaml": "title: x\nbody: y\n",
                      "content/templates/notes.txt": "ideas",
                      "content/templates/old/down.yaml": "title: x\nbody: y\n",
                      "content/templates/twice.yaml": "title: x\nbody: y\n",
                      "content/templates/twice.yml": "title: x\nbody: y\n",
                      "content/templates/empty.yaml": "",
                      "content/templates/list.yaml": "- title: x\n",
                      "content/templates/.gitkeep": ""})
    code, _, err = run_cli("check", "--site", site)
    assert code == 1
    assert err.splitlines() == [
        "content/templates/Down.yaml:1: file name: expected lowercase letters, digits and '-' (the file name "
        "is the template's name in --template NAME); found 'Down'",
        "content/templates/empty.yaml:1: expected content; found an empty file",
        "content/templates/list.yaml:1: expected a template (a mapping with title and body); found a list",
        "content/templates/notes.txt:1: expected template files named NAME.yaml in content/templates/; "
        "found 'notes.txt'",
        "content/templates/old:1: expected template files named NAME.yaml in content/templates/; found a folder",
        "content/templates/twice.yml:1: duplicate template 'twice': content/templates/twice.yaml has the same name",
        "6 errors",
    ]


def test_a_maintenance_template_has_no_impact_and_needs_maintenance_statuses(make_site: MakeSite,
                                                                           run_cli: RunCli) -> None:
    site = make_site({"content/templates/m.yaml": """\
        type: maintenance
        title: Upgrade
        body: We upgrade.
        impact: P3
        status: investigating
        duration: soon
        """})
    code, _, err = run_cli("check", "--site", site)
    assert code == 1
    assert err.splitlines() == [
        "content/templates/m.yaml:4: impact: only a template of type incident has one; found it on type maintenance",
        "content/templates/m.yaml:5: status: expected one of scheduled, in_progress, verifying, completed, "
        "cancelled; found 'investigating'",
        "content/templates/m.yaml:6: duration: expected a duration like '24h', '90m' or '2d'; found 'soon'",
        "3 errors",
    ]


def test_templates_are_never_published(make_site: MakeSite) -> None:
    """The same site with and without templates renders the same bytes."""
    plain = make_site(name="plain")
    with_templates = make_site({"content/templates/certificates-down.yaml": DOWN,
                                "content/templates/renewal.yaml": RENEWAL}, name="templated")
    _, _, without = render(plain, NOW)
    site, _, outputs = render(with_templates, NOW)
    assert len(site.templates) == 2
    assert outputs == without


def test_the_live_preview_reports_a_broken_template_and_recovers(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN})
    builder = Builder(site, tmp_path / "public", now=NOW, parallel=False)
    first = builder.build()
    (site / "content/templates/certificates-down.yaml").write_text(DOWN.replace("{next}", "{next"), "utf-8")
    with pytest.raises(ContentErrors) as errors:
        builder.build()
    assert [f"{e.path}:{e.line}" for e in errors.value.errors] == ["content/templates/certificates-down.yaml:6",
                                                                 "content/templates/certificates-down.yaml:7"]
    (site / "content/templates/certificates-down.yaml").write_text(DOWN, "utf-8")
    assert builder.build().outputs == first.outputs


# ── new incident --template ────────────────────────────────────────────────────────────


def test_new_incident_from_a_template_fills_in_every_language(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN})
    code, out, err = run_cli("new", "incident", "--template", "certificates-down", "--var", "since=09:05",
                             "--var", "next=10:00", "--now", NOW, "--site", site)
    assert code == 0, err
    path = site / "incidents/2026/2026-11-30-pdf-certificates-unavailable-since-09-05.md"
    assert out == f"{path}\n"
    assert path.read_text(encoding="utf-8") == textwrap.dedent("""\
        ---
        # from content/templates/certificates-down.yaml
        title:
          en: PDF certificates unavailable since 09:05
          nl: PDF-certificaten niet beschikbaar sinds 09:05
        type: incident
        impact: P1
        components:
          dcc-certificates: major_outage
        updates:
          - at: 2026-11-30 09:20
            status: investigating
            body:
              en: Since 09:05 no certificate can be issued. Next update at 10:00.
              nl: Sinds 09:05 kan geen certificaat worden aangemaakt. Volgende update om 10:00.
        ---
        """)
    incident = loaded(site, out)
    assert (incident.priority, incident.impact, incident.components) == (
        "P1", "critical", (("dcc-certificates", "major_outage"),))
    assert incident.updates[0].at == datetime(2026, 11, 30, 8, 20, tzinfo=UTC)
    assert incident.updates[0].body["nl"] == "Sinds 09:05 kan geen certificaat worden aangemaakt. Volgende update om 10:00."
    assert run_cli("check", "--site", site)[0] == 0


def test_a_value_may_differ_per_language(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN})
    code, out, err = run_cli("new", "incident", "--template", "certificates-down", "--var", "since=09:05",
                             "--var", "next=10 am", "--var", "next.nl=10.00 uur", "--now", NOW, "--site", site)
    assert code == 0, err
    body = loaded(site, out).updates[0].body
    assert (body["en"], body["nl"]) == ("Since 09:05 no certificate can be issued. Next update at 10 am.",
                                        "Sinds 09:05 kan geen certificaat worden aangemaakt. Volgende update om 10.00 uur.")


def test_components_impact_and_status_given_replace_the_templates(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN})
    args = ("new", "incident", "--template", "certificates-down", "--var", "since=9", "--var", "next=10",
            "--now", NOW, "--site", site)
    code, out, err = run_cli(*args, "--components", "dcc-app,lookup-portal=degraded_performance", "--impact", "p2")
    assert code == 0, err
    incident = loaded(site, out)
    assert (incident.priority, incident.components) == (
        "P2", (("dcc-app", "major_outage"), ("lookup-portal", "degraded_performance")))
    code, out, err = run_cli(*args, "--status", "partial_outage")
    assert code == 0, err
    incident = loaded(site, out)
    assert (incident.priority, incident.components) == ("P1", (("dcc-certificates", "partial_outage"),))


def test_a_template_without_impact_or_components_writes_the_same_hints_as_new_incident(
        make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/quiet.yaml": """\
        title: Wording fix
        body: "We fixed a typo in {where}: no action needed."
        status: resolved
        notify: false
        """})
    code, out, err = run_cli("new", "incident", "--template", "quiet", "--var", "where=the FAQ", "--now", NOW,
                             "--site", site)
    assert code == 0, err
    assert Path(out.strip()).read_text(encoding="utf-8") == textwrap.dedent("""\
        ---
        # from content/templates/quiet.yaml
        title: Wording fix
        type: incident
        # impact: P2                 # P1 (critical) to P4; left out, the component statuses set it
        components: {}                 # none yet: add lines `id: status` below `components:`
        updates:
          - at: 2026-11-30 09:20
            status: resolved
            notify: false
            body: 'We fixed a typo in the FAQ: no action needed.'
        ---
        """)
    update = loaded(site, out).updates[0]
    assert (update.status, update.notify) == ("resolved", False)


@pytest.mark.parametrize(("args", "message"), [
    ((), "--var: content/templates/certificates-down.yaml needs a value for every placeholder; "
         "add --var since=VALUE --var next=VALUE"),
    (("--var", "since=09:05"), "--var: content/templates/certificates-down.yaml needs a value for every "
                               "placeholder; add --var next=VALUE"),
    (("--var", "since=09:05", "--var", "next.nl=10.00"),
     "--var: content/templates/certificates-down.yaml needs a value for every placeholder; add --var next.en=VALUE"),
    (("--var", "since=09:05", "--var", "nxt=10:00"),
     "--var nxt: content/templates/certificates-down.yaml has no placeholder {nxt} (did you mean 'next'?); "
     "its placeholders: {since}, {next}"),
    (("--var", "since=1", "--var", "next=2", "--var", "since.fr=3"),
     "--var since.fr: the site has no language 'fr'; it has en, nl"),
    (("--var", "since"), "--var: expected KEY=VALUE such as since=09:20; found 'since'"),
    (("--var", "since=  "), "--var since: expected a value after '='; found nothing"),
    (("--var", "since=1", "--var", "since=2"),
     "--var since: given twice; expected each placeholder once (KEY.LANG=VALUE gives its value in one language)"),
    (("--var", "since=1", "--var", "next=2", "--status", "down"),
     "--status: expected one of operational, under_maintenance, degraded_performance, partial_outage, "
     "major_outage; found 'down'"),
])
def test_missing_and_unknown_values_are_usage_errors_naming_the_template(make_site: MakeSite, run_cli: RunCli,
                                                                         args: tuple[str, ...], message: str) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN})
    code, out, err = run_cli("new", "incident", "--template", "certificates-down", *args, "--now", NOW,
                             "--site", site)
    assert (code, out, err) == (2, "", f"statusgen: {message}\n")
    assert written(site) == []


@pytest.mark.parametrize(("args", "message"), [
    (("--template", "certificate-down"), "--template: no template 'certificate-down' in content/templates/ "
                                         "(did you mean 'certificates-down'?); the site has certificates-down, renewal"),
    (("--template", "renewal"), "--template renewal: content/templates/renewal.yaml is a maintenance template; "
                                "use statusgen new maintenance --template renewal --start TIME --var hours=VALUE"),
    (("Title", "--template", "certificates-down"),
     "TITLE: the template 'certificates-down' writes the title; expected TITLE or --template, found both"),
    ((), "TITLE: expected the incident's title, or --template NAME (statusgen new incident --list-templates "
         "shows them); found nothing"),
    (("Title", "--var", "since=1"), "--var: fills in a template's placeholders; expected --template NAME with it"),
])
def test_asking_for_the_wrong_template_is_a_usage_error(make_site: MakeSite, run_cli: RunCli,
                                                        args: tuple[str, ...], message: str) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN, "content/templates/renewal.yaml": RENEWAL})
    code, out, err = run_cli("new", "incident", *args, "--site", site)
    assert (code, out, err) == (2, "", f"statusgen: {message}\n")
    assert written(site) == []


def test_a_site_without_templates_says_how_to_add_one(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site()
    code, _, err = run_cli("new", "incident", "--template", "down", "--site", site)
    assert (code, err) == (2, "statusgen: --template: no template 'down' in content/templates/; the site has "
                              "none yet: write content/templates/NAME.yaml\n")
    code, out, _ = run_cli("new", "incident", "--list-templates", "--site", site)
    assert (code, out) == (0, "no templates in content/templates/ yet: write content/templates/NAME.yaml "
                              "(a title, a body and {placeholders}; the README shows one)\n")


def test_a_broken_template_stops_only_itself(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/broken.yaml": BROKEN, "content/templates/certificates-down.yaml": DOWN})
    code, out, err = run_cli("new", "incident", "--template", "broken", "--var", "since=1", "--site", site)
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == ("content/templates/broken.yaml:1: title.nl: unclosed '{' at '{since'; "
                                   "expected {name} for a placeholder, or {{ for a literal brace")
    assert err.splitlines()[-1] == "9 errors; nothing was written"
    code, out, err = run_cli("new", "incident", "--template", "certificates-down", "--var", "since=1",
                             "--var", "next=2", "--site", site)
    assert code == 0, err
    code, out, err = run_cli("new", "incident", "--list-templates", "--site", site)
    assert (code, out.splitlines()[0]) == (0, "broken: not usable until the errors in content/templates/broken.yaml "
                                              "are fixed (statusgen check lists them)")


def test_list_templates_shows_what_each_is_for_and_the_command(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN, "content/templates/renewal.yaml": RENEWAL,
                      "content/templates/quiet.yaml": "title: Wording fix\nbody: Fixed.\nnotify: false\n"})
    code, out, err = run_cli("new", "maintenance", "--list-templates", "--site", site)
    assert (code, err) == (0, "")
    assert out == textwrap.dedent(f"""\
        certificates-down (incident, P1): Certificates cannot be issued
            statusgen new incident --template certificates-down --var since=VALUE --var next=VALUE --site {site}
        quiet (incident, emails no one): Wording fix
            statusgen new incident --template quiet --site {site}
        renewal (maintenance, 2h): Renewal of the signing certificates
            statusgen new maintenance --template renewal --start TIME --var hours=VALUE --site {site}
        """)


HOSTILE = [
    "a: b", "- item", "# not a comment", "'quoted' \"too\"", "{since}", "{{", "}", "yes", "null", "2026-11-30",
    "line one\nline two", "x\n---\ny", "  ---  ", "key: [1, 2]\n---\nmore: {a: b}", "tab\there", "trailing \n",
    "\u2028---\u2028", "émoji 🚑", "&anchor *alias !tag %", "| >- |",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_comes_out_literally_whatever_it_holds(make_site: MakeSite, run_cli: RunCli, value: str) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN})
    code, out, err = run_cli("new", "incident", "--template", "certificates-down", "--var", f"since={value}",
                             "--var", "next=10:00", "--now", NOW, "--site", site)
    assert code == 0, err
    incident = loaded(site, out)
    assert incident.title["en"] == f"PDF certificates unavailable since {value}"
    assert incident.updates[0].body["nl"] == (f"Sinds {value} kan geen certificaat worden aangemaakt. "
                                              "Volgende update om 10:00.")
    assert incident.postmortem is None and len(incident.updates) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1).filter(lambda text: text.strip() != ""))
@example("\x08")  # found by CI: both sides of the branch below, every run
@example("Ä ordinary: text")
def test_any_value_round_trips_through_the_written_file(make_site: MakeSite, tmp_path: Path, value: str) -> None:
    site = tmp_path / "site"
    if not site.exists():
        make_site({"content/templates/t.yaml": "title: 'T {v}'\nbody: '{v} B'\n"})
    from statusgen.authoring.templated import new_from_template

    if NOT_TEXT.search(value):  # no page or feed can carry it: refused, and no file is left
        with pytest.raises(ContentErrors, match="expected text without control characters"):
            new_from_template(site, "t", {"v": value}, now=NOW)
        assert list((site / "incidents").rglob("*.md")) == []
        return
    path = new_from_template(site, "t", {"v": value}, now=NOW)
    incident = loaded(site, str(path))
    path.unlink()
    assert (incident.title["nl"], incident.updates[0].body["en"]) == (f"T {value}", f"{value} B")


# ── new maintenance --template ─────────────────────────────────────────────────────────


def test_a_maintenance_template_gives_the_window_from_its_duration(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/renewal.yaml": RENEWAL})
    code, out, err = run_cli("new", "maintenance", "--template", "renewal", "--var", "hours=2", "--start",
                             "2026-12-06 22:00", "--now", NOW, "--site", site)
    assert code == 0, err
    path = site / "incidents/2026/2026-12-06-certificate-renewal.md"
    assert out == f"{path}\n"
    assert path.read_text(encoding="utf-8") == textwrap.dedent("""\
        ---
        # from content/templates/renewal.yaml
        title:
          en: Certificate renewal
          nl: Vernieuwing certificaten
        type: maintenance
        components:
          dcc-certificates: under_maintenance
          dcc-app: under_maintenance
        window:
          start: 2026-12-06 22:00
          end: 2026-12-07 00:00
        updates:
          - at: 2026-11-30 09:20
            status: scheduled
            body:
              en: We renew the certificates ({no} new ones for 2 hours).
              nl: We vernieuwen de certificaten ({geen} nieuwe gedurende 2 uur).
        ---
        """)
    maintenance = loaded(site, out)
    assert maintenance.window is not None
    assert maintenance.window.end - maintenance.window.start == timedelta(hours=2)


def test_end_overrides_the_duration_and_is_needed_without_one(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/renewal.yaml": RENEWAL,
                      "content/templates/open.yaml": "type: maintenance\ntitle: Upgrade\nbody: We upgrade.\n"})
    code, out, err = run_cli("new", "maintenance", "--template", "renewal", "--var", "hours=4", "--start",
                             "2026-12-06 22:00", "--end", "2026-12-07 02:00", "--now", NOW, "--site", site)
    assert code == 0, err
    window = loaded(site, out).window
    assert window is not None and window.end - window.start == timedelta(hours=4)
    code, out, err = run_cli("new", "maintenance", "--template", "open", "--start", "2026-12-06 22:00",
                             "--site", site)
    assert (code, err) == (2, "statusgen: --end: expected when the window closes, e.g. '2026-12-07 02:00'; "
                              "found nothing (content/templates/open.yaml has no duration: to give one, "
                              "add e.g. `duration: 2h`)\n")
    code, out, err = run_cli("new", "maintenance", "--template", "renewal", "--var", "hours=2", "--site", site)
    assert (code, err) == (2, "statusgen: --start: expected when the window opens, e.g. '2026-12-06 22:00'; "
                              "found nothing\n")
    code, out, err = run_cli("new", "maintenance", "--template", "open", "--start", "2026-12-06 22:00", "--end",
                             "2026-12-06 21:00", "--site", site)
    assert (code, err) == (2, "statusgen: --end: expected a time after --start 2026-12-06 22:00; "
                              "found 2026-12-06 21:00\n")


def test_a_maintenance_template_asked_for_as_incident_and_back(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"content/templates/certificates-down.yaml": DOWN})
    code, _, err = run_cli("new", "maintenance", "--template", "certificates-down", "--start", "2026-12-06 22:00",
                           "--site", site)
    assert (code, err) == (2, "statusgen: --template certificates-down: content/templates/certificates-down.yaml "
                              "is an incident template; use statusgen new incident --template certificates-down "
                              "--var since=VALUE --var next=VALUE\n")


# ── the example site and the scaffold ──────────────────────────────────────────────────

EXAMPLE_VALUES = {"since": "09:05", "next_update": "10:00", "version": "4.2.0", "store": "App Store"}


def test_the_example_sites_templates_each_write_a_valid_incident(tmp_path: Path, run_cli: RunCli) -> None:
    site = tmp_path / "example"
    site.mkdir()
    for part in ("components.yaml", "content", "incidents"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copyfile
        copy(ROOT / part, site / part)
    templates = load_site(site)[0].templates
    assert [(t.name, t.kind, t.impact) for t in templates] == [
        ("app-release-delayed", "incident", "P4"), ("certificate-renewal", "maintenance", None),
        ("certificates-down", "incident", "P1")]
    for template in templates:
        values = [arg for name in template.placeholders for arg in ("--var", f"{name}={EXAMPLE_VALUES[name]}")]
        window = ("--start", "2026-12-06 22:00") if template.kind == "maintenance" else ()
        code, out, err = run_cli("new", template.kind, "--template", template.name, *values, *window,
                                 "--now", NOW, "--site", site)
        assert code == 0, err
        incident = loaded(site, out)
        for lang in ("nl", "en"):
            assert "{" not in incident.title[lang] + incident.updates[0].body[lang]
            assert incident.title[lang] == fill(template.title[lang], {**EXAMPLE_VALUES})
        assert incident.title["nl"] != incident.title["en"]
        assert incident.updates[0].body["nl"] != incident.updates[0].body["en"]
    code, _, err = run_cli("check", "--site", site, "--now", NOW)
    assert code == 0, err


def test_the_scaffolds_template_works_in_any_language(tmp_path: Path, run_cli: RunCli) -> None:
    site = tmp_path / "status"
    assert run_cli("init", site, "--languages", "fr,de")[0] == 0
    code, out, err = run_cli("new", "incident", "--template", "outage", "--var", "since=09:05", "--now", NOW,
                             "--site", site)
    assert code == 0, err
    incident = loaded(site, out)
    assert (incident.priority, incident.components) == ("P1", (("website", "major_outage"),))
    assert incident.updates[0].body["de"].startswith("Seit 09:05 ist die Website nicht erreichbar.")
    assert incident.updates[0].body["fr"].startswith("Depuis 09:05, le site web est inaccessible.")
    assert incident.title.written == ("fr", "de")


# ── the Statuspage importer's templates ────────────────────────────────────────────────


def records_site(make_site: MakeSite, records: tuple[TemplateRecord, ...]) -> Path:
    return make_site({f"content/templates/{r.name}.yaml": template_text(r, ("en", "nl")) for r in records})


def test_template_text_is_a_file_the_loader_reads_back(make_site: MakeSite, run_cli: RunCli) -> None:
    records = (
        TemplateRecord(name="database-down", title="Database {{down}}: all", body="We look.\n\nMore {{x}}.",
                       status="identified", impact="P2",
                       components=(("dcc-app", "partial_outage"), ("lookup-portal", "major_outage")),
                       notify=False, description="Database down"),
        TemplateRecord(name="upgrade", title={"en": "Upgrade", "nl": "Upgrade", "fr": "Mise à jour"},
                       body={"nl": "We upgraden {what}.", "en": "We upgrade {what}."}, status="scheduled",
                       components=(("eu-dcc", "under_maintenance"),)),
        TemplateRecord(name="plain", title="Plain", body="Nothing else."),
    )
    site = records_site(make_site, records)
    assert (site / "content/templates/database-down.yaml").read_text(encoding="utf-8") == textwrap.dedent("""\
        # statusgen new incident --template database-down
        description: Database down
        title: 'Database {{down}}: all'
        body: |-
          We look.

          More {{x}}.
        impact: P2
        status: identified
        components:
          dcc-app: partial_outage
          lookup-portal: major_outage
        notify: false
        """)
    assert (site / "content/templates/upgrade.yaml").read_text(encoding="utf-8") == textwrap.dedent("""\
        # statusgen new maintenance --template upgrade --start TIME --end TIME
        type: maintenance
        title:
          en: Upgrade
          nl: Upgrade
        body:
          en: We upgrade {what}.
          nl: We upgraden {what}.
        status: scheduled
        components:
          - eu-dcc
        """)
    down, plain, upgrade = load_site(site)[0].templates
    assert (down.title["nl"], down.body["en"], down.status, down.impact, down.notify, down.placeholders) == (
        "Database {{down}}: all", "We look.\n\nMore {{x}}.", "identified", "P2", False, ())
    assert down.components == (("dcc-app", "partial_outage"), ("lookup-portal", "major_outage"))
    assert (plain.kind, plain.status, plain.components, plain.notify, plain.description) == (
        "incident", "investigating", (), True, None)
    assert (upgrade.kind, upgrade.placeholders, upgrade.body["nl"]) == ("maintenance", ("what",), "We upgraden {what}.")
    assert upgrade.components == (("dcc-certificates", "under_maintenance"), ("dcc-app", "under_maintenance"))
    code, out, err = run_cli("new", "incident", "--template", "database-down", "--now", NOW, "--site", site)
    assert code == 0, err
    incident = loaded(site, out)
    assert (incident.title["en"], incident.updates[0].body["nl"]) == ("Database {down}: all", "We look.\n\nMore {x}.")


STATUSPAGE_TEMPLATES = (
    {"id": "t1", "name": "Database down", "title": "Database {down}", "body": "We are investigating {json: 1}.",
     "update_status": "investigating", "should_send_notifications": True, "should_tweet": True, "group_id": "tg1",
     "components": [{"id": "sp-app", "status": "partial_outage"}, {"id": "sp-gone", "status": "major_outage"}]},
    {"id": "t2", "name": "Database down", "title": "Renewal", "body": "", "update_status": "scheduled",
     "should_send_notifications": False, "component_ids": ["sp-group"], "group_id": None},
    {"id": "t3", "name": "Fixed", "title": "Fixed", "body": "All well.", "update_status": "resolved",
     "component_ids": ["sp-app"]},
    {"id": "t4", "name": "Odd", "title": "Odd", "body": "Hm.", "update_status": "postponed", "components": []},
    {"id": "t5", "name": "", "title": "  "},
)


def test_statuspage_templates_become_records_with_what_did_not_map_reported() -> None:
    dump = Dump(page={}, components=(), incidents=(), templates=STATUSPAGE_TEMPLATES)
    report = Report()
    records = templates_from_dump(dump, {"sp-app": "dcc-app", "sp-group": "eu-dcc"}, report)
    assert records == (
        TemplateRecord(name="database-down", title="Database {{down}}", body="We are investigating {{json: 1}}.",
                       status="investigating", components=(("dcc-app", "partial_outage"),), notify=True,
                       description="Database down"),
        TemplateRecord(name="database-down-2", title="Renewal", body="Renewal", status="scheduled",
                       components=(("eu-dcc", "under_maintenance"),), notify=False, description="Database down"),
        TemplateRecord(name="fixed", title="Fixed", body="All well.", status="resolved",
                       components=(("dcc-app", "operational"),), description="Fixed"),
        TemplateRecord(name="odd", title="Odd", body="Hm.", status="investigating", description="Odd"),
    )
    assert report.lines() == [
        "not imported: incident template #5 (id t5): it has no title",
        "changed: incident template 'Database down' (content/templates/database-down.yaml): should_tweet is not "
        "kept: statusgen posts to no social network",
        "changed: incident template 'Database down' (content/templates/database-down.yaml): component sp-gone is "
        "not on the page; left out",
        "changed: incident template 'Database down' (content/templates/database-down.yaml): template group tg1 is "
        "not kept: statusgen does not group templates",
        "changed: incident template 'Database down' (content/templates/database-down-2.yaml): it has no body "
        "(the first update's text); the title is used",
        "changed: incident template 'Database down' (content/templates/database-down-2.yaml): components written "
        "as under_maintenance, the source gives no status: check them",
        "changed: incident template 'Fixed' (content/templates/fixed.yaml): components written as operational, "
        "the source gives no status: check them",
        "changed: incident template 'Odd' (content/templates/odd.yaml): update_status 'postponed' is no incident "
        "or maintenance status; written as investigating",
    ]


def test_imported_statuspage_templates_pass_check_and_write_their_text_literally(make_site: MakeSite,
                                                                                 run_cli: RunCli) -> None:
    dump = Dump(page={}, components=(), incidents=(), templates=STATUSPAGE_TEMPLATES)
    site = records_site(make_site, templates_from_dump(dump, {"sp-app": "dcc-app", "sp-group": "eu-dcc"}, Report()))
    assert run_cli("check", "--site", site)[0] == 0
    code, out, err = run_cli("new", "incident", "--template", "database-down", "--now", NOW, "--site", site)
    assert code == 0, err
    incident = loaded(site, out)
    assert (incident.title["nl"], incident.updates[0].body["en"]) == ("Database {down}",
                                                                      "We are investigating {json: 1}.")
