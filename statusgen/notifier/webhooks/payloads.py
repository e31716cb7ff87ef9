"""What a webhook or chat subscriber receives for one event, as the exact bytes to POST.

STUB (contract): the payloads engineer replaces this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statusgen.notifier.events import Event
from statusgen.site.theme import Theme

FORMATS = ("statuspage", "slack", "teams", "googlechat", "discord", "mattermost")


@dataclass(frozen=True)
class Links:
    incident_url: str
    """The incident's page in the subscriber's language."""
    manage_url: str
    """The subscriber's signed manage/unsubscribe link (Statuspage's `meta.unsubscribe`)."""


@dataclass(frozen=True)
class Payload:
    part: str
    """"" for the event's message; `component/ID` for each Statuspage `component_update`."""
    body: bytes
    """The JSON body, byte for byte what is signed and sent."""
    query: tuple[tuple[str, str], ...] = ()
    """Query parameters to add to the URL (Google Chat's threadKey)."""


def detect_format(url: str, explicit: str | None = None) -> str:
    """The format for a URL: `explicit` if given, else from the host (hooks.slack.com → slack, ...),
    else statuspage. Raises ValueError with what to use instead for a retired target
    (Office 365 connector URLs)."""
    raise NotImplementedError("contract stub")


def payloads(fmt: str, event: Event, context: dict[str, Any], lang: str, theme: Theme, links: Links,
             now: datetime) -> list[Payload]:
    """The messages for one (event, subscriber format, language); `context` is the event's
    snapshot context as the notifier store keeps it (site, components, groups, its incident)."""
    raise NotImplementedError("contract stub")
