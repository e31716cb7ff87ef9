"""Stable public ids in Statuspage's shape: 12 lowercase letters and digits.

Derived from what never changes (a component id, an incident's file name, an update's
own id), so feeds, calendars, API clients and the notifier see the same id in every
build, whatever else is edited.
"""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


_PAIRS = [ALPHABET[value % 36] + ALPHABET[value // 36] for value in range(36 * 36)]
"""Two base-36 digits, least significant first, for each value below 36²: twelve digits
in six steps (every page and feed entry shows a few ids)."""


def public_id(kind: str, key: str) -> str:
    number = int.from_bytes(hashlib.sha256(f"statusgen:{kind}:{key}".encode()).digest()[:10], "big")
    pairs = []
    for _ in range(6):
        number, pair = divmod(number, 36 * 36)
        pairs.append(_PAIRS[pair])
    return "".join(pairs)


def page_id(base_url: str) -> str:
    return public_id("page", base_url)


def component_id(component: str) -> str:
    return public_id("component", component)


def incident_id(incident: str) -> str:
    return public_id("incident", incident)


def update_id(incident: str, update: str) -> str:
    return public_id("update", f"{incident}/{update}")


def webhook_id(url: str) -> str:
    """A webhook subscriber's short id, the same wherever it is computed (the subscription
    store, subscribers.yaml, the notifier): what ops type (`statusgen subscribers ...`) and
    what its signed links name, so a link never carries the URL (which may be a secret)."""
    return public_id("webhook", url.strip())
