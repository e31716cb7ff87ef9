"""Markdown as plain text, for the text part of an email: `markdown_to_text`.

`compose` gives the templates each update's body twice: as HTML (`markup.render_markdown`)
and as the text this module writes from that same HTML, so both parts say the same.
Chat messages (`webhooks/`) read the same HTML with a `TextStyle` of their own: every
piece of text escaped for the target's markup, links in its link syntax, lines unwrapped.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

from statusgen.markup import render_markdown

WRAP = 76
BREAK = "\ue010"
"""A `<br>` while converting Markdown to text (newlines in HTML are only spaces)."""


def _plain_link(label: str, href: str, is_address: bool) -> str:
    """`text <url>`, or the bare text when it already is the address."""
    return label if is_address else f"{label} <{href}>"


@dataclass(frozen=True)
class TextStyle:
    """How the text is written for one reader: `escape` for every piece of text from the
    source, `link(label as escaped, href, label is the address itself)` for each link."""

    escape: Callable[[str], str] = str
    link: Callable[[str, str, bool], str] = _plain_link


PLAIN = TextStyle()


def markdown_to_text(text: str, width: int | None = WRAP, style: TextStyle = PLAIN) -> str:
    """Markdown → clean plain text for the text part: no `**`, `#` or `[x](url)` left.

    It reads the HTML `render_markdown` makes (so both parts say the same, sanitised),
    keeps paragraphs, lists (`- `, `1. `), links as `text <url>`, and wraps lines at
    `width` (None: one line per paragraph). A `style` other than PLAIN escapes the text
    and writes the links for another markup (a chat target's)."""
    writer = _TextWriter(style)
    writer.feed(str(render_markdown(text)))
    writer.close()
    return writer.text(width)


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

    def lines(self, width: int | None) -> list[str]:
        if self.verbatim:
            return [(self.first + line).rstrip() for line in self.text.split("\n")]
        lines, prefix = [], self.first
        for part in self.text.split(BREAK):  # a <br> stays a line break
            words = " ".join(part.split())
            if width is None:
                lines.append((prefix + words).rstrip())
            else:
                lines += textwrap.wrap(words, width, initial_indent=prefix, subsequent_indent=self.rest,
                                       break_long_words=False, break_on_hyphens=False) or [prefix.rstrip()]
            prefix = self.rest
        return lines


class _TextWriter(HTMLParser):
    """Sanitised Markdown HTML → text, block by block."""

    BLOCKS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "pre", "table", "blockquote", "ul", "ol", "li", "hr"})

    def __init__(self, style: TextStyle = PLAIN) -> None:
        super().__init__(convert_charrefs=True)
        self.style = style
        self.blocks: list[_Block] = []
        self.inline: list[str] = []
        self.labels: list[list[str]] = []
        """Per open link: its text as the source has it (to tell whether it is the address)."""
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
            self.labels.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            self._end_link(*self.links.pop(), "".join(self.labels.pop()).strip())
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
        for label in self.labels:
            label.append(data)
        self.inline.append(self.style.escape(data))

    @staticmethod
    def _next_marker(numbering: list[int | None]) -> str:
        number = numbering[0]
        if number is None:
            return "- "
        numbering[0] = number + 1
        return f"{number}. "

    def _end_link(self, href: str, start: int, source_label: str) -> None:
        """The link as the style writes it, in place of its text (a link without an
        address, such as one nh3 took a `javascript:` address from, is only its text)."""
        if not href:
            return
        label = "".join(self.inline[start:]).strip()
        is_address = href.removeprefix("mailto:") == source_label
        self.inline[start:] = [self.style.link(label, href, is_address)]

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

    def text(self, width: int | None = WRAP) -> str:
        self._flush()
        out: list[str] = []
        previous: _Block | None = None
        for block in self.blocks:
            if previous and not (block.item and previous.item and not block.apart):
                out.append("")
            out += block.lines(width)
            previous = block
        return "\n".join(out)
