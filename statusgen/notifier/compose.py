"""Step 1 of a notification email: the event in one language, for every subscriber.

    event + snapshot + language ──email_context──▶ templates ──▶ RenderedEmail(subject, text, html)

A P1 for 10,000 subscribers costs a handful of template renders, not 10,000:
`render_email` renders `emails/subject.txt`, `emails/event.txt` and `emails/event.html`
once per (event, language), and leaves what differs per subscriber (the manage and
unsubscribe links with their tokens, the components they follow) as `placeholders`, which
`message` fills. The result depends on nothing else (no clock, no subscriber), so it can
be cached; `EmailRenderer` does that for a notifier run.

Email templates sit in `site_templates/emails/` and are looked up like the pages: the
site's own first, then the theme's, which an override can extend as `!theme/NAME`.
The HTML templates autoescape; the text templates do not (a text part is not HTML).
Texts come from the snapshot, in the subscriber's language, so an email never says
something the page does not. A text not written in that language shows another's, as
on the page (WCAG 3.1.2): the HTML part marks it with its real language (`lang_attr`,
`in_language`) and both parts say so in the subscriber's (`language_note`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.lists import format_list
from babel.units import format_unit
from markupsafe import Markup, escape

from statusgen.content.model import Text
from statusgen.errors import BuildError
from statusgen.markup import render_markdown
from statusgen.notifier.events import Event
from statusgen.notifier.placeholders import personal, slot, without_markers
from statusgen.notifier.plaintext import markdown_to_text
from statusgen.site.theme import Theme, Translator

log = logging.getLogger(__name__)


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


def render_email(event: Event, snapshot: dict[str, Any], lang: str, theme: Theme) -> RenderedEmail:
    """Subject, text and HTML of an event in one language, with per-subscriber placeholders."""
    lang = email_language(snapshot, lang)
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
    update = shown_update(record, event)
    body = pick(update["body"], lang) if update else ""
    languages = snapshot["site"]["languages"]
    title_lang = shown_in(record, "title", lang, languages)
    body_lang = shown_in(update, "body", lang, languages) if update else lang
    return {
        "event": event, "kind": event.kind, "lang": lang, "t": t,
        "lang_attr": lambda code: _LANG.format(code) if code != lang else Markup(""),
        "in_language": lambda text, code: _SPAN.format(code, text) if code != lang else escape(text),
        "site_title": pick(snapshot["site"]["title"], lang),
        "site_title_lang": shown_in(snapshot["site"], "title", lang, languages),
        "title": pick(record["title"], lang),
        "title_lang": title_lang,
        "body_lang": body_lang,
        "language_note": language_note({title_lang, body_lang}, lang, t),
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
        "url": pick(record["url"], lang),
        "manage_url": slot("manage_url"),
        "unsubscribe_url": slot("unsubscribe_url"),
        "following": slot("following"),
    }


@functools.lru_cache(maxsize=16)
def email_environment(theme: Theme) -> jinja2.Environment:
    """Jinja for `site_templates/emails/` (site first, `!theme/`), with the `personal` filter."""
    env = theme.jinja("emails", html_only=True)
    env.filters["personal"] = personal
    return env


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as error:
        raise BuildError(f"{error.filename or name}:{error.lineno}: email template error: {error.message}") from None
    except jinja2.TemplateError as error:
        raise BuildError(f"email template {name!r}: {error}") from None


# --- What the snapshot says, in one language ---------------------------------------------


def email_language(snapshot: dict[str, Any], lang: str) -> str:
    """`lang` if the site has it, else the site's first language."""
    languages = snapshot["site"]["languages"]
    return lang if lang in languages else languages[0]


_LANG = Markup(' lang="{0}"')
_SPAN = Markup('<span lang="{0}">{1}</span>')


def shown_in(holder: dict[str, Any], name: str, lang: str, languages: list[str]) -> str:
    """The language text `name` of a snapshot object is shown in for `lang` (`Text.lang_of`
    on the languages the snapshot says were written; a snapshot from before it said so, or
    a plain string, is taken as written in every language)."""
    written = holder.get("written", {}).get(name)
    if not written:
        return lang
    return Text(tuple((code, "") for code in languages), written=tuple(written)).lang_of(lang)


def language_note(shown: set[str], lang: str, t: Translator) -> str:
    """"This text is not available in English; ..." when a text is shown in another
    language than `lang`; else ""."""
    others = sorted(shown - {lang})
    if not others:
        return ""
    names = format_list([t.language(code) for code in others], locale=t.locale)
    return t("language_parts.note", missing=t.language(lang), shown=names)


def pick(texts: dict[str, str], lang: str) -> str:
    """A text in `lang` (else the first one), without characters that could pose as placeholders."""
    text = texts.get(lang) or next(iter(texts.values()), "")
    return without_markers(text)


def shown_update(record: dict[str, Any], event: Event) -> dict[str, Any] | None:
    """The update whose text the email shows; a reminder repeats the last announcement."""
    if event.update is not None:
        shown = next((u for u in record["updates"] if u["id"] == event.update), None)
        if shown is None:
            raise BuildError(f"{event.key}: update {event.update!r} is not in the snapshot")
        return shown
    explicit = [u for u in record["updates"] if not u["automatic"]]
    return explicit[-1] if explicit else None


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
                lang: str, t: Translator) -> list[dict[str, Any]]:
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
    languages = snapshot["site"]["languages"]
    shown = [{"id": cid, "name": pick(snapshot["components"][cid]["name"], lang),
              "lang": shown_in(snapshot["components"][cid], "name", lang, languages),
              "status": t(f"component_status.{status}"),
              "was": t(f"component_status.{was[cid]}") if cid in was else None}
             for cid, status in statuses.items() if cid in snapshot["components"]]
    return sorted(shown, key=lambda c: str(c["name"]).casefold())
