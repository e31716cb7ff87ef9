"""`statusgen init` in the languages the theme ships (issue 14): a four-language site
(`--languages nl,fr,de,en`) checks with no language warning, builds, and every kind of its
pages passes axe in Debian's Chromium in each language; a language the theme does not ship
is said at once and left to `statusgen check`; the scaffold's accessibility statement warns
while its `[[placeholders]]` are left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statusgen.authoring.init import SHIPPED, scaffold_texts
from statusgen.content.load import load_site
from statusgen.site.build import build
from tests.conftest import ROOT
from tests.test_browser import AXE_TAGS, Visitor, axe_report, browser, serve  # noqa: F401 (browser: a fixture)

from axe_playwright_python.sync_playwright import Axe

NOW = "2026-11-30T12:00:00+01:00"
FOUR = ("nl", "fr", "de", "en")
SCAFFOLD = ROOT / "site_templates" / "scaffold"
KINDS = {"home": "", "incident": "incidents/example-incident/", "component": "components/api/",
         "group": "components/online-services/", "history": "history/", "subscribe": "subscribe/",
         "help": "help/", "accessibility": "accessibility/"}


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site made by `statusgen init --languages nl,fr,de,en`, built at NOW into public/."""
    from statusgen.cli import main

    site = tmp_path_factory.mktemp("four") / "status"
    assert main(["init", str(site), "--languages", ",".join(FOUR), "--timezone", "Europe/Brussels"]) == 0
    build(site, site / "public", NOW)
    return site


@pytest.fixture(scope="module")
def visit_four(browser: Any, four: Path) -> Iterator[Visitor]:
    url = serve(four / "public")
    visitor = Visitor(browser, next(url), lambda path: NOW)  # the page's clock: the build's moment
    yield visitor
    visitor.close()
    url.close()


def test_every_scaffold_text_is_in_every_shipped_language() -> None:
    assert set(SHIPPED) == {"nl", "en", "fr", "de"}
    for name, texts in scaffold_texts().items():
        assert set(texts) == set(SHIPPED) and all(str(t).strip() for t in texts.values()), name
    pages = {p.name.split(".")[0] for p in (SCAFFOLD / "content" / "pages").glob("*.md")}
    assert pages == {"help", "accessibility"}
    for page in pages:
        assert {p.name for p in (SCAFFOLD / "content" / "pages").glob(f"{page}.*")} == \
            {f"{page}.{lang}.md" for lang in SHIPPED}, page


def test_a_four_language_site_checks_without_language_warnings(four: Path, run_cli: Any) -> None:
    site, _ = load_site(four)
    assert site.config.languages == FOUR
    assert site.config.title.written == FOUR and site.incidents[0].title.written == FOUR
    code, _, err = run_cli("check", "--site", four, "--now", NOW)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if ": warning: " in line]
    assert [w for w in warnings if " text;" in w or " version (" in w] == []
    # What is left is the example addresses and the statement's placeholders, one per language.
    assert sorted(w.split(":")[0] for w in warnings if "placeholders to fill in" in w) == \
        [f"content/pages/accessibility.{lang}.md" for lang in sorted(FOUR)]


def test_the_four_language_pages_are_in_their_language(four: Path) -> None:
    out = four / "public"
    for lang, prefix, word in (("nl", "", "Onlinediensten"), ("fr", "fr/", "Services en ligne"),
                               ("de", "de/", "Online-Dienste"), ("en", "en/", "Online services")):
        home = (out / prefix / "index.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}"' in home and word in home, lang
        assert 'accessibility/">' in home


@pytest.mark.parametrize("lang", FOUR)
@pytest.mark.parametrize("kind", KINDS)
def test_the_four_language_pages_pass_axe(visit_four: Visitor, kind: str, lang: str) -> None:
    prefix = "" if lang == FOUR[0] else f"{lang}/"
    page = visit_four(prefix + KINDS[kind], "phone-light" if FOUR.index(lang) % 2 == 0 else "desktop-dark")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    assert visit_four.problems == []
    assert page.evaluate("document.documentElement.lang") == lang
    violations = results.response["violations"]
    assert not violations, axe_report(violations)


def test_a_language_the_theme_does_not_ship_is_said_and_left_to_check(tmp_path: Path, run_cli: Any) -> None:
    site = tmp_path / "status"
    code, _, err = run_cli("init", site, "--languages", "nl,es")
    assert code == 0, err
    assert err.splitlines()[0] == (
        "note: the scaffold has no texts in es (it has nl, en, fr, de): statusgen check lists each text that "
        "lacks es; the theme's own words (menus, statuses) show in English there until the site adds "
        "site_templates/i18n/es.yaml")
    assert sorted(p.name for p in (site / "content" / "pages").iterdir()) == ["accessibility.nl.md", "help.nl.md"]
    loaded, _ = load_site(site)
    assert loaded.config.title.written == ("nl",) and loaded.config.title["es"] == "Status van de dienstverlening"
    code, _, err = run_cli("check", "--site", site, "--now", NOW)
    assert code == 0
    assert "content/site.yaml:2: warning: title: no Spanish (es) text; readers of /es/ see the Dutch (nl) one" \
        in err.splitlines()
    assert "content/pages/help.nl.md:1: warning: page 'help': no Spanish (es) version (help.es.md in " \
           "content/pages/); readers of /es/help/ see the Dutch (nl) one" in err.splitlines()
    assert run_cli("check", "--site", site, "--now", NOW, "--strict")[0] == 1


def test_only_unshipped_languages_get_the_english_texts_for_all(tmp_path: Path, run_cli: Any) -> None:
    site = tmp_path / "status"
    code, _, err = run_cli("init", site, "--languages", "es,pt")
    assert code == 0, err
    assert err.startswith("note: the scaffold has no texts in es, pt (it has nl, en, fr, de): its texts are "
                          "written in English, one for every language; replace them with yours;")
    assert sorted(p.name for p in (site / "content" / "pages").iterdir()) == ["accessibility.md", "help.md"]
    loaded, _ = load_site(site)
    assert loaded.config.title.written == () and loaded.components[0].name["pt"] == "Website"
    code, _, err = run_cli("check", "--site", site, "--now", NOW)
    assert code == 0 and " text;" not in err


def test_a_given_title_is_one_text_for_every_language(tmp_path: Path) -> None:
    from statusgen.authoring.init import init_site

    init_site(tmp_path / "s", ["nl", "en"], title="Status $HOME: {x}")
    loaded, _ = load_site(tmp_path / "s")
    assert loaded.config.title.written == () and loaded.config.title["en"] == "Status $HOME: {x}"
    assert loaded.components[0].name.written == ("nl", "en")
