"""`statusgen status`: what the site says right now, at the terminal, so ops can check
before they push (the files) and after (`--url`, the published page).

    site files ─load─▶ Site ─site_state(now)─▶ SiteState ──┐
                                                            ├─▶ StatusReport ─▶ text (terminal.py)
    --url: …/api/v2/summary.json (remote.py) ──────────────┘                  └▶ --json (report.py)

`report.py` holds the neutral report, how a site's state becomes one and the documented
`--json` object; `remote.py` reads a published Statuspage summary into the same report;
`terminal.py` prints it. `status_report` and `remote_report` are the library calls.

Exit codes: 0 when it could tell (whatever the status), 1 on content errors in the site
(`PATH:LINE: message`, as `check` prints them) or a summary that cannot be fetched or read,
2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from statusgen.errors import ContentErrors, UsageError
from statusgen.site.build import check, counted, resolve_now
from statusgen.site.state import site_state
from statusgen.site.theme import Theme, Translator
from statusgen.status.remote import fetch_summary, summary_report, summary_url
from statusgen.status.report import StatusReport, report_json, site_report
from statusgen.status.terminal import report_text, use_colour


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Adds `status`."""
    command = commands.add_parser(
        "status", parents=[common], help="what the site says now: overall status, incidents, maintenance",
        description="Print what the status page says at a moment: the overall status, each component that "
                    "is not operational and why, active incidents with their latest update, maintenance "
                    "in progress and upcoming. Reads the site's files, or with --url a published page.")
    command.add_argument("--now", help="as if it were this time (ISO 8601; default: now)")
    command.add_argument("--lang", help="the language of names and texts (default: the site's first)")
    command.add_argument("--json", action="store_true", help="print a JSON object (schema: statusgen/status/report.py)")
    command.add_argument("--url", metavar="URL",
                         help="read the published api/v2/summary.json of the page at URL instead of the files "
                              "(any Statuspage-compatible page)")
    command.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                         help="with --url: how long to wait for the page (default 10)")
    command.set_defaults(run=_run)


def status_report(site_dir: Path, now: str | datetime | None = None, lang: str | None = None) -> StatusReport:
    """The report of a site's own files at `now` (default: the clock, or SOURCE_DATE_EPOCH)."""
    site = check(site_dir)
    config = site.config
    lang = lang or config.default_language
    if lang not in config.languages:
        raise UsageError(f"--lang: expected one of the site's languages, {', '.join(config.languages)}; "
                         f"found {lang!r}")
    state = site_state(site, resolve_now(site, now))
    t = Translator(lang, Theme(site_dir).messages(lang), config.timezone)
    return site_report(state, t, str(site_dir.resolve()))


def remote_report(url: str, now: datetime, lang: str | None = None, timeout: float = 10.0) -> StatusReport:
    """The report of the page published at `url`, read at `now`."""
    address = summary_url(url, lang)
    return summary_report(fetch_summary(address, timeout), address, now, lang)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.url:
            if args.now:
                raise UsageError("--now: a published page says what it says now; leave out --now with --url")
            if args.timeout <= 0:
                raise UsageError(f"--timeout: expected a number of seconds above 0; found {args.timeout:g}")
            report = remote_report(args.url, datetime.now(UTC).replace(microsecond=0), args.lang, args.timeout)
        else:
            report = status_report(args.site, args.now, args.lang)
    except ContentErrors as errors:  # as `check` prints them
        for error in errors.errors:
            print(error, file=sys.stderr)
        print(f"{counted(len(errors.errors), 'error')}; the status cannot be told", file=sys.stderr)
        return errors.exit_code
    if args.json:
        print(json.dumps(report_json(report), indent=2))  # ASCII: safe on any terminal or pipe
    else:
        _write(report_text(report, use_colour(sys.stdout, os.environ)))
    return 0


def _write(text: str) -> None:
    """Names and titles in any script, and the few symbols the text uses, on a terminal
    that may not show them all: what it cannot show becomes '?', never a crash."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "replace").decode(encoding))
