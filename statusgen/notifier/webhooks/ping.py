"""The test delivery: what a new webhook gets when its contact confirms it (and when asked
for one from the manage page), so both sides see at once whether deliveries arrive.

Statuspage sends no such message; ours, in the subscriber's format:

    statuspage: {"meta": {"unsubscribe", "documentation", "generated_at"},
                 "page": {"id", "status_indicator", "status_description"},
                 "ping": {"subscription_id", "components": [{"id", "name"}], "message"}}
        `meta` and `page` as in every delivery; a receiver written for Statuspage looks for
        `incident` or `component_update`, finds neither, and can ignore it (or answer 2xx
        after checking the signature, which is the point). Its `webhook-id` starts `ping_`.
    chat targets: one short message through the target's own layout (a ChatMessage with
        the words below, headline "Test message"), escaped as every chat message is.

Pure: the words come translated, the time is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from statusgen.notifier.webhooks.chattext import ChatMessage, encode
from statusgen.notifier.webhooks.payloads import CHAT
from statusgen.notifier.webhooks.statuspage_body import DOCUMENTATION
from statusgen.times import iso_time

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class PingWords:
    """What the test message says, in the subscriber's language."""

    site: str
    headline: str
    """`Test message`."""
    title: str
    """What it is about: `Notifications from Example status`."""
    text: str
    """What this channel will receive, and that nothing needs doing."""
    components_label: str
    following: str
    """The components followed, in words (`all components`, or their names)."""
    components: tuple[tuple[str, str], ...]
    """(public component id, name) of every component followed."""
    details: str
    """The link's text."""
    colon: str = "{label}:"


@dataclass(frozen=True)
class Page:
    id: str
    status_indicator: str
    status_description: str


def ping_body(fmt: str, words: PingWords, page: Page, subscription_id: str, status_url: str, manage_url: str,
              now: datetime) -> bytes:
    """The test message's exact bytes for a subscriber of format `fmt`."""
    if fmt == "statuspage":
        return encode({
            "meta": {"unsubscribe": manage_url, "documentation": DOCUMENTATION, "generated_at": iso_time(now, UTC)},
            "page": {"id": page.id, "status_indicator": page.status_indicator,
                     "status_description": page.status_description},
            "ping": {"subscription_id": subscription_id,
                     "components": [{"id": ident, "name": name} for ident, name in words.components],
                     "message": words.text},
        })
    if fmt not in CHAT:
        raise ValueError(f"format: expected one of statuspage, {', '.join(CHAT)}; found {fmt!r}")
    message = ChatMessage(kind="ping", severity="none", site=words.site, headline=words.headline, title=words.title,
                          facts=((words.components_label, words.following),), body=words.text,
                          components_label=words.components_label, components=(),
                          url=status_url, details=words.details, thread=f"ping-{subscription_id}",
                          timestamp=iso_time(now, UTC), colon=words.colon)
    return CHAT[fmt](message)
