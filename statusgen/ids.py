"""Stable public ids in Statuspage's shape: 12 lowercase letters and digits.

Derived from what never changes (a component id, an incident's file name, an update's
own id), so feeds, calendars, API clients and the notifier see the same id in every
build, whatever else is edited.
"""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def public_id(kind: str, key: str) -> str:
    number = int.from_bytes(hashlib.sha256(f"statusgen:{kind}:{key}".encode()).digest()[:10], "big")
    chars = []
    for _ in range(12):
        number, digit = divmod(number, 36)
        chars.append(ALPHABET[digit])
    return "".join(chars)


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
