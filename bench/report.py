"""Every benchmark, one Markdown table: what the README's "Benchmarks" section shows.

    python bench/report.py [--quick] [--runs 3] [--timeout 1800]

Runs each benchmark as a subprocess `--runs` times, reads its last line (`RESULT {json}`)
and prints the median of each figure, with the date, the machine (CPU model, cores, RAM,
Python) and the load average before and after: on a shared machine wall time is noisy,
CPU time and peak memory are not. Besides what a benchmark says of itself, each run's CPU
time and largest process are measured from outside (`os.wait4`: the benchmark and every
process it waited for, e.g. its forked workers or the notifier's SMTP sink).

A benchmark that fails (an exit code other than 0, no RESULT line, or over the timeout)
is a row that says so, never left out. `--quick` runs the small sizes only (1,000
incidents, 1,000 subscribers), to try the report out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RAM_DISK = Path("/dev/shm")


@dataclass(frozen=True)
class Benchmark:
    """One row of the table: a script and its arguments."""

    label: str
    size: str
    script: str
    args: tuple[str, ...] = ()


@dataclass
class Outcome:
    """What the runs of one benchmark gave: figures per run, or why it failed."""

    results: list[dict[str, Any]] = field(default_factory=list)
    outside: list[tuple[float, float]] = field(default_factory=list)
    """(CPU seconds, largest process in MiB) of each run, measured by this script."""
    failure: str | None = None

    def median(self, key: str) -> float | None:
        values = [result[key] for result in self.results if isinstance(result.get(key), int | float)]
        return statistics.median(values) if values else None


def benchmarks(quick: bool, out: Path | None) -> list[Benchmark]:
    """What to run: the full build at 1k/10k/100k incidents, an edit under `serve --watch`,
    the notifier. Builds write to `out` (a RAM disk, when there is one) so the table
    measures statusgen rather than the disk."""
    sizes = (1_000,) if quick else (1_000, 10_000, 100_000)
    where = ("--out", str(out)) if out else ()
    rows = [Benchmark("full build", f"{n:,} incidents", "build_bench.py", ("--incidents", str(n), *where))
            for n in sizes]
    edited = 1_000 if quick else 10_000
    subscribers = 1_000 if quick else 10_000
    rows.append(Benchmark("one-file edit (serve --watch)", f"{edited:,} incidents", "incremental_bench.py",
                          ("--incidents", str(edited))))
    rows.append(Benchmark("notify, one P1, 4 connections", f"{subscribers:,} subscribers", "notify_bench.py",
                          ("--subscribers", str(subscribers))))
    return rows


def run_once(benchmark: Benchmark, timeout: float) -> tuple[dict[str, Any] | None, tuple[float, float], str | None]:
    """One run: its RESULT, its CPU time and largest process, and a failure if any."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen([sys.executable, str(BENCH / benchmark.script), *benchmark.args],
                                   stdout=stdout, stderr=stderr, cwd=BENCH.parent, start_new_session=True)
        status, usage, timed_out = _wait(process.pid, timeout)
        process.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here, for its resource usage
        stdout.seek(0)
        stderr.seek(0)
        lines = stdout.read().splitlines()
        errors = stderr.read().strip().splitlines()
    outside = (usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    if timed_out:
        return None, outside, f"failed: over the timeout of {timeout:.0f} s"
    if code != 0:
        last = f": {errors[-1][:120]}" if errors else ""
        return None, outside, f"failed: exit code {code}{last}"
    if not lines or not lines[-1].startswith("RESULT "):
        return None, outside, "failed: no RESULT line"
    try:
        return json.loads(lines[-1].removeprefix("RESULT ")), outside, None
    except ValueError as error:
        return None, outside, f"failed: its RESULT line is not JSON ({error})"


def _wait(pid: int, timeout: float) -> tuple[int, Any, bool]:
    """Wait for `pid` (killing its process group past `timeout`); its exit status and the
    resource usage of it and the processes it waited for."""
    deadline = time.monotonic() + timeout
    timed_out = False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, timed_out
        if not timed_out and time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            timed_out = True
        time.sleep(0.1)


def run(benchmark: Benchmark, runs: int, timeout: float) -> Outcome:
    outcome = Outcome()
    for number in range(1, runs + 1):
        print(f"report: {benchmark.label}, {benchmark.size}: run {number} of {runs}", file=sys.stderr, flush=True)
        result, outside, failure = run_once(benchmark, timeout)
        outcome.outside.append(outside)
        if failure is not None:
            outcome.failure = failure  # one failed run fails the row: a median of the rest would hide it
            break
        assert result is not None
        outcome.results.append(result)
    return outcome


def machine() -> str:
    """CPU model, cores, RAM, Python and system, in one line."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{model}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def speed() -> float:
    """Seconds this machine takes for a fixed pure-Python loop (10,000,000 additions, the
    best of three): shared virtual machines differ by a factor of three or more from day
    to day, so the table says how fast this one was when it was measured."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for number in range(10_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return best


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _number(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def row(benchmark: Benchmark, outcome: Outcome) -> str:
    """One table row: the medians, or the failure."""
    if outcome.failure is not None:
        return f"| {benchmark.label} | {benchmark.size} | {outcome.failure} | | | | | |"
    cpu = _number(outcome.median("cpu_seconds"))
    if not cpu:  # the benchmark did not say: the whole run's, setup included
        cpu = f"{_number(statistics.median(seconds for seconds, _ in outcome.outside))} (whole run)"
    largest = outcome.median("peak_rss_mib")
    children = outcome.median("peak_rss_children_mib")
    outside = statistics.median(mib for _, mib in outcome.outside)
    together = outcome.median("peak_pss_total_mib")
    memory = (_number(outside, 0) + " (largest process, whole run)" if largest is None
              else _number(largest, 0) if children is None  # (no workers: the notifier)
              else f"{_number(largest, 0)} / {_number(children, 0)}")
    if together is not None:
        memory += f" / {_number(together, 0)}"
    seconds = outcome.median("edit_seconds") or outcome.median("seconds")
    files, written = outcome.median("files"), outcome.median("bytes")
    rate = outcome.median("messages_per_second")
    return (f"| {benchmark.label} | {benchmark.size} | {_number(seconds)} | {cpu} | {memory} | "
            f"{_number(files, 0)} | {_number(None if written is None else written / 2**20, 1)} | "
            f"{_number(rate, 0) if rate is not None else ''} |")


def table(rows: Sequence[tuple[Benchmark, Outcome]], runs: int, out: Path | None, loads: tuple[str, str],
          loop: float | None = None) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} on {machine()}; median of {runs} run{'s' if runs != 1 else ''}; "
        f"load average {loads[0]} before, {loads[1]} after"
        + (f"; builds written to {RAM_DISK} (RAM disk)" if out else "")
        + (f"; this machine's speed: {loop:.2f} s for 10,000,000 additions in a Python loop" if loop else "") + ".",
        "",
        "| benchmark | size | seconds | CPU seconds | peak MiB (main / largest worker / all processes, Pss) "
        "| files | MiB published "
        "| messages/s |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
        *(row(benchmark, outcome) for benchmark, outcome in rows),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small sizes only (1,000), to try it out")
    parser.add_argument("--runs", type=int, default=3, help="runs of each benchmark; the table shows the median")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one run may take (default 1800)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs: expected 1 or more")
    out = Path(tempfile.mkdtemp(prefix="statusgen-report-", dir=RAM_DISK)) / "public" if RAM_DISK.is_dir() else None
    before, loop = load(), speed()
    try:
        rows = [(benchmark, run(benchmark, args.runs, args.timeout)) for benchmark in benchmarks(args.quick, out)]
    finally:
        if out is not None:
            shutil.rmtree(out.parent, ignore_errors=True)
    print(table(rows, args.runs, out, (before, load()), loop))
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nreport: {cpu.ru_utime + cpu.ru_stime:.0f} CPU seconds in all", file=sys.stderr)
    return 1 if any(outcome.failure for _, outcome in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
