"""Self-service webhooks' signing secrets: derived when needed, never stored.

    STATUSGEN_SECRET_KEY ─┐
    webhook id ───────────┼─HMAC-SHA256─▶ whsec_<base64 of 32 bytes>   (signing_secret)
    seed (random, stored) ┘

The store keeps a random `seed` per subscription, not the secret: a copy of the database
(a backup, `statusgen db copy`, a stolen file) lets nobody sign, and the key alone (it
lives in the environment) neither. The service derives the secret once to show it to the
contact; the notifier's audience derives it for every run. Rotating means a new seed
(the previous one keeps signing beside it for `OVERLAP`, as Standard Webhooks' rotation
expects: receivers that know either secret accept the delivery; the service's once-a-minute
housekeeping, `SubscriptionStore.purge`, then forgets it).

Changing STATUSGEN_SECRET_KEY changes every derived secret (as it voids every signed
link). Each subscription stores a `check` of the key it was made under, so that case is
found and named (`merge.StoreAudience.checks`) instead of signing with secrets no
receiver knows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random
from datetime import timedelta

from statusgen.notifier.webhooks.signing import PREFIX

OVERLAP = timedelta(hours=24)
"""How long the previous secret keeps signing after a rotation."""
OVERLAP_HOURS = int(OVERLAP / timedelta(hours=1))


def new_seed() -> str:
    return random.token_hex(16)


def signing_secret(key: str, webhook_id: str, seed: str) -> str:
    """The `whsec_` secret of one subscription (32 bytes, as `signing.new_secret` makes them)."""
    return PREFIX + base64.b64encode(_mac(key, "secret", webhook_id, seed)).decode("ascii")


def key_check(key: str, webhook_id: str, seed: str) -> str:
    """What tells, without the secret, whether `key` is the one a seed was stored under."""
    return _mac(key, "check", webhook_id, seed).hex()[:16]


def seed_tag(seed: str) -> str:
    """A rotation link names the seed it replaces by this tag (a link token is readable,
    so never by the seed itself): the link works once, until the seed changes."""
    return hashlib.sha256(f"statusgen.webhook-seed\n{seed}".encode()).hexdigest()[:16]


def _mac(key: str, purpose: str, webhook_id: str, seed: str) -> bytes:
    message = f"statusgen.webhook-{purpose}\n{webhook_id}\n{seed}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).digest()
