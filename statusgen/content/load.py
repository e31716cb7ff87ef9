"""Stage 1 of the build: site files → a validated `Site`.

Each file is read and checked on its own (`config`, `catalog`, `incidents`, `pages`,
`templates`),
then cross-file rules run over the whole model. All problems are collected and raised
together as one `ContentErrors`.
"""

from __future__ import annotations

import logging
import os
from operator import attrgetter
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING

from statusgen import workers
from statusgen.content.catalog import Catalog, load_catalog
from statusgen.content.config import load_config
from statusgen.errors import ContentError, ContentErrors, Problems
from statusgen.content.incidents import incident_files, load_incident
from statusgen.content.model import Incident, Site, SiteConfig, Subscriber
from statusgen.content.pages import load_pages
from statusgen.content.subscribers import load_subscribers
from statusgen.content.templates import load_templates

if TYPE_CHECKING:
    from statusgen.content.filecache import FileCache

log = logging.getLogger(__name__)
INCIDENT_SUFFIXES = (".md", ".yaml", ".yml")


def load_site(site_dir: Path, cache: FileCache | None = None) -> tuple[Site, tuple[Subscriber, ...]]:
    """Read and validate every site file; raise `ContentErrors` listing all problems.

    Subscribers come back beside the site, never inside it, so nothing that renders the
    public output can reach an address. With a `cache` (serve mode), incident files whose
    bytes and checking context are unchanged since the last load are not parsed again.
    """
    problems = Problems()
    config = load_config(site_dir, problems)
    if config is None:
        # Languages and timezone shape every other check; guessing them would only
        # bury the real problem under errors that are not there.
        raise ContentErrors(problems.errors)
    catalog = load_catalog(site_dir, config.languages, problems, config.sla)
    if cache is None:
        files = incident_files(site_dir)
        _check_unique_ids([file.relative_to(site_dir).as_posix() for file in files], problems)
        incidents = _load_incidents(site_dir, files, config, catalog, problems)
    else:
        incidents = _load_incidents_cached(site_dir, config, catalog, problems, cache)
    _check_unique_aliases(incidents, problems)
    pages = load_pages(site_dir, config, problems)
    templates = load_templates(site_dir, config, catalog, problems)
    subscribers = load_subscribers(site_dir, config, catalog, problems)
    problems.raise_if_any()
    log.debug("loaded %d components, %d incidents, %d pages", len(catalog.components),
              len(incidents), len(pages))
    site = Site(config=config, groups=catalog.groups, components=catalog.components,
                incidents=tuple(sorted(incidents, key=attrgetter("id"))), pages=pages,
                layout=catalog.layout, templates=templates)
    return site, subscribers


PARALLEL_FROM = 2000
"""Incident files from which a second process parses half of them (a fork and sending
the parsed incidents back cost about as much as parsing a thousand)."""


def _load_incidents(site_dir: Path, files: list[Path], config: SiteConfig, catalog: Catalog,
                    problems: Problems) -> list[Incident]:
    """`load_incident` for every file, in order; on a large site a forked worker parses
    the second half meanwhile (`bench/build_bench.py`: 10,000 files, 2.9 s → 1.9 s)."""
    global _chunk
    if len(files) < PARALLEL_FROM or workers.available(2) == 1:
        parts = [_load_incident_files(site_dir, files, config, catalog)]
    else:
        half = len(files) // 2
        _chunk = (site_dir, files[half:], config, catalog)
        try:
            with workers.forked(1) as pool:
                later = pool.apply_async(_load_chunk)
                parts = [_load_incident_files(site_dir, files[:half], config, catalog), later.get()]
        finally:
            _chunk = None
    incidents: list[Incident] = []
    for loaded, errors in parts:
        incidents.extend(loaded)
        problems.errors.extend(errors)
    return incidents


_chunk: tuple[Path, list[Path], SiteConfig, Catalog] | None = None
"""What the forked worker parses: inherited, never sent."""


def _load_chunk() -> tuple[list[Incident], list[ContentError]]:
    assert _chunk is not None
    return _load_incident_files(*_chunk)


def _load_incident_files(site_dir: Path, files: list[Path], config: SiteConfig,
                         catalog: Catalog) -> tuple[list[Incident], list[ContentError]]:
    own = Problems()
    return [i for f in files if (i := load_incident(site_dir, f, config, catalog, own))], own.errors


def _load_incidents_cached(site_dir: Path, config: SiteConfig, catalog: Catalog, problems: Problems,
                           cache: FileCache) -> list[Incident]:
    """`load_incident` for every file, through the cache; the same incidents and problems.
    Only the files the watcher reported (`FileCache.note`) are looked at, when it did."""
    context = cache.start(checking_context(config, catalog))
    paths, changed = cache.listing("incidents", INCIDENT_SUFFIXES, lambda: incident_paths(site_dir), str(site_dir))
    problems.errors.extend(cache.derived("unique ids", paths, lambda: _unique_id_problems(paths)))
    incidents = []
    for path in paths:
        if changed is not None and path not in changed and (kept := cache.trusted(path, context)) is not None:
            if kept[1]:
                problems.errors.extend(kept[1])
            if kept[0] is not None:
                incidents.append(kept[0])
            continue

        def parse(path: str = path) -> tuple[Incident | None, list[ContentError]]:
            own = Problems()
            return load_incident(site_dir, site_dir / path, config, catalog, own), own.errors

        trusted = changed is not None and path not in changed
        incident, errors = cache.recall(path, f"{site_dir}/{path}", context, parse, trusted)
        problems.errors.extend(errors)
        if incident is not None:
            incidents.append(incident)
    cache.commit()
    return incidents


def incident_paths(site_dir: Path) -> list[str]:
    """The site paths of `incidents.incident_files`, found with plain strings and `scandir`
    (no `stat` per file): on a site with 10,000 incidents this runs on every rebuild."""
    found: list[str] = []
    _scan(str(site_dir), "incidents", found)
    return sorted(found)


def _scan(root: str, folder: str, found: list[str]) -> None:
    try:
        entries = list(os.scandir(f"{root}/{folder}"))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _scan(root, f"{folder}/{entry.name}", found)
        elif os.path.splitext(entry.name)[1] in INCIDENT_SUFFIXES and entry.is_file():
            found.append(f"{folder}/{entry.name}")


def checking_context(config: SiteConfig, catalog: Catalog) -> Hashable:
    """Everything besides its own bytes that checking an incident file reads: the languages
    and timezone, and which component and group ids exist (names do not matter)."""
    return (config.languages, config.timezone.key, catalog.readable, catalog.unchecked,
            tuple((group.id, group.components) for group in catalog.groups),
            tuple(component.id for component in catalog.components))


def _check_unique_aliases(incidents: list[Incident], problems: Problems) -> None:
    """An incident's alias names it alone: no other incident has it as alias or id.
    (Only incidents with aliases are visited, in order of path: few have any.)"""
    aliased = sorted((i for i in incidents if i.aliases), key=attrgetter("path"))
    owner = {incident.id: incident.path for incident in incidents} if aliased else {}
    for incident in aliased:
        for alias in incident.aliases:
            if alias in owner and owner[alias] != incident.path:
                problems.add(incident.path, incident.aliases_line,
                             f"aliases: {alias!r} already names {owner[alias]}; expected an alias "
                             "no other incident has as id or alias")
            else:
                owner[alias] = incident.path


def _check_unique_ids(paths: list[str], problems: Problems) -> None:
    """An incident's id is its file name; checked on the files, so a broken one counts too."""
    problems.errors.extend(_unique_id_problems(paths))


def _unique_id_problems(paths: list[str]) -> list[ContentError]:
    """`_check_unique_ids`'s problems (with a cache: kept while the listing is the same)."""
    problems = Problems()
    first: dict[str, str] = {}
    for path in sorted(paths):
        incident_id = os.path.splitext(path.rpartition("/")[2])[0]  # PurePosixPath.stem, faster
        if incident_id in first:
            problems.add(path, 1, f"duplicate incident id {incident_id!r}: "
                                  f"{first[incident_id]} has the same file name")
        else:
            first[incident_id] = path
    return problems.errors
