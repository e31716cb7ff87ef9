"""Signed links: each works for its own address and purpose, until it expires, and not
after any change to it; nobody without the secret learns anything from one; links sent
before the opaque format (itsdangerous) still work for their own purpose until they
expire. Time is passed in, never slept through."""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from statusgen.tokens import MAX_AGE, PURPOSES, TokenError, make_token, read_token
from tests.addressforms import leaks

SECRET = "correct horse battery staple"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_round_trip_gives_the_lowercase_address() -> None:
    token = make_token(SECRET, "unsubscribe", " SPOC@Partner.example ", now=NOW)
    assert read_token(SECRET, "unsubscribe", token, MAX_AGE["unsubscribe"], now=NOW) == "spoc@partner.example"


def test_token_is_url_safe() -> None:
    token = make_token(SECRET, "manage", "spoc@partner.example", now=NOW)
    assert all(char.isalnum() or char in "-_" for char in token)


def test_same_input_same_token() -> None:
    """An email rebuilt after a crash carries the same links."""
    assert make_token(SECRET, "manage", "a@b.example", NOW) == make_token(SECRET, "manage", "a@b.example", NOW)


def test_max_age_defaults_to_the_purpose() -> None:
    token = make_token(SECRET, "manage", "a@b.example", now=NOW)
    assert read_token(SECRET, "manage", token, now=NOW + timedelta(days=399)) == "a@b.example"


@pytest.mark.parametrize(("purpose", "still_valid", "expired"), [
    ("confirm", timedelta(hours=47, minutes=59), timedelta(hours=48, seconds=1)),
    ("unsubscribe", timedelta(days=365), timedelta(days=401)),
    ("manage", timedelta(days=365), timedelta(days=401)),
])
def test_expiry(purpose: str, still_valid: timedelta, expired: timedelta) -> None:
    token = make_token(SECRET, purpose, "a@b.example", now=NOW)
    assert read_token(SECRET, purpose, token, MAX_AGE[purpose], now=NOW + still_valid) == "a@b.example"
    with pytest.raises(TokenError, match=f"^this {purpose} link has expired$"):
        read_token(SECRET, purpose, token, MAX_AGE[purpose], now=NOW + expired)


def test_a_token_from_the_future_is_refused() -> None:
    token = make_token(SECRET, "confirm", "a@b.example", now=NOW)
    with pytest.raises(TokenError, match="expired"):
        read_token(SECRET, "confirm", token, MAX_AGE["confirm"], now=NOW - timedelta(minutes=5))


def test_an_old_unsubscribe_link_still_works_a_year_later() -> None:
    token = make_token(SECRET, "unsubscribe", "a@b.example", now=NOW)
    assert read_token(SECRET, "unsubscribe", token, MAX_AGE["unsubscribe"], now=NOW + timedelta(days=366))


@pytest.mark.parametrize("made_for", PURPOSES)
def test_wrong_purpose(made_for: str) -> None:
    token = make_token(SECRET, made_for, "a@b.example", now=NOW)
    for other in PURPOSES:
        if other != made_for:
            with pytest.raises(TokenError, match=f"^this link was made to {made_for}, not to {other}$"):
                read_token(SECRET, other, token, MAX_AGE[other], now=NOW)


def test_wrong_secret() -> None:
    token = make_token(SECRET, "unsubscribe", "a@b.example", now=NOW)
    with pytest.raises(TokenError, match="^this unsubscribe link is damaged or was not made by this site$"):
        read_token("another secret of some length", "unsubscribe", token, now=NOW)


def test_tampered_address_is_refused() -> None:
    """Changing the address inside a valid token does not make a token for that address."""
    mine = make_token(SECRET, "unsubscribe", "a@b.example", now=NOW)
    theirs = make_token(SECRET, "unsubscribe", "victim@b.example", now=NOW)
    assert len(mine) == len(theirs)  # the same length: padded to 16 bytes
    for cut in (4, 24, len(mine) - 4):
        for forged in (mine[:cut] + theirs[cut:], theirs[:cut] + mine[cut:]):
            with pytest.raises(TokenError, match="damaged"):
                read_token(SECRET, "unsubscribe", forged, now=NOW)


@pytest.mark.parametrize("position", [0, 10, -10, -1])
def test_any_changed_character_is_refused(position: int) -> None:
    token = make_token(SECRET, "confirm", "a@b.example", now=NOW)
    # A and Q differ in a high bit: the last base64 character's low bits may be padding.
    changed = token[:position] + ("Q" if token[position] in "ABCD" else "A") + token[position:][1:]
    with pytest.raises(TokenError):
        read_token(SECRET, "confirm", changed, now=NOW)


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "....", "é", "Ag", "AgAAAA", "A" * 66, "Ag==", "Ag+/",
                                     "Ag" + "A" * 62 + "\n"])
def test_garbage_is_a_token_error(garbage: str) -> None:
    with pytest.raises(TokenError):
        read_token(SECRET, "unsubscribe", garbage, now=NOW)


@pytest.mark.parametrize("secret", ["", "short", "fifteen chars!!"])
def test_weak_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="^the secret key \\(STATUSGEN_SECRET_KEY\\) must have at least 16"):
        make_token(secret, "confirm", "a@b.example", now=NOW)
    with pytest.raises(ValueError, match="STATUSGEN_SECRET_KEY"):
        read_token(secret, "confirm", "anything", now=NOW)


def test_unknown_purpose_is_a_programming_error() -> None:
    expected = "^token purpose: expected one of confirm, manage, unsubscribe; found 'login'$"
    with pytest.raises(ValueError, match=expected):
        make_token(SECRET, "login", "a@b.example", now=NOW)


def test_token_error_is_a_value_error_with_a_reason() -> None:
    with pytest.raises(ValueError) as caught:
        read_token(SECRET, "confirm", "x", now=NOW)
    assert isinstance(caught.value, TokenError) and caught.value.reason.startswith("this confirm link")


def test_without_now_the_clock_is_used() -> None:
    token = make_token(SECRET, "confirm", "a@b.example")
    assert read_token(SECRET, "confirm", token) == "a@b.example"


# ── opaque ────────────────────────────────────────────────────────────────────────────

ADDRESSES = ["reader@example.org", " Mixed.Case@Example.ORG ", "a@b", "ü@bücher.example", "x" * 300 + "@example.org",
             "webhook:0123456789abcdef"]


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("address", ADDRESSES)
def test_a_token_shows_neither_the_address_nor_the_purpose_nor_the_time(purpose: str, address: str) -> None:
    token = make_token(SECRET, purpose, address, now=NOW)
    sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert leaks(token, address) == []
    for clear in (purpose.encode(), int(NOW.timestamp()).to_bytes(4, "big"), address.strip().lower().encode()[:6]):
        assert clear not in sealed
    assert read_token(SECRET, purpose, token, now=NOW) == address.strip().lower()


def test_any_text_round_trips_also_a_lone_surrogate_yaml_can_write() -> None:
    for address in ("a\ud800b@x.example", "\x00@x.example", "ends.in.nul\x00\x00", "é" * 200):
        assert read_token(SECRET, "manage", make_token(SECRET, "manage", address, NOW), now=NOW) == address


def test_the_check_for_addresses_finds_them_in_the_old_tokens() -> None:
    """`leaks` is what the service's test relies on: it finds the address in the tokens
    that used to be made (readable base64 JSON), at every alignment."""
    for address in ("reader@example.org", "ab@c.example", "abc@d.example", "Partner.Desk@Example.NET"):
        for purpose in PURPOSES:
            assert leaks(old_token(SECRET, purpose, address, NOW), address), (purpose, address)


def test_a_token_is_shorter_than_before_and_its_length_says_little() -> None:
    """66 characters for a typical address (110 before); addresses that differ by up to
    15 bytes in length give tokens of one length."""
    assert len(make_token(SECRET, "unsubscribe", "reader@example.org", now=NOW)) == 66
    assert len(old_token(SECRET, "unsubscribe", "reader@example.org", NOW)) == 110
    assert len({len(make_token(SECRET, "manage", "x" * n + "@b.example", now=NOW)) for n in range(1, 17)}) == 1


def test_tokens_for_close_inputs_share_nothing_but_the_version() -> None:
    token = make_token(SECRET, "manage", "a@b.example", now=NOW)
    others = [make_token(SECRET, "manage", "b@b.example", now=NOW),
              make_token(SECRET, "manage", "a@b.example", now=NOW + timedelta(seconds=1)),
              make_token(SECRET, "unsubscribe", "a@b.example", now=NOW),
              make_token("another secret of some length", "manage", "a@b.example", now=NOW)]
    for other in others:
        assert token[0] == other[0] == "A" and len(token) == len(other)
        assert sum(mine == theirs for mine, theirs in zip(token[2:], other[2:])) < 10  # ~1 in 64 by chance


def test_a_token_of_another_version_is_refused() -> None:
    token = make_token(SECRET, "confirm", "a@b.example", now=NOW)
    sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for version in (b"\x00", b"\x01", b"\x03"):
        other = base64.urlsafe_b64encode(version + sealed[1:]).rstrip(b"=").decode("ascii")
        with pytest.raises(TokenError, match="^this confirm link is damaged or was not made by this site$"):
            read_token(SECRET, "confirm", other, now=NOW)


def test_new_tokens_are_never_in_the_old_format() -> None:
    for purpose in PURPOSES:
        for now in (NOW, None):
            token = make_token(SECRET, purpose, "reader@example.org", now=now)
            assert "." not in token and token.startswith("A")


# ── links sent before the opaque format ─────────────────────────────────────────────

def old_token(secret: str, purpose: str, email: str, now: datetime) -> str:
    """How statusgen made links before issue 16: itsdangerous' URL-safe timed serializer,
    a salt per purpose, HMAC-SHA256 (`statusgen.tokens.make_token` of that time)."""
    timestamp = int(now.astimezone(UTC).timestamp())

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return timestamp

    serializer = URLSafeTimedSerializer(secret, salt=f"statusgen.tokens.{purpose}", signer=Signer,
                                        signer_kwargs={"digest_method": hashlib.sha256})
    return serializer.dumps({"p": purpose, "e": email.strip().lower()})


SENT = {
    "confirm": "eyJwIjoiY29uZmlybSIsImUiOiJyZWFkZXJAZXhhbXBsZS5vcmcifQ.aw1lQA."
               "ynK9Uvs1XNrsyTgVAdLIAjBYiwSk6FlyCV1p16ibFqI",
    "manage": "eyJwIjoibWFuYWdlIiwiZSI6InJlYWRlckBleGFtcGxlLm9yZyJ9.aw1lQA."
              "Nu3nUPYpQuo07umeqoYxS55PB3af_6YWC6RSZD0dUJw",
    "unsubscribe": "eyJwIjoidW5zdWJzY3JpYmUiLCJlIjoicmVhZGVyQGV4YW1wbGUub3JnIn0.aw1lQA."
                   "sIOJXJLWHQliugWlruDBGea5i06WmGnvRhfmMHgRzBI",
}
"""Made by statusgen's own make_token before issue 16 for reader@example.org, with SECRET, at NOW."""


def test_the_old_maker_here_is_the_one_that_made_the_links_sent() -> None:
    for purpose, token in SENT.items():
        assert old_token(SECRET, purpose, "reader@example.org", NOW) == token


@pytest.mark.parametrize("purpose", PURPOSES)
def test_links_sent_before_work_for_their_own_purpose_until_they_expire(purpose: str) -> None:
    token, last = SENT[purpose], NOW + MAX_AGE[purpose]
    assert read_token(SECRET, purpose, token, now=NOW) == "reader@example.org"
    assert read_token(SECRET, purpose, token, now=last) == "reader@example.org"
    with pytest.raises(TokenError, match=f"^this {purpose} link has expired$"):
        read_token(SECRET, purpose, token, now=last + timedelta(seconds=1))
    with pytest.raises(TokenError, match=f"^this {purpose} link has expired$"):
        read_token(SECRET, purpose, token, now=NOW - timedelta(minutes=5))
    for other in PURPOSES:
        if other != purpose:
            with pytest.raises(TokenError, match=f"^this link was made to {purpose}, not to {other}$"):
                read_token(SECRET, other, token, now=NOW)
    with pytest.raises(TokenError, match=f"^this {purpose} link is damaged or was not made by this site$"):
        read_token("another secret of some length", purpose, token, now=NOW)
    changed = token[:-2] + ("Q" if token[-2] in "ABCD" else "A") + token[-1]
    with pytest.raises(TokenError, match="damaged"):
        read_token(SECRET, purpose, changed, now=NOW)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_old_links_for_any_address_are_read(purpose: str) -> None:
    """Short and long addresses (long ones were compressed), non-ASCII ones and odd case."""
    pick = random.Random(purpose)
    letters = "abcXYZ09.+-_é€"
    addresses = ["spoc@partner.example", " Mixed.Case@Example.ORG ", "a@b", "ü@bücher.example",
                 "x" * 300 + "@example.org", "webhook:0123456789abcdef"]
    addresses += ["".join(pick.choice(letters) for _ in range(pick.randint(1, 120))) + "@example.org"
                  for _ in range(100)]
    later = NOW + timedelta(hours=1)
    for address in addresses:
        token = old_token(SECRET, purpose, address, NOW)
        assert read_token(SECRET, purpose, token, now=later) == address.strip().lower(), address
        assert read_token(SECRET, purpose, make_token(SECRET, purpose, address, NOW), now=later) == \
            address.strip().lower(), address
