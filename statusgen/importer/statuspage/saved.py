"""Saved answers: one JSON file per request, the layout shared by the cache and folder sources.

    request (path under the source, query)  ──saved_name──▶  file under the folder
    https://status.example.com/api/v2/summary.json            api/v2/summary.json
    https://status.example.com/history.json?page=2            history.page-2.json
    https://status.example.com/incidents/CODE.json            incidents/CODE.json
    https://api.statuspage.io/v1/pages/ID                     pages/ID.json
    .../v1/pages/ID/incidents?limit=100&page=2                pages/ID/incidents.limit-100.page-2.json
    an answer "not found" (404)                               the same name + `.missing` (empty)

Each query parameter becomes `.KEY-VALUE` before `.json`, in the order asked; a path
without `.json` gets it. So the cache of one run is a folder source for the next (an
air-gapped move is copying that folder), and the test server serves the same files.
Names are checked before use: nothing read or written leaves the folder.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from statusgen.errors import ContentError, ContentErrors

Query = tuple[tuple[str, str], ...]

_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
MISSING_SUFFIX = ".missing"


class UnsafeName(ValueError):
    """A path or query value that could name a file outside the folder."""


def saved_name(path: str, query: Query = ()) -> PurePosixPath:
    """The file that holds the answer to `path?query`, relative to the folder."""
    parts = [part for part in path.strip("/").split("/") if part]
    if not parts or not all(_SAFE_PART.fullmatch(part) and ".." not in part for part in parts):
        raise UnsafeName(f"not a safe path for a saved answer: {path!r}")
    stem = parts[-1].removesuffix(".json")
    for key, value in query:
        if not (_SAFE_PART.fullmatch(key) and _SAFE_PART.fullmatch(value)) or ".." in key + value:
            raise UnsafeName(f"not a safe query for a saved answer: {key}={value}")
        stem += f".{key}-{value}"
    return PurePosixPath(*parts[:-1], stem + ".json")


@dataclass(frozen=True)
class Saved:
    file: Path
    body: bytes | None
    """None: the source answered "not found" when it was asked."""


def read_saved(folder: Path, name: PurePosixPath) -> Saved | None:
    """The saved answer, a remembered "not found", or None when nothing was saved."""
    file = folder / name
    if file.is_file():
        return Saved(file, file.read_bytes())
    marker = file.with_name(file.name + MISSING_SUFFIX)
    if marker.is_file():
        return Saved(file, None)
    return None


def write_saved(folder: Path, name: PurePosixPath, body: bytes | None) -> None:
    """Saves an answer (None: "not found") atomically, so an interrupted run leaves no half file."""
    file = folder / name
    missing = file.with_name(file.name + MISSING_SUFFIX)
    target, stale = (file, missing) if body is not None else (missing, file)
    target.parent.mkdir(parents=True, exist_ok=True)
    stale.unlink(missing_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".saving-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body or b"")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def parse_file(file: Path, body: bytes) -> Any:
    """The JSON in a saved file; invalid JSON is a `FILE:LINE: message` error."""
    try:
        return json.loads(body)
    except UnicodeDecodeError as error:
        raise ContentErrors([ContentError(str(file), 1, f"not UTF-8 text: {error.reason}")]) from None
    except json.JSONDecodeError as error:
        raise ContentErrors([ContentError(str(file), error.lineno,
                                          f"not valid JSON: {error.msg} (column {error.colno})")]) from None
