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

Which format a URL gets (`detect_format`): an explicit `format:` wins; else the host says
it: hooks.slack.com → slack; Power Automate / Logic Apps hosts (Teams Workflows) → teams;
chat.googleapis.com → googlechat; discord.com `/api/webhooks/` → discord; anything else
→ statuspage. A `/hooks/` path is *not* taken for Mattermost (every self-hosted service
has such paths, and a partner's desk expecting Statuspage's JSON would get chat text):
Mattermost needs `format: mattermost`. The retired Office 365 connector URLs are refused
whatever the format, with what to create instead: they no longer deliver anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from statusgen.notifier.events import Event
from statusgen.notifier.webhooks.chattext import ChatMessage, chat_message, encode
from statusgen.notifier.webhooks.discord import discord_body
from statusgen.notifier.webhooks.googlechat import googlechat_body, googlechat_query
from statusgen.notifier.webhooks.mattermost import mattermost_body
from statusgen.notifier.webhooks.slack import slack_body
from statusgen.notifier.webhooks.statuspage_body import statuspage_bodies
from statusgen.notifier.webhooks.teams import teams_body
from statusgen.site.theme import Theme

FORMATS = ("statuspage", "slack", "teams", "googlechat", "discord", "mattermost")

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


# --- Which format a URL gets ---------------------------------------------------------------

RETIRED_TEAMS = ("{url}: Office 365 connector webhooks (*.webhook.office.com, outlook.office.com/webhook) "
                 "were retired by Microsoft and no longer deliver messages; in Teams, create a Workflows "
                 "webhook instead (the workflow template \"When a Teams webhook request is received\", or "
                 "\"Post to a channel when a webhook request is received\") and use its URL")
HOSTS = {
    "slack": ("hooks.slack.com", "hooks.slack-gov.com"),
    "teams": (".logic.azure.com", ".powerplatform.com", ".powerautomate.com"),
    "googlechat": ("chat.googleapis.com",),
}
DISCORD_HOSTS = ("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com")
DISCORD_PATH = re.compile(r"^/api(/v\d+)?/webhooks/")


def detect_format(url: str, explicit: str | None = None) -> str:
    """The format for a URL: `explicit` if given, else from the host (hooks.slack.com → slack, ...),
    else statuspage. Raises ValueError with what to use instead for a retired target
    (Office 365 connector URLs) and for an explicit format that does not exist."""
    parts = urlsplit(url.strip())
    host, path = (parts.hostname or "").lower().rstrip("."), parts.path
    if host.endswith(".webhook.office.com") or host == "webhook.office.com" or \
            (host in ("outlook.office.com", "outlook.office365.com") and path.lower().startswith("/webhook")):
        raise ValueError(RETIRED_TEAMS.format(url=_shown(parts.scheme, host)))
    if explicit is not None:
        if explicit not in FORMATS:
            raise ValueError(f"format: expected one of {', '.join(FORMATS)}; found {explicit!r}")
        return explicit
    for fmt, hosts in HOSTS.items():
        if any(host == known or (known.startswith(".") and host.endswith(known)) for known in hosts):
            return fmt
    if host in DISCORD_HOSTS and DISCORD_PATH.match(path):
        return "discord"
    return "statuspage"


def _shown(scheme: str, host: str) -> str:
    """The URL as messages may show it: scheme and host only (the path holds the secret)."""
    return f"{scheme}://{host}/..." if host else "the webhook URL"


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
