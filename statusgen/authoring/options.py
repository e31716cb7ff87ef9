"""What the `new` commands are told, checked and turned into what a file says.

    --site DIR       ──▶ AuthoringSite: settings and components only (check_incident_file reads
                         a written file back as the build does)
    --now, --start   ──▶ moments; written_time writes them as people do, in the site timezone
    --components, --impact, --status, --lang, TEXT ──▶ checked values (UsageError, did-you-mean)

Shared by incident.py and update.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from statusgen.content.catalog import Catalog, load_catalog
from statusgen.content.config import CONFIG_PATH, load_config
from statusgen.content.fields import did_you_mean, one_of
from statusgen.content.incidents import load_incident
from statusgen.content.model import COMPONENT_STATUSES, IMPACTS, PRIORITIES, Incident, SiteConfig
from statusgen.errors import ContentErrors, Problems, UsageError
from statusgen.times import TimeError, localize, parse_time


# ── the site an author writes into ─────────────────────────────────────────────────────


@dataclass(frozen=True)
class AuthoringSite:
    """What writing a file needs: the settings (languages, timezone) and the components."""

    dir: Path
    config: SiteConfig
    catalog: Catalog


def open_site(site_dir: Path) -> AuthoringSite:
    """Read settings and components only: a broken incident elsewhere must not stop a new one."""
    if not (site_dir / CONFIG_PATH).is_file():
        raise UsageError(f"no site in {site_dir}: {CONFIG_PATH} is missing "
                         "(use --site DIR, or create a site with statusgen init DIR)")
    problems = Problems()
    config = load_config(site_dir, problems)
    catalog = load_catalog(site_dir, config.languages, problems) if config else None
    if config is None or catalog is None or problems.errors:
        raise ContentErrors(problems.errors)
    return AuthoringSite(site_dir, config, catalog)


def check_incident_file(site: AuthoringSite, path: Path) -> Incident:
    """Read one incident file as the build does; raise its errors.

    One file is all a new file or a new update can break: the other cross-file rule,
    unique ids, is kept by the file name chosen.
    """
    problems = Problems()
    incident = load_incident(site.dir, path.relative_to(site.dir).as_posix(), site.config, site.catalog, problems)
    if incident is None or problems.errors:
        raise ContentErrors(problems.errors)
    return incident


# ── times ──────────────────────────────────────────────────────────────────────────────


def authoring_time(now: str | datetime | None, tz: ZoneInfo) -> datetime:
    """When a thing is written: `--now` if given, else the clock (never SOURCE_DATE_EPOCH,
    which pins builds, not the moment someone reports an incident)."""
    if isinstance(now, datetime):
        return now.astimezone(UTC).replace(microsecond=0)
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    return option_time(now, tz, "--now")


def option_time(value: str, tz: ZoneInfo, option: str) -> datetime:
    try:
        return parse_time(value, tz)
    except TimeError as error:
        raise UsageError(f"{option}: {error}") from None


def written_time(moment: datetime, tz: ZoneInfo, seconds: bool = False) -> str:
    """`2026-11-28 09:20` in the site timezone, as people write it; with the UTC offset
    where that wall-clock time happens twice or never (the DST changes)."""
    local = moment.astimezone(tz)
    wall = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    try:
        localize(local.replace(tzinfo=None), tz)
    except TimeError:
        return local.isoformat(timespec="seconds" if seconds else "minutes")
    return wall


# ── option values ──────────────────────────────────────────────────────────────────────


def required_text(what: str, value: str) -> str:
    """`value`, unless it is blank (a title or update text must say something)."""
    if not value.strip():
        raise UsageError(f"{what}: expected some text; found nothing")
    return value


def expect_choice(option: str, value: str, options: Sequence[str]) -> str:
    if value not in options:
        raise UsageError(f"{option}: expected one of {one_of(options)}; found {value!r}"
                         f"{did_you_mean(value, options)}")
    return value


def impact_value(value: str | None) -> str | None:
    """`P1`..`P4` (any case) or an impact name, as it will be written."""
    if value is None or value.upper() in PRIORITIES:
        return value.upper() if value else None
    return expect_choice("--impact", value, (*PRIORITIES, *IMPACTS))


def component_statuses(spec: str | None, catalog: Catalog, default: str | None) -> dict[str, str]:
    """`--components a,b=partial_outage,GROUP` as {component id: status}, groups expanded
    (so an update can later change one component of the group), in the order given."""
    found: dict[str, str] = {}
    for item in (part.strip() for part in (spec or "").split(",")):
        if not item:
            continue
        ref, given, status = (part.strip() for part in item.partition("="))
        if ref not in catalog.ids:
            suggestion = did_you_mean(ref, catalog.ids) or f"; expected one of {one_of(catalog.ids)}"
            raise UsageError(f"--components: unknown component {ref!r}{suggestion}")
        if not given and default is None:
            raise UsageError(f"--components: expected ID=STATUS such as {ref}=operational; found {item!r}")
        status = expect_choice(f"--components {ref}", status if given else default or "", COMPONENT_STATUSES)
        found.update((cid, status) for cid in catalog.expand(ref))
    return found


def texts_for(languages: Sequence[str], text: str, by_language: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """One text per site language: `text` everywhere, replaced where `--lang LANG TEXT` says."""
    texts = dict.fromkeys(languages, text)
    for lang, value in by_language:
        if lang not in languages:
            raise UsageError(f"--lang: the site has no language {lang!r}{did_you_mean(lang, languages)}; "
                             f"it has {one_of(languages)}")
        texts[lang] = value
    return texts
