"""`statusgen new incident|maintenance|update` and `statusgen init` on the command line.

`register` adds the commands (statusgen.cli calls it); each `_run_*` calls one function of
incident.py, templated.py, update.py or init.py and reports what it wrote, so all of it is callable
from Python too.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from statusgen.authoring.incident import new_incident, new_maintenance
from statusgen.authoring.init import SHIPPED, init_site, untranslated_languages
from statusgen.authoring.templated import new_from_template, parse_vars, template_listing
from statusgen.authoring.update import new_update
from statusgen.content.fields import one_of
from statusgen.content.model import INCIDENT_STATUSES, MAINTENANCE_STATUSES
from statusgen.errors import UsageError

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """`statusgen new incident|maintenance|update` and `statusgen init`."""
    new = commands.add_parser("new", help="write a new incident, maintenance window or update",
                              description="Write a new incident or maintenance file, or add an update to one. "
                                          "Prints the path of the file written.")
    kinds = new.add_subparsers(dest="new_kind", required=True, metavar="KIND")
    _incident_command(kinds, common)
    _maintenance_command(kinds, common)
    _update_command(kinds, common)
    _init_command(commands, common)


def _incident_command(kinds: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = kinds.add_parser("incident", parents=[common], help="a new incident, investigating since now")
    command.add_argument("title", metavar="TITLE", nargs="?",
                         help="the title, in every language until translated (or use --template)")
    _template_options(command)
    _components_option(command, "affected ids (groups mean all their components); ID=STATUS sets one's status")
    command.add_argument("--status", help="status of the components given without one (default major_outage; "
                                          "with --template alone: of all the template's components)")
    command.add_argument("--impact", help="P1..P4, or none|minor|major|critical (default: the template's, "
                                          "else from the statuses)")
    _now_option(command)
    command.set_defaults(run=_run_incident)


def _maintenance_command(kinds: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = kinds.add_parser("maintenance", parents=[common], help="a maintenance window, announced now")
    command.add_argument("title", metavar="TITLE", nargs="?",
                         help="the title, in every language until translated (or use --template)")
    _template_options(command)
    command.add_argument("--start", help="when the window opens, e.g. '2026-12-06 22:00' (required)")
    command.add_argument("--end", help="when it closes, e.g. '2026-12-07 02:00' (required, unless the "
                                       "template has a duration)")
    _components_option(command, "ids under maintenance (groups mean all their components)")
    _now_option(command)
    command.set_defaults(run=_run_maintenance)


def _template_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--template", metavar="NAME", help="write it from content/templates/NAME.yaml")
    command.add_argument("--var", action="append", default=[], metavar="KEY=VALUE",
                         help="a template's {KEY} placeholder in every language (KEY.LANG=VALUE: in one; repeat)")
    command.add_argument("--list-templates", action="store_true",
                         help="list the site's templates, what each is for and the command that uses it")


def _update_command(kinds: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = kinds.add_parser("update", parents=[common], help="add an update to an incident or maintenance")
    command.add_argument("id", metavar="ID", help="the incident's id: its file name without extension")
    command.add_argument("text", metavar="TEXT", help="the update's text, in every language until translated")
    command.add_argument("--status", required=True,
                         help=f"incident: {one_of(INCIDENT_STATUSES)}; maintenance: {one_of(MAINTENANCE_STATUSES)}")
    command.add_argument("--lang", nargs=2, action="append", default=[], metavar=("LANG", "TEXT"),
                         help="the text in one language (repeat for others)")
    _components_option(command, "statuses that change from this update on: ID=STATUS,...")
    command.add_argument("--quiet-update", action="store_true",
                         help="publish without emailing anyone (notify: false), e.g. for a wording fix")
    _now_option(command)
    command.set_defaults(run=_run_update)


def _init_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = commands.add_parser("init", parents=[common], help="scaffold a new site that builds at once")
    command.add_argument("dir", metavar="DIR", type=Path, nargs="?",
                         help="the folder for the new site (default: --site, the current folder)")
    command.add_argument("--languages", default="en", help="comma-separated, the default first (default: en)")
    command.add_argument("--timezone", default="UTC", help="IANA timezone, e.g. Europe/Brussels (default: UTC)")
    command.add_argument("--title", help="the site's title, one text for every language (default: the "
                                          "scaffold's, in each language)")
    command.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    command.set_defaults(run=_run_init)


def _components_option(command: argparse.ArgumentParser, help: str) -> None:
    command.add_argument("--components", metavar="ID[=STATUS],...", help=help)


def _now_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--now", help="write as if it were this time (ISO 8601; default: the clock)")


def _run_incident(args: argparse.Namespace) -> int:
    if args.list_templates or args.template:
        return _run_template(args)
    print(new_incident(args.site, _title(args), args.components, args.status, args.impact, args.now))
    return 0


def _run_maintenance(args: argparse.Namespace) -> int:
    if args.list_templates or args.template:
        return _run_template(args)
    print(new_maintenance(args.site, _title(args), args.start, args.end, args.components, args.now))
    return 0


def _title(args: argparse.Namespace) -> str:
    if args.title is None:
        raise UsageError(f"TITLE: expected the {args.new_kind}'s title, or --template NAME "
                         f"(statusgen new {args.new_kind} --list-templates shows them); found nothing")
    if args.var:
        raise UsageError("--var: fills in a template's placeholders; expected --template NAME with it")
    return args.title


def _run_template(args: argparse.Namespace) -> int:
    """`--list-templates`, or `--template NAME` with its `--var`s."""
    if args.list_templates:
        print("\n".join(template_listing(args.site)))
        return 0
    if args.title is not None:
        raise UsageError(f"TITLE: the template {args.template!r} writes the title; expected TITLE or "
                         f"--template, found both")
    maintenance = args.new_kind == "maintenance"
    path = new_from_template(args.site, args.template, parse_vars(args.var), kind=args.new_kind,
                             components=args.components, status=None if maintenance else args.status,
                             impact=None if maintenance else args.impact,
                             start=args.start if maintenance else None, end=args.end if maintenance else None,
                             now=args.now)
    print(path)
    return 0


def _run_update(args: argparse.Namespace) -> int:
    path = new_update(args.site, args.id, args.status, args.text, [tuple(pair) for pair in args.lang],
                      args.components, notify=not args.quiet_update, now=args.now)
    print(path)
    return 0


def _untranslated_note(languages: list[str], missing: list[str]) -> str:
    """What init says when the theme ships no texts in some of the chosen languages."""
    shown = ", ".join(missing)
    theme = (f"the theme's own words (menus, statuses) show in English there until the site adds "
             f"site_templates/i18n/{missing[0]}.yaml")
    if len(missing) == len(languages):
        return (f"note: the scaffold has no texts in {shown} (it has {', '.join(SHIPPED)}): its texts are written "
                f"in English, one for every language; replace them with yours; {theme}")
    return (f"note: the scaffold has no texts in {shown} (it has {', '.join(SHIPPED)}): statusgen check lists "
            f"each text that lacks {shown}; {theme}")


def _run_init(args: argparse.Namespace) -> int:
    target = args.dir or args.site
    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    files = init_site(target, languages, args.timezone, args.title, args.force)
    if missing := untranslated_languages(languages):
        log.warning("%s", _untranslated_note(languages, missing))
    log.info("created a site in %s (%d files); next: statusgen build --site %s", target, len(files), target)
    return 0
