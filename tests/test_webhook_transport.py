"""Webhook delivery against real HTTP(S) receivers on 127.0.0.1, allowed by a network policy
with 127.0.0.0/8 (and without it, for the SSRF rules). Signatures are checked with the
`standardwebhooks` package's own verifier. Connections are seen through Python's audit
events (`socket.connect`), so "no connection was made" is observed, not assumed."""

from __future__ import annotations

import io
import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

import statusgen
from statusgen.notifier.delivery import Progress
from statusgen.notifier.webhooks.network import NetworkPolicy
from statusgen.notifier.webhooks.signing import new_secret
from statusgen.notifier.webhooks.transport import WebhookRequest, WebhookTransport

WAIT = 10  # seconds: the most any receiver-side event may take
LOOPBACK = NetworkPolicy.from_env({"STATUSGEN_WEBHOOK_ALLOW_NETS": "127.0.0.0/8"})
BODY = json.dumps({"meta": {"unsubscribe": "https://status.example.org/m/x"},
                   "incident": {"name": "Café ☕ <down>", "status": "investigating"}},
                  ensure_ascii=False, sort_keys=True).encode()


# ── what connects where: Python's audit events ────────────────────────────────────────

class Connections:
    """Every `socket.connect` this process makes (while recording), as (host, port)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self.recording = False
        self._lock = threading.Lock()

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.connect" and self.recording:
            address = args[1]
            if isinstance(address, tuple):
                with self._lock:
                    self.seen.append((str(address[0]), int(address[1])))


CONNECTIONS = Connections()
sys.addaudithook(CONNECTIONS.hook)  # audit hooks cannot be removed: this one only records when asked


@pytest.fixture
def connections() -> Iterator[Connections]:
    CONNECTIONS.seen.clear()
    CONNECTIONS.recording = True
    try:
        yield CONNECTIONS
    finally:
        CONNECTIONS.recording = False


# ── the receivers ─────────────────────────────────────────────────────────────────────

HANG = "hang"
CLOSE = "close"
Reply = tuple[int, dict[str, str], bytes] | str


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """A threaded HTTP server that records every request and answers as `answer` says
    (given the request's number from 1): a reply, HANG (read the body, never answer) or
    CLOSE (read the body, hang up)."""

    def __init__(self, answer: Callable[[int, Received], Reply], tls: ssl.SSLContext | None = None,
                 delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.received: list[Received] = []
        self.accepts = 0
        self.in_flight = self.most_in_flight = 0
        self.names: list[str | None] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                sock, address = super().get_request()
                with receiver.lock:
                    receiver.accepts += 1
                return sock, address

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.receiver = self  # type: ignore[attr-defined]
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
        with receiver.lock:
            receiver.received.append(received)
            number = len(receiver.received)
            receiver.in_flight += 1
            receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
        try:
            if receiver.delay:
                time.sleep(receiver.delay)
            reply = receiver.answer(number, received)
            if reply == HANG:
                receiver.release.wait(WAIT)
                return
        finally:  # counted out before the answer leaves: once it has, the client may send its next
            with receiver.lock:  # request, which could be counted in before this thread got here
                receiver.in_flight -= 1
        if reply == CLOSE:  # hang up without a word
            self.close_connection = True
            return
        assert not isinstance(reply, str)
        status, headers, content = reply
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass


def ok(number: int, received: Received) -> Reply:
    return 200, {}, b"ok"


def always(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Callable[[int, Received], Reply]:
    return lambda number, received: (status, headers or {}, body)


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(answer: Callable[[int, Received], Reply] = ok, **options: Any) -> Receiver:
        made.append(Receiver(answer, **options))
        return made[-1]

    yield make
    for each in made:
        each.close()


# ── the client side ───────────────────────────────────────────────────────────────────

class RecordingLedger:
    """The store's side of the contract, in memory: every call, in order, with its time."""

    def __init__(self, fail_committing: int | None = None) -> None:
        self.calls: list[tuple[str, int, str | None, float]] = []
        self._lock = threading.Lock()
        self._fail_committing = fail_committing

    def committing(self, delivery_id: int) -> None:
        if delivery_id == self._fail_committing:
            raise RuntimeError("disk full")
        self._record("committing", delivery_id)

    def sent(self, delivery_id: int) -> None:
        self._record("sent", delivery_id)

    def retry_later(self, delivery_id: int, error: str) -> None:
        self._record("retry_later", delivery_id, error)

    def failed(self, delivery_id: int, error: str) -> None:
        self._record("failed", delivery_id, error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._record("uncertain", delivery_id, error)

    def gone(self, delivery_id: int, error: str) -> None:
        self._record("gone", delivery_id, error)

    def _record(self, call: str, delivery_id: int, error: str | None = None) -> None:
        with self._lock:
            self.calls.append((call, delivery_id, error, time.monotonic()))

    def outcomes(self) -> dict[int, str]:
        return {number: call for call, number, _, _ in self.calls if call != "committing"}

    def history(self, delivery_id: int) -> list[str]:
        return [call for call, number, _, _ in self.calls if number == delivery_id]

    def error(self, delivery_id: int) -> str:
        return [error for _, number, error, _ in self.calls if number == delivery_id and error][-1]


def request(n: int, url: str, body: bytes = BODY, **fields: Any) -> WebhookRequest:
    return WebhookRequest(n, url, body, f"msg_{n:04d}", **fields)


def transport(policy: NetworkPolicy = LOOPBACK, **options: Any) -> WebhookTransport:
    options.setdefault("retries", 0)
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 5.0)
    return WebhookTransport(policy, **options)


def quiet() -> Progress:
    return Progress(io.StringIO(), interval=3600)


def deliver(requests: Iterable[WebhookRequest], policy: NetworkPolicy = LOOPBACK, **options: Any
            ) -> tuple[RecordingLedger, str]:
    ledger, stream = RecordingLedger(), io.StringIO()
    transport(policy, **options).deliver(requests, ledger, Progress(stream, interval=3600))
    return ledger, stream.getvalue()


def resolving(names: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    return lambda host, port: names[host]


# ── sent ──────────────────────────────────────────────────────────────────────────────

def test_a_200_is_sent_byte_for_byte_and_its_signature_verifies(receiver: Callable[..., Receiver]) -> None:
    hook, secret = receiver(), new_secret()
    before = int(time.time())
    ledger, output = deliver([request(1, hook.url("/desk/in"), secrets=(secret,))])
    assert ledger.history(1) == ["committing", "sent"]
    (got,) = hook.received
    assert got.path == "/desk/in"
    assert got.body == BODY
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == f"statusgen/{statusgen.__version__} (+{statusgen.REPOSITORY})"
    assert got.headers["host"] == f"127.0.0.1:{hook.port}"
    assert got.headers["webhook-id"] == "msg_0001"
    assert before <= int(got.headers["webhook-timestamp"]) <= time.time()
    assert Webhook(secret).verify(got.body, got.headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(got.body.replace(b"investigating", b"resolved"), got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(got.body, got.headers)
    assert "1 sent, 0 failed" in output


def test_during_a_rotation_both_secrets_sign(receiver: Callable[..., Receiver]) -> None:
    hook, old, new = receiver(), new_secret(), new_secret()
    ledger, _ = deliver([request(1, hook.url(), secrets=(old, new))])
    (got,) = hook.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)


def test_chat_targets_are_not_signed(receiver: Callable[..., Receiver]) -> None:
    hook = receiver()
    ledger, _ = deliver([request(1, hook.url(), fmt="slack")])
    assert ledger.outcomes() == {1: "sent"}
    assert not {"webhook-signature", "webhook-timestamp"} & hook.received[0].headers.keys()


def test_what_cannot_be_signed_fails_without_a_connection(receiver: Callable[..., Receiver],
                                                          connections: Connections) -> None:
    hook = receiver()
    ledger, _ = deliver([request(1, hook.url(), secrets=("whsec_not base64!",)),
                         WebhookRequest(2, hook.url(), BODY, "msg 2\r\n", (new_secret(),))])
    assert ledger.history(1) == ["failed"] and ledger.history(2) == ["failed"]
    assert ledger.error(1) == ("not sent: a webhook signing secret is whsec_ followed by base64; this one is not "
                               "valid base64")
    assert ledger.error(2) == ("not sent: a webhook-id is 1 to 256 visible ASCII characters without spaces; "
                               "found 'msg 2\\r\\n'")
    assert hook.accepts == 0 and connections.seen == []


# ── retried ───────────────────────────────────────────────────────────────────────────

def test_500_then_200_is_left_for_the_next_run_then_sent_with_the_same_id(
        receiver: Callable[..., Receiver]) -> None:
    hook, secret = receiver(lambda n, r: (500, {}, b"oops") if n == 1 else (200, {}, b"ok")), new_secret()
    requests = [request(1, hook.url(), secrets=(secret,))]
    first, _ = deliver(requests)
    assert first.history(1) == ["committing", "retry_later"]
    assert first.error(1) == "HTTP 500 Internal Server Error: oops"
    second, _ = deliver(requests)
    assert second.history(1) == ["committing", "sent"]
    assert [got.headers["webhook-id"] for got in hook.received] == ["msg_0001", "msg_0001"]
    for got in hook.received:
        Webhook(secret).verify(got.body, got.headers)


def test_a_5xx_is_tried_again_in_the_same_run_after_a_backoff(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(lambda n, r: (503, {}, b"") if n < 3 else (200, {}, b"ok"))
    ledger, _ = deliver([request(1, hook.url(), secrets=(new_secret(),))], retries=2, backoff=0.2)
    # each 503 proved nothing arrived: pending again at once, so a killed run would resend it
    assert ledger.history(1) == ["committing", "retry_later", "committing", "retry_later", "committing", "sent"]
    first, second, third = (got.at for got in hook.received)
    assert second - first >= 0.09 and third - second >= 0.19  # 0.2 s then 0.4 s, jittered down to half
    assert len({got.headers["webhook-id"] for got in hook.received}) == 1


def test_a_short_retry_after_is_waited_out_in_the_run(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(lambda n, r: (429, {"Retry-After": "1"}, b"slow down") if n == 1 else (200, {}, b"ok"))
    ledger, _ = deliver([request(1, hook.url())], retries=1, backoff=0.01)
    assert ledger.outcomes() == {1: "sent"}
    first, second = (got.at for got in hook.received)
    assert second - first >= 0.95


def test_a_long_retry_after_leaves_the_endpoint_for_the_next_run(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(always(429, {"Retry-After": "120"}, b"rate limited"))
    other = receiver()
    requests = [request(1, hook.url()), request(2, hook.url()), request(3, other.url())]
    ledger, output = deliver(requests, retries=3)
    assert ledger.history(1) == ["committing", "retry_later"]
    assert ledger.error(1) == ("HTTP 429 Too Many Requests: rate limited; the receiver asked to wait 120 s "
                               "(Retry-After): left for the next run")
    assert ledger.history(2) == ["retry_later"]  # not tried: the endpoint asked for quiet
    assert ledger.error(2).startswith("not tried: the receiver asked to wait 120 s")
    assert ledger.outcomes()[3] == "sent"
    assert len(hook.received) == 1
    assert "0 failed, 0 uncertain, 2 deferred" in output


def test_a_retry_after_date_counts_from_the_wall_clock(receiver: Callable[..., Receiver]) -> None:
    when = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)
    hook = receiver(always(503, {"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}))
    now = (when - timedelta(seconds=30)).timestamp()
    ledger, _ = deliver([request(1, hook.url())], retries=3, wall_clock=lambda: now)
    assert "asked to wait 30 s" in ledger.error(1)


def test_connection_refused_is_left_for_the_next_run(connections: Connections) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once it is closed
    ledger, _ = deliver([request(1, f"http://127.0.0.1:{port}/hook")])
    assert ledger.history(1) == ["retry_later"]
    assert ledger.error(1) == "cannot connect to 127.0.0.1: Connection refused"
    assert connections.seen == [("127.0.0.1", port)]


def test_a_name_that_does_not_resolve_is_left_for_the_next_run() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    ledger, _ = deliver([request(1, "https://desk.partner.example/hook")], resolver=nowhere)
    assert ledger.history(1) == ["retry_later"]
    assert ledger.error(1) == "cannot resolve desk.partner.example: [Errno -2] Name or service not known"


# ── settled for good ──────────────────────────────────────────────────────────────────

def test_410_is_gone(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(always(410, body=b"unsubscribed"))
    ledger, output = deliver([request(1, hook.url())], retries=2)
    assert ledger.history(1) == ["committing", "gone"]
    assert ledger.error(1) == "HTTP 410 Gone: unsubscribed"
    assert f"failed 127.0.0.1:{hook.port}/h…/***: gone: HTTP 410 Gone: unsubscribed" in output
    assert len(hook.received) == 1


def test_404_is_gone_for_chat_targets_and_failed_for_the_others(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(always(404, body=b"channel_not_found"))
    ledger, _ = deliver([request(1, hook.url("/slack")), request(2, hook.url("/desk"), fmt="statuspage"),
                         request(3, hook.url("/slack"), fmt="slack")])
    assert ledger.outcomes() == {1: "failed", 2: "failed", 3: "gone"}
    assert ledger.error(3) == "HTTP 404 Not Found: channel_not_found"


def test_a_redirect_is_not_followed(receiver: Callable[..., Receiver], connections: Connections) -> None:
    elsewhere = receiver()
    hook = receiver(always(302, {"Location": elsewhere.url("/services/T1/B2/secret-token")}))
    ledger, _ = deliver([request(1, hook.url())], retries=2)
    assert ledger.history(1) == ["committing", "failed"]
    assert ledger.error(1) == (f"HTTP 302 Found: a redirect to 127.0.0.1:{elsewhere.port}/services/T…/***, not "
                               "followed; subscribe with the URL it leads to")
    assert elsewhere.accepts == 0
    assert connections.seen == [("127.0.0.1", hook.port)]


def test_a_receiver_that_never_answers_is_uncertain_and_not_sent_again(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(lambda n, r: HANG)
    started = time.monotonic()
    ledger, output = deliver([request(1, hook.url())], timeout=1.0, retries=3)
    assert ledger.history(1) == ["committing", "uncertain"]
    assert ledger.error(1) == "sent, but no answer came within 1 s"
    assert 0.9 <= time.monotonic() - started < 5
    assert len(hook.received) == 1 and hook.received[0].body == BODY  # it had the whole body
    assert "1 uncertain" in output


def test_a_receiver_that_hangs_up_after_the_body_is_uncertain(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(lambda n, r: CLOSE)
    ledger, _ = deliver([request(1, hook.url())], retries=3)
    assert ledger.history(1) == ["committing", "uncertain"]
    assert ledger.error(1) == "sent, but no answer came: Remote end closed connection without response"
    assert len(hook.received) == 1


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline(receiver: Callable[..., Receiver]) -> None:
    """Each byte comes before the socket timeout; the whole answer does not come in time."""
    ready = threading.Event()

    class Drip(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["content-length"]))
            ready.set()
            try:
                for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.4)
            except OSError:  # the client hung up, as it should
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        started = time.monotonic()
        ledger, _ = deliver([request(1, f"http://127.0.0.1:{server.server_address[1]}/")], timeout=1.5)
        assert ready.is_set()
        assert ledger.history(1) == ["committing", "uncertain"]
        assert time.monotonic() - started < 3.5  # 17 bytes × 0.4 s would take 7 s
    finally:
        server.shutdown()
        server.server_close()


def test_other_4xx_fail_and_the_url_is_never_shown_in_full(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(always(403, body=b"invalid_token\n<html>"))
    url = hook.url("/services/T0AB/B0CD/s3cr3tT0ken?key=k3y")
    ledger, output = deliver([request(1, url)], retries=2)
    assert ledger.history(1) == ["committing", "failed"]
    assert ledger.error(1) == "HTTP 403 Forbidden: invalid_token <html>"
    assert f"failed 127.0.0.1:{hook.port}/services/T…/***: HTTP 403 Forbidden" in output
    assert "s3cr3t" not in output and "k3y" not in output and "B0CD" not in output


# ── no server-side request forgery ────────────────────────────────────────────────────

def test_private_and_loopback_urls_are_refused_without_a_connection(connections: Connections) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    urls = [f"https://127.0.0.1:{port}/", "http://[::1]/", "https://10.0.0.1/", "https://169.254.169.254/latest",
            "https://[::ffff:10.0.0.1]/", "https://100.64.0.1/", "https://0.0.0.0/", "https://224.0.0.1/",
            f"http://127.0.0.1:{port}/"]
    try:
        ledger, output = deliver([request(n, url) for n, url in enumerate(urls, 1)], NetworkPolicy())
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody knocked
    finally:
        listener.close()
    assert connections.seen == []
    assert ledger.outcomes() == {n: "failed" for n in range(1, len(urls) + 1)}
    assert ledger.error(1) == ("refused: the URL points at 127.0.0.1, a loopback address: webhooks reach only "
                               "public addresses (or the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS)")
    assert "::1, a loopback address" in ledger.error(2)
    assert "10.0.0.1, a private address" in ledger.error(3)
    assert "169.254.169.254, a link-local address" in ledger.error(4)
    assert "a private address (as 10.0.0.1)" in ledger.error(5)
    assert "shared (carrier-grade NAT)" in ledger.error(6)
    assert "unspecified" in ledger.error(7) and "multicast" in ledger.error(8)
    assert all(call != "committing" for call, *_ in ledger.calls)


def test_a_name_with_any_private_address_is_refused_without_a_connection(connections: Connections) -> None:
    names = {"desk.partner.example": ["10.0.0.5"], "mixed.partner.example": ["93.184.215.14", "192.168.1.1"],
             "mapped.partner.example": ["::ffff:127.0.0.1"]}
    requests = [request(n, f"https://{name}/hook") for n, name in enumerate(names, 1)]
    ledger, _ = deliver(requests, NetworkPolicy(), resolver=resolving(names))
    assert connections.seen == []
    assert ledger.history(1) == ["failed"]
    assert ledger.error(1) == ("refused: desk.partner.example resolves to 10.0.0.5, a private address: webhooks "
                               "reach only public addresses (or the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS)")
    assert "mixed.partner.example resolves to 192.168.1.1" in ledger.error(2)
    assert "a loopback address (as 127.0.0.1)" in ledger.error(3)


def test_a_redirect_to_a_private_address_is_not_followed(receiver: Callable[..., Receiver],
                                                        connections: Connections) -> None:
    hook = receiver(always(307, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    ledger, _ = deliver([request(1, hook.url())])
    assert ledger.outcomes() == {1: "failed"}
    assert "a redirect to 169.254.169.254/l…/***, not followed" in ledger.error(1)
    assert connections.seen == [("127.0.0.1", hook.port)]


def test_the_checked_address_is_the_one_connected_to(receiver: Callable[..., Receiver],
                                                    connections: Connections) -> None:
    """No second lookup: a resolver that would answer differently the next time (DNS
    rebinding) is asked once per attempt, and its checked answer is used."""
    hook, asked = receiver(), []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["10.0.0.1"]

    ledger, _ = deliver([request(1, hook.url(host="desk.test"))], resolver=rebinding)
    assert ledger.outcomes() == {1: "sent"}
    assert asked == ["desk.test"]
    assert connections.seen == [("127.0.0.1", hook.port)]
    assert hook.received[0].headers["host"] == f"desk.test:{hook.port}"


def test_plain_http_is_only_for_the_allowed_ranges(connections: Connections) -> None:
    names = {"desk.partner.example": ["93.184.215.14"]}
    ledger, _ = deliver([request(1, "http://desk.partner.example/hook"), request(2, "http://93.184.215.14/")],
                        LOOPBACK, resolver=resolving(names))
    assert ledger.outcomes() == {1: "failed", 2: "failed"}
    assert ledger.error(1) == ("refused: plain http:// is allowed only to the ranges in "
                               "STATUSGEN_WEBHOOK_ALLOW_NETS; use https://")
    assert connections.seen == []


# ── HTTPS: the checked address, the URL's name ────────────────────────────────────────

@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test certificate authority and a certificate it signed for `hooks.test`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("webhook-tls")
    now = datetime.now(UTC)

    def certificate(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> x509.Certificate:
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                            critical=True)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("statusgen test CA", ca_key, "statusgen test CA", ca_key, True)
    leaf = certificate("hooks.test", leaf_key, "statusgen test CA", ca_key, False)
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return paths


def tls_receiver(receiver: Callable[..., Receiver], authority: dict[str, Path]) -> Receiver:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(authority["cert"], authority["key"])
    return receiver(tls=context)


def test_https_checks_the_certificate_against_the_urls_name(receiver: Callable[..., Receiver],
                                                           authority: dict[str, Path],
                                                           connections: Connections) -> None:
    hook = tls_receiver(receiver, authority)
    trusting = ssl.create_default_context(cafile=str(authority["ca"]))
    names = {"hooks.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    requests = [request(1, hook.url(host="hooks.test", scheme="https")),
                request(2, hook.url(host="other.test", scheme="https"))]
    ledger, _ = deliver(requests, resolver=resolving(names), tls_context=trusting)
    assert ledger.outcomes() == {1: "sent", 2: "retry_later"}
    assert hook.names.count("hooks.test") == 1 and "other.test" in hook.names  # SNI: the URL's name
    assert hook.received[0].headers["host"] == f"hooks.test:{hook.port}"
    assert ledger.error(2) == ("cannot connect to other.test: the TLS certificate is not valid: Hostname mismatch, "
                               "certificate is not valid for 'other.test'.")
    assert ledger.history(2) == ["retry_later"]  # nothing was sent
    assert set(connections.seen) == {("127.0.0.1", hook.port)}


# ── many receivers at once ────────────────────────────────────────────────────────────

def test_one_hanging_receiver_does_not_hold_up_the_others(receiver: Callable[..., Receiver]) -> None:
    """50 requests to 5 receivers (each its own host name), one of which never answers:
    every fast delivery is done before the first slow one times out."""
    fast = [receiver() for _ in range(4)]
    slow = receiver(lambda n, r: HANG)
    names = {f"r{n}.test": ["127.0.0.1"] for n in range(5)}
    hosts = [*fast, slow]
    requests = [request(n, hosts[n % 5].url(f"/hook/{n}", host=f"r{n % 5}.test")) for n in range(50)]
    started = time.monotonic()
    ledger, _ = deliver(requests, resolver=resolving(names), timeout=2.0, per_host=10)
    slow_ids = {n for n in range(50) if n % 5 == 4}
    assert ledger.outcomes() == {n: "uncertain" if n in slow_ids else "sent" for n in range(50)}
    done = {number: at for call, number, _, at in ledger.calls if call != "committing"}
    fast_done = max(done[n] for n in range(50) if n not in slow_ids)
    assert fast_done < min(done[n] for n in slow_ids)
    assert fast_done - started < 2.0 <= min(done[n] for n in slow_ids) - started
    assert sum(len(each.received) for each in fast) == 40


def test_at_most_per_host_requests_at_once_to_one_host(receiver: Callable[..., Receiver]) -> None:
    hook = receiver(delay=0.1)
    ledger, _ = deliver([request(n, hook.url(f"/hook/{n}")) for n in range(20)], per_host=3)
    assert set(ledger.outcomes().values()) == {"sent"}
    assert hook.most_in_flight == 3


def test_one_endpoint_gets_its_requests_in_order_and_spaced(receiver: Callable[..., Receiver]) -> None:
    hook = receiver()
    url = hook.url("/workflows/abc/triggers/manual/paths/invoke?sig=s3cret")
    requests = [request(n, url + f"&n={n}", fmt="teams") for n in range(4)]
    ledger, _ = deliver(requests)
    assert set(ledger.outcomes().values()) == {"sent"}
    assert [got.path.rsplit("=", 1)[1] for got in hook.received] == ["0", "1", "2", "3"]
    times = [got.at for got in hook.received]
    assert all(later - earlier >= 0.24 for earlier, later in zip(times, times[1:], strict=False))


def test_a_ledger_that_fails_stops_the_run_and_says_why(receiver: Callable[..., Receiver]) -> None:
    hook = receiver()
    ledger = RecordingLedger(fail_committing=3)
    with pytest.raises(RuntimeError, match="disk full"):
        transport(workers=1).deliver([request(n, hook.url()) for n in range(1, 7)], ledger, quiet())
    assert ledger.outcomes() == {1: "sent", 2: "sent"}
    assert len(hook.received) == 2


def test_requests_are_taken_lazily(receiver: Callable[..., Receiver]) -> None:
    """A generator (the notifier renders as it goes) works, and is read only ahead by `lookahead`."""
    hook, taken = receiver(delay=0.05), []

    def requests() -> Iterator[WebhookRequest]:
        for n in range(30):
            taken.append((n, len(hook.received)))
            yield request(n, hook.url(f"/hook/{n}"))

    ledger, _ = deliver(requests(), workers=2, lookahead=4)
    assert len(ledger.outcomes()) == 30
    assert all(n - received <= 4 + 2 + 1 for n, received in taken)  # ahead, in flight, the one being taken


def test_ctrl_c_lets_the_requests_in_hand_finish_and_leaves_the_rest_pending(
        receiver: Callable[..., Receiver]) -> None:
    import signal

    main = threading.main_thread().ident
    assert main is not None

    def interrupt_at_the_fifth(number: int, received: Received) -> Reply:
        if number == 5:
            signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C
            time.sleep(0.3)  # still answering while the run is told to stop
        return 200, {}, b"ok"

    hook = receiver(interrupt_at_the_fifth, delay=0.05)
    ledger = RecordingLedger()
    with pytest.raises(KeyboardInterrupt):
        transport(workers=2).deliver([request(n, hook.url(f"/hook/{n}")) for n in range(40)], ledger, quiet())
    committed = [number for call, number, *_ in ledger.calls if call == "committing"]
    assert 5 <= len(committed) < 40
    assert all(ledger.history(number) == ["committing", "sent"] for number in committed)  # none left in between
    assert len(hook.received) == len(committed)
