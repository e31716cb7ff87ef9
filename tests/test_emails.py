"""Notification emails, read back the way a mail client reads them: parsed by Python's
email parser from the bytes we would send, for events found by the real snapshot diff."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest

from statusgen.site.build import BuildResult, build
from statusgen.notifier.compose import EmailRenderer, RenderedEmail, render_email
from statusgen.notifier.message import MailSettings, build_message, message_id, thread_root
from statusgen.notifier.plaintext import markdown_to_text
from statusgen.notifier.events import THREAD_STARTERS, Event, diff
from statusgen.content.model import Subscriber
from statusgen.site.theme import Theme
from statusgen.tokens import read_token
from tests.conftest import EXAMPLE_NOW, ROOT, MakeSite

NOW = datetime.fromisoformat(EXAMPLE_NOW)
SECRET = "a test secret, long enough"
SETTINGS = MailSettings(sender="Platform status <status@example.org>", site_host="status.example.org",
                        subscriptions_url="https://status.example.org/subscriptions/",
                        unsubscribe_mailto="status-unsubscribe@example.org", secret=SECRET)
MAILTO_ONLY = MailSettings(sender="status@example.org", site_host="status.example.org",
                           subscriptions_url=None, unsubscribe_mailto="status-unsubscribe@example.org", secret=None)
EVERYTHING = Subscriber("spoc@partner.example", None, "en")
DUTCH = Subscriber("Contact@Gemeente.example", ("dcc-certificates", "dcc-app", "dcc-lookup"), "nl")
P1 = "2026-11-03-pdf-certificates-unavailable"
LOOKUP = "2026-11-30-lookup-app-slow"
UPGRADE = "2026-12-06-gateway-and-signing-network-upgrade"
DATABASE = "2026-09-16-database-maintenance"
CANCELLED = "2026-10-14-eid-connector-upgrade"
MARKDOWN_LEFT = re.compile(r"\*\*|__|\]\(|^\s*#|^\s*[*+] |(?<!\w)[*_]\w[^*_\n]*\w[*_](?!\w)|`", re.M)


def parse(message: EmailMessage) -> EmailMessage:
    """What a mail client gets: the message as bytes on the wire, parsed again."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a parsed message that must have exactly those two parts."""
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/html"]
    text, html = (part.get_content().replace("\r\n", "\n") for part in message.iter_parts())
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8"
    return text, html


@pytest.fixture(scope="module")
def snapshot(example_build: BuildResult) -> dict[str, Any]:
    return json.loads(example_build.outputs.snapshot)


@pytest.fixture(scope="module")
def theme() -> Theme:
    return Theme(ROOT)


@pytest.fixture(scope="module")
def later_snapshot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The example site while the December maintenance runs."""
    result = build(ROOT, tmp_path_factory.mktemp("later") / "public", "2026-12-06T23:00:00+01:00")
    return json.loads(result.outputs.snapshot)


@pytest.fixture(scope="module")
def events(snapshot: dict[str, Any], later_snapshot: dict[str, Any]) -> dict[str, tuple[Event, dict[str, Any]]]:
    """One event of every kind, each with the snapshot it was found in, all from `diff`."""
    first, keys = diff(snapshot, set(), NOW)
    found = {(e.kind, e.incident): e for e in first}
    picked = {kind: found[kind, incident] for kind, incident in [
        ("incident_created", LOOKUP), ("incident_resolved", P1), ("maintenance_scheduled", UPGRADE),
        ("maintenance_completed", DATABASE), ("maintenance_cancelled", CANCELLED)]}
    lookup_first = f"{LOOKUP}/update/{snapshot['incidents'][LOOKUP]['updates'][0]['id']}"
    picked["incident_updated"] = next(e for e in diff(snapshot, {lookup_first}, NOW)[0] if e.incident == LOOKUP)
    (picked["maintenance_reminder"],), _ = diff(snapshot, keys, datetime.fromisoformat("2026-12-06T00:00:00+01:00"))
    old_window = {"start": "2026-12-05T22:00:00.000+01:00", "end": "2026-12-06T02:00:00.000+01:00"}
    moved_keys = {k for k in keys if not k.startswith(f"{UPGRADE}/window/")} | {
        f"{UPGRADE}/window/{old_window['start']}/{old_window['end']}"}
    (picked["maintenance_changed"],), _ = diff(snapshot, moved_keys, NOW,
                                               previous={"incidents": {UPGRADE: {"window": old_window}}})
    (started,), _ = diff(later_snapshot, keys, datetime.fromisoformat("2026-12-06T23:00:00+01:00"))
    chosen = {kind: (event, snapshot) for kind, event in picked.items()}
    chosen["maintenance_started"] = (started, later_snapshot)
    assert {event.kind for event, _ in chosen.values()} == set(chosen)
    return chosen


def send(event: Event, snapshot: dict[str, Any], theme: Theme, subscriber: Subscriber = EVERYTHING,
         settings: MailSettings = SETTINGS) -> EmailMessage:
    rendered = render_email(event, snapshot, subscriber.language, theme)
    return parse(build_message(rendered, event, snapshot, subscriber, settings))


KINDS = ["incident_created", "incident_updated", "incident_resolved", "maintenance_scheduled",
         "maintenance_reminder", "maintenance_started", "maintenance_completed", "maintenance_changed",
         "maintenance_cancelled"]


# --- Every kind: a well-formed, threaded, unsubscribable email ----------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_parses_with_text_and_html(kind: str, events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events[kind]
    message = send(event, snapshot, theme)
    text, html = parts(message)
    record = snapshot["incidents"][event.incident]
    assert record["title"]["en"] in message["Subject"]
    assert message["Subject"].startswith("[Regional Integration Platform status] ")
    assert record["url"]["en"] in text and f'href="{record["url"]["en"]}"' in html
    assert message["From"] == "Platform status <status@example.org>"
    assert message["To"] == "spoc@partner.example"
    assert message["Date"] == format_datetime(datetime.fromisoformat(snapshot["generated_at"]))
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert message["Content-Language"] == "en"
    assert "Precedence" not in message
    assert '<html lang="en">' in html and "<h1" in html


@pytest.mark.parametrize("kind", KINDS)
def test_one_click_unsubscribe_with_a_subscription_service(kind: str, events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events[kind]
    message = send(event, snapshot, theme)
    links = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert len(links) == 2
    https, mailto = links
    assert https.startswith("https://status.example.org/subscriptions/unsubscribe?token=")
    assert mailto == "mailto:status-unsubscribe@example.org?subject=unsubscribe"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = https.split("token=")[1]
    signed = datetime.fromisoformat(snapshot["generated_at"])
    assert read_token(SECRET, "unsubscribe", token, now=signed) == "spoc@partner.example"
    text, html = parts(message)
    assert https in text and f'href="{https}"' in html  # the same link in the body


def test_the_unsubscribe_header_is_not_encoded_on_the_wire(events: dict[str, Any], theme: Theme) -> None:
    """A long URL folded into RFC 2047 encoded words is invisible to mail clients there."""
    event, snapshot = events["incident_created"]
    rendered = render_email(event, snapshot, "en", theme)
    wire = build_message(rendered, event, snapshot, EVERYTHING, SETTINGS).as_bytes().decode("ascii")
    header = re.search(r"^List-Unsubscribe: (.*?)\r\n(?=\S)", wire, re.M | re.S)
    assert header and "=?" not in header.group(1)
    assert "<https://status.example.org/subscriptions/unsubscribe?token=" in header.group(1)
    assert all(len(line) <= 998 for line in wire.split("\r\n"))


@pytest.mark.parametrize("kind", KINDS)
def test_mailto_unsubscribe_without_a_subscription_service(kind: str, events: dict[str, Any], theme: Theme) -> None:
    """RFC 8058 needs an HTTPS URI to POST to: without one, no List-Unsubscribe-Post."""
    event, snapshot = events[kind]
    message = send(event, snapshot, theme, settings=MAILTO_ONLY)
    assert message["List-Unsubscribe"] == "<mailto:status-unsubscribe@example.org?subject=unsubscribe>"
    assert "List-Unsubscribe-Post" not in message
    text, html = parts(message)
    assert "Change your subscription" not in text and "Change your subscription" not in html
    assert "Unsubscribe: mailto:status-unsubscribe@example.org?subject=unsubscribe" in text
    assert 'href="mailto:status-unsubscribe@example.org?subject=unsubscribe"' in html


def test_manage_link(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_created"]
    text, html = parts(send(event, snapshot, theme))
    link = re.search(r"Change your subscription: (\S+)", text)
    assert link and link.group(1).startswith("https://status.example.org/subscriptions/manage?token=")
    assert read_token(SECRET, "manage", link.group(1).split("token=")[1], now=NOW) == "spoc@partner.example"
    assert f'href="{link.group(1)}"' in html


@pytest.mark.parametrize("kind", KINDS)
def test_thread(kind: str, events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events[kind]
    message = send(event, snapshot, theme)
    root = thread_root(event, snapshot, EVERYTHING.email, SETTINGS)
    public_id = snapshot["incidents"][event.incident]["public_id"]
    assert re.fullmatch(rf"<{public_id}\.[0-9a-f]{{12}}@status\.example\.org>", root)
    if kind in THREAD_STARTERS:
        assert message["Message-ID"] == root
        assert "In-Reply-To" not in message and "References" not in message
    else:
        assert message["Message-ID"] != root
        assert re.fullmatch(rf"<{public_id}\.[0-9a-f]{{20}}@status\.example\.org>", message["Message-ID"])
        assert message["In-Reply-To"] == root and message["References"] == root


def test_replies_point_at_the_id_the_starter_used(events: dict[str, Any], theme: Theme) -> None:
    scheduled, snapshot = events["maintenance_scheduled"]
    starter = send(scheduled, snapshot, theme)
    for kind in ("maintenance_reminder", "maintenance_changed", "maintenance_started"):
        event, its_snapshot = events[kind]
        assert send(event, its_snapshot, theme)["In-Reply-To"] == starter["Message-ID"]


def test_message_ids_are_per_subscriber_and_per_event(events: dict[str, Any]) -> None:
    updated, snapshot = events["incident_updated"]
    created, _ = events["incident_created"]

    def ids(event: Event, address: str) -> str:
        return message_id(event, snapshot, address, SETTINGS)

    assert ids(updated, "a@x.example") != ids(updated, "b@x.example")
    assert ids(updated, "a@x.example") != ids(created, "a@x.example")
    assert ids(updated, "A@X.example") == ids(updated, "a@x.example")
    assert thread_root(updated, snapshot, "A@X.example", SETTINGS) == ids(created, "a@x.example")


def test_the_same_input_gives_the_same_bytes(events: dict[str, Any], theme: Theme) -> None:
    """A rerun after a crash sends the same email: same ids, same tokens, same Date."""
    event, snapshot = events["incident_updated"]
    rendered = render_email(event, snapshot, "nl", theme)
    first = build_message(rendered, event, snapshot, DUTCH, SETTINGS).as_bytes()
    again = build_message(render_email(event, snapshot, "nl", theme), event, snapshot, DUTCH, SETTINGS).as_bytes()
    strip = re.compile(rb"=+\d+==")  # the MIME boundary is random
    assert strip.sub(b"", first) == strip.sub(b"", again)


# --- What the email says ------------------------------------------------------------------


def test_incident_subject_has_site_priority_status_and_title(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_resolved"]
    assert send(event, snapshot, theme)["Subject"] == (
        "[Regional Integration Platform status] P1 Resolved: PDF certificates unavailable for all partners")
    event, snapshot = events["incident_created"]
    assert send(event, snapshot, theme)["Subject"] == (
        "[Regional Integration Platform status] P3 Identified: "
        + snapshot["incidents"][LOOKUP]["title"]["en"])


def test_first_p1_email(snapshot: dict[str, Any], theme: Theme) -> None:
    """The first email of the P1, as partners got it when it was opened."""
    first = snapshot["incidents"][P1]["updates"][0]
    event = Event(f"{P1}/update/{first['id']}", "incident_created", P1, first["id"],
                  tuple(snapshot["incidents"][P1]["components"]))
    message = send(event, snapshot, theme)
    assert message["Subject"] == ("[Regional Integration Platform status] P1 Investigating: "
                                  "PDF certificates unavailable for all partners")
    text, html = parts(message)
    assert "Priority: P1" in text
    assert "- Certificates (PDF): Major outage (was Operational)" in text
    assert "Integration gateway" not in text  # not affected yet at the first update
    assert "Posted: 3 Nov 2026, 08:12 CET" in text
    assert "#c5221f" in html  # the critical accent


@pytest.mark.parametrize(("kind", "subject"), [
    ("maintenance_reminder", "Reminder: maintenance starts in 24 hours: "),
    ("maintenance_changed", "Maintenance moved: "),
    ("maintenance_scheduled", "Maintenance scheduled: "),
    ("maintenance_started", "Maintenance started: "),
    ("maintenance_completed", "Maintenance completed: "),
    ("maintenance_cancelled", "Maintenance cancelled: "),
])
def test_maintenance_subjects(kind: str, subject: str, events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events[kind]
    title = snapshot["incidents"][event.incident]["title"]["en"]
    assert send(event, snapshot, theme)["Subject"] == f"[Regional Integration Platform status] {subject}{title}"


def test_maintenance_update_and_a_short_reminder(snapshot: dict[str, Any], theme: Theme) -> None:
    record = snapshot["incidents"][DATABASE]
    verifying = Event(f"{DATABASE}/update/20260916T205500Z", "maintenance_updated", DATABASE, "20260916T205500Z",
                      tuple(record["components"]))
    message = send(verifying, snapshot, theme)
    assert message["Subject"] == f"[Regional Integration Platform status] Maintenance update: {record['title']['en']}"
    assert "Current status: Verifying" in parts(message)[0]
    reminder = Event(f"{UPGRADE}/reminder/90/x", "maintenance_reminder", UPGRADE, None, (), lead_minutes=90)
    assert "Herinnering: onderhoud begint over 90 minuten: " in send(reminder, snapshot, theme, DUTCH)["Subject"]


def test_maintenance_window_in_the_site_timezone(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["maintenance_reminder"]
    text, html = parts(send(event, snapshot, theme))
    assert "Maintenance window: 6 Dec 2026, 22:00 CET – 7 Dec 2026, 02:00 CET" in text
    assert "6 Dec 2026, 22:00 CET – 7 Dec 2026, 02:00 CET" in html
    assert "During the night of Sunday 6 to Monday 7 December" in text  # the announcement, repeated


def test_moved_maintenance_shows_old_and_new_window(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["maintenance_changed"]
    text, html = parts(send(event, snapshot, theme))
    assert "Maintenance window: 6 Dec 2026, 22:00 CET – 7 Dec 2026, 02:00 CET" in text
    assert "Previously planned: 5 Dec 2026, 22:00 CET – 6 Dec 2026, 02:00 CET" in text
    assert "<del>5 Dec 2026, 22:00 CET – 6 Dec 2026, 02:00 CET</del>" in html


def test_summer_time_is_named(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["maintenance_completed"]
    text, _ = parts(send(event, snapshot, theme))
    assert "16 Sep 2026, 21:00 CEST – 16 Sep 2026, 23:30 CEST" in text
    assert "Posted: 16 Sep 2026, 23:20 CEST" in text


def test_started_maintenance_shows_components_under_maintenance(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["maintenance_started"]
    text, _ = parts(send(event, snapshot, theme))
    assert "Current status: In progress" in text
    assert "The maintenance window has started." in text
    assert "- Integration gateway (API): Under maintenance (was Operational)" in text


def test_cancelled_maintenance_shows_components_as_they_are(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["maintenance_cancelled"]
    text, _ = parts(send(event, snapshot, theme))
    assert "- Sign-in (eID): Operational\n" in text
    assert "Under maintenance" not in text


def test_components_and_their_status(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_resolved"]
    text, html = parts(send(event, snapshot, theme))
    assert "- Certificates (PDF): Operational (was Degraded performance)" in text
    assert "- Mobile app: Operational" in text
    assert "<li>Certificates (PDF): <strong>Operational</strong> (was Degraded performance)</li>" in html


def test_dutch_subscriber_gets_dutch(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_resolved"]
    message = send(event, snapshot, theme, DUTCH)
    assert message["Subject"] == ("[Status Regionaal Integratieplatform] P1 Opgelost: "
                                  "PDF-certificaten niet beschikbaar voor alle partners")
    assert message["Content-Language"] == "nl"
    text, html = parts(message)
    assert "Huidige status: Opgelost" in text
    assert "De achterstand is verwerkt" in text and "The backlog" not in text
    assert "Geplaatst: 3 nov 2026, 11:05 CET" in text
    assert snapshot["incidents"][P1]["url"]["nl"] in text
    assert '<html lang="nl">' in html
    assert ("U ontvangt deze e-mail omdat u EU Digitale COVID-certificaten volgt op "
            "Status Regionaal Integratieplatform.") in text  # DUTCH follows the whole group
    assert "Abonnement opzeggen: https://status.example.org/subscriptions/unsubscribe?token=" in text


def test_footer_says_why(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["maintenance_scheduled"]
    text, html = parts(send(event, snapshot, theme))
    why = "You receive this email because you follow all components of Regional Integration Platform status."
    assert why in text and why in html
    follower = Subscriber("one@partner.example", ("integration-gateway",), "en")
    text, html = parts(send(event, snapshot, theme, follower))
    why = "You receive this email because you follow Integration gateway (API) on Regional Integration Platform status."
    assert why in text and why in html
    assert "all components" not in text


GROUP = ("dcc-certificates", "dcc-app", "dcc-lookup")
"""The example's group eu-dcc, as a subscriber to it reaches `build_message` (expanded)."""
WHY = {
    "en": "You receive this email because you follow {} on Regional Integration Platform status.",
    "nl": "U ontvangt deze e-mail omdat u {} volgt op Status Regionaal Integratieplatform.",
}
WHY_ALL = {
    "en": "You receive this email because you follow all components of Regional Integration Platform status.",
    "nl": "U ontvangt deze e-mail omdat u alle onderdelen van Status Regionaal Integratieplatform volgt.",
}


@pytest.mark.parametrize(("lang", "components", "named"), [
    ("en", GROUP, "EU Digital COVID Certificates"),
    ("nl", GROUP, "EU Digitale COVID-certificaten"),
    ("en", (*GROUP, "integration-gateway"), "EU Digital COVID Certificates and Integration gateway (API)"),
    ("nl", (*GROUP, "integration-gateway"), "EU Digitale COVID-certificaten en Integratiegateway (API)"),
    ("en", ("dcc-lookup", "dcc-certificates"), "Certificates (PDF)"),  # part of a group: the component
    ("nl", ("dcc-app", "dcc-certificates"), "Certificaten (PDF) en Mobiele app"),
])
def test_a_group_subscriber_is_told_they_follow_the_group(lang: str, components: tuple[str, ...], named: str,
                                                          events: dict[str, Any], theme: Theme) -> None:
    """The P1 affects dcc-app, dcc-certificates and integration-gateway."""
    event, snapshot = events["incident_resolved"]
    text, html = parts(send(event, snapshot, theme, Subscriber("g@partner.example", components, lang)))
    why = WHY[lang].format(named)
    assert why in text and why in html


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_subscriber_to_everything_is_told_so(lang: str, events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_resolved"]
    text, html = parts(send(event, snapshot, theme, Subscriber("all@partner.example", None, lang)))
    assert WHY_ALL[lang] in text and WHY_ALL[lang] in html
    assert WHY[lang].split("{}")[1] not in text


def test_no_placeholder_is_left(events: dict[str, Any], theme: Theme) -> None:
    for kind in KINDS:
        event, snapshot = events[kind]
        for subscriber in (EVERYTHING, DUTCH):
            for settings in (SETTINGS, MAILTO_ONLY):
                text, html = parts(send(event, snapshot, theme, subscriber, settings))
                assert not re.search("[\ue000-\ue00f]", text + html), kind


# --- Markdown in the text part --------------------------------------------------------------


MARKDOWN_INCIDENT = """\
---
title: {en: "Certificates <script>alert(1)</script> unavailable", nl: Certificaten onbeschikbaar}
type: incident
impact: P2
components:
  dcc-certificates: major_outage
updates:
  - at: 2026-11-28 09:20
    status: investigating
    body: |
      We are **investigating** an _issue_ with `downloads` & more.

      ## What you can do

      * Retry in an hour
      * Read the [FAQ for partners](https://example.org/faq?a=1&b=2)
      * Mail <servicedesk@example.org>

      1. First step
      2. Second step

      <script>alert(2)</script>
---
"""


@pytest.fixture
def markdown_site(make_site: MakeSite, tmp_path: Path) -> tuple[Event, dict[str, Any], Theme]:
    site = make_site({"incidents/md.md": MARKDOWN_INCIDENT})
    snapshot = json.loads(build(site, tmp_path / "out", EXAMPLE_NOW).outputs.snapshot)
    (event,), _ = diff(snapshot, set(), NOW)
    return event, snapshot, Theme(site)


def test_text_part_has_no_markdown_left(markdown_site: tuple[Event, dict[str, Any], Theme]) -> None:
    event, snapshot, theme = markdown_site
    text, html = parts(send(event, snapshot, theme))
    assert "We are investigating an issue with downloads & more." in text
    assert "\nWhat you can do\n" in text
    assert "- Retry in an hour\n- Read the FAQ for partners <https://example.org/faq?a=1&b=2>\n" in text
    assert "- Mail servicedesk@example.org\n" in text
    assert "1. First step\n2. Second step" in text
    assert not MARKDOWN_LEFT.search(text), MARKDOWN_LEFT.search(text)
    assert "<strong>investigating</strong>" in html and "<h2>What you can do</h2>" in html
    assert '<a href="https://example.org/faq?a=1&amp;b=2" rel="noopener noreferrer">FAQ for partners</a>' in html


def test_p1_texts_have_no_markdown_left(snapshot: dict[str, Any], theme: Theme) -> None:
    record = snapshot["incidents"][P1]
    for update in record["updates"]:
        event = Event(f"{P1}/update/{update['id']}", "incident_updated", P1, update["id"], tuple(record["components"]))
        for subscriber in (EVERYTHING, DUTCH):
            text, _ = parts(send(event, snapshot, theme, subscriber))
            assert not MARKDOWN_LEFT.search(text)


def test_html_escapes_everything(markdown_site: tuple[Event, dict[str, Any], Theme]) -> None:
    event, snapshot, theme = markdown_site
    message = send(event, snapshot, theme)
    text, html = parts(message)
    assert "<script>" not in html
    assert "Certificates &lt;script&gt;alert(1)&lt;/script&gt; unavailable" in html
    assert "alert(2)" not in html and "alert(2)" not in text
    assert "Certificates <script>alert(1)</script> unavailable" in message["Subject"]  # a subject is text


@pytest.mark.parametrize(("markdown", "text"), [
    ("Plain text.", "Plain text."),
    ("**bold** and *em* and __strong__ and _em_", "bold and em and strong and em"),
    ("# Heading\n\nText", "Heading\n\nText"),
    ("[same](https://x.example/)", "same <https://x.example/>"),
    ("<https://x.example/>", "https://x.example/"),
    ("Line *one*  \nline two", "Line one\nline two"),
    ("- a\n    - b\n- c", "- a\n   - b\n- c"),
    ("> quoted", "    quoted"),
    ("```\ncode  kept\n```", "    code  kept"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "a | b\n1 | 2"),
    ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
])
def test_markdown_to_text(markdown: str, text: str) -> None:
    assert markdown_to_text(markdown) == text


def test_markdown_to_text_wraps_long_paragraphs_but_not_urls() -> None:
    url = "https://status.example.org/" + "x" * 90
    text = markdown_to_text("word " * 40 + f"[link]({url})")
    assert all(len(line) <= 76 for line in text.splitlines() if url not in line)
    assert f"<{url}>" in text


# --- Header injection -------------------------------------------------------------------------


def test_hostile_title_cannot_add_a_header(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_created"]
    hostile = json.loads(json.dumps(snapshot))
    hostile["incidents"][event.incident]["title"]["en"] = "Outage\r\nBcc: victim@example.net"
    rendered = render_email(event, hostile, "en", theme)
    with pytest.raises(ValueError, match=r"^Subject: a header value must be one non-empty line; found "):
        build_message(rendered, event, hostile, EVERYTHING, SETTINGS)


@pytest.mark.parametrize("evil", ["\nBcc: victim@example.net", "\r\n Bcc: victim@example.net", "\r"])
@pytest.mark.parametrize("field", ["subject", "email", "sender", "site_host", "mailto"])
def test_any_hostile_header_value_raises(field: str, evil: str, events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_updated"]
    rendered = render_email(event, snapshot, "en", theme)
    subscriber, settings = EVERYTHING, SETTINGS
    if field == "subject":
        rendered = RenderedEmail(rendered.subject + evil, rendered.text, rendered.html)
    elif field == "email":
        subscriber = Subscriber("spoc@partner.example" + evil, None, "en")
    else:
        name = {"sender": "sender", "site_host": "site_host", "mailto": "unsubscribe_mailto"}[field]
        settings = MailSettings(**{**SETTINGS.__dict__, name: getattr(SETTINGS, name) + evil})
    with pytest.raises(ValueError, match="a header value must be one non-empty line"):
        build_message(rendered, event, snapshot, subscriber, settings)


def test_one_recipient_only(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_updated"]
    rendered = render_email(event, snapshot, "en", theme)
    with pytest.raises(ValueError, match="^To: expected one address"):
        build_message(rendered, event, snapshot, Subscriber("a@x.example, b@x.example", None, "en"), SETTINGS)


def test_settings_need_a_secret_and_a_way_out() -> None:
    with pytest.raises(ValueError, match="needs a secret key"):
        MailSettings("s@x.example", "x.example", "https://x.example/subscriptions/", None, None)
    with pytest.raises(ValueError, match="every email needs a way to unsubscribe"):
        MailSettings("s@x.example", "x.example", None, None, None)


def test_http_subscription_service_gets_no_one_click(events: dict[str, Any], theme: Theme) -> None:
    event, snapshot = events["incident_updated"]
    local = MailSettings("s@x.example", "localhost", "http://localhost:8000/subscriptions", None, SECRET)
    message = send(event, snapshot, theme, settings=local)
    assert message["List-Unsubscribe"].startswith("<http://localhost:8000/subscriptions/unsubscribe?token=")
    assert "List-Unsubscribe-Post" not in message


# --- Rendered once, sent many times ------------------------------------------------------------


def test_thousand_subscribers_render_once_per_language(events: dict[str, Any], theme: Theme,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    renders: list[str | None] = []
    original = jinja2.Template.render

    def counting(self: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        renders.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", counting)
    event, snapshot = events["incident_resolved"]
    renderer = EmailRenderer(snapshot, theme)
    subscribers = [Subscriber(f"user{n}@partner.example", None if n % 3 else ("dcc-app",), ("en", "nl")[n % 2])
                   for n in range(1000)]
    messages = [build_message(renderer(event, s.language), event, snapshot, s, SETTINGS) for s in subscribers]
    assert sorted(renders) == sorted(["subject.txt", "event.txt", "event.html"] * 2)
    assert len({m["Message-ID"] for m in messages}) == 1000
    assert messages[1]["To"] == "user1@partner.example" and "user1@partner.example" not in str(messages[2])


# --- Templates by lookup order -------------------------------------------------------------------


def test_a_site_overrides_the_email_template(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({
        "incidents/md.md": MARKDOWN_INCIDENT,
        "site_templates/emails/event.txt": "Our own words about {{ title }}.\n{{ unsubscribe_url }}\n",
    })
    snapshot = json.loads(build(site, tmp_path / "out", EXAMPLE_NOW).outputs.snapshot)
    (event,), _ = diff(snapshot, set(), NOW)
    text, html = parts(send(event, snapshot, Theme(site)))
    assert text.startswith("Our own words about Certificates <script>alert(1)</script> unavailable.\n"
                           "https://status.example.org/subscriptions/unsubscribe?token=")
    assert "<h1" in html  # the theme's HTML still applies


def test_an_override_can_extend_the_theme(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({
        "incidents/md.md": MARKDOWN_INCIDENT,
        "site_templates/emails/subject.txt": "{% extends '!theme/subject.txt' %}",
        "site_templates/emails/event.html": "{% extends '!theme/event.html' %}",
    })
    snapshot = json.loads(build(site, tmp_path / "out", EXAMPLE_NOW).outputs.snapshot)
    (event,), _ = diff(snapshot, set(), NOW)
    message = send(event, snapshot, Theme(site))
    assert message["Subject"].startswith("[Example status] P2 Investigating: ")
