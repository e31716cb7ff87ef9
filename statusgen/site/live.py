"""live.js: the home, component and incident pages stay current between two builds.

A static page is as fresh as its last build. The theme's `live/live.js`, served once per
language at that language's home (`live.js`, `en/live.js`), polls the language's own
`api/v2/summary.json` and updates the page in place: the overall banner, each
component's status, the active incidents, and maintenance windows that start or end by
the clock. It is progressive enhancement: the pages carry only data attributes on
elements they already have, an empty live region, a hidden freshness line and the
`<script defer>` tag, so without JavaScript (or without the API) they are what the build
made.

The settings and words are baked into the file as `embed/banner.js` has them (one file,
no inline script: a `Content-Security-Policy: default-src 'self'` works, and there is no
per-page weight), one copy per language so each reader fetches only its own words. Unlike
the banner it is UTF-8: only the site's own UTF-8 pages load it, and a script without a
charset takes its page's. The
date format is the theme's `format_datetime` turned into a template with the locale's
month abbreviations and the zone's abbreviations (`CET`, `CEST`), so a time the script
writes reads as the build would write it.

How the script's maintenance flip agrees with the next build: the page gives each window
(not cancelled) its start, end and status as built; the script shows the later, in
`state.MAINTENANCE_ORDER`, of that status, the status summary.json gives, and the status
the window's times give now; the same rule as `state.maintenance_status`, whose explicit
updates can only move a window further along.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from babel import Locale

from statusgen.content.model import COMPONENT_STATUSES, SiteConfig
from statusgen.site import api, urls
from statusgen.site.embed import CONFIG_SLOT, minify
from statusgen.errors import BuildError
from statusgen.site.state import DESCRIPTIONS, MAINTENANCE_ORDER, SiteState
from statusgen.site.theme import Theme, Translator

SCRIPT = "live.js"
"""At each language's home, beside its `api/v2/`."""
TEMPLATE = "live/live.js"
STATUSES = api.UNRESOLVED + ("resolved",) + MAINTENANCE_ORDER
IMPACTS = ("none", "minor", "major", "critical")
PATTERN = re.compile(r"'[^']*'|d{1,2}|M{3}|y+|H{2}|m{2}|[a-zA-Z]+")
"""The date fields the script can write: day, abbreviated month, year, hour, minute."""


def live_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → script, one per language; none when `live` is off."""
    config = state.site.config
    if not config.live_seconds:
        return {}
    source = theme.find(TEMPLATE).read_text(encoding="utf-8")
    if source.count(CONFIG_SLOT) != 1:
        raise BuildError(f"{TEMPLATE}: expected {CONFIG_SLOT} exactly once, where the settings go")
    code = join_lines(minify(source))
    return {urls.home(config, lang) + SCRIPT: code.replace(CONFIG_SLOT, json.dumps(
        live_settings(config, theme, lang, state.now), ensure_ascii=False, sort_keys=True,
        separators=(",", ":"))).encode("utf-8") for lang in config.languages}


def join_lines(code: str) -> str:
    """Join a line to the next where no statement can end (after `,` `{` `(` `;` `=>`
    `&&` `||`): automatic semicolons work as in the source, in fewer bytes."""
    return re.sub(r"(?<=[,{(;>&|])\n", "", code)


def live_settings(config: SiteConfig, theme: Theme, lang: str, now: datetime) -> dict[str, Any]:
    """What the script of one language knows before it fetches anything.

    One-letter keys: the file is fetched by every reader; live.js's header lists them.
    """
    t = Translator(lang, theme.messages(lang), config.timezone)
    home = urls.home(config, lang)
    return {
        "i": config.live_seconds,
        "a": api.FOLDER + "summary.json",
        "b": config.base_url,
        "r": "../" * home.count("/"),
        "z": config.timezone.key,
        "f": date_template(t("format_datetime")),
        "n": month_abbreviations(lang),
        "o": zone_names(config, now),
        "w": words(t),
    }


def words(t: Translator) -> dict[str, Any]:
    """Every word the script writes, from the theme's translations."""
    live = {short: t(f"live.{key}", **{name: "{" + name[0] + "}" for name in names})
            for short, key, names in (("u", "updated", ("time",)), ("k", "component", ("name", "status")),
                                      ("o", "opened", ("title",)), ("x", "changed", ("title", "status")),
                                      ("r", "resolved", ("title",)), ("b", "started", ("title",)),
                                      ("e", "completed", ("title",)))}
    return {
        "c": {status: t(f"component_status.{status}") for status in COMPONENT_STATUSES},
        "d": {indicator: t(f"indicator.{indicator}") for indicator in DESCRIPTIONS},
        "s": {status: t(f"status.{status}") for status in STATUSES},
        "p": {impact: t(f"impact.{impact}") for impact in IMPACTS},
        "h": {"active": t("active_incidents"), "in-progress": t("maintenance_in_progress")},
        "t": t("posted"),
        **live,
    }


def date_template(pattern: str) -> str:
    """The theme's babel pattern (`d MMM y, HH:mm`) as the script fills it in: `{day} {M}
    {year}, {H}:{m}`; a field the script cannot write (a weekday) is left out."""
    fields = {"d": "{day}", "dd": "{D}", "MMM": "{M}", "HH": "{H}", "mm": "{m}"}

    def field(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("'"):
            return token[1:-1] or "'"
        if token.startswith("y"):
            return "{year}"
        return fields.get(token, "")
    return PATTERN.sub(field, pattern).strip(" ,")


def month_abbreviations(lang: str) -> list[str]:
    """The abbreviated month names babel writes for `MMM`, January first."""
    names = Locale.parse(lang.replace("-", "_")).months["format"]["abbreviated"]
    return [names[month] for month in range(1, 13)]


def zone_names(config: SiteConfig, now: datetime) -> dict[str, str]:
    """The zone's abbreviation by UTC offset in minutes, around `now`: what the build
    writes after a time (`CET`, `CEST`), which the browser's Intl does not give alike."""
    names: dict[str, str] = {}
    for week in range(-53, 54):
        local = (now + timedelta(weeks=week)).astimezone(config.timezone)
        offset = local.utcoffset() or timedelta(0)
        names.setdefault(str(int(offset.total_seconds() // 60)), local.tzname() or "")
    return dict(sorted(names.items()))
