"""The subscription service as a WSGI app (werkzeug), under the path of its public URL.

    GET  {base}                       → {base}subscribe
    GET  {base}subscribe              the service's own form (with a CSRF token)
    POST {base}subscribe              the form contract (see forms.py): always "check your email"
    GET  {base}confirm?token=         a page with a button: a mail scanner's prefetch confirms nothing
    POST {base}confirm                pending → confirmed
    GET  {base}manage?token=          change components or language, or unsubscribe
    POST {base}manage
    GET  {base}unsubscribe?token=     a page with a button
    POST {base}unsubscribe?token=     RFC 8058 one-click (no cookie, no CSRF token: the token decides)
    GET  {base}healthz                {"status": "ok", "database": "ok"}, or 503 and "unreachable" or "read-only"
    GET|POST {base}webhook            the webhook tab (webhookroutes.py); confirm, manage and
                                      unsubscribe take its links too (a token for `webhook:ID`)

The subscribe POST answers the same bytes whatever the address's state (unknown,
pending, confirmed, unsubscribed) and does the same work in each: one row written, one
email composed and queued (unless the per-address limit holds it back, silently), so
nobody can learn from the service who is subscribed.

Requests that show the service is reached elsewhere than `subscriptions.url` says (a
proxy that strips its path prefix, another host) are logged once each (`reach.Reach`).

A store that does not answer (a PostgreSQL database down or out of reach) or cannot be
written (a read-only SQLite file or database, a full disk) is a 503 page with Retry-After
for the requests that need it, never a 500 with a traceback; nothing was changed, so the
visitor can send it again, and the service recovers by itself when the store is back.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, ServiceUnavailable, TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from statusgen.content.model import Subscriber
from statusgen.database import DatabaseError
from statusgen.subscriptions.forms import Choices, Problem, read_choices, read_subscribe
from statusgen.subscriptions.mail import CONFIRM_HOURS, Composer, Mailer, Subject
from statusgen.subscriptions.pages import Pages
from statusgen.subscriptions.reach import Reach
from statusgen.subscriptions.security import CSRF_FIELD, Guard, origin_of, security_headers
from statusgen.subscriptions.settings import MAX_BODY, Service
from statusgen.subscriptions.store import Subscription, SubscriptionStore, WebhookSubscription, address_key
from statusgen.subscriptions.webhookroutes import WebhookRoutes
from statusgen.subscriptions.webhooktest import Tester
from statusgen.tokens import TokenError, read_token
from statusgen.notifier.delivery import Transport, masked
from statusgen.notifier.webhooks.transport import WebhookTransport

log = logging.getLogger(__name__)

CLIENT_LIMIT = (10, timedelta(minutes=10))
"""Subscribe POSTs per client address."""
ADDRESS_LIMIT = (3, timedelta(hours=1))
"""Emails per address: beyond it the form still answers "check your email", but sends nothing."""
PURGE_EVERY = 60.0
"""Seconds between purges of expired pending subscriptions and rate-limit windows."""
MAX_TOKEN = 1000
ERRORS = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          413: "too_large", 429: "too_many", 500: "internal", 503: "unavailable"}
RETRY_UNAVAILABLE = 30
"""Seconds a client is asked to wait (Retry-After) while the database does not answer."""


class ServiceRequest(Request):
    """Requests are small: a form with an address and a few ids."""

    max_content_length = MAX_BODY
    max_form_memory_size = MAX_BODY
    max_form_parts = 200


class _TokenProblem(Exception):
    def __init__(self, purpose: str, reason: str) -> None:
        super().__init__(reason)
        self.purpose, self.reason = purpose, reason


class SubscriptionApp(WebhookRoutes):
    def __init__(self, service: Service, store: SubscriptionStore, transport: Transport,
                 clock: Callable[[], datetime] | None = None, webhooks: WebhookTransport | None = None) -> None:
        self.service = service
        self.store = store
        self.mailer = Mailer(transport)
        self.clock = clock or (lambda: datetime.now(UTC))
        config = service.site.config
        self.pages = Pages(service.site, service.theme, service.base_path)
        if webhooks is None:
            from statusgen.subscriptions.webhooktest import ping_transport

            webhooks = ping_transport(service.webhook_policy)
        self.tester = Tester(self.pages, webhooks)
        self.composer = Composer(service.site, service.theme, service.mail, service.public_url, service.secret)
        status_origin = origin_of(config.base_url) or config.base_url
        origins = {status_origin, origin_of(service.public_url) or ""}
        self.guard = Guard(service.secret, origins, service.base_path, secure=service.public_url.startswith("https://"))
        self.reach = Reach(service.public_url, service.base_path, origins)
        self.headers = security_headers(status_origin)
        base = service.base_path
        self.url_map = Map([
            Rule(base, endpoint="home", methods=["GET"]),
            *(Rule(f"{base}{name}", endpoint=name, methods=["GET", "POST"])
              for name in ("subscribe", "webhook", "confirm", "manage", "unsubscribe")),
            Rule(f"{base}healthz", endpoint="healthz", methods=["GET"]),
        ], strict_slashes=False, merge_slashes=False)  # never a redirect built from the Host header
        self._wsgi: Callable[..., Iterable[bytes]] = self._respond
        if service.trusted_proxies:
            self._wsgi = ProxyFix(self._respond, x_for=service.trusted_proxies, x_proto=0, x_host=0)
        self._purge_lock = threading.Lock()
        self._next_purge = 0.0
        self._housekeeping()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._wsgi(environ, start_response)

    def close(self) -> None:
        self.mailer.close()
        self.store.close()

    # ── plumbing ──────────────────────────────────────────────────────────────────

    def _respond(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = ServiceRequest(environ)
        response = self._dispatch(request)
        response.headers.update(self.headers)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        self.reach.note(request)  # reached as subscriptions.url says? (a warning, once)
        try:
            endpoint, _ = self.url_map.bind_to_environ(request.environ).match()
            self._housekeeping()
            method = "get" if request.method == "HEAD" else request.method.lower()
            return getattr(self, f"_{endpoint}_{method}")(request)  # type: ignore[no-any-return]
        except _TokenProblem as problem:
            return self._token_problem(request, problem)
        except HTTPException as error:
            return self._error(request, error)
        except DatabaseError as error:  # down or out of reach: say so, briefly; the pool reconnects
            log.warning("subscriptions: %s %s: %s", request.method, request.path, error)
            return self._error(request, ServiceUnavailable(retry_after=RETRY_UNAVAILABLE))
        except Exception:  # noqa: BLE001 - a page in the site's look, with the security headers
            log.exception("subscriptions: %s %s failed", request.method, request.path)
            return self._error(request, InternalServerError())

    def _housekeeping(self) -> None:
        """Purge expired pending subscriptions at startup and then at most once a minute;
        a database that does not answer is skipped until the next minute (the request
        itself says 503 if it needs the database)."""
        with self._purge_lock:
            if time.monotonic() < self._next_purge:
                return
            self._next_purge = time.monotonic() + PURGE_EVERY
        try:
            gone = self.store.purge(self.clock())
        except DatabaseError as error:
            log.warning("subscriptions: no purge this minute: %s", error)
            return
        if gone:
            log.info("subscriptions: forgot %d unconfirmed subscription(s) whose link expired", gone)

    def _language(self, request: Request, *preferred: str | None) -> str:
        """`?lang=`, else the first preferred one the site has, else the site's first."""
        languages = self.service.site.config.languages
        for lang in (request.args.get("lang"), *preferred):
            if lang in languages:
                return lang
        return languages[0]

    def _page(self, template: str, lang: str, status: int = 200, **context: Any) -> Response:
        return Response(self.pages.render(template, lang, **context), status=status, mimetype="text/html")

    def _form_page(self, request: Request, template: str, lang: str, status: int = 200, **context: Any) -> Response:
        """A page with a form: the CSRF token in it, and the cookie it is tied to if new."""
        token, cookie = self.guard.token_for(request)
        response = self._page(template, lang, status=status, csrf=token, csrf_field=CSRF_FIELD, **context)
        self.guard.set_cookie(response, cookie)
        return response

    def _message(self, lang: str, key: str, status: int = 200, links: list[tuple[str, str]] | None = None,
                 detail: str | None = None, **values: Any) -> Response:
        """A page that only says something: `service.KEY.heading` and `service.KEY.text`."""
        t = self.pages.translator(lang)
        return self._page("message.html", lang, status=status, heading=t(f"service.{key}.heading"),
                          text=t(f"service.{key}.text", **values), detail=detail, links=links or [])

    def _subscribe_link(self, lang: str) -> tuple[str, str]:
        return (f"{self.service.base_path}subscribe?{urlencode({'lang': lang})}",
                self.pages.translator(lang)("service.subscribe_again"))

    def _error(self, request: Request, error: HTTPException) -> Response:
        code = error.code or 500
        lang = self._language(request)
        response = self._message(lang, f"error.{ERRORS.get(code, 'bad_request')}", status=code)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        if isinstance(error, (TooManyRequests, ServiceUnavailable)) and error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    def _address(self, token: str, purpose: str) -> str:
        """The address a link's token was made for; the token is the link's authorisation."""
        if not token or len(token) > MAX_TOKEN:
            raise _TokenProblem(purpose, f"this {purpose} link is incomplete")
        try:
            return read_token(self.service.secret, purpose, token, now=self.clock())
        except TokenError as error:
            raise _TokenProblem(purpose, error.reason) from None

    def _subject(self, token: str, purpose: str) -> Subject:
        """What a link's token acts on: an address or a webhook (mail.Subject)."""
        return Subject.read(self._address(token, purpose))

    def _token_problem(self, request: Request, problem: _TokenProblem) -> Response:
        lang = self._language(request, request.form.get("lang") if request.method == "POST" else None)
        key = "token.expired" if "expired" in problem.reason else "token.invalid"
        return self._message(lang, key, status=400, detail=problem.reason, links=[self._subscribe_link(lang)])

    def _known(self, address: str) -> tuple[Subscription | None, Subscriber | None]:
        """The address's own record, and its subscribers.yaml entry."""
        return self.store.find(address), self.service.listed.get(address_key(address))

    # ── routes ────────────────────────────────────────────────────────────────────

    def _home_get(self, request: Request) -> Response:
        target = f"{self.service.base_path}subscribe"
        lang = request.args.get("lang")
        return redirect(f"{target}?{urlencode({'lang': lang})}" if lang else target, code=303)

    def _healthz_get(self, request: Request) -> Response:
        """For monitoring: whether the store answers and takes writes (a store that can
        only be read makes every subscribe and confirm a 503). Nothing else (no address,
        no URL)."""
        if not self.store.reachable():
            state = "unreachable"
        elif not self.store.writable():
            state = "read-only"
        else:
            return _json({"status": "ok", "database": "ok"}, 200)
        response = _json({"status": "unavailable", "database": state}, 503)
        response.headers["Retry-After"] = str(RETRY_UNAVAILABLE)
        return response

    def _subscribe_get(self, request: Request) -> Response:
        lang = self._language(request)
        return self._subscribe_form(request, lang, Choices(None, lang), "", [], status=200)

    def _subscribe_form(self, request: Request, lang: str, choices: Choices, email: str,
                        problems: list[Problem], status: int) -> Response:
        return self._form_page(request, "subscribe.html", lang, status=status,
                               alternates=self.pages.alternates("subscribe", {}) if status == 200 else [],
                               email=email, **self._choices_context(lang, choices, problems))

    def _choices_context(self, lang: str, choices: Choices, problems: list[Problem]) -> dict[str, Any]:
        """What the subscribe and manage forms show of the choices: components by group,
        those chosen, the languages, and what was wrong with the last post."""
        t = self.pages.translator(lang)
        return {"entries": self.pages.entries(lang), "chosen": set(choices.components or ()),
                "language": choices.language,
                "languages": [(code, self.pages.translator(code).language_name)
                              for code in self.service.site.config.languages],
                "problems": [(p.field, t(f"service.error.{p.key}", **p.values)) for p in problems]}

    def _subscribe_post(self, request: Request) -> Response:
        form = request.form
        self.guard.check(request, form)
        lang = self._language(request, form.get("language"))
        if form.get("website", "").strip():  # the honeypot: a bot; it learns nothing
            return self._sent(lang)
        self._limit_client(request)
        wanted, problems = read_subscribe(form, self.service.site)
        if wanted is None:
            shown = Choices(tuple(form.getlist("components")) or None, lang)
            return self._subscribe_form(request, lang, shown, form.get("email", "")[:300], problems, status=400)
        now = self.clock()
        before = self.store.request(wanted.email, wanted.choices.components, wanted.choices.language, now)
        kind = "already" if before == "confirmed" else "confirm"
        self._send_limited(wanted.email, kind, wanted.choices.language, now)
        return self._sent(lang)

    def _send_limited(self, address: str, kind: str, lang: str, now: datetime,
                      webhook: WebhookSubscription | None = None) -> None:
        """Compose the email (always: the work must not tell cases apart) and send it,
        unless the address had its share this hour (then silently not)."""
        outgoing = self.composer.compose(kind, address, lang, now, webhook=webhook)
        if self.store.hit(f"email:{address_key(address)}", *ADDRESS_LIMIT, now):
            log.info("subscriptions: no email to %s: too many in the last hour", masked(address))
        else:
            self.mailer.send(outgoing)

    def _sent(self, lang: str) -> Response:
        """"Check your email": the one answer to every accepted subscribe POST."""
        back = (self.pages.status_url(lang), self.pages.translator(lang)("service.back_to_status"))
        return self._message(lang, "sent", links=[back], hours=CONFIRM_HOURS)

    def _limit_client(self, request: Request) -> None:
        retry = self.store.hit(f"client:{_client(request)}", *CLIENT_LIMIT, self.clock())
        if retry:
            raise TooManyRequests(retry_after=retry)

    def _confirm_get(self, request: Request) -> Response:
        token = request.args.get("token", "")
        subject = self._subject(token, "confirm")
        if subject.webhook:
            return self._webhook_confirm_get(request, token, subject)
        found, _ = self._known(subject.address)
        lang = self._language(request, found.language if found else None)
        return self._form_page(request, "confirm.html", lang, token=token,
                               alternates=self.pages.alternates("confirm", {"token": token}))

    def _confirm_post(self, request: Request) -> Response:
        form = request.form
        self.guard.check(request, form)
        subject = self._subject(form.get("token", ""), "confirm")
        if subject.webhook:
            return self._webhook_confirm_post(request, subject)
        address = subject.address
        now = self.clock()
        found = self.store.confirm(address, now)
        lang = self._language(request, form.get("lang"), found.language if found else None)
        if found is None:
            return self._message(lang, "confirm_gone", status=400, links=[self._subscribe_link(lang)])
        return self._message(lang, "confirmed", following=self._following(found.components, lang),
                             links=[(self.composer.link("manage", address, now),
                                     self.pages.translator(lang)("service.manage_link"))])

    def _following(self, components: tuple[str, ...] | None, lang: str) -> str:
        names = self.pages.component_names(components, lang)
        t = self.pages.translator(lang)
        return ", ".join(names) if names else t("service.everything")

    def _manage_get(self, request: Request) -> Response:
        token = request.args.get("token", "")
        subject = self._subject(token, "manage")
        if subject.webhook:
            return self._webhook_manage_get(request, token, subject)
        address = subject.address
        found, listed = self._known(address)
        current = found if found and found.state == "confirmed" else (listed or found)
        lang = self._language(request, current.language if current else None)
        if self.store.is_suppressed(address):
            return self._message(lang, "manage_unsubscribed", links=[self._subscribe_link(lang)])
        if current is None:
            return self._message(lang, "manage_none", links=[self._subscribe_link(lang)])
        choices = Choices(current.components, current.language)
        return self._manage_form(request, lang, token, address, choices, from_yaml=current is listed,
                                 problems=[], status=200)

    def _manage_form(self, request: Request, lang: str, token: str, address: str, choices: Choices,
                     from_yaml: bool, problems: list[Problem], status: int) -> Response:
        return self._form_page(request, "manage.html", lang, status=status, token=token, email=address,
                               alternates=self.pages.alternates("manage", {"token": token}) if status == 200 else [],
                               from_yaml=from_yaml, **self._choices_context(lang, choices, problems))

    def _manage_post(self, request: Request) -> Response:
        form = request.form
        self.guard.check(request, form)
        token = form.get("token", "")
        subject = self._subject(token, "manage")
        if subject.webhook:
            return self._webhook_manage_post(request, token, subject)
        address = subject.address
        found, listed = self._known(address)
        lang = self._language(request, form.get("lang"))
        if form.get("action") == "unsubscribe":
            return self._unsubscribe(address, lang)
        if self.store.is_suppressed(address):
            return self._message(lang, "manage_unsubscribed", links=[self._subscribe_link(lang)])
        problems: list[Problem] = []
        choices = read_choices(form, self.service.site, problems)
        if choices is None:
            shown = Choices(tuple(form.getlist("components")) or None, lang)
            return self._manage_form(request, lang, token, address, shown, from_yaml=False, problems=problems,
                                     status=400)
        replaces_yaml = listed is not None and (found is None or found.state != "confirmed")
        now = self.clock()
        saved = self.store.save(address, choices.components, choices.language, now)
        lang = saved.language
        t = self.pages.translator(lang)
        return self._message(lang, "saved", following=self._following(saved.components, lang),
                             detail=t("service.saved.replaces_yaml") if replaces_yaml else None,
                             links=[(self.composer.link("manage", address, now), t("service.manage_link"))])

    def _unsubscribe_get(self, request: Request) -> Response:
        token = request.args.get("token", "")
        subject = self._subject(token, "unsubscribe")
        if subject.webhook:
            return self._webhook_unsubscribe_get(request, token, subject)
        address = subject.address
        found, listed = self._known(address)
        lang = self._language(request, *(s.language for s in (found, listed) if s))
        if self.store.is_suppressed(address) and found is None:
            return self._message(lang, "unsubscribed", links=[self._subscribe_link(lang)])
        action = f"{self.service.base_path}unsubscribe?{urlencode({'token': token})}"
        return self._page("unsubscribe.html", lang, action=action, email=address,
                          alternates=self.pages.alternates("unsubscribe", {"token": token}))

    def _unsubscribe_post(self, request: Request) -> Response:
        """RFC 8058: the mail provider posts `List-Unsubscribe=One-Click` with no cookie,
        no origin and no CSRF token; the signed token is the authorisation. Idempotent."""
        form = request.form
        subject = self._subject(request.args.get("token") or form.get("token", ""), "unsubscribe")
        if subject.webhook:
            return self._webhook_unsubscribe(request, subject)
        address = subject.address
        found, listed = self._known(address)
        lang = self._language(request, form.get("lang"), *(s.language for s in (found, listed) if s))
        return self._unsubscribe(address, lang)

    def _unsubscribe(self, address: str, lang: str) -> Response:
        self.store.unsubscribe(address, self.clock())
        log.info("subscriptions: %s unsubscribed", masked(address))
        return self._message(lang, "unsubscribed", links=[self._subscribe_link(lang)])


def _json(document: dict[str, str], status: int) -> Response:
    return Response(json.dumps(document) + "\n", status=status, mimetype="application/json")


def _client(request: Request) -> str:
    """Who a client is for rate limits: its IPv4 address, or its IPv6 /64 (one household,
    one phone: they get whole /64 networks and pick addresses from them at will)."""
    remote = request.remote_addr or "unknown"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)
