"""Rate-limit benchmark: does `notify.smtp.rate` hold at the relay, and what does it cost?

    python bench/rate_bench.py [--messages 300] [--rate 50] [--connections 4]
    python bench/rate_bench.py --messages 3000 --rate none      # the pace's overhead when unset

Sends ready-made messages through `SmtpTransport` to an aiosmtpd sink in its own process,
which notes when each MAIL FROM and each end of DATA arrives (CLOCK_MONOTONIC, shared by
both processes) and the most sessions open at once. Prints the rate the relay saw, the most
messages it saw in any one-second window (the quota's test), the tightest span of rate+1
messages, the connections, and the time, CPU time and peak memory of both processes. The
machine may be shared: judge by the window counts and CPU time, and read wall time beside
the load average printed with it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import smtplib
import subprocess
import sys
import time
from bisect import bisect_right
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.smtp import SMTP  # noqa: E402

from statusgen.content.relay import SmtpSettings  # noqa: E402
from statusgen.notifier.delivery import Outgoing, Progress  # noqa: E402
from statusgen.notifier.smtp import SmtpTransport  # noqa: E402
from tests.smtpsink import LoopbackController  # noqa: E402


# ── the sink process ──────────────────────────────────────────────────────────────────

class TimingSink:
    def __init__(self) -> None:
        self.mails: list[float] = []
        self.datas: list[float] = []
        self.open = self.most_open = 0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        self.mails.append(time.monotonic())
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas.append(time.monotonic())
        return "250 OK"


class CountingSMTP(SMTP):
    def connection_made(self, transport: Any) -> None:
        self.event_handler.open += 1
        self.event_handler.most_open = max(self.event_handler.most_open, self.event_handler.open)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.event_handler.open -= 1


class CountingController(LoopbackController):
    def factory(self) -> SMTP:
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def run_sink() -> None:
    """In the sink process: print the port, serve until stdin closes, then print the times."""
    sink = TimingSink()
    controller = CountingController(sink)
    controller.start()
    time.sleep(0.2)
    sink.most_open = sink.open  # the controller's own readiness probe
    print(controller.port, flush=True)
    sys.stdin.read()
    controller.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"mails": sink.mails, "datas": sink.datas, "most_open": sink.most_open,
                      "cpu": usage.ru_utime + usage.ru_stime, "peak_kib": usage.ru_maxrss}), flush=True)


# ── the client ─────────────────────────────────────────────────────────────────────────

class NullLedger:
    def committing(self, delivery_id: int) -> None: ...
    def sent(self, delivery_id: int) -> None: ...
    def retry_later(self, delivery_id: int, error: str) -> None: ...
    def failed(self, delivery_id: int, error: str) -> None: ...
    def uncertain(self, delivery_id: int, error: str) -> None: ...


class WiredTransport(SmtpTransport):
    """Notes when each MAIL FROM is written to the socket: what the relay's network stack
    receives then, unlike the sink's own readings, which come late when the machine is busy."""

    written: list[float] = []

    def connect(self) -> smtplib.SMTP:
        smtp = super().connect()
        sock, written = smtp.sock, self.written

        class Socket:
            def sendall(self, data: bytes) -> None:
                sock.sendall(data)
                if data[:10].lower() == b"mail from:":
                    written.append(time.monotonic())

            def __getattr__(self, name: str) -> Any:
                return getattr(sock, name)

        smtp.sock = Socket()  # type: ignore[assignment]
        return smtp


def outgoing(n: int) -> Outgoing:
    recipient = f"partner{n:05d}@example.org"
    data = (f"From: status@example.org\r\nTo: {recipient}\r\nSubject: Incident {n}\r\n"
            f"Message-ID: <i{n}@status.example.org>\r\n\r\n" + "We are investigating.\r\n" * 40).encode()
    return Outgoing(n, "status@example.org", recipient, f"<i{n}@status.example.org>", data)


def most_in_one_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max((bisect_right(ordered, start + 1.0) - index for index, start in enumerate(ordered)), default=0)


def tightest_span(times: list[float], count: int) -> float | None:
    ordered = sorted(times)
    spans = [ordered[i + count - 1] - ordered[i] for i in range(len(ordered) - count + 1)]
    return min(spans) if spans else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", default="50", help="messages per second, or 'none'")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink()
        return
    rate = None if args.rate == "none" else float(args.rate)
    sink = subprocess.Popen([sys.executable, __file__, "--sink"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert sink.stdout is not None and sink.stdin is not None
    port = int(sink.stdout.readline())
    batch = [outgoing(n) for n in range(1, args.messages + 1)]
    transport = WiredTransport(SmtpSettings(host="127.0.0.1", port=port, rate=rate), connections=args.connections,
                              local_hostname="bench.test")
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    transport.deliver(batch, NullLedger(), Progress(io.StringIO()))
    took = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    sink.stdin.close()
    seen = json.loads(sink.stdout.readline())
    sink.wait()
    mails, datas = seen["mails"], seen["datas"]
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    relay_rate = (len(datas) - 1) / (max(datas) - min(datas)) if len(datas) > 1 else 0.0
    print(f"rate_bench: {args.messages} messages, rate {args.rate}/s, {args.connections} connections")
    print(f"  arrived: {len(datas)} (MAIL FROM {len(mails)}); rate the relay saw {relay_rate:.2f}/s")
    if rate is not None:
        quota = int(rate) if rate >= 1 else 1
        window = max(1, int(rate))
        span = tightest_span(datas, window + 1)
        wire = tightest_span(WiredTransport.written, window + 1)
        print(f"  most in any 1-s window: MAIL FROM as written {most_in_one_second(WiredTransport.written)}, as the"
              f" sink read them {most_in_one_second(mails)}, end of DATA at the sink {most_in_one_second(datas)}"
              f" (quota {quota})")
        print(f"  tightest span of {window + 1}: written {'-' if wire is None else f'{wire:.4f} s'}, end of DATA at"
              f" the sink {'-' if span is None else f'{span:.4f} s'}")
    print(f"  most sessions open at once: {seen['most_open']} (connections {args.connections})")
    print(f"  wall {took:.2f} s (load average {os.getloadavg()[0]:.2f}); CPU client {client_cpu:.2f} s "
          f"({client_cpu / max(1, args.messages) * 1e6:.0f} us/message), sink {seen['cpu']:.2f} s; "
          f"peak RSS client {after.ru_maxrss / 1024:.0f} MiB, sink {seen['peak_kib'] / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
