"""Texts that lack a site language: where a page falls back to another language.

    Site ──untranslated──▶ (path, line, message) for every localised text missing a language

`site_advice` turns each into a warning (`check --strict` into an error, for teams that
publish every text in every language). One warning per text, at the line of its key, naming
the missing languages and the language readers see instead, e.g.

    content/site.yaml:1: warning: title: no English (en) text; readers of /en/ see the Dutch (nl) one

A plain string is the same text in every language on purpose (a name such as "eID") and
is never listed; neither is an incident's Markdown body after the front matter, which is
one post-mortem for every language by design (write `postmortem: {nl: ..., en: ...}` to
give one per language, and then a missing language is listed). Covered: content/site.yaml
(title, description, every contact's hours), components.yaml (names and descriptions of
groups and components), every incident (title, every update's body, `postmortem:`), the
incident templates' title and body (they become an incident's texts; a template's
description is shown only to ops) and the content pages: `NAME.LANG.md` in some languages
but not all is listed at line 1 of the file the other languages show (`NAME.md` is every
language's). Linear in the number of texts.
"""

from __future__ import annotations

from collections.abc import Iterator

from babel import Locale, UnknownLocaleError

from statusgen.content.catalog import COMPONENTS_PATH
from statusgen.content.config import CONFIG_PATH
from statusgen.content.model import Page, Site, SiteConfig, Text
from statusgen.content.pages import PAGE_NAME
from statusgen.site import urls

Found = tuple[str, int, str]
"""(path relative to the site, line, message)."""


def untranslated(site: Site) -> Iterator[Found]:
    """Every localised text of `site` that lacks one of its languages."""
    config = site.config
    yield from _settings(config)
    for item in [*site.groups, *site.components]:
        yield from _missing(config, COMPONENTS_PATH, f"name of {item.id!r}", item.name)
        yield from _missing(config, COMPONENTS_PATH, f"description of {item.id!r}", item.description)
    for incident in site.incidents:
        yield from _missing(config, incident.path, "title", incident.title)
        for update in incident.updates:
            yield from _missing(config, incident.path, "body", update.body)
        yield from _missing(config, incident.path, "postmortem", incident.postmortem)
    for template in site.templates:
        yield from _missing(config, template.path, "title", template.title)
        yield from _missing(config, template.path, "body", template.body)
    yield from _pages(config, site.pages)


def _settings(config: SiteConfig) -> Iterator[Found]:
    yield from _missing(config, CONFIG_PATH, "title", config.title)
    yield from _missing(config, CONFIG_PATH, "description", config.description)
    for contact in config.contacts:
        yield from _missing(config, CONFIG_PATH, f"contacts.{contact.key}.hours", contact.hours)


def _missing(config: SiteConfig, path: str, key: str, text: Text | None) -> Iterator[Found]:
    if text is None or not text.missing:
        return
    shown = text.lang_of(text.missing[0])  # every missing language shows the same one
    yield (path, text.line or 1,
           f"{key}: no {_names(text.missing)} text; {_readers(config, text.missing)} see the "
           f"{language_name(shown)} ({shown}) one")


def _pages(config: SiteConfig, pages: tuple[Page, ...]) -> Iterator[Found]:
    """A page written as NAME.LANG.md for some languages: the others show another's file."""
    missing: dict[tuple[str, str], list[str]] = {}  # (name, file shown instead) -> languages
    for page in pages:
        match = PAGE_NAME.match(page.path.rpartition("/")[2])
        written = match["lang"] if match else None
        if written is not None and written != page.lang:
            missing.setdefault((page.name, page.path), []).append(page.lang)
    for (name, path), languages in missing.items():
        shown = PAGE_NAME.match(path.rpartition("/")[2])["lang"]  # type: ignore[index]
        wanted = " or ".join(f"{name}.{lang}.md" for lang in languages)
        yield (path, 1, f"page {name!r}: no {_names(tuple(languages))} version ({wanted} in "
                        f"{path.rpartition('/')[0]}/); {_readers(config, tuple(languages), name)} see "
                        f"the {language_name(shown)} ({shown}) one")


def _names(languages: tuple[str, ...]) -> str:
    return _listed([f"{language_name(lang)} ({lang})" for lang in languages], "or")


def _readers(config: SiteConfig, languages: tuple[str, ...], page: str = "") -> str:
    """`readers of /en/`: where the readers of those languages are."""
    return "readers of " + _listed([f"/{urls.content_page(config, lang, page) if page else urls.home(config, lang)}"
                                    for lang in languages], "and")


def _listed(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def language_name(code: str) -> str:
    """`Dutch` for `nl`: the language's English name (the command line speaks English)."""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code
