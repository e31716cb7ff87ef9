"""Badges: SVG that parses and speaks, words and colours per status, shields.io endpoint JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator

from statusgen.site.badges import (
    CHAR_WIDTHS,
    COLOR_OF_INDICATOR,
    COLOR_OF_STATUS,
    LABEL_COLOR,
    status_badge,
    text_width,
)
from statusgen.site.build import render
from statusgen.content.model import COMPONENT_STATUSES
from statusgen.site.theme import Theme, Translator
from tests.conftest import EXAMPLE_NOW, ROOT, MakeSite

SVG = "{http://www.w3.org/2000/svg}"
SITE_YAML = """\
title: {en: 'R&D <status> "page"', nl: R&D-status}
base_url: https://status.example.org/
languages: [en, nl]
timezone: Europe/Brussels
"""
COMPONENTS_YAML = """\
- id: core
  name: {en: Core services, nl: Kerndiensten}
  components:
    - id: api
      name: API
    - id: web
      name: {en: Website, nl: Webstek}
- id: mail
  name: {en: Email, nl: E-mail}
- id: search
  name: {en: Search, nl: Zoeken}
- id: docs
  name: Docs
"""
OUTAGE = """\
---
title: Everything breaks
type: incident
impact: critical
components:
  api: major_outage
  web: degraded_performance
  mail: partial_outage
updates:
  - at: 2026-11-30 09:00
    status: investigating
    body: Looking.
---
"""
MAINTENANCE = """\
---
title: Search upgrade
type: maintenance
components:
  search: under_maintenance
window:
  start: 2026-11-30 10:00
  end: 2026-11-30 14:00
---
"""
ENDPOINT_SCHEMA = {  # https://shields.io/badges/endpoint-badge
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string", "pattern": "^(#[0-9a-f]{6}|[a-z]+)$"},
        "labelColor": {"type": "string", "pattern": "^(#[0-9a-f]{6}|[a-z]+)$"},
        "isError": {"type": "boolean"},
        "namedLogo": {"type": "string"},
        "logoSvg": {"type": "string"},
        "logoColor": {"type": "string"},
        "logoWidth": {"type": "integer"},
        "style": {"enum": ["flat", "flat-square", "plastic", "for-the-badge", "social"]},
        "cacheSeconds": {"type": "integer", "minimum": 300},
    },
    "additionalProperties": False,
}


@pytest.fixture
def outputs(make_site: MakeSite) -> dict[str, bytes]:
    """A site with every component status at once: an outage and a maintenance in progress."""
    site = make_site({"content/site.yaml": SITE_YAML, "components.yaml": COMPONENTS_YAML,
                      "incidents/outage.md": OUTAGE, "incidents/search-upgrade.md": MAINTENANCE})
    return render(site, EXAMPLE_NOW)[2]


def read(outputs: dict[str, bytes], path: str) -> dict[str, str | list[str]]:
    """What a badge shows and says: its spoken name, title, visible texts and colours."""
    svg = ET.fromstring(outputs[path])
    assert svg.tag == f"{SVG}svg"
    drawn = next(g for g in svg.iter(f"{SVG}g") if g.get("clip-path"))
    rects = [r.get("fill") for r in drawn.iter(f"{SVG}rect") if r.get("fill", "").startswith("#")]
    return {
        "role": svg.get("role", ""),
        "aria-label": svg.get("aria-label", ""),
        "title": svg.findtext(f"{SVG}title", ""),
        "texts": [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("aria-hidden") != "true"],
        "fills": rects,
    }


def badge_paths(outputs: dict[str, bytes]) -> list[str]:
    return sorted(p for p in outputs if p.endswith("badge.svg"))


def test_a_badge_for_the_page_and_every_component_and_group_in_every_language(
        outputs: dict[str, bytes]) -> None:
    folders = ["", *(f"components/{i}/" for i in ("api", "core", "docs", "mail", "search", "web"))]
    expected = {f"{lang}{folder}badge.{ext}" for lang in ("", "nl/") for folder in folders
                for ext in ("svg", "json")}
    assert {p for p in outputs if p.endswith(("badge.svg", "badge.json"))} == expected


@pytest.mark.parametrize(("path", "label", "message", "color"), [
    ("badge.svg", 'R&D <status> "page"', "Major system outage", COLOR_OF_INDICATOR["critical"]),
    ("components/api/badge.svg", "API", "Major outage", COLOR_OF_STATUS["major_outage"]),
    ("components/mail/badge.svg", "Email", "Partial outage", COLOR_OF_STATUS["partial_outage"]),
    ("components/web/badge.svg", "Website", "Degraded performance", COLOR_OF_STATUS["degraded_performance"]),
    ("components/search/badge.svg", "Search", "Under maintenance", COLOR_OF_STATUS["under_maintenance"]),
    ("components/docs/badge.svg", "Docs", "Operational", COLOR_OF_STATUS["operational"]),
    ("components/core/badge.svg", "Core services", "Major outage", COLOR_OF_STATUS["major_outage"]),
    ("nl/badge.svg", "R&D-status", "Grote storing", COLOR_OF_INDICATOR["critical"]),
    ("nl/components/web/badge.svg", "Webstek", "Verminderde prestaties", COLOR_OF_STATUS["degraded_performance"]),
])
def test_words_and_colours_per_status(outputs: dict[str, bytes], path: str, label: str, message: str,
                                      color: str) -> None:
    badge = read(outputs, path)
    assert badge["texts"] == [label, message]
    assert badge["fills"] == [LABEL_COLOR, color]
    endpoint = json.loads(outputs[path.replace(".svg", ".json")])
    assert (endpoint["label"], endpoint["message"], endpoint["color"]) == (label, message, color)


def test_badges_are_images_with_a_name_for_screen_readers(outputs: dict[str, bytes]) -> None:
    for path in badge_paths(outputs):
        badge = read(outputs, path)
        label, message = badge["texts"]
        assert badge["role"] == "img", path
        assert badge["aria-label"] == badge["title"] == f"{label}: {message}", path


def test_text_is_escaped_and_survives_the_round_trip(outputs: dict[str, bytes]) -> None:
    assert b'R&amp;D &lt;status&gt; &quot;page&quot;' in outputs["badge.svg"]
    assert read(outputs, "badge.svg")["aria-label"] == 'R&D <status> "page": Major system outage'


def test_the_page_badge_during_maintenance_only(make_site: MakeSite) -> None:
    site = make_site({"incidents/search-upgrade.md": MAINTENANCE.replace("search", "lookup-portal")})
    outputs = render(site, EXAMPLE_NOW)[2]
    badge = read(outputs, "badge.svg")
    assert badge["texts"] == ["Example status", "Service under maintenance"]
    assert badge["fills"] == [LABEL_COLOR, COLOR_OF_INDICATOR["maintenance"]]


@pytest.mark.parametrize("lang", ["en", "nl", "fr", "de"])
def test_no_badge_relies_on_colour_alone(lang: str) -> None:
    """Every status has its own words, in every language of the theme; colours only repeat them."""
    theme = Theme(ROOT)
    t = Translator(lang, theme.messages(lang), ZoneInfo("Europe/Brussels"))
    badges = [status_badge(t, "X", status) for status in COMPONENT_STATUSES]
    messages = [b.message for b in badges]
    assert all(messages) and len(set(messages)) == len(COMPONENT_STATUSES), messages
    assert all(b.message in b.spoken for b in badges)


def test_white_text_is_readable_on_every_badge_colour() -> None:
    for color in {LABEL_COLOR, *COLOR_OF_STATUS.values(), *COLOR_OF_INDICATOR.values()}:
        assert contrast(color, "#ffffff") >= 4.5, color


def test_endpoint_json_follows_the_shields_schema(outputs: dict[str, bytes]) -> None:
    validator = Draft202012Validator(ENDPOINT_SCHEMA)
    for path in badge_paths(outputs):
        endpoint = json.loads(outputs[path.replace(".svg", ".json")])
        validator.validate(endpoint)
        assert [endpoint["label"], endpoint["message"]] == read(outputs, path)["texts"]


def test_text_widths_are_estimated_like_shields() -> None:
    assert text_width("build") == pytest.approx(27, abs=1)  # shields.io measures 27 px
    assert text_width("passing") == pytest.approx(41, abs=1.5)
    assert text_width("Étude") == text_width("Etude")
    assert text_width("状态") > text_width("ab")
    assert set(CHAR_WIDTHS) == {chr(c) for c in range(32, 127)}


def test_the_badge_is_as_wide_as_its_texts(outputs: dict[str, bytes]) -> None:
    narrow = ET.fromstring(outputs["components/api/badge.svg"])
    wide = ET.fromstring(outputs["components/web/badge.svg"])
    assert int(wide.get("width", 0)) - int(narrow.get("width", 0)) == pytest.approx(
        text_width("WebsiteDegraded performance") - text_width("APIMajor outage"), abs=2)


def test_the_example_site_has_badges() -> None:
    outputs = render(ROOT, EXAMPLE_NOW)[2]
    badge = read(outputs, "en/badge.svg")
    assert badge["texts"] == ["Regional Integration Platform status", "Minor service outage"]


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two `#rrggbb` colours."""
    def luminance(color: str) -> float:
        channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)
