"""An issue's Markdown body as its updates, each with the time written beside it.

    body ──HTML comments out──▶ text ──times found──▶ Entry(time, label, text, line) per update
                                                  └─▶ the text outside any timed update

cState's example writes an update as a paragraph that ends with its time, newest first
(`*Resolved* - We believe ... {{< track "2018-05-25 05:54:00" >}}`). People also start an
update with its time (`*Update* {{< track "..." >}}` and the text below), or with a line
that is only a time (`**2026-11-30 10:00**`). The first time in a body tells which way it
is written: text before it on its line, or a line of text right above it, means times end
updates; else they start them. A label at the start of an update (`*Monitoring* -`,
`**Update:**`) is taken off and kept; an unknown one (`*Just began* -`) stays in the text.
Text outside every timed update (an introduction, or a body without times) is returned
apart: the issue puts it at its date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRACK = re.compile(r"""\{\{[<%]\s*track\s+(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|`(?P<bq>[^`]*)`)\s*/?\s*[>%]\}\}""")
TIME_LINE = re.compile(r"^[ \t]*(?P<mark>\*\*|__|\*|_|)[ \t]*(?P<time>\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?"
                       r"(?:\.\d+)?(?:[ \t]*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?)[ \t]*(?P=mark)[ \t]*:?[ \t]*$",
                       re.MULTILINE)
LABEL = re.compile(r"\A\s*(?P<mark>\*\*|__|\*|_)(?P<word>[A-Za-z][A-Za-z -]{0,30}?)[ \t]*:?[ \t]*(?P=mark)"
                   r"(?P<gap>\s*)(?P<dash>[-–—:](?=\s))?\s*")
LABELS = ("investigating", "identified", "monitoring", "resolved", "update", "updated", "scheduled",
          "in progress", "in-progress", "started", "just began", "began", "verifying", "completed",
          "complete", "cancelled", "canceled")
"""Labels people put before an update's text; what each means is the issue's to say."""
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
SHORTCODE = re.compile(r"\{\{[<%].*?[>%]\}\}", re.DOTALL)
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
LIST_ITEM = re.compile(r"^[ \t]*[-*+][ \t]", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    time: str | None
    """The time as written; None for text outside every timed update."""
    label: str | None
    """A known label, lower case with single spaces (`monitoring`, `just began`)."""
    text: str
    line: int
    """The line of its time in the file (of its first text, for text without a time)."""


@dataclass(frozen=True)
class Body:
    entries: tuple[Entry, ...]
    """The timed updates, in the order written."""
    untimed: Entry | None
    """The text outside every timed update, if any."""
    comments: bool
    """HTML comments (other than Hugo's `<!--more-->`) were left out: cState does not show them."""
    shortcodes: tuple[str, ...]
    """Shortcodes other than track, left in the text as they are."""


def read_body(body: str, first_line: int) -> Body:
    text, comments = _without_comments(body)
    tracks = [(m.start(), m.end(), next(v for v in m.group("dq", "sq", "bq") if v is not None))
              for m in TRACK.finditer(text)]
    lines = [(m.start(), m.end(), m.group("time")) for m in TIME_LINE.finditer(text)] if not tracks else []
    if tracks and _times_end_updates(text, tracks[0][0]):
        entries, untimed = _ending(text, tracks, first_line)
    else:
        entries, untimed = _starting(text, tracks or lines, first_line)
    found = [m.group(0) for e in (*entries, *([untimed] if untimed else [])) for m in SHORTCODE.finditer(e.text)]
    return Body(tuple(entries), untimed, comments, tuple(dict.fromkeys(found)))


def label_of(text: str) -> tuple[str | None, str]:
    """(the known label at the start, the text without it), or (None, the text)."""
    found = LABEL.match(text)
    if found is None or " ".join(found.group("word").lower().split()) not in LABELS:
        return None, text.strip()
    rest = text[found.end():]
    if found.group("dash") and "\n" in found.group("gap") and LIST_ITEM.search(rest):
        rest = text[found.end("gap"):]  # `*Update*` above a list: its first `- ` is an item, not a dash
    return " ".join(found.group("word").lower().split()), rest.strip()


def _without_comments(body: str) -> tuple[str, bool]:
    """The body with HTML comments blanked out, its line breaks kept so lines still count."""
    hidden = [m.group(0) for m in COMMENT.finditer(body)]
    text = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), body)
    return text, any(comment.strip("<!-> \n\t").lower() != "more" for comment in hidden)


def _times_end_updates(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    if label_of(before)[1]:
        return True
    above = text[:line_start].rstrip("\n").rsplit("\n", 1)[-1] if line_start else ""
    return not before.strip() and bool(above.strip())


def _ending(text: str, marks: list[tuple[int, int, str]], first_line: int) -> tuple[list[Entry], Entry | None]:
    """Each update runs from the previous time to its own; an introduction before the first
    labelled paragraph of the first update is apart, as is any text after the last time."""
    entries: list[Entry] = []
    head = ""
    for index, (start, _, time) in enumerate(marks):
        begin = marks[index - 1][1] if index else 0
        span = text[begin:start]
        if index == 0:
            head, span = _introduction(span)
        label, rest = label_of(span)
        entries.append(Entry(time, label, rest, _line(text, start, first_line)))
    tail = text[marks[-1][1]:]
    return entries, _untimed([(0, head), (marks[-1][1], tail)], text, first_line)


def _introduction(span: str) -> tuple[str, str]:
    """(introduction, update) of the text before the first time."""
    if label_of(span)[0] is not None:
        return "", span
    for found in PARAGRAPH_BREAK.finditer(span):
        if label_of(span[found.end():])[0] is not None:
            return span[:found.start()], span[found.end():]
    return "", span


def _starting(text: str, marks: list[tuple[int, int, str]], first_line: int) -> tuple[list[Entry], Entry | None]:
    """Each update runs from its time's line to the next one's; text above the first is apart."""
    starts = [text.rfind("\n", 0, start) + 1 for start, _, _ in marks]
    entries: list[Entry] = []
    for index, (start, end, time) in enumerate(marks):
        stop = starts[index + 1] if index + 1 < len(marks) else len(text)
        label, rest = label_of(text[starts[index]:start] + " " + text[end:stop])
        entries.append(Entry(time, label, rest, _line(text, start, first_line)))
    head = text[:starts[0]] if marks else text
    return entries, _untimed([(0, head)], text, first_line)


def _untimed(parts: list[tuple[int, str]], text: str, first_line: int) -> Entry | None:
    """The text outside every timed update as one entry; its label is taken off only when
    it is the one labelled paragraph (a body of several labelled posts without times keeps them)."""
    kept = [(offset, part) for offset, part in parts if part.strip()]
    if not kept:
        return None
    joined = "\n\n".join(part.strip() for _, part in kept)
    offset, part = kept[0]
    line = _line(text, offset + len(part) - len(part.lstrip()), first_line)
    labelled = sum(label_of(p)[0] is not None for p in PARAGRAPH_BREAK.split(joined))
    label, rest = label_of(joined) if labelled == 1 else (None, joined)
    return Entry(None, label, rest, line)


def _line(text: str, offset: int, first_line: int) -> int:
    return first_line + text.count("\n", 0, offset)
