"""Import benchmark: 1,000 Statuspage incidents from saved files into a fresh site.

    python bench/import_bench.py [--incidents 1000] [--profile]

Makes a synthetic page (20 components in 4 groups; incidents with 4 updates each and
component changes, one in ten a maintenance window), saves it as the public API's JSON
files, then times what `statusgen import statuspage FOLDER` does after reading them:
map, write every file, load the site as `statusgen check` does. A second run over the
same site is timed too (it finds every file by its alias and writes nothing). Prints the
seconds of each and the process's peak memory.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statusgen.importer.run import import_dump  # noqa: E402
from statusgen.importer.statuspage.dump import Dump  # noqa: E402

SETTINGS = """\
title: {en: Bench status, nl: Benchstatus}
base_url: https://status.bench.example/
languages: [en, nl]
timezone: Europe/Brussels
"""
STATUSES = ("investigating", "identified", "monitoring", "resolved")
MAINTENANCE = ("scheduled", "in_progress", "verifying", "completed")
START = datetime(2022, 1, 3, 9, tzinfo=UTC)


def components() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for g in range(4):
        members = [f"c{g}x{n}000000"[:12] for n in range(5)]
        found.append({"id": f"grp{g}00000000"[:12], "name": f"Service group {g}", "position": g + 1,
                      "group": True, "components": members, "group_id": None, "description": None})
        found += [{"id": cid, "name": f"Service {g}.{n}", "position": n + 1, "group": False,
                   "group_id": f"grp{g}00000000"[:12], "description": f"What service {g}.{n} does",
                   "showcase": True, "start_date": None, "only_show_if_degraded": False}
                  for n, cid in enumerate(members)]
    return found


def incident(number: int, codes: list[str]) -> dict[str, Any]:
    """One resolved incident (or completed maintenance) with 4 updates, newest first."""
    start = START + timedelta(hours=19 * number)
    maintenance = number % 10 == 0
    statuses = MAINTENANCE if maintenance else STATUSES
    affected = [codes[number % len(codes)], codes[(number * 7 + 3) % len(codes)]]
    worst = "under_maintenance" if maintenance else ("major_outage", "partial_outage")[number % 2]
    changes = [[(c, "operational", worst) for c in affected],
               [], [(affected[0], worst, "degraded_performance")] if not maintenance else [],
               [(c, "operational" if step == 0 else worst, "operational") for step, c in enumerate(affected)]]
    updates = []
    for step, status in enumerate(statuses):
        at = (start + timedelta(minutes=35 * step)).isoformat(timespec="milliseconds")
        updates.append({"id": f"u{number:07d}{step}x"[:12], "status": status, "created_at": at, "display_at": at,
                        "body": f"Update {step} of incident {number}: <strong>what we know</strong> and what "
                                f"we do; details at https://bench.example/incidents/{number}.",
                        "affected_components": [{"code": c, "name": c, "old_status": o, "new_status": n}
                                                for c, o, n in changes[step]] or None,
                        "deliver_notifications": step != 1})
    item: dict[str, Any] = {
        "id": f"i{number:011d}", "name": f"Incident {number}: service degraded in region {number % 7}",
        "status": statuses[-1], "impact": "maintenance" if maintenance else ("minor", "major", "critical")[number % 3],
        "created_at": updates[0]["created_at"], "shortlink": f"http://stspg.io/s{number:08d}",
        "incident_updates": list(reversed(updates)), "components": [{"id": c} for c in affected],
    }
    if maintenance:
        item["scheduled_for"] = updates[1]["created_at"]
        item["scheduled_until"] = updates[3]["created_at"]
    return item


def save(folder: Path, count: int) -> None:
    """The page as the public API's files, as a folder source holds them."""
    page = {"id": "b3nchp4g3000", "name": "Bench", "url": "https://status.bench.example",
            "time_zone": "Europe/Brussels"}
    items = components()
    codes = [item["id"] for item in items if not item["group"]]
    incidents = [incident(n, codes) for n in range(count)]
    api = folder / "api/v2"
    api.mkdir(parents=True)
    (api / "components.json").write_text(json.dumps({"page": page, "components": items}))
    (api / "incidents.json").write_text(json.dumps(
        {"page": page, "incidents": [i for i in incidents if "scheduled_for" not in i]}))
    (api / "scheduled-maintenances.json").write_text(json.dumps(
        {"page": page, "scheduled_maintenances": [i for i in incidents if "scheduled_for" in i]}))


def read(folder: Path) -> Dump:
    def load(name: str) -> dict[str, Any]:
        return json.loads((folder / "api/v2" / name).read_text())

    listed = load("components.json")
    items = load("incidents.json")["incidents"] + load("scheduled-maintenances.json")["scheduled_maintenances"]
    return Dump(page=listed["page"], components=tuple(listed["components"]),
                incidents=tuple(sorted(items, key=lambda i: i["created_at"])))


def run(saved: Path, site: Path) -> None:
    for label in ("first import", "rerun"):
        started = time.perf_counter()
        outcome = import_dump(site, read(saved))
        seconds = time.perf_counter() - started
        print(f"{label:<13} {seconds:6.2f} s  {outcome.lines[0]}  ({len(outcome.report.lines())} report lines)")
    print(f"peak memory   {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:6.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        saved, site = Path(folder) / "saved", Path(folder) / "site"
        save(saved, args.incidents)
        (site / "content").mkdir(parents=True)
        (site / "content/site.yaml").write_text(SETTINGS)
        if args.profile:
            cProfile.runctx("run(saved, site)", globals(), {"saved": saved, "site": site}, "/tmp/statusgen.prof")
            pstats.Stats("/tmp/statusgen.prof").sort_stats("cumulative").print_stats(25)
        else:
            run(saved, site)


if __name__ == "__main__":
    main()
