"""Markdown as plain text, for the text part of an email: `markdown_to_text`.

`compose` gives the templates each update's body twice: as HTML (`markup.render_markdown`)
and as the text this module writes from that same HTML, so both parts say the same.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from html.parser import HTMLParser

from statusgen.markup import render_markdown

WRAP = 76
BREAK = "\ue010"
"""A `<br>` while converting Markdown to text (newlines in HTML are only spaces)."""


def markdown_to_text(text: str) -> str:
    """Markdown → clean plain text for the text part: no `**`, `#` or `[x](url)` left.

    It reads the HTML `render_markdown` makes (so both parts say the same, sanitised),
    keeps paragraphs, lists (`- `, `1. `), links as `text <url>`, and wraps lines."""
    writer = _TextWriter()
    writer.feed(str(render_markdown(text)))
    writer.close()
    return writer.text()


@dataclass(frozen=True)
class _Block:
    text: str
    first: str
    """Prefix of the first line (indent, list marker)."""
    rest: str
    verbatim: bool = False
    item: bool = False
    """List items and table rows follow each other without a blank line..."""
    apart: bool = False
    """...unless this one starts a new list or table."""

    def lines(self) -> list[str]:
        if self.verbatim:
            return [(self.first + line).rstrip() for line in self.text.split("\n")]
        lines, prefix = [], self.first
        for part in self.text.split(BREAK):  # a <br> stays a line break
            lines += textwrap.wrap(" ".join(part.split()), WRAP, initial_indent=prefix, subsequent_indent=self.rest,
                                   break_long_words=False, break_on_hyphens=False) or [prefix.rstrip()]
            prefix = self.rest
        return lines


class _TextWriter(HTMLParser):
    """Sanitised Markdown HTML → text, block by block."""

    BLOCKS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "pre", "table", "blockquote", "ul", "ol", "li", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.inline: list[str] = []
        self.lists: list[list[int | None]] = []
        """Per open list: the next number, or None for bullets."""
        self.marker = ""
        self.quote = 0
        self.links: list[tuple[str, int]] = []
        self.cells: list[str] = []
        self.apart = False
        """The next block starts after a blank line, even a list item."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self._flush()
        if tag in ("ul", "ol", "table"):
            self.apart = self.apart or not self.lists  # a new list is set off, a nested one is not
        if tag in ("ul", "ol"):
            self.lists.append([1 if tag == "ol" else None])
        elif tag == "li" and self.lists:
            self.marker = self._next_marker(self.lists[-1])
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "br":
            self.inline.append(BREAK)
        elif tag == "hr":
            self.blocks.append(_Block("\u2015" * 20, self._indent(), "", verbatim=True))
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.inline)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            self._end_link(*self.links.pop())
        elif tag in ("td", "th"):
            self.cells.append(" ".join("".join(self.inline).split()))
            self.inline = []
        elif tag == "tr":
            self.blocks.append(_Block(" | ".join(self.cells), self._indent(), "", verbatim=True, item=True,
                                      apart=self.apart))
            self.cells, self.apart = [], False
        elif tag == "pre":
            text, self.inline = "".join(self.inline).strip("\n"), []
            self.blocks.append(_Block(text, self._indent() + "    ", "", verbatim=True))
        elif tag in self.BLOCKS:
            self._flush()
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self.quote -= tag == "blockquote"

    def handle_data(self, data: str) -> None:
        self.inline.append(data)

    @staticmethod
    def _next_marker(numbering: list[int | None]) -> str:
        number = numbering[0]
        if number is None:
            return "- "
        numbering[0] = number + 1
        return f"{number}. "

    def _end_link(self, href: str, start: int) -> None:
        """`text <url>`, or the bare text when it already is the address."""
        label = "".join(self.inline[start:]).strip()
        if href and href.removeprefix("mailto:") != label:
            self.inline.append(f" <{href}>")

    def _indent(self) -> str:
        return "    " * self.quote + "   " * max(0, len(self.lists) - 1)

    def _flush(self) -> None:
        text, self.inline = "".join(self.inline), []
        if not text.strip():
            return
        marker, self.marker = self.marker, ""
        indent = self._indent()
        self.blocks.append(_Block(text, indent + marker, indent + " " * len(marker), item=bool(marker),
                                  apart=self.apart))
        self.apart = False

    def text(self) -> str:
        self._flush()
        out: list[str] = []
        previous: _Block | None = None
        for block in self.blocks:
            if previous and not (block.item and previous.item and not block.apart):
                out.append("")
            out += block.lines()
            previous = block
        return "\n".join(out)
