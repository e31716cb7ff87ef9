"""Signed, expiring, single-purpose tokens for the links in emails.

A token proves that whoever holds the link got it from us, for one address and one
purpose, so the subscription service needs no table of links: confirm a subscription
(double opt-in), manage it, or unsubscribe with one click (RFC 8058).

    make_token(secret, "unsubscribe", "spoc@partner.example")  -> "eyJ..."
    read_token(secret, "unsubscribe", token, MAX_AGE["unsubscribe"])  -> "spoc@partner.example"

Each purpose signs with its own salt, so a confirmation link cannot be replayed as an
unsubscribe link or the other way round; the payload also names the purpose, so the
check does not rest on the salt alone. The payload holds the lowercase address, which is
the address the link acts on: a token for one address never acts on another.

The secret comes from `STATUSGEN_SECRET_KEY`, read by the caller; time is injectable
(`now`) so tests and `--now` runs need no clock.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes, want_bytes
from itsdangerous.signer import HMACAlgorithm

PURPOSES = ("confirm", "manage", "unsubscribe")
MAX_AGE = {
    "confirm": timedelta(hours=48),
    "manage": timedelta(days=400),
    "unsubscribe": timedelta(days=400),
}
"""How long a link works: a confirmation is fresh or void; a link in an old email must
still manage or unsubscribe, for more than a year."""
MIN_SECRET_LENGTH = 16
SALT = "statusgen.tokens.{purpose}"


class TokenError(ValueError):
    """A token that does not prove what it claims; `reason` says why, for the reader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def make_token(secret: str, purpose: str, email: str, now: datetime | None = None) -> str:
    """A URL-safe token for `purpose` on `email`, signed at `now` (default: the clock)."""
    if now is not None:  # the notifier's case: thousands of tokens at one `now`
        return _signer_at(secret, purpose, int(now.astimezone(UTC).timestamp()))(email)
    serializer = _serializer(secret, purpose, now)
    return serializer.dumps({"p": purpose, "e": email.strip().lower()})


@functools.lru_cache(maxsize=64)
def _signer_at(secret: str, purpose: str, timestamp: int) -> Callable[[str], str]:
    """`_serializer_at(...).dumps` for one (secret, purpose, time), with what is the same for
    every token done once: the signing key (itsdangerous derives it again for each
    signature), the timestamp part; and the HMAC by `hmac.digest`. The payload is still
    made by the serializer itself. tests/test_tokens.py compares it with `dumps`."""
    serializer = _serializer_at(secret, purpose, timestamp)
    signer = serializer.make_signer()
    assert isinstance(signer, _ClockSigner) and isinstance(signer.algorithm, HMACAlgorithm)
    key, sep = signer.derive_key(), want_bytes(signer.sep)
    stamp = sep + base64_encode(int_to_bytes(timestamp))

    def sign(email: str) -> str:
        value = serializer.dump_payload({"p": purpose, "e": email.strip().lower()}) + stamp
        return (value + sep + base64_encode(hmac.digest(key, value, "sha256"))).decode("utf-8")

    return sign


def read_token(secret: str, purpose: str, token: str, max_age: timedelta | None = None,
               now: datetime | None = None) -> str:
    """The lowercase email a token was made for; raises `TokenError` saying why not."""
    age = MAX_AGE[purpose] if max_age is None else max_age
    try:
        payload = _serializer(secret, purpose, now).loads(token, max_age=int(age.total_seconds()))
    except SignatureExpired:
        raise TokenError(f"this {purpose} link has expired") from None
    except BadSignature:
        raise TokenError(_why_bad(secret, purpose, token)) from None
    return _email_of(payload, purpose)


def _why_bad(secret: str, purpose: str, token: str) -> str:
    """Tell a link for another purpose apart from a damaged or forged one."""
    for other in PURPOSES:
        if other != purpose and _serializer(secret, other, None).loads_unsafe(token)[0]:
            return f"this link was made to {other}, not to {purpose}"
    return f"this {purpose} link is damaged or was not made by this site"


def _email_of(payload: Any, purpose: str) -> str:
    if not isinstance(payload, dict) or payload.get("p") != purpose or not isinstance(payload.get("e"), str):
        raise TokenError(f"this link was not made to {purpose}")
    return payload["e"]


def _serializer(secret: str, purpose: str, now: datetime | None) -> URLSafeTimedSerializer:
    timestamp = None if now is None else int(now.astimezone(UTC).timestamp())
    return _serializer_at(secret, purpose, timestamp)


@functools.lru_cache(maxsize=64)
def _serializer_at(secret: str, purpose: str, timestamp: int | None) -> URLSafeTimedSerializer:
    """Kept, not made per token: the notifier signs two links for each of thousands of
    subscribers at one `now`, and making the serializer was a third of a token's cost.
    (A serializer holds no state between calls; `timestamp` None reads the clock each time.)"""
    if purpose not in PURPOSES:
        raise ValueError(f"token purpose: expected one of {', '.join(PURPOSES)}; found {purpose!r}")
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"the secret key (STATUSGEN_SECRET_KEY) must have at least {MIN_SECRET_LENGTH} "
                         f"characters; found {len(secret or '')}")
    return URLSafeTimedSerializer(secret, salt=SALT.format(purpose=purpose),
                                  signer=_ClockSigner,
                                  signer_kwargs={"timestamp": timestamp, "digest_method": hashlib.sha256})


class _ClockSigner(TimestampSigner):
    """itsdangerous' signer with an injectable clock: `timestamp` None reads the real one."""

    def __init__(self, *args: Any, timestamp: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timestamp = timestamp

    def get_timestamp(self) -> int:
        return super().get_timestamp() if self.timestamp is None else self.timestamp
