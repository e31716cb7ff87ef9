"""cState (a Hugo theme for status pages) content as records.

    FOLDER/config.yml (or hugo.yaml, config.toml, …) ──files.read_config──▶ the Hugo configuration
        ──systems.read_systems──▶ components and groups, and the names issues use for them
    FOLDER/content/issues/**/*.md ──files.read_issue──▶ front matter + body
        ──body.read_body──▶ timed updates ──issues.IssueReader──▶ IncidentRecords
    ──▶ Records; what did not map one to one is in the Report

A file Hugo could not read (broken YAML, no end to its front matter, not UTF-8) or a time
that cannot be placed is a ContentError, `PATH:LINE: message`; all of them are raised
together and nothing is imported. Valid cState that statusgen cannot say the same way (a
draft, an affected name with no system, a severity cState does not know, a resolvedWhen
before the last update) is imported as near as it goes, or left out, with a report line.
Times without an offset are placed as Hugo places them: in the configuration's `timeZone`,
else in UTC (which cState's documentation asks for).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statusgen.content.model import SiteConfig
from statusgen.errors import ContentError, ContentErrors, Problems
from statusgen.importer.cstate.files import ISSUES_FOLDER, Front, issue_files, read_config, read_issue, shown
from statusgen.importer.cstate.issues import IssueReader
from statusgen.importer.cstate.systems import read_systems
from statusgen.importer.records import IncidentRecord, Records, Report

HUGO_ZONE = ZoneInfo("UTC")
"""Where Hugo places a time without an offset when the site sets no timeZone."""


def read_cstate(folder: Path, config: SiteConfig, report: Report) -> Records:
    """config.yml systems and categories, content/issues/*.md with their update lines."""
    problems = Problems()
    try:
        config_path, hugo = read_config(folder)
    except ContentError as error:
        raise ContentErrors([error]) from None
    zone = _zone(config_path, hugo, problems)
    systems = read_systems(config_path, hugo, problems, report)
    reader = IssueReader(zone or HUGO_ZONE, config.languages, systems, config_path, report, problems)
    incidents = _incidents(folder, reader, problems) if zone is not None else []
    if not (folder / ISSUES_FOLDER).is_dir():
        report.skip(shown(folder, ISSUES_FOLDER), "no such folder, so no issues")
    problems.raise_if_any()
    reader.notes.flush(report, zone or HUGO_ZONE, config_path, hugo.has("timezone"))
    return Records(components=systems.components, incidents=tuple(incidents))


def _incidents(folder: Path, reader: IssueReader, problems: Problems) -> list[IncidentRecord]:
    incidents: list[IncidentRecord] = []
    for file in issue_files(folder):
        try:
            issue = read_issue(folder, file)
        except ContentError as error:
            problems.errors.append(error)
            continue
        record = reader.record(issue)
        if record is not None:
            incidents.append(record)
    return incidents


def _zone(config_path: str, hugo: Front, problems: Problems) -> ZoneInfo | None:
    """The configuration's timeZone (Hugo's key; any case), else UTC; None when it is not a zone."""
    if not hugo.has("timezone"):
        return HUGO_ZONE
    name = str(hugo.get("timezone")).strip()
    try:
        if name.lower() != "local":
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    why = ("'Local' is the zone of whichever machine built the site" if name.lower() == "local"
           else f"found {name!r}")
    problems.add(config_path, hugo.line_of("timezone"),
                 f"timeZone: expected a time zone such as Europe/Brussels, to place the times written without "
                 f"an offset; {why}")
    return None
