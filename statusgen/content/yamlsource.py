"""Read YAML (and Markdown front matter) keeping the line of every key and item.

Validation messages must say `PATH:LINE`, so mappings and sequences come back as
`Located` containers that remember where each of their entries was written.
Timestamps are kept as strings: statusgen parses them itself, in the site timezone.

Site files come from many hands, so what a file may cost is bounded before it is trusted:
at most `MAX_FILE_BYTES`, at most `MAX_DEPTH` levels of nesting, and aliases (`*name`)
that repeat at most `MAX_ALIAS_NODES` nodes in all (an "alias bomb" of a few lines
would otherwise expand to millions). Each is refused as `PATH:LINE: message`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from statusgen.errors import ContentError, Problems

MAX_FILE_BYTES = 1024 * 1024
"""The largest site file read: 1 MiB, some 200 times a long incident with a post-mortem
(and 10,000 subscribers); parsing one takes about a second."""
MAX_DEPTH = 100
"""The deepest nesting of mappings and lists a file may have (valid sites use under 10);
libyaml composes recursively in C and would crash the interpreter on a few thousand."""
MAX_ALIAS_NODES = 100_000
"""How many nodes all the aliases of a file may repeat in all: far beyond any anchor a
site shares, far below the billions a few lines of nested aliases expand to."""
_INDICATORS = "[{-?:"
"""Every mapping or list that nests starts at one of these: their count bounds the depth."""


class LocatedDict(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    """A sequence that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is ~5x faster


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader that builds located containers and leaves timestamps as text."""

    def resolve(self, kind: type, value: str | None, implicit: tuple[bool, bool]) -> str:
        """The tag of a node written without one, as `BaseResolver.resolve` gives it for this
        loader (it has no path resolvers and no implicit resolvers for every first letter)
        in fewer steps: libyaml asks for every node, 60 times per incident file."""
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):  # type: ignore[index]
                    if regexp.match(value):
                        return tag
            return self.DEFAULT_SCALAR_TAG
        return self.DEFAULT_SEQUENCE_TAG if kind is yaml.SequenceNode else self.DEFAULT_MAPPING_TAG


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Iterator[LocatedDict]:
    # Yielded empty and filled afterwards, as PyYAML's own constructors do, so nested
    # containers are built in a loop rather than by recursion.
    if not isinstance(node, yaml.MappingNode):  # `!!map [1]`
        raise yaml.constructor.ConstructorError(None, None, "!!map: expected a mapping", node.start_mark)
    mapping = LocatedDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    yield mapping
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "expected a plain key", key_node.start_mark
            )
        key = loader.construct_object(key_node)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "expected a plain key", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node)
        mapping.key_lines[key] = key_node.start_mark.line + 1


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LocatedList]:
    if not isinstance(node, yaml.SequenceNode):  # `!!seq {a: 1}`
        raise yaml.constructor.ConstructorError(None, None, "!!seq: expected a list", node.start_mark)
    items = LocatedList()
    items.line = node.start_mark.line + 1
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield items
    items.extend(loader.construct_object(child) for child in node.value)


class _DetailLoader(yaml.SafeLoader):
    """The pure-Python parser, run again only on a syntax error: its messages say what it
    expected and what it found (libyaml's only what it missed), on every platform alike."""


def _construct_text(loader: _Loader, node: yaml.Node) -> str:
    """`!!timestamp` written out: kept as text like every other time."""
    return str(loader.construct_scalar(node))


def _refuse_tag(loader: _Loader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(
        None, None, f"expected plain YAML (text, numbers, true/false, lists, mappings); found the tag "
                    f"{node.tag.replace(_CORE, '!!')!r}", node.start_mark)


def _guarded(construct: Any) -> Any:
    """A scalar constructor whose every failure names the line: `!!int x` raised a bare
    ValueError, `!!float [1]` a TypeError, with no place in the file."""
    def guarded(loader: _Loader, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except yaml.MarkedYAMLError:
            raise
        except Exception:  # noqa: BLE001 - any failure of a core constructor is the file's
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.tag.replace(_CORE, '!!')}: expected a value of this type; found "
                            f"{str(node.value)[:80]!r}" if isinstance(node, yaml.ScalarNode) else
                            f"{node.tag.replace(_CORE, '!!')}: expected a plain value; found a collection",
                node.start_mark) from None
    return guarded


_CORE = "tag:yaml.org,2002:"
_REFUSED_TAGS = ("binary", "set", "omap", "pairs")
"""Core tags the site files have no use for, whose values (bytes, sets, lists of pairs)
would reach the checks as types nothing expects."""

_DetailLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
for _loader in (_Loader, _DetailLoader):
    for _tag in ("null", "bool", "int", "float", "str"):
        _loader.add_constructor(_CORE + _tag, _guarded(yaml.SafeLoader.yaml_constructors[_CORE + _tag]))
    for _tag in _REFUSED_TAGS:
        _loader.add_constructor(_CORE + _tag, _refuse_tag)
    _loader.add_constructor(_CORE + "timestamp", _guarded(_construct_text))
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _load(source: str, shared: bool) -> Any:
    """`yaml.load(source, Loader=_Loader)`, with the nodes of a plain document built by
    `_construct_plain` instead of PyYAML's constructors, which took a third of the time
    `yaml.load` spends on a plain document such as an incident file. Text with aliases
    (`shared`) may make one node stand for several values: only PyYAML's constructors keep
    those one object (and build a mapping that holds itself)."""
    loader = _Loader(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if not shared:
            try:
                return _construct_plain(loader, node)
            except _NotPlain:
                pass
        return loader.construct_document(node)
    finally:
        loader.dispose()


class _NotPlain(Exception):
    """A node `_construct_plain` leaves to PyYAML's constructors: a tag it does not build,
    or something they refuse, which they then refuse with their own message and line."""


_STR, _MAP, _SEQ = _CORE + "str", _CORE + "map", _CORE + "seq"
_PLAIN_SCALARS = frozenset(_CORE + tag for tag in ("null", "bool", "int", "float"))
"""Scalar tags built here too, by the loader's own (guarded) constructors; `str` is the
node's text as it is."""


def _construct_plain(loader: _Loader, node: yaml.Node) -> Any:
    """What `loader.construct_document(node)` makes of a tree of plain mappings, lists and
    scalars (equal values, the same lines), in one recursion without PyYAML's bookkeeping;
    `_NotPlain` for anything else, and for every mistake `_construct_mapping` refuses.

    The depth is bounded before (`MAX_DEPTH`); the node tree is only read, so PyYAML's
    constructors can still build it after a `_NotPlain`."""
    kind = node.__class__
    if kind is yaml.ScalarNode:
        if node.tag == _STR:
            return node.value
        if node.tag in _PLAIN_SCALARS:
            try:
                return loader.yaml_constructors[node.tag](loader, node)
            except yaml.YAMLError:
                raise _NotPlain from None
    elif kind is yaml.MappingNode and node.tag == _MAP:
        mapping = LocatedDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = key_lines = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not yaml.ScalarNode:
                raise _NotPlain  # a collection as key
            key = key_node.value if key_node.tag == _STR else _construct_plain(loader, key_node)
            if key in mapping:
                raise _NotPlain
            mapping[key] = _construct_plain(loader, value_node)
            key_lines[key] = key_node.start_mark.line + 1
        return mapping
    elif kind is yaml.SequenceNode and node.tag == _SEQ:
        items = LocatedList(_construct_plain(loader, child) for child in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items
    raise _NotPlain


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, the Markdown body after front matter, and line offsets."""

    data: Any
    body: str
    body_line: int


def read_text(path: str, raw: bytes) -> str:
    """Decode a site file, refusing what is not UTF-8, is empty or is too large."""
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large(path, len(raw))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ContentError(path, line, f"expected UTF-8 text; found byte 0x{raw[error.start]:02x}") from None
    if not text.strip():
        raise ContentError(path, 1, "expected content; found an empty file")
    return text


def parse_yaml(path: str, text: str, first_line: int = 1) -> Any:
    """Parse YAML text whose first line is line `first_line` of the file."""
    # Padding with blank lines keeps every mark equal to the line in the file.
    source = "\n" * (first_line - 1) + text
    unprintable = _UNPRINTABLE.search(source)
    if unprintable:  # the parser's own ReaderError says neither line nor a way out
        raise ContentError(path, _line_at(source, unprintable.start()),
                           f"invalid YAML: expected text without control characters; found "
                           f"U+{ord(unprintable.group()):04X} (remove it)")
    try:
        if "*" in source or sum(map(source.count, _INDICATORS)) > MAX_DEPTH:
            _check_expansion(path, source)
        data = _load(source, shared="*" in source)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(path, _detailed(error, source), source, first_line) from None
    if "\\" in source:  # an escape in double quotes ("\a", "\x00", "\uFFFE") may make one
        _check_escaped(path, data)
    return data


NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What no page, feed or email can hold: C0 controls but tab and line ends, lone surrogates
and the two non-characters XML refuses (the feeds' writer stops at them)."""


def _check_escaped(path: str, data: Any) -> None:
    """Text made by an escape that no page or feed can hold, refused at its line."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, line = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                at = node.line_of(key) if isinstance(node, LocatedDict) else line
                stack += [(key, at), (value, at)]
        elif isinstance(node, list):
            stack += [(item, node.line_of(index) if isinstance(node, LocatedList) else line)
                      for index, item in enumerate(node)]
        elif isinstance(node, str) and (found := NOT_TEXT.search(node)):
            raise ContentError(path, line, _not_text(found.group(), "written as an escape: remove it"))


def _not_text(character: str, remedy: str) -> str:
    return f"expected text without control characters; found U+{ord(character):04X} ({remedy})"


_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What YAML does not allow in a file (PyYAML's `Reader.NON_PRINTABLE`)."""
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _line_at(source: str, index: int) -> int:
    """The line of `source[index]`, counting line breaks as YAML does."""
    return len(_LINE_BREAK.findall(source, 0, index)) + 1


def _check_expansion(path: str, source: str) -> None:
    """Refuse nesting deeper than `MAX_DEPTH` and aliases that repeat more than
    `MAX_ALIAS_NODES` nodes, from the parser's events, before anything is composed.

    Run only when the text has an alias or enough indicators to nest that deep: the
    events cost half as much again as the load itself, for files that need no check.
    """
    open_at: list[tuple[str | None, int]] = []  # each open container: its anchor, nodes before it
    sizes: dict[str, int] = {}  # anchor -> how many nodes it stands for, its aliases' included
    nodes = repeated = 0
    for event in _events(path, source):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            nodes += 1
            open_at.append((event.anchor, nodes))
            if len(open_at) > MAX_DEPTH:
                raise ContentError(path, event.start_mark.line + 1,
                                   f"expected at most {MAX_DEPTH} levels of nested mappings and lists; "
                                   "found more")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, start = open_at.pop()
            if anchor is not None:
                sizes[anchor] = nodes - start + 1
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor, 1)  # an unknown anchor is the loader's to report
            nodes += size
            repeated += size
            if repeated > MAX_ALIAS_NODES:
                raise ContentError(path, event.start_mark.line + 1,
                                   f"aliases: expected them to repeat at most {MAX_ALIAS_NODES:,} "
                                   f"nodes in all; found more at *{event.anchor} (nested aliases "
                                   "multiply: write the values out)")


def _events(path: str, source: str) -> Iterator[yaml.Event]:
    """The parser's events; libyaml's own depth limit (PyYAML 6.0.4 and later: 1,000 levels,
    met while scanning ahead, before the first event) said as `MAX_DEPTH` is."""
    try:
        yield from yaml.parse(source, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        if "maximum nesting depth" not in str(error.problem):
            raise
        mark = error.problem_mark or error.context_mark
        raise ContentError(path, mark.line + 1 if mark else 1,
                           f"expected at most {MAX_DEPTH} levels of nested mappings and lists; found more") from None


def _too_large(path: str, size: int) -> ContentError:
    return ContentError(path, 1, f"expected a file of at most {MAX_FILE_BYTES // 1024:,} KiB; "
                                 f"found {size / 1024 / 1024:.1f} MiB (split it, or shorten its texts)")


def _detailed(error: yaml.MarkedYAMLError, source: str) -> yaml.MarkedYAMLError:
    try:
        yaml.load(source, Loader=_DetailLoader)
    except yaml.MarkedYAMLError as detailed:
        return detailed
    except (yaml.YAMLError, RecursionError):  # the pure-Python parser is stricter in places,
        return error  # and recurses where libyaml does not: keep libyaml's word
    return error


def _syntax_error(path: str, error: yaml.MarkedYAMLError, source: str, first_line: int) -> ContentError:
    """Where the YAML went wrong, and what the parser was in the middle of."""
    problem, context = error.problem_mark, error.context_mark
    # A problem found only at the end of the text (an unclosed quote or bracket) is
    # reported where the unclosed thing starts: the end is often not a line of the file.
    at_end = problem is None or problem.index >= len(source.rstrip())
    mark = context if at_end and context is not None else problem or context
    line = mark.line + 1 if mark else first_line
    message = error.problem or "not valid YAML"
    if error.context:
        where = f" from line {context.line + 1}" if context and context.line + 1 != line else ""
        message = f"{error.context}{where}, {message}"
    return ContentError(path, line, f"invalid YAML: {message}")


def parse_document(path: str, raw: bytes) -> Document:
    """Parse a `.yaml` file, or a `.md` file with YAML front matter between `---` lines."""
    text = read_text(path, raw)
    if not path.endswith(".md"):
        return Document(parse_yaml(path, text), "", 0)
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentError(path, 1, "expected front matter starting with '---'; found "
                           f"{lines[0].strip()[:40]!r}")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            front = "".join(lines[1:index])
            body = "".join(lines[index + 1:])
            if found := NOT_TEXT.search(body):
                line = index + 2 + body.count("\n", 0, found.start())
                raise ContentError(path, line, _not_text(found.group(), "remove it"))
            return Document(parse_yaml(path, front, first_line=2), body, index + 2)
    raise ContentError(path, 1, "expected front matter to end with a '---' line; found none")


def _read_capped(file: BinaryIO) -> bytes:
    """The first `MAX_FILE_BYTES` + 1 bytes of `file`, or all of a smaller one: enough to
    refuse a huge file without reading it all. Asked for by the size the file says it has:
    `read(n)` makes an n-byte buffer first, and a MiB per file made reading 10,000 incident
    files three times slower. A file that says less than it holds (one still being
    written, or a special file) is read on up to the limit."""
    size = os.fstat(file.fileno()).st_size
    raw = file.read(min(size, MAX_FILE_BYTES) + 1)
    if size < len(raw) <= MAX_FILE_BYTES:
        raw += file.read(MAX_FILE_BYTES + 1 - len(raw))
    return raw


def read_document(site_dir: Path, path: str, problems: Problems, missing: str | None = None) -> Document | None:
    """Read and parse one site file, recording what is wrong with it.

    None when the file cannot be used: it is broken (recorded), or it is absent, which is
    recorded as `missing` ("expected ...; found no file") unless the file is optional.
    """
    try:
        with open(os.path.join(site_dir, path), "rb") as file:
            raw = _read_capped(file)
        if len(raw) > MAX_FILE_BYTES:
            raise _too_large(path, os.path.getsize(os.path.join(site_dir, path)))
        return parse_document(path, raw)
    except FileNotFoundError:
        if missing is not None:
            problems.add(path, 1, f"{missing}; found no file")
        return None
    except ContentError as error:
        problems.errors.append(error)
        return None
