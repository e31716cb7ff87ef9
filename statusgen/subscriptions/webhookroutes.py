"""The webhook tab of the subscription service: the same flow as an email subscription,
for a URL with a contact who confirms by email.

    GET  {base}webhook                the form: URL, contact, components, format, language
    POST {base}webhook                checked (forms.read_webhook: the SSRF policy's static check,
                                      no retired target); always "check your email": the contact
                                      gets the confirmation, or, if the URL is confirmed already,
                                      ITS contact an "already subscribed" (nobody takes it over)
    confirm (token `webhook:ID`)      pending → confirmed: the page shows the signing secret ONCE
                                      (Statuspage format; chat targets need none) and what the
                                      test delivery (webhooktest.py) met; a reload shows neither
    confirm (`webhook:ID:rotate:TAG`) a new signing secret, shown once; the old one signs beside it
                                      for a day (signingkeys.OVERLAP); the link works once
    manage  (token `webhook:ID`)      components and language, a test message, a new secret (by
                                      email to the contact), stop the deliveries; a webhook from
                                      subscribers.yaml can only be stopped here
    unsubscribe (token `webhook:ID`)  stops the deliveries: the subscription becomes
                                      `unsubscribed` and the URL is suppressed (also over yaml)

The manage link is what every delivery's `meta.unsubscribe` holds, which receivers may log:
it changes choices and stops deliveries, but a signing secret is only ever shown through a
link mailed to the contact.

These routes are mixed into `app.SubscriptionApp`, which holds the state and the page
helpers they share with the email routes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from statusgen.content.model import Subscriber
from statusgen.notifier.delivery import masked
from statusgen.notifier.webhooks.network import masked_url
from statusgen.content.webhooks import FORMATS
from statusgen.subscriptions.forms import AUTO, MAX_URL, Choices, Problem, read_choices, read_webhook
from statusgen.subscriptions.mail import CONFIRM_HOURS, Composer, Subject, webhook_subject
from statusgen.subscriptions.pages import Pages
from statusgen.subscriptions.security import Guard
from statusgen.subscriptions.settings import Service
from statusgen.subscriptions.signingkeys import OVERLAP_HOURS, key_check, new_seed, seed_tag
from statusgen.subscriptions.store import SubscriptionStore, WebhookSubscription
from statusgen.subscriptions.webhooktest import Outcome, Tester

log = logging.getLogger(__name__)

TEST_LIMIT = (5, timedelta(hours=1))
"""Test messages per webhook from the manage page: the service must not become a way to
flood somebody's endpoint."""


class WebhookRoutes:
    """The webhook routes of `SubscriptionApp` (see the module docstring)."""

    service: Service
    store: SubscriptionStore
    pages: Pages
    composer: Composer
    guard: Guard
    tester: Tester
    clock: Callable[[], datetime]

    if TYPE_CHECKING:  # the app's helpers, shared with its email routes
        def _language(self, request: Request, *preferred: str | None) -> str: ...
        def _page(self, template: str, lang: str, status: int = 200, **context: Any) -> Response: ...
        def _form_page(self, request: Request, template: str, lang: str, status: int = 200,
                       **context: Any) -> Response: ...
        def _message(self, lang: str, key: str, status: int = 200, links: list[tuple[str, str]] | None = None,
                     detail: str | None = None, **values: Any) -> Response: ...
        def _subscribe_link(self, lang: str) -> tuple[str, str]: ...
        def _sent(self, lang: str) -> Response: ...
        def _limit_client(self, request: Request) -> None: ...
        def _send_limited(self, address: str, kind: str, lang: str, now: datetime,
                          webhook: WebhookSubscription | None = None) -> None: ...
        def _choices_context(self, lang: str, choices: Choices, problems: list[Problem]) -> dict[str, Any]: ...
        def _following(self, components: tuple[str, ...] | None, lang: str) -> str: ...

    # ── subscribe ─────────────────────────────────────────────────────────────────

    def _webhook_get(self, request: Request) -> Response:
        lang = self._language(request)
        return self._webhook_form(request, lang, Choices(None, lang), {}, [], status=200)

    def _webhook_form(self, request: Request, lang: str, choices: Choices, given: dict[str, str],
                      problems: list[Problem], status: int) -> Response:
        t = self.pages.translator(lang)
        formats = [(AUTO, t("webhook.format_auto")), *((fmt, t(f"webhook.formats.{fmt}")) for fmt in FORMATS)]
        return self._form_page(request, "webhook.html", lang, status=status,
                               alternates=self.pages.alternates("webhook", {}) if status == 200 else [],
                               url=given.get("url", ""), email=given.get("email", ""),
                               format=given.get("format") or AUTO, formats=formats,
                               **self._choices_context(lang, choices, problems))

    def _webhook_post(self, request: Request) -> Response:
        form = request.form
        self.guard.check(request, form)
        lang = self._language(request, form.get("language"))
        if form.get("website", "").strip():  # the honeypot
            return self._sent(lang)
        self._limit_client(request)
        wanted, problems = read_webhook(form, self.service.site, self.service.webhook_policy)
        if wanted is None:
            shown = Choices(tuple(form.getlist("components")) or None, lang)
            given = {"url": form.get("url", "")[:MAX_URL], "email": form.get("email", "")[:300],
                     "format": form.get("format", "")[:20]}
            return self._webhook_form(request, lang, shown, given, problems, status=400)
        now = self.clock()
        before, hook = self.store.request_webhook(wanted.url, wanted.format, wanted.choices.components,
                                                  wanted.choices.language, wanted.contact, now)
        # a confirmed webhook keeps its contact: they are told, the sender of the form is not
        kind = "webhook_already" if before == "confirmed" else "webhook_confirm"
        if hook.contact:
            self._send_limited(hook.contact, kind, hook.language, now, webhook=hook)
        return self._sent(lang)

    # ── confirm, and a new signing secret ─────────────────────────────────────────

    def _webhook_confirm_get(self, request: Request, token: str, subject: Subject) -> Response:
        hook = self.store.find_webhook(subject.webhook)
        lang = self._language(request, hook.language if hook else None)
        if hook is None or hook.state == "unsubscribed" or (subject.rotates and hook.state != "confirmed"):
            return self._message(lang, "confirm_gone", status=400, links=[self._subscribe_link(lang)])
        return self._form_page(request, "confirm.html", lang, token=token, target=hook.shown,
                               rotation=bool(subject.rotates), hours=OVERLAP_HOURS,
                               alternates=self.pages.alternates("confirm", {"token": token}))

    def _webhook_confirm_post(self, request: Request, subject: Subject) -> Response:
        now = self.clock()
        if subject.rotates:
            return self._rotate(request, subject, now)
        seed = new_seed()
        hook, confirmed_now = self.store.confirm_webhook(subject.webhook, seed,
                                                         key_check(self.service.secret, subject.webhook, seed), now)
        lang = self._language(request, request.form.get("lang"), hook.language if hook else None)
        if hook is None:
            return self._message(lang, "confirm_gone", status=400, links=[self._subscribe_link(lang)])
        if not confirmed_now:  # a reload, or the link followed again: the secret was shown once
            return self._message(lang, "webhook.reconfirmed", target=hook.shown, links=[self._manage(hook, lang, now)])
        log.info("subscriptions: webhook %s (%s) confirmed by %s", hook.id, hook.shown, masked(hook.contact))
        return self._secret_page(hook, lang, now, heading="webhook.confirmed", test=True)

    def _rotate(self, request: Request, subject: Subject, now: datetime) -> Response:
        hook = self.store.find_webhook(subject.webhook)
        lang = self._language(request, request.form.get("lang"), hook.language if hook else None)
        seed = new_seed()
        rotated = None
        if hook is not None and hook.seed and seed_tag(hook.seed) == subject.rotates and hook.signed:
            rotated = self.store.rotate_webhook(hook.id, hook.seed, seed, key_check(self.service.secret, hook.id, seed),
                                                now)
        if rotated is None:
            return self._message(lang, "webhook.rotate_gone", status=400,
                                 links=[self._manage(hook, lang, now)] if hook and hook.state == "confirmed" else [])
        log.info("subscriptions: webhook %s has a new signing secret", rotated.id)
        return self._secret_page(rotated, lang, now, heading="webhook.rotated", test=False)

    def _secret_page(self, hook: WebhookSubscription, lang: str, now: datetime, heading: str, test: bool) -> Response:
        """The secret (shown once: nothing else ever shows it) and, when asked, the test's outcome."""
        secrets = hook.secrets(self.service.secret)
        outcome = self._test(hook, now) if test else None
        t = self.pages.translator(lang)
        return self._page("webhook_secret.html", lang, heading=t(f"service.{heading}.heading"),
                          text=t(f"service.{heading}.text", target=hook.shown,
                                 following=self._following(hook.components, lang),
                                 hours=OVERLAP_HOURS),
                          secret=secrets[0] if secrets else None, signed=hook.signed,
                          outcome=self._outcome_text(outcome, hook, lang) if outcome else None,
                          sent=outcome.sent if outcome else None, links=[self._manage(hook, lang, now)])

    def _test(self, hook: WebhookSubscription, now: datetime) -> Outcome:
        outcome = self.tester.send(hook, hook.secrets(self.service.secret), self._manage_url(hook, now), now)
        log.info("subscriptions: test message to webhook %s: %s%s", hook.id, outcome.kind,
                 f": {outcome.error}" if outcome.error else "")
        return outcome

    def _outcome_text(self, outcome: Outcome, hook: WebhookSubscription, lang: str) -> str:
        t = self.pages.translator(lang)
        if outcome.sent:
            return t("service.webhook.test.sent", target=hook.shown)
        return t("service.webhook.test.failed", target=hook.shown, error=outcome.error)

    def _manage_url(self, hook: WebhookSubscription, now: datetime) -> str:
        """The link every delivery carries as `meta.unsubscribe`."""
        return self.composer.link("manage", webhook_subject(hook), now)

    def _manage(self, hook: WebhookSubscription, lang: str, now: datetime) -> tuple[str, str]:
        return self._manage_url(hook, now), self.pages.translator(lang)("service.webhook.manage_link")

    # ── manage ────────────────────────────────────────────────────────────────────

    def _known_webhook(self, ident: str) -> tuple[WebhookSubscription | None, Subscriber | None]:
        """The webhook's own record, and its subscribers.yaml entry."""
        return self.store.find_webhook(ident), self.service.listed_webhooks.get(ident)

    def _webhook_manage_get(self, request: Request, token: str, subject: Subject) -> Response:
        hook, listed = self._known_webhook(subject.webhook)
        own = hook if hook and hook.state == "confirmed" else None
        lang = self._language(request, *(s.language for s in (hook, listed) if s))
        if own is None and (hook and hook.state == "unsubscribed" or listed and self.store.is_suppressed(listed.key)):
            return self._message(lang, "webhook.unsubscribed", target=hook.shown if hook else _shown(listed),
                                 links=[self._subscribe_link(lang)])
        if own is None and listed is None:
            return self._message(lang, "webhook.none", links=[self._subscribe_link(lang)])
        components = own.components if own else listed.components if listed else None
        choices = Choices(components, own.language if own else lang)
        return self._webhook_manage_form(request, lang, token, own, listed, choices, [], status=200)

    def _webhook_manage_form(self, request: Request, lang: str, token: str, own: WebhookSubscription | None,
                             listed: Subscriber | None, choices: Choices, problems: list[Problem],
                             status: int) -> Response:
        target = own.shown if own else _shown(listed)
        fmt = own.format if own else (listed.format if listed else None) or "statuspage"
        return self._form_page(request, "webhook_manage.html", lang, status=status, token=token, target=target,
                               from_yaml=own is None, signed=own.signed if own else False,
                               format_name=self.pages.translator(lang)(f"webhook.formats.{fmt}"),
                               alternates=self.pages.alternates("manage", {"token": token}) if status == 200 else [],
                               **self._choices_context(lang, choices, problems))

    def _webhook_manage_post(self, request: Request, token: str, subject: Subject) -> Response:
        form = request.form
        hook, listed = self._known_webhook(subject.webhook)
        own = hook if hook and hook.state == "confirmed" else None
        lang = self._language(request, form.get("lang"))
        action = form.get("action")
        if action == "unsubscribe":
            return self._webhook_unsubscribe(request, subject)
        if own is None:  # nothing of its own to change: a yaml entry is the operators'
            key = "webhook.none" if listed is None else "webhook.manage_yaml"
            return self._message(lang, key, status=400, links=[self._subscribe_link(lang)])
        now = self.clock()
        if action == "test":
            return self._test_page(own, lang, now)
        if action == "secret":
            return self._send_rotation(own, lang, now)
        problems: list[Problem] = []
        choices = read_choices(form, self.service.site, problems)
        if choices is None:
            shown = Choices(tuple(form.getlist("components")) or None, lang)
            return self._webhook_manage_form(request, lang, token, own, listed, shown, problems, status=400)
        saved = self.store.save_webhook(own.id, choices.components, choices.language, now)
        if saved is None:
            return self._message(lang, "webhook.none", links=[self._subscribe_link(lang)])
        lang = saved.language
        return self._message(lang, "webhook.saved", target=saved.shown,
                             following=self._following(saved.components, lang), links=[self._manage(saved, lang, now)])

    def _test_page(self, hook: WebhookSubscription, lang: str, now: datetime) -> Response:
        links = [self._manage(hook, lang, now)]
        if self.store.hit(f"test:{hook.id}", *TEST_LIMIT, now):
            return self._message(lang, "webhook.test_limited", status=429, links=links)
        outcome = self._test(hook, now)
        t = self.pages.translator(lang)
        return self._page("message.html", lang, heading=t("service.webhook.test.heading"),
                          text=self._outcome_text(outcome, hook, lang), detail=None, links=links)

    def _send_rotation(self, hook: WebhookSubscription, lang: str, now: datetime) -> Response:
        """A link to a new signing secret, mailed to the contact: whoever holds the manage
        link (it is in every delivery) does not get the secret by holding it."""
        links = [self._manage(hook, lang, now)]
        if not hook.signed or not hook.contact:
            return self._message(lang, "webhook.secret_unavailable", status=400, links=links)
        self._send_limited(hook.contact, "webhook_secret", hook.language, now, webhook=hook)
        return self._message(lang, "webhook.secret_sent", hours=CONFIRM_HOURS, links=links)

    # ── unsubscribe ───────────────────────────────────────────────────────────────

    def _webhook_unsubscribe_get(self, request: Request, token: str, subject: Subject) -> Response:
        hook, listed = self._known_webhook(subject.webhook)
        lang = self._language(request, *(s.language for s in (hook, listed) if s))
        target = hook.shown if hook else _shown(listed)
        if hook is None and listed is None or hook is not None and hook.state == "unsubscribed":
            return self._message(lang, "webhook.unsubscribed", target=target, links=[self._subscribe_link(lang)])
        action = f"{self.service.base_path}unsubscribe?{urlencode({'token': token})}"
        return self._page("unsubscribe.html", lang, action=action, target=target,
                          alternates=self.pages.alternates("unsubscribe", {"token": token}))

    def _webhook_unsubscribe(self, request: Request, subject: Subject) -> Response:
        """Idempotent: the subscription ends (if any) and the URL stays suppressed."""
        hook, listed = self._known_webhook(subject.webhook)
        lang = self._language(request, request.form.get("lang"), *(s.language for s in (hook, listed) if s))
        found = hook or listed
        if found is not None:  # both know their key: `webhook:URL`
            self.store.unsubscribe(found.key, self.clock())
            log.info("subscriptions: webhook %s unsubscribed", subject.webhook)
        target = hook.shown if hook else _shown(listed)
        return self._message(lang, "webhook.unsubscribed", target=target, links=[self._subscribe_link(lang)])


def _shown(listed: Subscriber | None) -> str:
    """A subscribers.yaml webhook's URL as pages may show it."""
    return masked_url(listed.webhook) if listed and listed.webhook else ""
