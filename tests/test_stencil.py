"""The fast path gives the reference's bytes: `Stencil(...)(subscriber)` against
`wire_bytes(build_message(...))` for every kind of event, several languages, odd addresses,
long and non-ASCII subjects, both unsubscribe settings; and header injection refused by both."""

# ruff: noqa: F811 - the fixtures from test_emails are imported by name, as pytest finds them
from __future__ import annotations

import dataclasses
import email
import email.policy
import itertools
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statusgen.content.model import Subscriber
from statusgen.notifier.compose import RenderedEmail, render_email
from statusgen.notifier.message import MailSettings, build_message
from statusgen.notifier.placeholders import slot
from statusgen.notifier.stencil import Stencil, _Body
from statusgen.notifier.wire import POLICY, wire_bytes
from statusgen.site.theme import Theme
from tests.test_emails import (  # noqa: F401
    KINDS,
    MAILTO_ONLY,
    SETTINGS,
    events,
    later_snapshot,
    snapshot,
    theme,
)

GROUP = ("dcc-certificates", "dcc-app", "dcc-lookup")
SUBSCRIBERS = [
    Subscriber("spoc@partner.example", None, "en"),
    Subscriber("Contact@Gemeente.example", GROUP, "nl"),
    Subscriber("a.very.long.local.part.that.goes.on.and.on.and.on@a-long-subdomain.partner.example", None, "nl"),
    Subscriber("exactly.seventy.four.characters.long.address.x@partner-example.example", ("dcc-app",), "en"),
    Subscriber("Jürgen Müller <jurgen@partner.example>", ("dcc-app",), "de"),
    Subscriber("jürgen@bücher.example", None, "en"),
    Subscriber('"quoted local"@partner.example', GROUP, "nl"),
    Subscriber("\"Service desk, partner\" <desk@partner.example>", None, "en"),
    Subscriber("o'brien+status=x@partner.example", None, "nl"),
]
SUBJECTS = [
    "Ünïcödé: Störung bei der Ausstellung von Zertifikaten — é à ç " * 3,
    "A long ASCII subject " * 8,
    "Kurz",
    "=?utf-8?q?looks_encoded?= but is not",
]


def same_bytes(rendered: RenderedEmail, event: Any, snapshot: dict[str, Any], subscriber: Subscriber,
               mail: MailSettings) -> bytes:
    reference = wire_bytes(build_message(rendered, event, snapshot, subscriber, mail))
    fast = Stencil(rendered, event, snapshot, subscriber.language, mail)(subscriber)
    assert fast == reference, (event.kind, subscriber)
    return fast


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mail", [SETTINGS, MAILTO_ONLY], ids=["service", "mailto"])
def test_every_kind_language_and_address_gives_the_same_bytes(kind: str, mail: MailSettings,
                                                               events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events[kind]
    for subscriber in SUBSCRIBERS:
        rendered = render_email(event, snapshot, subscriber.language, theme)
        data = same_bytes(rendered, event, snapshot, subscriber, mail)
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage) and len(list(parsed.iter_parts())) == 2


def test_one_stencil_serves_every_subscriber(events: dict[str, Any], theme: Theme) -> None:
    """The run makes one stencil per (event, language) and reuses it: what it caches (the
    components line, the folded headers, the bodies per set of conditions) is no one else's."""
    event, snapshot = events["incident_updated"]
    rendered = render_email(event, snapshot, "nl", theme)
    stencil = Stencil(rendered, event, snapshot, "nl", SETTINGS)
    for subscriber in [dataclasses.replace(s, language="nl") for s in SUBSCRIBERS * 2]:
        assert stencil(subscriber) == wire_bytes(build_message(rendered, event, snapshot, subscriber, SETTINGS))


@pytest.mark.parametrize("subject", SUBJECTS)
def test_long_and_non_ascii_subjects_fold_and_encode_the_same(subject: str, events: dict[str, Any],
                                                              theme: Theme) -> None:
    event, snapshot = events["maintenance_scheduled"]
    for subscriber in SUBSCRIBERS[:4]:
        rendered = dataclasses.replace(render_email(event, snapshot, subscriber.language, theme), subject=subject)
        data = same_bytes(rendered, event, snapshot, subscriber, SETTINGS)
        lines = data.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")
        start = next(n for n, line in enumerate(lines) if line.startswith("Subject: "))
        folded = [lines[start], *itertools.takewhile(lambda line: line[:1] == " ", lines[start + 1:])]
        assert all(len(line) <= 78 for line in folded) and (len(folded) > 1) == (len(subject) > 70)
        assert subject.isascii() or "=?utf-8?" in folded[0]


@pytest.mark.parametrize("bad", ["Outage\r\nBcc: victim@example.net", "Outage\nBcc: victim@example.net", "  "])
def test_a_subject_with_a_line_break_is_refused_by_both(bad: str, events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_created"]
    rendered = dataclasses.replace(render_email(event, snapshot, "en", theme), subject=bad)
    with pytest.raises(ValueError, match="Subject: a header value must be one non-empty line"):
        build_message(rendered, event, snapshot, SUBSCRIBERS[0], SETTINGS)
    with pytest.raises(ValueError, match="Subject: a header value must be one non-empty line"):
        Stencil(rendered, event, snapshot, "en", SETTINGS)


@pytest.mark.parametrize("address", ["victim@example.net\r\nBcc: other@example.net", "a@example.net\nX-Evil: 1",
                                     "a@example.net, b@example.net"])
def test_an_address_that_would_add_a_header_or_a_recipient_is_refused_by_both(address: str, events: dict[str, Any],
                                                                              theme: Theme) -> None:
    event, snapshot = events["incident_created"]
    rendered = render_email(event, snapshot, "en", theme)
    stencil = Stencil(rendered, event, snapshot, "en", SETTINGS)
    subscriber = Subscriber(address, None, "en")
    with pytest.raises(ValueError, match="^To: ") as reference:
        build_message(rendered, event, snapshot, subscriber, SETTINGS)
    with pytest.raises(ValueError, match="^To: ") as fast:
        stencil(subscriber)
    assert str(fast.value) == str(reference.value)
    assert b"Bcc" not in stencil(SUBSCRIBERS[0]) and b"X-Evil" not in stencil(SUBSCRIBERS[0])


# --- The bodies: quoted-printable line by line, for any text and values ---------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\ue000\ue001\ue002\ue003\ue004"),
               max_size=120)
LINE_BREAKS = st.sampled_from(["\n", "\r\n", "\r", " \n", "\t\n", "=\n", ""])


@settings(max_examples=300, deadline=None, derandomize=True)  # the same cases in every run: CI is not a lottery
@given(pieces=st.lists(st.tuples(TEXT, LINE_BREAKS, st.booleans()), max_size=8), value=TEXT, other=TEXT)
def test_a_body_filled_per_line_is_the_body_encoded_whole(pieces: list[tuple[str, str, bool]], value: str,
                                                          other: str) -> None:
    """`_Body` encodes the lines with a slot per subscriber and the others once; the result is
    what `set_content(..., cte="quoted-printable")` and the generator make of the filled text,
    whatever the text, the values (line breaks, '=', trailing blanks, non-ASCII) and the widths."""
    kept = "".join(text + (str(slot("manage_url")) if with_slot else "") + brk for text, brk, with_slot in pieces)
    values = {"manage_url": value, "unsubscribe_url": other, "following": other}
    for escape in (str, _html_escape):
        reference = EmailMessage(policy=POLICY)
        reference.set_content(kept.replace(str(slot("manage_url")), escape(value)), cte="quoted-printable")
        expected = wire_bytes(reference).split(b"\r\n\r\n", 1)[1]
        assert _Body(kept, escape).fill(values) == expected


def _html_escape(text: str) -> str:
    import html
    return html.escape(text)
