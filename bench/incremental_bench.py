"""Incremental rebuild benchmark: what `statusgen serve --watch` does after one edit.

    python bench/incremental_bench.py [--incidents 10000] [--clock] [--serial]

Builds the synthetic site (and the example site) once with a `Builder`, then edits one
incident file at a time and rebuilds; prints the stages of each build and what it
rendered. Target (DESIGN.md, Scale): a one-file edit rebuilt in under 0.5 s.
`--clock` builds at the wall clock as `serve` does by default (the uptime bars and the
home page then change with every build); without it every build uses one fixed `now`.
The last line is `RESULT {json}` for `bench/report.py`: incidents and edit_seconds, the
median of the synthetic site's one-file edits.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import make_site  # noqa: E402

from statusgen.site.build import Builder, BuildResult  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def report(label: str, result: BuildResult) -> None:
    stages = "  ".join(f"{name} {seconds:.3f}" for name, seconds in result.stages)
    counters = result.counters
    print(f"{label:<28} {result.seconds:7.3f} s   {stages}")
    print(f"{'':<28} {counters['pages_rendered']} pages rendered, {counters['pages_reused']} reused, "
          f"{counters['files_parsed']} files parsed, {result.written if result.written is not None else 'all'}"
          " files written")


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def run(name: str, root: Path, edits: list[tuple[str, Path, str, str]], now: datetime | None,
        parallel: bool) -> list[float]:
    """The edits' rebuild times, in seconds."""
    print(f"\n{name}")
    builder = Builder(root, root / "public", now, parallel)
    report("full build (cold cache)", builder.build())
    report("rebuild, nothing changed", builder.build())
    times = []
    for label, file, old, new in edits:
        edit(file, old, new)
        result = builder.build()
        report(label, result)
        times.append(result.seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--clock", action="store_true", help="build at the wall clock, as serve does")
    parser.add_argument("--serial", action="store_true", help="no forked workers for the first build")
    args = parser.parse_args()
    now = None if args.clock else NOW
    with tempfile.TemporaryDirectory() as folder:
        root = make_site(Path(folder) / "synthetic", args.incidents)
        files = sorted((root / "incidents").rglob("*.md"))
        old, newest = files[len(files) // 2], files[-1]
        edits = run(f"synthetic site, {args.incidents} incidents", root, [
            ("edit an old incident", old, "we will keep you informed", "we keep you posted"),
            ("edit the newest incident", newest, "we will keep you informed", "we keep you posted"),
            ("retitle the newest incident", newest, "en: Incident", "en: Outage"),
        ], now, not args.serial)
        example = Path(folder) / "example"
        example.mkdir()
        for name in ("components.yaml", "subscribers.yaml"):
            shutil.copy(ROOT / name, example / name)
        for name in ("content", "incidents"):
            shutil.copytree(ROOT / name, example / name)
        outage = example / "incidents" / "2026" / "2026-11-03-pdf-certificates-unavailable.md"
        run("example site", example, [
            ("edit an incident's title", outage, "en: PDF", "en: Downloadable PDF"),
            ("edit an update", outage, "are investigating with the highest priority", "investigate first"),
        ], now, not args.serial)
    print("RESULT " + json.dumps({"incidents": args.incidents, "edit_seconds": round(statistics.median(edits), 3),
                                  "edits": [round(seconds, 3) for seconds in edits]}), flush=True)


if __name__ == "__main__":
    main()
