"""Timestamps: parsing what ops write, and the build time.

A time without an offset is a wall-clock time in the site timezone. Around a DST change
such a time may not exist (the clock jumps over it) or may exist twice; both are errors
rather than guesses, because a notification sent an hour off is worse than none.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class TimeError(ValueError):
    """A timestamp that cannot be placed on the time line; the message says why."""


def parse_time(value: object, tz: ZoneInfo) -> datetime:
    """Parse an ISO 8601 time (offset optional) into an aware UTC datetime."""
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, (str, date)):
        text = str(value).strip()
    else:
        raise TimeError(f"expected an ISO 8601 time like '2026-11-28 09:20'; found {value!r}")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise TimeError(
            f"expected an ISO 8601 time like '2026-11-28 09:20'; found {text!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = localize(parsed, tz)
    return parsed.astimezone(UTC)


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach the site timezone to a wall-clock time, refusing DST gaps and overlaps."""
    early, late = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() == late.utcoffset():
        return early
    shown = naive.strftime("%Y-%m-%d %H:%M")
    if early.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise TimeError(
            f"local time {shown} does not exist in {tz.key} (the clocks skip it); "
            "write the time with its UTC offset"
        )
    raise TimeError(
        f"local time {shown} is ambiguous in {tz.key} (it happens twice); "
        f"write it with its UTC offset, {early.isoformat(timespec='minutes')} "
        f"or {late.isoformat(timespec='minutes')}"
    )


def build_time(now: str | None, tz: ZoneInfo) -> datetime:
    """The build's `now`: `--now`, else SOURCE_DATE_EPOCH, else the clock."""
    if now is not None:
        return parse_time(now, tz)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except ValueError:
            raise TimeError(f"SOURCE_DATE_EPOCH: expected whole seconds; found {epoch!r}") from None
    return datetime.now(UTC).replace(microsecond=0)



def follows_clock(now: str | None) -> bool:
    """Whether `build_time(now, ...)` reads the clock (neither `--now` nor SOURCE_DATE_EPOCH)."""
    return now is None and not os.environ.get("SOURCE_DATE_EPOCH")

def parse_duration(value: object) -> timedelta:
    """Parse a lead time such as `24h`, `90m`, `2d` or `1h30m`."""
    text = str(value).strip().lower()
    units = {"d": 1440, "h": 60, "m": 1}
    minutes, number = 0, ""
    for char in text:
        if char.isdigit():
            number += char
        elif char in units and number:
            minutes += int(number) * units[char]
            number = ""
        else:
            number = "x"
            break
    if number or not text or minutes <= 0:
        raise TimeError(f"expected a duration like '24h', '90m' or '2d'; found {value!r}")
    return timedelta(minutes=minutes)


def iso_time(moment: datetime, tz: ZoneInfo) -> str:
    """ISO 8601 with milliseconds in the site timezone's offset, as Statuspage writes it:
    `2026-11-28T09:20:00.000+01:00`, or `...Z` on a UTC site."""
    text = moment.astimezone(tz).isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") and tz.key in ("UTC", "Etc/UTC") else text
