"""The monthly availability for spreadsheets and scripts: `availability.csv` and
`api/availability.json` (the figures of `availability.py`, which the `availability/`
pages show).

One copy of each at the site's root, as `api/uptime.json`: component names are in the
site's default language, numbers have a decimal point, months are `YYYY-MM` in the
site's timezone (oldest first, the last one the current month so far).

`availability.csv`, one row per component and month:

    component_id, component_name, month, measured_minutes, downtime_minutes,
    availability_percent, target_percent, met, so_far

`met` is `yes` or `no`, empty when the month was not measured or there is no target
(`availability_percent` is then empty too for a month not measured); `so_far` is `yes`
for the current month. `api/availability.json`:

    {"generated_at": ISO time, "timezone": "Europe/Brussels", "months": 13,
     "weights": {status: weight}, "maintenance": "excluded",
     "components": [{"id", "name", "group_id", "target_percent",
                     "months": [{"month", "start", "end", "so_far", "measured_minutes",
                                 "maintenance_minutes", "downtime_minutes",
                                 "availability_percent", "target_percent", "met", "result"}]}]}

`result` is one of met, missed, not_measured, no_target; `met` is true, false or null.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from statusgen.content.model import COMPONENT_STATUSES
from statusgen.site.availability import ComponentAvailability, MonthAvailability
from statusgen.site.state import SiteState
from statusgen.site.uptime import WEIGHTS
from statusgen.times import iso_time

CSV_PATH = "availability.csv"
JSON_PATH = "api/availability.json"
CSV_HEADER = ("component_id", "component_name", "month", "measured_minutes", "downtime_minutes",
              "availability_percent", "target_percent", "met", "so_far")
MINUTE_DIGITS = 3
PERCENT_DIGITS = 6
"""As `MonthAvailability.percent` rounds: the file and the page show the same value."""


def availability_outputs(state: SiteState, figures: dict[str, ComponentAvailability]) -> dict[str, bytes]:
    """Both files, from the figures the pages show."""
    return {CSV_PATH: availability_csv(state, figures).encode(),
            JSON_PATH: availability_json(state, figures).encode()}


def availability_csv(state: SiteState, figures: dict[str, ComponentAvailability]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as spreadsheets expect
    writer.writerow(CSV_HEADER)
    lang = state.site.config.default_language
    for component in state.site.components:
        for month in figures[component.id].months:
            row = _month_row(month)
            writer.writerow((component.id, component.name[lang], month.key, _text(row["measured_minutes"]),
                             _text(row["downtime_minutes"]), _text(row["availability_percent"]),
                             _text(row["target_percent"]), {True: "yes", False: "no", None: ""}[month.met],
                             "yes" if month.so_far else "no"))
    return out.getvalue()


def availability_json(state: SiteState, figures: dict[str, ComponentAvailability]) -> str:
    config = state.site.config
    components = []
    for component in state.site.components:
        entry = figures[component.id]
        components.append({
            "id": component.id, "name": component.name[config.default_language], "group_id": component.group,
            "target_percent": entry.target, "months": [_month_row(month, config.timezone) for month in entry.months],
        })
    document = {
        "generated_at": iso_time(state.now, config.timezone),
        "timezone": config.timezone.key,
        "months": len(next(iter(figures.values())).months) if figures else 0,
        "weights": {s: WEIGHTS.get(s, 0.0) for s in COMPONENT_STATUSES if s != "operational"},
        "maintenance": "excluded",
        "components": components,
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _month_row(month: MonthAvailability, tz: Any = None) -> dict[str, Any]:
    """One month as the JSON has it (the CSV writes the same rounded numbers)."""
    row: dict[str, Any] = {
        "month": month.key, "so_far": month.so_far,
        "measured_minutes": round(month.measured, MINUTE_DIGITS),
        "maintenance_minutes": round(month.maintenance, MINUTE_DIGITS),
        "downtime_minutes": round(float(month.downtime), MINUTE_DIGITS),
        "availability_percent": None if month.percent is None else round(month.percent, PERCENT_DIGITS),
        "target_percent": month.target, "met": month.met, "result": month.result,
    }
    if tz is not None:
        row["start"], row["end"] = iso_time(month.start, tz), iso_time(month.end, tz)
    return row


def _text(value: float | None) -> str:
    """A number as a spreadsheet reads it in any locale: a decimal point, no exponent,
    no trailing zeros (`43200`, `2.1`, `99.995326`)."""
    if value is None:
        return ""
    text = f"{value:.{PERCENT_DIGITS}f}".rstrip("0").rstrip(".")
    return text or "0"
