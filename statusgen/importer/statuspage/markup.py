"""Statuspage's markup in update bodies → Markdown that renders the same.

    body (text with a few HTML tags, bare URLs, line breaks)
        ──html.parser──▶ blocks (paragraphs, list items) of inline Markdown
        ──join──▶ Markdown, plus a note for everything that did not carry over

Statuspage shows an update's text as typed, line breaks kept, and allows a few tags:
`a`, `strong`/`b`, `em`/`i`, `br`, `p`, `ul`/`ol`/`li`, `code`; it links bare URLs.
Here each becomes its Markdown form (`[text](url)`, `**b**`, `*i*`, a hard line break
written as two trailing spaces, paragraphs, `- ` and `1. ` lists, backticks, `<url>`).
Plain text is escaped only where Markdown would read it differently: `*` and `_` that
could start emphasis, backticks, a `]` that could close a link, `<` before a tag, an
`&` that spells an entity, and what starts a line (`#`, `>`, `- `, `1. `, `===`).
Other tags (`span`, `div`, `h1`, `img`, ...) keep their text and are noted; the content
of `script` and `style` is dropped and noted; a link that is not http(s) or mailto keeps
its text only, noted.

A post-mortem (`postmortem_body`) is Markdown already: `markdown=True` converts its tags
and leaves its text as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

BREAK = "\ue000"
"""A line break inside a block, until the blocks are joined."""
INLINE = {"a", "strong", "b", "em", "i", "code"}
BLOCKS = {"p", "ul", "ol", "li", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr"}
"""Tags after which text starts on a new block (the ones not in Statuspage's set are noted)."""
DROPPED = {"script", "style"}
ALLOWED = INLINE | {"br", "p", "ul", "ol", "li"}
URL = re.compile(r"""(?:https?://|mailto:)[^\s<>"']+""", re.I)
LINK_SCHEMES = re.compile(r"(?:https?://|mailto:)", re.I)
ENTITY = re.compile(r"&(?=#\d+;|#x[0-9a-f]+;|[a-z][a-z0-9]*;)", re.I)
TAG_START = re.compile(r"<(?=[a-z/!?])", re.I)
LINE_START = re.compile(r"^(#|>|[-+*](?=\s|$)|\d+\.(?=\s|$))")
RULE = re.compile(r"^(?:[-=]+|(?:[-*_]\s*){3,})$")
TABLE_RULE = re.compile(r"^[\s|:-]*\|[\s|:-]*$")


@dataclass(frozen=True)
class Converted:
    markdown: str
    notes: tuple[str, ...] = ()
    """What did not carry over one to one (`tag <span> dropped, its text kept`)."""


def to_markdown(body: str | None, markdown: bool = False) -> Converted:
    """Statuspage's body as Markdown; `markdown=True` for text that is Markdown already."""
    if not body or not body.strip():
        return Converted("")
    parser = _Converter(markdown)
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if "<" in text or "&" in text:
        parser.feed(text)
        parser.close()
    else:  # no tag, no entity: the parser would only hand the text over
        parser.handle_data(text)
    return Converted(parser.result(), tuple(dict.fromkeys(parser.notes)))


@dataclass
class _Block:
    indent: str = ""
    """Written before every line of the block (list items: their nesting)."""
    marker: str = ""
    """Written before its first line (`- `, `1. `)."""
    parts: list[str] = field(default_factory=list)


class _Converter(HTMLParser):
    def __init__(self, markdown: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.markdown = markdown
        self.blocks: list[_Block] = [_Block()]
        self.inline: list[tuple[str, dict[str, str | None], list[str]]] = []
        """Open inline elements: tag, attributes, the Markdown of their content so far."""
        self.lists: list[list[int | str]] = []
        """Open lists: [kind, next number]."""
        self.dropping = 0
        self.notes: list[str] = []

    # ── tags ────────────────────────────────────────────────────────────────────────────

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED:
            self.dropping += 1
            self.notes.append(f"<{tag}> and its content dropped")
            return
        if tag not in ALLOWED:
            self.notes.append(f"tag <{tag}> dropped, its text kept")
        if tag == "br":
            self._text(BREAK)
        elif tag in INLINE:
            self.inline.append((tag, dict(attrs), []))
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 1])
            self._new_block()
        elif tag == "li":
            self._list_item()
        elif tag in BLOCKS:
            self._new_block()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._text(BREAK)
        elif tag not in DROPPED:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED:
            self.dropping = max(0, self.dropping - 1)
        elif tag in INLINE:
            self._close_inline(tag)
        elif tag in ("ul", "ol"):
            if self.lists and self.lists[-1][0] == tag:
                self.lists.pop()
            self._new_block()
        elif tag in BLOCKS:
            self._new_block()

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        if self.inline and self.inline[-1][0] == "code":
            self.inline[-1][2].append(data)
        elif self.markdown:
            self._text(data)
        else:
            self._text(self._plain(data, linked=any(tag == "a" for tag, _, _ in self.inline)))

    # ── inline ──────────────────────────────────────────────────────────────────────────

    def _text(self, markdown: str) -> None:
        (self.inline[-1][2] if self.inline else self.blocks[-1].parts).append(markdown)

    def _plain(self, data: str, linked: bool) -> str:
        """Text as Markdown: whitespace as HTML collapses it (line breaks kept, as
        Statuspage shows them), escaped, bare URLs as autolinks."""
        lines = (re.sub(r"[ \t\f\v]+", " ", line) for line in data.split("\n"))
        return BREAK.join(_linked(line, linked) for line in lines)

    def _close_inline(self, tag: str) -> None:
        """Close `tag` (and any inline element left open inside it)."""
        if not any(open_tag == tag or {open_tag, tag} <= {"b", "strong"} or {open_tag, tag} <= {"i", "em"}
                   for open_tag, _, _ in self.inline):
            return
        while self.inline:
            open_tag, attrs, parts = self.inline.pop()
            self._text(self._wrapped(open_tag, attrs, "".join(parts)))
            if open_tag == tag or {open_tag, tag} <= {"b", "strong"} or {open_tag, tag} <= {"i", "em"}:
                return

    def _wrapped(self, tag: str, attrs: dict[str, str | None], content: str) -> str:
        if tag == "code":
            return _code(content)
        if tag == "a":
            return self._link(attrs.get("href") or "", content)
        mark = "**" if tag in ("strong", "b") else "*"
        core = content.strip(" " + BREAK)
        if not core:
            return content
        lead, trail = content[:len(content) - len(content.lstrip(" " + BREAK))], \
            content[len(content.rstrip(" " + BREAK)):]
        return f"{lead}{mark}{core}{mark}{trail}"

    def _link(self, href: str, text: str) -> str:
        href = href.strip()
        if not LINK_SCHEMES.match(href):
            self.notes.append(f"link to {href!r} dropped (only http, https and mailto links are kept), its text kept")
            return text
        target = re.sub(r"[\s()<>]", lambda m: f"%{ord(m.group()):02X}", href)
        shown = text.strip(" " + BREAK)
        if not shown or shown in (_escaped(href), _escaped(href.removeprefix("mailto:"))):
            return f"<{target}>"
        label = shown.replace("[", "\\[").replace("]", "\\]")
        return f"[{label}]({target})"

    # ── blocks ──────────────────────────────────────────────────────────────────────────

    def _flush_inline(self) -> None:
        while self.inline:
            self._close_inline(self.inline[-1][0])

    def _new_block(self) -> None:
        self._flush_inline()
        if self.blocks[-1].parts:
            self.blocks.append(_Block(indent=self._indent()))
        else:
            self.blocks[-1].indent = self._indent()

    def _indent(self) -> str:
        return "    " * len(self.lists)

    def _list_item(self) -> None:
        self._flush_inline()
        if not self.lists:
            self.lists.append(["ul", 1])
        kind, number = self.lists[-1]
        self.lists[-1][1] = int(number) + 1
        block = _Block(indent="    " * len(self.lists), marker="- " if kind == "ul" else f"{number}. ")
        if self.blocks[-1].parts or self.blocks[-1].marker:
            self.blocks.append(block)
        else:
            self.blocks[-1] = block

    # ── the result ──────────────────────────────────────────────────────────────────────

    def result(self) -> str:
        self._flush_inline()
        written: list[str] = []
        previous: _Block | None = None
        for block in self.blocks:
            text = self._block_text(block)
            if not text:
                continue
            if previous is not None:
                written.append("\n" if block.marker and previous.marker else "\n\n")
            written.append(text)
            previous = block
        return "".join(written).strip("\n")

    def _block_text(self, block: _Block) -> str:
        """The block's Markdown: its paragraphs, lines joined by hard breaks, indented."""
        text = "".join(block.parts)
        if self.markdown:
            lines = text.replace(BREAK, "  \n").strip("\n").split("\n")
        else:
            lines = []
            for paragraph in re.split(f"(?:[ ]*{BREAK}[ ]*){{2,}}", text.strip(" " + BREAK)):
                shown = [_line_start(re.sub(" {2,}", " ", line.strip(" ")))
                         for line in paragraph.split(BREAK) if line.strip(" ")]
                if shown:
                    lines += [*([""] if lines else []), *(line + "  " for line in shown[:-1]), shown[-1]]
        if not any(line.strip() for line in lines):
            return ""
        outer = block.indent[4:] if block.marker else block.indent
        first = f"{outer}{block.marker}{lines[0]}"
        rest = [f"{block.indent}{line}" if line else "" for line in lines[1:]]
        return "\n".join([first, *rest])


# ── plain text ──────────────────────────────────────────────────────────────────────────


def _linked(line: str, linked: bool) -> str:
    """One line of text, escaped, its bare URLs as `<url>` (inside a link: as text)."""
    found, at = [], 0
    for match in URL.finditer(line):
        url = _trimmed_url(match.group())
        found.append(_escaped(line[at:match.start()]))
        found.append(_escaped(url) if linked else f"<{url}>")
        at = match.start() + len(url)
    found.append(_escaped(line[at:]))
    return "".join(found)


def _trimmed_url(url: str) -> str:
    """A URL without the punctuation that ends the sentence around it."""
    while url and (url[-1] in ".,;:!?" or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _escaped(text: str) -> str:
    """Plain text that Markdown shows as it is, escaped only where it would not."""
    text = re.sub(r"\\(?=[\\`*_{}\[\]()>#+\-.!|])", r"\\\\", text)
    text = text.replace("`", "\\`")
    text = re.sub(r"(?<!\s)\*|\*(?!\s)", r"\\*", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    text = re.sub(r"\](?=[(\[:])", r"\\]", text)
    text = ENTITY.sub("&amp;", text)
    return TAG_START.sub("&lt;", text)


def _line_start(line: str) -> str:
    """Escape what would make a line a heading, quote, list item, rule or table rule."""
    if RULE.match(line):
        return "&#61;" + line[1:] if line[0] == "=" else "\\" + line
    if TABLE_RULE.match(line) and "-" in line:
        line = line.replace("|", "\\|")
    if line.startswith("~~~"):
        return "&#126;" + line[1:]
    match = LINE_START.match(line)
    if match is None:
        return line
    if match.group()[0].isdigit():
        return line[:match.end() - 1] + "\\" + line[match.end() - 1:]
    return "\\" + line


def _code(content: str) -> str:
    content = content.replace("\n", " ")
    fence = "``" if "`" in content else "`"
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}" if content else ""
