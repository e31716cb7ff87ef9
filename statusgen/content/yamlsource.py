"""Read YAML (and Markdown front matter) keeping the line of every key and item.

Validation messages must say `PATH:LINE`, so mappings and sequences come back as
`Located` containers that remember where each of their entries was written.
Timestamps are kept as strings: statusgen parses them itself, in the site timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from statusgen.errors import ContentError, Problems


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


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    mapping = LocatedDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "expected a plain key", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    items = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


class _DetailLoader(yaml.SafeLoader):
    """The pure-Python parser, run again only on a syntax error: its messages say what it
    expected and what it found (libyaml's only what it missed), on every platform alike."""


_DetailLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
for _loader in (_Loader, _DetailLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, the Markdown body after front matter, and line offsets."""

    data: Any
    body: str
    body_line: int


def read_text(path: str, raw: bytes) -> str:
    """Decode a site file, refusing what is not UTF-8 or is empty."""
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
    try:
        return yaml.load(source, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(path, _detailed(error, source), source, first_line) from None


def _detailed(error: yaml.MarkedYAMLError, source: str) -> yaml.MarkedYAMLError:
    try:
        yaml.load(source, Loader=_DetailLoader)
    except yaml.MarkedYAMLError as detailed:
        return detailed
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
            return Document(parse_yaml(path, front, first_line=2),
                            "".join(lines[index + 1:]), index + 2)
    raise ContentError(path, 1, "expected front matter to end with a '---' line; found none")


def read_document(site_dir: Path, path: str, problems: Problems, missing: str | None = None) -> Document | None:
    """Read and parse one site file, recording what is wrong with it.

    None when the file cannot be used: it is broken (recorded), or it is absent, which is
    recorded as `missing` ("expected ...; found no file") unless the file is optional.
    """
    try:
        return parse_document(path, (site_dir / path).read_bytes())
    except FileNotFoundError:
        if missing is not None:
            problems.add(path, 1, f"{missing}; found no file")
        return None
    except ContentError as error:
        problems.errors.append(error)
        return None
