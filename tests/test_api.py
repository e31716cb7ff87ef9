"""The Statuspage-compatible API: every document against its schema, and Statuspage's semantics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from statusgen.site.api import api_documents
from statusgen.site.build import BuildResult, build, render
from statusgen.site.theme import Theme
from tests.conftest import EXAMPLE_NOW, ROOT, MakeSite

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "statuspage-v2.schema.json").read_text())
DOCUMENTS = ["summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
             "scheduled-maintenances.json", "scheduled-maintenances/upcoming.json",
             "scheduled-maintenances/active.json"]
# Key order as captured from real Statuspage pages (clients and diffs see the same order).
INCIDENT_KEYS = ["id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
                 "shortlink", "started_at", "page_id", "incident_updates", "components"]
UPDATE_KEYS = ["id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
               "affected_components", "deliver_notifications", "custom_tweet", "tweet_id"]
COMPONENT_KEYS = ["id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
                  "start_date", "group_id", "page_id", "group", "only_show_if_degraded"]


def validator(document: str) -> Draft202012Validator:
    name = document.removesuffix(".json").replace("/", "-")
    return Draft202012Validator({"$ref": f"#/$defs/documents/{name}", "$defs": SCHEMA["$defs"]})


def load(outputs: dict[str, bytes], path: str) -> Any:
    return json.loads(outputs[path])


@pytest.mark.parametrize("prefix", ["", "en/"])
@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_document_matches_its_schema(example_build: BuildResult, prefix: str, document: str) -> None:
    data = load(example_build.outputs, f"{prefix}api/v2/{document}")
    errors = sorted(validator(document).iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.mark.parametrize("spoil", [
    lambda d: d["incidents"][0].update(status="fixed"),
    lambda d: d["incidents"][0].update(status="resolved"),
    lambda d: d["components"][1].pop("group_id"),
    lambda d: d["page"].update(updated_at="2026-11-30 12:00"),
    lambda d: d["incidents"][0]["incident_updates"][0].update(affected_components=[]),
    lambda d: d["components"][0].pop("components"),
])
def test_the_schemas_reject_what_statuspage_clients_would_not_accept(example_build: BuildResult, spoil) -> None:
    data = load(example_build.outputs, "api/v2/summary.json")
    assert validator("summary.json").is_valid(data)
    spoil(data)
    assert not validator("summary.json").is_valid(data)


def test_keys_are_in_statuspages_order_and_nulls_are_kept(example_build: BuildResult) -> None:
    data = load(example_build.outputs, "api/v2/incidents.json")
    assert list(data) == ["page", "incidents"]
    assert list(data["page"]) == ["id", "name", "url", "time_zone", "updated_at"]
    for incident in data["incidents"]:
        assert list(incident) == INCIDENT_KEYS
        assert all(list(update) == UPDATE_KEYS for update in incident["incident_updates"])
        assert all(list(c) == COMPONENT_KEYS for c in incident["components"])
    maintenance = load(example_build.outputs, "api/v2/scheduled-maintenances.json")["scheduled_maintenances"][0]
    assert list(maintenance) == [*INCIDENT_KEYS, "scheduled_for", "scheduled_until"]
    summary = load(example_build.outputs, "api/v2/summary.json")
    assert list(summary) == ["page", "components", "incidents", "scheduled_maintenances", "status"]
    ongoing = summary["incidents"][0]
    assert ongoing["resolved_at"] is None and "resolved_at" in ongoing


def test_summary_of_the_example_site(example_build: BuildResult) -> None:
    summary = load(example_build.outputs, "en/api/v2/summary.json")
    assert summary["page"] == {"id": summary["page"]["id"], "name": "Regional Integration Platform status",
                               "url": "https://status.example.org", "time_zone": "Europe/Brussels",
                               "updated_at": "2026-11-30T06:32:00.000+01:00"}
    assert summary["status"] == {"indicator": "minor", "description": "Minor Service Outage"}
    assert [i["name"] for i in summary["incidents"]] == [
        "Lookup application slow because the nightly synchronisation overran"]
    incident = summary["incidents"][0]
    assert (incident["status"], incident["impact"]) == ("identified", "minor")
    assert incident["shortlink"] == "https://status.example.org/en/incidents/2026-11-30-lookup-app-slow/"
    assert incident["started_at"] == "2026-11-30T05:55:00.000+01:00"
    assert [u["status"] for u in incident["incident_updates"]] == ["identified", "identified", "investigating"]
    assert [u["deliver_notifications"] for u in incident["incident_updates"]] == [False, True, True]
    assert incident["incident_updates"][-1]["affected_components"] == [{
        "code": incident["components"][0]["id"], "name": "Lookup application for service desks",
        "old_status": "operational", "new_status": "degraded_performance"}]
    assert [m["status"] for m in summary["scheduled_maintenances"]] == ["scheduled"]
    maintenance = summary["scheduled_maintenances"][0]
    assert (maintenance["scheduled_for"], maintenance["scheduled_until"]) == (
        "2026-12-06T22:00:00.000+01:00", "2026-12-07T02:00:00.000+01:00")
    assert maintenance["impact"] == "maintenance"


def test_groups_and_their_components(example_build: BuildResult) -> None:
    components = load(example_build.outputs, "api/v2/components.json")["components"]
    groups = [c for c in components if c["group"]]
    assert [g["name"] for g in groups] == ["EU Digitale COVID-certificaten", "Platformdiensten"]
    by_id = {c["id"]: c for c in components}
    for group in groups:
        children = [by_id[cid] for cid in group["components"]]
        assert all(child["group_id"] == group["id"] for child in children)
        assert [child["position"] for child in children] == list(range(1, len(children) + 1))
    lookup = next(c for c in components if c["name"] == "Opzoekapplicatie voor servicedesks")
    assert lookup["status"] == "degraded_performance"
    assert by_id[lookup["group_id"]]["status"] == "degraded_performance"
    assert [c["position"] for c in components if not c["group_id"]] == [1, 2, 3]


def test_a_resolved_p1_with_its_timeline_and_postmortem(example_build: BuildResult) -> None:
    incidents = load(example_build.outputs, "en/api/v2/incidents.json")["incidents"]
    p1 = next(i for i in incidents if i["name"] == "PDF certificates unavailable for all partners")
    assert (p1["status"], p1["impact"]) == ("postmortem", "critical")
    assert p1["monitoring_at"] == "2026-11-03T09:50:00.000+01:00"
    assert p1["resolved_at"] == "2026-11-03T11:05:00.000+01:00"
    monitoring = next(u for u in p1["incident_updates"] if u["status"] == "monitoring")
    assert sorted((a["name"], a["old_status"], a["new_status"]) for a in monitoring["affected_components"]) == [
        ("Certificates (PDF)", "major_outage", "degraded_performance"),
        ("Integration gateway (API)", "degraded_performance", "operational"),
        ("Mobile app", "partial_outage", "operational")]
    assert {c["name"] for c in p1["components"]} == {"Certificates (PDF)", "Mobile app", "Integration gateway (API)"}
    assert all(u["incident_id"] == p1["id"] for u in p1["incident_updates"])


def test_maintenance_lists_follow_the_build_time(tmp_path: Path) -> None:
    during = build(ROOT, tmp_path / "during", "2026-12-06T23:00:00+01:00").outputs
    active = load(during, "api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert [m["status"] for m in active] == ["in_progress"]
    assert [u["status"] for u in active[0]["incident_updates"]] == ["in_progress", "scheduled"]
    assert active[0]["incident_updates"][0]["body"] == "Het onderhoudsvenster is begonnen."
    assert load(during, "api/v2/scheduled-maintenances/upcoming.json")["scheduled_maintenances"] == []
    assert load(during, "api/v2/status.json")["status"]["indicator"] in ("minor", "maintenance")
    after = build(ROOT, tmp_path / "after", "2026-12-08T12:00:00+01:00").outputs
    listed = load(after, "api/v2/scheduled-maintenances.json")["scheduled_maintenances"]
    assert listed[0]["status"] == "completed" and listed[0]["resolved_at"] == "2026-12-07T02:00:00.000+01:00"
    assert all(m["name"] != "Upgrade van de eID-connector" for m in listed)  # cancelled: left out


def test_lists_hold_the_50_most_recent(make_site: MakeSite, tmp_path: Path) -> None:
    files = {f"incidents/i{n:02d}.md": (f"---\ntitle: Incident {n}\ncomponents: {{}}\nupdates:\n"
                                        f"  - {{at: '2026-11-{1 + n // 3:02d} {8 + n % 3:02d}:00', status: resolved, body: x}}\n---\n")
             for n in range(60)}
    incidents = load(build(make_site(files), tmp_path / "o", EXAMPLE_NOW).outputs, "api/v2/incidents.json")["incidents"]
    assert len(incidents) == 50
    assert incidents[0]["name"] == "Incident 59" and incidents[-1]["name"] == "Incident 10"


def test_ids_are_stable_across_builds_times_and_edits(make_site: MakeSite, tmp_path: Path) -> None:
    incident = ("---\ntitle: {title}\ncomponents: {{dcc-app: major_outage}}\nupdates:\n"
                "  - {{at: 2026-11-20 10:00, status: investigating, body: {body}}}\n"
                "  - {{at: 2026-11-20 11:00, status: resolved, body: Fixed}}\n---\n")
    site = make_site({"incidents/app-down.md": incident.format(title="App down", body="Looking")})

    def ids(now: str, out: str) -> tuple[Any, ...]:
        data = load(build(site, tmp_path / out, now).outputs, "api/v2/incidents.json")
        first = data["incidents"][0]
        return (data["page"]["id"], first["id"], [u["id"] for u in first["incident_updates"]],
                [c["id"] for c in first["components"]])

    before = ids(EXAMPLE_NOW, "a")
    assert ids("2026-12-24T12:00:00+01:00", "b") == before
    (site / "incidents" / "app-down.md").write_text(incident.format(title="Mobile app down", body="We look"))
    assert ids(EXAMPLE_NOW, "c") == before


def test_documents_are_the_same_as_the_library_returns() -> None:
    _, state, outputs = render(ROOT, EXAMPLE_NOW)
    documents = api_documents(state, Theme(ROOT), "en")
    for name in DOCUMENTS:
        assert json.loads(outputs[f"en/api/v2/{name}"]) == documents[name]
