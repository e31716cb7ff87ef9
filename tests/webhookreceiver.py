"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records every POST
and answers each path as its script says.

    receiver = Receiver()                    # every path answers 200
    receiver.script("/down", [500, 200])     # the first request 500, then 200 (the last repeats)
    receiver.script("/slow", [HANG])         # read the body, never answer (until `close`)
    receiver.script("/late", [SLOW])         # answer 200 after SLOW_SECONDS
    receiver.url("/down") → http://127.0.0.1:PORT/down

Runs in a thread of the test process, or in a process of its own (`python -m
tests.webhookreceiver SCRIPT.json LOG.jsonl`: one JSON line per request, flushed at once,
so a test that kills the notifier still sees everything that arrived).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

HANG = "hang"
SLOW = "slow"
SLOW_SECONDS = 0.3
Answer = int | str


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, log: IO[str] | None = None) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, list[Answer]] = {}
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.release = threading.Event()
        self.log = log
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                answer = receiver._record(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if answer == HANG:
                    receiver.release.wait()
                    return
                if answer == SLOW:
                    receiver.release.wait(SLOW_SECONDS)
                    answer = 200
                self.send_response(int(answer))
                self.send_header("content-length", "2")
                self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(b"ok")
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, answers: Iterable[Answer]) -> None:
        with self.lock:
            self.scripts[path] = list(answers)

    def _record(self, received: Received) -> Answer:
        with self.arrived:
            self.received.append(received)
            if self.log is not None:
                self.log.write(json.dumps({"path": received.path, "headers": received.headers,
                                           "body": received.body.decode()}) + "\n")
                self.log.flush()
            answers = self.scripts.get(received.path.partition("?")[0], [200])
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            self.arrived.notify_all()
            return answer

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.partition("?")[0] == path]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def main(script: Path, log: Path) -> None:
    """Serve with the scripts in `script` ({path: [answers]}), log to `log`, print the port,
    and run until stdin closes."""
    with log.open("a", encoding="utf-8") as out:
        receiver = Receiver(out)
        for path, answers in json.loads(script.read_text()).items():
            receiver.script(path, answers)
        print(receiver.port, flush=True)
        sys.stdin.read()
        receiver.close()
        time.sleep(0.1)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
