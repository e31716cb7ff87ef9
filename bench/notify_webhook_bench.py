"""Notifier benchmark with webhooks: a P1 to 1,000 webhook subscribers through `statusgen.notify`.

    python bench/notify_webhook_bench.py [--subscribers 1000] [--format statuspage|slack] [--emails 0]
                                         [--same-host] [--store URL]

A site with one component and `--subscribers` webhook entries in subscribers.yaml (each its
own URL and, unless --same-host, its own host name, resolved to 127.0.0.1 as 1,000
partners' desks would be 1,000 hosts), all signing with one secret variable; optionally
`--emails` email subscribers beside them (into the outbox), to see both channels at once.
The first notify records the baseline; then a P1 incident is built and the timed notify
announces it: queueing (a Statuspage webhook gets two deliveries: the incident and its
component_update), rendering, signing, the POSTs to a receiver in its own process
(bench/webhook_bench.py's: reads each request, answers 200) and every ledger commit
(SQLite, or the PostgreSQL database of --store). Prints deliveries per second.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from statusgen import notify  # noqa: E402
from statusgen.notifier.webhooks.network import NetworkPolicy  # noqa: E402
from statusgen.notifier.webhooks.signing import new_secret  # noqa: E402
from statusgen.notifier.webhooks.transport import WebhookTransport  # noqa: E402
from statusgen.site.build import build  # noqa: E402

SITE = """\
title: Bench status
base_url: https://status.example.org/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions: {url: https://status.example.org/subscriptions/}
notify: {from: status@example.org}
"""
COMPONENTS = "- {id: api, name: API}\n- {id: portal, name: Portal}\n"
P1 = """\
---
title: {en: API unavailable, nl: API onbereikbaar}
impact: P1
components: {api: major_outage}
updates:
  - {at: 2026-11-30 09:00, status: investigating, body: "We are investigating failed requests to the **API**."}
---
"""


def write_site(root: Path, port: int, args: argparse.Namespace) -> None:
    (root / "content").mkdir(parents=True)
    (root / "incidents").mkdir()
    (root / "content" / "site.yaml").write_text(SITE)
    (root / "components.yaml").write_text(COMPONENTS)
    fmt = "" if args.format == "statuspage" else f", format: {args.format}"
    secret = ", secret_env: BENCH_SECRET" if args.format == "statuspage" else ""
    hooks = [f"- {{webhook: 'http://{'desk' if args.same_host else f's{n:05d}'}.bench.test:{port}/hooks/{n}'"
             f"{fmt}{secret}, language: {'nl' if n % 2 else 'en'}}}\n" for n in range(args.subscribers)]
    emails = [f"- {{email: p{n:05d}@partner.example}}\n" for n in range(args.emails)]
    (root / "subscribers.yaml").write_text("".join(hooks + emails))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--format", default="statuspage", choices=("statuspage", "slack", "teams", "googlechat",
                                                                   "discord", "mattermost"))
    parser.add_argument("--emails", type=int, default=0, help="email subscribers beside them (outbox)")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--same-host", action="store_true", help="every webhook behind one host name")
    parser.add_argument("--store", help="a postgresql:// URL (its schema upgraded) instead of the SQLite file")
    args = parser.parse_args()

    receiver = subprocess.Popen([sys.executable, str(ROOT / "bench" / "webhook_bench.py"), "--receiver", ""],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert receiver.stdout is not None and receiver.stdin is not None
    port = int(receiver.stdout.readline())
    env = {"STATUSGEN_SECRET_KEY": "bench-" * 6, "STATUSGEN_WEBHOOK_ALLOW_NETS": "127.0.0.0/8",
           "BENCH_SECRET": new_secret()}
    if args.store:
        env["STATUSGEN_DATABASE_URL"] = args.store
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "site"
        write_site(root, port, args)
        transport = WebhookTransport(NetworkPolicy.from_env(env), workers=args.workers,
                                     resolver=lambda host, port: ["127.0.0.1"])
        build(root, root / "public", "2026-11-30T08:00:00+01:00")
        notify(root, env=env, stream=io.StringIO(), webhooks=transport, store_path=args.store)
        (root / "incidents" / "p1.md").write_text(textwrap.dedent(P1))
        build(root, root / "public", "2026-11-30T09:05:00+01:00")
        output = io.StringIO()
        started = time.perf_counter()
        report = notify(root, env=env, stream=output, webhooks=transport, store_path=args.store)
        seconds = time.perf_counter() - started
        receiver.stdin.close()
        received = int(receiver.stdout.readline())
        receiver.wait()

    hooks = report.webhooks
    print(f"P1 to {args.subscribers} {args.format} webhook subscribers"
          f"{f' and {args.emails} email subscribers' if args.emails else ''} "
          f"({'one host' if args.same_host else 'one host each'}, {args.workers} workers, "
          f"{'PostgreSQL' if args.store else 'SQLite'}): {report.queued} deliveries queued, {hooks['sent']} webhook "
          f"deliveries sent, {received} received, {report.counts['sent'] - hooks['sent']} emails, in {seconds:.2f} s "
          f"= {report.counts['sent'] / seconds:.0f} deliveries/s ({args.subscribers / seconds:.0f} webhook "
          "subscribers/s)")
    problems = [line for line in output.getvalue().splitlines() if "failed" in line and " 0 failed" not in line]
    if problems:
        print("problems:", *problems[:5], sep="\n  ")


if __name__ == "__main__":
    main()
