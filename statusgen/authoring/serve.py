"""`statusgen serve [--watch]`: a local preview that rebuilds as you edit.

    files ──watchdog──▶ debounce (one build per burst) ──Builder──▶ out folder ──http.server──▶ browser
                 (changed paths)      (their union)       (looks only at them)
                                        │                                       ▲
                                        └──── LiveStatus (build id, errors) ────┴── /__statusgen/events (SSE)

The server serves the built folder as a static host would, with the site's security
headers (`seo.security_headers`, as in `_headers`), and into every HTML response (never
into the built files) it puts the tag of a small script, `/__statusgen/reload.js`, that
listens on `/__statusgen/events` and reloads the page when a new build is there, or shows
the build's `PATH:LINE: message` errors over the page while the last good site stays
served. `/__statusgen/status` answers the same as JSON, for scripts and tests.

The watcher's paths go to the `Builder`, which then looks only at those incident files
instead of walking all of them (10,000 `stat`s on a large site). It walks again when the
watcher cannot say what changed: a folder created, deleted or moved (its files were
never reported one by one), or the kernel's event queue overflowed (watchdog logs that
and re-watches; `_Overflow` hears the log). The watcher starts before the first build,
so nothing edited while that build runs goes unseen.

The preview is for one person on their own machine: a threaded `http.server` on
127.0.0.1, no caching, no compression.
"""

from __future__ import annotations

import argparse
import http.server
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from statusgen.site.build import Builder, BuildResult
from statusgen.site.seo import security_headers
from statusgen.content.config import site_folder
from statusgen.errors import ContentErrors, SetupError, StatusgenError, UsageError
from statusgen.site.theme import packaged_theme

log = logging.getLogger(__name__)

DEBOUNCE = 0.1
"""Seconds without a new file event before a rebuild starts: an editor's save is a burst."""
KEEPALIVE = 15.0
"""Seconds between comments on an idle event stream, so proxies and browsers keep it open."""
SIGNAL_CHECK = 0.2
"""How often the main thread wakes up to notice Ctrl-C (see `serve`)."""
EVENTS = "/__statusgen/events"
STATUS = "/__statusgen/status"
WATCHED = ("content", "incidents", "site_templates")
"""Folders of a site whose files are inputs of the build (with the files in `ROOT_FILES`)."""
ROOT_FILES = ("components.yaml", "subscribers.yaml")
CHANGES = ("created", "modified", "deleted", "moved")
"""Event types that are edits: a build itself opens and reads every file."""

RELOAD = "/__statusgen/reload.js"
RELOAD_SCRIPT = """/* statusgen serve: live reload (not in the built files) */
(function () {
  var served = document.currentScript.dataset.build || null, box = null;
  function show(errors) {
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.id = "statusgen-errors";
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:2147483647;" +
        "margin:0;padding:1em;background:#2d0000;color:#fff;font:14px/1.4 monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "statusgen: the last build failed; this is the last good site.\\n\\n" + errors.join("\\n");
  }
  var events = new EventSource("%(events)s");
  events.onmessage = function (message) {
    var status = JSON.parse(message.data);
    if (status.errors.length) { show(status.errors); }
    else if (status.build !== null && status.build !== served) { location.reload(); }
    else if (box) { box.remove(); box = null; }
  };
})();
""" % {"events": EVENTS}
"""The live-reload script, a file of its own (no inline script: the preview sends the
site's Content-Security-Policy, as a host would); the page's tag gives it the build id.
Its error box is styled through the CSSOM, which the policy allows."""


@dataclass(frozen=True)
class Status:
    """What the browser and the terminal are told: the last good build and the errors since."""

    version: int = 0
    """Grows with every change of this status, so a waiting stream knows it has news."""
    build: str | None = None
    """Id of the build being served (None before the first good one)."""
    builds: int = 0
    """Builds started so far, good or failed."""
    building: bool = False
    errors: tuple[str, ...] = ()
    """The last build's errors, one `PATH:LINE: message` a line; empty when it was good."""
    headers: tuple[tuple[str, str], ...] = ()
    """The security headers of the last good build's site (`seo.security_headers`): every
    answer carries them, so a page that breaks the site's Content-Security-Policy breaks
    in the preview too."""

    def as_json(self) -> str:
        return json.dumps({"build": self.build, "builds": self.builds, "building": self.building,
                           "errors": list(self.errors), "version": self.version})


class LiveStatus:
    """The current `Status`, with a way to wait for the next one (thread-safe)."""

    def __init__(self) -> None:
        self._status = Status()
        self._changed = threading.Condition()
        self.stopped = False

    @property
    def current(self) -> Status:
        with self._changed:
            return self._status

    def update(self, **changes: Any) -> Status:
        with self._changed:
            self._status = replace(self._status, version=self._status.version + 1, **changes)
            self._changed.notify_all()
            return self._status

    def wait_newer(self, version: int, timeout: float) -> Status | None:
        """The status once it is newer than `version`; None after `timeout` or on stop."""
        with self._changed:
            self._changed.wait_for(lambda: self.stopped or self._status.version > version, timeout)
            return self._status if self._status.version > version and not self.stopped else None

    def stop(self) -> None:
        with self._changed:
            self.stopped = True
            self._changed.notify_all()


class Rebuilder:
    """Runs builds one at a time: now, or once a burst of file events has gone quiet."""

    def __init__(self, builder: Builder, live: LiveStatus, debounce: float = DEBOUNCE) -> None:
        self.builder, self.live, self.debounce = builder, live, debounce
        self._last_event = 0.0
        self._pending = threading.Event()
        self._lock = threading.Lock()
        self._paths: set[str] | None = set()
        """What changed since the last build started (None: unknown, walk every file)."""
        self._thread: threading.Thread | None = None

    def build(self, raise_errors: bool = False, changed: Iterable[str] | None = None) -> BuildResult | None:
        """One build (of the `changed` paths, or looking at every file); errors are
        reported (terminal and browser), never raised, except usage errors, which no
        edit can fix, and with `raise_errors` every error (a first build with no earlier
        one to serve instead)."""
        self.live.update(building=True, builds=self.live.current.builds + 1)
        try:
            result = self.builder.build(changed)
        except StatusgenError as error:
            if raise_errors or isinstance(error, UsageError):
                self.live.update(building=False)
                raise
            self._failed(_error_lines(error))
            return None
        self.live.update(building=False, errors=(), build=f"{os.getpid()}-{self.live.current.builds}",
                         headers=tuple(security_headers(result.site.config).items()))
        log.info("%s", result.summary())
        return result

    def tick(self) -> BuildResult | None:
        """A build at the clock's new minute, nothing edited (`Builder.behind`), so that the
        next edit finds its minute built and rebuilds only what it touched. Open pages are
        left as they are (they would otherwise reload every minute); errors are told as
        any build's."""
        try:
            result = self.builder.build(())
        except StatusgenError as error:  # (a theme file edited meanwhile)
            self._failed(_error_lines(error))
            return None
        log.debug("%s (the clock's next minute)", result.summary())
        return result

    def _failed(self, lines: list[str]) -> None:
        for line in lines:
            log.error("%s", line)
        log.error("%d error%s; still serving the last good build", len(lines), "s" if len(lines) != 1 else "")
        self.live.update(building=False, errors=tuple(lines))

    def changed(self, paths: Iterable[str] | None = None) -> None:
        """Files changed (`paths`; None: the watcher cannot say which): build once no
        other change has come for `debounce` seconds."""
        with self._lock:
            if paths is None or self._paths is None:
                self._paths = None
            else:
                self._paths.update(paths)
        self._last_event = time.monotonic()
        self._pending.set()

    def _take(self) -> set[str] | None:
        """The paths changed so far, handed to one build; later events go to the next."""
        with self._lock:
            paths, self._paths = self._paths, set()
            return paths

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="statusgen-rebuild", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.live.stopped:
            if not self._pending.wait(timeout=0.5):
                if self.builder.behind() and not self.live.current.errors:
                    self.tick()
                continue
            while (quiet := time.monotonic() - self._last_event) < self.debounce:
                time.sleep(self.debounce - quiet)
            self._pending.clear()
            if not self.live.stopped:
                self.build(changed=self._take())

    def stop(self) -> None:
        self._pending.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _error_lines(error: StatusgenError) -> list[str]:
    return [str(e) for e in error.errors] if isinstance(error, ContentErrors) else [f"statusgen: {error}"]


class _Changes(FileSystemEventHandler):
    """Tells the rebuilder which of the site's inputs were edited, nothing else; a folder
    created, deleted or moved is told as "cannot say" (None), so the build walks."""

    def __init__(self, site_dir: Path, ignored: tuple[Path, ...],
                 changed: Callable[[Iterable[str] | None], None]) -> None:
        self.site_dir, self.ignored, self.changed = site_dir, ignored, changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in CHANGES or (event.is_directory and event.event_type == "modified"):
            return
        paths = [os.fsdecode(p) for p in (event.src_path, getattr(event, "dest_path", "") or "") if p]
        relevant = [path for path in paths if self.relevant(Path(path))]
        if relevant:
            self.changed(None if event.is_directory else relevant)

    def relevant(self, path: Path) -> bool:
        if any(path == folder or path.is_relative_to(folder) for folder in self.ignored):
            return False
        if path.parent == self.site_dir:
            return path.name in ROOT_FILES or path.name in WATCHED
        return True


class _Overflow(logging.Handler):
    """Hears watchdog say that the kernel dropped file events (its inotify queue
    overflowed): watchdog then re-watches the folders but tells event handlers nothing,
    and its log line is the only sign; the next build must walk every file."""

    LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")

    def __init__(self, missed: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self.missed = missed

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.missed()

    def attach(self) -> None:
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            if not logger.isEnabledFor(logging.WARNING):
                logger.setLevel(logging.WARNING)  # else the warning is never made
            logger.addHandler(self)

    def detach(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)


def watch(site_dir: Path, out_dir: Path, changed: Callable[[Iterable[str] | None], None]) -> Any:
    """Start watching the site's inputs (and the packaged theme, for theme work); returns
    the running observer; `changed` gets the paths of every edit. The output folder and
    `.statusgen/` are never watched."""
    handler = _Changes(site_dir, (out_dir, site_dir / ".statusgen"), changed)
    observer = Observer()
    observer.schedule(handler, str(site_dir), recursive=False)
    for folder in dict.fromkeys([*(site_dir / name for name in WATCHED), packaged_theme()]):
        if folder.is_dir() and not out_dir.is_relative_to(folder):
            observer.schedule(handler, str(folder), recursive=True)
    observer.start()
    return observer


def inject(html: bytes, build: str | None) -> bytes:
    """The page with the live-reload script's tag put before its closing `</body>`."""
    script = f'<script src="{RELOAD}" data-build="{escape(build or "")}"></script>\n'.encode()
    at = html.lower().rfind(b"</body>")
    return html + script if at < 0 else html[:at] + script + html[at:]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files from the output folder; HTML with the live script; the live endpoints."""

    live: LiveStatus

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == EVENTS:
            self._events()
        elif path == STATUS:
            self._send(200, "application/json", self.live.current.as_json().encode())
        elif path == RELOAD:
            self._send(200, "text/javascript; charset=utf-8", RELOAD_SCRIPT.encode())
        else:
            self._file(path)

    def _file(self, path: str) -> None:
        target = Path(self.translate_path(path))
        if target.is_dir() and path.endswith("/"):
            target = target / "index.html"
        if target.is_file() and target.suffix == ".html":
            self._send(200, "text/html; charset=utf-8", inject(target.read_bytes(), self.live.current.build))
        elif target.exists():
            super().do_GET()
        else:
            self._not_found()

    def _not_found(self) -> None:
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"<!doctype html><title>Not found</title><body></body>"
        self._send(404, "text/html; charset=utf-8", inject(body, self.live.current.build))

    def _send(self, code: int, media_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _events(self) -> None:
        """Server-Sent Events: the status now, then every change, until the client leaves."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for message in _messages(self.live):
                self.wfile.write(message.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a preview is never stale
        for name, value in self.live.current.headers:  # the site's own, as its host sends them
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def _messages(live: LiveStatus) -> Iterator[str]:
    """The event stream's messages: the status now, each newer one, keep-alives between."""
    status = live.current
    yield f"data: {status.as_json()}\n\n"
    while not live.stopped:
        newer = live.wait_newer(status.version, KEEPALIVE)
        if newer is None:
            yield ": still here\n\n"
        else:
            status = newer
            yield f"data: {status.as_json()}\n\n"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


class Preview:
    """A running preview: the first build, the HTTP server and (with `watch`) the watcher."""

    def __init__(self, site_dir: Path, out_dir: Path | None = None, now: str | datetime | None = None,
                 host: str = "127.0.0.1", port: int = 8000, watch: bool = True,
                 debounce: float = DEBOUNCE, parallel: bool = True) -> None:
        self.builder = Builder(site_dir, out_dir, now, parallel)
        self.live = LiveStatus()
        self.rebuilder = Rebuilder(self.builder, self.live, debounce)
        self.host, self.port, self.watching = host, port, watch
        self._server: _Server | None = None
        self._observer: Any = None
        self._overflow = _Overflow(lambda: self.rebuilder.changed(None))

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        """Build once, then serve and watch. The first build's errors are shown while the
        output folder's earlier build is served; with no earlier build, or in a folder
        that is not a site, they are raised: there would be nothing to serve."""
        problems = site_folder(self.builder.site_dir)
        if problems:
            raise SetupError(problems)
        if self.watching:  # before the first build: an edit made during it is an event
            self._overflow.attach()
            self._observer = watch(self.builder.site_dir, self.builder.out_dir, self.rebuilder.changed)
        try:
            self.rebuilder.build(raise_errors=not (self.builder.out_dir / "index.html").is_file())
        except BaseException:
            self.stop()
            raise
        self.builder.out_dir.mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"live": self.live})

        def make(*args: Any) -> _Handler:
            return handler(*args, directory=str(self.builder.out_dir))

        self._server = _Server((self.host, self.port), make)
        threading.Thread(target=self._server.serve_forever, name="statusgen-http", daemon=True).start()
        if self.watching:
            self.rebuilder.start()

    def stop(self) -> None:
        """Stop watching, end the event streams, close the server."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
            self._observer = None
        self._overflow.detach()
        self.live.stop()
        self.rebuilder.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Preview:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()




def serve(site_dir: Path, out_dir: Path | None = None, now: str | None = None, host: str = "127.0.0.1",
          port: int = 8000, watch: bool = False) -> int:
    """Build, serve until Ctrl-C, and with `watch` rebuild on every edit; returns the exit code."""
    preview = Preview(site_dir, out_dir, now, host, port, watch)
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C and a process manager's stop both end the preview, also when it was
        # started where SIGINT is ignored (a script's background job), as uvicorn does.
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        preview.start()
        log.info("serving %s at %s%s (Ctrl-C to stop)", preview.builder.out_dir, preview.url,
                 ", rebuilding on changes" if watch else "")
        while True:
            # Short naps, not one long sleep: the kernel may hand Ctrl-C's signal to one of
            # the other threads, and then a sleeping main thread would not see it until
            # the sleep ends (Python runs signal handlers in the main thread only).
            time.sleep(SIGNAL_CHECK)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        preview.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """`statusgen serve`, added to the command line by `cli`."""
    serve_cmd = commands.add_parser("serve", parents=[common], help="preview the site, rebuilding as you edit")
    serve_cmd.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free one)")
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve_cmd.add_argument("--watch", action="store_true", help="rebuild when a site file changes")
    serve_cmd.add_argument("--out", type=Path, help="output folder (default: SITE/public)")
    serve_cmd.add_argument("--now", help="build as if it were this time (default: the clock at each build)")
    serve_cmd.set_defaults(run=lambda args: serve(args.site, args.out, args.now, args.host, args.port, args.watch))
