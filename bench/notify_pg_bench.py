"""Notifier benchmark on PostgreSQL: a P1 to 100,000 subscribers, by one notify process and
then by two at once, through a local SMTP sink.

    python bench/notify_pg_bench.py [--subscribers 100000] [--connections 4] [--db URL]

Without `--db` it starts a throwaway PostgreSQL server of its own (Debian's package, as
the tests do) but with fsync on, as a real server runs: every ledger change waits for its
commit to reach the disk. Prints the queueing time (the 100,000 deliveries written in one
transaction), messages per second with one and with two concurrent notify processes (from
their first claim to their last message), the database's size and each notify process's
peak memory. The sink is aiosmtpd on 127.0.0.1 in its own process, counting messages
without parsing them, so this measures statusgen and PostgreSQL, not a real relay.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from notify_bench import INCIDENT, SITE, run_sink  # noqa: E402

from statusgen import notify  # noqa: E402
from statusgen.content.relay import SmtpSettings  # noqa: E402
from statusgen.database import connect, upgrade  # noqa: E402
from statusgen.notifier import pgstore  # noqa: E402
from statusgen.notifier.smtp import SmtpTransport  # noqa: E402
from statusgen.site.build import build  # noqa: E402
from tests.pgserver import Server, _as_server_user, binaries, free_port  # noqa: E402

SECOND = INCIDENT.replace("Certificaten niet beschikbaar", "Certificaten opnieuw niet beschikbaar").replace(
    "Certificates unavailable", "Certificates unavailable again").replace("09:00", "11:00")


class TimedStore(pgstore.PostgresNotifyStore):
    """The PostgreSQL store, noting how long queueing took and when sending began."""

    queueing: float | None = None
    first_claim: float | None = None

    def queue(self, *args: Any) -> int:
        started = time.perf_counter()
        count = super().queue(*args)
        self.queueing = time.perf_counter() - started
        return count

    def claim(self, limit: int) -> list[pgstore.Delivery]:
        if self.first_claim is None:
            self.first_claim = time.time()
        return super().claim(limit)


def run_notify(root: Path, url: str, port: int, connections: int) -> None:
    """In a notify process: one run, then its timings as JSON on stdout."""
    store = TimedStore(url)
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, security="none", user=None, password=None),
                              connections=connections)
    started = time.time()
    report = notify(root, store=store, transport=transport, env={"STATUSGEN_SECRET_KEY": "b" * 32},
                    stream=io.StringIO())
    print(json.dumps({"started": started, "ended": time.time(), "queueing": store.queueing,
                      "first_claim": store.first_claim, "queued": report.queued, "sent": report.counts["sent"]}))
    store.close()


def notify_processes(count: int, root: Path, url: str, port: int, connections: int) -> list[dict[str, Any]]:
    """`count` notify processes started together; each one's timings and peak memory."""
    command = [sys.executable, __file__, "--notify", str(root), "--db", url, "--port", str(port),
               "--connections", str(connections)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    results = []
    for process in processes:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        assert process.stdout is not None
        results.append({**json.loads(process.stdout.read()), "peak_mib": usage.ru_maxrss / 1024})
        assert process.returncode == 0, process.returncode
    return results


@contextmanager
def durable_server() -> Iterator[Server]:
    """A throwaway PostgreSQL server as tests/pgserver.py starts one, but with fsync on."""
    bin_dir, folder, run_as = binaries(), Path(tempfile.mkdtemp(prefix="statusgen-bench-pg-")), _as_server_user()
    (folder / "password").write_text("statusgen-test\n")
    if run_as:
        for path in (folder, folder / "password"):
            os.chown(path, run_as["user"], run_as["group"])  # type: ignore[arg-type]
    subprocess.run([bin_dir / "initdb", "-D", folder / "data", "-U", "statusgen", "--pwfile", folder / "password",
                    "-A", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8"], check=True, capture_output=True,
                   cwd=folder, **run_as)  # type: ignore[arg-type]
    port = free_port()
    subprocess.run([bin_dir / "pg_ctl", "-D", folder / "data", "-l", folder / "server.log", "-w", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"], check=True,
                   capture_output=True, cwd=folder, **run_as)  # type: ignore[arg-type]
    try:
        yield Server(port, folder)
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", folder / "data", "-m", "fast", "-w", "stop"], capture_output=True,
                       cwd=folder, check=False, **run_as)  # type: ignore[arg-type]
        shutil.rmtree(folder, ignore_errors=True)


def database(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    with durable_server() as server:
        yield server.create_database(f"bench_{uuid.uuid4().hex[:8]}")


def make_site(root: Path, subscribers: int) -> None:
    (root / "content").mkdir()
    (root / "content" / "site.yaml").write_text(SITE)
    (root / "components.yaml").write_text("- id: api\n  name: API\n")
    (root / "incidents").mkdir()
    (root / "subscribers.yaml").write_text("".join(
        f"- {{email: partner{n:06d}@example.org, language: {'nl' if n % 2 else 'en'}}}\n" for n in range(subscribers)))


def rate(runs: list[dict[str, Any]]) -> float:
    """Messages per second of runs working at once: from the first claim to the last end."""
    began = min(run["first_claim"] for run in runs if run["first_claim"])
    return sum(run["sent"] for run in runs) / (max(run["ended"] for run in runs) - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--db", help="a PostgreSQL database to use (default: a throwaway server of our own)")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--notify", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        return run_sink()
    if args.notify:
        return run_notify(args.notify, args.db, args.port, args.connections)
    sink = subprocess.Popen([sys.executable, ROOT / "bench" / "notify_bench.py", "--sink"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None
    port = int(sink.stdout.readline())
    for url in database(args.db):
        with connect(url) as db:
            upgrade(db, pgstore.STORE, pgstore.MIGRATIONS)
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            make_site(root, args.subscribers)
            build(root, root / "public", "2026-11-30T08:00:00+01:00")
            notify(root, store_path=url, env={"STATUSGEN_SECRET_KEY": "b" * 32}, stream=io.StringIO())  # baseline
            (root / "incidents" / "p1.md").write_text(INCIDENT)
            build(root, root / "public", "2026-11-30T09:05:00+01:00")
            one = notify_processes(1, root, url, port, args.connections)
            (root / "incidents" / "p1-again.md").write_text(SECOND)
            build(root, root / "public", "2026-11-30T11:05:00+01:00")
            two = notify_processes(2, root, url, port, args.connections)
        with connect(url) as db:
            size = db.execute("SELECT pg_database_size(current_database()),"
                              " pg_total_relation_size('notify_deliveries')").fetchone()
            assert size is not None
    received = int(sink.communicate("")[0].strip())
    queueing = next(run["queueing"] for run in two if run["queued"])
    print(f"{args.subscribers} subscribers, {args.connections} SMTP connections per process; the sink received "
          f"{received} messages")
    print(f"queueing {one[0]['queued']} deliveries: {one[0]['queueing']:.2f} s (again, by one of two processes: "
          f"{queueing:.2f} s)")
    print(f"one notify process: {rate(one):.0f} messages/s; whole run {one[0]['ended'] - one[0]['started']:.1f} s")
    print(f"two notify processes at once: {rate(two):.0f} messages/s together; each sent "
          f"{' and '.join(str(run['sent']) for run in two)}")
    print(f"database size: {size[0] / 2**20:.0f} MiB ({size[1] / 2**20:.0f} MiB of it the deliveries, "
          f"{2 * args.subscribers} rows)")
    print(f"peak memory per notify process: {max(run['peak_mib'] for run in one + two):.0f} MiB")


if __name__ == "__main__":
    main()
