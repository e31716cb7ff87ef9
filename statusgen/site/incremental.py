"""What one build keeps for the next, so that `statusgen serve --watch` rebuilds only
what an edit touched, with output byte-identical to a full build at the same `now`.

A `BuildCache` lives in the serve process across builds; every stage asks it first:

    load    FileCache     (content/filecache.py) an incident file's parse (Incident or its errors), reused while
                          the file's bytes and the settings it was checked against are the same
    state   StateCache    an incident's IncidentState, reused once nothing in it can move
                          with `now` any more (every update and window edge is in the past)
    render  RenderMemo    each output (a page, a feed, a snapshot record) under a fingerprint
                          of everything it shows; unchanged fingerprint, same bytes
    write   the outputs of the last build, so only changed files are written

Outputs made from every incident (the snapshot, the API's last changes, the index of
incidents by component, availability, the pages of components and the history) would
still look at each of 10,000 per build; instead they take the last build's value and the
memo's `Delta`: which incidents changed since that build (by state object and by digest).

Fingerprints are tuples compared by equality; an incident enters them as the digest of
its whole `IncidentState` (a hash of its repr), computed once per state object.
The cache is in memory only: a new process starts with a full build.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from statusgen.site import uptime
from statusgen.content.filecache import FileCache
from statusgen.content.model import Incident, Site
from statusgen.site.state import (
    IncidentState,
    SiteState,
    component_statuses,
    incident_state,
    indicator,
)
from statusgen.site.reuse import newest_index
from statusgen.site.uptime import ComponentUptime

log = logging.getLogger(__name__)
T = TypeVar("T")

def digest(value: object) -> bytes:
    """A content hash of a frozen model value; `repr` of the dataclasses spells out every field."""
    return hashlib.blake2b(repr(value).encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass
class _Known:
    incident: Incident
    state: IncidentState | None
    computed_at: datetime
    horizon: datetime
    digest: bytes | None


class StateCache:
    """Incident states, reused when they cannot have moved since they were computed."""

    def __init__(self) -> None:
        self._known: dict[str, _Known] = {}
        self.known_digests: dict[int, bytes] = {}
        """Digest by `id()` of every state of the last `site_state` (which keeps them alive)."""
        self._order: list[IncidentState] = []
        """The last `site_state`'s incidents, newest first."""
        self._relevant: dict[str, IncidentState] = {}
        """Its incidents that set a status now or are active: all that statuses and the
        indicator read."""
        self.computed = 0
        self.reused = 0

    def site_state(self, site: Site, now: datetime) -> SiteState:
        """`state.site_state(site, now)`, reusing what it can; the same value, faster.

        When few incidents were computed anew, the last call's order, digests and active
        incidents are patched with them instead of being made again from 10,000."""
        self.computed = self.reused = 0
        previous = self._known
        known: dict[str, _Known] = {}
        fresh = []
        for incident in site.incidents:  # (`_state` inlined for the common case: 10,000 a build)
            entry = previous.get(incident.id)
            if entry is not None and entry.incident is incident and entry.horizon <= min(now, entry.computed_at):
                self.reused += 1
            else:
                entry = self._state(incident, now)
                fresh.append(incident.id)
            known[incident.id] = entry
        added = sum(1 for i in fresh if i not in previous)
        gone = [i for i in previous if i not in known] if len(previous) + added != len(known) else []
        self._known = known
        if previous and len(fresh) + len(gone) <= PATCH_LIMIT:
            self._patch(previous, known, [*fresh, *gone])
        else:
            self._order = sorted((e.state for e in known.values() if e.state is not None),
                                 key=lambda s: (s.started_at, s.id), reverse=True)
            self._relevant = {s.id: s for s in self._order if _relevant(s)}
            self.known_digests = {id(e.state): e.digest for e in known.values() if e.state is not None and e.digest}
        active = list(self._relevant.values())
        statuses = component_statuses(site, active)
        return SiteState(site, now, tuple(self._order), statuses, indicator(active, statuses))

    def _patch(self, previous: dict[str, _Known], known: dict[str, _Known], ids: list[str]) -> None:
        """Bring the order, active incidents and digests up to date for the incidents `ids`
        (computed anew or gone since `previous`)."""
        order, relevant, digests = self._order, self._relevant, self.known_digests
        for incident_id in ids:
            old = previous.get(incident_id)
            if old is not None and old.state is not None:
                place = newest_index(order, old.state)
                assert order[place] is old.state
                del order[place]
                relevant.pop(incident_id, None)
                digests.pop(id(old.state), None)
            new = known.get(incident_id)
            if new is not None and new.state is not None:
                order.insert(newest_index(order, new.state), new.state)
                if _relevant(new.state):
                    relevant[incident_id] = new.state
                if new.digest:
                    digests[id(new.state)] = new.digest

    def _state(self, incident: Incident, now: datetime) -> _Known:
        entry = self._known.get(incident.id)
        if entry is not None and entry.incident is incident and entry.horizon <= min(now, entry.computed_at):
            self.reused += 1
            return entry
        self.computed += 1
        state = incident_state(incident, now)
        return _Known(incident, state, now, horizon(incident), digest(state) if state is not None else None)

    def digest(self, state: IncidentState) -> bytes:
        """The digest of a state of this build (computed with it)."""
        found = self.known_digests.get(id(state))
        return digest(state) if found is None else found


PATCH_LIMIT = 500
"""Incidents computed anew up to which `StateCache.site_state` patches the last order
(each costs a search and a list insertion) instead of sorting them all again."""


def _relevant(state: IncidentState) -> bool:
    """Whether the component statuses or the indicator read this incident."""
    return bool(state.current_statuses) or state.is_active


def horizon(incident: Incident) -> datetime:
    """The last moment at which the incident's state can change: after it, `now` no longer
    matters (every update is published and a window has ended)."""
    moments = [u.at for u in incident.updates]
    if incident.window is not None:
        moments += [incident.window.start, incident.window.end]
    return max(moments, default=NEVER)


NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Delta:
    """The incidents of this build against those of the memo's last good build."""

    before: dict[str, IncidentState]
    """The last good build's incidents (published ones) by id."""
    after: dict[str, IncidentState]
    """This build's, by id."""
    replaced: frozenset[str]
    """Ids whose state object is not the last build's: added, removed, or computed again
    (the same value, or not)."""
    changed: frozenset[str]
    """Of those, the ones added, removed or different (by digest): what outputs show."""

    def versions(self, ids: Iterable[str]) -> Iterable[IncidentState]:
        """The states of `ids` before and after (one or both)."""
        for incident_id in ids:
            for known in (self.before.get(incident_id), self.after.get(incident_id)):
                if known is not None:
                    yield known

    def items(self, site: Site, ids: Iterable[str]) -> set[str]:
        """The components and groups that `ids` touch, before or after."""
        found: set[str] = set()
        for entry in self.versions(ids):
            for cid in entry.incident.component_ids:
                found.add(cid)
                component = site.components_by_id.get(cid)
                if component is not None and component.group:
                    found.add(component.group)
        return found


@dataclass
class RenderMemo:
    """Rendered outputs by (kind, key) under a fingerprint, from this build and the last.

    `recall` returns the last build's value when the fingerprint is the same and makes it
    anew otherwise; either way it is kept for the next build. Forked render workers work
    on a copy and `export` what they made; the parent `absorb`s it.
    """

    states: StateCache
    previous: dict[tuple[str, Hashable], tuple[Hashable, Any]] = field(default_factory=dict)
    current: dict[tuple[str, Hashable], tuple[Hashable, Any]] = field(default_factory=dict)
    made: Counter[str] = field(default_factory=Counter)
    """Values made anew in this build, by kind (the others were reused)."""
    outputs: Counter[str] = field(default_factory=Counter)
    """Values of this build by kind, made or reused, where counted (pages, by render_site)."""
    site_key: Hashable = None
    """What every machine output reads besides the incidents (theme, settings, catalog);
    set for each build by `render.render_site`."""
    delta: Delta | None = None
    """This build's incidents against the last good build's (`begin`)."""
    built: tuple[dict[str, IncidentState], dict[str, bytes]] = ({}, {})
    """The last good build's incidents and their digests, by id."""
    building: tuple[dict[str, IncidentState], dict[str, bytes]] = ({}, {})

    def digest(self, state: IncidentState) -> bytes:
        return self.states.digest(state)

    def digests(self, states: Iterable[IncidentState]) -> tuple[bytes, ...]:
        known = self.states.known_digests
        found = [known.get(id(s)) for s in states]
        return tuple(found) if None not in found else tuple(map(self.states.digest, states))

    def start(self) -> None:
        self.current, self.made, self.outputs = {}, Counter(), Counter()
        self.delta = None

    def begin(self, state: SiteState) -> Delta:
        """This build's `Delta`, from its state (once per build, after `start`)."""
        after = {entry.id: entry for entry in state.incidents}
        before, digests = self.built
        replaced = {i for i, entry in after.items() if before.get(i) is not entry}
        replaced.update(i for i in before if i not in after)
        changed = frozenset(i for i in replaced if i not in after or i not in before
                            or self.digest(after[i]) != digests[i])
        kept = {i: digests[i] for i in after if i not in replaced}
        kept.update((i, self.digest(after[i])) for i in replaced if i in after)
        self.building = (after, kept)
        self.delta = Delta(before, after, frozenset(replaced), changed)
        return self.delta

    def carried(self, kind: str, context: Hashable) -> Any:
        """The last good build's value of `kind` (one per build) made in the same
        `context`, for this build to bring up to date with `delta`; else None."""
        entry = self.previous.get((kind, ""))
        return entry[1] if entry is not None and entry[0] == context and self.delta is not None else None

    def subset(self, kind: str, state: SiteState, wanted: Callable[[IncidentState], bool],
               key: Callable[[IncidentState], Any], newest_first: bool = False) -> list[IncidentState]:
        """The incidents of `state` that are `wanted` (at `state.now`), sorted by `key`: the
        last build's list at the same `now`, with the incidents replaced since (`delta`)
        taken out and those of them that are wanted put in, so a rebuild does not look
        at each of 10,000."""
        carried: list[IncidentState] | None = self.carried(kind, state.now)
        if carried is None or self.delta is None:
            found = sorted((entry for entry in state.incidents if wanted(entry)), key=key, reverse=newest_first)
        elif not self.delta.replaced:
            found = carried
        else:
            delta = self.delta
            found = [entry for entry in carried if entry.id not in delta.replaced]
            found += [entry for i in delta.replaced if (entry := delta.after.get(i)) is not None and wanted(entry)]
            found.sort(key=key, reverse=newest_first)
        self.carry(kind, state.now, found)
        return found

    def this_build(self, kind: str, context: Hashable) -> Any:
        """The value of `kind` this build already made (`carry`) in `context`, else None."""
        entry = self.current.get((kind, ""))
        return entry[1] if entry is not None and entry[0] == context else None

    def carry(self, kind: str, context: Hashable, value: Any) -> None:
        """Keep this build's value of `kind` for the next (`carried`)."""
        self.current[(kind, "")] = (context, value)

    def recall(self, kind: str, key: Hashable, fingerprint: Hashable, make: Callable[[], T]) -> T:
        value = self.lookup(kind, key, fingerprint)
        if value is _MISSING:
            value = make()
            self.keep(kind, key, fingerprint, value)
        return value  # type: ignore[return-value]

    def lookup(self, kind: str, key: Hashable, fingerprint: Hashable) -> Any:
        """The last build's value if its fingerprint is `fingerprint` (and keep it), else `_MISSING`."""
        entry = self.previous.get((kind, key))
        if entry is None or entry[0] != fingerprint:
            return _MISSING
        self.current[(kind, key)] = entry
        return entry[1]

    def same(self, kind: str, key: Hashable, fingerprint: Hashable) -> bool:
        """Whether the last build saw this fingerprint for (kind, key); remembered either way."""
        if self.lookup(kind, key, fingerprint) is _MISSING:
            self.keep(kind, key, fingerprint, None)
            return False
        return True

    def keep(self, kind: str, key: Hashable, fingerprint: Hashable, value: Any) -> None:
        self.current[(kind, key)] = (fingerprint, value)
        self.made[kind] += 1

    def export(self, kinds: Iterable[str]) -> list[tuple[str, Hashable, Hashable, Any]]:
        """What a worker did for `kinds`: (kind, key, fingerprint, value), the value `REUSED`
        where the parent has it already (so unchanged pages do not travel back)."""
        wanted = set(kinds)
        return [(kind, key, entry[0], REUSED if self.previous.get((kind, key)) is entry else entry[1])
                for (kind, key), entry in self.current.items() if kind in wanted]

    def absorb(self, exported: list[tuple[str, Hashable, Hashable, Any]]) -> dict[str, dict[Hashable, Any]]:
        """Take a worker's `export` in; returns every value by kind and key."""
        values: dict[str, dict[Hashable, Any]] = {}
        for kind, key, fingerprint, value in exported:
            if value is REUSED:
                entry = self.previous[(kind, key)]
                self.current[(kind, key)] = entry
                value = entry[1]
            else:
                self.keep(kind, key, fingerprint, value)
            values.setdefault(kind, {})[key] = value
        return values

    def commit(self) -> None:
        """The build succeeded: what it made is what the next one compares with."""
        self.previous, self.current = self.current, {}
        self.built = self.building

    def abandon(self) -> None:
        """The build failed: the next one compares with the last good build."""
        self.current = {}
        self.building = ({}, {})


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        return self.name  # unpickles as the module global, so `is` still works in the parent


_MISSING = _Marker("_MISSING")
REUSED = _Marker("REUSED")


class BuildCache:
    """Everything a serve process keeps between builds; see the module docstring."""

    def __init__(self) -> None:
        self.files = FileCache()
        self.states = StateCache()
        self.render = RenderMemo(self.states)
        self.written: dict[str, bytes] | None = None
        """The outputs as they are on disk after the last build, if it wrote them all."""

    def counters(self) -> dict[str, int]:
        """What the last build parsed, computed and rendered anew, and what it reused."""
        rendered = sum(n for kind, n in self.render.made.items() if kind.startswith("page:"))
        return {"files_parsed": self.files.parsed, "files_reused": self.files.reused,
                "states_computed": self.states.computed, "states_reused": self.states.reused,
                "pages_rendered": rendered, "pages_reused": self.render.outputs["pages"] - rendered}


def site_uptime(state: SiteState, memo: RenderMemo) -> dict[str, ComponentUptime]:
    """`uptime.site_uptime(state)`, computed again only for the components whose incidents
    within the uptime window changed (or for all when `now` moved)."""
    site = state.site
    recent = _recent(state, memo)
    touching: dict[str, list[IncidentState]] = {c.id: [] for c in site.components}
    for entry in recent:
        for cid in entry.incident.component_ids:
            touching[cid].append(entry)
    found: dict[str, ComponentUptime] = {}
    stale: dict[str, Hashable] = {}
    for component in site.components:
        fingerprint = (state.now, site.config.timezone.key, component, memo.digests(touching[component.id]))
        value = memo.lookup("uptime", component.id, fingerprint)
        if value is _MISSING:
            stale[component.id] = fingerprint
        else:
            found[component.id] = value
    if stale:
        subset = replace(site, components=tuple(c for c in site.components if c.id in stale))
        involved = tuple(e for e in recent if any(cid in stale for cid in e.incident.component_ids))
        fresh = uptime.site_uptime(SiteState(subset, state.now, involved, state.component_statuses, state.indicator))
        for cid, fingerprint in stale.items():
            memo.keep("uptime", cid, fingerprint, fresh[cid])
            found[cid] = fresh[cid]
    return {component.id: found[component.id] for component in site.components}


def _recent(state: SiteState, memo: RenderMemo) -> list[IncidentState]:
    """`recent_incidents`, without a pass over every incident (`RenderMemo.subset`)."""
    since = _since(state)
    return memo.subset("recent", state, lambda entry: _counts(entry, since),
                       lambda entry: (entry.started_at, entry.id), newest_first=True)


def _since(state: SiteState) -> datetime:
    return state.now - timedelta(days=uptime.DAYS + 2)  # a margin for the site's UTC offset


def _counts(entry: IncidentState, since: datetime) -> bool:
    return any(segment.end is None or segment.end > since for segment in entry.segments)


def recent_incidents(state: SiteState) -> list[IncidentState]:
    """The incidents that can count in the uptime bars: `uptime.site_uptime` skips every
    other one, but would still look at each of 10,000."""
    since = _since(state)
    return [s for s in state.incidents if _counts(s, since)]
