"""The test delivery to a webhook, sent while the contact waits for the page that reports it.

    subscription + language ──words (the service's translations), the page's status now,
        the signed manage link──▶ ping.ping_body (the subscriber's format)
        ──WebhookTransport (the SSRF policy, this subscription's signing secrets, no retry,
          TIMEOUT)──▶ Outcome: sent, or what went wrong in one line

The request thread waits for it: at most `TIMEOUT` plus the connection's. Nothing is
retried (the contact can send another from the manage page), and nothing is recorded:
this is not a notification, so no ledger keeps it.
"""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass
from datetime import datetime

from statusgen import ids
from statusgen.notifier.delivery import Progress
from statusgen.notifier.webhooks.network import NetworkPolicy
from statusgen.notifier.webhooks.ping import Page, PingWords, ping_body
from statusgen.notifier.webhooks.transport import WebhookRequest, WebhookTransport
from statusgen.site.state import site_state
from statusgen.subscriptions.forms import expand
from statusgen.subscriptions.mail import LogStream
from statusgen.subscriptions.pages import Pages
from statusgen.subscriptions.store import WebhookSubscription

TIMEOUT = 10.0
"""Seconds a receiver has to answer the test (the notifier allows 30; a visitor waits for this one)."""
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Outcome:
    kind: str
    """sent | failed | gone | uncertain | retry_later (as the transport told it)."""
    error: str = ""

    @property
    def sent(self) -> bool:
        return self.kind == "sent"


def ping_transport(policy: NetworkPolicy) -> WebhookTransport:
    """One connection, no retry, a short wait: the visitor is waiting."""
    return WebhookTransport(policy, workers=1, timeout=TIMEOUT, connect_timeout=CONNECT_TIMEOUT, retries=0)


class Tester:
    """Sends test deliveries for one site's service."""

    def __init__(self, pages: Pages, transport: WebhookTransport) -> None:
        self.pages = pages
        self.transport = transport

    def send(self, hook: WebhookSubscription, secrets: tuple[str, ...], manage_url: str, now: datetime) -> Outcome:
        lang = hook.language if hook.language in self.pages.site.config.languages else \
            self.pages.site.config.default_language
        body = ping_body(hook.format, self.words(hook, lang), self._page(now), hook.id,
                         self.pages.status_url(lang), manage_url, now)
        request = WebhookRequest(1, hook.url, body, f"ping_{random.token_hex(12)}", secrets, label=hook.shown,
                                 fmt=hook.format)
        ledger = _Ledger()
        self.transport.deliver([request], ledger, Progress(stream=LogStream(), label="webhook test"))
        return ledger.outcome

    def words(self, hook: WebhookSubscription, lang: str) -> PingWords:
        t = self.pages.translator(lang)
        site = self.pages.site
        site_title = site.config.title[lang]
        followed = expand(hook.components, site)
        chosen = site.components if followed is None else [site.components_by_id[c] for c in followed]
        names = self.pages.component_names(hook.components, lang)
        return PingWords(site=site_title, headline=t("service.webhook.ping.headline"),
                         title=t("service.webhook.ping.title", site=site_title),
                         text=t("service.webhook.ping.text", site=site_title),
                         components_label=t("subscribe.components"),
                         following=", ".join(names) if names else t("service.everything"),
                         components=tuple((ids.component_id(c.id), c.name[lang]) for c in chosen),
                         details=t("email.details"), colon=t("colon", label="{label}"))

    def _page(self, now: datetime) -> Page:
        indicator = site_state(self.pages.site, now).indicator
        return Page(ids.page_id(self.pages.site.config.base_url), indicator.indicator, indicator.description)


class _Ledger:
    """The transport's ledger for one test: its outcome is all that is kept."""

    def __init__(self) -> None:
        self.outcome = Outcome("failed", "no outcome was reported")

    def committing(self, delivery_id: int) -> None:
        pass

    def sent(self, delivery_id: int) -> None:
        self.outcome = Outcome("sent")

    def failed(self, delivery_id: int, error: str) -> None:
        self.outcome = Outcome("failed", error)

    def gone(self, delivery_id: int, error: str) -> None:
        self.outcome = Outcome("gone", error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self.outcome = Outcome("uncertain", error)

    def retry_later(self, delivery_id: int, error: str) -> None:
        self.outcome = Outcome("retry_later", error)
