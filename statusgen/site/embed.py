"""embed/banner.js: the banner partners put on their own portals.

A partner adds one tag, `<script src="BASE_URL/embed/banner.js" async></script>`, and
its page shows a banner while an incident or a maintenance is active. The script reads
the status site's own `api/v2/summary.json` (the Statuspage shape), so it needs no
server of its own, and it works against any mirror of that file.

The script is the theme's `embed/banner.js` (a site can override it in its own
`site_templates/embed/`) with everything it needs baked in at build time: the summary's
URL and the status page's URL per language, and the few fixed words it shows. That
keeps it to one small request, with no second file to fetch for the words and no
library, and its words come from the same translations as the site's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from statusgen.site import api, urls
from statusgen.errors import BuildError
from statusgen.content.model import SiteConfig
from statusgen.site.state import SiteState
from statusgen.site.theme import Theme, Translator

BANNER = "embed/banner.js"
CONFIG_SLOT = "/*CONFIG*/"
SUMMARY = api.FOLDER + "summary.json"
"""Statuspage's summary, under each language's home (`urls.home`): the banner reads it there."""
ACTIVE_STATUSES = api.UNRESOLVED + api.ACTIVE
"""The statuses an item the banner shows can have (Statuspage's unresolved ones)."""


def embed_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → file content."""
    config = state.site.config
    settings = banner_settings(config, theme)
    return {BANNER: banner_script(theme.find(BANNER), settings).encode("ascii")}


def banner_settings(config: SiteConfig, theme: Theme) -> dict[str, Any]:
    """What the script knows before it fetches anything, per language of the site.

    Keys are one letter and URLs are put together in the script: the file is fetched
    by every visitor of every partner page.
    """
    return {
        "a": SUMMARY,
        "b": config.base_url,
        "d": config.default_language,
        "l": {lang: _language_settings(config, theme, lang) for lang in config.languages},
    }


def _language_settings(config: SiteConfig, theme: Theme, lang: str) -> dict[str, Any]:
    t = Translator(lang, theme.messages(lang), config.timezone)
    return {
        "p": urls.home(config, lang),
        "x": t("embed.dismiss"),
        "c": t("colon", label=t("current_status")),
        "m": [t("embed.more", count=_Slot(1)), t("embed.more", count=_Slot(2))],
        "s": {status: t(f"status.{status}") for status in ACTIVE_STATUSES},
    }


class _Slot(int):
    """A count that picks its plural form like the number it is, but prints as `#`.

    The script knows how many more items there are only when it runs, so it gets the
    singular and plural texts with a `#` where the number goes.
    """

    def __format__(self, spec: str) -> str:
        return "#"


def banner_script(template: Path, settings: dict[str, Any]) -> str:
    """The template with the settings in place of `/*CONFIG*/`, comments and indentation gone.

    ASCII only (non-ASCII words as `\\u` escapes): partners' hosts may serve the file
    without a charset, and the browser would then read it in the host page's encoding.
    """
    source = template.read_text(encoding="utf-8")
    if source.count(CONFIG_SLOT) != 1:
        raise BuildError(f"{template}: expected {CONFIG_SLOT} exactly once, where the settings go")
    if not source.isascii():
        raise BuildError(f"{template}: write non-ASCII characters as \\u escapes or HTML entities")
    baked = json.dumps(settings, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return minify(source).replace(CONFIG_SLOT, baked)


def minify(source: str) -> str:
    """Drop whole-line `//` comments, indentation and blank lines.

    Line breaks stay, so JavaScript's automatic semicolons work as in the source; the
    template is written so that nothing else needs to change.
    """
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"
