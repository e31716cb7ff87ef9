"""A synthetic site with many incidents, for the benchmarks.

    python bench/synthetic.py DIR [--incidents 10000]
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SITE = """\
title: {nl: Benchmarkstatus, en: Benchmark status}
base_url: https://status.example.org/
languages: [nl, en]
timezone: Europe/Brussels
"""
STATUSES = ["degraded_performance", "partial_outage", "major_outage"]


def components_yaml(groups: int = 4, per_group: int = 5) -> tuple[str, list[str]]:
    lines, ids = [], []
    for g in range(groups):
        lines += [f"- id: group-{g}", f"  name: {{nl: Groep {g}, en: Group {g}}}", "  components:"]
        for c in range(per_group):
            cid = f"service-{g}-{c}"
            ids.append(cid)
            lines += [f"    - id: {cid}", f"      name: {{nl: Dienst {g}.{c}, en: Service {g}.{c}}}"]
    return "\n".join(lines) + "\n", ids


def incident(number: int, start: datetime, ids: list[str], rng: random.Random) -> str:
    affected = rng.sample(ids, rng.randint(1, 3))
    components = "".join(f"  {cid}: {rng.choice(STATUSES)}\n" for cid in affected)
    updates = []
    at = start
    for status in ("investigating", "identified", "monitoring", "resolved"):
        updates.append(
            f"  - at: '{at.isoformat(timespec='minutes')}'\n    status: {status}\n"
            f"    body:\n      nl: Update {status} voor incident {number}, we houden u op de hoogte.\n"
            f"      en: Update {status} for incident {number}, we will keep you informed.\n")
        at += timedelta(minutes=rng.randint(10, 120))
    return (f"---\ntitle: {{nl: Incident {number} met dienst {affected[0]}, en: Incident {number} "
            f"affecting {affected[0]}}}\nimpact: P{rng.randint(1, 4)}\ncomponents:\n{components}"
            f"updates:\n{''.join(updates)}---\n")


def make_site(root: Path, incidents: int = 10_000, seed: int = 1) -> Path:
    rng = random.Random(seed)
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "content" / "site.yaml").write_text(SITE)
    text, ids = components_yaml()
    (root / "components.yaml").write_text(text)
    end = datetime(2026, 11, 30, tzinfo=UTC)
    spacing = timedelta(hours=6)  # 10,000 incidents over ~7 years, a few a day
    for n in range(incidents):
        start = end - spacing * (incidents - n) + timedelta(minutes=rng.randint(0, 300))
        folder = root / "incidents" / str(start.year)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"incident-{n:05d}.md").write_text(incident(n, start, ids, rng))
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--incidents", type=int, default=10_000)
    args = parser.parse_args()
    make_site(args.dir, args.incidents)
    print(f"wrote a site with {args.incidents} incidents to {args.dir}")
