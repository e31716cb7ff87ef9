"""Notifier benchmark: one event to 10,000 subscribers through a local SMTP sink.

    python bench/notify_bench.py [--subscribers 10000] [--connections 4]

Prints messages per second for the whole `notify` run (queueing, rendering, the ledger
and SMTP); the last line is `RESULT {json}` for `bench/report.py`. The sink is aiosmtpd on 127.0.0.1 in its own process, counting messages
without parsing them, so this measures statusgen, not a real relay.
"""

from __future__ import annotations

import argparse
import json
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from statusgen.site.build import build  # noqa: E402
from statusgen import notify  # noqa: E402
from statusgen.content.relay import SmtpSettings  # noqa: E402
from statusgen.notifier.smtp import SmtpTransport  # noqa: E402
from tests.smtpsink import LoopbackController  # noqa: E402

SITE = """\
title: Benchmark status
base_url: https://status.example.org/
languages: [nl, en]
timezone: Europe/Brussels
subscriptions: {url: https://status.example.org/subscriptions/}
notify: {from: status@example.org}
"""
INCIDENT = """\
---
title: {nl: Certificaten niet beschikbaar, en: Certificates unavailable}
impact: P1
components: {api: major_outage}
updates:
  - {at: 2026-11-30 09:00, status: investigating, body: {nl: "We **onderzoeken** het.", en: "We are **investigating**."}}
---
"""


class CountingSink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


def run_sink() -> None:
    """In the sink process: serve until stdin closes, then print the count."""
    handler = CountingSink()
    controller = LoopbackController(handler)
    controller.start()
    print(controller.port, flush=True)
    sys.stdin.read()
    controller.stop()
    print(handler.count, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        return run_sink()
    sink = subprocess.Popen([sys.executable, __file__, "--sink"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    port = int(sink.stdout.readline())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "content").mkdir()
        (root / "content" / "site.yaml").write_text(SITE)
        (root / "components.yaml").write_text("- id: api\n  name: API\n")
        (root / "incidents").mkdir()
        (root / "subscribers.yaml").write_text("".join(
            f"- {{email: partner{n:05d}@example.org, language: {'nl' if n % 2 else 'en'}}}\n"
            for n in range(args.subscribers)))
        env = {"STATUSGEN_SECRET_KEY": "b" * 32}
        build(root, root / "public", "2026-11-30T08:00:00+01:00")
        notify(root, env=env, stream=io.StringIO())  # the baseline
        (root / "incidents" / "p1.md").write_text(INCIDENT)
        build(root, root / "public", "2026-11-30T09:05:00+01:00")
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, security="none",
                                               user=None, password=None), connections=args.connections)
        started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        notify(root, transport=transport, env=env, stream=sys.stderr)
        seconds, cpu = time.perf_counter() - started, _cpu(resource.RUSAGE_SELF) - cpu
    received = int(sink.communicate("")[0].strip())
    print(f"{received} messages in {seconds:.2f} s: {received / seconds:.0f} messages/s "
          f"({args.connections} connections; queueing, rendering and the ledger included)")
    print(f"notify CPU {cpu:.2f} s ({cpu / max(received, 1) * 1000:.2f} ms a message), sink CPU "
          f"{_cpu(resource.RUSAGE_CHILDREN):.2f} s; peak RSS {_peak(resource.RUSAGE_SELF):.0f} MiB, sink "
          f"{_peak(resource.RUSAGE_CHILDREN):.0f} MiB; load average {os.getloadavg()[0]:.2f}")
    print("RESULT " + json.dumps({"subscribers": args.subscribers, "connections": args.connections,
                                  "messages": received, "seconds": round(seconds, 3),
                                  "messages_per_second": round(received / seconds, 1),
                                  "cpu_seconds": round(cpu, 2), "peak_rss_mib": round(_peak(resource.RUSAGE_SELF))}),
          flush=True)


def _cpu(who: int) -> float:
    """User + system seconds (the machine may be shared: CPU time is what to compare)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _peak(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


if __name__ == "__main__":
    main()
