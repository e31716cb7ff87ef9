"""Microsoft Teams Workflows webhooks: an Adaptive Card 1.4 in the message envelope.

    ChatMessage ──▶ {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                     "contentUrl": null, "content": AdaptiveCard 1.4}]}        ≤ 28 KB in all
    card body: TextBlock (headline), RichTextBlock (title), FactSet (status, priority, time, window),
               RichTextBlock (the update), TextBlock + RichTextBlock (components), RichTextBlock (the site)
    card actions: Action.OpenUrl (the incident page)

Everything ops or importers wrote (title, update, component names, the site's title) goes
in `TextRun`s, which Teams never reads as Markdown, so there is nothing to escape (a word
joiner after each `@` and `<` all the same); the FactSet and TextBlocks only hold the
theme's words and our times, Markdown-escaped anyway. The update is written as plain text
(links as `text <url>`), shortened until the whole message is within 28 KB.
"""

from __future__ import annotations

from typing import Any

from statusgen.notifier.plaintext import markdown_to_text
from statusgen.notifier.webhooks.chattext import (
    ChatMessage, cap, defuse_plain, encode, escape_markdown, fit, size, take_lines,
)

LIMIT = 28_000
"""Bytes of the whole request body (Teams refuses larger messages)."""
COLOURS = {"critical": "Attention", "major": "Attention", "minor": "Warning", "none": "Default",
           "maintenance": "Accent", "resolved": "Good"}
TITLE = 300
COMPONENTS = 4_000


def teams_body(message: ChatMessage) -> bytes:
    update = fit(message.body, _plain_text, lambda text: size(_envelope(message, text)) <= LIMIT)
    return encode(_envelope(message, update))


def _plain_text(source: str) -> str:
    return markdown_to_text(source, None)


def _envelope(message: ChatMessage, update: str) -> dict[str, Any]:
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": _card(message, update)}]}


def _card(message: ChatMessage, update: str) -> dict[str, Any]:
    elements: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": escape_markdown(f"{message.mark} {message.headline}"), "wrap": True,
         "weight": "Bolder", "color": COLOURS[message.severity]},
        _text_run(cap(message.title, TITLE), size="Large", weight="Bolder"),
        {"type": "FactSet", "facts": [{"title": escape_markdown(label), "value": escape_markdown(value)}
                                      for label, value in message.facts]},
    ]
    if update:
        elements.append(_text_run(update))
    if message.components:
        lines = take_lines([f"\u2022 {message.labelled(c.name)} {c.status}" for c in message.components], COMPONENTS)
        elements += [{"type": "TextBlock", "text": escape_markdown(message.components_label), "wrap": True,
                      "weight": "Bolder", "spacing": "Medium"},
                     _text_run(lines)]
    elements.append(_text_run(message.site, size="Small", isSubtle=True))
    return {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": elements,
            "actions": [{"type": "Action.OpenUrl", "title": message.details, "url": message.url}],
            "msteams": {"width": "Full"}}


def _text_run(text: str, **look: Any) -> dict[str, Any]:
    """A paragraph Teams shows exactly as written (a TextRun is never Markdown)."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": defuse_plain(text), **look}]}
