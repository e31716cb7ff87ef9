"""`content/pages/NAME.md` and `NAME.LANG.md`: extra pages such as help and escalation."""

from __future__ import annotations

import re
from pathlib import Path

from statusgen.errors import Problems
from statusgen.content.fields import Fields, did_you_mean
from statusgen.content.model import Page, SiteConfig
from statusgen.content.yamlsource import read_document

PAGE_NAME = re.compile(r"(?P<name>[a-z0-9][a-z0-9-]*)(\.(?P<lang>[a-z]{2,3}(-[A-Z]{2})?))?\.md\Z")
ACCESSIBILITY_PAGE = "accessibility"
"""The page every footer links to as the accessibility statement (EU Directive 2016/2102),
when the site has it; the theme's header menu leaves it out."""
RESERVED = {"incidents", "history", "components", "api", "embed", "static", "subscribe"}


def load_pages(site_dir: Path, config: SiteConfig, problems: Problems) -> tuple[Page, ...]:
    """Every page in every site language. A language without a file of its own shows the
    default language's (else the first language's that has one), and its `Page` says so in
    `written_in`, so the page can be marked as being in that language."""
    folder = site_dir / "content" / "pages"
    found: dict[tuple[str, str], Page] = {}  # by (name, language); "" for NAME.md
    for file in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        page = _load_page(site_dir, file, config, problems)
        if page:
            found[(page.name, page.lang)] = page
    pages = []
    for name in sorted({name for name, _ in found}):
        default = found.get((name, config.default_language)) or found.get((name, "")) \
            or next(found[name, lang] for lang in config.languages if (name, lang) in found)
        for lang in config.languages:
            page = found.get((name, lang)) or found.get((name, "")) or default
            pages.append(Page(name, lang, page.title, page.body, page.order, page.path, written_in=page.lang))
    return tuple(pages)


def _load_page(site_dir: Path, file: Path, config: SiteConfig, problems: Problems) -> Page | None:
    path = file.relative_to(site_dir).as_posix()
    match = PAGE_NAME.match(file.name)
    if not match:
        problems.add(path, 1, "expected a file name like 'help.md' or 'help.nl.md' "
                              f"(lowercase letters, digits, '-'); found {file.name!r}")
        return None
    name, lang = match["name"], match["lang"]
    if name in RESERVED:
        problems.add(path, 1, f"page name {name!r} is used by the site itself; choose another")
        return None
    if lang is not None and lang not in config.languages:
        problems.add(path, 1, f"unknown language {lang!r}{did_you_mean(lang, config.languages)}; "
                              f"the site has {', '.join(config.languages)}")
        return None
    document = read_document(site_dir, path, problems)
    if document is None:
        return None
    fields = Fields(path, document.data, problems, what="page settings (title and order)")
    fields.reject_unknown(("title", "order"))
    title = fields.string("title", "the page title", required=True)
    order = fields.integer("order", 100)
    if title is None:
        return None
    return Page(name, lang or "", title, document.body, order, path)
