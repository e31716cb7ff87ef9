"""The theme's translations: every shipped language (nl, en, fr, de) has every key the others
have, no empty text, intact placeholders, the plural forms CLDR needs for it, and date
patterns babel can render; every key the theme's templates name exists.

The tests read the files and templates as they are, so a key added later is covered
without touching them: a text added in one language only fails here."""

from __future__ import annotations

import re
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
SHIPPED = {"nl", "en", "fr", "de"}
"""The languages the theme ships complete (DESIGN.md: Dutch and English first, French and German)."""
THEME_FILES = [file for file in sorted((ROOT / "site_templates").rglob("*"))
               if file.is_file() and file.suffix in (".html", ".txt", ".js", ".xml")
               and "scaffold" not in file.parts]
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.-]+)["']\s*[,)]""")
"""`t("key")` or `t('key', ...)` in a template: a key named whole (not built from parts)."""


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


def test_every_shipped_language_is_there() -> None:
    assert SHIPPED <= {f.stem for f in FILES}


@pytest.mark.parametrize("pair", [(a, b) for a in sorted(SHIPPED) for b in sorted(SHIPPED) if a < b],
                         ids=lambda pair: "-".join(pair))
def test_shipped_languages_have_the_same_keys_as_each_other(pair: tuple[str, str]) -> None:
    """Each pair, both ways: a key (a plural form's category aside) in one is in the other."""
    one, other = (flatten(load(I18N / f"{code}.yaml"), PLURALS) for code in pair)
    assert sorted(set(one) - set(other)) == [], f"in {pair[0]}.yaml, not in {pair[1]}.yaml"
    assert sorted(set(other) - set(one)) == [], f"in {pair[1]}.yaml, not in {pair[0]}.yaml"


def test_every_key_the_templates_name_exists() -> None:
    assert THEME_FILES, "no templates found"
    used = {(file.relative_to(ROOT).as_posix(), key)
            for file in THEME_FILES for key in LITERAL_KEY.findall(file.read_text(encoding="utf-8"))}
    assert len(used) > 100, "the pattern no longer finds the templates' keys"
    absent = sorted(f"{path}: {key}" for path, key in used
                    if not any(key == known or known.startswith(key + ".") for known in ENGLISH_FLAT))
    assert absent == [], "keys the templates use but en.yaml lacks"


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
