"""`statusgen new update`: one update appended to an incident or maintenance file as it stands.

    the file ──yaml.compose: where its updates list ends──▶ the update's lines inserted there
        ──▶ read back by the loader the build uses (a file it rejects gets its old bytes back)

Only lines are added: every comment, line break, line ending and byte order mark already
in the file stays, so the change reviews as a few new lines.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import yaml

from statusgen.authoring.options import (
    authoring_time,
    check_incident_file,
    component_statuses,
    open_site,
    required_text,
    texts_for,
    written_time,
)
from statusgen.authoring.yamltext import NewUpdate, needs_translation
from statusgen.content.fields import did_you_mean, one_of
from statusgen.content.incidents import incident_files
from statusgen.content.model import INCIDENT_STATUSES, MAINTENANCE_STATUSES
from statusgen.errors import ContentErrors, UsageError


def new_update(site_dir: Path, incident_id: str, status: str, text: str,
               by_language: Iterable[tuple[str, str]] = (), components: str | None = None,
               notify: bool = True, now: str | datetime | None = None) -> Path:
    """Append an update to an incident or maintenance window, at now; return its path.

    Only the new lines are added; if the file then fails to load, its old bytes are put
    back and the errors raised.
    """
    site = open_site(site_dir)
    path = find_incident(site_dir, incident_id)
    incident = check_incident_file(site, path)
    statuses = MAINTENANCE_STATUSES if incident.is_maintenance else INCIDENT_STATUSES
    kind = "a maintenance window" if incident.is_maintenance else "an incident"
    if status not in statuses:
        raise UsageError(f"--status: {incident_id} is {kind}: expected one of {one_of(statuses)}; "
                         f"found {status!r}{did_you_mean(status, statuses)}")
    tz = site.config.timezone
    moment = authoring_time(now, tz)
    body = texts_for(site.config.languages, required_text("TEXT", text), by_language)
    taken = {written_time(update.at, tz) for update in incident.updates}
    update = NewUpdate(written_time(moment, tz, seconds=written_time(moment, tz) in taken), status, body,
                       component_statuses(components, site.catalog, None), notify,
                       needs_translation(body))
    original = path.read_bytes()
    write_atomic(path, append_update(original, path.suffix == ".md", update))
    try:
        check_incident_file(site, path)
    except ContentErrors:
        write_atomic(path, original)
        raise
    return path


def find_incident(site_dir: Path, incident_id: str) -> Path:
    files = {file.stem: file for file in incident_files(site_dir)}
    if incident_id not in files:
        raise UsageError(f"no incident or maintenance {incident_id!r} in incidents/"
                         f"{did_you_mean(incident_id, files)}")
    return files[incident_id]


def write_atomic(path: Path, data: bytes) -> None:
    """Replace a file in one step, so an interrupted write never leaves half a file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        shutil.copymode(path, temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def append_update(raw: bytes, markdown: bool, update: NewUpdate) -> bytes:
    """The file with `update` added at the end of its `updates:` list, all else unchanged."""
    bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
    text = raw[len(bom):].decode("utf-8")
    start, end = _front_matter_span(text) if markdown else (0, len(text))
    newline = "\r\n" if "\r\n" in text else "\n"
    front = _insert_update(text[start:end], update, newline)
    return bom + (text[:start] + front + text[end:]).encode("utf-8")


def _front_matter_span(text: str) -> tuple[int, int]:
    """Where the YAML between the `---` lines starts and ends (the loader checked they exist)."""
    lines = text.splitlines(keepends=True)
    offset = len(lines[0])
    start = offset
    for line in lines[1:]:
        if line.strip() == "---":
            return start, offset
        offset += len(line)
    raise UsageError("the front matter has no closing '---' line")


def _insert_update(front: str, update: NewUpdate, newline: str) -> str:
    """Insert the update's lines into front-matter YAML, after the updates list."""
    root = yaml.compose(front, Loader=yaml.SafeLoader)
    updates = next((value for key, value in root.value if key.value == "updates"), None)
    if updates is None:  # a maintenance without updates yet
        lines = ["updates:", *update.lines(2, 4)]
        return _insert_lines(front, len(front), lines, newline)
    key = next(key for key, value in root.value if value is updates)
    if isinstance(updates, yaml.SequenceNode) and updates.value and not updates.flow_style:
        last = updates.value[-1]
        at = _after_item(front, last, updates.start_mark.column)
        return _insert_lines(front, at, update.lines(updates.start_mark.column, last.start_mark.column), newline)
    if _is_empty(updates):  # `updates:`, `updates: []` or `updates: ~`: the list starts here
        front = front[:updates.start_mark.index].rstrip(" \t") + front[updates.end_mark.index:]
        column = key.start_mark.column
        return _insert_lines(front, _line_end(front, key.end_mark.index), update.lines(column + 2, column + 4),
                             newline)
    raise UsageError("updates: written as a list in [brackets]; write it as a list of '- ' items "
                     "to add an update")


def _is_empty(node: yaml.Node) -> bool:
    if isinstance(node, yaml.SequenceNode):
        return not node.value
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _after_item(front: str, item: yaml.Node, dash: int) -> int:
    """Where the line after a list item starts: after its last value, its trailing
    comment, and the comment lines indented under it (they belong to it)."""
    end = _content_end(item)
    while end > 0 and front[end - 1] in " \t\r\n":  # a block scalar ends at the next line
        end -= 1
    at = _line_end(front, end)
    while at < len(front):
        line = front[at:_line_end(front, at)]
        stripped = line.lstrip(" ")
        if not stripped.startswith("#") or len(line) - len(stripped) <= dash:
            break
        at += len(line)
    return at


def _content_end(node: yaml.Node) -> int:
    """The end of the last value in a node (a block collection's own end mark lies at the
    next token, past blank lines and comments)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
    return max((_content_end(child) for child in children), default=int(node.start_mark.index))


def _line_end(text: str, index: int) -> int:
    """The start of the line after the one holding `index` (or the end of the text)."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def _insert_lines(text: str, at: int, lines: list[str], newline: str) -> str:
    before = text[:at]
    if before and not before.endswith("\n"):
        before += newline
    return before + "".join(line + newline for line in lines) + text[at:]
