"""`statusgen import statuspage`: a Statuspage's components and history as site files.

Dumps are built here from dicts and from `tests/fixtures/import_map/page.json` (real-shaped
public API objects); the sources that fetch them are tested on their own. Every import is
checked the way `statusgen check` checks a site, and built where the timeline matters.
"""

from __future__ import annotations

import copy
import json
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from statusgen.content.load import load_site
from statusgen.content.model import SiteConfig, Text
from statusgen.errors import ContentErrors, SetupError
from statusgen.importer.filetext import components_text
from statusgen.importer.records import Report
from statusgen.importer.run import import_dump, open_existing
from statusgen.importer.statuspage.dump import Dump
from statusgen.importer.statuspage.mapping import map_dump
from statusgen.importer.statuspage.markup import to_markdown
from statusgen.markup import render_markdown
from tests.conftest import EXAMPLE_NOW, ROOT

RunCli = Callable[..., tuple[int, str, str]]
FIXTURES = Path(__file__).parent / "fixtures" / "import_map"
NOW = "2026-11-30T12:00:00+01:00"
SETTINGS = """\
title: {en: Acme status, nl: Acme-status}
base_url: https://status.acme.example/
languages: [en, nl]
timezone: Europe/Brussels
"""
CONFIG = SiteConfig(title=Text((("en", "Acme status"), ("nl", "Acme-status"))), description=None,
                    base_url="https://status.acme.example/", languages=("en", "nl"),
                    timezone=ZoneInfo("Europe/Brussels"))
PDF_FILE = "incidents/2026/2026-11-03-pdf-certificates-unavailable.md"
GATEWAY_FILE = "incidents/2026/2026-11-14-gateway-upgrade.md"
MOVE_FILE = "incidents/2026/2026-12-12-partner-portal-move.md"


def page_json() -> dict[str, Any]:
    return json.loads((FIXTURES / "page.json").read_text(encoding="utf-8"))


def dump_of(data: dict[str, Any], **more: Any) -> Dump:
    incidents = sorted(data.get("incidents", ()), key=lambda i: i.get("created_at") or "")
    return Dump(page=data.get("page", {}), components=tuple(data.get("components", ())),
                incidents=tuple(incidents), **more)


def new_site(tmp_path: Path, settings: str = SETTINGS, name: str = "site", **files: str) -> Path:
    """A folder with only content/site.yaml (and `files`): where a move starts."""
    site = tmp_path / name
    for path, text in {"content/site.yaml": settings, **files}.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(textwrap.dedent(text), encoding="utf-8")
    return site


def files_of(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under `folder` (public/ and .statusgen/ left out): mtime and bytes."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()
            and not p.relative_to(folder).as_posix().startswith(("public/", ".statusgen/"))}


def mapped(data: dict[str, Any], config: SiteConfig = CONFIG, existing: Any = None) -> tuple[Any, Report]:
    report = Report()
    return map_dump(dump_of(data), config, existing, report), report


def component(cid: str, name: str, position: int, **fields: Any) -> dict[str, Any]:
    return {"id": cid, "name": name, "status": "operational", "position": position, "description": None,
            "showcase": True, "start_date": None, "group_id": None, "group": False,
            "only_show_if_degraded": False, **fields}


def update(uid: str, status: str, at: str, body: str = "Text.", affected: list[Any] | None = None,
           **fields: Any) -> dict[str, Any]:
    return {"id": uid, "status": status, "body": body, "created_at": at, "updated_at": at, "display_at": at,
            "affected_components": affected, "deliver_notifications": True, **fields}


def change(code: str, old: str, new: str) -> dict[str, str]:
    return {"code": code, "name": code, "old_status": old, "new_status": new}


COMPONENTS = [component("ap1gatew4y00", "API gateway", 1), component("p4rtn3rp0rt0", "Partner portal", 2)]


def incident(iid: str, updates: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"id": iid, "name": f"Incident {iid}", "status": "resolved", "impact": "minor",
            "created_at": updates[-1]["created_at"] if updates else "2026-11-01T10:00:00.000+01:00",
            "shortlink": None, "incident_updates": updates, "components": [], **fields}


# ── markup ──────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("body", "markdown"), [
    ("We are investigating.", "We are investigating."),
    ("Line one\nLine two\n\nA new paragraph", "Line one  \nLine two\n\nA new paragraph"),
    ("See https://acme.example/a_b. Thanks", "See <https://acme.example/a_b>. Thanks"),
    ('<p>Hello <strong>world</strong></p>\n<p>Read <a href="https://acme.example/x?a=1">this</a></p>',
     "Hello **world**\n\nRead [this](https://acme.example/x?a=1)"),
    ("<b> spaced </b>and <i>slanted</i> and <em>em</em>", "**spaced** and *slanted* and *em*"),
    ("<ul>\n<li>one</li>\n<li>two</li>\n</ul>\nafter", "- one\n- two\n\nafter"),
    ("<ol><li>first<ul><li>inner</li></ul></li><li>second</li></ol>", "1. first\n    - inner\n2. second"),
    ("one<br>two<br/>three", "one  \ntwo  \nthree"),
    ("Run <code>a*b_c</code> now", "Run `a*b_c` now"),
    ('Mail <a href="mailto:desk@acme.example">desk@acme.example</a>', "Mail <mailto:desk@acme.example>"),
    ("# not a heading\n- not a list\n1. not numbered\n> not a quote\n---",
     "\\# not a heading  \n\\- not a list  \n1\\. not numbered  \n\\> not a quote  \n\\---"),
    ("a *b* _c_ snake_case [x](y) `z` 5 * 3", "a \\*b\\* \\_c\\_ snake_case [x\\](y) \\`z\\` 5 * 3"),
    ("&lt;b&gt;shown as typed&lt;/b&gt; &amp;amp; AT&amp;T", "&lt;b>shown as typed&lt;/b> &amp;amp; AT&T"),
])
def test_statuspage_markup_becomes_markdown(body: str, markdown: str) -> None:
    assert to_markdown(body).markdown == markdown
    assert to_markdown(body).notes == ()


@pytest.mark.parametrize(("body", "shown"), [
    ("a *b* _c_ [x](y) `z`", "a *b* _c_ [x](y) `z`"),
    ("# heading?\n1. list?", "# heading?<br>\n1. list?"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("x &amp;copy; y", "x &amp;copy; y"),
])
def test_escaped_text_renders_as_statuspage_showed_it(body: str, shown: str) -> None:
    assert render_markdown(to_markdown(body).markdown) == f"<p>{shown}</p>"


def test_markup_that_does_not_carry_over_is_noted() -> None:
    converted = to_markdown('<span>kept</span><script>dropped()</script> <a href="javascript:x()">text</a>')
    assert converted.markdown == "kept text"
    assert converted.notes == ("tag <span> dropped, its text kept", "<script> and its content dropped",
                               "link to 'javascript:x()' dropped (only http, https and mailto links are kept), "
                               "its text kept")


def test_a_postmortem_stays_markdown_with_its_tags_converted() -> None:
    assert to_markdown("### Cause\n\n- **a** <b>b</b>\n- c_d", markdown=True).markdown == \
        "### Cause\n\n- **a** **b**\n- c_d"


# ── components ──────────────────────────────────────────────────────────────────────────


def test_components_and_groups_in_position_order_with_ids_from_names() -> None:
    records, report = mapped({"components": [
        component("zz1", "API", 3),
        component("grp1", "Certificates", 1, group=True, components=["c2", "c1"]),
        component("c1", "PDF", 2, group_id="grp1", description="PDF files", start_date="2020-03-01",
                  showcase=False, only_show_if_degraded=True),
        component("c2", "Mobile app", 1, group_id="grp1"),
        component("zz2", "API", 2),
        component("empty", "Nothing here", 4, group=True, components=[]),
        component("lost", "Orphan", 5, group_id="gone"),
    ]})
    shown = [(r.id, r.aliases, [(m.id, m.aliases) for m in r.components or ()]) for r in records.components]
    assert shown == [("certificates", ("grp1",), [("mobile-app", ("c2",)), ("pdf", ("c1",))]),
                     ("api", ("zz2",), []), ("api-2", ("zz1",), []), ("orphan", ("lost",), [])]
    pdf = records.components[0].components[1]
    assert (pdf.description, str(pdf.start_date), pdf.showcase, pdf.only_show_if_degraded) == \
        ("PDF files", "2020-03-01", False, True)
    assert report.lines() == [
        "not imported: group empty ('Nothing here'): it has no components (statusgen needs at least one)",
        "changed: component lost ('Orphan'): its group 'gone' is not among the page's components; "
        "placed at the top level",
        "changed: texts: in the source's one language; every site language (en, nl) shows them until translated",
    ]


def test_a_rerun_keeps_ids_translations_and_ops_own_components(tmp_path: Path) -> None:
    site = new_site(tmp_path, **{"components.yaml": """\
        # Our components; ids never change.
        - id: certs
          name: {en: Certificates, nl: Certificaten}
          aliases: [grp1]
          sla: 99.9
          components:
            - id: app
              name: {en: Mobile app, nl: Mobiele app}
              aliases: [c2]
              sla: 99.95
            - id: pdf
              name: {en: PDF, nl: Pdf}
              aliases: [c1]
            - id: ops-own-member
              name: Added by ops
        - id: ops-own
          name: Our own
          description: {nl: Ops schreef dit}
    """})
    existing = open_existing(site).site
    records, _ = mapped({"components": [
        component("grp1", "Certificates", 1, group=True, components=["c1", "c2"]),
        component("c1", "PDF documents", 1, group_id="grp1"),
        component("c2", "Mobile app", 2, group_id="grp1", description="The app"),
        component("n3w", "Our own", 2),
    ]}, existing=existing)
    group, *rest = records.components
    assert (group.id, group.name) == ("certs", {"en": "Certificates", "nl": "Certificaten"})
    assert [(m.id, m.name, m.description) for m in group.components or ()] == [
        ("pdf", "PDF documents", None),                               # the source's name changed
        ("app", {"en": "Mobile app", "nl": "Mobiele app"}, "The app"),  # ops' translation stands
        ("ops-own-member", "Added by ops", None),                     # ops' own, in its group
    ]
    assert [(r.id, r.aliases, r.description) for r in rest] == [
        ("our-own", ("n3w",), None),                                  # new: the name's id was free
        ("ops-own", (), {"nl": "Ops schreef dit"}),                   # not filled in: check still says so
    ]
    # ops' availability targets stay (no source has one), and are written back
    assert (group.sla, [m.sla for m in group.components or ()]) == (99.9, [None, 99.95, None])
    written = components_text(records.components, ("en", "nl"))
    assert "  sla: 99.9\n" in written and "      sla: 99.95\n" in written


# ── incidents ───────────────────────────────────────────────────────────────────────────


def test_every_update_with_its_time_status_body_notify_and_component_changes() -> None:
    records, report = mapped(page_json())
    pdf = records.incidents[0]
    assert (pdf.kind, pdf.title, pdf.impact, pdf.aliases) == \
        ("incident", "PDF certificates unavailable", "P2", ("x0ljvc9m1wxj", "7a0d3a4d2"))
    assert pdf.components == (("pdf-certificates", "major_outage"), ("mobile-app", "partial_outage"))
    assert [(u.at.isoformat(), u.status, u.notify, u.components) for u in pdf.updates] == [
        ("2026-11-03T08:12:05+01:00", "investigating", True, ()),
        ("2026-11-03T09:00:30+01:00", "identified", False, ()),
        ("2026-11-03T09:50:00+01:00", "monitoring", True,
         (("pdf-certificates", "degraded_performance"), ("mobile-app", "operational"))),
        ("2026-11-03T11:05:00+01:00", "resolved", True, (("pdf-certificates", "operational"),)),
    ]
    assert pdf.updates[1].body == "The **signing module** cannot be reached since a network change."
    assert pdf.postmortem == "### Cause\n\nA firewall rule was lost.\n\n- **07:58** first failures"
    gateway, move = records.incidents[1:]
    assert (gateway.kind, gateway.impact, [u.status for u in gateway.updates]) == \
        ("maintenance", None, ["scheduled", "in_progress", "completed"])
    assert [t.isoformat() for t in gateway.window] == ["2026-11-14T22:00:00+01:00", "2026-11-15T02:00:00+01:00"]
    assert move.components == (("partner-portal", "under_maintenance"),)
    assert "changed: maintenance f7u7ur3m41nt ('Partner portal move'): components partner-portal: in no update; " \
           "taken as under_maintenance from the start (what impact maintenance implies)" in report.lines()


def test_display_at_wins_and_postmortem_status_is_resolved() -> None:
    records, report = mapped({"components": COMPONENTS, "incidents": [incident("i1", [
        update("u2", "postmortem", "2026-11-02T10:00:00Z", "Post-mortem published."),
        {**update("u1", "investigating", "2026-11-01T10:00:00Z"), "display_at": "2026-11-01T09:30:00.250Z"},
    ])]})
    assert [(u.at.isoformat(), u.status) for u in records.incidents[0].updates] == \
        [("2026-11-01T09:30:00+00:00", "investigating"), ("2026-11-02T10:00:00+00:00", "resolved")]
    assert "changed: incident i1 ('Incident i1'): update at 2026-11-02 11:00:00: status postmortem written as " \
           "resolved" in report.lines()


def test_start_statuses_from_the_first_update_a_later_old_status_and_the_impact() -> None:
    records, report = mapped({"components": [*COMPONENTS, component("th1rd", "Third", 3)], "incidents": [incident(
        "i1", [
            update("u3", "resolved", "2026-11-01T12:00:00Z", affected=[change("p4rtn3rp0rt0", "partial_outage",
                                                                               "operational")]),
            update("u2", "identified", "2026-11-01T11:00:00Z", affected=[change("ap1gatew4y00", "major_outage",
                                                                                 "partial_outage")]),
            update("u1", "investigating", "2026-11-01T10:00:00Z",
                   affected=[change("p4rtn3rp0rt0", "operational", "partial_outage")]),
        ], impact="critical", components=[{"id": "ap1gatew4y00"}, {"id": "p4rtn3rp0rt0"}, {"id": "th1rd"}])]})
    record = records.incidents[0]
    assert record.components == (("partner-portal", "partial_outage"), ("api-gateway", "major_outage"),
                                 ("third", "major_outage"))
    assert [u.components for u in record.updates] == [(), (("api-gateway", "partial_outage"),),
                                                       (("partner-portal", "operational"),)]
    assert record.impact == "P1"
    assert report.changed[:2] == [
        "incident i1 ('Incident i1'): component api-gateway: first changes at 2026-11-01 12:00:00 from "
        "major_outage; taken as its status from the start",
        "incident i1 ('Incident i1'): components third: in no update; taken as major_outage from the start "
        "(what impact critical implies)",
    ]


@pytest.mark.parametrize(("impact_as", "fields", "written"), [
    ("priority", {"impact": "critical"}, "P1"),
    ("priority", {"impact": "none"}, "P4"),
    ("priority", {"impact": "minor", "impact_override": "major"}, "P2"),
    ("impact", {"impact": "major"}, "major"),
    ("impact", {"impact": "minor", "impact_override": "critical"}, "critical"),
    ("priority", {"impact": None}, None),
])
def test_impact_as_priority_or_impact(impact_as: str, fields: dict[str, Any], written: str | None) -> None:
    config = SiteConfig(**{**CONFIG.__dict__, "import_impact_as": impact_as})
    records, _ = mapped({"components": COMPONENTS, "incidents": [
        incident("i1", [update("u1", "resolved", "2026-11-01T10:00:00Z")], **fields)]}, config)
    assert records.incidents[0].impact == written


def test_odd_incidents_pass_check_and_are_reported(tmp_path: Path, run_cli: RunCli) -> None:
    data = {"page": page_json()["page"], "components": COMPONENTS, "incidents": [
        incident("n0updates", [], status="resolved", created_at="2026-11-01T10:00:00Z",
                 resolved_at="2026-11-01T11:00:00Z", impact="maintenance"),
        incident("odd", [
            update("u6", "resolved", "2026-11-02T15:00:00Z", "Root cause: a full disk."),
            update("u5", "resolved", "2026-11-02T14:00:00Z", "Fixed again.",
                   affected=[change("ap1gatew4y00", "major_outage", "operational")]),
            update("u4", "investigating", "2026-11-02T13:00:00Z", "It came back."),
            update("u3", "resolved", "2026-11-02T12:00:00.900Z", "Fixed."),
            update("u2", "fixing", "2026-11-02T12:00:00.100Z", "Same second.",
                   affected=[change("n0tapag3c0mp", "operational", "major_outage"),
                             change("ap1gatew4y00", "operational", "exploded")]),
            update("u1", "investigating", "2026-11-02T11:00:00Z", "Broken.",
                   affected=[change("ap1gatew4y00", "operational", "major_outage")]),
        ]),
        incident("dr4ft", [update("u1", "resolved", "2026-11-03T10:00:00Z")], status="postmortem",
                 postmortem_body="Not ready", postmortem_published_at=None),
        incident("m41nt", [update("u1", "cancelled", "2026-11-04T10:00:00Z", "Called off.")],
                 scheduled_for="2026-11-05T10:00:00Z", scheduled_until=None),
    ]}
    site = new_site(tmp_path)
    outcome = import_dump(site, dump_of(data), now=datetime.fromisoformat(NOW))
    code, _, err = run_cli("check", "--site", site)
    assert code == 0, err
    who = "incident odd ('Incident odd')"
    assert list(outcome.lines) == [
        "components.yaml: new; incidents: 4 new, 0 updated, 0 unchanged",
        f"not imported: {who}: update at 2026-11-02 13:00:00: component n0tapag3c0mp ('n0tapag3c0mp'): "
        "not among the page's components",
        f"not imported: {who}: update at 2026-11-02 13:00:00: component ap1gatew4y00: unknown status 'exploded'",
        "not imported: incident dr4ft ('Incident dr4ft'): post-mortem: a draft, never published",
        "changed: incident n0updates ('Incident n0updates'): it has no updates; written with investigating at "
        "2026-11-01 11:00:00 and resolved at 2026-11-01 12:00:00, without text",
        "changed: incident n0updates ('Incident n0updates'): impact 'maintenance' is not an incident's impact; "
        "left to the component statuses",
        f"changed: {who}: update at 2026-11-02 13:00:00: unknown status 'fixing'; written as the status before it",
        f"changed: {who}: update at 2026-11-02 13:00:00: moved to 2026-11-02 13:00:01 "
        "(statusgen needs each update at its own time)",
        f"changed: {who}: update at 2026-11-02 13:00:01: status resolved written as monitoring "
        "(the incident was reopened after it)",
        f"changed: {who}: update at 2026-11-02 16:00:00: added to the resolved update at 2026-11-02 15:00:00 "
        "(statusgen shows nothing after the end)",
        "changed: maintenance m41nt ('Incident m41nt'): scheduled_until None is not after scheduled_for; "
        "the window ends at 2026-11-05 12:00:00",
        "changed: texts: in the source's one language; every site language (en, nl) shows them until translated",
    ]
    odd = next(i for i in load_site(site)[0].incidents if "odd" in i.aliases)
    assert [(u.at.isoformat(), u.status, u.body["en"]) for u in odd.updates] == [
        ("2026-11-02T11:00:00+00:00", "investigating", "Broken."),
        ("2026-11-02T12:00:00+00:00", "investigating", "Same second."),
        ("2026-11-02T12:00:01+00:00", "monitoring", "Fixed."),
        ("2026-11-02T13:00:00+00:00", "investigating", "It came back."),
        ("2026-11-02T14:00:00+00:00", "resolved", "Fixed again.\n\n2026-11-02 16:00:00: Root cause: a full disk."),
    ]
    cancelled = next(i for i in load_site(site)[0].incidents if "m41nt" in i.aliases)
    assert [u.status for u in cancelled.updates] == ["cancelled"]


# ── the whole import ────────────────────────────────────────────────────────────────────


def test_import_checks_builds_and_shows_the_timeline(tmp_path: Path, run_cli: RunCli) -> None:
    site = new_site(tmp_path)
    outcome = import_dump(site, dump_of(page_json()))
    assert outcome.lines[0] == "components.yaml: new; incidents: 3 new, 0 updated, 0 unchanged"
    assert sorted(files_of(site)) == ["components.yaml", "content/site.yaml", PDF_FILE, GATEWAY_FILE, MOVE_FILE]
    assert (site / PDF_FILE).read_text(encoding="utf-8").startswith(textwrap.dedent("""\
        ---
        title: PDF certificates unavailable
        type: incident
        impact: P2
        aliases: [x0ljvc9m1wxj, 7a0d3a4d2]
        components:
          pdf-certificates: major_outage
          mobile-app: partial_outage
        updates:
          - at: 2026-11-03T08:12:05+01:00
            status: investigating
            notify: false
            body: PDF certificates cannot be issued or downloaded. We are investigating.
    """))
    code, _, err = run_cli("check", "--site", site)
    assert code == 0, err
    code, _, err = run_cli("build", "--site", site, "--now", NOW)
    assert code == 0, err

    page = (site / "public/incidents/2026-11-03-pdf-certificates-unavailable/index.html").read_text(encoding="utf-8")
    for shown in ("PDF certificates unavailable", "<strong>signing module</strong>",
                  '<a href="https://acme.example/blog/outage" rel="noopener noreferrer">our blog</a>',
                  "A firewall rule was lost."):
        assert shown in page
    api = json.loads((site / "public/api/v2/incidents.json").read_text(encoding="utf-8"))["incidents"]
    assert [(i["name"], i["status"], i["impact"]) for i in api] == \
        [("PDF certificates unavailable", "postmortem", "major")]
    assert [(u["display_at"], u["status"], u["body"], u["deliver_notifications"])
            for u in api[0]["incident_updates"]] == [
        ("2026-11-03T11:05:00.000+01:00", "resolved", "Everything works again. See "
         "[our blog](https://acme.example/blog/outage).", False),
        ("2026-11-03T09:50:00.000+01:00", "monitoring", "The change was rolled back.  \n"
         "Downloads may be slow for a while.", False),
        ("2026-11-03T09:00:30.000+01:00", "identified", "The **signing module** cannot be reached since a "
         "network change.", False),
        ("2026-11-03T08:12:05.000+01:00", "investigating", "PDF certificates cannot be issued or downloaded. "
         "We are investigating.", False),
    ]
    # Imported history is published quietly: the old page told its subscribers already.
    maintenance = json.loads((site / "public/api/v2/scheduled-maintenances.json").read_text(encoding="utf-8"))
    assert [(m["name"], m["status"], m["scheduled_for"], m["scheduled_until"])
            for m in maintenance["scheduled_maintenances"]] == [
        ("Partner portal move", "scheduled", "2026-12-12T20:00:00.000+01:00", "2026-12-12T23:00:00.000+01:00"),
        ("Gateway upgrade", "completed", "2026-11-14T22:00:00.000+01:00", "2026-11-15T02:00:00.000+01:00"),
    ]


def test_a_rerun_writes_nothing_and_a_change_rewrites_exactly_its_file(tmp_path: Path) -> None:
    site = new_site(tmp_path)
    data = page_json()
    import_dump(site, dump_of(data))
    before = files_of(site)

    again = import_dump(site, dump_of(data))
    assert again.lines == ("components.yaml: unchanged; incidents: 0 new, 0 updated, 3 unchanged",
                           "changed: maintenance f7u7ur3m41nt ('Partner portal move'): components partner-portal: "
                           "in no update; taken as under_maintenance from the start (what impact maintenance "
                           "implies)",
                           "changed: texts: in the source's one language; every site language (en, nl) shows them "
                           "until translated")
    assert files_of(site) == before

    changed = copy.deepcopy(data)
    changed["incidents"][1]["incident_updates"][0]["body"] = "Completed, ahead of time."
    outcome = import_dump(site, dump_of(changed))
    assert outcome.lines[0] == "components.yaml: unchanged; incidents: 0 new, 1 updated, 2 unchanged"
    after = files_of(site)
    assert [path for path in after if after[path] != before[path]] == [GATEWAY_FILE]
    assert "    body: Completed, ahead of time.\n" in (site / GATEWAY_FILE).read_text(encoding="utf-8")


def test_a_rerun_finds_a_moved_file_by_its_alias_and_keeps_ops_translations(tmp_path: Path) -> None:
    site = new_site(tmp_path)
    import_dump(site, dump_of(page_json()))
    moved = site / "incidents/archive/pdf-outage.md"
    moved.parent.mkdir()
    text = (site / PDF_FILE).read_text(encoding="utf-8")
    (site / PDF_FILE).unlink()
    moved.write_text(text.replace("title: PDF certificates unavailable\n",
                                  "title:\n  en: PDF certificates unavailable\n  nl: PDF-certificaten onbeschikbaar\n"),
                     encoding="utf-8")
    before = files_of(site)
    outcome = import_dump(site, dump_of(page_json()))
    assert outcome.lines[0] == "components.yaml: unchanged; incidents: 0 new, 0 updated, 3 unchanged"
    assert files_of(site) == before

    data = page_json()
    data["incidents"][0]["incident_updates"][0]["body"] = "All fixed."
    import_dump(site, dump_of(data))
    assert not (site / PDF_FILE).exists()
    rewritten = moved.read_text(encoding="utf-8")
    assert "  nl: PDF-certificaten onbeschikbaar\n" in rewritten and "    body: All fixed.\n" in rewritten


def test_a_rerun_reads_aliases_written_any_way_and_only_in_front_matter(tmp_path: Path) -> None:
    site = new_site(tmp_path)
    import_dump(site, dump_of(page_json()))
    text = (site / PDF_FILE).read_text(encoding="utf-8")
    (site / PDF_FILE).write_text(text.replace("aliases: [x0ljvc9m1wxj, 7a0d3a4d2]\n",
                                              "aliases:\n  - 'x0ljvc9m1wxj'\n"), encoding="utf-8")
    (site / GATEWAY_FILE).unlink()
    (site / "incidents/2026/notes.md").write_text(
        "---\ntitle: Notes\nupdates:\n  - at: 2026-11-01 10:00\n    status: resolved\n    body: Done.\n---\n"
        "aliases: [d3kq8mzn4w2v]\n", encoding="utf-8")
    outcome = import_dump(site, dump_of(page_json()))
    assert outcome.lines[0] == "components.yaml: unchanged; incidents: 1 new, 1 updated, 1 unchanged"
    assert (site / PDF_FILE).read_text(encoding="utf-8") == text
    assert (site / GATEWAY_FILE).is_file()


def test_an_import_that_makes_an_invalid_site_puts_everything_back(tmp_path: Path) -> None:
    # Ops once named a file after a Statuspage id: the imported incident's alias clashes with it.
    site = new_site(tmp_path, **{
        "components.yaml": "- id: api-gateway\n  name: API gateway\n  aliases: [ap1gatew4y00]\n",
        "incidents/x0ljvc9m1wxj.md": "---\ntitle: Ours\nupdates:\n  - at: 2026-11-01 10:00\n"
                                     "    status: investigating\n    body: Ours.\n---\n",
    })
    before = files_of(site)
    folders = sorted(p for p in site.rglob("*") if p.is_dir())
    with pytest.raises(ContentErrors) as raised:
        import_dump(site, dump_of(page_json()))
    assert [str(e) for e in raised.value.errors] == [
        f"{PDF_FILE}:5: aliases: 'x0ljvc9m1wxj' already names incidents/x0ljvc9m1wxj.md; expected an alias "
        "no other incident has as id or alias"]
    assert files_of(site) == before
    assert sorted(p for p in site.rglob("*") if p.is_dir()) == folders


def test_a_folder_without_settings_or_with_broken_components_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SetupError) as raised:
        import_dump(empty, dump_of(page_json()))
    assert raised.value.problems[0].startswith(
        f"no content/site.yaml in {empty}: this folder is not a statusgen site; pass --site DIR with the site's "
        "folder, or create a site with `statusgen init DIR`; an import writes into a site: create "
        "content/site.yaml first")
    # The command stops there, before it reads the source (a folder that does not exist).
    code, out, err = run_cli("import", "statuspage", tmp_path / "no-such-source", "--site", empty)
    assert (code, out) == (1, "")
    assert "languages: [en]\ntimezone: Europe/Brussels\n" in err
    assert list(empty.iterdir()) == []

    broken = new_site(tmp_path, name="broken", **{"components.yaml": "- id: API\n  name: API\n"})
    before = files_of(broken)
    with pytest.raises(ContentErrors) as errors:
        import_dump(broken, dump_of(page_json()))
    assert [str(e) for e in errors.value.errors] == [
        "components.yaml:1: id: expected lowercase letters, digits and '-' such as 'dcc-app'; found 'API'"]
    assert files_of(broken) == before


def test_impact_as_impact_in_the_site_settings(tmp_path: Path, run_cli: RunCli) -> None:
    site = new_site(tmp_path, SETTINGS + "import:\n  impact_as: impact\n")
    import_dump(site, dump_of(page_json()))
    assert "\nimpact: major\n" in (site / PDF_FILE).read_text(encoding="utf-8")
    code, _, err = run_cli("check", "--site", site)
    assert code == 0, err


def test_cstate_needs_a_folder(tmp_path: Path, run_cli: RunCli) -> None:
    site = new_site(tmp_path)
    code, _, err = run_cli("import", "cstate", tmp_path / "missing", "--site", site)
    assert (code, err) == (2, f"statusgen: FOLDER: expected a cState site's folder (with config.yml and "
                              f"content/issues/); found no folder {tmp_path / 'missing'}\n")


# ── round trip ──────────────────────────────────────────────────────────────────────────


def api_dump(public: Path, cache: Path) -> Dump:
    """A site's published folder as the importer's folder source reads it (its api/v2/)."""
    from statusgen.importer.statuspage.sources import open_source

    return open_source(str(public), page_id=None, env={}, cache_dir=cache)


def timeline(public: Path) -> dict[str, Any]:
    """Each incident and maintenance of a built site's API, by title, as a reader sees it."""
    def read(name: str) -> list[dict[str, Any]]:
        data = json.loads((public / "api/v2" / name).read_text(encoding="utf-8"))
        return data.get("incidents", data.get("scheduled_maintenances"))

    found = {}
    for item in read("incidents.json") + read("scheduled-maintenances.json"):
        found[item["name"]] = {
            "status": item["status"], "impact": item["impact"],
            "window": (item.get("scheduled_for"), item.get("scheduled_until")),
            "components": sorted(c["name"] for c in item["components"]),
            "updates": [(u["display_at"], u["status"], u["body"], u["deliver_notifications"],
                         sorted((c["name"], c["old_status"], c["new_status"]) for c in u["affected_components"] or ()))
                        for u in item["incident_updates"]],
        }
    return found


def test_statusgen_api_output_round_trips(example_build: Any, tmp_path: Path) -> None:
    settings = (ROOT / "content/site.yaml").read_text(encoding="utf-8")
    site = new_site(tmp_path, settings)
    outcome = import_dump(site, api_dump(example_build.out_dir, tmp_path / "cache"))
    # 17 files, less the cancelled maintenance, which the API leaves out (Statuspage has no such status).
    assert outcome.lines[0] == "components.yaml: new; incidents: 16 new, 0 updated, 0 unchanged"
    built = tmp_path / "public"
    from statusgen.site.build import build

    build(site, built, EXAMPLE_NOW)
    original, imported = timeline(example_build.out_dir), timeline(built)
    # The API publishes a post-mortem's status, not its text: it does not come back, and says so.
    postmortem = "PDF-certificaten niet beschikbaar voor alle partners"
    assert (original[postmortem]["status"], imported[postmortem]["status"]) == ("postmortem", "resolved")
    original[postmortem]["status"] = "resolved"
    assert any(line.startswith("not imported: incident ") and line.endswith(
        f"({postmortem!r}): post-mortem: the source has its status, not its text") for line in outcome.lines)
    assert sorted(imported) == sorted(original)
    # Every imported update is quiet (`notify: false`): the old page told its subscribers.
    for entry in original.values():
        entry["updates"] = [(*u[:3], False, *u[4:]) for u in entry["updates"]]
    for name in original:
        assert imported[name] == original[name], name
    names = json.loads((built / "api/v2/components.json").read_text(encoding="utf-8"))["components"]
    assert [c["name"] for c in names] == \
        [c["name"] for c in json.loads((example_build.out_dir / "api/v2/components.json").read_bytes())["components"]]


def test_control_characters_in_the_source_are_left_out_so_the_site_builds(tmp_path: Path, run_cli: RunCli) -> None:
    """Statuspage keeps a stray backspace or escape pasted into a body; no page or feed can
    carry one (the loader refuses them), and nobody saw them: the import leaves them out."""
    data = {"page": page_json()["page"], "components": COMPONENTS, "incidents": [
        incident("ctrl", [update("u1", "investigating", "2026-11-02T11:00:00Z", "Bro\x08ken \x1b[31mnow\x00.")],
                 name="Slow\x0b API"),
    ]}
    site = new_site(tmp_path)
    import_dump(site, dump_of(data), now=datetime.fromisoformat(NOW))
    code, _, err = run_cli("build", "--site", site, "--now", NOW)
    assert code == 0, err
    found = next(i for i in load_site(site)[0].incidents if "ctrl" in i.aliases)
    assert (found.title["en"], found.updates[0].body["en"]) == ("Slow API", "Broken [31mnow.")
