"""A `StatusReport` as plain text for the terminal: `report_text`.

    Regional Integration Platform status · 2026-11-30 12:00 CET
    Minor Service Outage (indicator: minor)

    Components not operational
      Lookup application › Search  degraded_performance  ← 2026-11-30-lookup-app-slow
    Active incidents
      P3  Lookup application slow  [2026-11-30-lookup-app-slow]
          identified · started 2026-11-30 09:55 CET
          2026-11-30 10:40 CET identified: We found the cause and are …
          https://status.example.org/incidents/2026-11-30-lookup-app-slow/
    Upcoming maintenance
      …

Times are in the page's timezone, statuses as the files and the API spell them. Colour
only on a terminal (`use_colour`), never with `NO_COLOR` set (no-color.org) or `TERM=dumb`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from statusgen.status.report import ComponentReport, Item, StatusReport

BODY_WIDTH = 76
BODY_LINES = 2
INDENT = "      "
_COLOURS = {
    "none": "32", "operational": "32",
    "minor": "33", "degraded_performance": "33",
    "major": "38;5;208", "partial_outage": "38;5;208",
    "critical": "31", "major_outage": "31",
    "maintenance": "34", "under_maintenance": "34",
}


def use_colour(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colour on a terminal only, unless `NO_COLOR` is set to anything or `TERM` is dumb."""
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    return stream.isatty()


class _Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def paint(self, text: str, code: str | None) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour and code else text

    def status(self, value: str) -> str:
        return self.paint(value, _COLOURS.get(value))

    def bold(self, text: str) -> str:
        return self.paint(text, "1")


def report_text(report: StatusReport, colour: bool = False) -> str:
    """The report as lines of text, ending with a newline."""
    style = _Style(colour)
    tz = report.time_zone
    lines = [f"{style.bold(report.page_name)} · {local(report.at, tz)}",
             f"{style.paint(report.description, _COLOURS.get(report.indicator))} (indicator: {report.indicator})"]
    if report.all_operational:
        lines.append("All systems operational: no active incident, no maintenance in progress.")
    sections = [
        ("Components not operational", _component_lines(report.components, style)),
        ("Active incidents", [line for item in report.incidents for line in _item_lines(item, tz, style)]),
        ("Maintenance in progress", [line for item in report.in_progress for line in _item_lines(item, tz, style)]),
        ("Upcoming maintenance", [line for item in report.upcoming for line in _item_lines(item, tz, style)]),
    ]
    for heading, body in sections:
        if body:
            lines += ["", style.bold(heading), *body]
    return "\n".join(lines) + "\n"


def local(moment: datetime, tz: ZoneInfo) -> str:
    """`2026-11-30 10:40 CET`: in the page's timezone, the zone named."""
    shown = moment.astimezone(tz)
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname()}"


def _component_lines(components: tuple[ComponentReport, ...], style: _Style) -> list[str]:
    names = [f"{c.group} › {c.name}" if c.group else c.name for c in components]
    name_width = max(map(len, names), default=0)
    status_width = max((len(c.status) for c in components), default=0)
    lines = []
    for name, component in zip(names, components, strict=True):
        cause = f"  ← {', '.join(component.causes)}" if component.causes else ""
        padding = " " * (status_width - len(component.status))
        lines.append(f"  {name:<{name_width}}  {style.status(component.status)}{padding}{cause}".rstrip())
    return lines


def _item_lines(item: Item, tz: ZoneInfo, style: _Style) -> list[str]:
    label = f"{item.priority}  " if item.priority else ""
    lines = [f"  {style.paint(label, _COLOURS.get(item.impact))}{style.bold(item.title)}  [{item.id}]"]
    if item.window:
        when = f"{local(item.window[0], tz)} – {local(item.window[1], tz)}"
    else:
        when = f"started {local(item.started_at, tz)}"
    lines.append(f"{INDENT}{item.status} · {when}")
    if item.components:
        lines.append(INDENT + ", ".join(f"{c.name} ({style.status(c.status)})" for c in item.components))
    if item.latest:
        latest = item.latest
        lines += _shortened(f"{local(latest.at, tz)} {latest.status}: {latest.body}".rstrip(": "))
    if item.url:
        lines.append(INDENT + item.url)
    return lines


def _shortened(text: str) -> list[str]:
    """At most `BODY_LINES` lines of `BODY_WIDTH`, an ellipsis where text was left out."""
    wrapped = textwrap.wrap(text, BODY_WIDTH, break_long_words=True, break_on_hyphens=False)
    if len(wrapped) > BODY_LINES:
        last = textwrap.shorten(" ".join(wrapped[BODY_LINES - 1:]), BODY_WIDTH, placeholder=" …")
        wrapped = wrapped[:BODY_LINES - 1] + [last]
    return [INDENT + line for line in wrapped]
