"""The pure parts of webhook delivery: Standard Webhooks signatures, the SSRF policy and
its URL checks, masked URLs, and what an answer means."""

from __future__ import annotations

import base64
import ipaddress
from datetime import UTC, datetime
from email.message import Message

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from statusgen.errors import SetupError
from statusgen.notifier.webhooks.attempt import judge, retry_after
from statusgen.notifier.webhooks.network import (NetworkPolicy, Target, allow_nets_problems, check_url,
                                                 checked_addresses, masked_url, non_public, parse_target)
from statusgen.notifier.webhooks.signing import new_secret, secret_key, secret_problem, signature_headers

NO_NETS = NetworkPolicy()
LOOPBACK = NetworkPolicy.from_env({"STATUSGEN_WEBHOOK_ALLOW_NETS": "127.0.0.0/8"})


# ── signing ───────────────────────────────────────────────────────────────────────────

def test_the_standard_webhooks_test_vector() -> None:
    """The specification's published example: any receiver's library accepts what we sign."""
    headers = signature_headers(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                1614265330, b'{"test": 2432232314}')
    assert headers == [("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"), ("webhook-timestamp", "1614265330"),
                       ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]


def test_new_secrets_are_32_random_bytes_the_reference_library_reads() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith("whsec_")
    assert len(secret_key(first)) == 32
    body, now = b'{"a": "\xc3\xa9"}', int(datetime.now(UTC).timestamp())
    Webhook(first).verify(body, dict(signature_headers([first], "msg_1", now, body)))


@given(st.binary(max_size=300), st.from_regex(r"[!-~]{1,40}", fullmatch=True))
def test_any_body_and_id_verify_with_the_reference_library(body: bytes, webhook_id: str) -> None:
    text = body.decode("latin-1").encode()  # the library decodes the body as UTF-8
    now, secret = int(datetime.now(UTC).timestamp()), "whsec_" + base64.b64encode(bytes(range(24))).decode()
    assert Webhook(secret).verify(text, dict(signature_headers([secret], webhook_id, now, text)),
                                  json_parse=False) is None


@pytest.mark.parametrize(("secret", "problem"), [
    ("s3cret", "a webhook signing secret is whsec_ followed by base64 of 24 to 64 random bytes; this one does not "
               "start with whsec_"),
    ("whsec_not base64!", "a webhook signing secret is whsec_ followed by base64; this one is not valid base64"),
    ("whsec_" + base64.b64encode(bytes(16)).decode(),
     "a webhook signing secret holds 24 to 64 bytes after whsec_; this one holds 16"),
    ("whsec_" + base64.b64encode(bytes(65)).decode(),
     "a webhook signing secret holds 24 to 64 bytes after whsec_; this one holds 65"),
])
def test_malformed_secrets_are_named_without_being_repeated(secret: str, problem: str) -> None:
    assert secret_problem(secret) == problem
    with pytest.raises(ValueError, match="^a webhook signing secret") as raised:
        signature_headers([secret], "msg_1", 1, b"{}")
    assert secret not in str(raised.value)


def test_what_cannot_be_signed() -> None:
    secret = new_secret()
    with pytest.raises(ValueError, match="no signing secret"):
        signature_headers([], "msg_1", 1, b"{}")
    with pytest.raises(ValueError, match="a webhook-id is 1 to 256 visible ASCII characters"):
        signature_headers([secret], "msg_1\r\nx-evil: 1", 1, b"{}")
    with pytest.raises(ValueError, match="whole Unix seconds"):
        signature_headers([secret], "msg_1", 1.5, b"{}")  # type: ignore[arg-type]


# ── the policy ────────────────────────────────────────────────────────────────────────

def test_the_allow_list_comes_from_the_environment() -> None:
    policy = NetworkPolicy.from_env({"STATUSGEN_WEBHOOK_ALLOW_NETS": " 127.0.0.0/8,fd00::/8  10.1.2.3"})
    assert [str(net) for net in policy.allowed] == ["127.0.0.0/8", "fd00::/8", "10.1.2.3/32"]
    assert policy.allows(ipaddress.ip_address("::ffff:127.0.0.9"))  # the same host as 127.0.0.9
    assert not policy.allows(ipaddress.ip_address("10.1.2.4"))
    assert NetworkPolicy.from_env({}).allowed == ()


def test_a_malformed_allow_list_names_the_variable() -> None:
    env = {"STATUSGEN_WEBHOOK_ALLOW_NETS": "127.0.0.0/8, localhost 10.0.0.0/33"}
    expected = [f"STATUSGEN_WEBHOOK_ALLOW_NETS: expected CIDR ranges such as 127.0.0.0/8 or fd00::/8, separated "
                f"by commas or spaces; found {entry!r}" for entry in ("localhost", "10.0.0.0/33")]
    assert allow_nets_problems(env) == expected
    with pytest.raises(SetupError) as raised:
        NetworkPolicy.from_env(env)
    assert list(raised.value.problems) == expected


@pytest.mark.parametrize(("url", "problem"), [
    ("https://hooks.slack.com/services/T0/B0/x", None),
    ("https://desk.partner.example:8443/in?token=x#frag", None),
    ("https://93.184.215.14/", None),
    ("ftp://desk.partner.example/", "expected an https:// URL; found ftp:"),
    ("desk.partner.example/hook", "expected an https:// URL; found no scheme"),
    ("http://desk.partner.example/", "plain http:// is allowed only to the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS; "
                                     "use https://"),
    ("http://93.184.215.14/", "plain http:// is allowed only to the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS; "
                              "use https://"),
    ("https://user:pw@desk.partner.example/", "the URL carries a user name or password before the host: not "
                                              "allowed (authenticate with the signing secret, or a secret in the "
                                              "path)"),
    ("https:///path", "the URL has no host name"),
    ("https://desk.partner.example:0/", "the URL's port is not a number from 1 to 65535"),
    ("https://desk.partner.example:70000/", "the URL's port is not a number from 1 to 65535"),
    ("https://[fe80::1/", "the URL's host is not a valid IPv6 address in brackets"),
    ("https://dësk.example/", "the URL holds characters outside ASCII: write the host as xn--… (IDNA) and "
                              "percent-encode the path"),
    ("https://desk.example/a b", "the URL holds spaces or control characters"),
    ("https://desk.example/a\r\nHost: x", "the URL holds spaces or control characters"),
    ("https://127.0.0.1/", "the URL points at 127.0.0.1, a loopback address: webhooks reach only public addresses "
                           "(or the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS)"),
    ("https://[::1]:8080/", "the URL points at ::1, a loopback address: webhooks reach only public addresses "
                            "(or the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS)"),
    ("https://169.254.169.254/", "the URL points at 169.254.169.254, a link-local address: webhooks reach only "
                                 "public addresses (or the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS)"),
])
def test_check_url(url: str, problem: str | None) -> None:
    assert check_url(url, NO_NETS) == problem


def test_the_allow_list_opens_its_ranges_and_plain_http_to_them() -> None:
    assert check_url("http://127.0.0.1:8080/hook", LOOPBACK) is None
    assert check_url("https://[::ffff:127.0.0.1]/", LOOPBACK) is None
    assert check_url("http://desk.internal/", LOOPBACK) is None  # its addresses are checked when connecting
    assert check_url("http://10.0.0.1/", LOOPBACK) is not None
    target = parse_target("http://desk.internal:8080/in?x=1", LOOPBACK)
    assert target == Target("http", "desk.internal", 8080, "/in?x=1")
    assert target.endpoint == "http://desk.internal:8080/in"
    assert checked_addresses(target, LOOPBACK, lambda host, port: ["127.0.0.2"]) == [ipaddress.ip_address("127.0.0.2")]
    with pytest.raises(Exception, match="plain http:// is allowed only"):
        checked_addresses(target, LOOPBACK, lambda host, port: ["93.184.215.14"])  # public, but plain http


@pytest.mark.parametrize(("address", "kind"), [
    ("93.184.215.14", None), ("2606:4700::1111", None), ("::ffff:93.184.215.14", None), ("64:ff9b::808:808", None),
    ("10.0.0.1", "a private address"), ("172.16.0.1", "a private address"), ("192.168.1.1", "a private address"),
    ("127.0.0.1", "a loopback address"), ("::1", "a loopback address"), ("0.0.0.0", "an unspecified address"),
    ("::", "an unspecified address"), ("169.254.169.254", "a link-local address"),
    ("fe80::1", "a link-local address"), ("224.0.0.1", "a multicast address"), ("ff02::1", "a multicast address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"), ("fc00::1", "a private address"),
    ("fec0::1", "a site-local address"), ("240.0.0.1", "a private address"), ("192.0.2.1", "a private address"),
    ("::ffff:10.0.0.1", "a private address (as 10.0.0.1)"), ("64:ff9b::a00:1", "a private address (as 10.0.0.1)"),
    ("2002:a00:1::", "a private address (as 10.0.0.1)"), ("::a9fe:a9fe", "a link-local address (as 169.254.169.254)"),
])
def test_which_addresses_are_not_public(address: str, kind: str | None) -> None:
    assert non_public(ipaddress.ip_address(address)) == kind


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_in_ipv6_clothes_is_judged_as_itself(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(address))
    assert (non_public(mapped) is None) == (non_public(nat64) is None) == (non_public(address) is None)


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#@[]"),
               min_size=8, max_size=40))
def test_no_message_repeats_the_urls_path_or_query(secret: str) -> None:
    for url in (f"http://203.0.113.9/{secret}", f"https://u:{secret}@x.example/", f"ftp://x.example/{secret}",
                f"https://127.0.0.1/hooks?token={secret}"):
        problem = check_url(url, NO_NETS)
        assert problem is not None and secret not in problem
    assert secret not in masked_url(f"https://hooks.slack.com/services/T0/{secret}?k={secret}")


@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.slack.com/services/T0123ABC/B0456DEF/XyZsecret", "hooks.slack.com/services/T…/***"),
    ("https://discord.com/api/webhooks/1234567/tok3n", "discord.com/api/webhooks/1…/***"),
    ("https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t&threadKey=i1",
     "chat.googleapis.com/v1/spaces/A…/***"),
    ("https://prod-01.westus.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke?sig=s",
     "prod-01.westus.logic.azure.com/workflows/a…/***"),
    ("https://desk.partner.example:8443/statuspage/in", "desk.partner.example:8443/s…/***"),
    ("https://desk.partner.example/?token=x", "desk.partner.example/***"),
    ("https://desk.partner.example", "desk.partner.example"),
    ("http://[::1]:8080/x", "[::1]:8080/x…/***"),
    ("https://[nope/", "(a malformed URL)"),
])
def test_masked_urls(url: str, shown: str) -> None:
    assert masked_url(url) == shown


# ── what an answer means ──────────────────────────────────────────────────────────────

def headers(**values: str) -> Message:
    message = Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


@pytest.mark.parametrize(("status", "gone", "kind"), [
    (200, {410}, "sent"), (202, {410}, "sent"), (204, {410}, "sent"),
    (410, {410}, "gone"), (404, {410}, "failed"), (404, {404, 410}, "gone"),
    (301, {410}, "failed"), (304, {410}, "failed"), (400, {410}, "failed"), (401, {410}, "failed"),
    (403, {410}, "failed"), (413, {410}, "failed"), (408, {410}, "retry"), (425, {410}, "retry"),
    (429, {410}, "retry"), (500, {410}, "retry"), (502, {410}, "retry"), (503, {410}, "retry"),
    (504, {410}, "retry"), (101, {410}, "failed"),
])
def test_judge(status: int, gone: set[int], kind: str) -> None:
    assert judge(status, "Reason", headers(), "", frozenset(gone), 0.0).kind == kind


def test_retry_after() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()
    assert retry_after(None, now) is None
    assert retry_after("120", now) == 120
    assert retry_after(" 5 ", now) == 5
    assert retry_after("Mon, 30 Nov 2026 12:01:00 GMT", now) == 60
    assert retry_after("Mon, 30 Nov 2026 11:00:00 GMT", now) == 0  # in the past: now
    assert retry_after("soon", now) is None
    assert retry_after("-3", now) is None
    outcome = judge(503, "Service Unavailable", headers(retry_after="7"), "busy", frozenset({410}), now)
    assert (outcome.kind, outcome.error, outcome.wait, outcome.status) == (
        "retry", "HTTP 503 Service Unavailable: busy", 7, 503)
