"""The build's `_headers` as Netlify and Cloudflare Pages read and apply it, and a loopback
server that serves a built site with those headers, as such a host would.

The browser tests use the server to load pages under the site's real
Content-Security-Policy; `VIOLATIONS` is the init script that records every violation the
browser reports on a page (`securitypolicyviolation`), for the tests to read back.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Rules = list[tuple[str, list[tuple[str, str]]]]


def parse_headers(text: str) -> Rules:
    """`_headers` as the hosts read it: a path pattern at the start of a line, then its
    indented `Name: value` lines; `#` starts a comment."""
    rules: Rules = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            assert line.startswith("/"), line
            rules.append((line.strip(), []))
        else:
            name, colon, value = line.strip().partition(":")
            assert colon and rules, line
            rules[-1][1].append((name.strip(), value.strip()))
    return rules


def matches(pattern: str, url_path: str) -> bool:
    """A `*` at the end matches anything (a splat); otherwise the path must be the same."""
    return url_path.startswith(pattern[:-1]) if pattern.endswith("*") else url_path == pattern


def rules_for(rules: Rules, url_path: str) -> dict[str, list[str]]:
    """Every header of every matching rule: several values for one name are what
    Cloudflare Pages would join with a comma."""
    found: dict[str, list[str]] = {}
    for pattern, lines in rules:
        if matches(pattern, url_path):
            for name, value in lines:
                found.setdefault(name, []).append(value)
    return found


VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", event => window.__violations.push(
  `${event.effectiveDirective}: ${event.blockedURI || "?"} in ${event.sourceFile || event.documentURI}` +
  `:${event.lineNumber} ${JSON.stringify(event.sample)}`), true);
"""
"""Init script: each Content-Security-Policy violation of the page, one line each, in
`window.__violations` (the browser also logs each as a console error)."""


class _HeaderHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the built site with the headers `_headers` gives their URL path; a path
    with no file gets the site's 404.html with status 404, as Netlify serves it; `extra`
    pages (made by a test) are served at their paths under the same rules."""

    rules: Rules
    extra: Mapping[str, tuple[str, bytes]]

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in self.extra:
            return self._send(200, *self.extra[path])
        target = Path(self.translate_path(path))
        if not (target.is_file() or (target.is_dir() and (target / "index.html").is_file())):
            return self._send(404, "text/html; charset=utf-8", (Path(self.directory) / "404.html").read_bytes())
        super().do_GET()

    def _send(self, code: int, media_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        for name, values in rules_for(self.rules, urlsplit(self.path).path).items():
            self.send_header(name, ", ".join(values))
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_with_headers(folder: Path, port: int = 0,
                       extra: Mapping[str, tuple[str, bytes]] | None = None) -> Iterator[str]:
    """`folder` (a built site whose base URL is at the root) over HTTP on 127.0.0.1 with
    the headers of its `_headers`, until the generator is closed; yields the root URL."""
    handler = type("Handler", (_HeaderHandler,), {
        "rules": parse_headers((folder / "_headers").read_text(encoding="utf-8")), "extra": dict(extra or {})})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="headers-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
