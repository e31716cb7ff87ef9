"""Mattermost incoming webhooks: one Markdown `text`, as Slack-compatible as Mattermost is.

    ChatMessage ──▶ {"text": "#### headline: title\\n**Status:** ...\\n\\nthe update\\n\\n
                              **Affected components:**\\n- name: status\\n\\n[More information](url)"}

Mattermost reads CommonMark and @-mentions, so user text is Markdown-escaped (a backslash
before every mark, block marks at a line's start included) and `@channel`, `@all`,
`@here` and `@someone` get a word joiner after the `@`. Update links become `[text](url)`.
The whole text stays within 4,000 characters, the limit of older servers (newer ones take
16,383), so one event is one post everywhere.
"""

from __future__ import annotations

from urllib.parse import quote

from statusgen.notifier.plaintext import TextStyle, markdown_to_text
from statusgen.notifier.webhooks.chattext import ChatMessage, cap, encode, escape_markdown, fit, take_lines, units

LIMIT = 4_000
COMPONENTS = 1_500


def link(label: str, href: str, is_address: bool) -> str:
    if is_address and href.startswith("mailto:"):
        return label
    target = quote(href, safe=":/?#@!$&'*+,;=%~-._")
    return f"<{target}>" if is_address else f"[{label}]({target})"


STYLE = TextStyle(escape_markdown, link)


def mattermost_body(message: ChatMessage) -> bytes:
    update = fit(message.body, _update, lambda text: units(_text(message, text)) <= LIMIT)
    return encode({"text": _text(message, update)})


def _update(source: str) -> str:
    return markdown_to_text(source, None, STYLE)


def _text(message: ChatMessage, update: str) -> str:
    lines = [f"#### {message.mark} {cap(message.labelled(message.headline), 200, escape_markdown)} "
             f"{cap(message.title, 300, escape_markdown)}"]
    lines += [f"**{escape_markdown(message.labelled(label))}** {escape_markdown(value)}  "
              for label, value in message.facts]
    if update:
        lines += ["", update]
    if message.components:
        lines += ["", f"**{escape_markdown(message.labelled(message.components_label))}**",
                  take_lines([f"- {escape_markdown(message.labelled(c.name))} {escape_markdown(c.status)}"
                              for c in message.components], COMPONENTS)]
    lines += ["", f"[{escape_markdown(message.details)}]({quote(message.url, safe=':/?#@!$&*+,;=%~-._')})"]
    return "\n".join(lines)
