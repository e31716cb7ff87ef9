"""The translator formats dates, times, durations and percentages as babel does, although it
formats each date, time of day and value once (statusgen/site/theme.py, `_Layout`)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_datetime

from statusgen.site.theme import Translator

PATTERNS = [  # (format_datetime, format_date and format_month)
    ("d MMM y, HH:mm", "EEEE d MMMM y"), ("d. MMM y, HH:mm", "MMMM y"), ("medium", "full"), ("full", "short"),
    ("h:mm a 'on' EEE, d/M/yy", "d/M/yy 'at' EEE"), ("yyyy-MM-dd'T'HH:mm:ss z", "Y 'week' w, e c"),
    ("HH:mm zzzz (ZZZZ) v O", "G QQQ D F g"), ("k K B b SSS A", "LLLL y"),
    ("d MMM y % HH:mm %% z", "'%' d MMMM y 100%")]  # % is text
ZONES = ["Europe/Brussels", "America/New_York", "Asia/Kolkata", "UTC"]


def moments(count: int) -> list[datetime]:
    """Moments over several years, DST changes included, many sharing a day or a time of day."""
    rng = random.Random(7)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    found = [start + timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 8)) for _ in range(count)]
    found += [datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
              datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]
    return found + [moment + timedelta(days=1) for moment in found[:50]] + [moment.replace(hour=3) for moment in found[:50]]


@pytest.mark.parametrize("lang", ["nl", "en", "fr", "de"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_dates_and_times_as_babel_formats_them(lang: str, pattern: tuple[str, str]) -> None:
    for zone in ZONES:
        tz = ZoneInfo(zone)
        messages = {"format_datetime": pattern[0], "format_date": pattern[1], "format_month": pattern[1]}
        t = Translator(lang, messages, tz)
        for moment in moments(80):
            local = moment.astimezone(tz)
            assert t.datetime(moment) == f"{format_datetime(local, pattern[0], locale=t.locale)} {local.tzname()}", moment
            assert t.date(moment) == format_date(local.date(), messages["format_date"], locale=t.locale)
            assert t.date(local.date()) == format_date(local.date(), messages["format_date"], locale=t.locale)
            assert t.month(moment) == format_date(local.date(), messages["format_month"], locale=t.locale)


def test_a_date_pattern_with_a_clock_field_fails_as_babel_does() -> None:
    t = Translator("en", {"format_date": "d MMM y HH:mm"}, ZoneInfo("UTC"))
    with pytest.raises(AttributeError):
        format_date(date(2026, 1, 1), "d MMM y HH:mm", locale=t.locale)
    with pytest.raises(AttributeError):
        t.date(date(2026, 1, 1))


@pytest.mark.parametrize("lang", ["nl", "en", "fr", "de"])
def test_durations_and_percentages_are_the_same_made_once_or_anew(lang: str) -> None:
    def fresh() -> Translator:
        return Translator(lang, {"no_data": "none"}, ZoneInfo("Europe/Brussels"))
    kept = fresh()
    for minutes in [0, 1, 59, 60, 61, 1439, 1440, 1501, 90000, 5, 61, 0]:
        assert kept.duration(timedelta(minutes=minutes, seconds=30)) == fresh().duration(timedelta(minutes=minutes, seconds=30))
    assert kept.duration(timedelta(minutes=-5)) == fresh().duration(timedelta(0))
    for value in [100.0, 99.999, 99.5, 0.0, 12.3456, 99.999, None]:
        for digits in (2, 3, 0):
            assert kept.percent(value, digits) == fresh().percent(value, digits)
    assert kept.percent(99.999) == ("99,99%" if lang == "nl" else kept.percent(99.999))


def test_messages_without_values_are_kept_and_with_values_formatted_each_time() -> None:
    t = Translator("en", {"a": "plain", "b": "Page {number}", "c": {"one": "{count} day", "other": "{count} days"}},
                   ZoneInfo("UTC"))
    assert t("a") == t("a") == "plain"
    assert t("b", number=2) == "Page 2" and t("b", number=3) == "Page 3"
    assert t("c", count=1) == "1 day" and t("c", count=2) == "2 days"
    with pytest.raises(KeyError):
        t("b")
    with pytest.raises(KeyError):  # not kept: fails again
        t("b")
