"""Reading one YAML mapping field by field, recording every problem with its line.

Each reader method returns a clean value or None; problems go to the shared
`Problems` so a run reports all of them. Messages say what was expected and what
was found, and suggest a near-miss name where there is one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from statusgen.errors import Problems
from statusgen.content.model import Text
from statusgen.content.yamlsource import LocatedDict, LocatedList, read_document

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
ALIAS_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
"""An id from another system (Statuspage ids and codes, cState file names): safe in a URL path."""


def did_you_mean(found: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for a near miss among `known`, else ''.

    Case is ignored when comparing: `NL` or `Resolved` are near misses too.
    """
    by_folded = {str(name).casefold(): str(name) for name in known}
    matches = difflib.get_close_matches(str(found).casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[matches[0]]!r}?)" if matches else ""


DESCRIBED_CHARS = 80
"""How much of a found value a message quotes: a line of a terminal, not a whole file."""


def describe(value: Any) -> str:
    """How a found value is named in a message (a long one cut short)."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str) and len(value) > DESCRIBED_CHARS:
        return f"{value[:DESCRIBED_CHARS]!r}... ({len(value):,} characters)"
    return repr(value)


def one_of(options: Iterable[str]) -> str:
    return ", ".join(options)


class Fields:
    """The fields of one mapping in one file."""

    def __init__(self, path: str, data: Any, problems: Problems, line: int = 1,
                 what: str = "a mapping") -> None:
        self.path = path
        self.problems = problems
        self.ok = isinstance(data, LocatedDict)
        self.data: LocatedDict = data if self.ok else _empty(line)
        if not self.ok:
            self.problems.add(path, getattr(data, "line", line),
                              f"expected {what}; found {describe(data)}")

    def line(self, key: str | None = None) -> int:
        return self.data.line if key is None else self.data.line_of(key)

    def error(self, key: str | None, message: str) -> None:
        self.problems.add(self.path, self.line(key), message)

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        for key in self.data:
            if key not in allowed:
                self.error(key, f"unknown key {key!r}{did_you_mean(key, allowed)}; "
                                f"expected one of {one_of(allowed)}")

    def require(self, key: str, what: str) -> bool:
        if self.has(key):
            return True
        if self.ok:
            self.error(None, f"{key}: expected {what}; found nothing")
        return False

    def string(self, key: str, what: str = "text", required: bool = False) -> str | None:
        if not self.has(key):
            if required:
                self.require(key, what)
            return None
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(key, f"{key}: expected {what}; found {describe(value)}")
            return None
        return str(value)

    def choice(self, key: str, options: Iterable[str], default: str | None = None,
               aliases: dict[str, str] | None = None) -> str | None:
        if not self.has(key):
            return default
        options, value = tuple(options), self.data[key]
        if isinstance(value, (dict, list)):  # never str(): an alias may stand for millions of items
            self.error(key, f"{key}: expected one of {one_of(options + tuple(aliases or ()))}; "
                            f"found {describe(value)}")
            return default
        found = str(value)
        if aliases and found.upper() in aliases:
            return aliases[found.upper()]
        if found in options and not isinstance(value, bool):
            return found
        names = options + tuple(aliases or ())
        self.error(key, f"{key}: expected one of {one_of(names)}; found {describe(value)}"
                        f"{did_you_mean(found, names)}")
        return default

    def boolean(self, key: str, default: bool) -> bool:
        if not self.has(key):
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            self.error(key, f"{key}: expected true or false; found {describe(value)}")
            return default
        return value

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        if not self.has(key):
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(key, f"{key}: expected a whole number of at least {minimum}; "
                            f"found {describe(value)}")
            return default
        return value

    def percent(self, key: str, example: str = "99.5") -> float | None:
        """A percentage above 0 and at most 100 (an availability target such as 99.95)."""
        if not self.has(key):
            return None
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100:
            self.error(key, f"{key}: expected a percentage above 0 and at most 100 such as {example}; "
                            f"found {describe(value)}")
            return None
        return float(value)

    def text(self, key: str, languages: tuple[str, ...], required: bool = False) -> Text | None:
        """Localised text: a plain string, or a mapping of language to string."""
        if not self.has(key):
            if required:
                self.require(key, "text or a mapping of language to text")
            return None
        return localized(self.path, self.data[key], self.line(key), languages, self.problems, key)

    def aliases(self) -> tuple[str, ...]:
        """`aliases:`, a list of ids from another system (letters, digits, '-', '_', '.')."""
        items = self.sequence("aliases", "a list of ids such as [4g8tm2kw1zxl]")
        found: list[str] = []
        for index, value in enumerate(items or ()):
            if not isinstance(value, (str, int)) or isinstance(value, bool) \
                    or not ALIAS_PATTERN.match(str(value)):
                self.problems.add(self.path, items.line_of(index),  # type: ignore[union-attr]
                                  "aliases: expected ids of letters, digits, '-', '_' and '.' "
                                  f"such as 4g8tm2kw1zxl; found {describe(value)}")
            elif str(value) in found:
                self.problems.add(self.path, items.line_of(index),  # type: ignore[union-attr]
                                  f"aliases: {str(value)!r} is listed twice; expected each once")
            else:
                found.append(str(value))
        return tuple(found)

    def mapping(self, key: str) -> Fields | None:
        if not self.has(key):
            return None
        return Fields(self.path, self.data[key], self.problems, self.line(key),
                      what=f"a mapping under {key!r}")

    def sequence(self, key: str, what: str) -> LocatedList | None:
        if not self.has(key):
            return None
        value = self.data[key]
        if not isinstance(value, LocatedList):
            self.error(key, f"{key}: expected {what}; found {describe(value)}")
            return None
        return value


def read_named(site_dir: Path, path: str, name: str, problems: Problems, *, role: str,
               what: str) -> tuple[Fields, str] | None:
    """A site file whose name is an id (an incident, a template): its fields and Markdown
    body, or None when the name, the file or its top level is wrong (recorded). `role`
    says what the name is for, `what` what the file should hold."""
    if not ID_PATTERN.match(name):
        problems.add(path, 1, f"file name: expected lowercase letters, digits and '-' ({role}); found {name!r}")
        return None
    document = read_document(site_dir, path, problems)
    if document is None:
        return None
    fields = Fields(path, document.data, problems, what=what)
    return (fields, document.body) if fields.ok else None


def localized(path: str, value: Any, line: int, languages: tuple[str, ...],
              problems: Problems, key: str) -> Text | None:
    """Turn a string or a {lang: string} mapping into a complete `Text`."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return Text.same(languages, str(value))
    if not isinstance(value, LocatedDict) or not value:
        problems.add(path, line, f"{key}: expected text or a mapping of language to text; "
                                 f"found {describe(value)}")
        return None
    given: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in languages:
            problems.add(path, value.line_of(lang), f"{key}: unknown language {lang!r}"
                         f"{did_you_mean(str(lang), languages)}; the site has {one_of(languages)}")
        elif not isinstance(text, (str, int, float)) or isinstance(text, bool):
            problems.add(path, value.line_of(lang), f"{key}.{lang}: expected text; found {describe(text)}")
        else:
            given[lang] = str(text)
    if not given:
        return None
    written = tuple(lang for lang in languages if lang in given)
    fallback = given.get(languages[0], given[written[0]])  # the language `Text.lang_of` names
    return Text(tuple((lang, given.get(lang, fallback)) for lang in languages), written=written, line=line)


def _empty(line: int) -> LocatedDict:
    empty = LocatedDict()
    empty.line, empty.key_lines = line, {}
    return empty
