"""Signed links: each works for its own address and purpose, until it expires, and not
after any change to it. Time is passed in, never slept through."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from statusgen.tokens import MAX_AGE, PURPOSES, TokenError, _serializer, make_token, read_token

SECRET = "correct horse battery staple"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_round_trip_gives_the_lowercase_address() -> None:
    token = make_token(SECRET, "unsubscribe", " SPOC@Partner.example ", now=NOW)
    assert read_token(SECRET, "unsubscribe", token, MAX_AGE["unsubscribe"], now=NOW) == "spoc@partner.example"


def test_token_is_url_safe() -> None:
    token = make_token(SECRET, "manage", "spoc@partner.example", now=NOW)
    assert all(char.isalnum() or char in "-_." for char in token)


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
    forged = theirs.split(".")[0] + "." + ".".join(mine.split(".")[1:])
    with pytest.raises(TokenError, match="damaged"):
        read_token(SECRET, "unsubscribe", forged, now=NOW)


@pytest.mark.parametrize("position", [0, 10, -10, -1])
def test_any_changed_character_is_refused(position: int) -> None:
    token = make_token(SECRET, "confirm", "a@b.example", now=NOW)
    # A and Q differ in a high bit: the last base64 character's low bits may be padding.
    changed = token[:position] + ("Q" if token[position] in "ABCD" else "A") + token[position:][1:]
    with pytest.raises(TokenError):
        read_token(SECRET, "confirm", changed, now=NOW)


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "....", "é"])
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


@pytest.mark.parametrize("purpose", PURPOSES)
def test_tokens_at_a_given_time_are_the_ones_itsdangerous_makes(purpose: str) -> None:
    """make_token with `now` signs with the key and timestamp made once (the notifier makes
    two tokens per subscriber); the bytes are those of the serializer's own `dumps`, for
    short and long addresses (long ones are compressed), non-ASCII ones and odd case."""
    pick = random.Random(purpose)
    letters = "abcXYZ09.+-_é€"
    addresses = ["spoc@partner.example", " Mixed.Case@Example.ORG ", "a@b", "ü@bücher.example",
                 "x" * 300 + "@example.org"]
    addresses += ["".join(pick.choice(letters) for _ in range(pick.randint(1, 120))) + "@example.org"
                  for _ in range(300)]
    for secret in (SECRET, "another secret of some length"):
        for now in (NOW, NOW + timedelta(days=400, seconds=1)):
            serializer = _serializer(secret, purpose, now)
            for address in addresses:
                assert make_token(secret, purpose, address, now) == \
                    serializer.dumps({"p": purpose, "e": address.strip().lower()}), address
