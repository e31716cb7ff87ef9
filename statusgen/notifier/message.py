"""Step 2 of a notification email: one subscriber's message, from the `RenderedEmail`.

    RenderedEmail + subscriber + MailSettings ──fill placeholders, set headers──▶ EmailMessage

`build_message` fills the placeholders (escaped for the HTML part) with the subscriber's
signed manage and unsubscribe links and the components they follow, and sets the headers:
threading (`Message-ID`, `In-Reply-To`, `References`, deterministic so a resent email
keeps its id), `List-Unsubscribe` and RFC 8058's `List-Unsubscribe-Post`, and the
auto-reply suppressors. The message is made with `wire.POLICY`; `wire.wire_bytes` writes it.

This is the reference for what a notification is. The run itself makes the same bytes
faster with `stencil.Stencil`, which calls the functions here for everything a subscriber
has of their own (`own_headers`, `personal_links`, `following`, `conditions_of`).
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from babel.lists import format_list

from statusgen.content.model import Subscriber
from statusgen.notifier.compose import RenderedEmail, email_language, pick
from statusgen.notifier.events import THREAD_STARTERS, Event
from statusgen.notifier.placeholders import fill
from statusgen.notifier.wire import POLICY, as_uri, ascii_host, set_headers
from statusgen.tokens import make_token


@dataclass(frozen=True)
class MailSettings:
    sender: str
    """From."""
    site_host: str
    """For Message-ID domains, from base_url."""
    subscriptions_url: str | None
    """The self-service subscription service, e.g. https://status.example.org/subscriptions/."""
    unsubscribe_mailto: str | None
    secret: str | None = field(repr=False)
    """Signs the unsubscribe/manage tokens; required when subscriptions_url is set."""

    def __post_init__(self) -> None:
        if self.subscriptions_url and not self.secret:
            raise ValueError("a subscription service needs a secret key (STATUSGEN_SECRET_KEY) to sign its links")
        if not self.subscriptions_url and not self.unsubscribe_mailto:
            raise ValueError("every email needs a way to unsubscribe: set subscriptions.url or "
                             "notify.unsubscribe_mailto in content/site.yaml")


def build_message(rendered: RenderedEmail, event: Event, snapshot: dict[str, Any],
                  subscriber: Subscriber, settings: MailSettings) -> EmailMessage:
    """The email for one subscriber: placeholders filled, headers set, text then HTML.

    Raises ValueError for a header value with CR or LF (a title such as
    "Outage\\r\\nBcc: victim@example.net" must never add a header)."""
    sent_at = datetime.fromisoformat(snapshot["generated_at"])
    values = _personal_values(event, snapshot, subscriber, settings, sent_at)
    message = EmailMessage(policy=POLICY)
    set_headers(message, own_headers(rendered, event, snapshot, subscriber, settings, values, sent_at))
    conditions = conditions_of(subscriber, settings)
    message.set_content(fill(rendered.text, values, conditions, str), cte="quoted-printable")
    message.add_alternative(fill(rendered.html, values, conditions, html.escape), subtype="html",
                            cte="quoted-printable")
    del message.get_payload()[1]["MIME-Version"]  # add_alternative adds one to the part
    message.set_boundary(mime_boundary(event, subscriber.language))
    message["Content-Language"] = email_language(snapshot, subscriber.language)  # set_content would drop it
    return message


def mime_boundary(event: Event, lang: str) -> str:
    """The multipart boundary, from the event and language rather than at random, so a
    resent email is the same bytes and `stencil` can make it once for every subscriber.

    It never occurs inside a part: it holds `==`, which quoted-printable never writes
    (an `=` there is always followed by two hex digits or a line end)."""
    number = int(hashlib.sha256(f"{event.key}\n{lang}".encode()).hexdigest(), 16) % 10**19
    return f"==============={number:019d}=="


# --- Headers: threading, unsubscribing ----------------------------------------------------


def thread_root(event: Event, snapshot: dict[str, Any], email: str, settings: MailSettings) -> str:
    """The Message-ID that opens an incident's thread for one subscriber; every later
    email of the incident replies to it, so mail clients show one conversation."""
    public_id = snapshot["incidents"][event.incident]["public_id"]
    return f"<{public_id}.{_digest(email.strip().lower())}@{ascii_host(settings.site_host)}>"


def message_id(event: Event, snapshot: dict[str, Any], email: str, settings: MailSettings) -> str:
    """Deterministic, so a resent email after a crash has the same id (clients deduplicate)."""
    if event.kind in THREAD_STARTERS:
        return thread_root(event, snapshot, email, settings)
    public_id = snapshot["incidents"][event.incident]["public_id"]
    digest = _digest(event.key + chr(10) + email.strip().lower(), 20)
    return f"<{public_id}.{digest}@{ascii_host(settings.site_host)}>"


def _digest(text: str, length: int = 12) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _headers(rendered: RenderedEmail, event: Event, snapshot: dict[str, Any], subscriber: Subscriber,
             settings: MailSettings, sent_at: datetime) -> list[tuple[str, str]]:
    own_id = message_id(event, snapshot, subscriber.email, settings)
    headers = [
        ("From", settings.sender), ("To", subscriber.email), ("Subject", rendered.subject),
        ("Date", format_datetime(sent_at)), ("Message-ID", own_id),
    ]
    root = thread_root(event, snapshot, subscriber.email, settings)
    if own_id != root:
        headers += [("In-Reply-To", root), ("References", root)]
    return headers + [
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: no vacation replies
        ("X-Auto-Response-Suppress", "OOF, AutoReply"),  # the same for Exchange/Outlook
    ]


def own_headers(rendered: RenderedEmail, event: Event, snapshot: dict[str, Any], subscriber: Subscriber,
                settings: MailSettings, values: dict[str, str], sent_at: datetime) -> list[tuple[str, str]]:
    """Every header the notifier sets on a subscriber's message, in order (the MIME ones
    are the email package's)."""
    return [*_headers(rendered, event, snapshot, subscriber, settings, sent_at), *_unsubscribe_headers(values, settings)]


def _unsubscribe_headers(values: dict[str, str], settings: MailSettings) -> list[tuple[str, str]]:
    return unsubscribe_headers(values["unsubscribe_url"] if settings.subscriptions_url else None,
                               settings.unsubscribe_mailto)


def unsubscribe_headers(url: str | None, mailto: str | None) -> list[tuple[str, str]]:
    """RFC 2369 List-Unsubscribe (the service's link first, then the mailto: address), and
    RFC 8058 one-click only with an HTTPS URI to POST to. URIs in ASCII, as headers need."""
    links = [f"<{as_uri(link)}>" for link in (url, _mailto(mailto) if mailto else None) if link]
    headers = [("List-Unsubscribe", ", ".join(links))]
    if url and url.startswith("https://"):
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return headers


def _mailto(address: str) -> str:
    return f"mailto:{address}?subject=unsubscribe"


# --- The placeholders' values for one subscriber -----------------------------------------


def _service_link(settings: MailSettings, action: str, email: str, sent_at: datetime) -> str:
    base = settings.subscriptions_url or ""
    token = make_token(settings.secret or "", action, email, now=sent_at)
    return f"{base if base.endswith('/') else base + '/'}{action}?token={token}"


def _personal_values(event: Event, snapshot: dict[str, Any], subscriber: Subscriber,
                     settings: MailSettings, sent_at: datetime) -> dict[str, str]:
    """The placeholders' values for one subscriber; tokens are signed at the snapshot's
    time, so the same run gives the same bytes."""
    return {**personal_links(subscriber.email, settings, sent_at), "following": following(event, snapshot, subscriber)}


def personal_links(email: str, settings: MailSettings, sent_at: datetime) -> dict[str, str]:
    """The subscriber's signed `unsubscribe_url` and `manage_url` (or the mailto: address
    and no manage link without a subscription service)."""
    if settings.subscriptions_url:
        unsubscribe = _service_link(settings, "unsubscribe", email, sent_at)
        manage = _service_link(settings, "manage", email, sent_at)
    else:
        unsubscribe, manage = _mailto(settings.unsubscribe_mailto or ""), ""
    return {"unsubscribe_url": unsubscribe, "manage_url": manage}


def following(event: Event, snapshot: dict[str, Any], subscriber: Subscriber) -> str:
    """Why this subscriber gets this email: what they follow of the event's components, named
    as they chose it: a group they follow whole by the group's name, other components by theirs.

    `subscriber.components` has groups expanded, so a group counts as followed when all of
    its components are (which is what following the group means today)."""
    if subscriber.components is None:
        return ""
    followed = set(subscriber.components)
    ids = [c for c in event.components if c in followed] or list(subscriber.components)
    lang = email_language(snapshot, subscriber.language)
    names, named = [], set()
    for group in snapshot.get("groups", {}).values():
        members = set(group["components"])
        if members and members <= followed and members.intersection(ids):
            names.append(pick(group["name"], lang))
            named |= members
    names += [pick(snapshot["components"][c]["name"], lang) for c in ids
              if c in snapshot["components"] and c not in named]
    return format_list(sorted(names, key=str.casefold), locale=lang) if names else ""


def conditions_of(subscriber: Subscriber, settings: MailSettings) -> dict[str, bool]:
    """What the `personal(...)` sections of a template may depend on."""
    follows_all = subscriber.components is None
    return {"follows_all": follows_all, "follows_some": not follows_all,
            "can_manage": bool(settings.subscriptions_url)}
