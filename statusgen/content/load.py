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
from statusgen.content.incidents import load_incident
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
        paths = incident_files_in_order(site_dir)
        problems.errors.extend(_unique_id_problems(paths))
        incidents = _load_incidents(site_dir, paths, config, catalog, problems)
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
"""Incident files from which a forked worker shares the parsing (a fork and sending the
parsed incidents back cost about as much as parsing a thousand)."""
CHUNK_FILES = 100
"""Files parsed per claim when two processes share them: small enough that neither waits
long for the other at the end, large enough that claiming one costs nothing beside it."""

_Part = tuple[list[Incident], list[ContentError]]


def _load_incidents(site_dir: Path, paths: list[str], config: SiteConfig, catalog: Catalog,
                    problems: Problems) -> list[Incident]:
    """`load_incident` for every file, in order; on a large site a forked worker shares
    the parsing (`_load_shared`)."""
    if len(paths) < PARALLEL_FROM or workers.available(2) == 1:
        parts = [_load_incident_files(site_dir, paths, config, catalog)]
    else:
        parts = _load_shared(site_dir, paths, config, catalog)
    incidents: list[Incident] = []
    for loaded, errors in parts:
        incidents.extend(loaded)
        problems.errors.extend(errors)
    return incidents


def _load_shared(site_dir: Path, paths: list[str], config: SiteConfig, catalog: Catalog) -> list[_Part]:
    """The files in chunks, parsed by this process and a forked worker: the first chunk is
    this process's, the last the worker's, and each takes the others one at a time
    (`workers.Claims`) until none is left, so both end together however the two cores are
    shared. The worker sends each chunk back as soon as it is parsed, so sending the
    incidents (pickling and unpickling them: a fifth of the parsing) overlaps the parsing
    instead of following it, as it did when each process parsed a fixed half."""
    global _shared
    size = min(CHUNK_FILES, (len(paths) + 1) // 2)  # two chunks at least: one for each
    chunks = [paths[start:start + size] for start in range(0, len(paths), size)]
    last = len(chunks) - 1
    parts: list[_Part] = [([], [])] * len(chunks)
    claims = workers.Claims(1, last)
    _shared = (site_dir, chunks, config, catalog, claims)
    try:
        with workers.forked(1) as pool:
            sent = pool.imap_unordered(_load_claimed, [last] + [None] * (last - 1))
            index: int | None = 0
            while index is not None:
                parts[index] = _load_incident_files(site_dir, chunks[index], config, catalog)
                index = claims.take()
            for index, part in filter(None, sent):
                parts[index] = part
    finally:
        _shared = None
    return parts


_shared: tuple[Path, list[list[str]], SiteConfig, Catalog, workers.Claims] | None = None
"""What the forked worker parses, and the claims it shares: inherited, never sent."""


def _load_claimed(index: int | None) -> tuple[int, _Part] | None:
    """In the worker: the chunk `index`, else the next one not claimed yet, parsed; None
    when every chunk is claimed."""
    assert _shared is not None
    site_dir, chunks, config, catalog, claims = _shared
    index = claims.take() if index is None else index
    return None if index is None else (index, _load_incident_files(site_dir, chunks[index], config, catalog))


def _load_incident_files(site_dir: Path, paths: list[str], config: SiteConfig, catalog: Catalog) -> _Part:
    own = Problems()
    return [i for path in paths if (i := load_incident(site_dir, path, config, catalog, own))], own.errors


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
            return load_incident(site_dir, path, config, catalog, own), own.errors

        trusted = changed is not None and path not in changed
        incident, errors = cache.recall(path, f"{site_dir}/{path}", context, parse, trusted)
        problems.errors.extend(errors)
        if incident is not None:
            incidents.append(incident)
    cache.commit()
    return incidents


def incident_files_in_order(site_dir: Path) -> list[str]:
    """`incident_paths` in the order of `incidents.incident_files` (a `Path` sorts by its
    parts), which a full load keeps: the order its problems are reported in."""
    return sorted(incident_paths(site_dir), key=lambda path: path.split("/"))


def incident_paths(site_dir: Path) -> list[str]:
    """The site paths of `incidents.incident_files`, found with plain strings and `scandir`
    (no `Path` nor `stat` per file): on a site with 10,000 incidents this runs on every
    rebuild, and took a tenth of a full load, before any parsing could begin."""
    found: list[str] = []
    _scan(str(site_dir), "incidents", found)
    return sorted(found)


def _scan(root: str, folder: str, found: list[str]) -> None:
    """What `Path.rglob("*")` finds with an incident suffix that `is_file()`: it goes into
    real folders only (not through links to one). A folder it may not read is an error
    (rglob passes over it, and its incidents would vanish from the site unsaid)."""
    try:
        entries = list(os.scandir(f"{root}/{folder}"))
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as error:
        raise ContentErrors([ContentError(folder, 1, f"cannot read this folder ({error.strerror or error}): the "
                                                     "incidents in it would be left out; let the user who builds "
                                                     "read it, or move them elsewhere")]) from None
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _scan(root, f"{folder}/{entry.name}", found)
        # as `Path.suffix`: a name that is only a suffix (`.md`) has none, `..md` has one
        elif entry.name.endswith(INCIDENT_SUFFIXES) and entry.name not in INCIDENT_SUFFIXES \
                and entry.is_file():
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


def _unique_id_problems(paths: list[str]) -> list[ContentError]:
    """An incident's id is its file name; checked on the files, so a broken one counts too
    (with a cache, the problems are kept while the listing is the same)."""
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
