"""`statusgen serve --watch`: a real server process on 127.0.0.1, real files, real HTTP.

Every wait polls with a deadline (no fixed sleeps): a rebuild is seen within two seconds.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from statusgen.authoring.serve import EVENTS, RELOAD, inject
from tests.conftest import EXAMPLE_NOW
from tests.test_incremental import OUTAGE, copy_example

PAGE = "en/incidents/2026-11-03-pdf-certificates-unavailable/"
TITLE = "en: PDF certificates unavailable for all partners"
REBUILT_WITHIN = 2.0


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str] = field(default_factory=queue.Queue)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def headers(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.headers
        except urllib.error.HTTPError as error:
            return error.headers

    def status(self) -> dict[str, Any]:
        return json.loads(self.get("__statusgen/status")[1])

    def terminal(self) -> str:
        """Everything the server printed so far."""
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        return "".join(self.lines)


def until(check: Callable[[], Any], within: float, what: str) -> Any:
    """Poll `check` until it returns something true; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        time.sleep(0.02)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    site = copy_example(tmp_path / "site")
    process = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "statusgen", "serve", "--site", str(site), "--watch", "--port", "0",
         "--now", EXAMPLE_NOW], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        with process.stderr:
            for line in process.stderr:
                lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []

    def started() -> str | None:
        while not lines.empty():
            seen.append(lines.get())
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", "".join(seen))
        return match[1] if match else None

    running = Server(process, until(started, 60, "the server says where it listens"), seen, lines)
    running.site = site  # type: ignore[attr-defined]
    yield running
    if process.poll() is None:
        process.kill()
    process.wait()
    reader.join(timeout=10)


def write(server: Server, text: str) -> None:
    (server.site / OUTAGE).write_text(text, encoding="utf-8")  # type: ignore[attr-defined]


def original(server: Server) -> str:
    return (server.site / OUTAGE).read_text(encoding="utf-8")  # type: ignore[attr-defined]


def test_serve_rebuilds_on_edits_shows_errors_and_stops_on_ctrl_c(server: Server) -> None:
    code, html = server.get(PAGE)
    assert code == 200 and "PDF certificates unavailable for all partners" in html
    assert f'<script src="{RELOAD}" data-build="{server.status()["build"]}"></script>' in html
    code, script = server.get(RELOAD.lstrip("/"))
    assert code == 200 and "statusgen serve: live reload" in script and EVENTS in script
    on_disk = (server.site / "public" / PAGE / "index.html").read_text(encoding="utf-8")  # type: ignore[attr-defined]
    # the preview's reload script is served, never written: the page's only script is live.js
    assert "live reload" not in on_disk and EVENTS not in on_disk
    assert re.findall(r"<script[^>]*>", on_disk) == ['<script src="../../live.js" defer>']

    text = original(server)
    write(server, text.replace(TITLE, "en: Certificates as PDF were unavailable"))
    until(lambda: "Certificates as PDF were unavailable" in server.get(PAGE)[1], REBUILT_WITHIN,
          "the edited title is served")

    write(server, text.replace("impact: P1", "impact: P9"))
    status = until(lambda: server.status()["errors"], REBUILT_WITHIN, "the broken file's error is reported")
    assert status[0].startswith(f"{OUTAGE}:")
    assert "impact: expected one of" in status[0]
    until(lambda: status[0] in server.terminal(), 5, "the error is printed in the terminal")
    assert "Certificates as PDF were unavailable" in server.get(PAGE)[1]  # the last good page

    write(server, text)
    until(lambda: not server.status()["errors"] and TITLE[4:] in server.get(PAGE)[1], REBUILT_WITHIN,
          "the fixed site is served")

    server.process.send_signal(signal.SIGINT)
    assert stopped(server) == 0


def stopped(server: Server, within: float = 10) -> int:
    """The exit code once the server has stopped; if it does not, fail with the stack of
    every thread (faulthandler prints them on SIGABRT)."""
    try:
        return server.process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        server.process.send_signal(signal.SIGABRT)
        server.process.wait(timeout=10)
        time.sleep(0.5)  # the reader thread collects the last lines
        pytest.fail(f"serve did not stop within {within} s:\n{server.terminal()}")


def test_ctrl_c_stops_serve_whichever_thread_the_signal_lands_on(server: Server) -> None:
    """The kernel hands a process's signal to any thread that does not block it. On Linux,
    kill() with a thread's id prefers that thread: here, one that is not the main thread,
    which is the case a main thread asleep for an hour never noticed."""
    others = [int(task.name) for task in Path(f"/proc/{server.process.pid}/task").iterdir()
              if int(task.name) != server.process.pid]
    assert others, "serve --watch runs an HTTP thread, a rebuild thread and watchers"
    os.kill(others[0], signal.SIGINT)
    assert stopped(server, within=5) == 0
    assert "stopping" in server.terminal()


def test_sigterm_stops_serve_as_ctrl_c_does(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    assert stopped(server, within=5) == 0
    assert "stopping" in server.terminal()


def test_a_burst_of_writes_is_one_rebuild(server: Server) -> None:
    text = original(server)
    before = server.status()["builds"]
    for n in range(5):  # an editor's save: several writes within 100 ms
        write(server, text.replace(TITLE, f"en: Burst {n}"))
        time.sleep(0.015)
    until(lambda: "Burst 4" in server.get(PAGE)[1], REBUILT_WITHIN, "the last write is served")
    write(server, text.replace(TITLE, "en: After the burst"))  # a build of its own, after the burst's
    until(lambda: "After the burst" in server.get(PAGE)[1], REBUILT_WITHIN, "the next edit is served")
    assert server.status()["builds"] == before + 2


def test_the_event_stream_sends_the_status_now_and_after_each_build(server: Server) -> None:
    with urllib.request.urlopen(server.url + EVENTS.lstrip("/"), timeout=10) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        first = json.loads(stream.readline().decode().removeprefix("data: "))
        assert first["build"] and first["errors"] == []
        stream.readline()
        write(server, original(server).replace("impact: P1", "impact: P9"))
        while (line := stream.readline().decode()) and '"errors": []' in line or line.strip() == "":
            pass  # the build starting (no errors yet), then the failed one
        assert OUTAGE in line


def test_a_missing_page_is_the_sites_404_with_the_script(server: Server) -> None:
    code, html = server.get("no/such/page/")
    assert code == 404 and f'<script src="{RELOAD}"' in html and "<html" in html


def test_the_preview_sends_the_sites_security_headers(server: Server) -> None:
    """The built site's own (`_headers`), so that a template that breaks its policy breaks here."""
    built = (server.site / "public" / "_headers").read_text(encoding="utf-8").splitlines()  # type: ignore[attr-defined]
    site_wide = built[1:built.index("/")]  # the first rule, `/*`
    for path in (PAGE, "no/such/page/", "static/style.css", RELOAD.lstrip("/")):
        headers = server.headers(path)
        assert [f"  {name}: {headers[name]}" for name in ("Content-Security-Policy", "X-Content-Type-Options",
                "Referrer-Policy", "X-Frame-Options", "Permissions-Policy")] == site_wide, path


def test_the_script_goes_before_the_closing_body() -> None:
    page = inject(b"<html><body><p>x</p></body></html>", "1-1")
    assert page == b'<html><body><p>x</p><script src="/__statusgen/reload.js" data-build="1-1"></script>\n</body></html>'
    assert inject(b"<p>no body</p>", None) == b'<p>no body</p><script src="/__statusgen/reload.js" data-build=""></script>\n'


# ── nothing to serve: stop at once instead of serving 404s ───────────────────────────

def serve_once(site: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`statusgen serve` that is expected to stop by itself."""
    return subprocess.run([sys.executable, "-m", "statusgen", "serve", "--site", str(site), "--port", "0",
                           "--now", EXAMPLE_NOW], capture_output=True, text=True, timeout=timeout, check=False)


def test_serve_in_a_folder_that_is_not_a_site_says_what_is_missing(tmp_path: Path) -> None:
    run = serve_once(tmp_path)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"no content/site.yaml in {tmp_path}: this folder is not a statusgen site; pass --site DIR with the site's "
        "folder, or create a site with `statusgen init DIR`",
        "statusgen: 1 setting to fix; nothing was done (`statusgen doctor` checks them all)"]
    assert "serving" not in run.stderr and not (tmp_path / "public").exists()


def test_a_first_build_that_fails_with_nothing_built_before_stops_with_its_errors(tmp_path: Path) -> None:
    site = copy_example(tmp_path / "site")
    (site / OUTAGE).write_text((site / OUTAGE).read_text(encoding="utf-8").replace("impact: P1", "impact: P9"),
                               encoding="utf-8")
    run = serve_once(site)
    assert run.returncode == 1
    first = run.stderr.splitlines()[0]
    assert first.startswith(f"{OUTAGE}:") and "impact: expected one of" in first
    assert "still serving" not in run.stderr and "serving" not in run.stderr
    assert not (site / "public").exists()


def test_a_first_build_that_fails_serves_the_build_already_there(tmp_path: Path) -> None:
    site = copy_example(tmp_path / "site")
    build = subprocess.run([sys.executable, "-m", "statusgen", "build", "--site", str(site), "--now", EXAMPLE_NOW],
                           capture_output=True, text=True, timeout=120, check=False)
    assert build.returncode == 0, build.stderr
    (site / OUTAGE).write_text((site / OUTAGE).read_text(encoding="utf-8").replace("impact: P1", "impact: P9"),
                               encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "statusgen", "serve", "--site", str(site), "--port", "0",
                                "--now", EXAMPLE_NOW], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stderr is not None
        lines = [process.stderr.readline() for _ in range(3)]
        assert "impact: expected one of" in lines[0]
        assert lines[1] == "1 error; still serving the last good build\n"
        url = re.search(r"at (http://127\.0\.0\.1:\d+/)", lines[2])
        assert url, lines
        with urllib.request.urlopen(url[1] + PAGE, timeout=5) as response:
            assert response.status == 200 and "PDF certificates unavailable" in response.read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


# ── the watcher's paths: only what changed is looked at, a walk when it cannot say ─────

NEW = """\
---
title: {en: A file added while serving, nl: Een bestand toegevoegd}
impact: minor
components: {dcc-app: degraded_performance}
updates:
  - {at: 2026-11-29 10:00, status: investigating, body: Looking.}
---
"""


def test_added_renamed_and_deleted_files_equal_a_full_build(server: Server, tmp_path: Path) -> None:
    from statusgen.site.build import build
    from tests.golden import read_tree

    site: Path = server.site  # type: ignore[attr-defined]
    added = site / "incidents" / "2026" / "2026-11-29-added.md"
    added.write_text(NEW, encoding="utf-8")
    until(lambda: server.get("en/incidents/2026-11-29-added/")[0] == 200, REBUILT_WITHIN, "the added file's page")
    added.rename(added.with_name("2026-11-29-renamed.md"))
    until(lambda: server.get("en/incidents/2026-11-29-renamed/")[0] == 200, REBUILT_WITHIN, "the renamed page")
    until(lambda: server.get("en/incidents/2026-11-29-added/")[0] == 404, REBUILT_WITHIN, "the old name's page is gone")
    (site / OUTAGE).unlink()
    until(lambda: server.get(PAGE)[0] == 404, REBUILT_WITHIN, "the deleted file's page is gone")
    (site / "incidents" / "2026").rename(site / "incidents" / "this-year")  # a folder: the build walks
    write_text = (site / "incidents" / "this-year" / "2026-11-29-renamed.md")
    write_text.write_text(NEW.replace("A file added while serving", "Moved along"), encoding="utf-8")
    until(lambda: "Moved along" in server.get("en/incidents/2026-11-29-renamed/")[1], 10,
          "the file in the moved folder is served")
    until(lambda: not server.status()["building"], REBUILT_WITHIN, "the builds are done")
    full = build(site, tmp_path / "full", EXAMPLE_NOW)
    assert read_tree(site / "public") == full.outputs


def test_lost_events_make_the_next_build_walk(tmp_path: Path) -> None:
    """watchdog only logs that the kernel dropped events; serve hears it and walks."""
    import logging

    from statusgen.authoring.serve import Preview

    site = copy_example(tmp_path / "site")
    with Preview(site, now=EXAMPLE_NOW, port=0, debounce=0.05, parallel=False) as preview:
        preview._observer.stop()  # from here on, every event is lost
        preview._observer.join(timeout=10)
        page = site / "public" / PAGE / "index.html"
        text = (site / OUTAGE).read_text(encoding="utf-8")
        (site / OUTAGE).write_text(text.replace(TITLE, "en: Seen after an overflow"), encoding="utf-8")
        builds = preview.live.current.builds
        preview.rebuilder.changed([])  # an event about something else: the edit stays unseen
        until(lambda: preview.live.current.builds > builds and not preview.live.current.building, 10, "a build")
        assert "Seen after an overflow" not in page.read_text(encoding="utf-8")
        logging.getLogger("watchdog.observers.inotify_c").warning("Inotify queue overflowed; filesystem events were lost")
        until(lambda: "Seen after an overflow" in page.read_text(encoding="utf-8"), 10, "the walk sees the edit")


def _clock_builds(site: Path) -> tuple[Any, Any, Any]:
    """Two builds at the clock, nothing edited between; again if the minute turned meanwhile."""
    from statusgen.site.build import Builder

    while True:
        builder = Builder(site, site / "public", parallel=False)
        first, second = builder.build(), builder.build([])
        if first.state.now == second.state.now:
            return builder, first, second


def test_builds_at_the_clock_share_its_minute_so_a_second_build_renders_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """serve without --now builds at the clock's minute (pages show minutes): to the second,
    every build would see a new `now` and look at every page again."""
    from datetime import UTC, datetime, timedelta

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    builder, first, second = _clock_builds(copy_example(tmp_path / "site"))
    now = first.state.now
    assert (now.second, now.microsecond) == (0, 0)
    assert timedelta(0) <= datetime.now(UTC) - now < timedelta(minutes=2)
    languages = first.site.config.languages  # only the home pages, always made
    assert second.counters["pages_rendered"] <= len(languages) < second.counters["pages_reused"]
    builder.built_at = now - timedelta(minutes=1)  # as if the clock had moved on since
    assert builder.behind()


def test_a_fixed_now_is_never_behind_the_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from statusgen.site.build import Builder

    site = copy_example(tmp_path / "site")
    given = Builder(site, tmp_path / "given", EXAMPLE_NOW, parallel=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    epoch = Builder(site, tmp_path / "epoch", parallel=False)
    for builder in (given, epoch):
        built = builder.build()
        assert builder.built_at == built.state.now
        builder.built_at -= timedelta(minutes=5)
        assert not builder.behind()
    assert epoch.build().state.now.timestamp() == 1790000000  # to the second, as given


def test_the_preview_builds_the_clocks_next_minute_by_itself_without_reloading_pages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the clock moves to another minute, `serve --watch` builds once with nothing
    edited, so the next edit finds its minute built and rebuilds only what it touched;
    open pages are not told to reload."""
    from datetime import timedelta

    from statusgen.authoring.serve import Preview

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    site = copy_example(tmp_path / "site")
    with Preview(site, port=0, debounce=0.05, parallel=False) as preview:
        builder, served = preview.builder, preview.live.current
        assert builder.built_at is not None
        earlier = builder.built_at - timedelta(minutes=1)
        builder.built_at = earlier  # as if the last build were a minute old
        until(lambda: builder.built_at != earlier, 10, "the clock's build")
        assert not builder.behind() or builder.built_at != earlier
        assert preview.live.current.build == served.build and preview.live.current.errors == ()
        assert preview.live.current.builds == served.builds  # no build the browser hears of
        text = (site / OUTAGE).read_text(encoding="utf-8")
        (site / OUTAGE).write_text(text.replace(TITLE, "en: After the tick"), encoding="utf-8")
        page = site / "public" / PAGE / "index.html"
        until(lambda: "After the tick" in page.read_text(encoding="utf-8"), 10, "the edit")
        assert preview.live.current.build != served.build
