"""A hosted Statuspage on 127.0.0.1 for tests: a folder of saved answers served over HTTP.

    GET /api/v2/summary.json             → ROOT/api/v2/summary.json
    GET /history.json?page=2             → ROOT/history.page-2.json
    GET /v1/pages/ID/incidents?limit=100&page=1
                                         → ROOT/pages/ID/incidents.limit-100.page-1.json
                                           (/v1/… only with `Authorization: OAuth KEY`, else 401)
    anything else                        → 404, as Statuspage answers

The folder has the importer's cache layout (tests/fixtures/statuspage/README.md); the rule
is written out again here rather than imported, so the tests check it. Every request is
counted per path (with its query) and its arrival time and headers are recorded;
`answer_once` makes the next request for one path get another answer (a 429 with
Retry-After, a 503, a redirect).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "statuspage"
PAGE_ID = "rgn7k2x9p4qa"
API_KEY = "test-key-5f1c0b8e9d"


@dataclass
class Seen:
    at: float
    """time.monotonic() when the request arrived."""
    target: str
    headers: dict[str, str]


@dataclass
class Special:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class StatuspageServer:
    """`with StatuspageServer() as server:` serves ROOT on an ephemeral port of 127.0.0.1."""

    def __init__(self, root: Path = FIXTURES, api_key: str = API_KEY) -> None:
        self.root = root
        self.api_key = api_key
        self.requests: Counter[str] = Counter()
        self.seen: list[Seen] = []
        self.specials: dict[str, list[Special]] = {}
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> StatuspageServer:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        """The hosted page's address."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def manage_url(self) -> str:
        """The manage API's base."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def answer_once(self, target: str, status: int, headers: dict[str, str] | None = None,
                    body: bytes = b"") -> None:
        """The next request for `target` (path and query, as sent) gets this answer instead."""
        with self.lock:
            self.specials.setdefault(target, []).append(Special(status, headers or {}, body))

    def throttle_once(self, target: str, retry_after: str = "2", status: int = 429) -> None:
        self.answer_once(target, status, {"Retry-After": retry_after},
                         b'{"error": "Rate limit exceeded. Please retry later."}')

    def times(self) -> list[float]:
        return [entry.at for entry in self.seen]

    def file_for(self, path: str, query: str) -> Path | None:
        """The saved answer for a request, or None (the same rule as the importer's cache)."""
        parts = [part for part in path.strip("/").split("/") if part]
        if not parts or any(part in ("", ".", "..") for part in parts):
            return None
        stem = parts[-1].removesuffix(".json")
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            stem += f".{key}-{value}"
        file = self.root.joinpath(*parts[:-1], stem + ".json")
        return file if file.is_file() else None

    def _take(self, target: str) -> Special | None:
        with self.lock:
            waiting = self.specials.get(target)
            return waiting.pop(0) if waiting else None


def _handler(server: StatuspageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with server.lock:
                server.requests[self.path] += 1
                server.seen.append(Seen(time.monotonic(), self.path, dict(self.headers.items())))
            special = server._take(self.path)
            if special is not None:
                return self._send(special.status, special.body, special.headers)
            path, _, query = self.path.partition("?")
            if path.startswith("/v1/"):
                if self.headers.get("Authorization") != f"OAuth {server.api_key}":
                    return self._json(401, {"error": "Unauthorized"})
                path = path[len("/v1"):]
            file = server.file_for(urllib.parse.unquote(path), query)
            if file is None:
                return self._json(404, {"error": "Couldn't find that page"})
            self._send(200, file.read_bytes(), {"Content-Type": "application/json; charset=utf-8"})

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json; charset=utf-8"})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response_only(status)
            if "Date" not in headers:
                self.send_header("Date", self.date_time_string())
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
