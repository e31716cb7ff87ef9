"""`content/site.yaml`: the site settings."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError

from statusgen.errors import Problems
from statusgen.content.fields import Fields, did_you_mean
from statusgen.content.model import Contact, NotifyConfig, SiteConfig, Text
from statusgen.times import TimeError, parse_duration
from statusgen.content.yamlsource import read_document

CONFIG_PATH = "content/site.yaml"
KEYS = ("title", "description", "base_url", "languages", "timezone", "contacts",
        "subscriptions", "notify", "history_days", "page_size")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?\Z")
FALLBACK = SiteConfig(title=Text((("en", "Status"),)), description=None,
                      base_url="https://status.invalid/", languages=("en",),
                      timezone=ZoneInfo("UTC"))


def load_config(site_dir: Path, problems: Problems) -> SiteConfig | None:
    """Read the site settings, recording every problem.

    A broken field gets a safe default so the other files are still checked; but without
    the file or a clean list of languages nothing else can be judged (every localised
    text would look wrong), so then this returns None.
    """
    document = read_document(site_dir, CONFIG_PATH, problems, missing="expected the site settings file")
    if document is None:
        return None
    fields = Fields(CONFIG_PATH, document.data, problems, what="the site settings")
    if not fields.ok:
        return None
    fields.reject_unknown(KEYS)
    languages = _languages(fields)
    return _read_config(fields, languages) if languages else None


def _read_config(fields: Fields, languages: tuple[str, ...]) -> SiteConfig:
    title = fields.text("title", languages, required=True)
    notify = fields.mapping("notify")
    subscriptions = fields.mapping("subscriptions")
    return SiteConfig(
        title=title or FALLBACK.title,
        description=fields.text("description", languages),
        base_url=_base_url(fields),
        languages=languages,
        timezone=_timezone(fields),
        contacts=_contacts(fields, languages),
        subscriptions_url=_subscriptions_url(subscriptions),
        notify=_notify(notify) if notify else NotifyConfig(),
        history_days=fields.integer("history_days", 14, minimum=1),
        page_size=fields.integer("page_size", 20, minimum=1),
    )


def _languages(fields: Fields) -> tuple[str, ...] | None:
    """The site's languages, or None if the list has any problem."""
    if not fields.require("languages", "a list of language codes such as [nl, en]"):
        return None
    items = fields.sequence("languages", "a list of language codes such as [nl, en]")
    if items is None:
        return None
    languages: list[str] = []
    for index, code in enumerate(items):
        line = items.line_of(index)
        if not isinstance(code, str) or not LANGUAGE.match(code) or not _known_locale(code):
            fields.problems.add(fields.path, line,
                                f"languages: expected a language code such as 'nl' or 'en'; found {code!r}")
        elif code in languages:
            fields.problems.add(fields.path, line, f"languages: {code!r} is listed twice")
        else:
            languages.append(code)
    if not items:
        fields.error("languages", "languages: expected at least one language code; found none")
    return tuple(languages) if len(languages) == len(items) and languages else None


def _known_locale(code: str) -> bool:
    try:
        Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return True


def _base_url(fields: Fields) -> str:
    if not fields.require("base_url", "the absolute URL the site is published at"):
        return FALLBACK.base_url
    return _folder_url(fields, "base_url", "base_url", "https://status.example.org/") or FALLBACK.base_url


def _folder_url(fields: Fields, key: str, name: str, example: str) -> str | None:
    """An absolute http(s) URL ending in `/`, as links are made by appending paths to it."""
    url = fields.string(key, "an absolute URL") or ""
    if not re.match(r"https?://[^/\s]+(/\S*)?\Z", url):
        fields.error(key, f"{name}: expected an absolute http(s) URL such as {example!r}; found {url!r}")
        return None
    return url if url.endswith("/") else url + "/"


def _timezone(fields: Fields) -> ZoneInfo:
    name = fields.string("timezone", "a timezone name such as 'Europe/Brussels'") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        fields.error("timezone", f"timezone: expected an IANA timezone such as 'Europe/Brussels'; "
                                 f"found {name!r}{did_you_mean(name, available_timezones())}")
        return FALLBACK.timezone


def _contacts(fields: Fields, languages: tuple[str, ...]) -> tuple[Contact, ...]:
    contacts = fields.mapping("contacts")
    if contacts is None:
        return ()
    found = []
    for key in contacts.data:
        entry = contacts.mapping(key)
        if entry is None or not entry.ok:
            continue
        entry.reject_unknown(("email", "phone", "url", "hours"))
        found.append(Contact(key=str(key), email=entry.string("email"),
                             phone=entry.string("phone"), url=entry.string("url"),
                             hours=entry.text("hours", languages)))
    return tuple(found)


def _subscriptions_url(subscriptions: Fields | None) -> str | None:
    if subscriptions is None:
        return None
    subscriptions.reject_unknown(("url",))
    if not subscriptions.has("url"):
        return None
    return _folder_url(subscriptions, "url", "subscriptions.url", "https://status.example.org/subscriptions/")


def _notify(notify: Fields) -> NotifyConfig:
    notify.reject_unknown(("from", "unsubscribe_mailto", "reminders", "smtp"))
    reminders = []
    for index, value in enumerate(notify.sequence("reminders", "a list of lead times such as [24h]") or []):
        try:
            reminders.append(int(parse_duration(value).total_seconds() // 60))
        except TimeError as error:
            items = notify.data["reminders"]
            notify.problems.add(notify.path, items.line_of(index), f"reminders: {error}")
    return NotifyConfig(
        smtp=_smtp(notify.mapping("smtp")),
        sender=notify.string("from", "an email address"),
        unsubscribe_mailto=notify.string("unsubscribe_mailto", "an email address"),
        reminders=tuple(sorted(set(reminders), reverse=True)) if notify.has("reminders") else (1440,),
    )


def _smtp(smtp: Fields | None) -> tuple[tuple[str, str], ...]:
    """Where the SMTP relay is; credentials come from the environment, never from git."""
    if smtp is None or not smtp.ok:
        return ()
    if smtp.has("password") or smtp.has("user"):
        key = "password" if smtp.has("password") else "user"
        smtp.error(key, f"smtp.{key}: secrets come from the environment (STATUSGEN_SMTP_USER, "
                        "STATUSGEN_SMTP_PASSWORD), never from files in git; remove it")
    smtp.reject_unknown(("host", "port", "security", "password", "user"))
    found = {key: smtp.string(key, "text") for key in ("host", "port", "security")}
    return tuple((key, value) for key, value in found.items() if value is not None)
