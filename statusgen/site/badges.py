"""Status badges (SVG) and shields.io endpoint JSON, for the page and every component and group.

    badge.svg  badge.json                        the page's overall status
    components/ID/badge.svg  components/ID/badge.json   one component or group
    LANG/...                                     the same in every other language

A badge is drawn in shields.io's *flat* style, so it sits well among the badges of a
README or a wiki, and `badge.json` lets shields.io draw it in any other style
(`https://img.shields.io/endpoint?url=...badge.json`). Unlike shields.io's own colours,
ours are the site's status colours, dark enough for white text (WCAG AA, 4.5:1), and
the status is always written out: the colour only repeats what the words say. An SVG
in an `<img>` is read out by its `aria-label` and `<title>`.

Text widths are estimated from Verdana's advance widths, the font shields.io measures
with, so the build needs no font file; `textLength` makes every renderer fit the text
into exactly the width we reserved, whatever font it falls back to.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from statusgen.site import urls
from statusgen.site.state import SiteState
from statusgen.site.theme import Theme, Translator

OK, MINOR, MAJOR, CRITICAL, MAINTENANCE = "#1a7f37", "#8a5a00", "#bc4c00", "#cf222e", "#0969da"
"""The theme's light status colours (style.css); each has 5:1 or more against white."""
LABEL_COLOR = "#555555"

COLOR_OF_INDICATOR = {"none": OK, "minor": MINOR, "major": MAJOR, "critical": CRITICAL,
                      "maintenance": MAINTENANCE}
COLOR_OF_STATUS = {"operational": OK, "degraded_performance": MINOR, "partial_outage": MAJOR,
                   "major_outage": CRITICAL, "under_maintenance": MAINTENANCE}

FONT_SIZE = 11
HEIGHT = 20
PADDING = 5
"""Space left and right of each text, in pixels."""
_VERDANA = (  # advance widths of ' ' .. '~' in font units (2048 an em)
    "720 823 1067 1876 1423 2456 1641 604 1044 1044 1423 1876 823 1044 823 1044 "
    "1423 1423 1423 1423 1423 1423 1423 1423 1423 1423 1044 1044 1876 1876 1876 1216 "
    "2097 1401 1405 1434 1587 1296 1178 1605 1548 860 1044 1427 1163 1737 1536 1613 "
    "1267 1613 1447 1399 1253 1511 1401 2024 1407 1247 1403 1044 1044 1044 1876 1423 "
    "1423 1233 1276 1087 1276 1219 720 1276 1296 562 705 1178 562 1992 1296 1247 "
    "1276 1276 874 1067 807 1296 1178 1669 1178 1178 1050 1300 1044 1300 1876"
)
CHAR_WIDTHS = {chr(32 + i): int(units) * FONT_SIZE / 2048 for i, units in enumerate(_VERDANA.split())}
"""Pixels per character at the badge's font size."""
OTHER_WIDTH = 0.7 * FONT_SIZE
"""Any other character: a generous average, so the text rather gets air than overlaps."""
WIDE_WIDTH = float(FONT_SIZE)
"""East Asian wide and full-width characters take a whole em."""


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    color: str
    """Background of the message half; white text on it meets WCAG AA."""
    spoken: str
    """What a screen reader says: `Mobile app: Major outage`."""


def badge_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → file content: an SVG and its endpoint JSON per badge and language."""
    outputs: dict[str, bytes] = {}
    config = state.site.config
    for lang in config.languages:
        t = Translator(lang, theme.messages(lang), config.timezone)
        for folder, badge in site_badges(state, t):
            outputs[f"{folder}badge.svg"] = badge_svg(badge).encode("utf-8")
            outputs[f"{folder}badge.json"] = endpoint_json(badge).encode("utf-8")
    return outputs


def site_badges(state: SiteState, t: Translator) -> Iterator[tuple[str, Badge]]:
    """(site folder, badge) for the page, then every group and component, in `t`'s language."""
    site, lang = state.site, t.lang
    indicator = state.indicator.indicator
    yield urls.home(site.config, lang), make_badge(
        t, site.config.title[lang], t(f"indicator.{indicator}"), COLOR_OF_INDICATOR[indicator])
    for group in site.groups:
        yield urls.component(site.config, lang, group.id), status_badge(
            t, group.name[lang], state.group_status(group.id))
    for component in site.components:
        yield urls.component(site.config, lang, component.id), status_badge(
            t, component.name[lang], state.component_statuses[component.id])


def status_badge(t: Translator, label: str, status: str) -> Badge:
    return make_badge(t, label, t(f"component_status.{status}"), COLOR_OF_STATUS[status])


def make_badge(t: Translator, label: str, message: str, color: str) -> Badge:
    """A badge with its texts on one line each (a badge has no room for line breaks)."""
    label, message = _one_line(label), _one_line(message)
    return Badge(label, message, color, f"{t('colon', label=label)} {message}")


def _one_line(text: str) -> str:
    """Whitespace runs as one space, control characters (not allowed in XML) left out."""
    printable = "".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc")
    return " ".join(printable.split())


def text_width(text: str) -> float:
    """Estimated width in pixels of `text` in Verdana at the badge's font size."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> float:
    if char in CHAR_WIDTHS:
        return CHAR_WIDTHS[char]
    base = unicodedata.normalize("NFD", char)[0]  # é is as wide as e
    if base in CHAR_WIDTHS:
        return CHAR_WIDTHS[base]
    if unicodedata.combining(char):
        return 0.0
    return WIDE_WIDTH if unicodedata.east_asian_width(char) in ("W", "F") else OTHER_WIDTH


_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{spoken}">
<title>{spoken}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="{width}" height="{height}" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="{label_width}" height="{height}" fill="{label_color}"/><rect x="{label_width}" width="{message_width}" height="{height}" fill="{color}"/><rect width="{width}" height="{height}" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="{font_size}">
{label_text}
{message_text}
</g>
</svg>
"""
_TEXT = ('<text aria-hidden="true" x="{x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" '
         'textLength="{length}">{text}</text><text x="{x}" y="140" transform="scale(.1)" '
         'textLength="{length}">{text}</text>')
"""A text with its shadow; in tenths of a pixel, as shields.io draws it, for finer positions."""


def badge_svg(badge: Badge) -> str:
    label_length, message_length = round(text_width(badge.label)), round(text_width(badge.message))
    label_width, message_width = label_length + 2 * PADDING, message_length + 2 * PADDING
    return _SVG.format(
        width=label_width + message_width, height=HEIGHT, spoken=_xml(badge.spoken),
        label_width=label_width, message_width=message_width, label_color=LABEL_COLOR,
        color=badge.color, font_size=FONT_SIZE * 10,
        label_text=_TEXT.format(x=label_width * 5, length=label_length * 10, text=_xml(badge.label)),
        message_text=_TEXT.format(x=(label_width * 2 + message_width) * 5, length=message_length * 10,
                                  text=_xml(badge.message)),
    )


def _xml(text: str) -> str:
    """Text escaped for XML content and double-quoted attributes alike."""
    return escape(text, {'"': "&quot;"})


def endpoint_json(badge: Badge) -> str:
    """shields.io's endpoint badge format (schemaVersion 1): label, message, colours."""
    document = {"schemaVersion": 1, "label": badge.label, "message": badge.message,
                "color": badge.color, "labelColor": LABEL_COLOR}
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
