"""No subscriber address in any URL: links end up in browser histories and in the access
logs of proxies and CDNs. A whole journey through the real service (waitress on 127.0.0.1,
a real SMTP server, the SQLite store, a real notifier run): subscribe, confirm, a
notification, manage, unsubscribe from the page and by one click; every URL in every
email (bodies and headers), every URL in every page, every Location header and every log
line of the service is searched for the address in any encoding (tests/addressforms.py).
Links in emails sent before the opaque tokens still work, for their own purpose."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.addressforms import leaks
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink
from tests.test_subscriptions import SECRET, SITE_YAML, SUBSCRIBERS, Browser, Reply, Service, Site, links, one_click_url
from tests.test_tokens import old_token

PERSON = "Reader+Status@Example.NET"
"""Mixed case and a `+`, which a URL would percent-encode."""
DELIVERED_TO = "Reader+Status@example.net"
URL = re.compile(r"""(?:https?|mailto):[^\s"'<>]+""")
ATTRIBUTE = re.compile(r"""(?:href|src|action|content)="([^"]*)\"""")


def urls_in_reply(reply: Reply) -> list[str]:
    """The Location header, every URL-bearing attribute and every absolute URL of a page."""
    found = [value for name, value in reply.headers if name.lower() in ("location", "content-location", "link",
                                                                          "refresh")]
    found += [html.unescape(value) for value in ATTRIBUTE.findall(reply.text)]
    return found + URL.findall(html.unescape(reply.text))


def urls_in_message(message: EmailMessage) -> list[str]:
    """Every URL of every part of an email, and every header that carries one."""
    found = [str(value) for name, value in message.items() if "http" in str(value) or "mailto:" in str(value)]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            content = part.get_content()
            found += URL.findall(html.unescape(content)) + [html.unescape(v) for v in ATTRIBUTE.findall(content)]
    return found


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def site(make_site: MakeSite, sink: SmtpSink) -> Site:
    root: Path = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    return Site(root, sink)


@pytest.fixture
def service(site: Site, sink: SmtpSink) -> Iterator[Service]:
    running = Service(site.root, sink)
    try:
        yield running
    finally:
        running.stop()


def test_no_url_of_a_whole_journey_carries_the_address(site: Site, service: Service,
                                                       caplog: pytest.LogCaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="statusgen")
    # an in-process `cli.main` earlier in the run stops "statusgen" from propagating to the root
    monkeypatch.setattr(logging.getLogger("statusgen"), "propagate", True)
    site.notify("2026-11-30T08:00:00+01:00")  # the notifier's baseline
    browser = Browser(service)
    replies = [service.subscribe(PERSON, ["dcc-app"], "en")]
    confirmation, = service.mail_to(DELIVERED_TO)
    replies.append(page := browser.get(links(confirmation)["confirm"]))
    replies.append(confirmed := browser.submit(page))
    assert "You are subscribed" in confirmed.text

    site.incident("app-down", "dcc-app", "2026-11-30 09:00")
    site.notify("2026-11-30T10:00:00+01:00")
    replies.append(service.subscribe(PERSON, ["dcc-app"], "en"))  # "you are already subscribed"
    notification, already = service.mail_to(DELIVERED_TO, 3)[1:]
    assert set(links(notification)) == set(links(already)) == {"manage", "unsubscribe"}

    replies.append(manage := browser.get(links(notification)["manage"]))
    replies.append(saved := browser.submit(manage, {"components": ["dcc-app"], "language": "nl"}, ("action", "save")))
    assert "Uw keuzes zijn bewaard" in saved.text
    replies.append(leave := browser.get(links(already)["unsubscribe"]))
    replies.append(gone := browser.submit(leave))
    assert "Uw abonnement is opgezegd" in gone.text and service.app.store.is_suppressed(PERSON)
    replies.append(service.request("POST", one_click_url(notification), "List-Unsubscribe=One-Click",
                                   {"Content-Type": "application/x-www-form-urlencoded"}))
    replies.append(service.request("GET", "/subscriptions/?lang=nl"))
    assert [reply.status for reply in replies] == [200, 200, 200, 200, 200, 200, 200, 200, 200, 303]
    assert PERSON.lower() in manage.text.lower()  # the page shows its owner the address; no URL carries it

    urls = [url for reply in replies for url in urls_in_reply(reply)]
    urls += [url for message in (confirmation, notification, already) for url in urls_in_message(message)]
    assert {purpose for purpose in ("confirm", "manage", "unsubscribe") for url in urls
            if f"/subscriptions/{purpose}?token=" in url} == {"confirm", "manage", "unsubscribe"}
    assert len([url for url in urls if "token=" in url]) >= 12
    assert [(url, found) for url in urls if (found := leaks(url, PERSON))] == []

    logged = [record.getMessage() for record in caplog.records if record.name.startswith(("statusgen", "waitress"))]
    assert logged and [(line, found) for line in logged if (found := leaks(line, PERSON))] == []


def test_links_sent_before_the_opaque_tokens_still_work_for_their_purpose(service: Service) -> None:
    """An upgrade voids no link already in someone's mailbox: confirm, manage and unsubscribe
    links in the old format (itsdangerous, as statusgen made them before) still act."""
    person = "early@example.org"
    service.subscribe(person, ["dcc-app"], "en")
    service.mail_to(person)
    now = service.app.clock()
    confirm = old_token(SECRET, "confirm", person, now - timedelta(hours=47))
    manage = old_token(SECRET, "manage", person, now - timedelta(days=300))
    unsubscribe = old_token(SECRET, "unsubscribe", person, now - timedelta(days=399))
    browser = Browser(service)

    wrong = browser.get(f"/subscriptions/unsubscribe?token={confirm}")
    assert wrong.status == 400 and "this link was made to confirm, not to unsubscribe" in wrong.text
    stale = old_token(SECRET, "confirm", person, now - timedelta(hours=49))
    assert "this confirm link has expired" in browser.get(f"/subscriptions/confirm?token={stale}").text
    assert service.app.store.find(person).state == "pending"

    confirmed = browser.submit(browser.get(f"/subscriptions/confirm?token={confirm}"))
    assert confirmed.status == 200 and "You are subscribed" in confirmed.text
    page = browser.get(f"/subscriptions/manage?token={manage}")
    assert page.status == 200 and 'value="dcc-app" checked' in page.text
    saved = browser.submit(page, {"components": ["lookup-portal"], "language": "en"}, ("action", "save"))
    assert saved.status == 200 and service.app.store.find(person).components == ("lookup-portal",)
    new_links = [url for url in urls_in_reply(saved) if "/subscriptions/manage?token=" in url]
    assert new_links and all("." not in url.split("token=")[1] and not leaks(url, person) for url in new_links)
    gone = service.request("POST", f"/subscriptions/unsubscribe?token={unsubscribe}", "List-Unsubscribe=One-Click",
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert gone.status == 200 and service.app.store.is_suppressed(person)
