"""The build pipeline: load → state → render → write.

    site files ──load──▶ Site ──state(now)──▶ SiteState + uptime ──render──▶ Outputs ──write──▶ public/
                                                               (+ snapshot) ──then──▶ .statusgen/snapshot.json

`build` runs it once, from nothing: render writes each file into a temporary folder as
it is made (so memory does not grow with the bytes of the site), and write swaps that
folder into place.
`Builder` runs it again and again in one process (`statusgen serve --watch`): it keeps a
`BuildCache`, so a rebuild after an edit parses, computes and renders only what the edit
touched, and writes only the files whose bytes changed; the output is byte for byte
what `build` would write at the same `now`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from statusgen.site import incremental
from statusgen.errors import UsageError
from statusgen.site.incremental import BuildCache
from statusgen.content.load import load_site
from statusgen.content.model import Site
from statusgen.site.fingerprints import theme_digest
from statusgen.site.output import Outputs, StagedOutputs, WrittenSite, replace_file, staged, write_changes
from statusgen.site.render import render_site
from statusgen.site.snapshot import snapshot_location
from statusgen.site.state import SiteState, site_state
from statusgen.site.theme import Theme
from statusgen.times import TimeError, build_time, follows_clock
from statusgen.site.uptime import site_uptime

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class BuildResult:
    site: Site
    state: SiteState
    outputs: Mapping[str, bytes]
    """Every file written, by path (`build`: read back from `out_dir` when asked)."""
    out_dir: Path
    seconds: float
    stages: tuple[tuple[str, float], ...] = ()
    """Seconds spent in each stage, in order."""
    written: int | None = None
    """Files written (and deleted) by an incremental write; None after a full folder swap."""
    counters: dict[str, int] = field(default_factory=dict)
    """What a `Builder` build made anew and reused (see `BuildCache.counters`)."""
    snapshot_path: Path | None = None
    """Where the notifier's snapshot (`outputs.snapshot`) was written, outside `out_dir`."""

    def summary(self) -> str:
        """One line for the terminal: what was built where, and how fast."""
        line = f"built {len(self.outputs)} files into {self.out_dir} in {self.seconds:.2f} s"
        if self.counters:  # after a whole folder swap (the first build), `written` is None
            written = "all files written" if self.written is None else f"{counted(self.written, 'file')} written"
            line += (f" ({counted(self.counters['pages_rendered'], 'page')} rendered, "
                     f"{self.counters['pages_reused']} reused, {written})")
        return line


def counted(number: int, thing: str) -> str:
    """`1 incident`, `2 incidents`: for the lines statusgen prints."""
    return f"{number} {thing}{'' if number == 1 else 's'}"


class _Stages:
    """Times each stage and logs it (shown with `-v`)."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.ended(name, started)

    def ended(self, name: str, started: float) -> None:
        """Stage `name`, begun at `started` (`time.perf_counter()`), ends now."""
        seconds = time.perf_counter() - started
        self.times.append((name, seconds))
        log.debug("  %-7s %6.3f s", name, seconds)

    def run(self, name: str, work: Callable[[], T]) -> T:
        with self.stage(name):
            return work()


def check(site_dir: Path) -> Site:
    """Validate every site file; raises `ContentErrors` with all problems."""
    site, _subscribers = load_site(site_dir)
    return site


def resolve_now(site: Site, now: str | datetime | None) -> datetime:
    if isinstance(now, datetime):
        return now
    try:
        return build_time(now, site.config.timezone)
    except TimeError as error:
        raise UsageError(f"--now: {error}") from None


def render(site_dir: Path, now: str | datetime | None = None) -> tuple[Site, SiteState, Outputs]:
    """Load the site and render every output in memory, writing nothing."""
    outputs = Outputs()
    site, state = _render(site_dir, now, _Stages(), outputs)
    return site, state, outputs


def _render(site_dir: Path, now: str | datetime | None, stages: _Stages,
            outputs: Outputs | StagedOutputs) -> tuple[Site, SiteState]:
    """Load, compute and render the site into `outputs`."""
    with fewer_collections():
        site = stages.run("load", lambda: check(site_dir))
        state = stages.run("state", lambda: site_state(site, resolve_now(site, now)))
        uptime = stages.run("uptime", lambda: site_uptime(state))
        stages.run("render", lambda: render_site(state, uptime, Theme(site_dir), outputs=outputs))
    return site, state


@contextmanager
def fewer_collections() -> Iterator[None]:
    """A build makes millions of objects that live until it ends, and Python's collector
    would look through all of them again and again (a tenth of a large build's time):
    collect young objects less often while it runs, as mypy does."""
    before = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def output_folder(site_dir: Path, out_dir: Path | None) -> tuple[Path, Path]:
    """The resolved site and output folders; refuses an output folder that holds the site."""
    site_dir = site_dir.resolve()
    out_dir = (out_dir or site_dir / "public").resolve()
    if out_dir == site_dir or site_dir.is_relative_to(out_dir):
        raise UsageError(f"--out {out_dir} would replace the site itself; choose a folder inside or beside it")
    return site_dir, out_dir


def snapshot_file(site_dir: Path, out_dir: Path, given: Path | None) -> Path:
    """Where this build writes the notifier's snapshot (`snapshot.snapshot_location`):
    refused inside the published folder, which holds only what readers and clients use."""
    path = snapshot_location(site_dir, given)
    if path.is_relative_to(out_dir):
        raise UsageError(f"--snapshot {path} is inside the published folder {out_dir}; the snapshot is internal: "
                         f"leave --snapshot out (default: SITE/.statusgen/snapshot.json) or choose a path outside it")
    return path


def build(site_dir: Path, out_dir: Path | None = None, now: str | datetime | None = None,
          snapshot_path: Path | None = None) -> BuildResult:
    """Build the site into `out_dir` (default `SITE/public`) and the notifier's snapshot to
    `snapshot_path` (default `SITE/.statusgen/snapshot.json`, also with another `out_dir`);
    on any error, write neither."""
    started = time.perf_counter()
    site_dir, out_dir = output_folder(site_dir, out_dir)
    snapshot = snapshot_file(site_dir, out_dir, snapshot_path)
    stages = _Stages()
    with staged(out_dir) as outputs:  # render writes each file as it is made
        outputs.snapshot_to = snapshot  # and the snapshot, put into place after the folder's swap
        site, state = _render(site_dir, now, stages, outputs)
        swapping = time.perf_counter()
    stages.ended("write", swapping)  # what is left to write: the swap, on leaving the block
    seconds = time.perf_counter() - started
    return BuildResult(site, state, WrittenSite(out_dir, outputs, snapshot_path=snapshot), out_dir, seconds, tuple(stages.times),
                       snapshot_path=snapshot)


class Builder:
    """Builds one site into one folder again and again, reusing what did not change.

    `now=None` takes the clock's minute (or `SOURCE_DATE_EPOCH`) at each build: pages
    show minutes, and builds within one minute then share a `now`, so an edit rebuilds
    only what it touched (a new `now` has every page looked at again); `behind` says
    when the clock has moved on since the last good build (`serve` then builds once, so
    that the next edit finds its minute built). A failed build (content errors, a broken
    template) raises, writes nothing and leaves the cache as the last good build left it.
    """

    def __init__(self, site_dir: Path, out_dir: Path | None = None, now: str | datetime | None = None,
                 parallel: bool = True, snapshot_path: Path | None = None) -> None:
        self.site_dir, self.out_dir = output_folder(site_dir, out_dir)
        self.snapshot = snapshot_file(self.site_dir, self.out_dir, snapshot_path)
        self._snapshot_written: bytes | None = None
        self.now, self.parallel = now, parallel
        self.cache = BuildCache()
        self.built_at: datetime | None = None
        """The `now` of the last good build."""
        self._follows_clock = False
        self._theme: tuple[bytes, Theme] | None = None

    def build(self, changed: Iterable[Path | str] | None = None) -> BuildResult:
        """Build again. `changed`: the files a watcher saw created, modified, deleted or
        moved since the last call (absolute, or relative to the site); only those incident
        files are looked at. None (the default): nobody watched, so every file is."""
        self.cache.files.note(None if changed is None else self.site_paths(changed))
        with fewer_collections():
            return self._build()

    def site_paths(self, changed: Iterable[Path | str]) -> list[str]:
        """`changed` as site paths (`incidents/2026/x.md`); files outside the site (the
        packaged theme) are left out: the theme is compared whole at every build."""
        found = []
        for path in changed:
            full = self.site_dir / path  # an absolute path stays as it is
            if full.is_relative_to(self.site_dir):
                found.append(full.relative_to(self.site_dir).as_posix())
        return found

    def _build(self) -> BuildResult:
        started = time.perf_counter()
        stages, cache = _Stages(), self.cache
        site, _ = stages.run("load", lambda: load_site(self.site_dir, cache.files))
        state = stages.run("state", lambda: cache.states.site_state(site, self.moment(site)))
        cache.render.start()
        try:
            cache.render.begin(state)
            uptime = stages.run("uptime", lambda: incremental.site_uptime(state, cache.render))
            theme = stages.run("theme", self.theme)
            outputs = stages.run("render", lambda: render_site(state, uptime, theme, self.parallel, cache.render))
            written = stages.run("write", lambda: self._write(outputs))
        except BaseException:
            cache.render.abandon()
            raise
        cache.render.commit()
        self.built_at = state.now
        seconds = time.perf_counter() - started
        return BuildResult(site, state, outputs, self.out_dir, seconds, tuple(stages.times), written,
                           cache.counters(), self.snapshot)

    def moment(self, site: Site) -> datetime:
        """This build's `now`: the one given, else SOURCE_DATE_EPOCH's, else the clock's minute."""
        self._follows_clock = not isinstance(self.now, datetime) and follows_clock(self.now)
        moment = resolve_now(site, self.now)
        return moment.replace(second=0) if self._follows_clock else moment  # (the clock has no microseconds)

    def behind(self) -> bool:
        """Whether the last good build follows the clock and the clock has since moved to
        another minute: what a build now would show differs (durations, the last update)."""
        if not self._follows_clock or self.built_at is None:
            return False
        return datetime.now(self.built_at.tzinfo).replace(second=0, microsecond=0) != self.built_at

    def theme(self) -> Theme:
        """The same `Theme` while no theme file changed, so Jinja compiles templates once."""
        key = theme_digest(Theme(self.site_dir))
        if self._theme is None or self._theme[0] != key:
            self._theme = (key, Theme(self.site_dir))
        return self._theme[1]

    def _write(self, outputs: Outputs) -> int | None:
        """The changed files, then the snapshot if it changed (after the pages, as `build`
        writes them: see `output.write_site`)."""
        previous, self.cache.written = self.cache.written, None  # unknown until this write is done
        written = write_changes(outputs, self.out_dir, previous)
        self.cache.written = dict(outputs)
        assert outputs.snapshot is not None
        if outputs.snapshot != self._snapshot_written:
            self._snapshot_written = None  # unknown until written
            replace_file(self.snapshot, outputs.snapshot)
            self._snapshot_written = outputs.snapshot
        return written
