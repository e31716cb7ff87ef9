"""Notification emails from the theme's templates: rendered once, addressed many times.

An email is made in two steps, so a P1 for 10,000 subscribers costs a handful of
template renders, not 10,000:

1. `render_email(event, snapshot, lang, theme)` renders `emails/subject.txt`,
   `emails/event.txt` and `emails/event.html` once per (event, language). What differs
   per subscriber (the manage and unsubscribe links with their tokens, the components
   they follow) is left in as placeholders: private-use characters no text contains.
   The result depends on nothing else (no clock, no subscriber), so it can be cached;
   `EmailRenderer` does that for a notifier run.
2. `build_message(rendered, event, snapshot, subscriber, settings)` fills the
   placeholders (escaped for the HTML part) and adds the headers: threading
   (`Message-ID`, `In-Reply-To`, `References`), `List-Unsubscribe` and RFC 8058's
   `List-Unsubscribe-Post`, and the auto-reply suppressors.

Every message is made with `POLICY` and leaves the process through `wire_bytes`: the
message ids and list headers as their RFCs want them (unencoded, never broken inside
`<...>`), RFC 2047 only where text may carry it (Subject, display names), CRLF.

Email templates sit in `site_templates/emails/` and are looked up like the pages: the
site's own first, then the theme's, which an override can extend as `!theme/NAME`.
The HTML templates autoescape; the text templates do not (a text part is not HTML).
Texts come from the snapshot, in the subscriber's language, so an email never says
something the page does not.
"""

from __future__ import annotations

import functools
import hashlib
import html
import logging
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import jinja2
from babel.lists import format_list
from babel.units import format_unit
from markupsafe import Markup
from zoneinfo import ZoneInfo

from statusgen.errors import BuildError
from statusgen.notify.events import THREAD_STARTERS, Event
from statusgen.markup import render_markdown
from statusgen.content.model import Subscriber
from statusgen.site.theme import Theme, Translator
from statusgen.tokens import make_token

log = logging.getLogger(__name__)

LITERAL_HEADERS = frozenset({"message-id", "in-reply-to", "references", "list-id", "list-unsubscribe",
                             "list-unsubscribe-post", "list-subscribe", "list-help", "list-post", "list-owner",
                             "list-archive"})
"""Headers that programs read as they are: message ids (RFC 5322 §3.6.4) and the list
headers (RFC 2369, RFC 8058). ASCII, never RFC 2047 encoded words: a mail client does not
decode them there, and `List-Unsubscribe: =?utf-8?q?=3Chttps...` is no unsubscribe link."""
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_WORD = re.compile(r"[ \t]+[^ \t]+")
MAX_LINE = 998
"""RFC 5322 §2.1.1: no line of a message may be longer, CRLF not counted."""


class WirePolicy(policy.EmailPolicy):
    """`email.policy.SMTP` (CRLF, folding at 78 columns, RFC 2047 for non-ASCII text), except
    that the `LITERAL_HEADERS` are stored as given and written by `fold_literal`.

    The standard folder turns any structured-looking value it cannot fit on a line, such as
    `<https://.../unsubscribe?token=...>` or a long `<id@host>` in In-Reply-To, into encoded
    words. A message only keeps this promise when it is serialised with this policy: use
    `wire_bytes`, never `as_bytes(policy=email.policy.SMTP)`, which replaces it."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if name.lower() in LITERAL_HEADERS:
            value = str(value)
            fold_literal(name, value)  # refuse now what could not be written later
            return name, value
        return super().header_store_parse(name, value)

    def fold(self, name: str, value: Any) -> str:
        if name.lower() in LITERAL_HEADERS:
            return fold_literal(name, str(value), self.linesep, self.max_line_length or MAX_LINE)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() in LITERAL_HEADERS:
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


def fold_literal(name: str, value: str, linesep: str = "\r\n", width: int = 78) -> str:
    """`Name: value` + linesep, for a header read as it is: unencoded, and folded only before
    the whitespace between items (RFC 5322 §2.2.3) where a line would pass `width`, so each
    `<URI>` or `<msg-id>` stays whole on one line however long it is.

    Raises ValueError for a value with CR or LF, a non-ASCII one, or an item that does not
    fit on a line of 998 characters."""
    unfolded = _UNFOLD.sub("", value)
    if "\r" in unfolded or "\n" in unfolded:
        raise ValueError(f"{name}: a header value must be one line; found {value!r}")
    if not unfolded.isascii():
        raise ValueError(f"{name}: must be ASCII (RFC 5322; no encoded words here); found {value!r}")
    lines = [f"{name}:"]
    for word in _WORD.findall(" " + unfolded.strip(" \t")):
        if len(lines[-1]) + len(word) > width and lines[-1] != f"{name}:":
            lines.append(word)
        else:
            lines[-1] += word
    if any(len(line) > MAX_LINE for line in lines):
        raise ValueError(f"{name}: an item is longer than a header line may be ({MAX_LINE} characters)")
    return linesep.join(lines) + linesep


POLICY = WirePolicy(linesep="\r\n")
"""How every email is made and serialised (see `WirePolicy`, `wire_bytes`)."""


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it leaves the process, over SMTP or into the outbox: CRLF line ends,
    the literal headers as `WirePolicy` writes them, whatever policy the message has."""
    return message.as_bytes(policy=POLICY)


SLOT_START, SLOT_END, SECTION_START, SECTION_MID, SECTION_END = "\ue000\ue001\ue002\ue003\ue004"
NO_MARKERS = dict.fromkeys(map(ord, SLOT_START + SLOT_END + SECTION_START + SECTION_MID + SECTION_END))
SLOT = re.compile(f"{SLOT_START}(\\w+){SLOT_END}")
SECTION = re.compile(f"{SECTION_START}(\\w+){SECTION_MID}(.*?){SECTION_END}", re.S)
WRAP = 76
BREAK = "\ue010"
"""A `<br>` while converting Markdown to text (newlines in HTML are only spaces)."""


@dataclass(frozen=True)
class MailSettings:
    sender: str
    """From."""
    site_host: str
    """For Message-ID domains, from base_url."""
    subscriptions_url: str | None
    """The self-service subscription service, e.g. https://status.example.org/subscriptions/."""
    unsubscribe_mailto: str | None
    secret: str | None = field(repr=False)
    """Signs the unsubscribe/manage tokens; required when subscriptions_url is set."""

    def __post_init__(self) -> None:
        if self.subscriptions_url and not self.secret:
            raise ValueError("a subscription service needs a secret key (STATUSGEN_SECRET_KEY) to sign its links")
        if not self.subscriptions_url and not self.unsubscribe_mailto:
            raise ValueError("every email needs a way to unsubscribe: set subscriptions.url or "
                             "notify.unsubscribe_mailto in content/site.yaml")


@dataclass(frozen=True)
class RenderedEmail:
    """One event in one language, for every subscriber: text and HTML hold placeholders."""

    subject: str
    text: str
    html: str


class EmailRenderer:
    """`render_email` for one snapshot and theme, remembered per (event, language)."""

    def __init__(self, snapshot: dict[str, Any], theme: Theme) -> None:
        self.snapshot = snapshot
        self.theme = theme
        self._rendered: dict[tuple[Event, str], RenderedEmail] = {}

    def __call__(self, event: Event, lang: str) -> RenderedEmail:
        if (event, lang) not in self._rendered:
            self._rendered[event, lang] = render_email(event, self.snapshot, lang, self.theme)
        return self._rendered[event, lang]


# --- Step 1: render once per (event, language) ------------------------------------------


def render_email(event: Event, snapshot: dict[str, Any], lang: str, theme: Theme) -> RenderedEmail:
    """Subject, text and HTML of an event in one language, with per-subscriber placeholders."""
    lang = _language(snapshot, lang)
    t = Translator(lang, theme.messages(lang), ZoneInfo(snapshot["site"]["timezone"]))
    context = email_context(event, snapshot, lang, t)
    env = email_environment(theme)
    log.debug("rendering %s (%s) in %s", event.key, event.kind, lang)
    subject = render_template(env, "subject.txt", context).strip()
    context["subject"] = subject
    return RenderedEmail(subject, render_template(env, "event.txt", context), render_template(env, "event.html", context))


def email_context(event: Event, snapshot: dict[str, Any], lang: str, t: Translator) -> dict[str, Any]:
    """What the email templates see: ready-made, translated values, no logic to repeat."""
    record = snapshot["incidents"][event.incident]
    update = _shown_update(record, event)
    body = _pick(update["body"], lang) if update else ""
    return {
        "event": event, "kind": event.kind, "lang": lang, "t": t,
        "site_title": _pick(snapshot["site"]["title"], lang),
        "title": _pick(record["title"], lang),
        "is_maintenance": record["kind"] == "maintenance",
        "priority": record["priority"],
        "impact": record["impact"],
        "status": t(f"status.{update['status'] if update else record['status']}"),
        "headline": t(f"email.kind.{event.kind}", lead=_lead(event.lead_minutes, t)),
        "posted": t.datetime(_moment(update["at"])) if update else None,
        "body_html": render_markdown(body),
        "body_text": markdown_to_text(body),
        "window": _window(record["window"], t),
        "previous_window": _window(dict(zip(("start", "end"), event.previous_window)), t)
        if event.previous_window else None,
        "components": _components(record, update, snapshot, lang, t),
        "url": _pick(record["url"], lang),
        "manage_url": _slot("manage_url"),
        "unsubscribe_url": _slot("unsubscribe_url"),
        "following": _slot("following"),
    }


@functools.lru_cache(maxsize=16)
def email_environment(theme: Theme) -> jinja2.Environment:
    """Jinja for `site_templates/emails/` (site first, `!theme/`), with the `personal` filter."""
    env = theme.jinja("emails", html_only=True)
    env.filters["personal"] = _section
    return env


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as error:
        raise BuildError(f"{error.filename or name}:{error.lineno}: email template error: {error.message}") from None
    except jinja2.TemplateError as error:
        raise BuildError(f"email template {name!r}: {error}") from None


def _slot(name: str) -> Markup:
    """A placeholder `build_message` fills per subscriber (safe: it holds no HTML)."""
    return Markup(f"{SLOT_START}{name}{SLOT_END}")


def _section(content: str, condition: str) -> Markup:
    """`{% filter personal("can_manage") %}...{% endfilter %}`: kept only for subscribers
    for whom the condition holds (see `_conditions`)."""
    return Markup(f"{SECTION_START}{condition}{SECTION_MID}") + Markup(content) + Markup(SECTION_END)


def _shown_update(record: dict[str, Any], event: Event) -> dict[str, Any] | None:
    """The update whose text the email shows; a reminder repeats the last announcement."""
    if event.update is not None:
        shown = next((u for u in record["updates"] if u["id"] == event.update), None)
        if shown is None:
            raise BuildError(f"{event.key}: update {event.update!r} is not in the snapshot")
        return shown
    explicit = [u for u in record["updates"] if not u["automatic"]]
    return explicit[-1] if explicit else None


def _pick(texts: dict[str, str], lang: str) -> str:
    """A text in `lang` (else the first one), without characters that could pose as placeholders."""
    text = texts.get(lang) or next(iter(texts.values()), "")
    return text.translate(NO_MARKERS)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _window(window: dict[str, str] | None, t: Translator) -> str | None:
    if not window:
        return None
    return t("email.window_range", start=t.datetime(_moment(window["start"])), end=t.datetime(_moment(window["end"])))


def _lead(minutes: int | None, t: Translator) -> str:
    """`24 hours`, `90 minutes`: how long before a maintenance window opens."""
    if not minutes:
        return ""
    if minutes % 60:
        return format_unit(minutes, "duration-minute", length="long", locale=t.locale)
    return format_unit(minutes // 60, "duration-hour", length="long", locale=t.locale)


def _components(record: dict[str, Any], update: dict[str, Any] | None, snapshot: dict[str, Any],
                lang: str, t: Translator) -> list[dict[str, str | None]]:
    """Affected components with their status as of the shown update, and what it was if
    this update changed it. A maintenance that has not started shows its planned status,
    or once cancelled, the status the components have now."""
    statuses: dict[str, str] = {}
    for step in record["updates"]:
        statuses.update((cid, new) for cid, _old, new in step["changes"])
        if update is not None and step["id"] == update["id"]:
            break
    if record["kind"] == "maintenance" and not statuses:
        planned = (update or record)["status"] == "scheduled"
        statuses = {cid: status if planned else snapshot["components"][cid]["status"]
                    for cid, status in record["components"].items() if cid in snapshot["components"]}
    was = {cid: old for cid, old, _new in update["changes"]} if update else {}
    shown = [{"id": cid, "name": _pick(snapshot["components"][cid]["name"], lang),
              "status": t(f"component_status.{status}"),
              "was": t(f"component_status.{was[cid]}") if cid in was else None}
             for cid, status in statuses.items() if cid in snapshot["components"]]
    return sorted(shown, key=lambda c: str(c["name"]).casefold())


# --- Markdown as plain text -------------------------------------------------------------


def markdown_to_text(text: str) -> str:
    """Markdown → clean plain text for the text part: no `**`, `#` or `[x](url)` left.

    It reads the HTML `render_markdown` makes (so both parts say the same, sanitised),
    keeps paragraphs, lists (`- `, `1. `), links as `text <url>`, and wraps lines."""
    writer = _TextWriter()
    writer.feed(str(render_markdown(text)))
    writer.close()
    return writer.text()


@dataclass(frozen=True)
class _Block:
    text: str
    first: str
    """Prefix of the first line (indent, list marker)."""
    rest: str
    verbatim: bool = False
    item: bool = False
    """List items and table rows follow each other without a blank line..."""
    apart: bool = False
    """...unless this one starts a new list or table."""

    def lines(self) -> list[str]:
        if self.verbatim:
            return [(self.first + line).rstrip() for line in self.text.split("\n")]
        lines, prefix = [], self.first
        for part in self.text.split(BREAK):  # a <br> stays a line break
            lines += textwrap.wrap(" ".join(part.split()), WRAP, initial_indent=prefix, subsequent_indent=self.rest,
                                   break_long_words=False, break_on_hyphens=False) or [prefix.rstrip()]
            prefix = self.rest
        return lines


class _TextWriter(HTMLParser):
    """Sanitised Markdown HTML → text, block by block."""

    BLOCKS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "pre", "table", "blockquote", "ul", "ol", "li", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.inline: list[str] = []
        self.lists: list[list[int | None]] = []
        """Per open list: the next number, or None for bullets."""
        self.marker = ""
        self.quote = 0
        self.links: list[tuple[str, int]] = []
        self.cells: list[str] = []
        self.apart = False
        """The next block starts after a blank line, even a list item."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self._flush()
        if tag in ("ul", "ol", "table"):
            self.apart = self.apart or not self.lists  # a new list is set off, a nested one is not
        if tag in ("ul", "ol"):
            self.lists.append([1 if tag == "ol" else None])
        elif tag == "li" and self.lists:
            self.marker = self._next_marker(self.lists[-1])
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "br":
            self.inline.append(BREAK)
        elif tag == "hr":
            self.blocks.append(_Block("\u2015" * 20, self._indent(), "", verbatim=True))
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.inline)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            self._end_link(*self.links.pop())
        elif tag in ("td", "th"):
            self.cells.append(" ".join("".join(self.inline).split()))
            self.inline = []
        elif tag == "tr":
            self.blocks.append(_Block(" | ".join(self.cells), self._indent(), "", verbatim=True, item=True,
                                      apart=self.apart))
            self.cells, self.apart = [], False
        elif tag == "pre":
            text, self.inline = "".join(self.inline).strip("\n"), []
            self.blocks.append(_Block(text, self._indent() + "    ", "", verbatim=True))
        elif tag in self.BLOCKS:
            self._flush()
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self.quote -= tag == "blockquote"

    def handle_data(self, data: str) -> None:
        self.inline.append(data)

    @staticmethod
    def _next_marker(numbering: list[int | None]) -> str:
        number = numbering[0]
        if number is None:
            return "- "
        numbering[0] = number + 1
        return f"{number}. "

    def _end_link(self, href: str, start: int) -> None:
        """`text <url>`, or the bare text when it already is the address."""
        label = "".join(self.inline[start:]).strip()
        if href and href.removeprefix("mailto:") != label:
            self.inline.append(f" <{href}>")

    def _indent(self) -> str:
        return "    " * self.quote + "   " * max(0, len(self.lists) - 1)

    def _flush(self) -> None:
        text, self.inline = "".join(self.inline), []
        if not text.strip():
            return
        marker, self.marker = self.marker, ""
        indent = self._indent()
        self.blocks.append(_Block(text, indent + marker, indent + " " * len(marker), item=bool(marker),
                                  apart=self.apart))
        self.apart = False

    def text(self) -> str:
        self._flush()
        out: list[str] = []
        previous: _Block | None = None
        for block in self.blocks:
            if previous and not (block.item and previous.item and not block.apart):
                out.append("")
            out += block.lines()
            previous = block
        return "\n".join(out)


# --- Step 2: per subscriber -------------------------------------------------------------


def build_message(rendered: RenderedEmail, event: Event, snapshot: dict[str, Any],
                  subscriber: Subscriber, settings: MailSettings) -> EmailMessage:
    """The email for one subscriber: placeholders filled, headers set, text then HTML.

    Raises ValueError for a header value with CR or LF (a title such as
    "Outage\\r\\nBcc: victim@example.net" must never add a header)."""
    sent_at = _moment(snapshot["generated_at"])
    values = _personal_values(event, snapshot, subscriber, settings, sent_at)
    message = EmailMessage(policy=POLICY)
    set_headers(message, [*_headers(rendered, event, snapshot, subscriber, settings, sent_at),
                           *_unsubscribe_headers(values, settings)])
    conditions = _conditions(subscriber, settings)
    message.set_content(_fill(rendered.text, values, conditions, str), cte="quoted-printable")
    message.add_alternative(_fill(rendered.html, values, conditions, html.escape), subtype="html",
                            cte="quoted-printable")
    del message.get_payload()[1]["MIME-Version"]  # add_alternative adds one to the part
    message["Content-Language"] = _language(snapshot, subscriber.language)  # set_content would drop it
    return message


def set_headers(message: EmailMessage, headers: list[tuple[str, str]]) -> None:
    for name, value in headers:
        if "\r" in value or "\n" in value or not value.strip():
            raise ValueError(f"{name}: a header value must be one non-empty line; found {value!r}")
        message[name] = value  # POLICY keeps the literal ones as they are (see WirePolicy)
    if len(message["To"].addresses) != 1:
        raise ValueError(f"To: expected one address; found {message['To']!r}")


def thread_root(event: Event, snapshot: dict[str, Any], email: str, settings: MailSettings) -> str:
    """The Message-ID that opens an incident's thread for one subscriber; every later
    email of the incident replies to it, so mail clients show one conversation."""
    public_id = snapshot["incidents"][event.incident]["public_id"]
    return f"<{public_id}.{_digest(email.strip().lower())}@{ascii_host(settings.site_host)}>"


def message_id(event: Event, snapshot: dict[str, Any], email: str, settings: MailSettings) -> str:
    """Deterministic, so a resent email after a crash has the same id (clients deduplicate)."""
    if event.kind in THREAD_STARTERS:
        return thread_root(event, snapshot, email, settings)
    public_id = snapshot["incidents"][event.incident]["public_id"]
    digest = _digest(event.key + chr(10) + email.strip().lower(), 20)
    return f"<{public_id}.{digest}@{ascii_host(settings.site_host)}>"


def _digest(text: str, length: int = 12) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _headers(rendered: RenderedEmail, event: Event, snapshot: dict[str, Any], subscriber: Subscriber,
             settings: MailSettings, sent_at: datetime) -> list[tuple[str, str]]:
    own_id = message_id(event, snapshot, subscriber.email, settings)
    headers = [
        ("From", settings.sender), ("To", subscriber.email), ("Subject", rendered.subject),
        ("Date", format_datetime(sent_at)), ("Message-ID", own_id),
    ]
    root = thread_root(event, snapshot, subscriber.email, settings)
    if own_id != root:
        headers += [("In-Reply-To", root), ("References", root)]
    return headers + [
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: no vacation replies
        ("X-Auto-Response-Suppress", "OOF, AutoReply"),  # the same for Exchange/Outlook
    ]


def _unsubscribe_headers(values: dict[str, str], settings: MailSettings) -> list[tuple[str, str]]:
    return unsubscribe_headers(values["unsubscribe_url"] if settings.subscriptions_url else None,
                               settings.unsubscribe_mailto)


def unsubscribe_headers(url: str | None, mailto: str | None) -> list[tuple[str, str]]:
    """RFC 2369 List-Unsubscribe (the service's link first, then the mailto: address), and
    RFC 8058 one-click only with an HTTPS URI to POST to. URIs in ASCII, as headers need."""
    links = [f"<{as_uri(link)}>" for link in (url, _mailto(mailto) if mailto else None) if link]
    headers = [("List-Unsubscribe", ", ".join(links))]
    if url and url.startswith("https://"):
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return headers


def _mailto(address: str) -> str:
    return f"mailto:{address}?subject=unsubscribe"


def ascii_host(host: str) -> str:
    """A host name as DNS and headers want it: IDNA (`bücher.example` → `xn--bcher-kva.example`)."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid name: left as it is, for fold_literal to refuse
        return host


def as_uri(iri: str) -> str:
    """An IRI as a URI (RFC 3987 §3.1): an http(s) host in IDNA, any other non-ASCII
    character percent-encoded as UTF-8. An ASCII link is returned as it is."""
    if iri.isascii():
        return iri
    parts = urlsplit(iri)
    if parts.scheme in ("http", "https") and parts.hostname and not parts.hostname.isascii():
        userinfo, at, _ = parts.netloc.rpartition("@")
        port = f":{parts.port}" if parts.port is not None else ""
        iri = urlunsplit(parts._replace(netloc=f"{userinfo}{at}{ascii_host(parts.hostname)}{port}"))
    return quote(iri, safe="".join(map(chr, range(0x21, 0x7F))))


def _service_link(settings: MailSettings, action: str, email: str, sent_at: datetime) -> str:
    base = settings.subscriptions_url or ""
    token = make_token(settings.secret or "", action, email, now=sent_at)
    return f"{base if base.endswith('/') else base + '/'}{action}?token={token}"


def _personal_values(event: Event, snapshot: dict[str, Any], subscriber: Subscriber,
                     settings: MailSettings, sent_at: datetime) -> dict[str, str]:
    """The placeholders' values for one subscriber; tokens are signed at the snapshot's
    time, so the same run gives the same bytes."""
    if settings.subscriptions_url:
        unsubscribe = _service_link(settings, "unsubscribe", subscriber.email, sent_at)
        manage = _service_link(settings, "manage", subscriber.email, sent_at)
    else:
        unsubscribe, manage = _mailto(settings.unsubscribe_mailto or ""), ""
    return {"unsubscribe_url": unsubscribe, "manage_url": manage,
            "following": _following(event, snapshot, subscriber)}


def _following(event: Event, snapshot: dict[str, Any], subscriber: Subscriber) -> str:
    """Why this subscriber gets this email: what they follow of the event's components, named
    as they chose it: a group they follow whole by the group's name, other components by theirs.

    `subscriber.components` has groups expanded, so a group counts as followed when all of
    its components are (which is what following the group means today)."""
    if subscriber.components is None:
        return ""
    followed = set(subscriber.components)
    ids = [c for c in event.components if c in followed] or list(subscriber.components)
    lang = _language(snapshot, subscriber.language)
    names, named = [], set()
    for group in snapshot.get("groups", {}).values():
        members = set(group["components"])
        if members and members <= followed and members.intersection(ids):
            names.append(_pick(group["name"], lang))
            named |= members
    names += [_pick(snapshot["components"][c]["name"], lang) for c in ids
              if c in snapshot["components"] and c not in named]
    return format_list(sorted(names, key=str.casefold), locale=lang) if names else ""


def _conditions(subscriber: Subscriber, settings: MailSettings) -> dict[str, bool]:
    """What the `personal(...)` sections of a template may depend on."""
    follows_all = subscriber.components is None
    return {"follows_all": follows_all, "follows_some": not follows_all,
            "can_manage": bool(settings.subscriptions_url)}


def _language(snapshot: dict[str, Any], lang: str) -> str:
    languages = snapshot["site"]["languages"]
    return lang if lang in languages else languages[0]


def _fill(rendered: str, values: dict[str, str], conditions: dict[str, bool], escape: Callable[[str], str]) -> str:
    """Keep the sections that apply, then put the subscriber's values in the slots."""
    kept = SECTION.sub(lambda m: m.group(2) if _condition(m.group(1), conditions) else "", rendered)
    return SLOT.sub(lambda m: escape(values[m.group(1)]), kept)


def _condition(name: str, conditions: dict[str, bool]) -> bool:
    if name not in conditions:
        raise BuildError(f"email template: unknown personal({name!r}); "
                         f"expected one of {', '.join(sorted(conditions))}")
    return conditions[name]
