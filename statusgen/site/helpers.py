"""The helpers page templates call: `status`, `impact`, `update_text`, `time`, `uptime_bars`.

One `TemplateHelpers` per language, shared by all its pages: the same status, time or
uptime bars recur on thousands of pages of a large site, so each is rendered once and
the markup reused (the bars, with a memo, across builds while their figures are the same).
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup

from statusgen.content.model import Incident, Update
from statusgen.markup import render_prose
from statusgen.site.fingerprints import bars_kind
from statusgen.site.incremental import RenderMemo
from statusgen.site.theme import Theme, Translator
from statusgen.site.uptime import ComponentUptime

_STATUS = Markup('<span class="status s-{0}"><span class="icon" aria-hidden="true"></span>{1}</span>')
_TIME = Markup('<time datetime="{0}">{1}</time>')
_IMPACT = Markup('<span class="impact i-{0}">{1}</span>')
_AUTOMATIC = Markup("<p>{0}</p>")


class TemplateHelpers:
    """What templates call to show a status, an impact, an update, a time or uptime bars."""

    def __init__(self, theme: Theme, t: Translator, lang: str, uptime: dict[str, ComponentUptime],
                 memo: RenderMemo | None, site_key: bytes, uptime_keys: dict[str, bytes]) -> None:
        self.theme, self.t, self.lang, self.uptime = theme, t, lang, uptime
        self.memo, self.site_key, self.uptime_keys = memo, site_key, uptime_keys
        self.bars: dict[str, Markup] = {}
        self.snippets: dict[object, Markup] = {}  # status and time markup recur on many pages

    def status(self, value: str) -> Markup:
        """A component status as words with a symbol, never as colour alone."""
        if value not in self.snippets:
            self.snippets[value] = _STATUS.format(value, self.t("component_status." + value))
        return self.snippets[value]

    def impact(self, incident: Incident) -> Markup:
        """An incident's impact (with its priority, if it has one), or "Maintenance"."""
        key = ("impact", incident.is_maintenance, incident.impact, incident.priority)
        if key not in self.snippets:
            if incident.is_maintenance:
                self.snippets[key] = _IMPACT.format("maintenance", self.t("maintenance"))
            else:
                label = self.t("impact." + incident.impact)
                self.snippets[key] = _IMPACT.format(incident.impact,
                                                    f"{incident.priority} · {label}" if incident.priority else label)
        return self.snippets[key]

    def update_text(self, incident: Incident, update: Update) -> Markup:
        """What an update says: its text, or for a maintenance's automatic step the theme's."""
        if not update.automatic:
            return render_prose(update.body[self.lang], incident.title[self.lang])
        key = ("automatic", update.status)
        if key not in self.snippets:
            self.snippets[key] = _AUTOMATIC.format(self.t("automatic." + update.status))
        return self.snippets[key]

    def time(self, moment: datetime) -> Markup:
        if moment not in self.snippets:
            self.snippets[moment] = _TIME.format(moment.isoformat(), self.t.datetime(moment))
        return self.snippets[moment]

    def uptime_bars(self, component_id: str) -> Markup:
        """A component's uptime bars, rendered once per language and reused on every page
        (and, with a memo, by the next build while its figures are the same)."""
        if component_id not in self.bars:
            def make() -> Markup:
                return Markup(self.theme.render("uptime.html", t=self.t, lang=self.lang,
                                                figures=self.uptime[component_id]))
            self.bars[component_id] = make() if self.memo is None else self.memo.recall(
                bars_kind(self.lang), component_id, (self.site_key, self.uptime_keys[component_id]), make)
        return self.bars[component_id]
