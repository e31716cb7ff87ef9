"""`statusgen new incident|maintenance|update`, `statusgen init`, and the CI and pre-commit recipes."""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import EXAMPLE_NOW, ROOT, MakeSite
from hypothesis import given, settings
from hypothesis import strategies as st

from statusgen import REPOSITORY, __version__
from statusgen.authoring.incident import slugify
from statusgen.authoring.options import written_time
from statusgen.authoring.origin import Origin, requirement
from statusgen.authoring.yamltext import yaml_value
from statusgen.content.load import load_site

RunCli = Callable[..., tuple[int, str, str]]
NOW = "2026-11-30T09:20:00+01:00"
WORKFLOW = ".github/workflows/status.yml"
RELEASE = ".github/workflows/release.yml"
TRANSLATE = "# translate: every language shows this text until you do"


def incident(site: Path, incident_id: str):  # type: ignore[no-untyped-def]
    """The loaded incident `incident_id`: the file passes the same validation as a build."""
    loaded, _ = load_site(site)
    return next(i for i in loaded.incidents if i.id == incident_id)


# ── new incident ───────────────────────────────────────────────────────────────────────


def test_new_incident_writes_a_valid_file_named_after_the_day_and_title(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site()
    code, out, err = run_cli("new", "incident", "PDF certificates: not downloadable", "--components",
                             "dcc-certificates", "--impact", "p1", "--now", NOW, "--site", site)
    assert code == 0, err
    path = site / "incidents/2026/2026-11-30-pdf-certificates-not-downloadable.md"
    assert out == f"{path}\n"
    assert path.read_text(encoding="utf-8") == textwrap.dedent(f"""\
        ---
        title:  {TRANSLATE}
          en: 'PDF certificates: not downloadable'
          nl: 'PDF certificates: not downloadable'
        type: incident
        impact: P1
        components:
          dcc-certificates: major_outage
        updates:
          - at: 2026-11-30 09:20
            status: investigating
            body:  # replace with what users notice and what you are doing about it
              en: We are investigating the problem.
              nl: We onderzoeken het probleem.
        ---
        """)
    loaded = incident(site, "2026-11-30-pdf-certificates-not-downloadable")
    assert (loaded.priority, loaded.impact, loaded.components) == ("P1", "critical",
                                                                  (("dcc-certificates", "major_outage"),))
    assert loaded.title["nl"] == "PDF certificates: not downloadable"
    assert loaded.updates[0].at == datetime(2026, 11, 30, 8, 20, tzinfo=UTC)


def test_new_incident_without_impact_leaves_a_hint_and_lets_the_statuses_decide(make_site: MakeSite,
                                                                                run_cli: RunCli) -> None:
    site = make_site({"content/site.yaml": "title: Status\nbase_url: https://s.example.org/\n"
                                           "languages: [en]\ntimezone: UTC\n",
                      "components.yaml": "- id: dcc-app\n  name: App\n"})
    code, out, err = run_cli("new", "incident", "Slow app", "--components", "dcc-app", "--status",
                             "degraded_performance", "--now", "2026-11-30 23:59", "--site", site)
    assert code == 0, err
    text = Path(out.strip()).read_text(encoding="utf-8")
    assert text == textwrap.dedent("""\
        ---
        title: Slow app
        type: incident
        # impact: P2                 # P1 (critical) to P4; left out, the component statuses set it
        components:
          dcc-app: degraded_performance
        updates:
          - at: 2026-11-30 23:59
            status: investigating
            body: We are investigating the problem.  # replace with what users notice and what you are doing about it
        ---
        """)
    assert incident(site, "2026-11-30-slow-app").impact == "minor"


def test_a_group_id_expands_to_its_components_and_id_status_sets_one(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site()
    code, out, err = run_cli("new", "incident", "Everything down", "--components",
                             "eu-dcc, lookup-portal=partial_outage", "--now", NOW, "--site", site)
    assert code == 0, err
    assert "components:\n  dcc-certificates: major_outage\n  dcc-app: major_outage\n" \
           "  lookup-portal: partial_outage\nupdates:" in Path(out.strip()).read_text(encoding="utf-8")
    assert incident(site, "2026-11-30-everything-down").components == (
        ("dcc-certificates", "major_outage"), ("dcc-app", "major_outage"), ("lookup-portal", "partial_outage"))


@pytest.mark.parametrize(("args", "message"), [
    (("--components", "dcc-ap"), "--components: unknown component 'dcc-ap' (did you mean 'dcc-app'?)"),
    (("--components", "payments"), "--components: unknown component 'payments'; expected one of eu-dcc, "
                                   "dcc-certificates, dcc-app, lookup-portal"),
    (("--components", "dcc-app=down"), "--components dcc-app: expected one of operational, under_maintenance, "
                                       "degraded_performance, partial_outage, major_outage; found 'down'"),
    (("--status", "major-outage"), "--status: expected one of operational, under_maintenance, "
                                   "degraded_performance, partial_outage, major_outage; found 'major-outage' "
                                   "(did you mean 'major_outage'?)"),
    (("--impact", "critcal"), "--impact: expected one of P1, P2, P3, P4, none, minor, major, critical; "
                              "found 'critcal' (did you mean 'critical'?)"),
    (("--now", "yesterday"), "--now: expected an ISO 8601 time like '2026-11-28 09:20'; found 'yesterday'"),
])
def test_bad_options_are_usage_errors_and_write_nothing(make_site: MakeSite, run_cli: RunCli,
                                                        args: tuple[str, ...], message: str) -> None:
    site = make_site()
    code, out, err = run_cli("new", "incident", "Down", *args, "--site", site)
    assert (code, out, err) == (2, "", f"statusgen: {message}\n")
    assert not list((site / "incidents").rglob("*.md"))


def test_new_incident_outside_a_site_says_so(tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("new", "incident", "Down", "--site", tmp_path)
    assert code == 2
    assert err == (f"statusgen: no site in {tmp_path}: content/site.yaml is missing "
                   "(use --site DIR, or create a site with statusgen init DIR)\n")


@pytest.mark.parametrize(("title", "slug"), [
    ("PDF certificates cannot be downloaded", "pdf-certificates-cannot-be-downloaded"),
    ("Certificats indisponibles à Liège !", "certificats-indisponibles-a-liege"),
    ("Zertifikate: Störung in Straße & Œuvre", "zertifikate-storung-in-strasse-oeuvre"),
    ("  e-ID / itsme® sign-in -- broken?!  ", "e-id-itsme-sign-in-broken"),
    ("Ærøskøbing, Łódź", "aeroskobing-lodz"),
    ("API v2.1 (beta) 502s", "api-v2-1-beta-502s"),
    ("Une très longue panne de la passerelle d'intégration et du module de signature",
     "une-tres-longue-panne-de-la-passerelle-d"),
    ("x" * 60, "x" * 50),
    ("証明書エラー", "incident"),
    ("!!!", "incident"),
])
def test_slugs_fold_accents_and_punctuation_and_cut_at_a_word(title: str, slug: str) -> None:
    assert slugify(title) == slug
    assert len(slug) <= 50


def test_a_taken_name_gets_a_number_also_from_another_folder(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"incidents/old/2026-11-30-down.yaml": """\
        title: Down
        updates: [{at: 2026-11-30 08:00, status: resolved, body: Fixed.}]
        """})
    names = []
    for _ in range(3):
        code, out, err = run_cli("new", "incident", "Down!", "--now", NOW, "--site", site)
        assert code == 0, err
        names.append(Path(out.strip()).relative_to(site).as_posix())
    assert names == ["incidents/2026/2026-11-30-down-2.md", "incidents/2026/2026-11-30-down-3.md",
                     "incidents/2026/2026-11-30-down-4.md"]
    assert len(load_site(site)[0].incidents) == 4


def test_a_title_without_text_is_refused(make_site: MakeSite, run_cli: RunCli) -> None:
    code, _, err = run_cli("new", "incident", "  ", "--site", make_site())
    assert (code, err) == (2, "statusgen: TITLE: expected some text; found nothing\n")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_is_written_as_yaml_that_reads_back_the_same(text: str) -> None:
    lines = yaml_value(text, 4)
    assert yaml.safe_load("  key: " + "\n".join(lines) + "\n") == {"key": text}


def test_titles_that_yaml_would_misread_stay_text(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site()
    for title in ("yes", "null", "2026-11-30", "# not a comment", "Line one\nline two", "'quoted' \"too\""):
        code, out, err = run_cli("new", "incident", title, "--now", NOW, "--site", site)
        assert code == 0, err
        assert incident(site, Path(out.strip()).stem).title["nl"] == title


def test_times_are_written_in_the_site_timezone_with_an_offset_only_when_ambiguous() -> None:
    brussels = ZoneInfo("Europe/Brussels")
    assert written_time(datetime(2026, 11, 30, 8, 20, tzinfo=UTC), brussels) == "2026-11-30 09:20"
    assert written_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), brussels) == "2026-10-25T02:30+02:00"
    assert written_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), brussels) == "2026-10-25T02:30+01:00"


# ── new maintenance ────────────────────────────────────────────────────────────────────


def test_new_maintenance_is_announced_now_and_named_after_its_first_day(make_site: MakeSite,
                                                                         run_cli: RunCli) -> None:
    site = make_site()
    code, out, err = run_cli("new", "maintenance", "Database upgrade", "--start", "2026-12-06 22:00",
                             "--end", "2026-12-07T01:00:00Z", "--components", "eu-dcc", "--now", NOW,
                             "--site", site)
    assert code == 0, err
    path = site / "incidents/2026/2026-12-06-database-upgrade.md"
    assert out == f"{path}\n"
    assert path.read_text(encoding="utf-8") == textwrap.dedent(f"""\
        ---
        title:  {TRANSLATE}
          en: Database upgrade
          nl: Database upgrade
        type: maintenance
        components:
          dcc-certificates: under_maintenance
          dcc-app: under_maintenance
        window:
          start: 2026-12-06 22:00
          end: 2026-12-07 02:00
        updates:
          - at: 2026-11-30 09:20
            status: scheduled
            body:  # replace with what will be done and what users will notice
              en: We will carry out planned maintenance.
              nl: We voeren gepland onderhoud uit.
        ---
        """)
    loaded = incident(site, "2026-12-06-database-upgrade")
    assert loaded.is_maintenance and loaded.window is not None
    assert loaded.window.end == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def test_a_maintenance_window_must_end_after_it_starts(make_site: MakeSite, run_cli: RunCli) -> None:
    code, _, err = run_cli("new", "maintenance", "Upgrade", "--start", "2026-12-06 22:00", "--end",
                           "2026-12-06 21:00", "--site", make_site())
    assert (code, err) == (2, "statusgen: --end: expected a time after --start 2026-12-06 22:00; "
                              "found 2026-12-06 21:00\n")


def test_new_maintenance_needs_its_window(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site()
    code, _, err = run_cli("new", "maintenance", "Upgrade", "--site", site)
    assert (code, err) == (2, "statusgen: --start: expected when the window opens, e.g. '2026-12-06 22:00'; "
                              "found nothing\n")
    code, _, err = run_cli("new", "maintenance", "Upgrade", "--start", "2026-12-06 22:00", "--site", site)
    assert (code, err) == (2, "statusgen: --end: expected when the window closes, e.g. '2026-12-07 02:00'; "
                              "found nothing\n")


# ── new update ─────────────────────────────────────────────────────────────────────────

COMMENTED = """\
---
# Reported by the service desk (ticket 4711).
title: {en: PDF down, nl: PDF stuk}
components:
  dcc-certificates: major_outage   # since the 09:00 deploy
updates:
  - at: 2026-11-28 09:20
    status: investigating
    body:
      en: >-
        We are
        investigating.

      nl: We onderzoeken het.   # translated by Piet
    # checked with the vendor
  # next: the vendor's answer

impact: P2
---
Post-mortem follows.
"""

IDENTIFIED = f"""\
  - at: 2026-11-28 10:05
    status: identified
    components: {{dcc-app: degraded_performance}}
    body:  {TRANSLATE}
      en: 'Cause: the certificate store.'
      nl: 'Cause: the certificate store.'
"""


def test_new_update_inserts_after_the_list_and_keeps_every_other_byte(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"incidents/2026/pdf.md": COMMENTED})
    code, out, err = run_cli("new", "update", "pdf", "Cause: the certificate store.", "--status", "identified",
                             "--components", "dcc-app=degraded_performance", "--now", "2026-11-28 10:05",
                             "--site", site)
    assert code == 0, err
    assert out == f"{site / 'incidents/2026/pdf.md'}\n"
    at = COMMENTED.index("  # next:")
    assert (site / "incidents/2026/pdf.md").read_text(encoding="utf-8") == COMMENTED[:at] + IDENTIFIED + COMMENTED[at:]
    update = incident(site, "pdf").updates[-1]
    assert (update.status, update.components, update.notify) == ("identified", (("dcc-app", "degraded_performance"),),
                                                                 True)


def test_new_update_keeps_windows_line_endings_and_a_byte_order_mark(make_site: MakeSite, run_cli: RunCli) -> None:
    original = b"\xef\xbb\xbf" + COMMENTED.replace("\n", "\r\n").encode()
    site = make_site({"incidents/pdf.md": original})
    code, _, err = run_cli("new", "update", "pdf", "Cause: the certificate store.", "--status", "identified",
                           "--components", "dcc-app=degraded_performance", "--now", "2026-11-28 10:05",
                           "--site", site)
    assert code == 0, err
    at = original.index(b"  # next:")
    expected = original[:at] + IDENTIFIED.replace("\n", "\r\n").encode() + original[at:]
    assert (site / "incidents/pdf.md").read_bytes() == expected


def test_new_update_follows_the_lists_indentation_and_the_languages_given(make_site: MakeSite,
                                                                          run_cli: RunCli) -> None:
    original = textwrap.dedent("""\
        title: App sign-in fails
        components: {dcc-app: major_outage}
        updates:
        -   at: 2026-11-28 09:20
            status: investigating
            body: We are investigating.
        """)
    site = make_site({"incidents/app.yaml": original})
    code, _, err = run_cli("new", "update", "app", "Fixed.", "--lang", "nl", "Opgelost.", "--status",
                           "resolved", "--quiet-update", "--now", "2026-11-28 11:40", "--site", site)
    assert code == 0, err
    assert (site / "incidents/app.yaml").read_text(encoding="utf-8") == original + textwrap.dedent("""\
        -   at: 2026-11-28 11:40
            status: resolved
            notify: false
            body:
              en: Fixed.
              nl: Opgelost.
        """)
    update = incident(site, "app").updates[-1]
    assert (update.body["nl"], update.notify) == ("Opgelost.", False)


@pytest.mark.parametrize(("before", "after"), [
    ("updates: []   # none yet\n", "updates:   # none yet\n{item}"),
    ("updates:\n", "updates:\n{item}"),
    ("updates: ~\n", "updates:\n{item}"),
    ("", "updates:\n{item}"),
])
def test_new_update_starts_the_list_of_a_maintenance_without_updates(make_site: MakeSite, run_cli: RunCli,
                                                                    before: str, after: str) -> None:
    head = ("---\ntitle: Upgrade\ntype: maintenance\ncomponents: [dcc-app]\n"
            "window: {start: 2026-12-06 22:00, end: 2026-12-07 02:00}\n")
    site = make_site({"incidents/upgrade.md": head + before + "---\nNotes.\n"})
    code, _, err = run_cli("new", "update", "upgrade", "Moved to 23:00.", "--status", "scheduled",
                           "--now", "2026-12-01 10:00", "--site", site)
    assert code == 0, err
    item = (f"  - at: 2026-12-01 10:00\n    status: scheduled\n    body:  {TRANSLATE}\n"
            "      en: Moved to 23:00.\n      nl: Moved to 23:00.\n")
    assert (site / "incidents/upgrade.md").read_text(encoding="utf-8") == \
        head + after.format(item=item) + "---\nNotes.\n"
    assert incident(site, "upgrade").updates[0].status == "scheduled"


def test_new_update_ends_a_yaml_file_without_a_final_newline_first(make_site: MakeSite, run_cli: RunCli) -> None:
    original = "title: Upgrade\ntype: maintenance\nwindow: {start: 2026-12-06 22:00, end: 2026-12-07 02:00}"
    site = make_site({"incidents/upgrade.yaml": original.encode()})
    code, _, err = run_cli("new", "update", "upgrade", "Cancelled.", "--status", "cancelled",
                           "--now", "2026-12-01 10:00", "--site", site)
    assert code == 0, err
    assert (site / "incidents/upgrade.yaml").read_text(encoding="utf-8").startswith(
        original + "\nupdates:\n  - at: 2026-12-01 10:00\n    status: cancelled\n")


@pytest.mark.parametrize(("file", "status", "message"), [
    ("pdf", "completed", "--status: pdf is an incident: expected one of investigating, identified, monitoring, "
                         "resolved; found 'completed'"),
    ("pdf", "Resolved", "--status: pdf is an incident: expected one of investigating, identified, monitoring, "
                        "resolved; found 'Resolved' (did you mean 'resolved'?)"),
    ("upgrade", "resolved", "--status: upgrade is a maintenance window: expected one of scheduled, in_progress, "
                            "verifying, completed, cancelled; found 'resolved'"),
])
def test_new_update_refuses_a_status_of_the_other_kind(make_site: MakeSite, run_cli: RunCli,
                                                        file: str, status: str, message: str) -> None:
    site = make_site({"incidents/pdf.md": COMMENTED,
                      "incidents/upgrade.yaml": "title: Upgrade\ntype: maintenance\n"
                                                "window: {start: 2026-12-06 22:00, end: 2026-12-07 02:00}\n"})
    before = {p: p.read_bytes() for p in (site / "incidents").iterdir()}
    code, out, err = run_cli("new", "update", file, "Text.", "--status", status, "--site", site)
    assert (code, out, err) == (2, "", f"statusgen: {message}\n")
    assert {p: p.read_bytes() for p in (site / "incidents").iterdir()} == before


def test_new_update_of_an_unknown_incident_suggests_one(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"incidents/2026/2026-11-28-pdf-down.md": COMMENTED})
    code, _, err = run_cli("new", "update", "2026-11-28-pdf-dwn", "Text.", "--status", "identified", "--site", site)
    assert (code, err) == (2, "statusgen: no incident or maintenance '2026-11-28-pdf-dwn' in incidents/ "
                              "(did you mean '2026-11-28-pdf-down'?)\n")


def test_an_update_that_makes_the_file_invalid_is_taken_back(make_site: MakeSite, run_cli: RunCli) -> None:
    resolved = COMMENTED.replace("  # next: the vendor's answer\n",
                                 "  - at: 2026-11-28 11:40\n    status: resolved\n    body: Fixed.\n")
    site = make_site({"incidents/pdf.md": resolved})
    code, out, err = run_cli("new", "update", "pdf", "Still slow.", "--status", "monitoring",
                             "--now", "2026-11-28 12:00", "--site", site)
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == ("incidents/pdf.md:19: update at 2026-11-28 12:00 comes after the resolved "
                                   "update at 2026-11-28 11:40 (line 16); expected nothing after it")
    assert (site / "incidents/pdf.md").read_text(encoding="utf-8") == resolved
    assert sorted(p.name for p in (site / "incidents").iterdir()) == ["pdf.md"]


def test_a_second_update_in_the_same_minute_gets_seconds(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"incidents/pdf.md": COMMENTED})
    code, _, err = run_cli("new", "update", "pdf", "Found it.", "--status", "identified",
                           "--now", "2026-11-28T09:20:42+01:00", "--site", site)
    assert code == 0, err
    assert "  - at: 2026-11-28 09:20:42\n" in (site / "incidents/pdf.md").read_text(encoding="utf-8")
    assert len(incident(site, "pdf").updates) == 2


def test_new_update_refuses_an_unknown_language(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"incidents/pdf.md": COMMENTED})
    code, _, err = run_cli("new", "update", "pdf", "Text.", "--lang", "NL", "Tekst.", "--status", "identified",
                           "--site", site)
    assert (code, err) == (2, "statusgen: --lang: the site has no language 'NL' (did you mean 'nl'?); "
                              "it has en, nl\n")


def test_a_whole_incident_from_the_command_line(make_site: MakeSite, run_cli: RunCli, tmp_path: Path) -> None:
    """The authoring loop of the README: new → update → resolve, and the site builds."""
    site = make_site()
    _, out, _ = run_cli("new", "incident", "App sign-in fails", "--components", "dcc-app", "--impact", "P2",
                        "--now", "2026-11-30 09:20", "--site", site)
    incident_id = Path(out.strip()).stem
    for now, status, text in (("09:45", "identified", "The sign-in service rejects new sessions."),
                              ("10:30", "monitoring", "A fix is live; we are watching."),
                              ("11:00", "resolved", "Sign-in works again.")):
        extra = ("--components", "dcc-app=operational") if status == "monitoring" else ()
        code, _, err = run_cli("new", "update", incident_id, text, "--status", status, *extra,
                               "--now", f"2026-11-30 {now}", "--site", site)
        assert code == 0, err
    loaded = incident(site, incident_id)
    assert [u.status for u in loaded.updates] == ["investigating", "identified", "monitoring", "resolved"]
    code, _, err = run_cli("build", "--site", site, "--out", tmp_path / "public", "--now", EXAMPLE_NOW)
    assert code == 0, err
    assert (tmp_path / "public" / "incidents" / incident_id / "index.html").is_file()


# ── init ───────────────────────────────────────────────────────────────────────────────


def test_init_scaffolds_a_site_that_checks_and_builds(tmp_path: Path, run_cli: RunCli) -> None:
    site = tmp_path / "status"
    code, _, err = run_cli("init", site)
    assert code == 0, err
    assert err == f"created a site in {site} (10 files); next: statusgen build --site {site}\n"
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert files == [".github/workflows/status.yml", ".gitignore", "components.yaml",
                     "content/pages/accessibility.en.md", "content/pages/help.en.md",
                     "content/site.yaml", "content/templates/outage.yaml", "incidents/example-incident.md",
                     "requirements.txt", "subscribers.yaml"]
    assert run_cli("check", "--site", site)[0] == 0
    code, _, err = run_cli("build", "--site", site)
    assert code == 0, err
    assert (site / "public" / "index.html").is_file()
    assert (site / "public" / "incidents" / "example-incident" / "index.html").is_file()
    assert (site / ".gitignore").read_text().splitlines()[1:] == ["public/", ".statusgen/"]
    assert (site / WORKFLOW).read_bytes() == (ROOT / WORKFLOW).read_bytes()


def test_init_fills_in_the_options(tmp_path: Path, run_cli: RunCli) -> None:
    site = tmp_path / "status"
    code, _, err = run_cli("init", "--site", site, "--languages", "nl,en", "--timezone", "Europe/Brussels",
                           "--title", "Status: platform")
    assert code == 0, err
    loaded, subscribers = load_site(site)
    assert (loaded.config.languages, loaded.config.timezone.key) == (("nl", "en"), "Europe/Brussels")
    assert loaded.config.title["en"] == "Status: platform"
    assert [c.id for c in loaded.components] == ["website", "api", "email"]
    assert [g.id for g in loaded.groups] == ["online-services"] and subscribers == ()
    example = loaded.incidents[0]
    assert example.updates[-1].status == "resolved"
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    assert (today - example.updates[0].at.astimezone(ZoneInfo("Europe/Brussels")).date()).days == 1


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, run_cli: RunCli) -> None:
    site = tmp_path / "status"
    site.mkdir()
    (site / "notes.txt").write_text("mine")
    code, _, err = run_cli("init", site)
    assert (code, err) == (2, f"statusgen: {site} is not empty (notes.txt); choose an empty folder, or add --force "
                              "to write the new site's files into it (files with the same names are replaced)\n")
    assert sorted(p.name for p in site.iterdir()) == ["notes.txt"]
    code, _, err = run_cli("init", site, "--force")
    assert code == 0, err
    assert (site / "notes.txt").read_text() == "mine" and (site / "components.yaml").is_file()


def test_init_accepts_a_fresh_git_repository(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "status" / ".git").mkdir(parents=True)
    code, _, err = run_cli("init", tmp_path / "status")
    assert code == 0, err


@pytest.mark.parametrize(("args", "message"), [
    (("--timezone", "Europe/Brussel"), "--timezone: expected an IANA timezone such as 'Europe/Brussels'; "
                                       "found 'Europe/Brussel' (did you mean 'Europe/Brussels'?)"),
    (("--languages", "nl,klingon"), "these options make a site that does not load:\n"
                                    "content/site.yaml:7: languages: expected a language code such as 'nl' "
                                    "or 'en'; found 'klingon'"),
])
def test_init_with_bad_options_writes_nothing(tmp_path: Path, run_cli: RunCli,
                                               args: tuple[str, ...], message: str) -> None:
    code, _, err = run_cli("init", tmp_path / "status", *args)
    assert (code, err) == (2, f"statusgen: {message}\n")
    assert not (tmp_path / "status").exists()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the wheel and sdist `python -m build` makes of this checkout."""
    folder = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(folder), str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def venv_with_the_running_dependencies(venv: Path) -> Path:
    """A new virtualenv that imports statusgen's dependencies (and pip, and hatchling) from
    the running interpreter's site-packages, after its own; returns its `python`.

    Not `--system-site-packages`: from inside a virtualenv (or pipx, or uv) that gives the
    base interpreter's packages, which need not hold the dependencies. The running site
    folders are listed in a `.pth` file, whose own `.pth` files are not read: an editable
    statusgen installed there stays out, so the venv runs the statusgen installed into it.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                           check=True, capture_output=True, text=True).stdout.strip()
    running = set(site.getsitepackages()) | ({site.getusersitepackages()} if site.ENABLE_USER_SITE else set())
    folders = [entry for entry in sys.path if entry in running]
    assert folders, f"no site-packages folder in {sys.path}"
    (Path(inner) / "running-site-packages.pth").write_text("".join(f"{folder}\n" for folder in folders))
    return python


def pip_install(python: Path, *args: str) -> None:
    """`pip install` into the venv of `python`, offline. --ignore-installed: pip also sees the
    running interpreter's packages, which may hold another statusgen."""
    done = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
                           "--no-index", "--ignore-installed", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def run_far_away(folder: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a command in `folder`, without this checkout on the path."""
    folder.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "SOURCE_DATE_EPOCH")}
    return subprocess.run([str(arg) for arg in args], cwd=folder, env=env, capture_output=True, text=True,
                          check=False)


def required(site: Path) -> list[str]:
    """The lines of a site's requirements.txt after the scaffold's own two-line comment."""
    lines = (site / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# The statusgen that CI installs"), lines
    return lines[2:]


def test_init_from_an_installed_release_uses_the_theme_inside_it_and_requires_that_release(
        tmp_path: Path, dist: Path) -> None:
    """`pip install statusgen` + `statusgen init` must work far from any checkout, and the new
    site's CI must install the same release."""
    venv = tmp_path / "venv"
    python = venv_with_the_running_dependencies(venv)
    pip_install(python, "--find-links", str(dist), f"statusgen=={__version__}")  # as from an index
    elsewhere = tmp_path / "elsewhere"
    statusgen = venv / "bin" / "statusgen"
    assert (done := run_far_away(elsewhere, statusgen, "init", "site")).returncode == 0, done.stderr
    assert (done := run_far_away(elsewhere, statusgen, "build", "--site", "site")).returncode == 0, done.stderr
    assert (elsewhere / "site" / "public" / "index.html").is_file()
    theme = run_far_away(elsewhere, python, "-c", "import statusgen.site.theme as t; print(t.packaged_theme())")
    assert Path(theme.stdout.strip()).is_relative_to(venv) and Path(theme.stdout.strip()).name == "site_templates"
    assert (Path(theme.stdout.strip()) / "scaffold" / WORKFLOW).is_file()
    assert required(elsewhere / "site") == [f"statusgen=={__version__}"]
    pip_install(python, "--find-links", str(dist), "-r", str(elsewhere / "site" / "requirements.txt"))


def test_init_from_a_git_install_requires_that_commit(tmp_path: Path, dist: Path) -> None:
    """Installed with `pip install git+URL@REF`: the site's CI installs the same commit."""
    repository = tmp_path / "statusgen"
    [sdist] = dist.glob("*.tar.gz")
    shutil.unpack_archive(sdist, tmp_path)
    (tmp_path / sdist.name.removesuffix(".tar.gz")).rename(repository)
    git = ["git", "-C", str(repository), "-c", "user.name=statusgen", "-c", "user.email=statusgen@example.org",
           "-c", "commit.gpgsign=false"]
    for command in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "--message", "statusgen"]):
        subprocess.run([*git, *command], check=True, capture_output=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    venv = tmp_path / "venv"
    python = venv_with_the_running_dependencies(venv)
    pip_install(python, "--no-build-isolation", f"git+{repository.as_uri()}@{commit}")
    elsewhere = tmp_path / "elsewhere"
    assert (done := run_far_away(elsewhere, venv / "bin" / "statusgen", "init", "site")).returncode == 0, done.stderr
    assert required(elsewhere / "site") == [f"statusgen @ git+{repository.as_uri()}@{commit}"]
    # pip before 24.1 (its own old packaging) rejects a PEP 508 URL without a host: read it with packaging
    from packaging.requirements import Requirement

    written = Requirement(required(elsewhere / "site")[0])
    assert (written.name, written.url) == ("statusgen", f"git+{repository.as_uri()}@{commit}")


def test_init_from_this_checkout_requires_its_commit_of_the_canonical_repository(
        tmp_path: Path, run_cli: RunCli) -> None:
    """The running install (the tests run this checkout: editable, or on the path)."""
    import statusgen

    assert Path(statusgen.__file__).resolve().parent.parent == ROOT
    code, _, err = run_cli("init", tmp_path / "site")
    assert code == 0, err
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode == 0:  # a clone
        assert required(tmp_path / "site")[-1] == f"statusgen @ git+{REPOSITORY}@{head.stdout.strip()}"
        assert required(tmp_path / "site")[0].startswith("# statusgen ran from a git checkout, not a release")
    else:  # an unpacked sdist
        assert required(tmp_path / "site")[-1] == f"statusgen=={__version__}"


CHECKOUT_NOTE = ["# statusgen ran from a git checkout, not a release: this is the commit it had checked",
                 "# out. Push it to this repository (or name your fork here) before CI runs; changes",
                 "# not committed in the checkout are not in it."]
LOCAL_NOTE = ["# statusgen ran from {url}, not from a package index: the line below",
              "# installs once 1.2.3 is published; until then, name a commit of the git",
              "# repository instead: statusgen @ git+https://github.com/statusgen/statusgen@COMMIT"]
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(("direct_url", "commit", "lines"), [
    pytest.param(None, None, ["statusgen==1.2.3"], id="from an index"),
    pytest.param({"url": "https://files.example.org/statusgen-1.2.3-py3-none-any.whl",
                  "archive_info": {"hashes": {"sha256": "00"}}}, None, ["statusgen==1.2.3"], id="a release's URL"),
    pytest.param({"url": "https://github.com/me/statusgen.git",
                  "vcs_info": {"vcs": "git", "commit_id": SHA, "requested_revision": "main"}}, None,
                 [f"statusgen @ git+https://github.com/me/statusgen.git@{SHA}"], id="git"),
    pytest.param({"url": "ssh://git@example.org/mono.git", "subdirectory": "tools/statusgen",
                  "vcs_info": {"vcs": "git", "commit_id": SHA}}, None,
                 [f"statusgen @ git+ssh://git@example.org/mono.git@{SHA}#subdirectory=tools/statusgen"],
                 id="git, a sub-folder"),
    pytest.param({"url": "file:///home/me/statusgen", "dir_info": {"editable": True}}, SHA,
                 [*CHECKOUT_NOTE, f"statusgen @ git+https://github.com/statusgen/statusgen@{SHA}"], id="editable"),
    pytest.param({"url": "file:///home/me/statusgen", "dir_info": {}}, SHA,
                 [*CHECKOUT_NOTE, f"statusgen @ git+https://github.com/statusgen/statusgen@{SHA}"],
                 id="a checkout's folder"),
    pytest.param({"url": "file:///home/me/statusgen-1.2.3", "dir_info": {}}, None,
                 [*LOCAL_NOTE, "statusgen==1.2.3"], id="a folder without git"),
    pytest.param({"url": "file:///tmp/statusgen-1.2.3-py3-none-any.whl", "archive_info": {}}, None,
                 [*LOCAL_NOTE, "statusgen==1.2.3"], id="a local wheel"),
])
def test_the_requirement_installs_the_statusgen_that_runs(direct_url: dict | None, commit: str | None,  # type: ignore[type-arg]
                                                          lines: list[str]) -> None:
    from packaging.requirements import Requirement

    written = requirement(Origin("1.2.3", direct_url, commit))
    url = (direct_url or {}).get("url", "")
    assert written == [line.format(url=url) for line in lines]
    assert all(line.startswith("# ") for line in written[:-1])
    assert Requirement(written[-1]).name == "statusgen"


def test_the_canonical_repository_is_the_projects_source_url() -> None:
    import tomllib

    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Source"] == urls["Homepage"] == REPOSITORY == "https://github.com/statusgen/statusgen"


# ── recipes: GitHub Actions and pre-commit ─────────────────────────────────────────────


def _workflow() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / WORKFLOW).read_text(encoding="utf-8"))


def test_the_workflow_init_writes_is_this_repositorys_own() -> None:
    assert (ROOT / "site_templates/scaffold" / WORKFLOW).read_bytes() == (ROOT / WORKFLOW).read_bytes()


def test_the_workflow_checks_pull_requests_and_publishes_from_main() -> None:
    workflow = _workflow()
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"] == {"branches": ["main"]}
    assert triggers["schedule"] == [{"cron": "*/5 * * * *"}]
    assert "pull_request" in triggers and "workflow_dispatch" in triggers
    check, publish = workflow["jobs"]["check"], workflow["jobs"]["publish"]
    assert check["if"] == "github.event_name == 'pull_request'"
    assert [step.get("run") for step in check["steps"]][-2:] == ["statusgen check", "statusgen build"]
    assert publish["if"] == "github.event_name != 'pull_request'"
    assert publish["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert publish["environment"]["name"] == "github-pages"
    assert publish["concurrency"] == {"group": "status-publish", "cancel-in-progress": False}
    assert "secrets" not in yaml.safe_dump(check)


NOTIFY = 'statusgen notify --transport smtp ${NOTIFY_SINCE:+--since "$NOTIFY_SINCE"} ${NOTIFY_BASELINE:+--baseline}'


UPGRADE, COPY = "statusgen db upgrade", 'statusgen db copy --site . --to "$STATUSGEN_DATABASE_URL"'
WITH_DATABASE, WITHOUT_DATABASE = "steps.store.outputs.database == 'yes'", "steps.store.outputs.database != 'yes'"


def _publish_steps() -> tuple[list[dict], list[str]]:  # type: ignore[type-arg]
    steps = _workflow()["jobs"]["publish"]["steps"]
    return steps, [step.get("uses", step.get("run", "")).split("@")[0] for step in steps]


def test_the_workflow_publishes_then_notifies_and_always_keeps_the_store() -> None:
    steps, names = _publish_steps()
    order = ["actions/cache/restore", "statusgen build", "actions/upload-pages-artifact", "actions/deploy-pages",
             COPY, UPGRADE, "statusgen doctor --transport smtp", NOTIFY, "actions/cache/save"]
    assert [names.index(name) for name in order] == sorted(names.index(name) for name in order)
    restore, save = steps[names.index("actions/cache/restore")], steps[names.index("actions/cache/save")]
    assert restore["with"]["path"] == save["with"]["path"] == ".statusgen"
    assert restore["with"]["key"] == save["with"]["key"]
    assert "github.run_id" in save["with"]["key"] and save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert save["if"].startswith("always()")
    assert steps[names.index("actions/upload-pages-artifact")]["with"]["path"] == "public"
    doctor, notify = steps[names.index("statusgen doctor --transport smtp")], steps[names.index(NOTIFY)]
    secrets = {"STATUSGEN_SMTP_HOST", "STATUSGEN_SMTP_PORT", "STATUSGEN_SMTP_SECURITY", "STATUSGEN_SMTP_USER",
               "STATUSGEN_SMTP_PASSWORD", "STATUSGEN_SMTP_FROM", "STATUSGEN_SECRET_KEY", "STATUSGEN_DATABASE_URL"}
    assert set(doctor["env"]) == secrets and set(notify["env"]) == secrets | {"NOTIFY_SINCE", "NOTIFY_BASELINE"}
    assert all(doctor["env"][key] == notify["env"][key] == f"${{{{ secrets.{key} }}}}" for key in secrets)


def test_with_a_database_secret_the_workflow_upgrades_it_and_keeps_no_cache() -> None:
    workflow = _workflow()
    steps, names = _publish_steps()
    choose = next(step for step in steps if step.get("id") == "store")
    assert names.index(choose["run"]) < names.index("actions/cache/restore")
    for value, chosen in (("postgresql://status:pw@db.example.org/status", "yes"), ("", "")):
        with tempfile.NamedTemporaryFile("r") as output:
            subprocess.run(["bash", "-c", choose["run"]], check=True,
                           env={"STATUSGEN_DATABASE_URL": value, "GITHUB_OUTPUT": output.name})
            assert output.read() == f"database={chosen}\n"  # whether it is set, never the URL
    upgrade, copy = steps[names.index(UPGRADE)], steps[names.index(COPY)]
    assert upgrade["if"] == WITH_DATABASE and copy["if"] == f"{WITH_DATABASE} && inputs.copy_to_database"
    assert steps[names.index("actions/cache/restore")]["if"] == f"{WITHOUT_DATABASE} || inputs.copy_to_database"
    assert WITHOUT_DATABASE in steps[names.index("actions/cache/save")]["if"]
    assert workflow[True]["workflow_dispatch"]["inputs"]["copy_to_database"] == {
        "description": "Once, when STATUSGEN_DATABASE_URL is new: copy the cached notifier store into the database",
        "type": "boolean", "default": False}
    url = "${{ secrets.STATUSGEN_DATABASE_URL }}"  # only where it is used: never in a job's env or another step
    assert [names[i] for i, step in enumerate(steps) if url in yaml.safe_dump(step)] == [
        choose["run"], COPY, UPGRADE, "statusgen doctor --transport smtp", NOTIFY]
    assert "env" not in workflow["jobs"]["publish"] and "env" not in workflow
    text = (ROOT / WORKFLOW).read_text(encoding="utf-8")
    assert "not honoured" not in text and "subscribers.yaml only" in text  # without the database, and only then


def test_after_losing_the_store_the_workflow_is_run_by_hand_with_since_or_baseline() -> None:
    workflow = _workflow()
    inputs = workflow[True]["workflow_dispatch"]["inputs"]
    assert inputs["since"]["default"] == "" and inputs["baseline"] == {
        "description": "After losing the notifier store: record what the site shows now, email nothing",
        "type": "boolean", "default": False}
    steps = workflow["jobs"]["publish"]["steps"]
    doctor = next(step for step in steps if step.get("run") == "statusgen doctor --transport smtp")
    notify = next(step for step in steps if step.get("run") == NOTIFY)
    assert doctor["if"] == "${{ !inputs.since && !inputs.baseline }}"  # notify checks the same itself
    assert notify["env"]["NOTIFY_SINCE"] == "${{ inputs.since }}"  # through the environment: never run as code
    assert notify["env"]["NOTIFY_BASELINE"] == "${{ inputs.baseline && 'yes' || '' }}"
    shell = {"NOTIFY_SINCE": "2026-11-30 10:00", "NOTIFY_BASELINE": ""}
    argv = subprocess.run(["bash", "-c", 'printf "%s\\n" ' + NOTIFY.removeprefix("statusgen ")], env=shell,
                          capture_output=True, text=True, check=True).stdout.splitlines()
    assert argv == ["notify", "--transport", "smtp", "--since", "2026-11-30 10:00"]


def test_the_workflow_pins_every_action_by_major_version() -> None:
    uses = [step["uses"] for job in _workflow()["jobs"].values() for step in job["steps"] if "uses" in step]
    assert uses and all(re.fullmatch(r"actions/[a-z-]+(/[a-z]+)?@v\d+", action) for action in uses), uses


def test_the_pre_commit_hook_runs_statusgen_check_on_site_files() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [hook] = hooks
    assert {key: hook[key] for key in ("id", "entry", "language", "pass_filenames")} == {
        "id": "statusgen-check", "entry": "statusgen check", "language": "python", "pass_filenames": False}
    files = re.compile(hook["files"])
    for path in ("components.yaml", "incidents/2026/2026-11-30-x.md", "content/site.yaml",
                 "content/pages/help.nl.md", "subscribers.yaml", "site_templates/i18n/nl.yaml"):
        assert files.search(path), path
    for path in ("README.md", "statusgen/cli.py", "public/index.html", "docs/incidents/x.md"):
        assert not files.search(path), path
    assert 'statusgen = "statusgen.cli:main"' in (ROOT / "pyproject.toml").read_text()


def test_the_pre_commit_examples_name_the_canonical_repository_and_a_commit() -> None:
    """No tag exists before the first release: the examples ask for a commit SHA."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("\n### pre-commit\n")[1]
    [in_readme] = yaml.safe_load(re.search(r"```yaml\n(.*?)```", readme, re.DOTALL)[1])["repos"]  # type: ignore[index]
    comment = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").split("\n\n")[0]
    example = "\n".join(line[2:] for line in comment.splitlines() if line.startswith("#   "))
    [in_hooks] = yaml.safe_load(example)["repos"]
    for repo in (in_readme, in_hooks):
        assert (repo["repo"], repo["rev"], repo["hooks"][0]["id"]) == (REPOSITORY, "COMMIT_SHA", "statusgen-check")
    assert "a release tag (`vX.Y.Z`, as\nthe release workflow makes them" in readme
    assert _release()[True]["push"]["tags"] == ["v*"]


def test_ci_runs_the_readmes_two_commands_in_a_fresh_virtualenv() -> None:
    """.ci/run proves the Quick start to someone who follows it in a virtualenv."""
    quick_start = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Quick start\n")[1].split("\n## ")[0]
    blocks = re.findall(r"```sh\n(.*?)\n```", quick_start, re.DOTALL)
    install, test = blocks[0], blocks[-1]
    assert (install, test) == ("python3 -m pip install -e '.[test]'", "python3 -m pytest")
    script = (ROOT / ".ci/run").read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if line and not line.startswith(("#", " "))]
    assert commands[-5:] == ["rm -rf .venv", "python3 -m venv .venv", ". .venv/bin/activate", install, test]
    assert "apt-get update -qq" in script and script.count("apt-get update") == 1
    assert "/.venv/" in (ROOT / ".gitignore").read_text().splitlines()


def _release() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / RELEASE).read_text(encoding="utf-8"))


def test_the_release_workflow_publishes_a_version_tag_after_building_and_testing() -> None:
    workflow = _release()
    assert workflow[True] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    build, test, publish = (workflow["jobs"][name] for name in ("build", "test", "publish"))
    build_runs = "\n".join(step.get("run", "") for step in build["steps"])
    assert "python3 -m build\n" in build_runs and "python3 -m twine check --strict dist/*" in build_runs
    assert [step["run"] for step in test["steps"] if "run" in step] == ["bash .ci/run"]
    assert test["container"].endswith("-bookworm")  # Debian's Chromium for the browser tests
    assert publish["needs"] == ["build", "test"]
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    assert [step["uses"] for step in publish["steps"]] == ["actions/download-artifact@v4",
                                                           "pypa/gh-action-pypi-publish@release/v1"]
    assert "secrets" not in yaml.safe_dump(workflow)  # trusted publishing: no token


@pytest.mark.parametrize(("tag", "code"), [(f"v{__version__}", 0), ("v9.9.9", 1), (__version__, 1)])
def test_the_release_workflow_refuses_a_tag_that_is_not_the_version(tag: str, code: int) -> None:
    [step] = [step for step in _release()["jobs"]["build"]["steps"] if "version" in step.get("name", "")]
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "GITHUB_REF_NAME": tag}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (code, "")
    if code:
        assert done.stdout == (f"::error::the tag {tag} is not v{__version__}, the version in statusgen/__init__.py; "
                               f"tag the commit that sets __version__ = \"{tag.removeprefix('v')}\"\n")


def test_today_in_the_example_incident_is_the_day_before(tmp_path: Path) -> None:
    from statusgen.authoring.init import init_site

    init_site(tmp_path / "site", today=date(2026, 3, 1))
    assert "  - at: 2026-02-28 09:20 " in (tmp_path / "site/incidents/example-incident.md").read_text()
