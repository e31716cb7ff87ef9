"""A cState site's files as data: its Hugo configuration, its issues, and Hugo's times.

    FOLDER/hugo.toml|hugo.yaml|config.toml|config.yaml|config.yml ──read_config──▶ Front
    FOLDER/content/issues/**/*.md|.markdown ──issue_files──▶ paths ──read_issue──▶ Issue
        (front matter as a Front, the Markdown body and the line it starts on)
    a time from front matter or a {{< track >}} shortcode ──hugo_time──▶ an aware UTC time

Hugo reads keys without regard to case (cState's archetype writes `Title:`), takes front
matter as YAML between `---` lines or TOML between `+++` lines, and places a time without
an offset in the site's `timeZone`, in UTC when it has none. Errors name the file as the
user knows it: the folder they gave, then the path inside it.
"""

from __future__ import annotations

import email.utils
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from statusgen.content.yamlsource import parse_yaml, read_text
from statusgen.errors import ContentError, UsageError
from statusgen.times import TimeError, localize

CONFIG_NAMES = ("hugo.toml", "hugo.yaml", "hugo.yml", "config.toml", "config.yaml", "config.yml")
"""Hugo's site configuration files, in the order Hugo looks for them."""
ISSUES_FOLDER = "content/issues"
ISSUE_SUFFIXES = (".md", ".markdown")
TIME_EXAMPLE = "a time such as '2026-11-30 10:00:00' or '2026-11-30T10:00:00Z'"
LIST_PAGE = "_index"
"""Hugo's list page of a section: its text introduces the list, it is not an issue."""


@dataclass(frozen=True)
class Front:
    """A mapping read from YAML or TOML, its keys lower-cased as Hugo reads them."""

    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    line: int = 1

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def has(self, key: str) -> bool:
        """The key is there with a value (Hugo treats `resolvedWhen:` as absent)."""
        return self.values.get(key) not in (None, "")

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)

    def section(self, key: str) -> Front:
        """A nested mapping (`params`), empty when absent or not a mapping."""
        value = self.values.get(key)
        return as_front(value, self.line_of(key)) if isinstance(value, dict) else Front({}, {}, self.line_of(key))


@dataclass(frozen=True)
class Issue:
    """One file under content/issues/: where it is, what its front matter and body say."""

    path: str
    """As shown in messages: the folder as given, then the path inside it."""
    name: str
    """Hugo's name for the page: the file name without extension (a bundle's folder name)."""
    front: Front | None
    """None when the file has no front matter Hugo could read as YAML or TOML."""
    body: str
    body_line: int
    front_kind: str = "yaml"

    def line_at(self, offset: int) -> int:
        """The line in the file of a character of the body."""
        return self.body_line + self.body.count("\n", 0, offset)


def as_front(value: dict[Any, Any], line: int = 1) -> Front:
    lines = getattr(value, "key_lines", {})
    values: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    for key, item in value.items():
        lowered = str(key).lower()
        if lowered not in values:  # `Title` and `title` both written: Hugo takes one; so do we
            values[lowered] = item
            key_lines[lowered] = lines.get(key, getattr(value, "line", line))
    return Front(values, key_lines, getattr(value, "line", line))


def line_of(container: Any, key: Any, default: int) -> int:
    """The line of an entry of a YAML mapping or list; TOML's carry none, so `default`."""
    finder = getattr(container, "line_of", None)
    return finder(key) if finder is not None else default


# ── the configuration ──────────────────────────────────────────────────────────────────


def shown(folder: Path, relative: str) -> str:
    return (folder / relative).as_posix()


def read_config(folder: Path) -> tuple[str, Front]:
    """The site's Hugo configuration: (its path as shown, its top-level keys)."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: expected a cState site folder (with config.yml and content/issues/); "
                         "found no folder")
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            path = shown(folder, name)
            text = read_text(path, (folder / name).read_bytes())
            data = _toml(path, text, 1) if name.endswith(".toml") else parse_yaml(path, text)
            if not isinstance(data, dict):
                raise ContentError(path, getattr(data, "line", 1), "expected Hugo's site configuration "
                                   "(a mapping with params and systems); found something else")
            return path, _with_toml_lines(as_front(data), text, 1) if name.endswith(".toml") else as_front(data)
    raise UsageError(f"{folder}: expected a cState site with its Hugo configuration ({', '.join(CONFIG_NAMES)}); "
                     "found none of them")


# ── the issues ─────────────────────────────────────────────────────────────────────────


def issue_files(folder: Path) -> list[Path]:
    """content/issues/**/*.md|.markdown, sorted (none when the folder is missing)."""
    root = folder / ISSUES_FOLDER
    return sorted(p for p in root.rglob("*") if p.suffix in ISSUE_SUFFIXES and p.is_file())


def page_name(file: Path) -> str:
    """Hugo's name of the page: `index.md` in a bundle is named by its folder."""
    return file.parent.name if file.stem == "index" else file.stem


def read_issue(folder: Path, file: Path) -> Issue:
    """An issue file split into front matter and body; raises ContentError when Hugo could not read it."""
    path = shown(folder, file.relative_to(folder).as_posix())
    text = read_text(path, file.read_bytes())
    lines = text.splitlines(keepends=True)
    fence = lines[0].strip() if lines else ""
    if fence not in ("---", "+++"):
        kind = "json" if fence.startswith("{") else "none"
        return Issue(path, page_name(file), None, text, 1, kind)
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == fence:
            front_text, body = "".join(lines[1:index]), "".join(lines[index + 1:])
            if fence == "+++":
                data = _toml(path, front_text, 2)
                front = _with_toml_lines(as_front(data), front_text, 2)
            else:
                data = parse_yaml(path, front_text, first_line=2) if front_text.strip() else {}
                if not isinstance(data, dict):
                    raise ContentError(path, 2, "expected front matter of keys such as title, date and "
                                                "severity; found something else")
                front = as_front(data, 2)
            return Issue(path, page_name(file), front, body, index + 2, "toml" if fence == "+++" else "yaml")
    raise ContentError(path, 1, f"expected the front matter to end with a {fence!r} line; found none")


def _toml(path: str, text: str, first_line: int) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+)", str(error))
        line = int(found.group(1)) + first_line - 1 if found else first_line
        raise ContentError(path, line, f"invalid TOML: {str(error).split(' (at ')[0]}") from None


def _with_toml_lines(front: Front, text: str, first_line: int) -> Front:
    """TOML keeps no lines: find each top-level key's first `key =` or `[key]` line."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=first_line):
        found = re.match(r"\s*\[?\s*([A-Za-z0-9_-]+)\s*(?:=|\])", line)
        if found and found.group(1).lower() in front.values:
            lines.setdefault(found.group(1).lower(), number)
    return Front(front.values, lines, first_line)


# ── times ──────────────────────────────────────────────────────────────────────────────


def hugo_time(value: object, zone: ZoneInfo) -> tuple[datetime, bool]:
    """A time as Hugo reads it, in UTC to the second; and whether it had no offset (so
    `zone` placed it). Raises TimeError saying what was expected."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        moment = _parsed(value.strip())
    else:
        raise TimeError(f"expected {TIME_EXAMPLE}; found {value!r}")
    naive = moment.tzinfo is None
    aware = localize(moment, zone) if naive else moment
    return aware.astimezone(UTC).replace(microsecond=0), naive


def _parsed(text: str) -> datetime:
    iso = re.sub(r"\s*(?:UTC|GMT)$", "Z", text)
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    try:  # RFC 1123 and RFC 822, which Hugo also reads: `24 Feb 21 12:35 +0200`
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise TimeError(f"expected {TIME_EXAMPLE}; found {text!r}") from None
