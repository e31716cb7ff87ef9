"""Notifier benchmark: one event to 10,000 subscribers through a local SMTP sink.

    python bench/notify_bench.py [--subscribers 10000] [--connections 4]

Prints messages per second for the whole `notify` run (queueing, rendering, the ledger
and SMTP), the CPU time of the notifier (the sending process and, for a send this large,
the process that makes the emails) and of the sink per message, peak memory and the load
average; the last line is `RESULT {json}` for `bench/report.py`.

The sink runs on 127.0.0.1 in its own process. By default it is `tests/rawsink.py`: raw
asyncio, just enough SMTP for the transport (PIPELINING offered), about a tenth of
aiosmtpd's CPU per message, so that on a 2-core machine the figure is statusgen's and not
the sink's. It verifies what it counts: every message must have one recipient, hold that
address and end with the closing MIME boundary; the benchmark fails unless every
subscriber got exactly one whole message. `--sink aiosmtpd` uses aiosmtpd instead
(counting messages without parsing them), as the benchmark did before.
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


def run_sink(kind: str) -> None:
    """In the sink process: serve until stdin closes, then print what arrived as JSON."""
    handler = CountingSink()
    controller = LoopbackController(handler)
    controller.start()
    print(controller.port, flush=True)
    sys.stdin.read()
    controller.stop()
    print(json.dumps({"messages": handler.count}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--sink", choices=("raw", "aiosmtpd"), default="raw")
    parser.add_argument("--serve-sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sink:
        return run_sink(args.sink)
    # the raw sink is a script of its own: its process imports nothing of statusgen
    command = [str(ROOT / "tests" / "rawsink.py")] if args.sink == "raw" else [__file__, "--serve-sink", "--sink", args.sink]
    sink = subprocess.Popen([sys.executable, *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
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
        started, cpu, helpers = time.perf_counter(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        notify(root, transport=transport, env=env, stream=sys.stderr)
        seconds, cpu = time.perf_counter() - started, _cpu(resource.RUSAGE_SELF) - cpu
        helpers = _cpu(resource.RUSAGE_CHILDREN) - helpers  # the process making the emails, ended by notify
    tally = json.loads(sink.communicate("")[0].strip().splitlines()[-1])
    received = tally["messages"]
    sink_cpu = tally.pop("cpu_seconds", None) or _cpu(resource.RUSAGE_CHILDREN) - helpers  # the raw sink's own
    print(f"{received} messages in {seconds:.2f} s: {received / seconds:.0f} messages/s "
          f"({args.connections} connections; queueing, rendering and the ledger included; {args.sink} sink: {tally})")
    print(f"notify CPU {cpu + helpers:.2f} s ({(cpu + helpers) / max(received, 1) * 1000:.2f} ms a message: sending "
          f"process {cpu / max(received, 1) * 1000:.2f}, composing process {helpers / max(received, 1) * 1000:.2f}), sink CPU "
          f"{sink_cpu:.2f} s ({sink_cpu / max(received, 1) * 1000:.2f} ms a message); peak RSS "
          f"{_peak(resource.RUSAGE_SELF):.0f} MiB, sink {_peak(resource.RUSAGE_CHILDREN):.0f} MiB; "
          f"load average {os.getloadavg()[0]:.2f}")
    print("RESULT " + json.dumps({"subscribers": args.subscribers, "connections": args.connections,
                                  "sink": args.sink, "messages": received, "seconds": round(seconds, 3),
                                  "messages_per_second": round(received / seconds, 1),
                                  "cpu_seconds": round(cpu + helpers, 2),
                                  "cpu_ms_per_message": round((cpu + helpers) / max(received, 1) * 1000, 3),
                                  "sending_cpu_seconds": round(cpu, 2), "composing_cpu_seconds": round(helpers, 2),
                                  "sink_cpu_seconds": round(sink_cpu, 2),
                                  "peak_rss_mib": round(_peak(resource.RUSAGE_SELF)),
                                  "load_average": round(os.getloadavg()[0], 2)}),
          flush=True)
    wanted = {"messages": args.subscribers, "recipients": args.subscribers, "bad": 0, "errors": 0}
    if args.sink == "raw" and any(tally[key] != value for key, value in wanted.items()):
        sys.exit(f"the sink did not get one whole message per subscriber: {tally} (expected {wanted})")


def _cpu(who: int) -> float:
    """User + system seconds (the machine may be shared: CPU time is what to compare)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _peak(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


if __name__ == "__main__":
    main()
