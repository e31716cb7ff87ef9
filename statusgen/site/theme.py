"""The theme: templates, static files and translations, looked up site first.

A site's own `site_templates/` overrides the packaged theme file by file (templates,
static files) and key by key (translations), as MkDocs' `custom_dir` does. A template
that overrides another can extend it as `!theme/NAME`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar, cast

import jinja2
import jinja2.runtime
from markupsafe import Markup, escape
from babel import Locale
from babel.dates import DateTimeFormat, format_date, format_datetime
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import parse_pattern
from babel.units import format_unit
from zoneinfo import ZoneInfo

import statusgen
from statusgen.errors import BuildError, ContentError, ContentErrors
from statusgen.content.yamlsource import parse_document
from statusgen.site.templating import FastEnvironment

T = TypeVar("T")


def packaged_theme() -> Path:
    """The default theme: inside the wheel, or at the repository root in a checkout."""
    package = Path(statusgen.__file__).parent
    for candidate in (package / "site_templates", package.parent / "site_templates"):
        if (candidate / "templates").is_dir():
            return candidate
    raise BuildError(f"the default theme is missing (looked in {package}/site_templates)")


class Theme:
    def __init__(self, site_dir: Path) -> None:
        own = site_dir / "site_templates"
        default = packaged_theme()
        self.dirs = [own, default] if own.resolve() != default.resolve() else [default]
        self.default = default
        self._environments: dict[str, jinja2.Environment] = {}
        self._messages: dict[str, dict[str, Any]] = {}

    @cached_property
    def environment(self) -> jinja2.Environment:
        """The pages' templates (`site_templates/templates/`)."""
        return self.jinja("templates")

    def jinja(self, folder: str, html_only: bool = False) -> jinja2.Environment:
        """Jinja for one theme folder (templates, emails, service): the site's own files
        first, the packaged theme's also as `!theme/NAME`; made once per folder.
        `html_only` escapes only `.html` templates (emails have a plain-text part)."""
        if folder not in self._environments:
            own = [jinja2.FileSystemLoader(str(d / folder)) for d in self.dirs]
            theme = jinja2.PrefixLoader({"!theme": jinja2.FileSystemLoader(str(self.default / folder))})
            escape = (jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False,
                                               default=False) if html_only else True)
            self._environments[folder] = FastEnvironment(
                loader=jinja2.ChoiceLoader([*own, theme]), autoescape=escape,
                undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                keep_trailing_newline=True, auto_reload=False)  # a changed theme is a new Theme
        return self._environments[folder]

    def render(self, template: str, **context: Any) -> str:
        """Render a template; a broken template is reported by its file and line."""
        return self.reporting(template, lambda: self.environment.get_template(template).render(**context))

    def macro(self, template: str, name: str, **context: Any) -> jinja2.runtime.Macro:
        """Macro `name` of `template`, in a module made with `context`; call it within
        `reporting(template, ...)` to have its errors reported as `render` does."""
        module = self.reporting(template, lambda: self.environment.get_template(template).make_module(context))
        macro = getattr(module, name, None)
        if not isinstance(macro, jinja2.runtime.Macro):
            raise BuildError(f"template {template!r} defines no macro {name!r}")
        return macro

    def reporting(self, template: str, work: Callable[[], T]) -> T:
        """`work`, with a template's errors reported by its file and line."""
        try:
            return work()
        except jinja2.TemplateSyntaxError as error:
            raise ContentErrors([ContentError(self._shown(error.filename or error.name or template),
                                              error.lineno, f"template error: {error.message}")]) from None
        except jinja2.TemplateError as error:
            raise BuildError(f"template {template!r}: {error}") from None

    def _shown(self, filename: str) -> str:
        path = Path(filename).resolve()
        for folder in self.dirs:
            if path.is_relative_to(folder.resolve().parent):
                return path.relative_to(folder.resolve().parent).as_posix()
        return filename

    def find(self, name: str) -> Path:
        """A theme file (e.g. `embed/banner.js`) from the first theme folder that has it."""
        for folder in self.dirs:
            if (folder / name).is_file():
                return folder / name
        raise BuildError(f"the theme has no {name}")

    def static_files(self) -> Iterator[tuple[str, Path]]:
        """(relative path, file) of every static asset, the site's own winning."""
        seen: set[str] = set()
        for folder in (d / "static" for d in self.dirs):
            for file in sorted(folder.rglob("*")) if folder.is_dir() else []:
                name = file.relative_to(folder).as_posix()
                if file.is_file() and name not in seen:
                    seen.add(name)
                    yield name, file

    def messages(self, lang: str) -> dict[str, Any]:
        """Translations for one language: English underneath, the theme's, then the site's;
        read once per theme (a cache on the instance, so a discarded theme is freed)."""
        if lang in self._messages:
            return self._messages[lang]
        merged: dict[str, Any] = {}
        for code in dict.fromkeys(("en", lang)):
            for folder in reversed(self.dirs):
                file = folder / "i18n" / f"{code}.yaml"
                if file.is_file():
                    _merge(merged, parse_document(file.as_posix(), file.read_bytes()).data or {})
        self._messages[lang] = merged
        return merged


def _merge(base: dict[str, Any], override: dict[str, Any]) -> None:
    """Override translations key by key, nested sections included."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and not _is_plural(value):
            _merge(base[key], value)
        else:
            base[key] = value


def _is_plural(value: dict[str, Any]) -> bool:
    return "other" in value


_PREDEFINED = frozenset(("full", "long", "medium", "short"))
"""Babel's named formats, which it expands itself: formatted by babel whole."""
_DATE_FIELDS = frozenset("GyYuQqMLwWdDFgEec")
"""Pattern fields that depend only on the local date (and the locale)."""
_CLOCK_FIELDS = frozenset("abBhHKkmsSA")
"""Pattern fields that depend only on the local time of day; zone fields (`z`, `Z`, `v`,
`O`, `X`, ...) depend on the moment and are formatted by babel each time."""


_PART = re.compile(r"%\((\w+)\)s|%%|[{}]")
"""In babel's `%` template of a pattern: a field, an escaped `%`, or a brace to escape for
`str.format`."""


class _Layout:
    """A babel pattern's `%` template (what its `DateTimePattern.apply` fills) as a
    `str.format` template whose fields come in three runs: those of the local date, those of
    the time of day, the rest (zone fields). The first two are formatted by babel once per
    date or time of day (a 10,000-incident site shows 40,000 moments, but only a few
    thousand dates and times of day), the rest each time; a moment is then one `format`.
    Made once per translator and pattern: the runs are in its locale."""

    __slots__ = ("by_clock", "by_date", "clock_fields", "date_fields", "locale", "other_fields", "template")

    def __init__(self, layout: str, locale: Locale, moments: bool) -> None:
        runs: tuple[list[str], list[str], list[str]] = ([], [], [])
        parts: list[tuple[str, int, int] | str] = []
        for match in _PART.finditer(layout):  # (the text between the parts is kept below)
            name = match.group(1)
            if name is None:
                parts.append({"%%": "%", "{": "{{", "}": "}}"}[match.group()])
                continue
            run = 0 if name[0] in _DATE_FIELDS else 1 if name[0] in _CLOCK_FIELDS and moments else 2
            parts.append(("", run, len(runs[run])))
            runs[run].append(name)
        offsets = (0, len(runs[0]), len(runs[0]) + len(runs[1]))
        texts = _PART.split(layout)[::2]  # the text between the parts
        template = texts[0]
        for part, text in zip(parts, texts[1:]):
            template += (part if isinstance(part, str) else f"{{{offsets[part[1]] + part[2]}}}") + text
        self.template, self.locale = template, locale
        self.date_fields, self.clock_fields, self.other_fields = (tuple(run) for run in runs)
        self.by_date: dict[date, tuple[str, ...]] = {}
        self.by_clock: dict[time, tuple[str, ...]] = {}

    def apply(self, value: date | datetime) -> str:
        """`value` (local) as babel's `DateTimePattern.apply` formats it."""
        day = value.date() if isinstance(value, datetime) else value
        dates = self.by_date.get(day)
        if dates is None:
            dates = self.by_date[day] = self._formatted(value, self.date_fields)
        clocks: tuple[str, ...] = ()
        if self.clock_fields:  # (a run of their own for moments only)
            assert isinstance(value, datetime)
            clock = value.time()
            clocks = self.by_clock.get(clock) or ()
            if not clocks:
                clocks = self.by_clock[clock] = self._formatted(value, self.clock_fields)
        return self.template.format(*dates, *clocks, *self._formatted(value, self.other_fields))

    def _formatted(self, value: date | datetime, names: tuple[str, ...]) -> tuple[str, ...]:
        if not names:
            return ()
        fields = DateTimeFormat(value, self.locale)
        return tuple(fields[name] for name in names)


_MOMENTS_KEPT = 4096
"""Moments whose words a translator keeps: most are on one page or two (an update's time), and
every day and time of day are kept anyway (`_Layout`); all 40,000 of a 10,000-incident site
held 8 MiB in each language's worker."""


class Translator:
    """`t(key, **values)` for templates, with CLDR plurals and dates from babel.

    What babel formats is kept per translator (one per language and build): the same
    dates, times of day, durations and percentages recur on thousands of pages."""

    def __init__(self, lang: str, messages: dict[str, Any], tz: ZoneInfo) -> None:
        self.lang = lang
        self.locale = Locale.parse(lang.replace("-", "_"))
        self.messages = messages
        self.tz = tz
        self._datetimes: dict[datetime, str] = {}
        self._dates: dict[date, str] = {}
        self._plain: dict[str, str] = {}  # messages without values, by key
        self._layouts: dict[tuple[str, bool], _Layout] = {}  # by pattern, for moments or dates
        self._formatted: dict[tuple[object, ...], str] = {}  # durations, percentages, units

    def __call__(self, key: str, count: int | None = None, **values: Any) -> str:
        if count is None and not values:  # most calls: a label, the same every time
            if key not in self._plain:
                self._plain[key] = self._message(key, None, values)
            return self._plain[key]
        return self._message(key, count, values)

    def _message(self, key: str, count: int | None, values: dict[str, Any]) -> str:
        message: Any = self.messages
        for part in key.split("."):
            message = message.get(part) if isinstance(message, dict) else None
        if message is None:
            raise BuildError(f"no translation for {key!r} in the theme (language {self.lang})")
        if isinstance(message, dict):
            message = message.get(self.locale.plural_form(count or 0)) or message["other"]
        if any(isinstance(value, Markup) for value in values.values()):
            # A value with markup of its own (a name marked with its language): the message
            # is escaped and the other values too, so the result is safe markup.
            return Markup(escape(str(message))).format(count=count, **values)
        return str(message).format(count=count, **values)

    def _pattern(self, value: date | datetime, key: str) -> str:
        """`value` in the pattern of translation `key` (babel's `format_date` and
        `format_datetime`, for a value already in the site's timezone)."""
        pattern = self(key)
        if pattern in _PREDEFINED:
            if isinstance(value, datetime):
                return format_datetime(value, pattern, locale=self.locale)
            return format_date(value, pattern, locale=self.locale)
        moments = isinstance(value, datetime)
        layout = self._layouts.get((pattern, moments))
        if layout is None:
            template = cast(str, parse_date_pattern(pattern).format)  # a `%` template (babel types it loosely)
            layout = self._layouts[pattern, moments] = _Layout(template, self.locale, moments)
        return layout.apply(value)

    def language(self, code: str) -> str:
        """A language's name in this one, as it reads inside a sentence (`Engels`, `anglais`)."""
        return self.locale.languages.get(code) or code

    def datetime(self, moment: datetime) -> str:
        """A moment in the site timezone, with the zone named: `28 Nov 2026, 09:20 CET`."""
        if moment not in self._datetimes:
            if len(self._datetimes) >= _MOMENTS_KEPT:
                self._datetimes.clear()
            local = moment.astimezone(self.tz)
            self._datetimes[moment] = f"{self._pattern(local, 'format_datetime')} {local.tzname()}"
        return self._datetimes[moment]

    def date(self, moment: datetime | date) -> str:
        day = moment.astimezone(self.tz).date() if isinstance(moment, datetime) else moment
        if day not in self._dates:
            self._dates[day] = self._pattern(day, "format_date")
        return self._dates[day]

    def month(self, moment: datetime) -> str:
        return self._pattern(moment.astimezone(self.tz).date(), "format_month")

    def duration(self, length: timedelta) -> str:
        minutes = max(0, int(length.total_seconds() // 60))
        return self._once(("duration", minutes), lambda: self._duration(minutes))

    def _duration(self, minutes: int) -> str:
        days, rest = divmod(minutes, 1440)
        hours, minutes = divmod(rest, 60)
        units = [("duration-day", days), ("duration-hour", hours), ("duration-minute", minutes)]
        parts = [format_unit(n, unit, length="short", locale=self.locale) for unit, n in units if n]
        return " ".join(parts) or format_unit(0, "duration-minute", length="short", locale=self.locale)

    def percent(self, value: float | None, digits: int = 2) -> str:
        """`99.84%`, `99,84 %`: the locale's percent format with two decimals."""
        if value is None:
            return self("no_data")
        return self._once(("percent", value, digits), lambda: self._percent(value, digits))

    def _percent(self, value: float, digits: int) -> str:
        floor = int(value * 10**digits) / 10**digits  # never show 100% for a day with downtime
        pattern = parse_pattern(self.locale.percent_formats[None].pattern)
        pattern.frac_prec = (digits, digits)
        return pattern.apply(Decimal(str(floor)) / 100, self.locale)

    def target(self, value: float) -> str:
        """An availability target as written, in the locale's percent format: `99.5%`,
        `99,95 %` (no decimals added, none dropped)."""
        pattern = parse_pattern(self.locale.percent_formats[None].pattern)
        pattern.frac_prec = (0, 3)
        return pattern.apply(Decimal(str(value)) / 100, self.locale)

    def minutes(self, value: float) -> str:
        """Minutes to a tenth in the locale's short unit, and from an hour on also in
        hours and minutes: `2,1 min`, `312 min (5 h 12 min)`."""
        shown = round(value, 1)
        text = format_unit(shown, "duration-minute", length="short", locale=self.locale)
        return f"{text} ({self.duration(timedelta(minutes=shown))})" if shown >= 60 else text

    def _once(self, key: tuple[object, ...], make: Callable[[], str]) -> str:
        """What `make` formats for `key`, made once per translator."""
        if key not in self._formatted:
            self._formatted[key] = make()
        return self._formatted[key]

    @property
    def language_name(self) -> str:
        return (self.locale.get_display_name(self.locale) or self.lang).capitalize()
