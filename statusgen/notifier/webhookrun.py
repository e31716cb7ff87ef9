"""The notifier run's webhook side: queued rows to signed requests, outcomes to the ledger.

    queue:  event + subscriber ──payload_parts──▶ "" (+ component/ID per followed change, statuspage)
            one delivery row per part: each part is sent exactly once
    send:   claimed webhook deliveries ──Requests (payloads made once per event and subscriber,
            chat messages once per event, format and language)──▶ WebhookRequest(webhook-id stable)
            ──WebhookTransport──▶ Outcomes: the store (`settle_webhook`: the delivery and its
            endpoint's health) + the audience (a 410 unsubscribes)

The webhook-id of a delivery is derived from what identifies it (event key, subscriber key,
part), so every retry, in this run or a later one, carries the same id and receivers can
drop a duplicate. The links in a payload are the incident's page in the subscriber's
language and the signed manage link (`meta.unsubscribe`), which names the webhook by its
short id, never by its URL (the token is opaque, and short for it).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlencode

from statusgen import ids
from statusgen.content.model import Subscriber
from statusgen.content.webhooks import SIGNED
from statusgen.notifier.audience import Audience
from statusgen.notifier.compose import email_language
from statusgen.notifier.events import Event
from statusgen.notifier.health import Endpoint
from statusgen.notifier.message import MailSettings
from statusgen.notifier.preflight import webhook_secrets
from statusgen.notifier.store import Delivery, NotifyStore, Parts
from statusgen.notifier.webhooks.network import masked_url
from statusgen.notifier.webhooks.payloads import Links, Payload, PayloadRenderer
from statusgen.notifier.webhooks.transport import WebhookRequest
from statusgen.site.theme import Theme
from statusgen.tokens import make_token

log = logging.getLogger(__name__)

CLAIM_BATCH = 100
NOT_SUBSCRIBED = "not sent: the webhook is no longer subscribed (unsubscribed, quarantined or removed)"


# ── queueing: the parts ───────────────────────────────────────────────────────────────

def payload_parts(event: Event, context: dict[str, Any], subscriber: Subscriber) -> tuple[str, ...]:
    """A Statuspage webhook's payloads for the event: the incident (""), then one
    `component/ID` per component whose status the event's update changed and the
    subscriber follows (Statuspage's component_update); anyone else gets one message."""
    if subscriber.webhook is None or subscriber.format != SIGNED:
        return ("",)
    record = context["incidents"][event.incident]
    update = next((u for u in record["updates"] if u["id"] == event.update), None) if event.update else None
    followed = None if subscriber.components is None else set(subscriber.components)
    changed = [component for component, _, _ in (update or {}).get("changes", ())
               if followed is None or component in followed]
    return ("", *(f"component/{component}" for component in changed))


def queued_parts(queued: list[tuple[Event, dict[str, Any], list[Subscriber]]]) -> Parts:
    """The parts of every Statuspage webhook's delivery of every event (others: one part)."""
    return {(event.key, s.key): payload_parts(event, context, s)
            for event, context, chosen in queued for s in chosen if s.webhook and s.format == SIGNED}


def webhook_id(delivery: Delivery) -> str:
    """Standard Webhooks' `webhook-id`: the same for every attempt at this delivery."""
    identity = "\n".join((delivery.event.key, delivery.subscriber.key, delivery.part))
    return "msg_" + hashlib.sha256(identity.encode()).hexdigest()[:32]


# ── sending: deliveries to requests ───────────────────────────────────────────────────

def manage_link(settings: MailSettings, url: str, at: datetime) -> str:
    """The webhook's signed manage link (the service's `webhook:ID` subject), or the
    unsubscribe address when the site has no subscription service."""
    if not settings.subscriptions_url:
        return f"mailto:{settings.unsubscribe_mailto}?subject=unsubscribe"
    base = settings.subscriptions_url if settings.subscriptions_url.endswith("/") else settings.subscriptions_url + "/"
    return f"{base}manage?token={make_token(settings.secret or '', 'manage', 'webhook:' + ids.webhook_id(url), now=at)}"


def target_url(url: str, payload: Payload) -> str:
    """The URL with the payload's query (Google Chat's thread) added."""
    if not payload.query:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(payload.query)


class Requests:
    """The claimed webhook deliveries as requests, claimed in batches as the transport asks.

    `audience` is this run's subscribers by key: a delivery is sent only to a webhook that
    is still among them (its secrets are theirs: a self-service webhook's are never stored),
    and never to one `stopped` meanwhile (gone or quarantined in this run)."""

    def __init__(self, store: NotifyStore, theme: Theme, settings: MailSettings, audience: Mapping[str, Subscriber],
                 env: Mapping[str, str], stopped: Callable[[str], bool], stream: IO[str]) -> None:
        self.store, self.settings, self.audience, self.env = store, settings, audience, env
        self.stopped, self.stream = stopped, stream
        self.render = PayloadRenderer(theme)
        self._last: tuple[tuple[str, str], list[Payload]] | None = None
        self._first: list[Delivery] = []

    def claim(self) -> bool:
        """Take the first batch now: whether there is anything to send at all."""
        self._first = self._first or self.store.claim(CLAIM_BATCH, "webhook")
        return bool(self._first)

    def __iter__(self) -> Iterator[WebhookRequest]:
        for delivery in self._claimed():
            if self.stopped(delivery.subscriber.key):
                continue  # its endpoint stopped in this run; the store failed the queued ones
            request = self._request(delivery)
            if request is not None:
                yield request

    def _claimed(self) -> Iterator[Delivery]:
        batch, self._first = self._first or self.store.claim(CLAIM_BATCH, "webhook"), []
        while batch:
            yield from batch
            batch = self.store.claim(CLAIM_BATCH, "webhook")

    def _request(self, delivery: Delivery) -> WebhookRequest | None:
        queued = delivery.subscriber
        assert queued.webhook is not None
        current = self.audience.get(queued.key)
        if current is None:
            self.store.failed(delivery.id, NOT_SUBSCRIBED)
            print(f"webhooks: {masked_url(queued.webhook)}: {NOT_SUBSCRIBED}", file=self.stream)
            return None
        payload = next((p for p in self._payloads(delivery) if p.part == delivery.part), None)
        if payload is None:  # the part no longer exists in what the event says (cannot happen with one snapshot)
            self.store.failed(delivery.id, f"not sent: the event has no payload part {delivery.part!r}")
            return None
        fmt = queued.format or SIGNED
        secrets = webhook_secrets(current, self.env) if fmt == SIGNED else ()
        return WebhookRequest(delivery.id, target_url(queued.webhook, payload), payload.body, webhook_id(delivery),
                              secrets, masked_url(queued.webhook), fmt)

    def _payloads(self, delivery: Delivery) -> list[Payload]:
        """The event's payloads for this subscriber; a Statuspage webhook's parts are
        consecutive rows, so the last one made is kept (chat messages: PayloadRenderer)."""
        event, context, subscriber = delivery.event, delivery.context, delivery.subscriber
        key = (event.key, subscriber.key)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        lang = email_language(context, subscriber.language)
        at = datetime.fromisoformat(context["generated_at"])
        assert subscriber.webhook is not None
        links = Links(context["incidents"][event.incident]["url"][lang],
                      manage_link(self.settings, subscriber.webhook, at))
        made = self.render(subscriber.format or SIGNED, event, context, lang, links, at)
        self._last = (key, made)
        return made


# ── outcomes: the ledger the transport reports to ─────────────────────────────────────

class Outcomes:
    """The WebhookLedger of a run: each outcome settled in the store with its endpoint's
    health; an endpoint that answered 410 is unsubscribed through the audience too. Thread-safe."""

    def __init__(self, store: NotifyStore, audience: Audience, stream: IO[str]) -> None:
        self.store, self.audience, self.stream = store, audience, stream
        self._lock = threading.Lock()
        self.stopped: dict[str, Endpoint] = {}
        """Endpoints this run quarantined or saw gone, by key."""
        self.gone_count = 0
        """Deliveries answered with 410 Gone (the transport counts them as failed)."""
        self.cancelled = 0
        """Queued deliveries failed by a quarantine in this run (the transport may have
        counted one of them as deferred)."""

    def is_stopped(self, key: str) -> bool:
        with self._lock:
            return key in self.stopped

    def committing(self, delivery_id: int) -> None:
        self.store.committing(delivery_id)

    def sent(self, delivery_id: int) -> None:
        self._settle(delivery_id, "sent")

    def retry_later(self, delivery_id: int, error: str) -> None:
        self._settle(delivery_id, "retry_later", error)

    def failed(self, delivery_id: int, error: str) -> None:
        self._settle(delivery_id, "failed", error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._settle(delivery_id, "uncertain", error)

    def gone(self, delivery_id: int, error: str) -> None:
        with self._lock:
            self.gone_count += 1
        self._settle(delivery_id, "gone", error)

    @property
    def quarantined(self) -> list[Endpoint]:
        with self._lock:
            return [endpoint for endpoint in self.stopped.values() if endpoint.state == "quarantined"]

    def _settle(self, delivery_id: int, outcome: str, error: str | None = None) -> None:
        found = self.store.settle_webhook(delivery_id, outcome, error)
        if found is None:
            return
        stopped = found.endpoint
        with self._lock:
            self.stopped[stopped.key] = stopped
            if stopped.state == "quarantined":
                self.cancelled += found.cancelled
        if stopped.state == "quarantined":
            told = f"its contact {stopped.contact} is told by email" if stopped.contact else "it has no contact to tell"
            self._say(f"quarantined {masked_url(stopped.url)} (id {stopped.id}) after {stopped.failures} failed "
                      f"attempts; {told}; `statusgen subscribers reactivate {stopped.id}` brings it back")
        elif stopped.state == "gone":
            self._say(f"{masked_url(stopped.url)} (id {stopped.id}) answered 410 Gone: unsubscribed")
            self._unsubscribe(stopped)

    def _unsubscribe(self, endpoint: Endpoint) -> None:
        try:
            assert endpoint.changed_at is not None
            self.audience.unsubscribe(endpoint.key, endpoint.changed_at)
        except Exception as error:  # noqa: BLE001 - the notifier store keeps it gone; say why the audience did not
            self._say(f"{masked_url(endpoint.url)}: the unsubscribe could not be recorded with the subscribers "
                      f"({error}); nothing more is sent to it in this run, but the next run will try it again")

    def _say(self, line: str) -> None:
        log.info("webhooks: %s", line)
        print(f"webhooks: {line}", file=self.stream, flush=True)
