"""The build pipeline: load → state → render → write.

    site files ──load──▶ Site ──state(now)──▶ SiteState + uptime ──render──▶ Outputs ──write──▶ public/
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from statusgen.errors import UsageError
from statusgen.load import load_site
from statusgen.model import Site
from statusgen.output import write_site
from statusgen.render import Outputs, render_site
from statusgen.state import SiteState, site_state
from statusgen.theme import Theme
from statusgen.times import TimeError, build_time
from statusgen.uptime import site_uptime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    site: Site
    state: SiteState
    outputs: Outputs
    out_dir: Path
    seconds: float


def check(site_dir: Path) -> Site:
    """Validate every site file; raises `ContentErrors` with all problems."""
    site, _subscribers = load_site(site_dir)
    return site


def resolve_now(site: Site, now: str | None) -> datetime:
    try:
        return build_time(now, site.config.timezone)
    except TimeError as error:
        raise UsageError(f"--now: {error}") from None


def render(site_dir: Path, now: str | datetime | None = None) -> tuple[Site, SiteState, Outputs]:
    """Load the site and render every output in memory, writing nothing."""
    site = check(site_dir)
    moment = now if isinstance(now, datetime) else resolve_now(site, now)
    state = site_state(site, moment)
    outputs = render_site(state, site_uptime(state), Theme(site_dir))
    return site, state, outputs


def build(site_dir: Path, out_dir: Path | None = None, now: str | datetime | None = None) -> BuildResult:
    """Build the site into `out_dir` (default `SITE/public`); on any error, write nothing."""
    started = time.perf_counter()
    site_dir = site_dir.resolve()
    out_dir = (out_dir or site_dir / "public").resolve()
    if out_dir == site_dir or site_dir.is_relative_to(out_dir):
        raise UsageError(f"--out {out_dir} would replace the site itself; choose a folder inside or beside it")
    site, state, outputs = render(site_dir, now)
    write_site(outputs, out_dir)
    seconds = time.perf_counter() - started
    return BuildResult(site, state, outputs, out_dir, seconds)
