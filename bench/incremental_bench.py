"""Incremental rebuild benchmark: what `statusgen serve --watch` does after one edit.

    python bench/incremental_bench.py [--incidents 10000] [--runs 3] [--clock] [--serial]
                                      [--site DIR] [--profile N] [--skip-example]

Builds the synthetic site (and the example site) once with a `Builder`, then edits,
adds, renames and deletes one incident file at a time and rebuilds, handing the builder
the changed paths as the watcher in `serve --watch` does; one rebuild without them (the
full walk a watcher overflow falls back to) is shown for comparison. Each line prints
wall time, CPU time (user+sys) and the stages, and what was rendered; the end prints peak
resident memory (self and forked workers) and, last, one machine-readable line:

    RESULT {"edit_seconds": MEDIAN, "incidents": N, ...}

where MEDIAN is the median wall time of `--runs` edits of an old incident.
Target (DESIGN.md, Scale): a one-file edit rebuilt in under 0.2 s at 10,000 incidents.
`--clock` builds at the wall clock as `serve` does by default (the uptime bars and the
home page then change with every build); without it every build uses one fixed `now`.
`--profile N` prints cProfile's N most expensive functions of one edit (cumulative).
`--site DIR` keeps a pristine synthetic site in DIR (made if missing) and edits a copy.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import make_site  # noqa: E402

from statusgen.site.build import Builder, BuildResult  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
NEW_INCIDENT = """\
---
title: {nl: Nieuw incident, en: New incident}
impact: minor
components: {service-0-0: degraded_performance}
updates:
  - {at: '2026-11-30T10:00+00:00', status: investigating, body: Looking.}
---
"""


def cpu_seconds() -> float:
    """User + system CPU time of this process and its (forked, waited-for) workers."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest waited-for child, in MiB."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_maxrss / 1024, children.ru_maxrss / 1024


class Runner:
    def __init__(self, root: Path, now: datetime | None, parallel: bool, profile: int) -> None:
        self.root, self.profile = root, profile
        self.builder = Builder(root, root / "public", now, parallel)
        self.seconds: dict[str, list[float]] = {}

    def build(self, label: str, changed: list[Path] | None = None, profile: bool = False) -> BuildResult:
        cpu = cpu_seconds()
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        result = self.builder.build(changed)
        if profiler:
            profiler.disable()
        cpu = cpu_seconds() - cpu
        self.seconds.setdefault(label, []).append(result.seconds)
        stages = "  ".join(f"{name} {seconds:.3f}" for name, seconds in result.stages)
        counters = result.counters
        print(f"{label:<34} {result.seconds:7.3f} s  cpu {cpu:7.3f} s   {stages}")
        print(f"{'':<34} {counters['pages_rendered']} pages rendered, {counters['pages_reused']} reused, "
              f"{counters['files_parsed']} files parsed, "
              f"{result.written if result.written is not None else 'all'} files written", flush=True)
        if profiler:
            print(f"\n--- cProfile of '{label}' (cumulative, top {self.profile}) ---")
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(self.profile)
        return result

    def edit(self, label: str, file: Path, old: str, new: str, profile: bool = False) -> BuildResult:
        text = file.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        file.write_text(text.replace(old, new, 1), encoding="utf-8")
        return self.build(label, [file], profile)


def synthetic(runner: Runner, runs: int) -> None:
    root = runner.root
    files = sorted((root / "incidents").rglob("*.md"))
    old, newest = files[len(files) // 2], files[-1]
    runner.build("full build (cold cache)")
    runner.build("rebuild, nothing changed", [])
    for run in range(runs):
        runner.edit("edit an old incident", old, "we will keep you informed", f"we keep you posted ({run})",
                    profile=runner.profile > 0 and run == runs - 1)
        old.write_text(old.read_text(encoding="utf-8").replace(f"we keep you posted ({run})",
                                                                "we will keep you informed"), encoding="utf-8")
        runner.build("(edit undone)", [old])
    runner.edit("edit the newest incident", newest, "we will keep you informed", "we keep you posted")
    runner.edit("retitle the newest incident", newest, "en: Incident", "en: Outage")
    added = newest.parent / "incident-zz-new.md"
    added.write_text(NEW_INCIDENT, encoding="utf-8")
    runner.build("add a new incident", [added])
    renamed = added.with_name("incident-zz-renamed.md")
    added.rename(renamed)
    runner.build("rename it", [added, renamed])
    renamed.unlink()
    runner.build("delete it", [renamed])
    old.write_text(old.read_text(encoding="utf-8").replace("we will keep you informed", "we inform you"),
                   encoding="utf-8")
    runner.build("edit, no watcher paths (walk)", None)


def example(folder: Path, now: datetime | None, parallel: bool) -> None:
    site = folder / "example"
    site.mkdir()
    for name in ("components.yaml", "subscribers.yaml"):
        shutil.copy(ROOT / name, site / name)
    for name in ("content", "incidents"):
        shutil.copytree(ROOT / name, site / name)
    outage = site / "incidents" / "2026" / "2026-11-03-pdf-certificates-unavailable.md"
    runner = Runner(site, now, parallel, 0)
    runner.build("full build (cold cache)")
    runner.build("rebuild, nothing changed", [])
    runner.edit("edit an incident's title", outage, "en: PDF", "en: Downloadable PDF")
    runner.edit("edit an update", outage, "are investigating with the highest priority", "investigate first")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="edits of an old incident (the median is the result)")
    parser.add_argument("--clock", action="store_true", help="build at the wall clock, as serve does")
    parser.add_argument("--serial", action="store_true", help="no forked workers")
    parser.add_argument("--site", type=Path, help="keep a pristine synthetic site here (made if missing)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile one edit, top N")
    parser.add_argument("--skip-example", action="store_true")
    args = parser.parse_args()
    now = None if args.clock else NOW
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "synthetic"
        pristine = args.site or root
        if not (pristine / "incidents").is_dir():
            started = time.perf_counter()
            make_site(pristine, args.incidents)
            print(f"(made the synthetic site in {time.perf_counter() - started:.1f} s)")
        if pristine != root:
            shutil.copytree(pristine, root, ignore=shutil.ignore_patterns("public"))
        incidents = sum(1 for _ in (root / "incidents").rglob("*.md"))
        print(f"\nsynthetic site, {incidents} incidents")
        runner = Runner(root, now, not args.serial, args.profile)
        synthetic(runner, args.runs)
        if not args.skip_example:
            print("\nexample site")
            example(Path(folder), now, not args.serial)
    edits = runner.seconds["edit an old incident"]
    own, child = peak_mib()
    print(f"\npeak resident memory: {own:.0f} MiB this process, {child:.0f} MiB largest worker; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("RESULT " + json.dumps({
        "edit_seconds": round(statistics.median(edits), 4), "incidents": incidents,
        "edit_runs": [round(s, 4) for s in edits],
        "add_seconds": round(runner.seconds["add a new incident"][0], 4),
        "walk_seconds": round(runner.seconds["edit, no watcher paths (walk)"][0], 4),
        "peak_mib": round(own), "peak_worker_mib": round(child)}, sort_keys=True))


if __name__ == "__main__":
    main()
