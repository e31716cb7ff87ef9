"""The theme's translations: every language has every English key, intact placeholders,
the plural forms CLDR needs for it, and date patterns babel can render."""

from __future__ import annotations

import string
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_date, format_datetime

from statusgen.content.yamlsource import parse_document
from tests.conftest import ROOT

I18N = ROOT / "site_templates" / "i18n"
FILES = sorted(I18N.glob("*.yaml"))
CLDR_CATEGORIES = {"zero", "one", "two", "few", "many", "other"}
DATE_PATTERNS = ("format_datetime", "format_date", "format_month")


def load(file: Path) -> dict[str, Any]:
    """A translation file, read as the theme reads it (duplicate keys are errors)."""
    data = parse_document(file.name, file.read_bytes()).data
    assert isinstance(data, dict), f"{file.name}: expected a mapping at the top"
    return data


def is_plural(value: Any) -> bool:
    return isinstance(value, dict) and "other" in value and set(value) <= CLDR_CATEGORIES


ENGLISH = load(I18N / "en.yaml")


def flatten(data: dict[str, Any], plurals: set[str], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> text; a plural mapping (as English has it) is one entry."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted not in plurals:
            flat.update(flatten(value, plurals, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def plural_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if is_plural(value):
            keys.add(f"{prefix}{key}")
        elif isinstance(value, dict):
            keys |= plural_keys(value, f"{prefix}{key}.")
    return keys


PLURALS = plural_keys(ENGLISH)
ENGLISH_FLAT = flatten(ENGLISH, PLURALS)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def texts(value: Any) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


@pytest.fixture(params=FILES, ids=[f.stem for f in FILES])
def language(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    file: Path = request.param
    return file.stem, load(file)


def test_the_english_texts_are_there() -> None:
    assert {"en", "nl", "fr", "de"} <= {f.stem for f in FILES}
    assert PLURALS, "en.yaml has no plural mapping (one/other) at all"


def test_same_keys_as_english(language: tuple[str, dict[str, Any]]) -> None:
    code, data = language
    flat = flatten(data, PLURALS)
    missing = sorted(set(ENGLISH_FLAT) - set(flat))
    extra = sorted(set(flat) - set(ENGLISH_FLAT))
    assert not missing and not extra, f"{code}.yaml: missing {missing}, not in en.yaml {extra}"


def test_every_text_is_a_non_empty_string(language: tuple[str, dict[str, Any]]) -> None:
    code, data = language
    for key, value in flatten(data, PLURALS).items():
        if key in PLURALS:
            assert isinstance(value, dict), f"{code}.yaml: {key} must be a plural mapping"
        for text in texts(value):
            assert isinstance(text, str) and text.strip(), f"{code}.yaml: {key} must be a non-empty string"


def test_placeholders_match_english(language: tuple[str, dict[str, Any]]) -> None:
    code, data = language
    for key, value in flatten(data, PLURALS).items():
        if key not in ENGLISH_FLAT:
            continue
        english = ENGLISH_FLAT[key]
        wanted = fields(english["other"] if isinstance(english, dict) else english)
        for text in texts(value):
            assert fields(text) == wanted, f"{code}.yaml: {key} {text!r} must use exactly {sorted(wanted)}"
            text.format(**{name: "x" for name in wanted})  # no stray braces


def test_plural_categories(language: tuple[str, dict[str, Any]]) -> None:
    code, data = language
    locale = Locale.parse(code.replace("-", "_"))
    needed = {locale.plural_form(n) for n in range(201)} | {"other"}
    allowed = set(locale.plural_form.tags) | {"other"}
    flat = flatten(data, PLURALS)
    for key in sorted(PLURALS & set(flat)):
        categories = set(flat[key])
        assert needed <= categories, f"{code}.yaml: {key} lacks {sorted(needed - categories)}"
        assert categories <= allowed, f"{code}.yaml: {key} has {sorted(categories - allowed)}, unused in {code}"


def test_date_patterns_render(language: tuple[str, dict[str, Any]]) -> None:
    code, data = language
    locale = Locale.parse(code.replace("-", "_"))
    moment = datetime(2026, 11, 28, 9, 5, tzinfo=ZoneInfo("Europe/Brussels"))
    for key in DATE_PATTERNS:
        pattern = data[key]
        render = format_datetime if key == "format_datetime" else format_date
        shown = render(moment if key == "format_datetime" else moment.date(), pattern, locale=locale)
        assert "2026" in shown, f"{code}.yaml: {key} {pattern!r} rendered as {shown!r}"
