"""Parsed site files by path, reused while their bytes and parse context are unchanged.

`statusgen serve` keeps one `FileCache` across loads, so an edit re-parses only the file
that changed; a plain build does not use it.

Which files may have changed comes from one of two places. Without word from a watcher
(the first load, a watcher that overflowed, a folder created, moved or deleted) every
file is listed and `stat`ed: a walk over 10,000 incident files. With the watcher's
paths (`note`), the last load's list is patched with them and only they are looked at;
every other file is trusted to be as it was, as an editor trusts its file watcher.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Hashable, Iterable
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
        self._dirty: set[str] | None = None
        """Site paths changed since the last load that listed the files; None: unknown
        (walk them all). Kept across failed loads that never reached the files."""
        self.parsed = 0
        self.reused = 0
        self.walked = False
        """Whether the last load listed and looked at every file (no watcher paths)."""
        self._listed: list[str] | None = None
        """The last listing, handed out again while the same files are there."""
        self._derived: dict[str, tuple[object, Any]] = {}

    def note(self, changed: Iterable[str] | None) -> None:
        """The site paths a watcher saw change before the next load (created, modified,
        deleted, either end of a move); None when it cannot say (the next load walks)."""
        if changed is None or self._dirty is None:
            self._dirty = None
        else:
            self._dirty.update(changed)

    def listing(self, folder: str, suffixes: tuple[str, ...], walk: Callable[[], list[str]],
                root: str) -> tuple[list[str], frozenset[str] | None]:
        """The sorted site paths of the files under `folder` with one of `suffixes`, and
        which of them may have changed since the last load (None: any; every file is
        checked). Walks the folder with `walk()` unless the watcher's paths tell enough."""
        dirty, known = self._dirty, self._entries
        found: set[str] | None = set(known) if dirty is not None else None
        for path in dirty or ():
            if found is None:
                break
            if not path.startswith(folder + "/"):
                continue
            file = f"{root}/{path}"
            if os.path.isdir(file):
                found = None  # a folder came in: what is inside it was never reported one by one
            elif os.path.splitext(path)[1] in suffixes:
                if os.path.isfile(file):
                    found.add(path)
                elif os.path.lexists(file):
                    found = None  # a socket, a dangling link: let the walk decide as it always does
                else:
                    found.discard(path)
            elif not os.path.exists(file) and any(k.startswith(path + "/") for k in known):
                found = None  # a folder went away or moved: every file in it did
        self.walked = found is None
        if found is None:
            self._listed = walk()
            return self._listed, None
        listed = self._listed
        if listed is None or len(listed) != len(found) or not found.issuperset(listed):
            listed = self._listed = sorted(found)
        return listed, frozenset(dirty or ())

    def derived(self, name: str, source: object, make: Callable[[], T]) -> T:
        """`make()`, a value computed from `source` alone (such as a check of the listing),
        or the last call's while `source` is the very same object (`listing` hands out the
        same list while the files are the same)."""
        kept = self._derived.get(name)
        if kept is not None and kept[0] is source:
            return kept[1]  # type: ignore[no-any-return]
        value = make()
        self._derived[name] = (source, value)
        return value

    def start(self, context: Hashable) -> Hashable:
        """Begin a load whose files are checked in `context`; returns the context to pass to
        `recall` (the last load's own object when equal, so comparing it costs nothing)."""
        self._seen, self.parsed, self.reused = {}, 0, 0
        if context != self._context:
            self._context = context
        return self._context

    def recall(self, path: str, file: str, context: Hashable,
               parse: Callable[[], tuple[T, list[ContentError]]], trusted: bool = False) -> tuple[T, list[ContentError]]:
        """The parse of `file` (site path `path`): remembered if unchanged, else `parse()`.

        `trusted`: the watcher saw no change to the file, so it is not even `stat`ed.
        Otherwise an unchanged mtime and size is trusted only for settled files; else the
        bytes are hashed, which also catches a touch that changed nothing.
        """
        entry = self._entries.get(path)
        if trusted and entry is not None and entry.context is context:
            return self._keep(path, entry)
        return self._recall(path, file, context, parse, entry)

    def trusted(self, path: str, context: Hashable) -> tuple[Any, tuple[ContentError, ...]] | None:
        """`recall` of a file the watcher saw no change to, when its parse is remembered in
        `context` (else None: `recall` it): the value and its errors, kept for the next load.
        What a load of 10,000 files does 10,000 times, so no more than that."""
        entry = self._entries.get(path)
        if entry is None or entry.context is not context:
            return None
        self.reused += 1
        self._seen[path] = entry
        return entry.value, entry.errors

    def _recall(self, path: str, file: str, context: Hashable,
                parse: Callable[[], tuple[T, list[ContentError]]], entry: _Parsed | None) -> tuple[T, list[ContentError]]:
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
        """Forget files that are gone; called after every load, good or broken (its
        files were all looked at, so the watcher's paths so far are accounted for)."""
        self._entries = self._seen
        self._dirty = set()


def _file_digest(file: str) -> bytes:
    # In chunks: a file far over the loader's size limit is hashed without holding it whole.
    with open(file, "rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16)).digest()
