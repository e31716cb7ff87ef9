"""`statusgen import`: another status page's data into a site, all or nothing.

    the site as it is (content/site.yaml needed; components.yaml and incidents may be missing)
      ──subscribers.prepare──▶ their settings checked before any work (when they come along)
      ──open_source──▶ Dump ──map_dump, templates_from_dump──▶ Records
        (cState: read_cstate ──▶ Records ──merge_components with the site's own)
      ──quiet──▶ every imported update `notify: false` (the old page told its subscribers already)
      ──write_records──▶ the files, every touched file's bytes kept
      ──load the site as `statusgen check` does──▶ on errors every file is put back
        and the errors are raised (`PATH:LINE: message`); the site is as it was
      ──subscribers.run──▶ the store
      ──▶ Outcome: what was written, and the Report's lines (nothing left out silently)

A folder without content/site.yaml is refused with what to write there: the site's
languages and timezone are ops' choice, not something to guess from the source.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statusgen.content.catalog import COMPONENTS_PATH, load_catalog
from statusgen.content.config import CONFIG_PATH, load_config, site_folder
from statusgen.content.model import Site, SiteConfig
from statusgen.errors import ContentErrors, DeliveryError, Problems, SetupError, UsageError
from statusgen.importer.components import component_ids, merge_components
from statusgen.importer.records import IncidentRecord, Records, Report, TemplateRecord
from statusgen.importer.statuspage.dump import Dump
from statusgen.importer.write import Written, write_records
from statusgen.site.build import check
from statusgen.times import TimeError, parse_time

if TYPE_CHECKING:
    from statusgen.importer.statuspage.subscribers import SubscriberImport

log = logging.getLogger(__name__)
MINIMAL_SETTINGS = ("title: Service status\nbase_url: https://status.example.org/\n"
                    "languages: [en]\ntimezone: Europe/Brussels")


@dataclass(frozen=True)
class Outcome:
    written: Written
    report: Report
    lines: tuple[str, ...]
    """The summary (`components.yaml: updated; incidents: 12 new, ...`), the subscribers'
    counts, then every `not imported: ...` and `changed: ...` line."""


@dataclass(frozen=True)
class Existing:
    """The site before the import: its settings, and its components when it has them."""

    dir: Path
    config: SiteConfig
    site: Site | None


def open_existing(site_dir: Path) -> Existing:
    """The settings (required) and components (if any) of the site to import into.

    Broken settings or a broken components.yaml stop the import (their errors, as
    `statusgen check` prints them): writing over ops' components would lose them.
    Broken incident files do not: the check after writing reports them.
    """
    missing = site_folder(site_dir)
    if missing:
        raise SetupError([f"{missing[0]}; an import writes into a site: create {CONFIG_PATH} first "
                          f"(`statusgen init` makes a whole example site), at least:\n{MINIMAL_SETTINGS}"])
    problems = Problems()
    config = load_config(site_dir, problems)
    if config is None or problems.errors:
        raise ContentErrors(problems.errors)
    if not (site_dir / COMPONENTS_PATH).exists():
        return Existing(site_dir, config, None)
    catalog = load_catalog(site_dir, config.languages, problems)
    problems.raise_if_any()
    site = Site(config=config, groups=catalog.groups, components=catalog.components, incidents=(),
                layout=catalog.layout)
    return Existing(site_dir, config, site)


def import_statuspage(site_dir: Path, source: str, *, page_id: str | None = None,
                      subscribers_csv: Path | None = None, trust_confirmed: bool = False,
                      store: str | None = None, now: str | datetime | None = None,
                      env: Mapping[str, str] | None = None, refresh: bool = False,
                      cache_dir: Path | None = None,
                      progress: Callable[[str], None] | None = None) -> Outcome:
    """Everything a Statuspage has (a page URL, a folder of saved JSON, or the manage API
    with `page_id`) into the site at `site_dir`. Answers are kept in `cache_dir` (default:
    the site's `.statusgen/statuspage/HOST`), so a rerun asks nothing again unless `refresh`."""
    from statusgen.importer.statuspage import sources, subscribers

    env = os.environ if env is None else env
    existing = open_existing(site_dir)
    moment = _moment(now, existing.config)
    report = Report()
    people: SubscriberImport | None = None
    listed: tuple[dict[str, Any], ...] | None = None
    if subscribers_csv is not None or page_id is not None:
        people = subscribers.prepare(site_dir, env=env, store=store, trust_confirmed=trust_confirmed)
        if subscribers_csv is not None:
            listed = subscribers.read_csv(subscribers_csv, report)
    dump = sources.open_source(source, page_id=page_id, env=env,
                               cache_dir=cache_dir or sources.cache_folder(site_dir, source, page_id),
                               progress=progress or (lambda line: log.info("%s", line)), refresh=refresh)
    for note in dump.notes:
        report.skip("source", note)
    return import_dump(site_dir, dump, existing=existing, report=report, subscriber_import=people,
                       subscribers=listed, now=moment)


def import_dump(site_dir: Path, dump: Dump, *, existing: Existing | None = None, report: Report | None = None,
                subscriber_import: SubscriberImport | None = None,
                subscribers: Sequence[dict[str, Any]] | None = None,
                now: datetime | None = None) -> Outcome:
    """A Dump already read into the site: map, write, check (undone on errors), then the
    subscribers (`subscribers`, else the dump's) when `subscriber_import` is given."""
    from statusgen.importer.statuspage.mapping import map_dump

    existing = existing or open_existing(site_dir)
    report = report or Report()
    people = dump.subscribers if subscribers is None else tuple(subscribers)
    if subscriber_import is not None:
        subscriber_import.check(people)  # before any file is written
    records = map_dump(dump, existing.config, existing.site, report)
    if dump.templates:
        records = replace(records, templates=_templates(dump, records, existing, report))
    written, site = import_records(existing, records)
    moment = now or datetime.now(UTC).replace(microsecond=0)
    lines = [written.summary(site_dir)]
    if subscriber_import is not None:
        try:
            lines += subscriber_import.run(people, site, report, moment)
        except DeliveryError as error:  # the files are written; say so beside what failed
            raise DeliveryError("\n".join([*lines, *report.lines(), str(error)])) from None
    return Outcome(written, report, (*lines, *report.lines()))


def import_cstate(site_dir: Path, folder: Path) -> Outcome:
    """A cState site's systems and issues into the site at `site_dir`."""
    from statusgen.importer.cstate import read_cstate

    if not folder.is_dir():
        raise UsageError(f"FOLDER: expected a cState site's folder (with config.yml and content/issues/); "
                         f"found no folder {folder}")
    existing = open_existing(site_dir)
    report = Report()
    records = _merged(read_cstate(folder, existing.config, report), existing, report)
    written, _site = import_records(existing, records)
    return Outcome(written, report, (written.summary(site_dir), *report.lines()))


def import_records(existing: Existing, records: Records) -> tuple[Written, Site]:
    """Write the records and load the site as `statusgen check` does; on errors put every
    file back as it was and raise them."""
    config = existing.config
    written = write_records(existing.dir, quiet(records), config.languages, config.timezone)
    try:
        site = check(existing.dir)
    except BaseException:  # content errors, or an interrupt: the site goes back as it was
        written.undo()
        raise
    log.debug("imported: %s", written.summary(existing.dir))
    return written, site


def _templates(dump: Dump, records: Records, existing: Existing, report: Report) -> tuple[TemplateRecord, ...]:
    from statusgen.importer.statuspage.templates import templates_from_dump

    components = records.components or _own_components(existing)
    return templates_from_dump(dump, component_ids(components), report)


def _own_components(existing: Existing) -> tuple[Any, ...]:
    merged, _ = merge_components((), existing.site, Report())
    return merged


def _merged(records: Records, existing: Existing, report: Report) -> Records:
    """A source's components merged with the site's own (ids kept, ops' additions and
    translations kept), its incidents and templates pointed at the merged ids."""
    if not records.components:
        return records
    components, renames = merge_components(records.components, existing.site, report)

    def renamed(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple((renames.get(cid, cid), status) for cid, status in pairs)

    def incident(record: IncidentRecord) -> IncidentRecord:
        updates = tuple(replace(u, components=renamed(u.components)) for u in record.updates)
        return replace(record, components=renamed(record.components), updates=updates)

    return Records(components=components, incidents=tuple(incident(i) for i in records.incidents),
                   templates=tuple(replace(t, components=renamed(t.components)) for t in records.templates))


def quiet(records: Records) -> Records:
    """Every imported update as `notify: false`: it is history the old page already told
    its subscribers, so `statusgen notify` must not email it again (whatever its store
    holds). A maintenance window still to come keeps its automatic steps: its reminder,
    start and end are announced by statusgen from now on."""
    def hushed(record: IncidentRecord) -> IncidentRecord:
        return replace(record, updates=tuple(replace(u, notify=False) for u in record.updates))

    return replace(records, incidents=tuple(hushed(i) for i in records.incidents))


def _moment(now: str | datetime | None, config: SiteConfig) -> datetime:
    if isinstance(now, datetime):
        return now
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return parse_time(now, config.timezone)
    except TimeError as error:
        raise UsageError(f"--now: {error}") from None
