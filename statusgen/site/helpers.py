"""The helpers page templates call: `status`, `impact`, `update_text`, `time`, `uptime_bars`,
and for texts that may be in another language than the page `text`, `lang_attr`,
`prose_text` and `language_note`.

One `TemplateHelpers` per language, shared by all its pages: the same status, time or
uptime bars recur on thousands of pages of a large site, so each is rendered once and
the markup reused (the bars, with a memo, across builds while their figures are the same).

Language of parts (WCAG 3.1.2): a localised text that was not written in the page's
language shows another language's text (`Text.lang_of`), and the element holding it says
so, so a screen reader reads it with the right voice: `text(name)` is the text itself,
inline, in a `<span lang>` when it falls back; `lang_attr(value)` is ` lang="en"` (or
nothing) for a block element of the template's own; `prose_text` and `update_text` wrap
Markdown in a `<div lang>`. `language_note(...)` is the short sentence in the page's
language that tells sighted readers too: once per page or block, never in lists of names.
A plain string (a name such as "eID") is the same in every language and never marked.
"""

from __future__ import annotations

from datetime import datetime

from babel.lists import format_list
from markupsafe import Markup, escape

from statusgen.content.model import Incident, Page, Text, Update
from statusgen.markup import render_prose
from statusgen.site.fingerprints import bars_kind
from statusgen.site.incremental import RenderMemo
from statusgen.site.templating import escape_text
from statusgen.site.theme import Theme, Translator
from statusgen.site.uptime import ComponentUptime

_STATUS = Markup('<span class="status s-{0}"><span class="icon" aria-hidden="true"></span>{1}</span>')
_IMPACT = Markup('<span class="impact i-{0}">{1}</span>')
_AUTOMATIC = Markup("<p>{0}</p>")
_LANG = Markup(' lang="{0}"')
_SPAN = Markup('<span lang="{0}">{1}</span>')
_DIV = Markup('<div lang="{0}">{1}</div>')
_NOTE = Markup('<p class="lang-note" lang="{0}">{1}</p>')
_NOTHING = Markup("")
"""The note is in the page's language, and says so itself: it may sit inside a block that
is marked as another language's (a content page's `<article lang>`)."""

Shown = Text | Page | Incident | Update | None
"""What may be in another language: a text, a content page, an incident (its title, update
texts and post-mortem), an update (its text); None is nothing."""


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
        """What an update says: its text (in a `<div lang>` when it is another language's),
        or for a maintenance's automatic step the theme's."""
        if not update.automatic:
            return self.prose_text(update.body, incident.title[self.lang])
        key = ("automatic", update.status)
        if key not in self.snippets:
            self.snippets[key] = _AUTOMATIC.format(self.t("automatic." + update.status))
        return self.snippets[key]

    def time(self, moment: datetime) -> Markup:
        """A moment as the reader's words in `<time datetime>`; most moments are on a page
        or two, so this is made often: an f-string, not `Markup.format` (three times as slow),
        and not kept (one per update: 8 MiB per language at 10,000 incidents; the translator
        keeps the words of each day and time of day). An ISO moment is digits, `-`, `:`, `+`,
        `.` and `T`: nothing to escape."""
        return Markup(f'<time datetime="{moment.isoformat()}">{escape_text(self.t.datetime(moment))}</time>')

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

    # --- Language of parts ------------------------------------------------------------

    def lang_of(self, value: Text | Page) -> str:
        """The language `value` is shown in on this language's pages."""
        if isinstance(value, Page):
            return value.written_in or self.lang
        return value.lang_of(self.lang)

    def lang_attr(self, value: Text | Page | None) -> Markup:
        """` lang="en"` for the element that holds `value` when it is in another language
        than the page; else nothing."""
        if value is None:
            return _NOTHING
        real = self.lang_of(value)
        return _NOTHING if real == self.lang else _LANG.format(real)

    def text(self, value: Text) -> Markup:
        """`value` in this language as inline text, in a `<span lang>` when it falls back;
        made once per text (a component's name recurs on every page)."""
        if not value.is_fallback(self.lang):
            return escape(value[self.lang])
        key = ("text", value)
        if key not in self.snippets:
            self.snippets[key] = _SPAN.format(value.lang_of(self.lang), value[self.lang])
        return self.snippets[key]

    def prose_text(self, value: Text, label: str) -> Markup:
        """`value` as Markdown (`render_prose`), in a `<div lang>` when it falls back."""
        rendered = render_prose(value[self.lang], label)
        real = value.lang_of(self.lang)
        return rendered if real == self.lang or not rendered else _DIV.format(real, rendered)

    def language_note(self, *values: Shown, message: str = "note") -> Markup:
        """"This text is not available in Dutch; it is shown in English." when any of
        `values` is shown in another language on this page (naming every language it is
        shown in); else nothing. `message="page_note"` says it of parts of a page (an
        incident's page, where some texts may be in the page's language)."""
        shown = {real for value in values for real in self._shown_languages(value)} - {self.lang}
        if not shown:
            return _NOTHING
        key = (message, tuple(sorted(shown)))
        if key not in self.snippets:
            names = format_list([self.t.language(code) for code in sorted(shown)], locale=self.t.locale)
            self.snippets[key] = _NOTE.format(self.lang, self.t("language_parts." + message, missing=self.t.language(self.lang),
                                                     shown=names))
        return self.snippets[key]

    def _shown_languages(self, value: Shown) -> list[str]:
        if value is None:
            return []
        if isinstance(value, Incident):  # (one call per page: its parts without a call each)
            lang = self.lang
            found = [value.title.lang_of(lang), *(update.body.lang_of(lang) for update in value.updates
                                                   if not update.automatic)]
            return found if value.postmortem is None else [*found, value.postmortem.lang_of(lang)]
        if isinstance(value, Update):
            return [] if value.automatic else [value.body.lang_of(self.lang)]
        return [self.lang_of(value)]
