"""The service's emails: "confirm your subscription" and "you are already subscribed",
and for a webhook's contact the same two plus "here is the link to your new signing secret".

All come from one template pair, `site_templates/emails/confirm.txt` and
`confirm.html` (with `already` as the switch), looked up like the notification emails
(`notify.compose.email_environment`), in the subscriber's language, text + HTML.
Headers go through the same checks as the notifications' (`notify.wire.set_headers`:
one line each, one recipient).

A link's token names what it acts on (`subject`): an address, `webhook:ID` for a webhook
subscription (never its URL: short, and the store knows the rest), or `webhook:ID:rotate:TAG`
for a link that rotates the signing secret once (the tag names the seed it replaces).

`Mailer` sends from a background thread through the notifier's transports (SMTP or the
outbox), so a request never waits for the mail server: the answer to the subscribe
form takes the same time whether an email goes out or not.
"""

from __future__ import annotations

import io
import itertools
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from statusgen.notifier.compose import email_environment, render_template
from statusgen.notifier.message import MailSettings, unsubscribe_headers
from statusgen.notifier.wire import POLICY, ascii_host, set_headers, wire_bytes
from statusgen.content.model import Site
from statusgen.site.theme import Theme, Translator
from statusgen.subscriptions.signingkeys import seed_tag
from statusgen.subscriptions.store import WEBHOOK, WebhookSubscription
from statusgen.tokens import MAX_AGE, make_token
from statusgen.notifier.delivery import Outgoing, Progress, Transport, masked, masked_in

log = logging.getLogger(__name__)

KINDS = ("confirm", "already", "webhook_confirm", "webhook_already", "webhook_secret")
ROTATE = ":rotate:"


@dataclass(frozen=True)
class Subject:
    """What a link acts on: an address, or a webhook subscription (and the seed a rotation
    link replaces)."""

    address: str = ""
    webhook: str = ""
    rotates: str = ""

    @classmethod
    def read(cls, subject: str) -> Subject:
        if not subject.startswith(WEBHOOK):
            return cls(address=subject)
        ident, _, tag = subject[len(WEBHOOK):].partition(ROTATE)
        return cls(webhook=ident, rotates=tag)


def webhook_subject(hook: WebhookSubscription, rotation: bool = False) -> str:
    """`webhook:ID`, or for a rotation link `webhook:ID:rotate:TAG`."""
    plain = f"{WEBHOOK}{hook.id}"
    return f"{plain}{ROTATE}{seed_tag(hook.seed)}" if rotation and hook.seed else plain
CONFIRM_HOURS = int(MAX_AGE["confirm"] / timedelta(hours=1))
"""How long a confirmation link works, as the email and the "check your email" page say."""


@dataclass(frozen=True)
class Composer:
    """Builds the service's emails for one site."""

    site: Site
    theme: Theme
    settings: MailSettings
    public_url: str
    secret: str = field(repr=False)

    def link(self, purpose: str, address: str, now: datetime) -> str:
        """`{public_url}{purpose}?token=...`: the token is the whole authorisation."""
        return f"{self.public_url}{purpose}?token={make_token(self.secret, purpose, address, now=now)}"

    def compose(self, kind: str, address: str, lang: str, now: datetime,
                webhook: WebhookSubscription | None = None) -> Outgoing:
        """The email of `kind` to `address`; every link is made whatever the kind, so
        composing costs the same for an unknown address and a known one. The webhook kinds
        go to the `webhook`'s contact and their links act on the webhook."""
        if kind not in KINDS or kind.startswith("webhook_") != (webhook is not None):
            raise ValueError(f"email kind: expected one of {', '.join(KINDS)} (webhook_ ones with a webhook); "
                             f"found {kind!r}")
        t = Translator(lang, self.theme.messages(lang), self.site.config.timezone)
        site_title = self.site.config.title[lang]
        subject = address if webhook is None else webhook_subject(webhook)
        action = subject if kind != "webhook_secret" or webhook is None else webhook_subject(webhook, rotation=True)
        target = webhook.shown if webhook else ""
        context = {
            "t": t, "lang": lang, "site_title": site_title, "already": kind.endswith("already"),
            "intro": t(f"service.email.{kind}_text", site=site_title, target=target),
            "action_label": t("service.email.secret_button" if kind == "webhook_secret" else
                              "service.email.webhook_button" if webhook else "service.email.confirm_button"),
            "confirm_url": self.link("confirm", action, now),
            "manage_url": self.link("manage", subject, now),
            "unsubscribe_url": self.link("unsubscribe", subject, now),
            "status_url": self.site.config.base_url,
            "hours": CONFIRM_HOURS,
        }
        subject_line = t(f"service.email.{kind}_subject", site=site_title, target=target)
        context["subject"] = subject_line
        env = email_environment(self.theme)
        message = self._message(address, subject_line, now, context["unsubscribe_url"])
        message.set_content(render_template(env, "confirm.txt", context), cte="quoted-printable")
        message.add_alternative(render_template(env, "confirm.html", context), subtype="html", cte="quoted-printable")
        del message.get_payload()[1]["MIME-Version"]  # add_alternative adds one to the part
        message["Content-Language"] = lang
        return Outgoing(0, self.settings.sender, address, str(message["Message-ID"]), wire_bytes(message))

    def _message(self, address: str, subject: str, now: datetime, unsubscribe_url: str) -> EmailMessage:
        """The headers; both kinds carry the one-click unsubscribe of the notifications: for
        "already" it ends the subscription, for "confirm" it says "never mail me" (the address
        is suppressed and the pending subscription forgotten)."""
        message = EmailMessage(policy=POLICY)
        set_headers(message, [
            ("From", self.settings.sender), ("To", address), ("Subject", subject),
            ("Date", format_datetime(now)), ("Message-ID", make_msgid(domain=ascii_host(self.settings.site_host))),
            ("Auto-Submitted", "auto-generated"),  # RFC 3834: no vacation replies
            ("X-Auto-Response-Suppress", "OOF, AutoReply"),
            *unsubscribe_headers(unsubscribe_url, self.settings.unsubscribe_mailto),
        ])
        return message


class Mailer:
    """Hands messages to a transport from one background thread, in batches."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._queue: deque[Outgoing] = deque()
        self._busy = 0
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="statusgen-mailer", daemon=True)
        self._thread.start()

    def send(self, outgoing: Outgoing) -> None:
        with self._changed:
            self._queue.append(Outgoing(next(self._ids), outgoing.sender, outgoing.recipient,
                                        outgoing.message_id, outgoing.data))
            self._busy += 1
            self._changed.notify_all()

    def drain(self, timeout: float = 30) -> bool:
        """Wait until everything sent so far was handed to the transport (or failed)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout)

    def close(self, timeout: float = 30) -> None:
        if not self.drain(timeout):  # the process is about to end: say what it takes with it
            log.warning("subscriptions: stopping with %d confirmation email(s) not handed to the transport "
                        "after %.0f s; their senders can send the form again", self._busy, timeout)
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                batch = list(self._queue)
                self._queue.clear()
            try:
                self.transport.deliver(batch, _Ledger(batch), Progress(stream=LogStream(), label="subscriptions"))
            except Exception:  # noqa: BLE001 - the service must go on; the next request may work
                log.exception("subscriptions: could not hand %d email(s) to the transport", len(batch))
            finally:
                with self._changed:
                    self._busy -= len(batch)
                    self._changed.notify_all()


class _Ledger:
    """The transports' ledger for single emails: nothing to resume, so outcomes are logged."""

    def __init__(self, batch: list[Outgoing]) -> None:
        self._to = {outgoing.delivery_id: outgoing.recipient for outgoing in batch}

    def committing(self, delivery_id: int) -> None:
        pass

    def sent(self, delivery_id: int) -> None:
        log.debug("subscriptions: email to %s sent", masked(self._to[delivery_id]))

    def retry_later(self, delivery_id: int, error: str) -> None:
        self._problem("deferred (the visitor can send the form again)", delivery_id, error)

    def failed(self, delivery_id: int, error: str) -> None:
        self._problem("failed", delivery_id, error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._problem("may not have been delivered", delivery_id, error)

    def _problem(self, what: str, delivery_id: int, error: str) -> None:
        address = self._to[delivery_id]
        log.warning("subscriptions: email to %s %s: %s", masked(address), what, masked_in(error, address))


class LogStream(io.TextIOBase):
    """`Progress` writes lines; the service sends them to its log instead of stderr."""

    def write(self, text: str) -> int:
        if text.strip():
            log.debug("%s", text.rstrip())
        return len(text)
