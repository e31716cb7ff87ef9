"""Where every page lives, and links between pages that work on any host.

Paths here are site paths without the base URL: `""` is the home page,
`"en/incidents/pdf-down/"` an incident page in English. Pages link to each other
relatively, so the site works from any folder and from `file://`; feeds, emails and
`hreflang` links use absolute URLs built from `base_url`.
"""

from __future__ import annotations

from collections.abc import Callable

from statusgen.content.model import SiteConfig


def lang_prefix(config: SiteConfig, lang: str) -> str:
    return "" if lang == config.default_language else f"{lang}/"


def home(config: SiteConfig, lang: str) -> str:
    return lang_prefix(config, lang)


def incident(config: SiteConfig, lang: str, incident_id: str) -> str:
    return f"{lang_prefix(config, lang)}incidents/{incident_id}/"


def component(config: SiteConfig, lang: str, component_id: str, page: int = 0) -> str:
    """`components/ID/`, its status and newest incidents (page 0), or `components/ID/page/N/`,
    numbered from the oldest as the history."""
    base = f"{lang_prefix(config, lang)}components/{component_id}/"
    return base if page == 0 else f"{base}page/{page}/"


def component_archive(config: SiteConfig, lang: str, component_id: str) -> str:
    """`components/ID/page/`, the folder that holds only that component's numbered pages."""
    return f"{component(config, lang, component_id)}page/"


def history(config: SiteConfig, lang: str, page: int = 0) -> str:
    """`history/`, the newest incidents (page 0), or `history/N/`, numbered from the oldest
    (`pages.history_pages`): a numbered page keeps its incidents as the site grows."""
    base = f"{lang_prefix(config, lang)}history/"
    return base if page == 0 else f"{base}{page}/"


def subscribe(config: SiteConfig, lang: str) -> str:
    return f"{lang_prefix(config, lang)}subscribe/"


def availability(config: SiteConfig, lang: str) -> str:
    return f"{lang_prefix(config, lang)}availability/"


def content_page(config: SiteConfig, lang: str, name: str) -> str:
    return f"{lang_prefix(config, lang)}{name}/"


def file_of(path: str) -> str:
    """The file a site path is written to: folders get their `index.html`."""
    return path + "index.html" if path == "" or path.endswith("/") else path


def relative(from_path: str, to_path: str) -> str:
    """A link from the page at `from_path` to `to_path` (both site paths); called for every
    link of every page, so it walks the parts once."""
    here = from_path.split("/")[:-1]  # the page's folders (`file_of` keeps them)
    there = to_path.split("/")
    common = 0
    for mine, theirs in zip(here, there[:-1]):
        if mine != theirs:
            break
        common += 1
    link = "../" * (len(here) - common) + "/".join(there[common:])
    return link or "./"


def relative_from(from_path: str) -> Callable[[str], str]:
    """`relative(from_path, target)` as a function of the target, for the many links of one
    page: the page's folders are found once, and a link is the first of them (deepest first)
    that the target is in, climbed up to."""
    here = from_path.split("/")[:-1]
    folders = [("/".join(here[:depth]) + "/" if depth else "", "../" * (len(here) - depth))
               for depth in range(len(here), -1, -1)]

    def link(to_path: str) -> str:
        for folder, up in folders:
            if to_path.startswith(folder):
                return up + to_path[len(folder):] or "./"
        raise AssertionError("every path is in the root folder")  # (folders ends with "")
    return link


def absolute(config: SiteConfig, path: str) -> str:
    return config.base_url + path
