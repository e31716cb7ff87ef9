"""`content/site.yaml`: the site settings."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError

from statusgen.errors import Problems
from statusgen.content.fields import Fields, describe, did_you_mean
from statusgen.content.model import IMPACT_STYLES, Contact, NotifyConfig, SiteConfig, Text
from statusgen.content.relay import address_problem, parse_rate, parse_timeout
from statusgen.times import TimeError, parse_duration
from statusgen.content.yamlsource import LocatedDict, read_document

CONFIG_PATH = "content/site.yaml"
KEYS = ("title", "description", "base_url", "languages", "timezone", "contacts",
        "subscriptions", "notify", "history_days", "page_size", "warnings", "import",
        "sla", "live")
WARNING_KEYS = ("unresolved_after_days",)
IMPORT_KEYS = ("impact_as",)
LIVE_KEYS = ("interval",)
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
        unresolved_after_days=_unresolved_after_days(fields.mapping("warnings")),
        import_impact_as=_impact_as(fields.mapping("import")),
        sla=fields.percent("sla"),
        live_seconds=_live_seconds(fields),
        lines=tuple(sorted(_key_lines(fields.data))),
    )


def _unresolved_after_days(warnings: Fields | None) -> int:
    default = SiteConfig.unresolved_after_days
    if warnings is None or not warnings.ok:
        return default
    warnings.reject_unknown(WARNING_KEYS)
    if not warnings.has("unresolved_after_days"):
        return default
    days = warnings.get("unresolved_after_days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        warnings.error("unresolved_after_days", "warnings.unresolved_after_days: expected a whole number of "
                                                f"days of at least 1; found {describe(days)}")
        return default
    return days


def _impact_as(settings: Fields | None) -> str:
    """`import.impact_as`: how `statusgen import` writes an impact it brings over."""
    default = SiteConfig.import_impact_as
    if settings is None or not settings.ok:
        return default
    settings.reject_unknown(IMPORT_KEYS)
    if not settings.has("impact_as"):
        return default
    value = settings.get("impact_as")
    if value not in IMPACT_STYLES:
        settings.error("impact_as", f"import.impact_as: expected one of {', '.join(IMPACT_STYLES)} (P1-P4, or "
                                    f"none, minor, major, critical); found {describe(value)}"
                                    f"{did_you_mean(str(value), IMPACT_STYLES)}")
        return default
    return str(value)


def _live_seconds(fields: Fields) -> int:
    """`live: {interval: N}`: how often the pages' live script polls, in seconds; `live:
    false` or `interval: 0` leaves the script off (the pages are then as static as ever)."""
    default = SiteConfig.live_seconds
    if "live" not in fields.data:
        return default
    value = fields.get("live")
    if value is False:
        return 0
    if value is True:
        return default
    if not isinstance(value, LocatedDict):
        fields.error("live", f"live: expected a mapping such as {{interval: 60}}, or false; found {describe(value)}")
        return default
    live = Fields(fields.path, value, fields.problems, fields.line("live"), what="a mapping under 'live'")
    live.reject_unknown(LIVE_KEYS)
    if not live.has("interval"):
        return default
    seconds = live.get("interval")
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        live.error("interval", "live.interval: expected a whole number of seconds of at least 1, or 0 to "
                               f"turn the live updates off; found {describe(seconds)}")
        return default
    return seconds


def _key_lines(data: LocatedDict, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(dotted key, line) of every key in the settings, nested mappings included."""
    for key, value in data.items():
        name = f"{prefix}{key}"
        yield name, data.line_of(key)
        if isinstance(value, LocatedDict):
            yield from _key_lines(value, f"{name}.")


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
                                 f"found {name!r}{zone_hint(name)}")
        return FALLBACK.timezone


REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
           "Indian", "Pacific")
"""The first part of the zones named after a place (`Europe/Brussels`): the zones to write,
as they follow that place's summer time, unlike `CET`, `EST` or a fixed offset."""
ABBREVIATION = re.compile(r"(?P<name>[A-Za-z]{1,5})?(?:(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?)?\Z")
SAMPLES = (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC))
"""Winter and summer in the north: two zones that agree on both keep the same clock."""
SHOWN = 4


def is_place_zone(name: str) -> bool:
    return name.partition("/")[0] in REGIONS


@cache
def _place_zones() -> tuple[str, ...]:
    return tuple(sorted(name for name in available_timezones() if is_place_zone(name)))


def zone_hint(name: str) -> str:
    """What to write instead of `name`, preferring zones named after a place: the zone of
    a (misspelt) city, or for an abbreviation or offset (`CET`, `CET+1`, `UTC+1`) the zones
    on that clock; ` (did you mean ...)` or ` (write ...)`, else ''."""
    place = _place_named(name, fuzzy=False)
    same_clock = [] if place else zones_on_the_clock_of(name)
    place = place or (None if same_clock else _place_named(name, fuzzy=True))
    if place:
        return f" (did you mean {place!r}?)"
    if same_clock:
        shown = ", ".join(repr(zone) for zone in same_clock[:SHOWN]) + (", ..." if len(same_clock) > SHOWN else "")
        return f" (name a place with that clock instead, so that summer time is right: {shown})"
    return did_you_mean(name, available_timezones())


def _place_named(name: str, fuzzy: bool) -> str | None:
    """The zone named after the place `name` spells, ignoring case, with or without its
    region (`brussels`, `New York`); with `fuzzy`, also a near miss (`Europe/Brussel`)."""
    folded = name.strip().casefold().replace(" ", "_")
    for names in ({zone.casefold(): zone for zone in _place_zones()},
                  {zone.rpartition("/")[2].casefold(): zone for zone in _place_zones()}):
        found = [folded] if folded in names else []
        if fuzzy and not found:
            found = difflib.get_close_matches(folded, list(names), n=1, cutoff=0.6)
        if found:
            return names[found[0]]
    return None


def zones_on_the_clock_of(name: str) -> list[str]:
    """Zones named after a place that keep the clock `name` means: an abbreviation they use
    (`CET`, `CEST`, `PST`), a standard offset (`UTC+1`, `+01:00`, `CET+1` as CET), or
    another zone (`EST5EDT`); the largest region first (Europe for CET), then by name."""
    found = _zones_for_abbreviation(name)
    if not found:
        try:
            clock = _clock(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            return []
        found = [place for place in _place_zones() if _clock(ZoneInfo(place)) == clock]
    regions = Counter(place.partition("/")[0] for place in found)
    return sorted(found, key=lambda place: (-regions[place.partition("/")[0]], place))


def _zones_for_abbreviation(name: str) -> list[str]:
    match = ABBREVIATION.match(name.strip())
    if not match or not (match["name"] or match["sign"]):
        return []
    abbreviation = (match["name"] or "").upper()
    if abbreviation not in ("", "UTC", "GMT", "Z"):
        named = [place for place in _place_zones()
                 if abbreviation in (ZoneInfo(place).tzname(moment) for moment in SAMPLES)]
        if named or not match["sign"]:
            return named
    if not match["sign"]:
        return []
    sign = -1 if match["sign"] == "-" else 1
    offset = sign * timedelta(hours=int(match["hours"]), minutes=int(match["minutes"] or 0))
    return [place for place in _place_zones() if min(_clock(ZoneInfo(place))) == offset]


def _clock(zone: ZoneInfo) -> tuple[timedelta, ...]:
    return tuple(moment.astimezone(zone).utcoffset() or timedelta(0) for moment in SAMPLES)


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
        sender=_address(notify, "from", named=True),
        unsubscribe_mailto=_address(notify, "unsubscribe_mailto", named=False),
        reminders=tuple(sorted(set(reminders), reverse=True)) if notify.has("reminders") else (1440,),
    )


def _address(notify: Fields, key: str, named: bool) -> str | None:
    """`notify.from` (may carry a name: `Status <status@example.org>`) or
    `notify.unsubscribe_mailto` (a bare address: it becomes a mailto: link); a malformed one
    is an error here, at its line, rather than a relay's refusal in the middle of a send."""
    value = notify.string(key, "an email address")
    if value is None:
        return None
    problem = address_problem(value)
    if problem is None and not named and "<" in value:
        problem = f"expected a bare address such as 'status-unsubscribe@example.org' (it becomes a mailto: link); " \
                  f"found {value!r}"
    if problem is not None:
        notify.error(key, f"notify.{key}: {problem}")
        return None
    return value.strip()


def _smtp(smtp: Fields | None) -> tuple[tuple[str, str], ...]:
    """Where the SMTP relay is; credentials come from the environment, never from git."""
    if smtp is None or not smtp.ok:
        return ()
    if smtp.has("password") or smtp.has("user"):
        key = "password" if smtp.has("password") else "user"
        smtp.error(key, f"notify.smtp.{key}: secrets come from the environment (STATUSGEN_SMTP_USER, "
                        "STATUSGEN_SMTP_PASSWORD), never from files in git; remove it")
    smtp.reject_unknown(("host", "port", "security", "rate", "timeout", "ca_file", "password", "user"))
    found = {key: smtp.string(key, "text") for key in ("host", "port", "security", "ca_file")}
    for key, parse in (("rate", parse_rate), ("timeout", parse_timeout)):
        if smtp.has(key):
            try:
                parse(smtp.get(key))  # checked here, so that `check` names the line
                found[key] = str(smtp.get(key))
            except ValueError as error:
                smtp.error(key, str(error))
    if found.get("ca_file") and not Path(found["ca_file"]).is_absolute():  # the file itself is the notify machine's
        smtp.error("ca_file", f"notify.smtp.ca_file: expected the absolute path of a PEM file of certificates to trust for the "
                              f"relay; found {found['ca_file']!r}, a relative path")
    return tuple((key, value) for key, value in found.items() if value is not None)


def site_folder(site_dir: Path) -> list[str]:
    """Is there a site here at all? (Everything else starts from `content/site.yaml`.)"""
    if (site_dir / CONFIG_PATH).is_file():
        return []
    return [f"no {CONFIG_PATH} in {site_dir}: this folder is not a statusgen site; pass --site DIR with the "
            "site's folder, or create a site with `statusgen init DIR`"]
