"""Webhook delivery benchmark: one P1 incident to 1,000 webhook subscribers.

    python bench/webhook_bench.py [--subscribers 1000] [--workers 16] [--same-host] [--https]

Each subscriber has its own URL, its own signing secret and, unless --same-host, its own
host name (resolved to 127.0.0.1 by the benchmark's resolver, as 1,000 partners' desks
would be 1,000 hosts; --same-host puts them all behind one name, where `per_host` caps the
requests in flight). The receiver is one multi-threaded HTTP server in its own process
on 127.0.0.1 that reads each request and answers 200, so this measures statusgen's side:
the schedule, SSRF checks, signing, one connection per request, the watchdog, and an
in-memory ledger (the notifier store's commits are not included). Prints deliveries per
second and the peak memory (maximum resident set size) of the sending process.
"""

from __future__ import annotations

import argparse
import json
import resource
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from statusgen.notifier.delivery import Progress  # noqa: E402
from statusgen.notifier.webhooks.network import NetworkPolicy  # noqa: E402
from statusgen.notifier.webhooks.signing import new_secret  # noqa: E402
from statusgen.notifier.webhooks.transport import WebhookRequest, WebhookTransport  # noqa: E402


class Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with Counting.lock:
            Counting.count += 1
        self.send_response(200)
        self.send_header("content-length", "2")
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(b"ok")
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass


def run_receiver(certificate: str | None) -> None:
    """In the receiver process: serve until stdin closes, then print the count."""
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    server.daemon_threads = True
    if certificate:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, certificate)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    print(Counting.count, flush=True)


class CountingLedger:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.errors: list[str] = []

    def _add(self, call: str, error: str | None = None) -> None:
        with self.lock:
            self.counts[call] = self.counts.get(call, 0) + 1
            if error and len(self.errors) < 5:
                self.errors.append(error)

    def committing(self, delivery_id: int) -> None:
        self._add("committing")

    def sent(self, delivery_id: int) -> None:
        self._add("sent")

    def retry_later(self, delivery_id: int, error: str) -> None:
        self._add("retry_later", error)

    def failed(self, delivery_id: int, error: str) -> None:
        self._add("failed", error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._add("uncertain", error)

    def gone(self, delivery_id: int, error: str) -> None:
        self._add("gone", error)


def p1_body(n: int) -> bytes:
    """A Statuspage-shaped incident body for a P1 (critical), about 2.5 KB."""
    component = {"id": "c1", "name": "API", "status": "major_outage", "created_at": "2026-01-01T00:00:00Z",
                 "updated_at": "2026-11-30T09:00:00Z", "position": 1, "description": None, "showcase": True,
                 "group_id": None, "page_id": "p1", "group": False, "only_show_if_degraded": False}
    update = {"id": "u1", "incident_id": "i1", "status": "investigating", "created_at": "2026-11-30T09:00:00Z",
              "updated_at": "2026-11-30T09:00:00Z", "display_at": "2026-11-30T09:00:00Z",
              "body": "We are investigating failed requests to the API. " * 8, "deliver_notifications": True,
              "affected_components": [{"code": "c1", "name": "API", "old_status": "operational",
                                       "new_status": "major_outage"}]}
    incident = {"id": "i1", "name": "API unavailable", "status": "investigating", "impact": "critical",
                "created_at": "2026-11-30T09:00:00Z", "updated_at": "2026-11-30T09:00:00Z", "monitoring_at": None,
                "resolved_at": None, "shortlink": "https://status.example.org/incidents/i1/", "scheduled_for": None,
                "scheduled_until": None, "postmortem_body": None, "page_id": "p1", "incident_updates": [update],
                "components": [component]}
    return json.dumps({"meta": {"unsubscribe": f"https://status.example.org/subscriptions/manage/{n:06d}",
                                "documentation": "https://status.example.org/api/",
                                "generated_at": "2026-11-30T09:00:05Z"},
                       "page": {"id": "p1", "status_indicator": "critical", "status_description": "Major outage"},
                       "incident": incident}, sort_keys=True).encode()


def certificate_file(folder: Path) -> tuple[str, ssl.SSLContext]:
    """A self-signed certificate for every *.bench.test name, and a client context trusting it."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench.test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("*.bench.test"), x509.DNSName("bench.test")]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = folder / "bench.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(path), ssl.create_default_context(cafile=str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--same-host", action="store_true", help="every subscriber behind one host name")
    parser.add_argument("--https", action="store_true", help="TLS to the receiver (a test certificate)")
    parser.add_argument("--receiver", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver is not None:
        run_receiver(args.receiver or None)
        return

    with tempfile.TemporaryDirectory() as folder:
        certificate, tls = certificate_file(Path(folder)) if args.https else ("", None)
        receiver = subprocess.Popen([sys.executable, __file__, "--receiver", certificate], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        assert receiver.stdout is not None and receiver.stdin is not None
        port = int(receiver.stdout.readline())
        scheme = "https" if args.https else "http"
        requests = [WebhookRequest(n, f"{scheme}://{'desk' if args.same_host else f's{n:05d}'}.bench.test:{port}"
                                      f"/hooks/statuspage/{n}", p1_body(n), f"msg_{n:08d}", (new_secret(),))
                    for n in range(args.subscribers)]
        policy = NetworkPolicy.from_env({"STATUSGEN_WEBHOOK_ALLOW_NETS": "127.0.0.0/8"})
        transport = WebhookTransport(policy, workers=args.workers, resolver=lambda host, port: ["127.0.0.1"],
                                     tls_context=tls)
        ledger = CountingLedger()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        transport.deliver(requests, ledger, Progress(sys.stderr, interval=5, label="webhooks"))
        seconds = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        receiver.stdin.close()
        received = int(receiver.stdout.readline())
        receiver.wait()

    print(f"{args.subscribers} webhook subscribers ({scheme}, {'one host' if args.same_host else 'one host each'}, "
          f"{args.workers} workers): {ledger.counts.get('sent', 0)} sent, {received} received in {seconds:.2f} s "
          f"= {args.subscribers / seconds:.0f} deliveries/s; peak memory {rss_after / 1024:.0f} MB "
          f"({rss_before / 1024:.0f} MB before delivering)")
    if ledger.errors:
        print("first problems:", *ledger.errors, sep="\n  ")


if __name__ == "__main__":
    main()
