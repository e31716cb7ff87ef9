"""Full-build benchmark: 10,000 incidents in two languages (target: under 10 s on 2 cores).

    python bench/build_bench.py [--incidents 10000] [--profile]

Prints the time of each stage and the whole build.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import make_site  # noqa: E402

from statusgen.load import load_site  # noqa: E402
from statusgen.output import write_site  # noqa: E402
from statusgen.render import render_site  # noqa: E402
from statusgen.state import site_state  # noqa: E402
from statusgen.theme import Theme  # noqa: E402
from statusgen.uptime import site_uptime  # noqa: E402

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def timed(label: str, work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    print(f"{label:<8} {time.perf_counter() - started:6.2f} s")
    return result


def run(root: Path) -> None:
    started = time.perf_counter()
    site, _ = timed("load", lambda: load_site(root))
    state = timed("state", lambda: site_state(site, NOW))
    uptime = timed("uptime", lambda: site_uptime(state))
    outputs = timed("render", lambda: render_site(state, uptime, Theme(root)))
    timed("write", lambda: write_site(outputs, root / "public"))
    print(f"{'total':<8} {time.perf_counter() - started:6.2f} s  "
          f"({len(site.incidents)} incidents, {len(outputs)} files)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = make_site(Path(folder), args.incidents)
        if args.profile:
            cProfile.runctx("run(root)", globals(), {"root": root}, "/tmp/statusgen.prof")
            pstats.Stats("/tmp/statusgen.prof").sort_stats("cumulative").print_stats(25)
        else:
            run(root)


if __name__ == "__main__":
    main()
