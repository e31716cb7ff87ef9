"""Full-build benchmark: 10,000 incidents in two languages (target: under 10 s on 2 cores,
≤ 250 MiB peak resident for the largest process, ≤ 400 MiB for all of them together).

    python bench/build_bench.py [--incidents 10000] [--out FOLDER] [--site FOLDER] [--profile]

Prints the time of each stage and the whole build, as `statusgen build` runs it, then
what it cost: wall time, CPU time (user + system, this process and its workers) and peak
resident memory, the largest process (`ru_maxrss` of this one and of the largest
worker) and all of them together (the highest sum of `VmRSS` over this process and its
descendants, sampled every few milliseconds in a thread; shared pages count once per
process, as `ps` shows them, so it is an upper bound of what the machine gave). The last
line is `RESULT {json}` for `bench/report.py`.

The write stage measures the disk as much as statusgen: `--out /dev/shm/statusgen-bench`
(a RAM disk) shows statusgen's own part of it. `--site FOLDER` keeps the synthetic site
there (made once, reused while it has the same number of incidents), so repeated runs
at 100,000 incidents need not write it again.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import make_site  # noqa: E402

from statusgen.site.build import build  # noqa: E402

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
MIB = 1024 * 1024


class TreeMemory:
    """The highest sum of resident memory over this process and its descendants, sampled in a
    thread: VmRSS every 20 milliseconds (`/proc/PID/status`; shared pages count in every
    process that maps them, so it is an upper bound) and the proportional set size (Pss,
    `/proc/PID/smaps_rollup`: a shared page split among its processes, what the machine
    really gave) every half second, as reading it costs milliseconds. The thread's own
    CPU time is kept apart (`cpu`), to be left out of the build's."""

    def __init__(self, interval: float = 0.02, pss_every: int = 25) -> None:
        self.interval, self.pss_every = interval, pss_every
        self.peak = self.peak_pss = self.peak_processes = 0
        self.cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        count = 0
        while not self._stop.is_set():
            pids = _tree(os.getpid())
            total = sum(_memory(pid, "/status", "VmRSS:") for pid in pids)
            if total > self.peak:
                self.peak, self.peak_processes = total, len(pids)
            if count % self.pss_every == 0:
                self.peak_pss = max(self.peak_pss, sum(_memory(pid, "/smaps_rollup", "Pss:") for pid in pids))
            count += 1
            self.cpu = time.thread_time()
            self._stop.wait(self.interval)


def _memory(pid: int, file: str, field: str) -> int:
    """Bytes in one `field` of `/proc/PID/FILE` (0 if the process ended meanwhile)."""
    try:
        with open(f"/proc/{pid}{file}") as handle:
            for line in handle:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """This process and its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo += [int(child) for child in handle.read().split()]
            except OSError:
                pass
    return found


def run(root: Path, out: Path) -> dict[str, object]:
    """`statusgen build` as the command runs it, with the time of each stage and its cost."""
    wall, cpu = time.perf_counter(), _cpu()
    with TreeMemory() as tree:
        result = build(root, out, NOW)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu - tree.cpu
    for stage, seconds in result.stages:
        print(f"{stage:<8} {seconds:6.2f} s")
    files = len(result.outputs)
    size = sum(entry.stat().st_size for entry in _files(out))
    print(f"{'total':<8} {result.seconds:6.2f} s  ({len(result.site.incidents)} incidents, {files} files, "
          f"{size / MIB:.1f} MiB)")
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    load = os.getloadavg()
    print(f"cost     {wall:.2f} s wall, {cpu:.2f} s CPU (user+sys, with workers; the sampler's "
          f"{tree.cpu:.2f} s left out), load {load[0]:.2f}")
    print(f"memory   peak RSS {self_peak / MIB:.0f} MiB this process, {children_peak / MIB:.0f} MiB largest worker, "
          f"{tree.peak / MIB:.0f} MiB all {tree.peak_processes} processes together (sum of VmRSS, sampled; "
          f"shared pages counted in each), {tree.peak_pss / MIB:.0f} MiB by Pss (shared pages split)")
    return {"incidents": len(result.site.incidents), "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "peak_rss_mib": round(max(self_peak, children_peak) / MIB, 1),
            "peak_rss_self_mib": round(self_peak / MIB, 1),
            "peak_rss_children_mib": round(children_peak / MIB, 1),
            "peak_rss_total_mib": round(tree.peak / MIB, 1), "peak_pss_total_mib": round(tree.peak_pss / MIB, 1),
            "files": files, "bytes": size,
            "load": round(load[0], 2)}


def _cpu() -> float:
    """User + system seconds of this process and of its ended workers."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _files(folder: Path):  # type: ignore[no-untyped-def]
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            yield from _files(Path(entry.path))
        else:
            yield entry


def synthetic_site(folder: Path, incidents: int) -> Path:
    """The synthetic site in `folder`, made unless it is there with as many incidents."""
    marker = folder / ".synthetic-incidents"
    if not (marker.exists() and marker.read_text() == str(incidents)):
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        make_site(folder, incidents)
        marker.write_text(str(incidents))
        print(f"made a synthetic site with {incidents} incidents in {time.perf_counter() - started:.1f} s")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="output folder (default: inside the synthetic site)")
    parser.add_argument("--site", type=Path, help="keep the synthetic site in this folder, to reuse it")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = synthetic_site(args.site or Path(folder) / "site", args.incidents)
        out = args.out or Path(folder) / "public"
        try:
            if args.profile:
                profiled: dict[str, object] = {}
                cProfile.runctx("profiled.update(run(root, out))", globals(),
                                {"root": root, "out": out, "profiled": profiled}, "/tmp/statusgen.prof")
                pstats.Stats("/tmp/statusgen.prof").sort_stats("cumulative").print_stats(25)
            else:
                print("RESULT " + json.dumps(run(root, out), sort_keys=True))
        finally:
            if args.out:
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
