"""The service's own pages, from `site_templates/service/`, in the site's look and languages.

Templates are looked up as the site's pages are: the site's own `site_templates/service/`
first, then the theme's, which an override can extend as `!theme/NAME`. The pages link
the status site's stylesheet by its absolute URL (so they look like the site, and the
Content-Security-Policy names one origin for styles) and carry no script.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jinja2

from statusgen.site import urls
from statusgen.errors import BuildError
from statusgen.content.model import Site
from statusgen.content.pages import ACCESSIBILITY_PAGE
from statusgen.site.theme import Theme, Translator


@dataclass(frozen=True)
class Entry:
    """A checkbox on a form: a component, or a group with its components."""

    id: str
    name: str
    components: tuple[Entry, ...] = ()
    is_group: bool = False


class Pages:
    def __init__(self, site: Site, theme: Theme, base_path: str) -> None:
        self.site = site
        self.theme = theme
        self.base_path = base_path
        self._translators: dict[str, Translator] = {}

    def translator(self, lang: str) -> Translator:
        if lang not in self._translators:
            self._translators[lang] = Translator(lang, self.theme.messages(lang), self.site.config.timezone)
        return self._translators[lang]

    def render(self, name: str, lang: str, alternates: list[tuple[str, str, str]] | None = None,
               **context: Any) -> str:
        """A page in `lang`; `alternates` are (code, name, link) for the language switch."""
        config = self.site.config
        try:
            return service_environment(self.theme).get_template(name).render(
                t=self.translator(lang), lang=lang, site_title=config.title[lang],
                status_url=self.status_url(lang), accessibility_url=self.accessibility_url(lang),
                stylesheet=urls.absolute(config, "static/style.css"),
                favicon=urls.absolute(config, "static/favicon.svg"),
                base=self.base_path, alternates=alternates or [], **context)
        except jinja2.TemplateSyntaxError as error:
            raise BuildError(f"{error.filename or name}:{error.lineno}: template error: {error.message}") from None
        except jinja2.TemplateError as error:
            raise BuildError(f"service template {name!r}: {error}") from None

    def status_url(self, lang: str) -> str:
        """The status site's home page in `lang`."""
        return urls.absolute(self.site.config, urls.home(self.site.config, lang))

    def accessibility_url(self, lang: str) -> str | None:
        """The status site's accessibility statement in `lang`, if it has one (the content
        page `accessibility`, as the site's own footer links it)."""
        if not any(page.name == ACCESSIBILITY_PAGE and page.lang == lang for page in self.site.pages):
            return None
        return urls.absolute(self.site.config, urls.content_page(self.site.config, lang, ACCESSIBILITY_PAGE))

    def alternates(self, endpoint: str, args: dict[str, str]) -> list[tuple[str, str, str]]:
        """The same page in every language: its link keeps the query (a token) and sets `lang`."""
        if len(self.site.config.languages) < 2:
            return []
        return [(code, self.translator(code).language_name,
                 f"{self.base_path}{endpoint}?{urlencode({**args, 'lang': code})}")
                for code in self.site.config.languages]

    def entries(self, lang: str) -> list[Entry]:
        """The components to choose from, in page order, grouped as on the status page."""
        site = self.site
        found = []
        for entry_id in site.layout:
            group = site.groups_by_id.get(entry_id)
            if group is None:
                found.append(Entry(entry_id, site.components_by_id[entry_id].name[lang]))
                continue
            children = tuple(Entry(cid, site.components_by_id[cid].name[lang]) for cid in group.components)
            found.append(Entry(group.id, group.name[lang], children, is_group=True))
        return found

    def component_names(self, components: tuple[str, ...] | None, lang: str) -> list[str]:
        """What a subscriber follows, named: groups and components as they chose them."""
        names = []
        for ref in components or ():
            item = self.site.groups_by_id.get(ref) or self.site.components_by_id.get(ref)
            if item is not None:
                names.append(item.name[lang])
        return names


@functools.lru_cache(maxsize=16)
def service_environment(theme: Theme) -> jinja2.Environment:
    """Jinja for `site_templates/service/`: the site's own first, the theme's as `!theme/`."""
    return theme.jinja("service")
