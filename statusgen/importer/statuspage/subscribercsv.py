"""A Statuspage subscriber CSV as subscriber objects in the manage API's shape.

    FILE (UTF-8, a BOM allowed; ',' or ';' between cells)
        ├─ the import format, no header:  TYPE, ADDRESS, SKIP-CONFIRMATION [, COMPONENT ...]
        │     email,spoc@partner.example,no          sms,5551234567,US          webhook,https://hook.example/x,ops@partner.example
        └─ an export, with a header row:  columns by name, in any order (see COLUMNS);
              `email` is required, the rest optional; components by id or by name
        ──▶ {mode, email, endpoint, phone_number, components, state, created_at, ..., _source: (FILE, LINE)}
        ──subscriberplan.check──▶ every malformed row as FILE:LINE: message, nothing imported

Statuspage's import format is documented (type, address, then a yes/no to skip the
confirmation, which it no longer honours for email); its export's columns are not, so a
header is read by names, leniently (case, spaces and underscores do not matter), and a
column this reader does not know is reported, never silently dropped. A components cell
holds one component or several separated by ';', '|', ',' or line breaks (a name that
itself has a comma is found whole first: `subscriberplan` splits only what it does not know).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from statusgen.errors import ContentError, ContentErrors
from statusgen.importer.records import Report
from statusgen.importer.statuspage.subscriberplan import MODES, SOURCE_KEY, STATES, check

COLUMNS = {
    "email": ("email", "email address", "address", "subscriber", "contact email"),
    "mode": ("type", "mode", "subscriber type", "kind", "channel"),
    "components": ("components", "component", "subscribed components", "component names", "component ids"),
    "state": ("state", "status", "subscription state"),
    "created_at": ("created at", "created", "subscribed at", "subscribed on", "date subscribed"),
    "quarantined_at": ("quarantined at", "quarantined"),
    "purge_at": ("purge at",),
    "unsubscribed_at": ("unsubscribed at", "unsubscribed"),
    "endpoint": ("endpoint", "webhook", "webhook url", "url"),
    "phone_number": ("phone", "phone number", "number", "mobile"),
    "phone_country": ("phone country", "country", "country code"),
    "id": ("id", "subscriber id", "code"),
    "skip_confirmation": ("skip confirmation", "skip confirmation notification"),
}
"""Each field and the header names (normalised) an export may give it."""
HEADER_NAMES = {name: field for field, names in COLUMNS.items() for name in names}
STATE_WORDS = {**{state: state for state in STATES}, "confirmed": "active", "pending": "unconfirmed",
               "subscribed": "active"}
YES_NO = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False, "": False}
COMPONENT_SEPARATORS = re.compile(r"[;|\n]+")


def read_csv(path: Path, report: Report) -> tuple[dict[str, Any], ...]:
    """The file's subscribers, each carrying `_source: (path, line)`; raises ContentErrors
    with every malformed row (and reads nothing) when one is wrong."""
    shown = str(path)
    text = _text(path, shown)
    rows = list(_rows(text))
    if not rows:
        raise ContentErrors([ContentError(shown, 1, "expected subscribers (a Statuspage export or import "
                                                     "file); found an empty file")])
    problems: list[ContentError] = []
    if _is_header(rows[0][1]):
        subscribers = _export(shown, rows, problems, report)
    else:
        subscribers = [item for line, row in rows if (item := _import_row(shown, line, row, problems))]
    try:
        check(subscribers)
    except ContentErrors as errors:
        problems.extend(errors.errors)
    if problems:
        raise ContentErrors(problems)
    return tuple(subscribers)


def _text(path: Path, shown: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ContentErrors([ContentError(shown, 0, f"cannot read the subscriber file: {error.strerror}")]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ContentErrors([ContentError(shown, line, "expected UTF-8 text (save the CSV as UTF-8); found "
                                                       f"the byte {data[error.start]:#04x}")]) from None


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-empty record with the line it starts on (a quoted cell may span lines)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for row in reader:
        if any(cell.strip() for cell in row):
            yield start, [cell.strip() if "\n" not in cell and "\r" not in cell else cell for cell in row]
        start = reader.line_num + 1


def _normal(name: str) -> str:
    return " ".join(re.sub(r"[_\-]+", " ", name).split()).casefold()


def _is_header(row: list[str]) -> bool:
    """A header names columns; the import format starts with a type and an address."""
    return not any("@" in cell or "://" in cell for cell in row) and any(_normal(c) in HEADER_NAMES for c in row)


# ── the import format ───────────────────────────────────────────────────────────────────

def _import_row(path: str, line: int, row: list[str], problems: list[ContentError]) -> dict[str, Any] | None:
    mode = row[0].casefold()
    item: dict[str, Any] = {"mode": mode, SOURCE_KEY: (path, line)}
    if mode not in MODES:
        problems.append(ContentError(path, line, f"type (the first cell): expected one of {', '.join(MODES)}; found "
                                                 f"{row[0]!r}; a file with a header row names its columns"))
        return None
    if len(row) < 2 or not row[1]:
        problems.append(ContentError(path, line, f"expected the {mode} subscriber's address in the second cell; "
                                                 "found nothing"))
        return None
    if mode == "email":
        _yes_no(path, line, row[2] if len(row) > 2 else "", problems)
        components = [ref for cell in row[3:] for ref in _component_refs(cell)]
        item.update(email=row[1], components=components or None)
    elif mode == "sms":
        item.update(phone_number=row[1], phone_country=row[2] if len(row) > 2 else None)
    else:
        item.update(endpoint=row[1], email=row[2] if len(row) > 2 and row[2] else None)
    return item


def _yes_no(path: str, line: int, value: str, problems: list[ContentError]) -> None:
    """Statuspage's "skip confirmation" cell: read, checked, and not acted on (only
    --trust-confirmed decides that an address needs no confirmation)."""
    if value.casefold() not in YES_NO:
        problems.append(ContentError(path, line, f"skip confirmation (the third cell): expected yes or no; "
                                                 f"found {value!r}"))


# ── an export, with a header ────────────────────────────────────────────────────────────

def _export(path: str, rows: list[tuple[int, list[str]]], problems: list[ContentError],
            report: Report) -> list[dict[str, Any]]:
    header_line, header = rows[0]
    fields = [HEADER_NAMES.get(_normal(name)) for name in header]
    unknown = [name for name, field in zip(header, fields) if field is None and name]
    if unknown:
        report.skip(f"{path} column{'s' if len(unknown) != 1 else ''} {', '.join(map(repr, unknown))}",
                    "not a subscriber field statusgen keeps")
    if "email" not in fields:
        problems.append(ContentError(path, header_line, "expected a column 'email' in the header row (the address); "
                                                        f"found {', '.join(map(repr, header))}"))
        return []
    return [item for line, row in rows[1:] if (item := _export_row(path, line, row, fields, problems))]


def _export_row(path: str, line: int, row: list[str], fields: list[str | None],
                problems: list[ContentError]) -> dict[str, Any] | None:
    if len(row) > len(fields) and any(row[len(fields):]):
        problems.append(ContentError(path, line, f"expected at most {len(fields)} cells, as the header has; "
                                                 f"found {len(row)}"))
        return None
    cells = {field: value for field, value in zip(fields, row) if field is not None}
    item: dict[str, Any] = {SOURCE_KEY: (path, line), "mode": (cells.pop("mode", "") or "email").casefold()}
    state = cells.pop("state", "")
    if state:
        item["state"] = STATE_WORDS.get(state.casefold(), state)
    components = cells.pop("components", "")
    item["components"] = _component_refs(components) or None
    _yes_no(path, line, cells.pop("skip_confirmation", ""), problems)
    item.update((field, value or None) for field, value in cells.items())
    return item


def _component_refs(cell: str) -> list[str]:
    """A cell's component references, split at ';', '|' and line breaks; commas are left
    for the plan, which knows the names (one may have a comma) and splits what is unknown."""
    return [piece.strip() for piece in COMPONENT_SEPARATORS.split(cell) if piece.strip()]
