"""The validated content of a site, as frozen dataclasses.

Everything here has been checked by `statusgen.content.load`; the rest of the code trusts it.
Times are timezone-aware and in UTC; they are shown in the site timezone only when
rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed", "cancelled")
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
"""Component statuses from best to worst: a component shows the worst that applies."""

IMPACTS = ("none", "minor", "major", "critical")
PRIORITIES = {"P1": "critical", "P2": "major", "P3": "minor", "P4": "none"}
IMPACT_STYLES = ("priority", "impact")
"""How `statusgen import` writes an impact (`import.impact_as` in content/site.yaml)."""
KINDS = ("incident", "maintenance")


def severity(component_status: str) -> int:
    """Position of a component status from best (0) to worst."""
    return COMPONENT_STATUSES.index(component_status)


@dataclass(frozen=True)
class Text:
    """Text in every language of the site (missing ones filled from the first language).

    `written` says which languages the file gave: empty for a plain string, which is
    the same text in every language on purpose (a name such as "eID"); otherwise a
    language not in it shows the text of another (`lang_of`), and a page marks that
    part with the language it is really in (WCAG 3.1.2)."""

    values: tuple[tuple[str, str], ...]
    written: tuple[str, ...] = ()
    """The languages the file wrote, in the site's order; () for a plain string."""
    line: int = field(default=0, repr=False, compare=False)
    """The line it was written on (for `check`'s warnings); not content."""

    def __getitem__(self, lang: str) -> str:
        for key, value in self.values:
            if key == lang:
                return value
        return self.values[0][1]

    def lang_of(self, lang: str) -> str:
        """The language the text shown for `lang` is written in: `lang` itself, or the
        language it fell back to (the site's first if written, else the first written)."""
        if not self.written or lang in self.written:
            return lang
        first = self.values[0][0]
        return first if first in self.written else self.written[0]

    def is_fallback(self, lang: str) -> bool:
        """Whether the text shown for `lang` is in another language."""
        return self.lang_of(lang) != lang

    @property
    def missing(self) -> tuple[str, ...]:
        """The site's languages this text was not written in (none for a plain string)."""
        if not self.written:
            return ()
        return tuple(lang for lang, _ in self.values if lang not in self.written)

    @classmethod
    def same(cls, languages: tuple[str, ...], value: str) -> Text:
        return cls(tuple((lang, value) for lang in languages))


@dataclass(frozen=True)
class Component:
    id: str
    name: Text
    description: Text | None
    group: str | None
    position: int
    start_date: date | None = None
    showcase: bool = True
    only_show_if_degraded: bool = False
    aliases: tuple[str, ...] = ()
    """Ids this component had elsewhere (a Statuspage component id): imports and
    subscriber lists from there find it by them; never shown."""
    sla: float | None = None
    """The availability target in percent (`sla:` here, else the group's, else the site's)."""


@dataclass(frozen=True)
class Group:
    id: str
    name: Text
    description: Text | None
    components: tuple[str, ...]
    position: int
    aliases: tuple[str, ...] = ()
    sla: float | None = None
    """The availability target its components inherit (`sla:`), in percent."""


@dataclass(frozen=True)
class Update:
    id: str
    at: datetime
    status: str
    body: Text
    components: tuple[tuple[str, str], ...] = ()
    """Component statuses that change from this update on (group ids expanded)."""
    notify: bool = True
    line: int = 0
    automatic: bool = False
    """A step a maintenance window took on its own (no text of its own)."""
    at_line: int = field(default=0, repr=False, compare=False)
    """The line of `at:`, where a warning about the time points (not part of the content)."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Incident:
    """An incident or a maintenance window, from one file; `id` is the file name."""

    id: str
    path: str
    kind: str
    title: Text
    impact: str
    priority: str | None
    components: tuple[tuple[str, str], ...]
    """Affected components and their status from the start (group ids expanded)."""
    updates: tuple[Update, ...]
    """Sorted by time, oldest first."""
    window: Window | None = None
    postmortem: Text | None = None
    aliases: tuple[str, ...] = ()
    """Ids this incident had elsewhere (a Statuspage incident id or shortlink code, a
    cState file name): a rerun of an import finds the file by them, and the build serves
    a redirect at `incidents/ALIAS/` so old links keep working."""
    aliases_line: int = field(default=0, repr=False, compare=False)

    @cached_property
    def is_maintenance(self) -> bool:
        return self.kind == "maintenance"

    @cached_property
    def component_ids(self) -> tuple[str, ...]:
        return tuple(cid for cid, _ in self.affected)

    @cached_property
    def affected(self) -> tuple[tuple[str, str], ...]:
        """Every component the incident touched, with the worst status it gave it."""
        worst: dict[str, str] = {}
        for cid, status in [*self.components, *(c for u in self.updates for c in u.components)]:
            if cid not in worst or severity(status) > severity(worst[cid]):
                worst[cid] = status
        return tuple(worst.items())


@dataclass(frozen=True)
class Template:
    """An incident or maintenance template, `content/templates/NAME.yaml`: what
    `statusgen new incident --template NAME` fills in (see content/templates.py)."""

    name: str
    path: str
    kind: str
    title: Text
    """With `{placeholder}`s; `{{` and `}}` stand for literal braces."""
    body: Text
    """The first update's text, with placeholders like the title."""
    status: str
    """The first update's status."""
    impact: str | None
    """As it will be written: P1..P4 or none|minor|major|critical; None lets the statuses decide."""
    components: tuple[tuple[str, str], ...]
    """Affected components and their status (group ids expanded)."""
    notify: bool = True
    description: Text | None = None
    duration: timedelta | None = None
    """A maintenance window's length, so `--start` alone gives the window."""
    placeholders: tuple[str, ...] = ()
    """The placeholder names in title and body, in order of first use."""


@dataclass(frozen=True)
class Contact:
    key: str
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    hours: Text | None = None


@dataclass(frozen=True)
class Page:
    """A content page in one language."""

    name: str
    lang: str
    title: str
    body: str
    order: int
    path: str
    written_in: str = ""
    """The language its title and body are really in: `lang` when the page has a file in
    it, another language when it fell back to that one's file (marked on the page, WCAG
    3.1.2), or "" for a `NAME.md` without a language, which is for every language alike."""

    @property
    def is_fallback(self) -> bool:
        """Whether this language shows another language's page."""
        return bool(self.written_in) and self.written_in != self.lang


@dataclass(frozen=True)
class NotifyConfig:
    sender: str | None = None
    unsubscribe_mailto: str | None = None
    reminders: tuple[int, ...] = (24 * 60,)
    """Minutes before a maintenance window opens at which a reminder goes out."""
    smtp: tuple[tuple[str, str], ...] = ()
    """Non-secret SMTP settings (host, port, security, rate, timeout, ca_file); the environment overrides them."""


@dataclass(frozen=True)
class SiteConfig:
    title: Text
    description: Text | None
    base_url: str
    languages: tuple[str, ...]
    timezone: ZoneInfo
    contacts: tuple[Contact, ...] = ()
    subscriptions_url: str | None = None
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    history_days: int = 14
    page_size: int = 20
    unresolved_after_days: int = 14
    """`warnings.unresolved_after_days`: `check` warns about an incident open longer."""
    import_impact_as: str = "priority"
    """`import.impact_as`: an imported impact written as a priority (P1-P4) or as the impact."""
    sla: float | None = None
    """`sla:`: the availability target (percent) of components that set none."""
    live_seconds: int = 60
    """`live.interval`: seconds between the live script's polls; 0 turns the script off."""
    lines: tuple[tuple[str, int], ...] = field(default=(), repr=False, compare=False)
    """The line of each setting in content/site.yaml by dotted key (`notify.smtp.port`),
    for warnings about valid settings; not content, so no page depends on it."""

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def line_of(self, key: str) -> int:
        """The line of setting `key`, else of the nearest setting it is inside, else 1."""
        lines = dict(self.lines)
        while key not in lines and "." in key:
            key = key.rpartition(".")[0]
        return lines.get(key, 1)


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    groups: tuple[Group, ...]
    components: tuple[Component, ...]
    """In page order; grouped components follow their group's position."""
    incidents: tuple[Incident, ...]
    """Sorted by id."""
    pages: tuple[Page, ...] = ()
    layout: tuple[str, ...] = ()
    """Top-level entries of components.yaml in page order: group and component ids."""
    templates: tuple[Template, ...] = ()
    """Incident templates, by name: checked with the site, never published."""

    @cached_property
    def components_by_id(self) -> dict[str, Component]:
        return {component.id: component for component in self.components}

    @cached_property
    def groups_by_id(self) -> dict[str, Group]:
        return {group.id: group for group in self.groups}


def subscriber_key(email: str, webhook: str | None = None) -> str:
    """Who a subscriber is, for de-duplication, the ledger and endpoint health: the address
    in lower case, or `webhook:` and the URL."""
    return f"webhook:{webhook}" if webhook else email.strip().lower()


@dataclass(frozen=True)
class Subscriber:
    email: str
    """The address mailed; for a webhook subscriber its contact (may be empty)."""
    components: tuple[str, ...] | None
    """Component ids (groups expanded); None follows everything."""
    language: str
    line: int = 0
    webhook: str | None = None
    """A webhook subscriber's URL (it gets POSTs, not email); None for an email subscriber."""
    format: str | None = None
    """The webhook's format (statuspage, slack, teams, googlechat, discord, mattermost);
    None: chosen from the URL's host."""
    secret_env: str | None = None
    """The environment variable holding the webhook's signing secret(s)."""
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)
    """Signing secrets the audience resolved itself (a self-service webhook's, derived from
    STATUSGEN_SECRET_KEY: see subscriptions/signingkeys.py); empty: read `secret_env`. Never
    in a repr, a comparison or a store: the notifier signs with it and forgets it."""

    @property
    def key(self) -> str:
        """Who this is, for de-duplication and the ledger (`subscriber_key`)."""
        return subscriber_key(self.email, self.webhook)

    @property
    def is_webhook(self) -> bool:
        return self.webhook is not None
