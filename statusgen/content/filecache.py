"""Parsed site files by path, reused while their bytes and parse context are unchanged.

`statusgen serve` keeps one `FileCache` across loads, so an edit re-parses only the file
that changed; a plain build does not use it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from statusgen.errors import ContentError

T = TypeVar("T")

SETTLED_NS = 2_000_000_000
"""A file modified less than this long before it was looked at may change again within
the file system's timestamp granularity without its mtime or size moving (git's
"racily clean" entries): its bytes are hashed on every build until it is older."""


@dataclass
class _Parsed:
    stamp: tuple[int, int]
    settled: bool
    content: bytes
    context: Hashable
    value: Any
    errors: tuple[ContentError, ...]


class FileCache:
    """Parsed site files by path, reused while their bytes and parse context are the same."""

    def __init__(self) -> None:
        self._entries: dict[str, _Parsed] = {}
        self._seen: dict[str, _Parsed] = {}
        self._context: Hashable = None
        self.parsed = 0
        self.reused = 0

    def start(self, context: Hashable) -> Hashable:
        """Begin a load whose files are checked in `context`; returns the context to pass to
        `recall` (the last load's own object when equal, so comparing it costs nothing)."""
        self._seen, self.parsed, self.reused = {}, 0, 0
        if context != self._context:
            self._context = context
        return self._context

    def recall(self, path: str, file: str, context: Hashable,
               parse: Callable[[], tuple[T, list[ContentError]]]) -> tuple[T, list[ContentError]]:
        """The parse of `file` (site path `path`): remembered if unchanged, else `parse()`.

        An unchanged mtime and size is trusted only for settled files; otherwise the
        bytes are hashed, which also catches a touch that changed nothing.
        """
        entry = self._entries.get(path)
        stat = os.stat(file)
        stamp = (stat.st_mtime_ns, stat.st_size)
        settled = time.time_ns() - stat.st_mtime_ns > SETTLED_NS
        if entry is not None and entry.context is context:
            if entry.stamp == stamp and entry.settled:
                return self._keep(path, entry)
            content = _file_digest(file)
            if content == entry.content:
                return self._keep(path, _Parsed(stamp, settled, content, context, entry.value, entry.errors))
        content = _file_digest(file)
        value, errors = parse()
        self.parsed += 1
        entry = _Parsed(stamp, settled, content, context, value, tuple(errors))
        self._seen[path] = entry
        return value, list(errors)

    def _keep(self, path: str, entry: _Parsed) -> tuple[Any, list[ContentError]]:
        self.reused += 1
        self._seen[path] = entry
        return entry.value, list(entry.errors)

    def commit(self) -> None:
        """Forget files that are gone; called after every load, good or broken."""
        self._entries = self._seen


def _file_digest(file: str) -> bytes:
    with open(file, "rb") as handle:
        return hashlib.blake2b(handle.read(), digest_size=16).digest()
