"""Opaque, signed, expiring, single-purpose tokens for the links in emails.

A token proves that whoever holds the link got it from us, for one address and one
purpose, so the subscription service needs no table of links: confirm a subscription
(double opt-in), manage it, or unsubscribe with one click (RFC 8058).

    make_token(secret, "unsubscribe", "spoc@partner.example")  -> "Al9CRXKq..." (66 characters)
    read_token(secret, "unsubscribe", token, MAX_AGE["unsubscribe"])  -> "spoc@partner.example"

Links end up in browser histories and in the access logs of proxies and CDNs, so a token
tells nobody without the secret anything: it is encrypted, not only signed (version 2):

    token     = base64url without padding (VERSION + AES-SIV(key[purpose], plaintext, aad=VERSION))
    plaintext = purpose index (1 byte) + signing time (4 bytes, seconds since 1970, big-endian,
                until 2106)
                + the lowercase address (UTF-8; a lone surrogate, which YAML can write, kept)
                + 0x80 + zero bytes to a multiple of 16

AES-SIV (RFC 5297) authenticates as it encrypts: a changed, truncated or forged token does
not decrypt. It is deterministic (no nonce): the same address, purpose and second give the
same token, which the notifier relies on (an email rebuilt after a crash is byte-identical).
Each purpose has its own key (HKDF-SHA256 of the secret), so a confirmation link cannot be
replayed as an unsubscribe link or the other way round; the plaintext also names the
purpose, so the check does not rest on the keys alone. The padding hides the address's
length to within 16 bytes. The address is the one the link acts on: a token for one
address never acts on another.

Links sent before version 2 (itsdangerous: readable base64 JSON, a timestamp and an HMAC,
joined by dots; base64url never has a dot) are still read for their own purpose until they
expire (at most `MAX_AGE`, 400 days); none are made any more. See `_read_legacy`.

The secret comes from `STATUSGEN_SECRET_KEY`, read by the caller; time is injectable
(`now`) so tests and `--now` runs need no clock.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import struct
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

PURPOSES = ("confirm", "manage", "unsubscribe")
MAX_AGE = {
    "confirm": timedelta(hours=48),
    "manage": timedelta(days=400),
    "unsubscribe": timedelta(days=400),
}
"""How long a link works: a confirmation is fresh or void; a link in an old email must
still manage or unsubscribe, for more than a year."""
MIN_SECRET_LENGTH = 16
VERSION = b"\x02"
"""The first byte of every token made now (in clear, and authenticated): room for a next format."""
BLOCK = 16
"""Plaintexts are padded to a multiple of this, so a token's length says little of the address's."""
KEY_INFO = "statusgen.tokens.v2.{purpose}"
SALT = "statusgen.tokens.{purpose}"
"""The salt of version 1 (itsdangerous), still read."""
_HEAD = struct.Struct(">BI")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


class TokenError(ValueError):
    """A token that does not prove what it claims; `reason` says why, for the reader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def make_token(secret: str, purpose: str, email: str, now: datetime | None = None) -> str:
    """A URL-safe opaque token for `purpose` on `email`, made at `now` (default: the clock)."""
    cipher = _cipher(secret, purpose)
    address = email.strip().lower().encode("utf-8", "surrogatepass")
    plaintext = _HEAD.pack(PURPOSES.index(purpose), _timestamp(now)) + address
    plaintext += b"\x80" + b"\x00" * (-(len(plaintext) + 1) % BLOCK)
    sealed = VERSION + cipher.encrypt(plaintext, [VERSION])
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def read_token(secret: str, purpose: str, token: str, max_age: timedelta | None = None,
               now: datetime | None = None) -> str:
    """The lowercase email a token was made for; raises `TokenError` saying why not."""
    age = MAX_AGE[purpose] if max_age is None else max_age
    cipher = _cipher(secret, purpose)
    if "." in token:
        return _read_legacy(secret, purpose, token, age, now)
    sealed = _decoded(token)
    if sealed is None or sealed[:1] != VERSION:
        raise TokenError(f"this {purpose} link is damaged or was not made by this site")
    try:
        plaintext = cipher.decrypt(sealed[1:], [VERSION])
    except InvalidTag:
        raise TokenError(_why_bad(secret, purpose, sealed)) from None
    made_for, signed_at = _HEAD.unpack_from(plaintext)
    if made_for != PURPOSES.index(purpose):
        raise TokenError(f"this link was not made to {purpose}")
    if not 0 <= _timestamp(now) - signed_at <= age.total_seconds():
        raise TokenError(f"this {purpose} link has expired")
    return plaintext[_HEAD.size:].rstrip(b"\x00")[:-1].decode("utf-8", "surrogatepass")


def _timestamp(now: datetime | None) -> int:
    return int(time.time()) if now is None else int(now.astimezone(UTC).timestamp())


def _decoded(token: str) -> bytes | None:
    """The token's bytes, or None unless it is canonical base64url without padding: one
    token per byte string, so a changed character is never the same token."""
    if not _TOKEN.fullmatch(token):
        return None
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    return sealed if base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii") == token else None


def _why_bad(secret: str, purpose: str, sealed: bytes) -> str:
    """Tell a link for another purpose apart from a damaged or forged one: only tried on a
    failure, it costs two more decryptions."""
    for other in PURPOSES:
        if other != purpose:
            try:
                _cipher(secret, other).decrypt(sealed[1:], [VERSION])
            except InvalidTag:
                continue
            return f"this link was made to {other}, not to {purpose}"
    return f"this {purpose} link is damaged or was not made by this site"


@functools.lru_cache(maxsize=64)
def _cipher(secret: str, purpose: str) -> AESSIV:
    """The purpose's AES-SIV (AES-256: a 64-byte key), derived once per (secret, purpose):
    the notifier makes two tokens for each of thousands of subscribers."""
    _check(secret, purpose)
    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None,
               info=KEY_INFO.format(purpose=purpose).encode("ascii")).derive(secret.encode("utf-8"))
    return AESSIV(key)


def _check(secret: str, purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"token purpose: expected one of {', '.join(PURPOSES)}; found {purpose!r}")
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"the secret key (STATUSGEN_SECRET_KEY) must have at least {MIN_SECRET_LENGTH} "
                         f"characters; found {len(secret or '')}")


# ── version 1: links already sent (itsdangerous); read only, until they expire ──────────
# Made until issue 16 (December 2026); with MAX_AGE of 400 days the last of them expires in
# January 2028, when this part and the itsdangerous dependency can go. The purpose's salt
# keeps one purpose's link from working for another, as it always did.


def _read_legacy(secret: str, purpose: str, token: str, age: timedelta, now: datetime | None) -> str:
    try:
        payload = _serializer(secret, purpose, now).loads(token, max_age=int(age.total_seconds()))
    except SignatureExpired:
        raise TokenError(f"this {purpose} link has expired") from None
    except BadSignature:
        raise TokenError(_why_bad_legacy(secret, purpose, token)) from None
    return _email_of(payload, purpose)


def _why_bad_legacy(secret: str, purpose: str, token: str) -> str:
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
    """Kept, not made per token (a serializer holds no state between calls; `timestamp`
    None reads the clock each time)."""
    _check(secret, purpose)
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
