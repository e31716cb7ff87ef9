"""Emails as bytes as they leave the process: what the SMTP server receives, what the
outbox writes to disk, what the subscription service sends. Nothing is parsed by a
forgiving parser first: a header that a mail client would not read as it should (an
RFC 2047 encoded `List-Unsubscribe`, a URL broken inside its angle brackets) fails here.

RFC 2369: a `List-Unsubscribe` value is a list of `<URI>`, unencoded; RFC 8058: the HTTPS
one plus `List-Unsubscribe-Post: List-Unsubscribe=One-Click`; RFC 5322: CRLF, lines of at
most 998 bytes, message ids as `<left@right>`, folded only at whitespace.
"""

from __future__ import annotations

import email
import email.policy
import re
import textwrap
from collections.abc import Iterator
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from statusgen.site.build import build
from statusgen.notifier.message import unsubscribe_headers
from statusgen.notifier.wire import as_uri, ascii_host, fold_literal, wire_bytes
from statusgen.tokens import read_token
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink
from tests.test_subscriptions import Service

SECRET = "w" * 32
HOST = "status.regional-integration-platform.wire-test.example"
"""Long enough that `In-Reply-To: <id@HOST>` is longer than 78 characters."""
LEAVE = "leave@wire-test.example"
SITE_YAML = f"""\
title: {{en: Wire status – partners, nl: Wire-status – partners}}
base_url: https://{HOST}/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions: {{url: https://{HOST}/subscriptions/}}
notify: {{from: Wire status <status@wire-test.example>, unsubscribe_mailto: {LEAVE}}}
"""
SUBSCRIBERS = """\
- {email: group@partner.example, components: [eu-dcc], language: nl}
- {email: all@partner.example}
- {email: app@partner.example, components: [dcc-app], language: en}
"""
INCIDENT = """\
---
title: {en: App sign-in fails, nl: Aanmelden in de app mislukt}
impact: P2
components: {dcc-app: major_outage}
updates:
  - {at: 2026-11-30 09:00, status: investigating, body: {en: We are looking into it., nl: We onderzoeken het.}}
%s---
"""
UPDATE = "  - {at: 2026-11-30 10:30, status: identified, body: {en: Found it., nl: Gevonden.}}\n"
BASELINE, FIRST, SECOND = "2026-11-30T08:00:00+01:00", "2026-11-30T10:00:00+01:00", "2026-11-30T11:00:00+01:00"
RECIPIENTS = {"group@partner.example", "all@partner.example", "app@partner.example"}
WHY = {
    "group@partner.example": "omdat u EU Digitale COVID-certificaten volgt op Wire-status – partners.",
    "all@partner.example": "because you follow all components of Wire status – partners.",
    "app@partner.example": "because you follow Mobile app on Wire status – partners.",
}

LITERAL = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Message-ID", "In-Reply-To", "References")
FIELD = re.compile(r"^([!-9;-~]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", re.M)
"""A header field as it is on the wire: its name, and its value with any folding left in."""
MSG_ID = re.compile(r" <[!-;=?-~]+@[!-;=?-~]+>")
UNSUBSCRIBE = re.compile(r" <(https://[!-;=?-~]+/unsubscribe\?token=([A-Za-z0-9_.\-]+))>"
                         r"(?:,(?:\r\n)?[ \t]+<(mailto:[!-;=?-~]+)>)?")


def wire_fields(data: bytes) -> dict[str, list[str]]:
    """The header fields of raw message bytes, values as they are on the wire, after
    checking what holds for every line of the message."""
    assert data.endswith(b"\r\n"), "the message ends with CRLF"
    assert not re.search(rb"\r(?!\n)|(?<!\r)\n", data), "every line ends with CRLF, no bare CR or LF"
    assert max(len(line) for line in data.split(b"\r\n")) <= 998, "RFC 5322: lines of at most 998 bytes"
    head = data.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    assert head.isascii(), "non-ASCII only as RFC 2047 encoded words, in the Subject and display names"
    text = head.decode("ascii")
    fields: dict[str, list[str]] = {}
    for name, value in FIELD.findall(text):
        fields.setdefault(name, []).append(value)
    assert sum(len(f"{name}:{value}\r\n") for name, values in fields.items() for value in values) == len(text), \
        "every header line belongs to a field"
    return fields


def check_literal_headers(data: bytes, recipient: str, signed_at: datetime, *, mailto: str | None) -> dict[str, Any]:
    """The machine-read headers are exactly as the RFCs say; returns the fields."""
    fields = wire_fields(data)
    for name in LITERAL:
        for value in fields.get(name, []):
            assert "=?" not in value, f"{name} is RFC 2047 encoded: {value!r}"
            if name == "List-Unsubscribe-Post":
                continue
            assert not re.sub(r"<[!-;=?-~]*>", "", value).strip(" \t\r\n,"), \
                f"{name}: only <...> items, each unbroken on one line: {value!r}"
            assert all(len(f"{name}:{line}") <= 78 or "<" in line and line.count("<") == 1
                       for line in value.split("\r\n")), f"{name}: folded where it can be: {value!r}"
    for name in ("Message-ID", "In-Reply-To", "References"):
        for value in fields.get(name, []):
            assert MSG_ID.fullmatch(value), f"{name}: {value!r}"
    (unsubscribe,) = fields["List-Unsubscribe"]
    found = UNSUBSCRIBE.fullmatch(unsubscribe)
    assert found, f"List-Unsubscribe: {unsubscribe!r}"
    url, token, mailto_uri = found.groups()
    assert url.startswith(f"https://{HOST}/subscriptions/unsubscribe?token=")
    assert read_token(SECRET, "unsubscribe", token, now=signed_at) == recipient.lower()  # the signed URL is whole
    assert mailto_uri == (f"mailto:{mailto}?subject=unsubscribe" if mailto else None)
    assert fields["List-Unsubscribe-Post"] == [" List-Unsubscribe=One-Click"]
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in data
    return fields


def subject(fields: dict[str, list[str]]) -> str:
    (raw,) = fields["Subject"]
    return str(make_header(decode_header(raw.replace("\r\n", ""))))


class Raw(SmtpSink):
    """The SMTP sink, keeping each message's bytes as they arrived (after the dot-unstuffing)."""

    def __init__(self) -> None:
        self.raw: list[tuple[str, bytes]] = []
        super().__init__(on_data=self._keep)

    def _keep(self, _session: Any, envelope: Any) -> None:
        self.raw += [(recipient, bytes(envelope.original_content)) for recipient in envelope.rcpt_tos]


@pytest.fixture
def sink() -> Iterator[Raw]:
    with Raw() as server:
        yield server


@pytest.fixture
def root(make_site: MakeSite) -> Path:
    return make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})


def announce(root: Path, run_cli: Any, *args: str) -> None:
    """A baseline, then an incident, then its update: created and updated emails."""
    steps = [(BASELINE, None), (FIRST, INCIDENT % ""), (SECOND, INCIDENT % UPDATE)]
    for now, incident in steps:
        if incident:
            (root / "incidents" / "app.md").write_text(textwrap.dedent(incident), encoding="utf-8")
        build(root, root / "public", now)
        code, _, err = run_cli("notify", "--site", root, *args)
        assert code == 0, err


def test_notify_over_smtp_sends_literal_unsubscribe_and_thread_headers(
        root: Path, sink: Raw, run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_SMTP_HOST": "127.0.0.1",
                        "STATUSGEN_SMTP_PORT": str(sink.port), "STATUSGEN_SMTP_SECURITY": "none"}.items():
        monkeypatch.setenv(name, value)
    announce(root, run_cli, "--transport", "smtp", "--connections", "1")
    assert sorted(recipient for recipient, _ in sink.raw) == sorted([*RECIPIENTS, *RECIPIENTS])
    replies = 0
    for recipient, data in sink.raw:
        signed_at = datetime.fromisoformat(FIRST if b"\r\nIn-Reply-To:" not in data else SECOND)
        fields = check_literal_headers(data, recipient, signed_at, mailto=LEAVE)
        if "In-Reply-To" in fields:
            replies += 1
            assert fields["In-Reply-To"] == fields["References"]
            assert len(f"In-Reply-To:{fields['In-Reply-To'][0]}") > 78  # long, and still whole on one line
        assert "App sign-in fails" in subject(fields) or "Aanmelden in de app mislukt" in subject(fields)
    assert replies == 3


def test_the_outbox_files_hold_the_same_literal_headers(root: Path, run_cli: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    announce(root, run_cli)
    files = sorted((root / ".statusgen" / "outbox" / "new").iterdir())
    assert len(files) == 6
    for file in files:
        data = file.read_bytes()
        (to,) = wire_fields(data)["To"]
        replying = b"\r\nIn-Reply-To:" in data
        check_literal_headers(data, to.strip(), datetime.fromisoformat(SECOND if replying else FIRST), mailto=LEAVE)
        body = email.message_from_bytes(data, policy=email.policy.default).get_body(("plain",)).get_content()
        why = WHY[to.strip()]  # from subscribers.yaml, groups expanded by the loader as for every run
        assert why in " ".join(body.split()), body


def test_the_subscription_services_email_has_one_click_unsubscribe_on_the_wire(root: Path, sink: Raw) -> None:
    service = Service(root, sink, env={"STATUSGEN_SECRET_KEY": SECRET})
    try:
        form = {"email": "Wire.Person@Partner.example", "components": ["eu-dcc"], "language": "nl", "website": ""}
        assert service.post_form("/subscriptions/subscribe", form, origin=f"https://{HOST}").status == 200
        service.mail_to("Wire.Person@partner.example")
        after = service.clock()
    finally:
        service.stop()
    ((recipient, data),) = sink.raw
    fields = check_literal_headers(data, recipient, after, mailto=LEAVE)
    assert subject(fields) == "Bevestig uw abonnement op Wire-status – partners"
    assert "=?" in fields["Subject"][0]  # the one place non-ASCII may be, RFC 2047 encoded


# ── the folding itself ───────────────────────────────────────────────────────────────

def test_literal_headers_fold_only_between_items_and_never_encode() -> None:
    ids = [f"<{n:02d}.{'a' * 20}@{HOST}>" for n in range(4)]
    folded = fold_literal("References", " ".join(ids))
    assert folded == "References: " + "\r\n ".join(ids) + "\r\n"  # each id longer than a line alone: one a line
    short = fold_literal("References", "<a@b.example> <c@d.example>")
    assert short == "References: <a@b.example> <c@d.example>\r\n"
    url = f"https://{HOST}/subscriptions/unsubscribe?token={'x' * 800}"
    assert fold_literal("List-Unsubscribe", f"<{url}>, <mailto:{LEAVE}>") == \
        f"List-Unsubscribe: <{url}>,\r\n <mailto:{LEAVE}>\r\n"
    with pytest.raises(ValueError, match="longer than a header line may be"):
        fold_literal("List-Unsubscribe", f"<{url}{'x' * 200}>")
    with pytest.raises(ValueError, match="must be ASCII"):
        fold_literal("Message-ID", "<ü@example.org>")
    with pytest.raises(ValueError, match="one line"):
        fold_literal("In-Reply-To", "<a@b>\r\nBcc: victim@example.net")


def test_wire_bytes_keeps_literal_headers_whatever_policy_the_message_carries() -> None:
    """The old bug's very mechanism: a message made under `email.policy.SMTP`; `wire_bytes`
    serialises it with the wire policy all the same."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "status@wire-test.example"
    message["In-Reply-To"] = f"<{'m' * 40}@{HOST}>"
    message["List-Unsubscribe"] = f"<https://{HOST}/subscriptions/unsubscribe?token={'t' * 120}>"
    message.set_content("hello")
    fields = wire_fields(wire_bytes(message))
    assert fields["In-Reply-To"] == [f" <{'m' * 40}@{HOST}>"]
    assert fields["List-Unsubscribe"] == [f" <https://{HOST}/subscriptions/unsubscribe?token={'t' * 120}>"]


def test_internationalised_names_become_ascii_uris_and_hosts() -> None:
    headers = dict(unsubscribe_headers("https://státus.bücher.example/abo/unsubscribe?token=abc",
                                       "afmelden@bücher.example"))
    assert headers["List-Unsubscribe"] == ("<https://xn--sttus-yqa.xn--bcher-kva.example/abo/unsubscribe?token=abc>, "
                                           "<mailto:afmelden@b%C3%BCcher.example?subject=unsubscribe>")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ascii_host("bücher.example") == "xn--bcher-kva.example"
    assert ascii_host("status.example.org") == "status.example.org"
    assert as_uri("https://status.example.org/a?b=c") == "https://status.example.org/a?b=c"
    assert unsubscribe_headers("http://localhost:8025/unsubscribe?token=x", None) == [
        ("List-Unsubscribe", "<http://localhost:8025/unsubscribe?token=x>")]  # RFC 8058 needs HTTPS
