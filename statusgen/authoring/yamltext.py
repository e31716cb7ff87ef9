"""YAML written as text, the way people write it: the values and fields `new` puts in a file.

    a string ──yaml_value──▶ plain, quoted or a literal block, whichever reads back the same
    {lang: text} ──text_field──▶ `key: text`, or `key:` with one line per language
    NewUpdate ──lines──▶ one item of an `updates:` list (incident.py and update.py both write one)

Values go through `yaml.safe_dump`, so a title such as `Sign-in: no` stays a string.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

TRANSLATE = "# translate: every language shows this text until you do"


def yaml_value(value: str, indent: int) -> list[str]:
    """A string as YAML after `key: `: plain or quoted on one line, or a literal block
    (its lines indented by `indent`) for text of several lines; always reads back the same."""
    candidates = [_literal(value, indent)] if "\n" in value else []
    candidates.append([dumped(value)])
    # Double quotes escape everything, line breaks YAML 1.1 knows (U+0085, U+2028) included.
    return next((lines for lines in candidates if _reads_back(lines, value) and not _ends_front_matter(lines)),
                [dumped(value, style='"')])


def _ends_front_matter(lines: list[str]) -> bool:
    """Whether a line of the value would read as the `---` that ends a file's front matter
    (the reader looks for it before YAML does, indented or not)."""
    return any(part.strip() == "---" for line in lines for part in line.splitlines())


def dumped(value: str, style: str | None = None) -> str:
    """One value as `yaml.safe_dump` writes it on one line (no document end marker)."""
    text = yaml.safe_dump(value, allow_unicode=True, width=1 << 30, default_style=style)
    return text.removesuffix("\n...\n").rstrip("\n")


def _literal(value: str, indent: int) -> list[str]:
    chomp = "" if value.endswith("\n") else "-"
    pad = " " * indent
    return [f"|{chomp}", *(pad + line if line else "" for line in value.removesuffix("\n").split("\n"))]


def _reads_back(block: list[str], value: str) -> bool:
    try:
        return yaml.safe_load("key: " + "\n".join(block) + "\n") == {"key": value}
    except yaml.YAMLError:
        return False


def text_field(key: str, texts: dict[str, str], indent: int, comment: str | None = None) -> list[str]:
    """`key: text` for a one-language site, else `key:` with one line per language."""
    pad = " " * indent
    note = f"  {comment}" if comment else ""
    if len(texts) == 1:
        first, *rest = yaml_value(next(iter(texts.values())), indent + 2)
        return [f"{pad}{key}: {first}{note}", *rest]
    lines = [f"{pad}{key}:{note}"]
    for lang, text in texts.items():
        first, *rest = yaml_value(text, indent + 4)
        lines += [f"{pad}  {lang}: {first}", *rest]
    return lines


def needs_translation(texts: dict[str, str]) -> str | None:
    """The translate comment, where several languages got the same text."""
    return TRANSLATE if len(set(texts.values())) < len(texts) else None


@dataclass(frozen=True)
class NewUpdate:
    """An update as it will be written."""

    at: str
    status: str
    body: dict[str, str]
    components: dict[str, str] = field(default_factory=dict)
    notify: bool = True
    comment: str | None = None

    def lines(self, dash: int, content: int) -> list[str]:
        """The list item, its `-` in column `dash` and its keys in column `content`."""
        pad = " " * content
        lines = [f"{' ' * dash}-{' ' * (content - dash - 1)}at: {self.at}", f"{pad}status: {self.status}"]
        if self.components:
            changes = ", ".join(f"{cid}: {status}" for cid, status in self.components.items())
            lines.append(f"{pad}components: {{{changes}}}")
        if not self.notify:
            lines.append(f"{pad}notify: false")
        return lines + text_field("body", self.body, content, self.comment)
