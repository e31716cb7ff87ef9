"""Google Chat incoming webhooks: one card per event, one thread per incident.

    ChatMessage ──▶ {"fallbackText": headline and title (notifications),
                     "cardsV2": [{"cardId", "card": {header: headline / title,
                                  sections: [facts (decoratedText), the update (textParagraph),
                                             components (textParagraph), a button to the incident page]}}]}
                    + URL query threadKey=<incident public id>&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD

A card's `text` fields take Google Chat's small HTML subset, so user text in them is
HTML-escaped (`<users/all>` shows as text) and update links become `<a href>`; the header,
labels and button are plain text, which Chat does not parse. The body stays within Chat's
4,096 characters of text and 32,000 bytes per message.
"""

from __future__ import annotations

import html
from typing import Any

from statusgen.notifier.plaintext import TextStyle, markdown_to_text
from statusgen.notifier.webhooks.chattext import (
    ChatMessage, cap, defuse_mentions, defuse_plain, encode, fit, size, take_lines, units,
)

TEXT = 4_000
LIMIT = 32_000
THREAD_QUERY = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"


def escape(text: str) -> str:
    return defuse_mentions(html.escape(text, quote=False))


def link(label: str, href: str, is_address: bool) -> str:
    return f'<a href="{html.escape(href)}">{label}</a>'


STYLE = TextStyle(escape, link)


def googlechat_query(message: ChatMessage) -> tuple[tuple[str, str], ...]:
    return (("threadKey", message.thread), ("messageReplyOption", THREAD_QUERY))


def googlechat_body(message: ChatMessage) -> bytes:
    update = fit(message.body, _update, lambda text: units(text) <= TEXT and size(_message(message, text)) <= LIMIT)
    return encode(_message(message, update))


def _update(source: str) -> str:
    return markdown_to_text(source, None, STYLE).replace("\n", "<br>")


def _message(message: ChatMessage, update: str) -> dict[str, Any]:
    plain = cap(f"{message.mark} {message.labelled(message.headline)} {message.title}", 300, defuse_plain)
    widgets: list[dict[str, Any]] = [{"decoratedText": {"topLabel": defuse_plain(label),
                                                        "text": escape(value).replace("\n", "<br>")}}
                                     for label, value in message.facts]
    if update:
        widgets.append({"textParagraph": {"text": update}})
    sections: list[dict[str, Any]] = [{"widgets": widgets}]
    if message.components:
        lines = [escape(f"{message.labelled(c.name)} {c.status}") for c in message.components]
        sections.append({"header": defuse_plain(message.components_label), "collapsible": False,
                         "widgets": [{"textParagraph": {"text": take_lines(lines, TEXT).replace("\n", "<br>")}}]})
    sections.append({"widgets": [{"buttonList": {"buttons": [
        {"text": defuse_plain(message.details), "onClick": {"openLink": {"url": message.url}}}]}}]})
    card = {"header": {"title": cap(f"{message.mark} {message.headline}", 200, defuse_plain),
                       "subtitle": cap(message.title, 300, defuse_plain)},
            "sections": sections}
    return {"fallbackText": plain, "cardsV2": [{"cardId": f"incident-{message.thread}", "card": card}]}
