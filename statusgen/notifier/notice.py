"""The one email a webhook's contact gets when its endpoint is quarantined.

    notice event (queued by the store with the quarantine, health.notice) + the site
        ──emails/quarantined.txt|.html, in the contact's language──▶ Outgoing

It travels as any notification does: queued in the store before it is sent (a delivery
whose event is of kind `webhook_quarantined`), claimed with the emails, handed to the
same transport and ledger, so it goes out once even if a run is killed. It names the
webhook by its masked URL and short id, the failures and the last error, and how to get
deliveries back (ops run `statusgen subscribers reactivate ID`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from statusgen.content.model import Subscriber
from statusgen.notifier.compose import email_environment, email_language, pick, render_template
from statusgen.notifier.delivery import Outgoing
from statusgen.notifier.events import Event
from statusgen.notifier.message import MailSettings
from statusgen.notifier.webhooks.network import masked_url
from statusgen.notifier.wire import POLICY, ascii_host, set_headers, wire_bytes
from statusgen.site.theme import Theme, Translator


def notice_email(delivery_id: int, event: Event, context: dict[str, Any], subscriber: Subscriber,
                 site: dict[str, Any], theme: Theme, settings: MailSettings) -> Outgoing:
    """The quarantine notice to the contact, from the event's context and the snapshot's
    `site` (title, languages, time zone, address)."""
    hook = context["webhook"]
    lang = email_language({"site": site}, subscriber.language)
    t = Translator(lang, theme.messages(lang), ZoneInfo(site["timezone"]))
    at, since = datetime.fromisoformat(hook["at"]), datetime.fromisoformat(hook["since"])
    values = {"site": pick(site["title"], lang), "target": masked_url(hook["url"]), "id": hook["id"],
              "failures": hook["failures"], "since": t.datetime(since), "at": t.datetime(at)}
    template = {"t": t, "lang": lang, "site_title": values["site"], "status_url": site["base_url"],
                "subject": t("email.quarantine.subject", **values), "intro": t("email.quarantine.text", **values),
                "last_error": hook["last_error"], "reactivate": t("email.quarantine.reactivate", **values),
                "why": t("email.quarantine.why", **values)}
    env = email_environment(theme)
    message = EmailMessage(policy=POLICY)
    own_id = f"<webhook.{hook['id']}.{hashlib.sha256(event.key.encode()).hexdigest()[:12]}@" \
             f"{ascii_host(settings.site_host)}>"
    set_headers(message, [("From", settings.sender), ("To", subscriber.email), ("Subject", template["subject"]),
                          ("Date", format_datetime(at)), ("Message-ID", own_id),
                          ("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "OOF, AutoReply")])
    message.set_content(render_template(env, "quarantined.txt", template), cte="quoted-printable")
    message.add_alternative(render_template(env, "quarantined.html", template), subtype="html", cte="quoted-printable")
    del message.get_payload()[1]["MIME-Version"]  # add_alternative adds one to the part
    message["Content-Language"] = lang
    return Outgoing(delivery_id, settings.sender, subscriber.email, own_id, wire_bytes(message))
