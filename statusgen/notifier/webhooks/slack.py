"""Slack incoming webhooks: Block Kit blocks plus a `text` fallback (notifications, old clients).

    ChatMessage ──▶ {"text": fallback,
                     "blocks": [header (plain text ≤ 150), section (facts as fields),
                                section (the update, mrkdwn ≤ 3,000), section (components ≤ 3,000),
                                context (the site), actions (a button to the incident page)]}

mrkdwn text is escaped as Slack asks (`&`, `<`, `>` → entities), so `<!channel>` or
`<https://evil|click>` in a title is shown, never parsed; `@channel` gets a word joiner
after its `@`. Links in an update are written `<url|text>`. The header is plain text,
which Slack does not parse (mentions and `<` defused there all the same). Lengths are counted in UTF-16
units, which is never less than what Slack counts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from statusgen.notifier.plaintext import TextStyle, markdown_to_text
from statusgen.notifier.webhooks.chattext import (
    ChatMessage, cap, defuse_mentions, defuse_plain, encode, fit, take_lines, units,
)

HEADER = 150
SECTION = 3000
FIELD = 2000
BUTTON = 75


def escape(text: str) -> str:
    return defuse_mentions(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def link(label: str, href: str, is_address: bool) -> str:
    target = quote(href, safe=":/?#@!$&'()*+,;=%~-._").replace("&", "&amp;")
    if is_address and href.startswith("mailto:"):
        return label
    return f"<{target}>" if is_address else f"<{target}|{label}>"


STYLE = TextStyle(escape, link)


def slack_body(message: ChatMessage) -> bytes:
    update = fit(message.body, _update_text, lambda text: units(text) <= SECTION)
    header = cap(f"{message.mark} {message.labelled(message.headline)} {message.title}", HEADER, defuse_plain)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{cap(label, 100, escape)}*\n"
                                                                  f"{cap(value, FIELD - 110, escape)}"}
                                       for label, value in message.facts[:10]]},
    ]
    if update:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": update}})
    if message.components:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _components(message)}})
    blocks += [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(message.site)}]},
        {"type": "actions", "elements": [{"type": "button", "url": message.url, "text": {
            "type": "plain_text", "text": cap(message.details, BUTTON, defuse_plain)}}]},
    ]
    return encode({"text": _fallback(message), "blocks": blocks})


def _update_text(source: str) -> str:
    return markdown_to_text(source, None, STYLE)


def _components(message: ChatMessage) -> str:
    heading = f"*{escape(message.components_label)}*"
    lines = [f"\u2022 {escape(message.labelled(c.name))} {escape(c.status)}" for c in message.components]
    return heading + "\n" + take_lines(lines, SECTION - units(heading) - 1)


def _fallback(message: ChatMessage) -> str:
    status = message.facts[0][1] if message.facts else ""
    title = cap(message.title, 300, escape)
    return (f"{message.mark} {escape(message.labelled(message.headline))} {title} ({escape(status)}) "
            f"<{message.url}|{escape(message.details)}>")
