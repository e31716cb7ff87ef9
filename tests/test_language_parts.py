"""Language of parts (WCAG 3.1.2): a text not written in the page's language is shown in
another, and says so, on the pages, in the feeds and in the emails.

One small site in Dutch and English (Dutch first) has an incident title in Dutch only, an
update and a post-mortem in English only, a component name in Dutch only and a content
page in English only; plain strings ("Lookup portal") are the same in every language and
are never marked. Everything is read back from the bytes written: HTML with the standard
library's parser, feeds as bytes and with feedparser, emails as the bytes that go over SMTP.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
import shutil
import textwrap
from collections.abc import Iterator
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright import sync_api

from statusgen import notify
from statusgen.content.model import Subscriber
from statusgen.content.relay import SmtpSettings
from statusgen.notifier.compose import render_email
from statusgen.notifier.events import diff
from statusgen.notifier.message import MailSettings, build_message
from statusgen.notifier.smtp import SmtpTransport
from statusgen.notifier.wire import wire_bytes
from statusgen.site.build import BuildResult, Builder, build
from statusgen.site.theme import Theme
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink
from tests.test_browser import AXE_TAGS, CHROMIUM, CHROMIUM_ARGS, axe_report, serve

NOW = "2026-11-30T12:00:00+01:00"
SITE_YAML = """\
title: {nl: Voorbeeldstatus, en: Example status}
base_url: https://status.example.org/
languages: [nl, en]
timezone: Europe/Brussels
subscriptions: {url: https://status.example.org/subscriptions/}
notify: {from: status@example.org, unsubscribe_mailto: leave@example.org}
"""
COMPONENTS_YAML = """\
- id: eu-dcc
  name: {nl: EU Digitale COVID-certificaten, en: EU Digital COVID Certificates}
  components:
    - id: dcc-certificates
      name: {nl: Certificaten (PDF), en: Certificates (PDF)}
    - id: dcc-app
      name: {nl: Mobiele app}
- id: lookup-portal
  name: Lookup portal
"""
APP = """\
---
title: {nl: Aanmelden in de app mislukt}
impact: major
components: {dcc-app: major_outage, lookup-portal: degraded_performance}
updates:
  - at: 2026-11-30 09:00
    status: investigating
    body: {nl: We onderzoeken het., en: We are looking into it.}
  - at: 2026-11-30 10:00
    status: resolved
    body: {en: Fixed by restarting the sign-in service.}
postmortem: {en: The certificate store ran out of memory.}
---
"""
SEARCH = """\
---
title: {nl: Trage zoekfunctie, en: Slow search}
impact: minor
components: {lookup-portal: degraded_performance}
updates:
  - {at: 2026-11-29 09:00, status: resolved, body: {en: Search was slow for ten minutes.}}
---
"""
HELP = """\
---
title: Help
---
This page explains the statuses.
"""
FILES = {"content/site.yaml": SITE_YAML, "components.yaml": COMPONENTS_YAML, "incidents/app.md": APP,
         "incidents/search.md": SEARCH, "content/pages/help.en.md": HELP}
NOTE_NL = "Deze tekst is niet beschikbaar in het Nederlands; hij staat hier in het Engels."
PAGE_NOTE_NL = "Niet alles op deze pagina is beschikbaar in het Nederlands; wat ontbreekt, staat hier in het Engels."
PAGE_NOTE_EN = "Not everything on this page is available in English; what is missing is shown in Dutch."
NOTE_EN = "This text is not available in English; it is shown in Dutch."


class _Marked(HTMLParser):
    """Every element of a page's body that says its own language, as (tag, lang), leaving
    out the language menu (each link in its own language) and the notes (in the page's)."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: list[tuple[str, str]] = []
        self.notes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html" or "lang" not in found or "hreflang" in found:
            return
        if "lang-note" in (found.get("class") or "").split():
            self.notes.append((tag, str(found["lang"])))
        else:
            self.marked.append((tag, str(found["lang"])))


def marked(html: bytes) -> _Marked:
    parser = _Marked()
    parser.feed(html.decode())
    return parser


def notes(html: bytes) -> list[str]:
    return re.findall(r'<p class="lang-note" lang="\w+">([^<]*)</p>', html.decode())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    root = tmp_path_factory.mktemp("language-parts") / "site"
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return build(root, root / "public", NOW)


# --- Pages -----------------------------------------------------------------------------

def test_a_dutch_incident_page_marks_the_english_update_and_post_mortem(built: BuildResult) -> None:
    page = built.outputs["incidents/app/index.html"]
    found = marked(page)
    # the header's menu links the English-only help page; the resolved update, the post-mortem
    assert found.marked == [("a", "en"), ("div", "en"), ("div", "en")]
    assert b'<div lang="en"><p>Fixed by restarting the sign-in service.</p></div>' in page
    assert b'<div lang="en"><p>The certificate store ran out of memory.</p></div>' in page
    assert b"<p>We onderzoeken het.</p>" in page  # written in Dutch: not marked
    assert notes(page) == [PAGE_NOTE_NL] and found.notes == [("p", "nl")]


def test_an_english_incident_page_marks_the_dutch_title_and_component_name(built: BuildResult) -> None:
    page = built.outputs["en/incidents/app/index.html"]
    assert marked(page).marked == [("h1", "nl"), ("span", "nl")]
    assert b'<h1 lang="nl">Aanmelden in de app mislukt</h1>' in page
    assert b'<span lang="nl">Mobiele app</span></a>' in page
    assert b">Lookup portal</a>" in page  # a plain string is every language's
    assert b"<title>Aanmelden in de app mislukt" in page  # an attribute-like place: left as it is
    assert notes(page) == [PAGE_NOTE_EN]


def test_lists_mark_names_and_titles_with_lang_alone(built: BuildResult) -> None:
    home = built.outputs["en/index.html"]
    assert marked(home).marked == [("span", "nl"), ("h4", "nl")]  # the app's name; the incident in the history
    assert notes(home) == []
    history = built.outputs["en/history/index.html"]
    assert marked(history).marked == [("h3", "nl")]
    group = built.outputs["en/components/eu-dcc/index.html"]
    assert ("span", "nl") in marked(group).marked and notes(group) == []
    app = built.outputs["en/components/dcc-app/index.html"]
    assert marked(app).marked[:1] == [("h1", "nl")]
    lookup = built.outputs["en/components/lookup-portal/index.html"]
    assert marked(lookup).marked == [("h3", "nl")]  # only the Dutch incident title in its list


def test_a_page_in_its_own_language_marks_nothing(built: BuildResult) -> None:
    for path in ("index.html", "history/index.html", "en/help/index.html",
                 "components/dcc-app/index.html", "en/incidents/search/index.html"):
        found = marked(built.outputs[path])
        assert [m for m in found.marked if m != ("a", "en")] == [] and found.notes == [], path


def test_a_content_page_in_one_language_is_marked_as_such_in_the_other(built: BuildResult) -> None:
    page = built.outputs["help/index.html"]
    assert marked(page).marked == [("a", "en"), ("article", "en")]
    assert b'<article class="prose" lang="en">\n<h1>Help</h1>' in page
    assert notes(page) == [NOTE_NL]
    english = built.outputs["en/help/index.html"]
    assert marked(english).marked == [] and notes(english) == []


# --- Feeds -----------------------------------------------------------------------------

def test_atom_carries_xml_lang_on_a_fallback_title(built: BuildResult) -> None:
    atom = built.outputs["en/history.atom"]
    assert b'<title xml:lang="nl">Aanmelden in de app mislukt</title>' in atom
    assert atom.count(b"xml:lang=") == 2  # the feed's own, and that title
    feed = feedparser.parse(atom)
    assert feed.feed.language == "en"
    by_title = {entry.title: entry for entry in feed.entries}
    assert by_title["Aanmelden in de app mislukt"].title_detail.language == "nl"
    assert by_title["Slow search"].title_detail.language == "en"
    assert by_title["Aanmelden in de app mislukt"].content[0].language == "en"


def test_atom_content_all_in_another_language_carries_its_xml_lang(built: BuildResult) -> None:
    atom = built.outputs["history.atom"]
    assert re.search(rb'<content (type="html" )?xml:lang="en"', atom)
    entries = {entry.title: entry for entry in feedparser.parse(atom).entries}
    search = entries["Trage zoekfunctie"]
    assert search.title_detail.language == "nl" and search.content[0].language == "en"
    # the feed's own words in it say they are Dutch; the text is in English
    assert '<p lang="nl"><strong>Opgelost</strong>' in search.content[0].value
    assert '<div lang="en"><p>Search was slow for ten minutes.</p></div>' in search.content[0].value
    app = entries["Aanmelden in de app mislukt"]  # Dutch and English texts: marked inside only
    assert app.content[0].language == "nl" and app.content[0].value.count('<div lang="en">') == 2


def test_rss_keeps_the_channel_language(built: BuildResult) -> None:
    rss = built.outputs["en/history.rss"]
    assert b"<language>en</language>" in rss and b"xml:lang" not in rss


# --- Emails ----------------------------------------------------------------------------

SETTINGS = MailSettings(sender="status@example.org", site_host="status.example.org",
                        subscriptions_url="https://status.example.org/subscriptions/",
                        unsubscribe_mailto=None, secret="a test secret, long enough")


def email_for(built: BuildResult, lang: str) -> tuple[bytes, EmailMessage]:
    snapshot = json.loads(built.outputs.snapshot)
    events, _ = diff(snapshot, set(), built_now(snapshot))
    event = next(e for e in events if e.incident == "app")
    subscriber = Subscriber(f"{lang}@partner.example", None, lang)
    message = build_message(render_email(event, snapshot, lang, Theme(built.out_dir.parent)), event, snapshot,
                            subscriber, SETTINGS)
    sent = wire_bytes(message)
    parsed = email.message_from_bytes(sent, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return sent, parsed


def built_now(snapshot: dict[str, Any]) -> Any:
    from datetime import datetime
    return datetime.fromisoformat(snapshot["generated_at"])


def html_part(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_the_snapshot_says_which_languages_were_written(built: BuildResult) -> None:
    snapshot = json.loads(built.outputs.snapshot)
    app = snapshot["incidents"]["app"]
    assert app["title"] == {"en": "Aanmelden in de app mislukt", "nl": "Aanmelden in de app mislukt"}
    assert app["written"] == {"title": ["nl"], "postmortem": ["en"]}
    assert [u["written"] for u in app["updates"]] == [{}, {"body": ["en"]}]
    assert snapshot["components"]["dcc-app"]["written"] == {"name": ["nl"]}
    assert snapshot["components"]["lookup-portal"]["written"] == {}  # a plain string
    assert snapshot["site"]["written"] == {}


def test_an_english_email_marks_the_dutch_title_and_name(built: BuildResult) -> None:
    sent, message = email_for(built, "en")
    assert b"\r\nContent-Language: en\r\n" in sent
    html = html_part(message)
    assert '<html lang="en">' in html
    assert re.search(r'<h1 style="[^"]*" lang="nl">Aanmelden in de app mislukt</h1>', html)
    assert '<span lang="nl">Mobiele app</span>:' in html and "<li>Lookup portal:" in html
    assert re.search(r'<div style="[^"]*">\s*<p>Fixed by restarting', html)  # written in English
    assert NOTE_EN in html
    text = message.get_body(("plain",))
    assert text is not None and f"({NOTE_EN})" in text.get_content()


def test_a_dutch_email_marks_the_english_update(built: BuildResult) -> None:
    sent, message = email_for(built, "nl")
    assert b"\r\nContent-Language: nl\r\n" in sent
    html = html_part(message)
    assert '<html lang="nl">' in html and NOTE_NL in html
    assert re.search(r'<div style="[^"]*" lang="en">\s*<p>Fixed by restarting', html)
    assert re.search(r'<h1 style="[^"]*">Aanmelden', html) and 'lang="nl"' not in html.split("<body", 1)[1]


def strip_written(value: Any) -> Any:
    """A snapshot as builds made it before it said which languages were written."""
    if isinstance(value, dict):
        return {key: strip_written(item) for key, item in value.items() if key != "written"}
    if isinstance(value, list):
        return [strip_written(item) for item in value]
    return value


def test_a_store_baselined_before_the_upgrade_sends_nothing_new_and_then_marks_over_smtp(
        make_site: MakeSite) -> None:
    root = make_site({**FILES, "subscribers.yaml": "- {email: all@example.org, language: en}\n"})
    sent: list[bytes] = []
    with SmtpSink(on_data=lambda _session, envelope: sent.append(envelope.content)) as sink:
        def run(now: str, old_shape: bool = False, baseline: bool = False) -> Any:
            build(root, root / "public", now)
            if old_shape:
                file = root / ".statusgen" / "snapshot.json"
                file.write_text(json.dumps(strip_written(json.loads(file.read_text()))), encoding="utf-8")
            transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=sink.port, security="none",
                                                   user=None, password=None), connections=1)
            return notify(root, root / "public", transport=transport, stream=io.StringIO(),
                          env={"STATUSGEN_SECRET_KEY": "s" * 32}, store_path=root / ".statusgen" / "notify.db",
                          baseline=baseline)

        run(NOW, old_shape=True, baseline=True)  # the baseline, as the old version recorded it
        assert run(NOW).events == [] and run("2026-11-30T12:30:00+01:00").events == []
        assert sent == [] and sink.messages == []
        (root / "incidents" / "new.md").write_text(textwrap.dedent("""\
            ---
            title: {nl: Certificaten vertraagd}
            components: {dcc-certificates: degraded_performance}
            updates:
              - {at: 2026-11-30 12:40, status: investigating, body: {nl: We kijken ernaar.}}
            ---
            """), encoding="utf-8")
        report = run("2026-11-30T13:00:00+01:00")
        assert [e.kind for e in report.events] == ["incident_created"]
        assert sink.wait_for(1) and len(sent) == 1
    wire = sent[0]
    assert b"\r\nContent-Language: en\r\n" in wire
    message = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html = html_part(message)
    assert '<html lang="en">' in html and 'lang="nl">Certificaten vertraagd</h1>' in html
    assert re.search(r'<div style="[^"]*" lang="nl">\s*<p>We kijken ernaar.</p>', html)


# --- Rebuilds --------------------------------------------------------------------------

def test_a_text_that_gets_its_translation_is_rebuilt_unmarked(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(FILES)
    builder = Builder(root, tmp_path / "out", NOW, parallel=False)
    builder.build()
    incident = tmp_path / "out" / "en" / "incidents" / "app" / "index.html"
    assert b'<h1 lang="nl">' in incident.read_bytes()
    (root / "incidents" / "app.md").write_text(
        APP.replace("title: {nl: Aanmelden in de app mislukt}",
                    "title: {nl: Aanmelden in de app mislukt, en: App sign-in fails}"), encoding="utf-8")
    (root / "content" / "pages" / "help.nl.md").write_text("---\ntitle: Hulp\n---\nUitleg.\n", encoding="utf-8")
    again = builder.build()
    assert again.counters["pages_rendered"] > 0
    full = build(root, tmp_path / "full", NOW)
    for path in ("en/incidents/app/index.html", "help/index.html", "index.html", "en/index.html",
                 "en/history.atom", "history/index.html", "incidents/app/index.html"):
        assert (tmp_path / "out" / path).read_bytes() == full.outputs[path], path
    assert b"<h1>App sign-in fails</h1>" in incident.read_bytes()
    assert marked((tmp_path / "out" / "help" / "index.html").read_bytes()).marked == []
    shutil.rmtree(tmp_path / "full")


# --- In a browser ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site_url(built: BuildResult) -> Iterator[str]:
    yield from serve(built.out_dir)


@pytest.mark.parametrize("path", ["incidents/app/", "en/incidents/app/", "help/", "en/"])
def test_pages_with_fallbacks_pass_axe_with_valid_lang_checked(site_url: str, path: str) -> None:
    assert CHROMIUM.exists()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(site_url + path, wait_until="load")
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}}).response
            marked_in_browser = page.eval_on_selector_all("main [lang]", "els => els.map(e => e.lang)")
        finally:
            browser.close()
    assert results["violations"] == [], axe_report(results["violations"])
    assert "valid-lang" in [rule["id"] for rule in results["passes"]]  # the rule ran on our lang attributes
    assert marked_in_browser
