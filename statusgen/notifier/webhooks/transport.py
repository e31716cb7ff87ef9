"""Webhook delivery: SSRF-checked HTTPS POSTs in parallel, reported to the ledger.

STUB (contract): the delivery engineer replaces this file (and adds network.py, signing.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from statusgen.notifier.delivery import Ledger, Progress


@dataclass(frozen=True)
class WebhookRequest:
    delivery_id: int
    url: str
    body: bytes
    webhook_id: str
    """Standard Webhooks `webhook-id`: the same on every retry of this delivery."""
    secrets: tuple[str, ...] = ()
    """`whsec_...` secrets to sign with (two during a rotation); none: unsigned (chat targets)."""
    label: str = "webhook"
    """How progress lines name the target (host and masked path, never the whole URL)."""


class WebhookLedger(Ledger, Protocol):
    def gone(self, delivery_id: int, error: str) -> None: ...   # 410 Gone: the endpoint unsubscribes


class WebhookTransport:
    def deliver(self, requests: Iterable[WebhookRequest], ledger: WebhookLedger, progress: Progress) -> None:
        raise NotImplementedError("contract stub")
