"""`statusgen` on the command line: parse arguments, call the library, map errors to exit codes."""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from pathlib import Path

from statusgen import __version__
from statusgen.database import DATABASE_VARIABLE, is_database_url
from statusgen.site.advice import Advice, site_advice
from statusgen.site.build import build, check, counted, resolve_now
from statusgen.errors import ContentErrors, SetupError, StatusgenError
from statusgen.content.model import Site

log = logging.getLogger("statusgen")
COMMAND_MODULES: tuple[str, ...] = ("authoring.commands", "subscriptions", "authoring.serve", "dbcommand",
                                       "importer.commands", "status")
"""Modules that add their own subcommands (e.g. `"authoring"` for `new` and `init`)."""
STORE_HELP = ("the notifier store: a SQLite file, or a postgresql:// URL for both stores (default: "
              "$STATUSGEN_DATABASE_URL, else SITE/.statusgen/notify.db)")
SNAPSHOT_HELP = ("the notifier's input, which build writes and notify reads, never published "
                 "(default: SITE/.statusgen/snapshot.json, also with --out)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _report_to_stderr(logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)
    try:
        return args.run(args)
    except ContentErrors as errors:
        return _report_errors(errors, "; nothing was written")
    except SetupError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"statusgen: {counted(len(error.problems), 'setting')} to fix; "
              "nothing was done (`statusgen doctor` checks them all)", file=sys.stderr)
        return error.exit_code
    except StatusgenError as error:
        print(f"statusgen: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("statusgen: interrupted", file=sys.stderr)
        return 130


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a message is logged (tests swap it)."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # type: ignore[no-untyped-def]
        pass


def _report_to_stderr(level: int) -> None:
    for handler in [h for h in log.handlers if isinstance(h, _StderrHandler)]:
        log.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def _report_errors(errors: ContentErrors, outcome: str = "") -> int:
    for error in errors.errors:
        print(error, file=sys.stderr)
    print(f"{counted(len(errors.errors), 'error')}{outcome}", file=sys.stderr)
    return errors.exit_code


def _check(args: argparse.Namespace) -> int:
    try:
        site = check(args.site)
    except ContentErrors as errors:
        return _report_errors(errors)  # check never writes, so no "nothing was written"
    warnings = _warn(site, resolve_now(site, args.now), args.site)
    if warnings and args.strict:
        print(f"{counted(len(warnings), 'warning')}; --strict makes them errors", file=sys.stderr)
        return 1
    maintenance = sum(incident.is_maintenance for incident in site.incidents)
    log.info("%s: %s, %s, %s, no errors%s", args.site.resolve(), counted(len(site.components), "component"),
             counted(len(site.incidents) - maintenance, "incident"), counted(maintenance, "maintenance window"),
             f", {counted(len(warnings), 'warning')}" if warnings else "")
    return 0


def _warn(site: Site, now: datetime, site_dir: Path) -> list[Advice]:
    """Print the warnings about a valid site (`statusgen.site.advice`), one a line."""
    warnings = site_advice(site, now, os.environ, site_dir)
    for warning in warnings:
        log.warning("%s", warning)
    return warnings


def _build(args: argparse.Namespace) -> int:
    result = build(args.site, args.out, args.now, args.snapshot)
    _warn(result.site, result.state.now, args.site)
    log.info("built %d files into %s in %.2f s", len(result.outputs), result.out_dir, result.seconds)
    log.debug("wrote the notifier's snapshot to %s (not published)", result.snapshot_path)
    return 0


def _notify(args: argparse.Namespace) -> int:
    from statusgen import notify  # the notifier's imports stay out of builds

    notify(args.site, args.out, args.now, transport=args.transport, store_path=args.store, snapshot_path=args.snapshot,
           dry_run=args.dry_run, connections=args.connections, stream=None if not args.quiet else io.StringIO(),
           baseline=args.baseline, since=args.since, env=_with_database(args.store))
    return 0


def _with_database(store: str | None) -> dict[str, str] | None:
    """A database URL given as `--store` is the database of both stores, the notifier's and
    the subscription service's (whose subscribers notify mails): as if it were the environment's."""
    return {**os.environ, DATABASE_VARIABLE: store} if store and is_database_url(store) else None


def _doctor(args: argparse.Namespace) -> int:
    from statusgen.doctor import diagnose, report_lines

    url = args.store if args.store and is_database_url(args.store) else None  # --store URL: as --db does
    diagnosis = diagnose(args.site, args.transport, args.store, database=args.db or url)
    shown, passed = report_lines(diagnosis, args.transport, args.verbose)
    for line in shown:
        print(line, file=sys.stderr)
    if not args.quiet or not diagnosis.ok:
        print("\n".join(passed))
    return 0 if diagnosis.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statusgen", description="Build a status site from files in git.")
    parser.add_argument("--version", action="version", version=f"statusgen {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--site", type=Path, default=Path("."), help="the site folder (default: .)")
    verbosity = common.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="print more detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check_cmd = commands.add_parser("check", parents=[common], help="validate the site files")
    check_cmd.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too")
    check_cmd.add_argument("--now", help="check as if it were this time (ISO 8601), for the warnings about dates")
    check_cmd.set_defaults(run=_check)

    build_cmd = commands.add_parser("build", parents=[common], help="build the site")
    build_cmd.add_argument("--out", type=Path, help="output folder (default: SITE/public)")
    build_cmd.add_argument("--now", help="build as if it were this time (ISO 8601)")
    build_cmd.add_argument("--snapshot", type=Path, metavar="PATH", help=SNAPSHOT_HELP)
    build_cmd.set_defaults(run=_build)

    notify_cmd = commands.add_parser("notify", parents=[common], help="email subscribers what changed")
    notify_cmd.add_argument("--out", type=Path, help="the published folder, which the store must not be in "
                                                     "(default: SITE/public)")
    notify_cmd.add_argument("--snapshot", type=Path, metavar="PATH", help=SNAPSHOT_HELP)
    notify_cmd.add_argument("--now", help="announce as if it were this time (default: the build's time)")
    notify_cmd.add_argument("--transport", choices=("outbox", "smtp"), default="outbox",
                            help="outbox: .eml files in SITE/.statusgen/outbox (default); smtp: STATUSGEN_SMTP_*")
    notify_cmd.add_argument("--store", metavar="PATH|URL", help=STORE_HELP)
    notify_cmd.add_argument("--connections", type=int, default=4, help="parallel SMTP connections (default 4)")
    notify_cmd.add_argument("--dry-run", action="store_true", help="print who would get what; change nothing")
    restart = notify_cmd.add_mutually_exclusive_group()
    restart.add_argument("--baseline", action="store_true",
                         help="record everything the site shows as announced and send nothing "
                              "(to start again after losing the store)")
    restart.add_argument("--since", metavar="TIME",
                         help="announce only what happened after TIME, as if everything before was announced "
                              "(to start again after losing the store that was last saved at TIME)")
    notify_cmd.set_defaults(run=_notify)

    doctor_cmd = commands.add_parser("doctor", parents=[common], help="check the whole configuration before any work",
                                     description="Check what notify needs (mail settings, the secret key, the SMTP "
                                                 "relay, the stores) and print the site's warnings; sends nothing.")
    doctor_cmd.add_argument("--transport", choices=("outbox", "smtp"), default="outbox",
                            help="check for this transport (smtp: STATUSGEN_SMTP_* and a connection to the relay)")
    doctor_cmd.add_argument("--store", metavar="PATH|URL", help=STORE_HELP)
    doctor_cmd.add_argument("--db", metavar="URL", help="the PostgreSQL database of both stores "
                                                        "(default: $STATUSGEN_DATABASE_URL; unset: the SQLite files)")
    doctor_cmd.set_defaults(run=_doctor)

    for register in _command_modules():
        register(commands, common)
    return parser


def _command_modules() -> list[Any]:
    """Commands that live beside their feature: each module has `register(commands, common)`."""
    import importlib

    return [importlib.import_module(f"statusgen.{name}").register for name in COMMAND_MODULES]


if __name__ == "__main__":
    sys.exit(main())
