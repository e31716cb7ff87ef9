"""`statusgen import statuspage|cstate` on the command line.

`register` adds the commands (statusgen.cli calls it); each `_run_*` calls one function of
`importer.run` and prints its outcome, so all of it is callable from Python too.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from statusgen.importer.run import Outcome, import_cstate, import_statuspage
from statusgen.importer.statuspage.sources import API_KEY_VARIABLE

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Adds `import statuspage SOURCE` and `import cstate FOLDER`."""
    command = commands.add_parser(
        "import", help="bring another status page's history over as site files",
        description="Write components.yaml, one file per incident and maintenance, and templates from another "
                    "status page. A rerun updates what changed and duplicates nothing; an import that would not "
                    "pass `statusgen check` is undone.")
    kinds = command.add_subparsers(dest="import_kind", required=True, metavar="SOURCE_KIND")
    _statuspage_command(kinds, common)
    _cstate_command(kinds, common)


def _statuspage_command(kinds: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = kinds.add_parser("statuspage", parents=[common], help="from an Atlassian Statuspage")
    command.add_argument("source", metavar="SOURCE",
                         help="the page's URL (https://status.example.com), a folder of its saved JSON, "
                              "or with --page-id the manage API's base URL (or 'api')")
    command.add_argument("--page-id", metavar="ID",
                         help=f"read the manage API (complete history, subscribers, templates) with the key in "
                              f"${API_KEY_VARIABLE}")
    command.add_argument("--subscribers", type=Path, metavar="FILE.csv",
                         help="a Statuspage subscriber CSV (export or import format) to bring along")
    command.add_argument("--trust-confirmed", action="store_true",
                         help="store email subscribers as confirmed (they confirmed with Statuspage) instead of "
                              "sending each a confirmation email")
    command.add_argument("--store", metavar="PATH|URL",
                         help="the subscription store: a SQLite file or a postgresql:// URL "
                              "(default: $STATUSGEN_DATABASE_URL, else the site's)")
    command.add_argument("--now", help="the time the subscribers are imported at (ISO 8601; default: now)")
    command.add_argument("--refresh", action="store_true",
                         help="ask the page again for everything (default: answers saved by an earlier run "
                              "under SITE/.statusgen/statuspage/ are reused)")
    command.add_argument("--cache", type=Path, metavar="DIR",
                         help="where the page's answers are saved (default: SITE/.statusgen/statuspage/HOST); "
                              "such a folder is itself a SOURCE for an air-gapped import")
    command.set_defaults(run=_run_statuspage)


def _cstate_command(kinds: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = kinds.add_parser("cstate", parents=[common], help="from a cState (Hugo) site")
    command.add_argument("folder", metavar="FOLDER", type=Path,
                         help="the cState site's folder (config.yml, content/issues/)")
    command.set_defaults(run=_run_cstate)


def _run_statuspage(args: argparse.Namespace) -> int:
    return _print(import_statuspage(args.site, args.source, page_id=args.page_id,
                                    subscribers_csv=args.subscribers, trust_confirmed=args.trust_confirmed,
                                    store=args.store, now=args.now, refresh=args.refresh,
                                    cache_dir=args.cache))


def _run_cstate(args: argparse.Namespace) -> int:
    return _print(import_cstate(args.site, args.folder))


def _print(outcome: Outcome) -> int:
    for line in outcome.lines:
        print(line)
    return 0
