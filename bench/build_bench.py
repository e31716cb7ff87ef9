"""Full-build benchmark: 10,000 incidents in two languages (target: under 10 s on 2 cores).

    python bench/build_bench.py [--incidents 10000] [--out FOLDER] [--profile]

Prints the time of each stage and the whole build, as `statusgen build` runs it. The
write stage measures the disk as much as statusgen: `--out /dev/shm/statusgen-bench`
(a RAM disk) shows statusgen's own part of it. The last line is `RESULT {json}` for
`bench/report.py`: incidents, seconds, cpu_seconds (the build's, this process and its
workers), peak_rss_mib (this process, whole run) and peak_rss_children_mib (the largest
worker), files and bytes published, snapshot_bytes (written beside, not published).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import make_site  # noqa: E402

from statusgen.site.build import build  # noqa: E402

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def run(root: Path, out: Path) -> None:
    """`statusgen build` as the command runs it, with the time of each stage."""
    before = cpu_seconds()
    result = build(root, out, NOW)
    cpu = cpu_seconds() - before
    for stage, seconds in result.stages:
        print(f"{stage:<8} {seconds:6.2f} s")
    print(f"{'total':<8} {result.seconds:6.2f} s  ({len(result.site.incidents)} incidents, "
          f"{len(result.outputs)} files)")
    print("RESULT " + json.dumps({
        "incidents": len(result.site.incidents), "seconds": round(result.seconds, 3), "cpu_seconds": round(cpu, 3),
        "peak_rss_mib": round(peak_rss_mib(resource.RUSAGE_SELF), 1),
        "peak_rss_children_mib": round(peak_rss_mib(resource.RUSAGE_CHILDREN), 1),
        "files": len(result.outputs), "bytes": sum(len(content) for content in result.outputs.values()),
        "snapshot_bytes": len(result.outputs.snapshot or b"")}), flush=True)


def cpu_seconds() -> float:
    """User and system time of this process and the workers it waited for."""
    return sum(usage.ru_utime + usage.ru_stime for usage in map(resource.getrusage,
                                                                (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def peak_rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="output folder (default: inside the synthetic site)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = make_site(Path(folder), args.incidents)
        out = args.out or root / "public"
        try:
            if args.profile:
                cProfile.runctx("run(root, out)", globals(), {"root": root, "out": out}, "/tmp/statusgen.prof")
                pstats.Stats("/tmp/statusgen.prof").sort_stats("cumulative").print_stats(25)
            else:
                run(root, out)
        finally:
            if args.out:
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
