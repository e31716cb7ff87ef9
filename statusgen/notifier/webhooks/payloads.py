"""What a webhook or chat subscriber receives for one event, as the exact bytes to POST.

    URL (+ format:) ──detect_format──▶ statuspage | slack | teams | googlechat | discord | mattermost
    event + context + language ──payloads──▶ [Payload(part, body, query)]
        statuspage:   statuspage_body: {meta, page, incident}, then {meta, page, component_update,
                      component} per component status change (part `component/ID`)
        chat targets: chattext.chat_message (the email's words) ──slack | teams | googlechat |
                      discord | mattermost──▶ one message (Google Chat: one thread per incident)

Pure functions: no clock, no I/O. Bodies are compact UTF-8 JSON with keys in the order
built (the API's order for Statuspage bodies), so the same input gives the same bytes and
the signature covers exactly what is sent. `meta.generated_at` is the `now` given.

Which format a URL gets (`detect_format`) is decided in `content/webhooks.py`, where
`statusgen check` reads subscribers.yaml with the same rule; its names are kept here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statusgen.content.webhooks import FORMATS, detect_format  # noqa: F401 - this module's names too
from statusgen.notifier.events import Event
from statusgen.notifier.webhooks.chattext import ChatMessage, chat_message, encode
from statusgen.notifier.webhooks.discord import discord_body
from statusgen.notifier.webhooks.googlechat import googlechat_body, googlechat_query
from statusgen.notifier.webhooks.mattermost import mattermost_body
from statusgen.notifier.webhooks.slack import slack_body
from statusgen.notifier.webhooks.statuspage_body import statuspage_bodies
from statusgen.notifier.webhooks.teams import teams_body
from statusgen.site.theme import Theme

CHAT: dict[str, Callable[[ChatMessage], bytes]] = {
    "slack": slack_body, "teams": teams_body, "googlechat": googlechat_body,
    "discord": discord_body, "mattermost": mattermost_body,
}
QUERIES: dict[str, Callable[[ChatMessage], tuple[tuple[str, str], ...]]] = {"googlechat": googlechat_query}


@dataclass(frozen=True)
class Links:
    incident_url: str
    """The incident's page in the subscriber's language."""
    manage_url: str
    """The subscriber's signed manage/unsubscribe link (Statuspage's `meta.unsubscribe`)."""


@dataclass(frozen=True)
class Payload:
    part: str
    """"" for the event's message; `component/ID` for each Statuspage `component_update`
    (ID as in components.yaml: route it to the subscribers who follow that component)."""
    body: bytes
    """The JSON body, byte for byte what is signed and sent."""
    query: tuple[tuple[str, str], ...] = ()
    """Query parameters to add to the URL (Google Chat's threadKey)."""


# --- The bodies ----------------------------------------------------------------------------


def payloads(fmt: str, event: Event, context: dict[str, Any], lang: str, theme: Theme, links: Links,
             now: datetime) -> list[Payload]:
    """The messages for one (event, subscriber format, language); `context` is the event's
    snapshot context as the notifier store keeps it (site, components, groups, its incident).
    A Statuspage subscriber gets the incident's body and one body per component status
    change (route those by `part`); a chat target one message."""
    if fmt == "statuspage":
        return [Payload(part, encode(body)) for part, body in
                statuspage_bodies(event, context, lang, links.manage_url, now)]
    if fmt not in CHAT:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}; found {fmt!r}")
    message = chat_message(event, context, lang, theme, links.incident_url)
    query = QUERIES[fmt](message) if fmt in QUERIES else ()
    return [Payload("", CHAT[fmt](message), query)]


class PayloadRenderer:
    """`payloads` for one notifier run. A chat message depends on nothing of the subscriber
    but the language (and the incident's page in it), so it is made once per (event,
    format, language), not once per channel; Statuspage bodies carry each subscriber's
    own `meta.unsubscribe` and are made each time (about 0.3 ms)."""

    def __init__(self, theme: Theme) -> None:
        self.theme = theme
        self._chat: dict[tuple[str, Event, str, str], list[Payload]] = {}

    def __call__(self, fmt: str, event: Event, context: dict[str, Any], lang: str, links: Links,
                 now: datetime) -> list[Payload]:
        if fmt == "statuspage":
            return payloads(fmt, event, context, lang, self.theme, links, now)
        key = (fmt, event, lang, links.incident_url)
        if key not in self._chat:
            self._chat[key] = payloads(fmt, event, context, lang, self.theme, links, now)
        return self._chat[key]
