"""Records as the site's files, written so a rerun changes only what changed.

    Records ──filetext──▶ the text of each file
        components.yaml                    (only when the records have components)
        incidents/YYYY/YYYY-MM-DD-slug.md  (a rerun finds the file by any of its aliases,
                                            in any sub-folder, and rewrites it in place)
        content/templates/NAME.yaml        (templatefiles.template_text)
    ──compare──▶ a file whose text is the same is not touched (its mtime stays)
    ──write──▶ each file atomically; `Written` keeps every file's previous bytes, so
               `Written.undo()` puts the site back as it was (created files removed)

Nothing is ever deleted: an incident the source no longer has keeps its file. Ops'
translations of an imported incident (a title or body mapping of which one language
still says what the source says) are kept, as in components.yaml.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from statusgen.authoring.incident import slugify
from statusgen.content.catalog import COMPONENTS_PATH
from statusgen.content.incidents import incident_files
from statusgen.content.yamlsource import LocatedDict, parse_document
from statusgen.errors import ContentError, StatusgenError
from statusgen.importer.filetext import (
    COMPONENTS_HEADER,
    components_text,
    incident_text,
    leading_comments,
)
from statusgen.importer.records import IncidentRecord, Localised, Records
from statusgen.times import TimeError, parse_time

log = logging.getLogger(__name__)
TEMPLATES_FOLDER = "content/templates"
FLOW_ALIASES = re.compile(r"^aliases:[ \t]*\[([^\]\n]*)\][ \t]*(?:#.*)?$", re.M)
ANY_ALIASES = re.compile(r"^aliases:", re.M)
UTC_ZONE = ZoneInfo("UTC")
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")


@dataclass
class Written:
    created: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    originals: dict[Path, tuple[bytes, int, int]] = field(default_factory=dict, repr=False)
    """The bytes, access and modification times each updated file had: what `undo` puts back."""
    folders: list[Path] = field(default_factory=list, repr=False)
    """Folders made for created files, outermost first."""

    def undo(self) -> None:
        """Put every touched file back as it was; remove the created files and folders."""
        for path in self.created:
            path.unlink(missing_ok=True)
        for path, (data, accessed, modified) in self.originals.items():
            _write_atomically(path, data)
            os.utime(path, ns=(accessed, modified))
        for folder in reversed(self.folders):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        log.debug("undid %d created and %d updated files", len(self.created), len(self.originals))

    def summary(self, site_dir: Path) -> str:
        """`components.yaml: updated; incidents: 12 new, 3 updated, 40 unchanged; templates: 2 new`."""
        parts = []
        for label, folder in (("components.yaml", COMPONENTS_PATH), ("incidents", "incidents/"),
                              ("templates", TEMPLATES_FOLDER + "/")):
            counts = {state: sum(_site_path(site_dir, p).startswith(folder) for p in paths)
                      for state, paths in (("new", self.created), ("updated", self.updated),
                                           ("unchanged", self.unchanged))}
            if label == "components.yaml":
                state = next((s for s in ("new", "updated", "unchanged") if counts[s]), None)
                parts.append(f"{label}: {state or 'not written'}")
            elif label == "incidents" or any(counts.values()):
                parts.append(f"{label}: " + ", ".join(f"{n} {state}" for state, n in counts.items()))
        return "; ".join(parts)


def write_records(site_dir: Path, records: Records, languages: tuple[str, ...],
                  timezone: ZoneInfo = UTC_ZONE) -> Written:
    """components.yaml (when records has components), one file per incident (found again by
    its aliases), content/templates/NAME.yaml; files whose text is the same are not touched.
    Times are written in `timezone` (the site's)."""
    written = Written()
    try:
        if records.components:
            _write_components(site_dir, records, languages, written)
        _write_incidents(site_dir, records.incidents, languages, timezone, written)
        if records.templates:
            _write_templates(site_dir, records, languages, written)
    except BaseException:
        written.undo()
        raise
    return written


# ── one file ────────────────────────────────────────────────────────────────────────────


def _put(path: Path, text: str, written: Written) -> None:
    """Write `text` to `path` unless it is there already; remember what was there."""
    data = text.encode("utf-8")
    try:
        before = path.read_bytes()
    except FileNotFoundError:
        before = None
    if before == data:
        written.unchanged.append(path)
        return
    if before is None:
        _make_folders(path.parent, written)
        written.created.append(path)
    else:
        stat = path.stat()
        written.originals.setdefault(path, (before, stat.st_atime_ns, stat.st_mtime_ns))
        written.updated.append(path)
    _write_atomically(path, data)


def _make_folders(folder: Path, written: Written) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir()
        written.folders.append(made)


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _site_path(site_dir: Path, path: Path) -> str:
    return path.relative_to(site_dir).as_posix()


# ── components, templates ───────────────────────────────────────────────────────────────


def _write_components(site_dir: Path, records: Records, languages: tuple[str, ...], written: Written) -> None:
    path = site_dir / COMPONENTS_PATH
    try:
        header = leading_comments(path.read_text(encoding="utf-8")) or COMPONENTS_HEADER
    except (FileNotFoundError, UnicodeDecodeError):
        header = COMPONENTS_HEADER
    _put(path, components_text(records.components, languages, header), written)


def _write_templates(site_dir: Path, records: Records, languages: tuple[str, ...], written: Written) -> None:
    from statusgen.importer.templatefiles import template_text  # only when there are templates

    for template in records.templates:
        if not TEMPLATE_NAME.match(template.name):
            raise StatusgenError(f"template name {template.name!r}: expected letters, digits, '-' and '_' "
                                 f"(it names {TEMPLATES_FOLDER}/NAME.yaml)")
        _put(site_dir / TEMPLATES_FOLDER / f"{template.name}.yaml", template_text(template, languages), written)


# ── incidents ───────────────────────────────────────────────────────────────────────────


def _write_incidents(site_dir: Path, incidents: tuple[IncidentRecord, ...], languages: tuple[str, ...],
                     zone: ZoneInfo, written: Written) -> None:
    files = incident_files(site_dir) if (site_dir / "incidents").is_dir() else []
    by_alias = existing_aliases(site_dir, files)
    taken = {file.stem for file in files}
    for record in incidents:
        path = next((by_alias[alias] for alias in record.aliases if alias in by_alias), None)
        text = incident_text(record, languages, zone)
        if path is None:
            path = _new_path(site_dir, record, languages, zone, taken)
        elif path.read_bytes() != text.encode("utf-8"):
            text = incident_text(_with_translations(record, path, site_dir, zone), languages, zone)
        for alias in record.aliases:
            by_alias.setdefault(alias, path)
        _put(path, text, written)


def _new_path(site_dir: Path, record: IncidentRecord, languages: tuple[str, ...], zone: ZoneInfo,
              taken: set[str]) -> Path:
    """`incidents/YYYY/YYYY-MM-DD-slug.md`, as `statusgen new` names a file (-2, -3, ...
    where the id is taken anywhere under incidents/)."""
    day = record.created.astimezone(zone).date()
    title = record.title if isinstance(record.title, str) else \
        record.title.get(languages[0], next(iter(record.title.values()), ""))
    base = f"{day.isoformat()}-{slugify(title, record.kind)}"
    name = next(candidate for n in range(1, len(taken) + 2)
                if (candidate := base if n == 1 else f"{base}-{n}") not in taken)
    taken.add(name)
    return site_dir / "incidents" / str(day.year) / f"{name}.md"


def existing_aliases(site_dir: Path, files: list[Path]) -> dict[str, Path]:
    """Every alias in the front matter of the incident files → its file. Read from the
    text (a one-line `aliases: [...]` as the import writes it), else from the parsed
    front matter, so a site that does not load is still searched."""
    found: dict[str, Path] = {}
    for file in files:
        for alias in _file_aliases(site_dir, file):
            found.setdefault(alias, file)
    return found


def _file_aliases(site_dir: Path, file: Path) -> list[str]:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return []
    if file.suffix == ".md":  # the front matter only: a post-mortem may say anything
        text = _front_matter_text(text)
    if not ANY_ALIASES.search(text):
        return []
    match = FLOW_ALIASES.search(text)
    if match and not re.search(r"['\"]", match.group(1)):
        return [alias.strip() for alias in match.group(1).split(",") if alias.strip()]
    data = _front_matter(site_dir, file)
    aliases = data.get("aliases") if data else None
    return [str(alias) for alias in aliases] if isinstance(aliases, list) else []


def _front_matter_text(text: str) -> str:
    """The lines between the first two `---` lines (as the loader finds them)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return ""
    end = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---"), len(lines))
    return "\n".join(lines[1:end])


def _front_matter(site_dir: Path, file: Path) -> LocatedDict | None:
    try:
        data = parse_document(_site_path(site_dir, file), file.read_bytes()).data
    except (ContentError, OSError):
        return None
    return data if isinstance(data, LocatedDict) else None


def _with_translations(record: IncidentRecord, path: Path, site_dir: Path, zone: ZoneInfo) -> IncidentRecord:
    """The record, with the existing file's translations where they still stand: a title,
    update body (matched by time) or post-mortem given per language, one of which is
    exactly the source's text."""
    data = _front_matter(site_dir, path)
    if data is None:
        return record
    bodies = {}
    for update in data.get("updates") or ():
        at = _moment(update.get("at"), zone) if isinstance(update, dict) else None
        if at is not None:
            bodies[at] = update.get("body")
    return replace(
        record, title=_kept(data.get("title"), record.title),
        updates=tuple(replace(u, body=_kept(bodies.get(u.at), u.body)) for u in record.updates),
        postmortem=_kept(data.get("postmortem"), record.postmortem),
    )


def _kept(existing: Any, source: Localised | None) -> Any:
    if isinstance(existing, dict) and isinstance(source, str) and \
            all(isinstance(v, str) for v in existing.values()) and source in existing.values():
        return dict(existing)
    return source


def _moment(value: object, zone: ZoneInfo) -> datetime | None:
    try:
        return parse_time(value, zone)
    except TimeError:
        return None
