"""`statusgen new incident|maintenance`: a new incident or maintenance file, written as text.

    title + options ──▶ front matter with a first update ──▶ incidents/YYYY/YYYY-MM-DD-slug.md
        ──▶ read back by the loader the build uses (a file it rejects is removed, its errors raised)

A new file reads like the README's examples: block style, and a comment where a person
still has work to do (the body, the translations, the impact).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from statusgen.authoring.options import (
    AuthoringSite,
    authoring_time,
    check_incident_file,
    component_statuses,
    expect_choice,
    impact_value,
    open_site,
    option_time,
    required_text,
    written_time,
)
from statusgen.authoring.yamltext import NewUpdate, needs_translation, text_field
from statusgen.content.incidents import incident_files
from statusgen.content.model import COMPONENT_STATUSES
from statusgen.errors import ContentErrors, UsageError

log = logging.getLogger(__name__)

SLUG_LENGTH = 50
FOLDED = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH", "ı": "i"})
"""Letters that Unicode does not decompose into a Latin letter plus an accent."""
WRITE_BODY = {"investigating": "# replace with what users notice and what you are doing about it",
              "scheduled": "# replace with what will be done and what users will notice"}
IMPACT_HINT = "# impact: P2                 # P1 (critical) to P4; left out, the component statuses set it"
PLACEHOLDERS = {
    "investigating": {"en": "We are investigating the problem.", "nl": "We onderzoeken het probleem.",
                      "fr": "Nous examinons le problème.", "de": "Wir untersuchen das Problem."},
    "scheduled": {"en": "We will carry out planned maintenance.", "nl": "We voeren gepland onderhoud uit.",
                  "fr": "Nous effectuerons une maintenance planifiée.",
                  "de": "Wir führen eine geplante Wartung durch."},
}
"""First-update texts: publishable as they are, since during a P1 the page must go out first."""


# ── names ──────────────────────────────────────────────────────────────────────────────


def slugify(title: str, fallback: str = "incident") -> str:
    """The file-name part of a title: `Certificats indisponibles à Liège !` becomes
    `certificats-indisponibles-a-liege`; cut at whole words where it gets long."""
    folded = unicodedata.normalize("NFKD", title.translate(FOLDED)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(slug) > SLUG_LENGTH:
        cut = slug[:SLUG_LENGTH + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:SLUG_LENGTH]
    return slug.strip("-") or fallback


def new_incident_path(site_dir: Path, day: date, slug: str) -> Path:
    """`incidents/YYYY/YYYY-MM-DD-slug.md`, with -2, -3, ... if the id is taken anywhere
    under incidents/ (an id is the file name, unique across sub-folders)."""
    taken = {file.stem for file in incident_files(site_dir)}
    base = f"{day.isoformat()}-{slug}"
    name = next(candidate for n in range(1, len(taken) + 2)
                if (candidate := base if n == 1 else f"{base}-{n}") not in taken)
    return site_dir / "incidents" / str(day.year) / f"{name}.md"


# ── new incident, new maintenance ──────────────────────────────────────────────────────


def new_incident(site_dir: Path, title: str, components: str | None = None, status: str | None = None,
                 impact: str | None = None, now: str | datetime | None = None) -> Path:
    """Write a new incident, investigating since now; return its path.

    `status` is the status of the components given without one (default major_outage).
    """
    site = open_site(site_dir)
    tz, languages = site.config.timezone, site.config.languages
    moment, title = authoring_time(now, tz), required_text("TITLE", title)
    status = expect_choice("--status", status or "major_outage", COMPONENT_STATUSES)
    affected = component_statuses(components, site.catalog, status)
    priority = impact_value(impact)
    first = _first_update(moment, tz, "investigating", languages)
    head = [impact_line(priority), *components_field(affected)]
    titles = dict.fromkeys(languages, title)
    text = front_matter(titles, "incident", head, first, needs_translation(titles))
    return write_new(site, moment.astimezone(tz).date(), slugify(title), text)


def new_maintenance(site_dir: Path, title: str, start: str | None, end: str | None,
                    components: str | None = None, now: str | datetime | None = None) -> Path:
    """Write a maintenance window, announced (scheduled) now; return its path.

    The file is named after the day the window starts: that is the date people look for.
    """
    site = open_site(site_dir)
    tz, languages = site.config.timezone, site.config.languages
    moment, title = authoring_time(now, tz), required_text("TITLE", title)
    opens = window_start(start, tz)
    closes = window_end(opens, option_time(required_option("--end", end, WHEN_END), tz, "--end"), tz)
    affected = component_statuses(components, site.catalog, "under_maintenance")
    first = _first_update(moment, tz, "scheduled", languages)
    head = [*components_field(affected), *window_field(opens, closes, tz)]
    titles = dict.fromkeys(languages, title)
    text = front_matter(titles, "maintenance", head, first, needs_translation(titles))
    return write_new(site, opens.astimezone(tz).date(), slugify(title, "maintenance"), text)


WHEN_START = "when the window opens, e.g. '2026-12-06 22:00'"
WHEN_END = "when the window closes, e.g. '2026-12-07 02:00'"


def required_option(option: str, value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise UsageError(f"{option}: expected {what}; found nothing")
    return value


def window_start(start: str | None, tz: ZoneInfo) -> datetime:
    return option_time(required_option("--start", start, WHEN_START), tz, "--start")


def window_end(opens: datetime, closes: datetime, tz: ZoneInfo) -> datetime:
    """`closes`, if it is after `opens`."""
    if closes <= opens:
        raise UsageError(f"--end: expected a time after --start {written_time(opens, tz)}; "
                         f"found {written_time(closes, tz)}")
    return closes


def window_field(opens: datetime, closes: datetime, tz: ZoneInfo) -> list[str]:
    return ["window:", f"  start: {written_time(opens, tz)}", f"  end: {written_time(closes, tz)}"]


def impact_line(impact: str | None) -> str:
    """`impact: P1`, or the hint that lets the component statuses decide."""
    return f"impact: {impact}" if impact else IMPACT_HINT


def _first_update(moment: datetime, tz: ZoneInfo, status: str, languages: Sequence[str]) -> NewUpdate:
    texts = PLACEHOLDERS[status]
    body = {lang: texts.get(lang.split("-")[0], texts["en"]) for lang in languages}
    return NewUpdate(written_time(moment, tz), status, body, comment=WRITE_BODY[status])


def front_matter(titles: dict[str, str], kind: str, head: list[str], first: NewUpdate,
                 comment: str | None = None, top: Sequence[str] = ()) -> str:
    """The whole file: `top` (comment lines), the title, the type, `head` and the first update."""
    lines = ["---", *top, *text_field("title", titles, 0, comment), f"type: {kind}", *head,
             "updates:", *first.lines(2, 4), "---"]
    return "\n".join(lines) + "\n"


def write_new(site: AuthoringSite, day: date, slug: str, text: str) -> Path:
    """Write `text` as a new incident file and read it back as the build does; a file the
    loader rejects is removed and its errors raised."""
    path = new_incident_path(site.dir, day, slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8", newline="\n") as file:  # never over a file
        file.write(text)
    try:
        check_incident_file(site, path)
    except ContentErrors:
        path.unlink()
        raise
    log.debug("wrote %s", path)
    return path


def components_field(components: dict[str, str]) -> list[str]:
    if not components:
        return ["components: {}                 # none yet: add lines `id: status` below `components:`"]
    return ["components:", *(f"  {cid}: {status}" for cid, status in components.items())]
