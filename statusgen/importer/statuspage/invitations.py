"""Confirmation emails for imported subscribers: the double opt-in of the subscription
service, sent in batches through the relay, each address recorded once it was handed over.
A webhook's invitation goes to its contact (the service's "confirm the webhook" email).

    invitations ──batches of BATCH──▶ Composer.compose("confirm" | "webhook_confirm") (the service's emails)
        ──transport.deliver (one SMTP connection per batch)──▶ ledger:
            sent | uncertain  ──▶ store.request(): pending, so a rerun sends no second one
            failed | deferred ──▶ not recorded: a rerun tries again
        one progress line per batch

An address is recorded as pending only after the relay took its email (or may have):
a crash between the relay's answer and the record sends that one email again on the
next run, which is better than an invitation that never went out but counts as sent.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from statusgen.notifier.delivery import Outgoing, Progress, Transport, masked, masked_in
from statusgen.subscriptions.mail import Composer
from statusgen.subscriptions.store import SubscriptionStore, WebhookSubscription

BATCH = 50
"""Emails per SMTP connection: a relay's limits per connection stay far away, and the
operator sees the run move."""


@dataclass(frozen=True)
class Invitation:
    email: str
    """The address invited; a webhook's contact."""
    components: tuple[str, ...] | None
    language: str
    webhook: str | None = None
    """A Statuspage webhook subscriber's URL (its deliveries keep Statuspage's format)."""

    def compose(self, composer: Composer, now: datetime) -> Outgoing:
        if self.webhook is None:
            return composer.compose("confirm", self.email, self.language, now)
        return composer.compose("webhook_confirm", self.email, self.language, now, webhook=self.asked(now))

    def asked(self, now: datetime) -> WebhookSubscription:
        assert self.webhook is not None
        return WebhookSubscription.asked(self.webhook, WEBHOOK_FORMAT, self.components, self.language, self.email, now)


WEBHOOK_FORMAT = "statuspage"
"""Statuspage's webhook subscribers get Statuspage's JSON, as they did there."""


@dataclass
class Outcome:
    """What became of the invitations."""

    sent: int = 0
    uncertain: int = 0
    webhooks: int = 0
    """Of those sent or uncertain: webhooks' contacts."""
    failed: list[str] = field(default_factory=list)
    """`s***@partner.example: why`, as the relay said (addresses masked: CI logs are often public)."""
    deferred: int = 0


def send(invitations: Sequence[Invitation], composer: Composer, transport: Transport, store: SubscriptionStore,
         now: datetime, stream: TextIO | None = None) -> Outcome:
    """Send each invitation once, `BATCH` per transport call, recording the ones handed over."""
    outcome = Outcome()
    batches = [invitations[start:start + BATCH] for start in range(0, len(invitations), BATCH)]
    for number, batch in enumerate(batches, 1):
        outgoing = [_numbered(index, invitation.compose(composer, now)) for index, invitation in enumerate(batch)]
        progress = Progress(stream, interval=3600.0, label=f"invitations: batch {number}/{len(batches)}")
        transport.deliver(outgoing, _Ledger(batch, store, now, outcome), progress)
    return outcome


def _numbered(index: int, message: Outgoing) -> Outgoing:
    return Outgoing(index, message.sender, message.recipient, message.message_id, message.data)


class _Ledger:
    """The transport's ledger for one batch: what was handed over becomes a pending subscription."""

    def __init__(self, batch: Sequence[Invitation], store: SubscriptionStore, now: datetime,
                 outcome: Outcome) -> None:
        self._batch, self._store, self._now, self._outcome = batch, store, now, outcome
        self._lock = threading.Lock()  # the transport may report from its worker threads

    def committing(self, delivery_id: int) -> None:
        pass

    def sent(self, delivery_id: int) -> None:
        self._record(delivery_id)
        with self._lock:
            self._outcome.sent += 1

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._record(delivery_id)  # it may have arrived: never a second one
        with self._lock:
            self._outcome.uncertain += 1

    def failed(self, delivery_id: int, error: str) -> None:
        email = self._batch[delivery_id].email
        with self._lock:
            self._outcome.failed.append(f"{masked(email)}: {masked_in(error, email)}")

    def retry_later(self, delivery_id: int, error: str) -> None:
        with self._lock:
            self._outcome.deferred += 1

    def _record(self, delivery_id: int) -> None:
        invitation = self._batch[delivery_id]
        if invitation.webhook is None:
            self._store.request(invitation.email, invitation.components, invitation.language, self._now)
            return
        self._store.request_webhook(invitation.webhook, WEBHOOK_FORMAT, invitation.components, invitation.language,
                                    invitation.email, self._now)
        with self._lock:
            self._outcome.webhooks += 1
