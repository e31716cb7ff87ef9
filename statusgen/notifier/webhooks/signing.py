"""Standard Webhooks signatures: what lets a receiver trust that a delivery came from us.

    secret (whsec_ + base64 of 24–64 bytes) ─┐
    webhook-id, this attempt's timestamp, the exact body bytes
        ──HMAC-SHA256 of "{id}.{timestamp}.{body}"──▶ webhook-signature: v1,<base64> [v1,<base64> ...]

One `v1,` entry per secret, space-separated: during a rotation the old and the new
secret both sign, and a receiver that knows either accepts the delivery. The standard
library's `hmac` does the work; the `standardwebhooks` package (the reference
implementation) verifies our headers in the tests, an independent check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as random
from collections.abc import Sequence

PREFIX = "whsec_"
KEY_BYTES = 32
"""How many random bytes a new secret holds (the standard allows 24 to 64)."""
SMALLEST, LARGEST = 24, 64
WEBHOOK_ID = re.compile(r"[!-~]{1,256}")
"""A `webhook-id` is printed into a header: visible ASCII only, no spaces or line breaks."""


def new_secret() -> str:
    """A fresh signing secret, `whsec_` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(random.token_bytes(KEY_BYTES)).decode("ascii")


def secret_problem(secret: str) -> str | None:
    """What is wrong with a signing secret, or None. The message never repeats the secret."""
    if not secret.startswith(PREFIX):
        return (f"a webhook signing secret is {PREFIX} followed by base64 of {SMALLEST} to {LARGEST} random bytes;"
                f" this one does not start with {PREFIX}")
    try:
        key = base64.b64decode(secret[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return f"a webhook signing secret is {PREFIX} followed by base64; this one is not valid base64"
    if not SMALLEST <= len(key) <= LARGEST:
        return (f"a webhook signing secret holds {SMALLEST} to {LARGEST} bytes after {PREFIX}; "
                f"this one holds {len(key)}")
    return None


def signing_problem(secrets: Sequence[str], webhook_id: str) -> str | None:
    """Why a request cannot be signed with these secrets and this id, or None."""
    if not secrets:
        return "no signing secret: a signed delivery needs at least one whsec_ secret"
    if not WEBHOOK_ID.fullmatch(webhook_id):
        return f"a webhook-id is 1 to 256 visible ASCII characters without spaces; found {webhook_id!r}"
    return next(filter(None, map(secret_problem, secrets)), None)


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret; ValueError (without the secret) when it is malformed."""
    if (problem := secret_problem(secret)) is not None:
        raise ValueError(problem)
    return base64.b64decode(secret[len(PREFIX):])


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` entry."""
    signed = f"{webhook_id}.{timestamp}.".encode("ascii") + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def signature_headers(secrets: Sequence[str], webhook_id: str, timestamp: int, body: bytes) -> list[tuple[str, str]]:
    """The three Standard Webhooks headers for one attempt: `timestamp` is that attempt's
    integer Unix time (a retry signs anew), `webhook_id` the delivery's (the same on every
    retry, so receivers can drop duplicates). ValueError for no secret, a malformed one,
    or an id that cannot be a header value."""
    if (problem := signing_problem(secrets, webhook_id)) is not None:
        raise ValueError(problem)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"a webhook-timestamp is whole Unix seconds; found {timestamp!r}")
    signatures = " ".join(signature(secret_key(secret), webhook_id, timestamp, body) for secret in secrets)
    return [("webhook-id", webhook_id), ("webhook-timestamp", str(timestamp)), ("webhook-signature", signatures)]
