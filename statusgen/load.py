"""Stage 1 of the build: site files → a validated `Site`.

Each file is read and checked on its own (`config`, `catalog`, `incidents`, `pages`),
then cross-file rules run over the whole model. All problems are collected and raised
together as one `ContentErrors`.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from statusgen.catalog import load_catalog
from statusgen.config import load_config
from statusgen.errors import ContentErrors, Problems
from statusgen.incidents import incident_files, load_incident
from statusgen.model import Site, Subscriber
from statusgen.pages import load_pages
from statusgen.subscribers import load_subscribers

log = logging.getLogger(__name__)


def load_site(site_dir: Path) -> tuple[Site, tuple[Subscriber, ...]]:
    """Read and validate every site file; raise `ContentErrors` listing all problems.

    Subscribers come back beside the site, never inside it, so nothing that renders the
    public output can reach an address.
    """
    problems = Problems()
    config = load_config(site_dir, problems)
    if config is None:
        # Languages and timezone shape every other check; guessing them would only
        # bury the real problem under errors that are not there.
        raise ContentErrors(problems.errors)
    catalog = load_catalog(site_dir, config.languages, problems)
    files = incident_files(site_dir)
    _check_unique_ids(site_dir, files, problems)
    incidents = [i for f in files if (i := load_incident(site_dir, f, config, catalog, problems))]
    pages = load_pages(site_dir, config, problems)
    subscribers = load_subscribers(site_dir, config, catalog, problems)
    problems.raise_if_any()
    log.debug("loaded %d components, %d incidents, %d pages", len(catalog.components),
              len(incidents), len(pages))
    site = Site(config=config, groups=catalog.groups, components=catalog.components,
                incidents=tuple(sorted(incidents, key=lambda i: i.id)), pages=pages,
                layout=catalog.layout)
    return site, subscribers


def _check_unique_ids(site_dir: Path, files: list[Path], problems: Problems) -> None:
    """An incident's id is its file name; checked on the files, so a broken one counts too."""
    first: dict[str, str] = {}
    for path in sorted(file.relative_to(site_dir).as_posix() for file in files):
        incident_id = PurePosixPath(path).stem
        if incident_id in first:
            problems.add(path, 1, f"duplicate incident id {incident_id!r}: "
                                  f"{first[incident_id]} has the same file name")
        else:
            first[incident_id] = path
