"""What a chat message says, whatever the target, and the text tools every target shares.

    event + context + language ──compose.email_context (the email's own words)──▶ ChatMessage
    ChatMessage ──slack | teams | googlechat | discord | mattermost──▶ that target's JSON

The words are the email's: `email_context` in the subscriber's language gives the
headline, the status and priority in words, the time with its zone, the window, the
components with their status. The update's text stays Markdown here; each target writes
it with `plaintext.markdown_to_text` and a `TextStyle` of its own (its escaping, its link
syntax), so user text never becomes the target's markup.

Size limits: `fit` shortens the update's Markdown until the target says the whole message
fits, then adds an ellipsis. It cuts the source, before anything is escaped or written,
only between whole characters (grapheme clusters: an emoji with its modifiers, a letter
with its accents), so no escape sequence, emoji or multi-byte character is cut in half.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from statusgen.notifier.compose import email_context, email_language, shown_update
from statusgen.notifier.events import Event
from statusgen.site.theme import Theme, Translator

ELLIPSIS = "\u2026"
WORD_JOINER = "\u2060"
"""Invisible; put after an `@` it keeps `@everyone` from being a mention anywhere."""

NAME = 200
"""A component's name is cut at this length (a name is a few words; this keeps any list short)."""
MARKS = {"critical": "\U0001F534", "major": "\U0001F7E0", "minor": "\U0001F7E1", "none": "\u26AA",
         "maintenance": "\U0001F535", "resolved": "\u2705"}
"""A coloured dot before the headline, by `ChatMessage.severity`."""


@dataclass(frozen=True)
class ComponentLine:
    name: str
    status: str
    """The status in words as of the shown update, with `was` when this update changed it."""


@dataclass(frozen=True)
class ChatMessage:
    """One event in one language, in words; the targets only lay it out and escape it."""

    kind: str
    severity: str
    """critical | major | minor | none (an incident's impact), maintenance, resolved."""
    site: str
    headline: str
    """What happened: `New incident`, `Reminder: maintenance starts in 24 hours`."""
    title: str
    facts: tuple[tuple[str, str], ...]
    """(label, value) in order: status, priority, posted (the time with its zone), window."""
    body: str
    """The shown update's text, Markdown as ops wrote it (empty for a reminder without one)."""
    components_label: str
    components: tuple[ComponentLine, ...]
    url: str
    details: str
    """The link's text: `More information on the status page`."""
    thread: str
    """The incident's public id: one thread per incident where the target has threads."""
    timestamp: str | None
    """When the shown update was posted, ISO 8601 (Discord shows it in the reader's zone)."""
    colon: str = "{label}:"
    """The language's way to put a colon after a label (`{label} :` in French)."""

    @property
    def mark(self) -> str:
        return MARKS[self.severity]

    def labelled(self, label: str) -> str:
        return self.colon.replace("{label}", label)


def chat_message(event: Event, context: dict[str, Any], lang: str, theme: Theme, incident_url: str) -> ChatMessage:
    lang = email_language(context, lang)
    t = Translator(lang, theme.messages(lang), ZoneInfo(context["site"]["timezone"]))
    words = email_context(event, context, lang, t)
    record = context["incidents"][event.incident]
    update = shown_update(record, event)
    label = t("current_status")
    facts = [(label, words["status"])]
    if words["priority"] and not words["is_maintenance"]:
        facts.append((t("email.priority"), f"{words['priority']} ({t('impact.' + words['impact'])})"))
    if words["posted"]:
        facts.append((t("posted"), words["posted"]))
    if words["window"]:
        facts.append((t("email.window"), words["window"]))
    if words["previous_window"]:
        facts.append((t("email.previous_window"), words["previous_window"]))
    return ChatMessage(
        kind=event.kind, severity=_severity(record, update), site=words["site_title"],
        headline=words["headline"], title=words["title"], facts=tuple(facts),
        body=(update["body"].get(lang) or "") if update else "",
        components_label=t("affected_components"),
        components=tuple(ComponentLine(cap(c["name"], NAME), c["status"] if not c["was"] else
                                       f"{c['status']} ({t('email.was', status=c['was'])})")
                         for c in words["components"]),
        url=incident_url or words["url"], details=t("email.details"), thread=record["public_id"],
        timestamp=update["at"] if update else None, colon=t("colon", label="{label}"))


def _severity(record: dict[str, Any], update: dict[str, Any] | None) -> str:
    status = update["status"] if update else record["status"]
    if status in ("resolved", "completed"):
        return "resolved"
    if record["kind"] == "maintenance":
        return "none" if status == "cancelled" else "maintenance"
    return record["impact"] if record["impact"] in MARKS else "none"


# --- Escaping helpers -------------------------------------------------------------------

URL = re.compile(r"https?://[^\s<>\[\]\"'`]+")
MENTION = re.compile(r"(?<![\w@])@(?=\w)")


def outside_urls(text: str, change: Callable[[str], str]) -> str:
    """`change` applied to the text between bare web addresses, the addresses kept as they
    are (an escaped `_` or an invisible joiner would break a link)."""
    parts, last = [], 0
    for found in URL.finditer(text):
        parts += [change(text[last:found.start()]), found.group()]
        last = found.end()
    return "".join([*parts, change(text[last:])])


def defuse_mentions(text: str) -> str:
    """`@everyone` → `@⁠everyone` (a word joiner after the `@`): no target reads it as a
    mention, readers see the same text. Addresses (`a@b.example`) and URLs are left alone."""
    return outside_urls(text, lambda part: MENTION.sub("@" + WORD_JOINER, part))


def defuse_plain(text: str) -> str:
    """For fields a target shows as they are (Slack's plain_text, a card's header): mentions
    defused, and a word joiner after each `<`, so no `<!channel>` or `<users/all>` can ever
    be read as one, should the target parse more than it says."""
    return defuse_mentions(text).replace("<", "<" + WORD_JOINER)


MARKDOWN_INLINE = re.compile(r"([\\`*_~|<>\[\]&])")
MARKDOWN_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """Backslashes before what Markdown (CommonMark, Discord) would read as markup: inline
    marks anywhere, block marks (`#`, `-`, `1.`, `>`) at the start of a line. Mentions
    defused, bare addresses kept."""
    def escape(part: str) -> str:
        part = MARKDOWN_INLINE.sub(r"\\\1", part)
        part = MARKDOWN_LINE_START.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit()
                                                                   else "\\" + m.group(2)), part)
        return MENTION.sub("@" + WORD_JOINER, part)
    return outside_urls(text, escape)


# --- Size ---------------------------------------------------------------------------------


def units(text: str) -> int:
    """Length in UTF-16 code units: what JavaScript counts, never less than the characters
    a target may count, so a limit holds whichever way it is counted."""
    return len(text.encode("utf-16-le")) // 2


def size(document: Any) -> int:
    """Bytes of a JSON body as `encode` writes it."""
    return len(encode(document))


def encode(document: Any) -> bytes:
    """The exact bytes sent and signed: compact UTF-8 JSON, keys in the order built."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def cap(text: str, limit: int, escape: Callable[[str], str] = str) -> str:
    """`escape(text)`, the text shortened first (with an ellipsis) until that is at most
    `limit` UTF-16 units."""
    return fit(text, escape, lambda written: units(written) <= limit)


def take_lines(lines: list[str], limit: int) -> str:
    """As many whole lines as stay within `limit` UTF-16 units, then `…` if any are left."""
    taken: list[str] = []
    for index, line in enumerate(lines):
        rest = [ELLIPSIS] if index + 1 < len(lines) else []
        if units("\n".join([*taken, line, *rest])) > limit:
            return "\n".join([*taken, ELLIPSIS])
        taken.append(line)
    return "\n".join(taken)


def fit(source: str, write: Callable[[str], str], fits: Callable[[str], bool]) -> str:
    """`write(source)` if `fits` accepts it; else what `write` makes of the longest start of
    `source` that `fits` accepts with an ellipsis after it. The source is cut between
    grapheme clusters (at a space if one is near the end) and written before the ellipsis
    is added, so no escape sequence is cut and no markup can swallow the ellipsis.
    `fits` must accept a lone ellipsis."""
    whole = write(source)
    if fits(whole):
        return whole
    breaks = grapheme_breaks(source)

    def shortened(end: int) -> str:
        return write(source[:end].rstrip()).rstrip() + ELLIPSIS

    low, high = 0, len(breaks) - 1  # breaks[low] fits (0: the ellipsis alone); beyond `high` nothing does
    while low < high:
        middle = (low + high + 1) // 2
        if fits(shortened(breaks[middle])):
            low = middle
        else:
            high = middle - 1
    end = breaks[low]
    space = source.rfind(" ", 0, end)
    if space > end * 0.85 and fits(shortened(space)):
        end = space
    return shortened(end)


ZWJ = "\u200d"


def grapheme_breaks(text: str) -> list[int]:
    """Every index where `text` may be cut without splitting a user-perceived character:
    not before a combining mark, a variation selector, an emoji modifier or tag, not
    around a zero-width joiner, not inside a flag (a pair of regional indicators) or CRLF."""
    breaks, regional = [0], 0
    for index in range(1, len(text)):
        before, here = text[index - 1], text[index]
        regional = regional + 1 if _is_regional(before) else 0
        if _extends(here) or before == ZWJ or (before, here) == ("\r", "\n") or \
                (_is_regional(here) and regional % 2 == 1):
            continue
        breaks.append(index)
    breaks.append(len(text))
    return breaks if len(text) else [0]


def _extends(char: str) -> bool:
    code = ord(char)
    return (unicodedata.category(char) in ("Mn", "Me", "Mc") or char == ZWJ or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F or 0xE0100 <= code <= 0xE01EF)


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF
