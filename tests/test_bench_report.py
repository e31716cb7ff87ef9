"""`bench/report.py`: every benchmark's RESULT line in one table; a failure is a row, never left out."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_report"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def script(tmp_path: Path, name: str, body: str) -> str:
    (tmp_path / name).write_text(body)
    return str(tmp_path / name)  # absolute: bench/ / an absolute path is the path


def test_what_a_benchmark_does_not_say_is_measured_from_outside(report: ModuleType, tmp_path: Path) -> None:
    bench = report.Benchmark("notify", "10 subscribers", script(tmp_path, "rate.py", """\
print('RESULT {"messages_per_second": 1234.5}')
"""))
    shown = report.row(bench, report.run(bench, 1, 60))
    assert re.fullmatch(r"\| notify \| 10 subscribers \|  \| \d+\.\d\d \(whole run\) \| \d+ \(largest process, "
                        r"whole run\) \|  \|  \| 1,234 \|", shown), shown


def test_the_medians_of_the_runs_make_a_row(report: ModuleType, tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    bench = report.Benchmark("full build", "10 incidents", script(tmp_path, "ok.py", f"""\
import json, pathlib
file = pathlib.Path({str(counter)!r})
run = len(file.read_text()) if file.exists() else 0
file.write_text("x" * (run + 1))
print("stages ...")
print("RESULT " + json.dumps({{"seconds": [1.0, 3.0, 2.0][run], "cpu_seconds": 4.5, "peak_rss_mib": 200,
                               "peak_rss_children_mib": 150, "peak_pss_total_mib": [390.4, 380.0, 399.0][run],
                               "files": 25000, "bytes": 2 * 2**20}}))
"""))
    outcome = report.run(bench, 3, 60)
    assert outcome.failure is None and len(outcome.results) == 3
    assert report.row(bench, outcome) == "| full build | 10 incidents | 2.00 | 4.50 | 200 / 150 / 390 | 25,000 | 2.0 |  |"


def test_a_benchmark_without_workers_shows_one_memory_figure(report: ModuleType, tmp_path: Path) -> None:
    bench = report.Benchmark("notify", "10 subscribers", script(tmp_path, "notify.py", """\
print('RESULT {"seconds": 5.0, "cpu_seconds": 6.0, "peak_rss_mib": 100, "messages_per_second": 1914}')
"""))
    assert report.row(bench, report.run(bench, 1, 60)) == "| notify | 10 subscribers | 5.00 | 6.00 | 100 |  |  | 1,914 |"


@pytest.mark.parametrize(("body", "shown"), [
    ("import sys\nprint('RESULT {}')\nsys.exit('boom')\n", "failed: exit code 1: boom"),
    ("print('all done')\n", "failed: no RESULT line"),
    ("print('RESULT {nope')\n", "failed: its RESULT line is not JSON"),
    ("import time\ntime.sleep(30)\n", "failed: over the timeout of 1 s"),
])
def test_a_failed_benchmark_is_a_row_saying_why(report: ModuleType, tmp_path: Path, body: str, shown: str) -> None:
    bench = report.Benchmark("notify", "10 subscribers", script(tmp_path, "bad.py", body))
    outcome = report.run(bench, 3, 1)
    assert outcome.failure is not None and outcome.failure.startswith(shown)
    assert len(outcome.outside) == 1  # the first failure ends the row: no median over the rest
    text = report.table([(bench, outcome)], 3, None, ("1.00", "2.00"))
    assert f"| notify | 10 subscribers | {shown}" in text


def test_the_table_says_when_where_and_under_what_load(report: ModuleType) -> None:
    text = report.table([], 3, Path("/dev/shm/x/public"), ("5.10 4.00 3.00", "6.00 5.00 4.00"))
    first = text.splitlines()[0]
    assert first.startswith("Measured ") and " cores, " in first and " GiB RAM, Python " in first
    assert "median of 3 runs; load average 5.10 4.00 3.00 before, 6.00 5.00 4.00 after" in first
    assert first.endswith("builds written to /dev/shm (RAM disk).")
    with_speed = report.table([], 1, None, ("1.00", "1.00"), 1.234).splitlines()[0]
    assert with_speed.endswith("; this machine's speed: 1.23 s for 10,000,000 additions in a Python loop.")
    assert 0 < report.speed() < 60
    assert [b.script for b in report.benchmarks(True, None)] == ["build_bench.py", "incremental_bench.py",
                                                                  "notify_bench.py"]
    assert [b.size for b in report.benchmarks(False, None)][:3] == ["1,000 incidents", "10,000 incidents",
                                                                    "100,000 incidents"]
