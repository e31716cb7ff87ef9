"""cState → records: the systems and categories of config.yml, the issues of content/issues/
with their update lines, and the report of what did not map one to one.

The fixture in tests/fixtures/cstate/ is laid out as cState's exampleSite is (cState 6:
params.categories and params.systems with a category each; issues whose updates end with
`{{< track "…" >}}`, newest first). Every record is also written as statusgen files with
the authoring YAML helpers and loaded by the site loader, which proves it is valid.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statusgen.authoring.incident import slugify
from statusgen.authoring.yamltext import NewUpdate, dumped, text_field
from statusgen.content.load import load_site
from statusgen.content.model import SiteConfig, Text
from statusgen.errors import ContentErrors, UsageError
from statusgen.importer.cstate import read_cstate
from statusgen.importer.records import ComponentRecord, IncidentRecord, Localised, Records, Report
from tests.conftest import SITE_YAML

FIXTURE = Path(__file__).parent / "fixtures" / "cstate"
LANGUAGES = ("en", "nl")
CONFIG = SiteConfig(title=Text.same(LANGUAGES, "Status"), description=None, base_url="https://status.example.org/",
                    languages=LANGUAGES, timezone=ZoneInfo("Europe/Brussels"))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def read(folder: Path) -> tuple[Records, Report]:
    report = Report()
    return read_cstate(folder, CONFIG, report), report


@pytest.fixture(scope="module")
def fixture() -> tuple[Records, Report]:
    return read(FIXTURE)


def incident(records: Records, alias: str) -> IncidentRecord:
    return next(record for record in records.incidents if alias in record.aliases)


def make_cstate(tmp_path: Path, files: dict[str, str]) -> Path:
    """A small cState folder: config.yml (a default unless given), content/issues/ and the files, dedented."""
    folder = tmp_path / "cstate"
    defaults = {"config.yml": """\
        params:
          systems:
            - API
            - Website
        """}
    for path, text in {**defaults, **files}.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(textwrap.dedent(text), encoding="utf-8")
    (folder / "content" / "issues").mkdir(parents=True, exist_ok=True)
    return folder


# ── components ─────────────────────────────────────────────────────────────────────────


def test_categories_become_groups_and_systems_components_in_page_order(fixture: tuple[Records, Report]) -> None:
    records, _ = fixture
    layout = [(c.id, [m.id for m in c.components] if c.components is not None else None) for c in records.components]
    assert layout == [
        ("certificates", ["certificate-service", "api", "mobile-app"]),
        ("portals", ["lookup-portal"]),
        ("website", None),             # the untitled category shows its systems without a heading
        ("status-example-org", None),
        ("legacy-gateway", None),      # its category is not defined: outside any group, last
    ]
    certificates = records.components[0]
    assert certificates.name == "Certificates"
    assert certificates.description == "Issuing and checking certificates."
    service, api, app = certificates.components or ()
    assert service.description == "Issuing and downloading certificates."
    assert app.name == "Mobile app (iOS, Android)"  # displayName is what the page shows
    # names that are valid aliases are kept; `Certificate service` (a space) is not one
    assert (service.aliases, api.aliases, certificates.aliases) == ((), ("API",), ("Certificates",))
    assert records.components[3].aliases == ("status.example.org",)


def test_ids_stay_unique_and_other_config_shapes_are_read(tmp_path: Path) -> None:
    folder = make_cstate(tmp_path, {"config.toml": """\
        timeZone = "Europe/Amsterdam"

        [[params.systems]]
        name = "Core"
        description = "The core services."
        systems = ["API", { name = "api", description = "Lower case" }, "Core"]

        [[params.systems]]
        name = "Status page"
        systems = ["Website"]
        untitled = true
        """})
    (folder / "config.yml").unlink()
    records, report = read(folder)
    flat = [(c.id, c.name, c.aliases, [(m.id, m.aliases) for m in c.components or ()]) for c in records.components]
    assert flat == [("core", "Core", ("Core",), [("api", ("API",)), ("api-2", ()), ("core-2", ())]),
                    ("website", "Website", ("Website",), [])]
    assert records.components[0].components[1].description == "Lower case"  # type: ignore[index]
    assert report.lines() == []


def test_enable_categories_false_puts_every_system_at_the_top(tmp_path: Path) -> None:
    folder = make_cstate(tmp_path, {"config.yml": """\
        params:
          enableCategories: false
          systems:
            - name: Backend
              systems: [API, Database]
            - Website
        """})
    records, _ = read(folder)
    assert [(c.id, c.is_group) for c in records.components] == [("api", False), ("database", False), ("website", False)]


def test_a_config_without_systems_keeps_components_yaml(tmp_path: Path) -> None:
    folder = make_cstate(tmp_path, {"config.yml": "title: Status\n"})
    (folder / "content" / "issues").rmdir()
    (folder / "content").rmdir()
    records, report = read(folder)
    assert records.components == ()
    assert report.lines() == [f"not imported: {folder}/config.yml: no systems (params.systems): "
                              "components.yaml is left as it is",
                              f"not imported: {folder}/content/issues: no such folder, so no issues"]


# ── issues ─────────────────────────────────────────────────────────────────────────────


def test_a_resolved_incident_with_its_track_updates(fixture: tuple[Records, Report]) -> None:
    outage = incident(fixture[0], "2026-11-03-certificate-outage")
    assert (outage.kind, outage.title, outage.impact) == ("incident", "Certificates cannot be downloaded", "P1")
    assert outage.created == utc("2026-11-03 08:20")  # 09:20 in the config's timeZone, Europe/Brussels
    assert outage.components == (("certificate-service", "major_outage"), ("api", "major_outage"))
    # written newest first, with labels; `*Update*` keeps the status before it
    assert [(u.at, u.status, u.body) for u in outage.updates] == [
        (utc("2026-11-03 08:20"), "investigating", "We're aware that certificates cannot be downloaded."),
        (utc("2026-11-03 09:05"), "investigating", "The cause is an expired certificate in the signing service."),
        (utc("2026-11-03 09:55"), "monitoring", "A fix is in place; we are watching the error rate."),
        (utc("2026-11-03 10:40"), "resolved", "Downloads work again for everyone."),
    ]
    assert outage.window is None and outage.postmortem is None


def test_an_ongoing_incident_whose_updates_start_with_their_time(fixture: tuple[Records, Report]) -> None:
    release = incident(fixture[0], "2026-11-30-app-store-release")
    assert (release.impact, release.components) == ("P2", (("mobile-app", "partial_outage"),))
    assert [(u.at, u.status, u.body) for u in release.updates] == [
        (utc("2026-11-30 08:00"), "investigating",  # the text above the first time is at the date (written with Z)
         "The new app version is waiting for store review; the current version keeps working."),
        (utc("2026-11-30 09:00"), "investigating", "Apple's review asked for more information, which we sent."),
        (utc("2026-11-30 10:30"), "investigating", "The review is going on. We expect the release tomorrow."),
    ]  # the resolved update in an HTML comment is not shown by cState, so not imported: still ongoing


def test_an_informational_post_changes_no_status_and_is_closed(fixture: tuple[Records, Report]) -> None:
    post = incident(fixture[0], "2026-10-12-new-lookup-portal")
    assert (post.kind, post.impact, post.components) == ("incident", "P4", (("lookup-portal", "operational"),))
    assert [(u.at, u.status) for u in post.updates] == [(utc("2026-10-12 08:00"), "resolved")]
    assert str(post.updates[0].body).startswith("From today, service desks find certificates")


def test_a_notice_without_times_and_names_in_another_case(fixture: tuple[Records, Report]) -> None:
    slow = incident(fixture[0], "2026-11-20-slow-lookups")  # front matter keys as the archetype writes them: Title:
    assert (slow.title, slow.impact) == ("Slow lookups", "P3")
    assert slow.components == (("lookup-portal", "degraded_performance"),)  # `Payments` is no system: reported
    assert [(u.at, u.status, u.body) for u in slow.updates] == [
        (utc("2026-11-20 13:10"), "resolved", "*Update* - Lookups are fast again.\n\n"
                                              "*Investigating* - Lookups take up to a minute."),
    ]


def test_a_maintenance_by_its_title_with_a_window(fixture: tuple[Records, Report]) -> None:
    renewal = incident(fixture[0], "2026-12-05-certificate-renewal-maintenance")
    assert (renewal.kind, renewal.impact) == ("maintenance", None)
    assert renewal.window == (utc("2026-12-05 21:00"), utc("2026-12-06 01:00"))
    assert renewal.components == (("certificate-service", "under_maintenance"),)
    assert [(u.at, u.status, u.body) for u in renewal.updates] == [
        (utc("2026-11-28 08:00"), "scheduled",
         "We renew the signing certificates. Downloads may fail for a few minutes."),
        (utc("2026-12-05 21:00"), "in_progress", "The renewal has started."),
    ]


def test_drafts_are_not_imported_and_the_report_says_what_did_not_map(fixture: tuple[Records, Report]) -> None:
    records, report = fixture
    assert sorted(a for r in records.incidents for a in r.aliases) == [
        "2026-10-12-new-lookup-portal", "2026-11-03-certificate-outage", "2026-11-20-slow-lookups",
        "2026-11-30-app-store-release", "2026-12-05-certificate-renewal-maintenance"]
    issues = f"{FIXTURE}/content/issues"
    assert report.lines() == [
        f"not imported: {FIXTURE}/config.yml:33: system 'Lookup portal' has a link (https://lookup.example.org/); "
        "components have none",
        f"not imported: {issues}/2026-09-01-test-issue.md:4: a draft (draft: true), which cState does not publish",
        f"not imported: {issues}/2026-11-20-slow-lookups.md:8: affected 'Payments': no system of that name in "
        f"{FIXTURE}/config.yml",
        f"changed: {FIXTURE}/config.yml:38: system 'Legacy gateway' is in category 'Retired', which "
        "params.categories does not define (it defines Certificates, Everything else, Portals): "
        "imported outside any group",
        f"changed: {issues}/2026-11-20-slow-lookups.md:7: affected 'lookup portal' is system 'Lookup portal' when "
        "case is ignored (cState matches the exact name)",
        f"changed: {issues}/2026-11-20-slow-lookups.md:4: resolved: true without resolvedWhen: the last update, "
        "at 2026-11-20 13:10:00 UTC, resolves it",
        "changed: 2 issues (2026-10-12-new-lookup-portal, 2026-11-20-slow-lookups): no update times "
        "({{< track >}}): the text is one update at the issue's date",
        "changed: 1 issue (2026-10-12-new-lookup-portal): informational: impact P4, systems listed without a "
        "status change; closed at the last update unless pinned and not resolved",
        "changed: 1 issue (2026-11-30-app-store-release): HTML comments, which cState does not show, are left out",
        "changed: 1 issue (2026-12-05-certificate-renewal-maintenance): the title says maintenance and "
        "resolvedWhen ends it: a maintenance window from date to resolvedWhen, whose status follows the window",
        f"changed: 13 times without an offset: read in Europe/Brussels, as Hugo reads them "
        f"(timeZone in {FIXTURE}/config.yml)",
    ]


def test_the_theme_example_shape_when_resolved_when_is_before_the_updates(tmp_path: Path) -> None:
    """cState's own example: resolvedWhen a minute after the start, updates an hour later."""
    folder = make_cstate(tmp_path, {"content/issues/2018-05-25-us-east-conn-issues.md": """\
        ---
        title: US East Connection Issues
        date: 2018-05-25 04:13:00
        resolved: true
        resolvedWhen: 2018-05-25 04:13:59
        severity: disrupted
        affected:
          - API
        section: issue
        ---

        *Resolved* -
        We believe all users have been able to connect at this time. {{< track "2018-05-25 05:54:00" >}}

        *Monitoring* - We believe the issues are caused by an isolated ISP issue. {{< track "2018-05-25 04:40:00" >}}

        *Investigating* - We're aware of connection issues. {{< track "2018-05-25 04:13:00" >}}
        """})
    records, report = read(folder)
    (issue,) = records.incidents
    assert [(u.at, u.status) for u in issue.updates] == [
        (utc("2018-05-25 04:13"), "investigating"), (utc("2018-05-25 04:40"), "monitoring"),
        (utc("2018-05-25 05:54"), "resolved")]  # no timeZone: UTC, as Hugo and cState's docs have it
    assert report.lines() == [
        f"changed: {folder}/content/issues/2018-05-25-us-east-conn-issues.md:5: resolvedWhen 2018-05-25 04:13:59 UTC "
        "is not after the update at 2018-05-25 04:40:00 UTC: resolved at 2018-05-25 05:54:00 UTC, "
        "by its resolved update",
        f"changed: 5 times without an offset: read in UTC, as Hugo reads them ({folder}/config.yml sets no timeZone)",
    ]


def test_resolved_when_after_the_updates_adds_a_resolved_update_in_every_language(tmp_path: Path) -> None:
    folder = make_cstate(tmp_path, {
        "content/issues/outage.md": """\
            ---
            title: Website down
            date: 2026-03-01T10:00:00+01:00
            resolved: true
            resolvedWhen: 2026-03-01T12:00:00+01:00
            severity: down
            affected: [Website]
            ---
            *Investigating* {{< track "2026-03-01T10:00:00+01:00" >}}
            The website does not answer.

            *Resolved* {{< track "2026-03-01T11:00:00+01:00" >}}
            Resolved, but the label is in the middle of others.

            *Update* {{< track "2026-03-01T11:30:00+01:00" >}}
            Still watching.
            """,
    })
    records, report = read(folder)
    (issue,) = records.incidents
    assert [(u.at, u.status, u.body) for u in issue.updates] == [
        (utc("2026-03-01 09:00"), "investigating", "The website does not answer."),
        (utc("2026-03-01 10:00"), "monitoring", "Resolved, but the label is in the middle of others."),
        (utc("2026-03-01 10:30"), "monitoring", "Still watching."),
        (utc("2026-03-01 11:00"), "resolved",
         {"en": "This incident has been resolved.", "nl": "Dit incident is opgelost."}),
    ]
    assert report.lines() == [f"changed: {folder}/content/issues/outage.md:12: this update says resolved, but more "
                              "follow: it is monitoring"]


def test_open_issues_stay_open_and_odd_severities_change_no_status(tmp_path: Path) -> None:
    folder = make_cstate(tmp_path, {
        "content/issues/2026/a/index.md": """\
            ---
            title: Website slow
            date: 2026-03-01
            resolved: no
            resolvedWhen: 2026-03-02
            severity: major
            affected: [Website]
            ---
            *Resolved* - Fixed? {{< track "2026-03-01 10:00" >}}
            """,
        "content/issues/2027/a.md": """\
            ---
            title: Another a
            date: 2027-01-01 09:00
            informational: true
            pin: true
            ---
            Read this first.
            """,
        "content/issues/_index.md": "---\ntitle: Issues\n---\n",
        "content/issues/json.md": '{"title": "JSON"}\n',
        "content/issues/other.markdown": "---\ntitle: A page\nsection: pages\ndate: 2026-01-01\n---\nText\n",
    })
    records, report = read(folder)
    slow, pinned = sorted(records.incidents, key=lambda r: r.created)
    assert (slow.aliases, slow.impact, slow.components) == (("a",), None, (("website", "operational"),))
    assert [(u.at, u.status, u.body) for u in slow.updates] == [(utc("2026-03-01 10:00"), "monitoring", "Fixed?")]
    # a pinned informational post that is not resolved is cState's open announcement; its alias is made unique
    assert (pinned.aliases, pinned.impact, [u.status for u in pinned.updates]) == (("a-2",), "P4", ["investigating"])
    issues = f"{folder}/content/issues"
    assert report.lines()[:7] == [
        f"not imported: {issues}/_index.md:1: Hugo's list page of the issues, not an issue",
        f"not imported: {issues}/json.md:1: JSON front matter is not read; write it as YAML between '---' lines",
        f"not imported: {issues}/other.markdown:3: section: 'pages'; cState shows only section: issue as an issue",
        f"changed: {issues}/2026/a/index.md:6: severity 'major' (expected down, disrupted or notice): its systems are "
        "listed without a status change",
        f"changed: {issues}/2026/a/index.md:5: resolvedWhen 2026-03-02 00:00:00 UTC but not resolved: true: kept open, "
        "as cState shows it",
        f"changed: {issues}/2026/a/index.md:9: this update says resolved, but the issue is not resolved: true: kept "
        "open, that update is monitoring",
        f"changed: {issues}/2027/a.md:1: its file name is kept as alias 'a-2'",
    ]


# ── broken input ───────────────────────────────────────────────────────────────────────


def test_every_broken_file_is_named_with_its_line_and_nothing_is_imported(tmp_path: Path) -> None:
    folder = make_cstate(tmp_path, {
        "content/issues/yaml.md": "---\ntitle: [unclosed\ndate: 2026-01-01\n---\n",
        "content/issues/times.md": """\
            ---
            title: Bad times
            date: yesterday
            resolved: maybe
            affected: API
            ---
            *Update* - text {{< track "30/11/2026 10:00" >}}
            """,
        "content/issues/open.md": "---\ntitle: No end\n",
        "content/issues/dst.md": "---\ntitle: Clocks\ndate: 2026-03-29 02:30:00\n---\nx\n",
        "config.yml": "timeZone: Europe/Brussels\nparams:\n  systems: [API, {description: nameless}]\n",
    })
    with pytest.raises(ContentErrors) as raised:
        read(folder)
    issues = f"{folder}/content/issues"
    assert [str(e) for e in raised.value.errors] == [
        f"{folder}/config.yml:3: systems: expected a system name or a mapping with name; found a mapping",
        f"{issues}/dst.md:3: date: local time 2026-03-29 02:30 does not exist in Europe/Brussels (the clocks skip "
        "it); write the time with its UTC offset",
        f"{issues}/open.md:1: expected the front matter to end with a '---' line; found none",
        f"{issues}/times.md:3: date: expected a time such as '2026-11-30 10:00:00' or '2026-11-30T10:00:00Z'; "
        "found 'yesterday'",
        f"{issues}/times.md:4: resolved: expected true or false; found 'maybe'",
        f"{issues}/times.md:7: track: expected a time such as '2026-11-30 10:00:00' or '2026-11-30T10:00:00Z'; "
        "found '30/11/2026 10:00'",
        f"{issues}/yaml.md:3: invalid YAML: while parsing a flow sequence from line 2, expected ',' or ']', "
        "but got ':'",
    ]


def test_a_folder_that_is_no_cstate_site_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="expected a cState site folder"):
        read(tmp_path / "missing")
    with pytest.raises(UsageError, match=r"expected a cState site with its Hugo configuration \(hugo.toml"):
        read(tmp_path)


def test_a_time_zone_that_places_nothing_is_an_error(tmp_path: Path) -> None:
    folder = make_cstate(tmp_path, {"config.yml": "title: x\ntimeZone: Local\n"})
    with pytest.raises(ContentErrors) as raised:
        read(folder)
    assert str(raised.value) == (f"{folder}/config.yml:2: timeZone: expected a time zone such as Europe/Brussels, "
                                 "to place the times written without an offset; 'Local' is the zone of whichever "
                                 "machine built the site")


# ── the records are valid statusgen content ────────────────────────────────────────────


def test_every_record_loads_as_a_valid_site(fixture: tuple[Records, Report], tmp_path: Path) -> None:
    records, _ = fixture
    site = write_site(tmp_path / "site", records)
    loaded, _ = load_site(site)
    assert [c.id for c in loaded.components] == ["certificate-service", "api", "mobile-app", "lookup-portal",
                                                 "website", "status-example-org", "legacy-gateway"]
    by_alias = {incident.aliases[0]: incident for incident in loaded.incidents}
    assert set(by_alias) == {a for r in records.incidents for a in r.aliases}
    for record in records.incidents:
        found = by_alias[record.aliases[0]]
        assert (found.kind, found.components) == (record.kind, record.components)
        assert [(u.at, u.status) for u in found.updates] == [(u.at, u.status) for u in record.updates]


def write_site(site: Path, records: Records) -> Path:
    """The records as statusgen files, written with the authoring YAML helpers (not the importer's writer)."""
    (site / "content").mkdir(parents=True)
    (site / "content" / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    lines = [line for component in records.components for line in component_lines(component, 0)]
    (site / "components.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for record in records.incidents:
        name = f"{record.created:%Y-%m-%d}-{slugify(str(record.title))}.md"
        path = site / "incidents" / str(record.created.year) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(incident_lines(record)) + "\n", encoding="utf-8")
    return site


def localised(text: Localised) -> dict[str, str]:
    return dict.fromkeys(LANGUAGES, text) if isinstance(text, str) else text


def component_lines(record: ComponentRecord, indent: int) -> list[str]:
    pad = " " * indent
    lines = [f"{pad}- id: {record.id}", *text_field("name", localised(record.name), indent + 2)]
    if record.description:
        lines += text_field("description", localised(record.description), indent + 2)
    if record.aliases:
        lines.append(f"{pad}  aliases: [{', '.join(dumped(a) for a in record.aliases)}]")
    if record.components is not None:
        lines.append(f"{pad}  components:")
        lines += [line for member in record.components for line in component_lines(member, indent + 4)]
    return lines


def incident_lines(record: IncidentRecord) -> list[str]:
    statuses = ", ".join(f"{cid}: {status}" for cid, status in record.components)
    lines = ["---", *text_field("title", localised(record.title), 0), f"type: {record.kind}",
             f"aliases: [{', '.join(dumped(a) for a in record.aliases)}]", f"components: {{{statuses}}}"]
    if record.impact:
        lines.append(f"impact: {record.impact}")
    if record.window:
        lines += ["window:", f"  start: {record.window[0].isoformat()}", f"  end: {record.window[1].isoformat()}"]
    if record.updates:
        lines.append("updates:")
    for update in record.updates:
        lines += NewUpdate(update.at.isoformat(), update.status, localised(update.body)).lines(2, 4)
    return [*lines, "---"]
