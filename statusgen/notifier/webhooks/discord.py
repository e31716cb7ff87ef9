"""Discord webhooks: a one-line `content` and one embed; nobody is ever pinged.

    ChatMessage ──▶ {"content": headline, title and a link to the incident page (≤ 2,000),
                     "embeds": [{title (≤ 256), url, description: the update (≤ 4,096), colour,
                                 fields: facts and components (≤ 25; values ≤ 1,024),
                                 footer: the site, timestamp}],           (all embed text ≤ 6,000)
                     "allowed_mentions": {"parse": []}}

`allowed_mentions` stops `@everyone` from notifying anyone; the text is escaped as well,
so it does not even look like markup: Markdown marks get a backslash, `<` too (no `<@id>`,
`<t:...>` or `<:emoji:id>`), `@everyone` a word joiner. Update links become `[text](url)`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from statusgen.notifier.plaintext import TextStyle, markdown_to_text
from statusgen.notifier.webhooks.chattext import (
    ChatMessage, cap, defuse_plain, encode, escape_markdown, fit, take_lines, units,
)

CONTENT = 2_000
TITLE = 256
DESCRIPTION = 4_096
FIELD_NAME = 256
FIELD_VALUE = 1_024
FOOTER = 2_048
EMBED = 6_000
COLOURS = {"critical": 0xC62828, "major": 0xEF6C00, "minor": 0xF9A825, "none": 0x9E9E9E,
           "maintenance": 0x1565C0, "resolved": 0x2E7D32}


def link(label: str, href: str, is_address: bool) -> str:
    if is_address and href.startswith("mailto:"):
        return label
    return f"<{_address(href)}>" if is_address else f"[{label}]({_address(href)})"


def _address(href: str) -> str:
    """Percent-encoded where it could end the link: `(`, `)`, `<`, `>`, spaces."""
    return quote(href, safe=":/?#@!$&'*+,;=%~-._")


STYLE = TextStyle(escape_markdown, link)


def discord_body(message: ChatMessage) -> bytes:
    embed = _embed(message, "")
    room = EMBED - _embed_units(embed)
    update = fit(message.body, _update, lambda text: units(text) <= min(DESCRIPTION, room))
    content = f"{message.mark} **{cap(message.labelled(message.headline), 200, escape_markdown)}** " \
              f"{cap(message.title, CONTENT - 600, escape_markdown)}\n" \
              f"[{cap(message.details, 200, escape_markdown)}](<{_address(message.url)}>)"
    return encode({"content": content,
                   "embeds": [_embed(message, update)], "allowed_mentions": {"parse": []}})


def _update(source: str) -> str:
    return markdown_to_text(source, None, STYLE)


def _embed(message: ChatMessage, update: str) -> dict[str, Any]:
    fields = [{"name": cap(label, FIELD_NAME, escape_markdown), "value": cap(value, FIELD_VALUE, escape_markdown),
               "inline": True} for label, value in message.facts]
    if message.components:
        lines = [escape_markdown(f"\u2022 {message.labelled(c.name)} {c.status}") for c in message.components]
        fields.append({"name": cap(message.components_label, FIELD_NAME, escape_markdown),
                       "value": take_lines(lines, FIELD_VALUE), "inline": False})
    embed: dict[str, Any] = {"title": cap(message.title, TITLE, escape_markdown), "url": message.url}
    if update:
        embed["description"] = update
    embed |= {"color": COLOURS[message.severity], "fields": fields[:25],
              "footer": {"text": cap(message.site, FOOTER, defuse_plain)}}
    if message.timestamp:
        embed["timestamp"] = message.timestamp
    return embed


def _embed_units(embed: dict[str, Any]) -> int:
    """What Discord counts toward an embed's 6,000: title, description, field names and values, footer."""
    texts = [embed["title"], embed.get("description", ""), embed["footer"]["text"],
             *(part for field in embed["fields"] for part in (field["name"], field["value"]))]
    return sum(units(text) for text in texts)
