"""Monthly availability against service levels: exact minutes and percentages, the
`sla:` settings and their errors, and the page, CSV and JSON agreeing with each other."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from statusgen.content.load import load_site
from statusgen.site.availability import MonthAvailability, site_availability
from statusgen.site.build import BuildResult, build
from statusgen.site.state import site_state
from statusgen.site.theme import Theme, Translator
from tests.conftest import COMPONENTS_YAML, EXAMPLE_NOW, ROOT, SITE_YAML, MakeSite

DECEMBER = "2026-12-15T12:00:00+01:00"  # November and every month before it are complete


def incident(components: str, start: str, end: str) -> str:
    return (f"---\ntitle: Trouble\ncomponents: {components}\nupdates:\n"
            f"  - {{at: '{start}', status: investigating, body: x}}\n"
            f"  - {{at: '{end}', status: resolved, body: y}}\n---\n")


def maintenance(components: str, start: str, end: str) -> str:
    return (f"---\ntitle: Upgrade\ntype: maintenance\ncomponents: {components}\n"
            f"window: {{start: '{start}', end: '{end}'}}\n---\n")


def months_of(make_site: MakeSite, files: dict[str, str], component: str,
              now: str = DECEMBER) -> dict[str, MonthAvailability]:
    site, _ = load_site(make_site(files))
    state = site_state(site, datetime.fromisoformat(now).astimezone(UTC))
    return {month.key: month for month in site_availability(state)[component].months}


def figures(month: MonthAvailability) -> tuple[float, float, float | None]:
    return round(month.measured, 6), round(month.downtime, 6), month.percent


# --- minutes and percentages ---------------------------------------------------------------

def test_an_outage_crossing_midnight_counts_whole_within_its_month(make_site: MakeSite) -> None:
    months = months_of(make_site, {"incidents/night.md": incident(
        "{dcc-app: major_outage}", "2026-11-20 22:00", "2026-11-21 02:00")}, "dcc-app")
    assert figures(months["2026-11"]) == (43200, 240, 99.444444)  # 30 days; 2 h on each side of midnight
    assert figures(months["2026-10"]) == (44700, 0, 100.0)
    assert months["2026-11"].maintenance == 0


def test_an_outage_crossing_a_month_boundary_is_split_between_the_months(make_site: MakeSite) -> None:
    months = months_of(make_site, {"incidents/turn.md": incident(
        "{dcc-app: major_outage}", "2026-09-30 23:00", "2026-10-01 01:30")}, "dcc-app")
    assert figures(months["2026-09"]) == (43200, 60, round(100 * (1 - 60 / 43200), 6))
    assert figures(months["2026-10"]) == (44700, 90, round(100 * (1 - 90 / 44700), 6))
    assert months["2026-09"].percent == 99.861111


def test_the_month_summer_time_ends_has_an_hour_more_and_the_month_it_starts_an_hour_less(
        make_site: MakeSite) -> None:
    # 01:30 CEST to 03:30 CET on 25 October is three hours; October has 31 × 1440 + 60 minutes.
    months = months_of(make_site, {"incidents/dst.md": incident(
        "{dcc-app: major_outage}", "2026-10-25T01:30:00+02:00", "2026-10-25T03:30:00+01:00")}, "dcc-app")
    assert figures(months["2026-10"]) == (31 * 1440 + 60, 180, round(100 * (1 - 180 / 44700), 6))
    assert months["2026-10"].percent == 99.597315
    assert months["2026-03"].measured == 31 * 1440 - 60
    assert months["2026-02"].measured == 28 * 1440
    assert months["2026-10"].start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # local midnight, CEST
    assert months["2026-10"].end == datetime(2026, 10, 31, 23, tzinfo=UTC)  # local midnight, CET


def test_maintenance_is_left_out_of_the_measured_time_but_an_outage_during_it_is_downtime(
        make_site: MakeSite) -> None:
    # A four-hour window (22:00-02:00); an outage from 01:30 to 02:30 overlaps its last half hour.
    months = months_of(make_site, {
        "incidents/upgrade.md": maintenance("[dcc-app]", "2026-11-10 22:00", "2026-11-11 02:00"),
        "incidents/outage.md": incident("{dcc-app: major_outage}", "2026-11-11 01:30", "2026-11-11 02:30"),
    }, "dcc-app")
    november = months["2026-11"]
    assert november.maintenance == 210  # 240 minutes of window less the 30 the outage took over
    assert figures(november) == (43200 - 210, 60, round(100 * (1 - 60 / 42990), 6))
    assert november.percent == 99.860433
    assert months_of(make_site, {  # the other component was never under maintenance
        "incidents/upgrade.md": maintenance("[dcc-app]", "2026-11-10 22:00", "2026-11-11 02:00"),
    }, "dcc-certificates")["2026-11"].measured == 43200


def test_months_before_the_start_date_are_not_measured_and_its_month_from_that_day(
        make_site: MakeSite) -> None:
    components = COMPONENTS_YAML.replace("  name: Lookup portal", "  name: Lookup portal\n  start_date: 2026-10-15")
    months = months_of(make_site, {
        "components.yaml": components,
        "incidents/early.md": incident("{lookup-portal: major_outage}", "2026-10-10 10:00", "2026-10-10 11:00"),
        "incidents/later.md": incident("{lookup-portal: major_outage}", "2026-10-20 10:00", "2026-10-20 10:30"),
    }, "lookup-portal")
    september = months["2026-09"]
    assert (september.measured, september.percent, september.result, september.met) == (0, None, "not_measured", None)
    # 15 to 31 October: 17 days, one of them 25 hours long; the outage before the start does not count.
    assert figures(months["2026-10"]) == (17 * 1440 + 60, 30, round(100 * (1 - 30 / 24540), 6))
    assert (months["2026-10"].target, months["2026-10"].result) == (None, "no_target")  # no sla: anywhere


def test_a_partial_outage_weighs_30_percent_degraded_nothing_and_the_worst_status_wins(
        make_site: MakeSite) -> None:
    months = months_of(make_site, {
        "incidents/partial.md": incident("{dcc-app: partial_outage}", "2026-11-05 10:00", "2026-11-05 11:40"),
        "incidents/major.md": incident("{dcc-app: major_outage}", "2026-11-05 11:00", "2026-11-05 11:20"),
        "incidents/slow.md": incident("{dcc-app: degraded_performance}", "2026-11-06 12:00", "2026-11-06 13:40"),
    }, "dcc-app")
    # 80 minutes of partial outage (30%) around 20 of major outage (100%); degraded counts nothing.
    assert months["2026-11"].downtime == pytest.approx(20 + 0.3 * 80)
    assert months["2026-11"].percent == round(100 * (1 - 44 / 43200), 6) == 99.898148


def test_the_current_month_counts_until_now(make_site: MakeSite) -> None:
    months = months_of(make_site, {"incidents/now.md": incident(
        "{dcc-app: major_outage}", "2026-11-30 11:00", "2026-11-30 13:00")}, "dcc-app",
        now="2026-11-30T12:00:00+01:00")
    november = months["2026-11"]
    assert november.so_far and november.end == datetime(2026, 11, 30, 11, tzinfo=UTC)
    assert figures(november) == (29 * 1440 + 720, 60, round(100 * (1 - 60 / 42480), 6))
    assert list(months) == [f"{y}-{m:02d}" for y, m in [(2025, 11), (2025, 12)] + [(2026, n) for n in range(1, 12)]]
    assert [month.so_far for month in months.values()] == [False] * 12 + [True]


# --- targets ---------------------------------------------------------------------------------

TARGETS_COMPONENTS = """\
- id: eu-dcc
  name: EU DCC
  sla: 99.9
  components:
    - {id: dcc-certificates, name: Certificates}
    - {id: dcc-app, name: App, sla: 99.95}
- id: plain
  name: Plain
  components:
    - {id: inner, name: Inner}
- id: lookup-portal
  name: Lookup portal
"""


def test_a_target_comes_from_the_component_else_its_group_else_the_site(make_site: MakeSite) -> None:
    site, _ = load_site(make_site({"content/site.yaml": SITE_YAML + "sla: 99.5\n",
                                   "components.yaml": TARGETS_COMPONENTS}))
    assert site.config.sla == 99.5
    assert {c.id: c.sla for c in site.components} == {
        "dcc-certificates": 99.9, "dcc-app": 99.95, "inner": 99.5, "lookup-portal": 99.5}
    assert {g.id: g.sla for g in site.groups} == {"eu-dcc": 99.9, "plain": None}
    site, _ = load_site(make_site({"components.yaml": TARGETS_COMPONENTS}, name="no-default"))
    assert {c.id: c.sla for c in site.components}["lookup-portal"] is None


@pytest.mark.parametrize(("downtime", "result"), [(216, "met"), (217, "missed")])
def test_a_month_meets_its_target_at_exactly_the_target(make_site: MakeSite, downtime: int, result: str) -> None:
    # 216 minutes of 43,200 is exactly 0.5%: 99.5% meets a target of 99.5.
    end = f"2026-11-10 {10 + downtime // 60:02d}:{downtime % 60:02d}"
    months = months_of(make_site, {"content/site.yaml": SITE_YAML + "sla: 99.5\n",
                                   "incidents/a.md": incident("{dcc-app: major_outage}", "2026-11-10 10:00", end)},
                       "dcc-app")
    assert (months["2026-11"].downtime, months["2026-11"].result) == (downtime, result)
    assert months["2026-11"].met is (result == "met")
    assert months["2026-10"].result == "met"


def test_without_any_target_a_month_has_no_verdict(make_site: MakeSite) -> None:
    months = months_of(make_site, {}, "dcc-app")
    assert (months["2026-11"].target, months["2026-11"].met, months["2026-11"].result) == (None, None, "no_target")


def test_bad_targets_are_reported_with_their_lines(make_site: MakeSite, run_cli: Any) -> None:
    site = make_site({
        "content/site.yaml": SITE_YAML + "sla: 100.5\n",
        "components.yaml": """\
            - id: eu-dcc
              name: EU DCC
              sla: high
              components:
                - {id: dcc-app, name: App, sla: 0}
                - {id: dcc-certificates, name: Certificates, sla: true}
            - id: lookup-portal
              name: Lookup portal
              sla: [99]
            - {id: fine, name: Fine, sla: 100}
            """,
    })
    code, _, err = run_cli("check", "--site", site)
    expected = "expected a percentage above 0 and at most 100 such as 99.5; found"
    assert code == 1
    assert [line for line in err.splitlines() if "sla" in line] == [
        f"components.yaml:3: sla: {expected} 'high'",
        f"components.yaml:5: sla: {expected} 0",
        f"components.yaml:6: sla: {expected} True",
        f"components.yaml:9: sla: {expected} a list",
        f"content/site.yaml:5: sla: {expected} 100.5",
    ]


# --- the page, the CSV and the JSON ------------------------------------------------------------

class _Tables(HTMLParser):
    """Each availability table's rows as cell texts, by the component id of its heading."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.captions: dict[str, str] = {}
        self.heading: str | None = None
        self.cells: list[str] | None = None
        self.text: list[str] | None = None
        self.in_caption = False
        self.in_body = False
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("h2", "h3") and (found.get("id") or "").startswith("c-"):
            self.heading = (found["id"] or "")[2:]
            self.tables[self.heading] = []
        elif tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        elif tag == "caption":
            self.in_caption, self.text = True, []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self.heading and self.text is not None:
            self.captions[self.heading], self.in_caption, self.text = " ".join("".join(self.text).split()), False, None
        elif tag in ("td", "th") and self.cells is not None and self.text is not None:
            self.cells.append(" ".join("".join(self.text).split()))
            self.text = None
        elif tag == "tr" and self.cells is not None and self.heading:
            self.tables[self.heading].append(self.cells)
            self.cells = None
        elif tag == "tbody":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)


def read_tables(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def built(example_build: BuildResult) -> dict[str, Any]:
    out = example_build.out_dir
    return {
        "csv": list(csv.DictReader(io.StringIO((out / "availability.csv").read_text(encoding="utf-8"), newline=""))),
        "json": json.loads((out / "api/availability.json").read_text(encoding="utf-8")),
        "out": out,
    }


def test_the_csv_has_a_header_and_one_row_per_component_and_month(built: dict[str, Any],
                                                                  example_build: BuildResult) -> None:
    rows = built["csv"]
    components = example_build.site.components
    assert list(rows[0]) == ["component_id", "component_name", "month", "measured_minutes", "downtime_minutes",
                             "availability_percent", "target_percent", "met", "so_far"]
    assert len(rows) == len(components) * 13
    assert [row["component_id"] for row in rows[::13]] == [c.id for c in components]
    assert rows[0]["component_name"] == "Certificaten (PDF)"  # the site's default language
    assert {row["month"] for row in rows} == {f"2025-{m}" for m in ("11", "12")} | {f"2026-{m:02d}" for m in range(1, 12)}
    assert all("," not in row["availability_percent"] for row in rows)
    october = next(row for row in rows if row["component_id"] == "dcc-app" and row["month"] == "2026-10")
    assert (october["measured_minutes"], october["target_percent"], october["so_far"]) == ("44700", "99.9", "no")
    assert float(october["availability_percent"]) == round(100 * (1 - float(october["downtime_minutes"]) / 44700), 6)


def test_the_csv_matches_the_json(built: dict[str, Any]) -> None:
    document = built["json"]
    assert (document["timezone"], document["months"], document["maintenance"]) == ("Europe/Brussels", 13, "excluded")
    assert document["generated_at"] == "2026-11-30T12:00:00.000+01:00"
    from_json = []
    for component in document["components"]:
        assert set(component) == {"id", "name", "group_id", "target_percent", "months"}
        for month in component["months"]:
            from_json.append((component["id"], component["name"], month["month"], month["measured_minutes"],
                              month["downtime_minutes"], month["availability_percent"], month["target_percent"],
                              {True: "yes", False: "no", None: ""}[month["met"]], month["so_far"]))
    from_csv = [(row["component_id"], row["component_name"], row["month"], float(row["measured_minutes"]),
                 float(row["downtime_minutes"]),
                 float(row["availability_percent"]) if row["availability_percent"] else None,
                 float(row["target_percent"]) if row["target_percent"] else None, row["met"], row["so_far"] == "yes")
                for row in built["csv"]]
    assert from_csv == from_json
    missed = [(cid, month) for cid, _, month, *_, met, _ in from_json if met == "no"]
    assert ("dcc-certificates", "2026-10") in missed
    not_measured = [(cid, month) for cid, _, month, _, _, percent, *_ in from_json if percent is None]
    assert ("notification-service", "2026-04") in not_measured  # it started on 18 May 2026


@pytest.mark.parametrize(("lang", "prefix"), [("nl", ""), ("en", "en/")])
def test_the_page_shows_what_the_json_says(built: dict[str, Any], lang: str, prefix: str) -> None:
    html = (built["out"] / prefix / "availability/index.html").read_text(encoding="utf-8")
    page = read_tables(html)
    t = Translator(lang, Theme(ROOT).messages(lang), ZoneInfo("Europe/Brussels"))
    results = {"met": t("availability.results.met"), "missed": t("availability.results.missed")}
    assert any(link.endswith("availability.csv") for link in page.links)
    assert any(link.endswith("api/availability.json") for link in page.links)
    assert "<caption>" in html and '<th scope="row">' in html and '<th scope="col">' in html
    components = built["json"]["components"]
    assert list(page.tables) == [c["id"] for c in components]  # page order, under their groups
    for component in components:
        rows = page.tables[component["id"]]
        assert len(rows) == 13
        assert t.target(component["target_percent"]) in page.captions[component["id"]]
        for row, month in zip(rows, reversed(component["months"]), strict=True):  # newest first
            if month["availability_percent"] is None:
                assert row[1:] == [t("availability.not_measured")]
                continue
            assert row[1] == t.percent(month["availability_percent"], 3)
            assert row[2] == t.minutes(month["downtime_minutes"])
            assert row[3] == results[month["result"]]
            assert (t("availability.so_far") in row[0]) == month["so_far"]


def test_the_page_states_the_rule_and_is_linked_from_every_component_and_the_footer(built: dict[str, Any]) -> None:
    out = built["out"]
    page = (out / "en/availability/index.html").read_text(encoding="utf-8")
    assert "Scheduled maintenance is neither uptime nor downtime" in page
    assert "partial outage for 30%" in page
    for path, link in [("en/components/dcc-app/index.html", "../../availability/#c-dcc-app"),
                       ("en/components/eu-dcc/index.html", "../../availability/#g-eu-dcc"),
                       ("components/partner-portal/index.html", "../../availability/#c-partner-portal"),
                       ("en/index.html", "availability/")]:
        assert f'href="{link}"' in (out / path).read_text(encoding="utf-8"), path
    assert "Service level: 99.95% availability per month" in (
        out / "en/components/integration-gateway/index.html").read_text(encoding="utf-8")
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "https://status.example.org/availability/" in sitemap
    assert "https://status.example.org/en/availability/" in sitemap


def test_the_files_are_the_same_for_the_same_input_and_moment(example_build: BuildResult, tmp_path: Path) -> None:
    again = build(ROOT, tmp_path / "again", EXAMPLE_NOW)
    for path in ("availability.csv", "api/availability.json", "availability/index.html", "en/availability/index.html"):
        assert (again.out_dir / path).read_bytes() == (example_build.out_dir / path).read_bytes(), path


def test_the_months_are_the_calendars(make_site: MakeSite) -> None:
    months = months_of(make_site, {}, "dcc-app", now="2027-01-01T00:30:00+01:00")
    assert list(months)[0] == "2026-01" and list(months)[-1] == "2027-01"
    assert months["2027-01"].measured == 30 and months["2026-12"].measured == 31 * 1440
    assert months["2026-12"].month == date(2026, 12, 1)
