"""A source's components merged into the site's own, so that a rerun keeps what ops did.

    source ComponentRecords (ids proposed from names, the source's ids as aliases)
      + the site's components and groups as they are
        ──merge_components──▶ the components.yaml to write, and proposed id → final id

The rules, in order:
- **Ids never change.** A source component or group that carries an alias of an existing
  one is that one: it keeps its id and aliases (the source's are added). A source record
  without aliases is the existing entry with its proposed id.
- **New ones** get their proposed id, or `-2`, `-3`, ... where that id is taken.
- **Ops' translations stay.** An existing name or description in several languages is
  kept while one of its languages still says what the source says; when the source
  text changed, the source text replaces it. A text the source leaves empty keeps
  what the site has.
- **Ops' targets stay.** An existing entry's `sla:` is kept (no source has one).
- **Everything else comes from the source**: order, group members, start_date,
  showcase, only_show_if_degraded.
- **Nothing of ops' is lost.** Existing components the source does not have stay: in
  their group when the source has that group (after the source's members), else after
  the source's entries, in their order. A group all of whose components moved into the
  source's groups would be empty (invalid): it is left out and reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace

from statusgen.content.model import Component, Group, Site, Text
from statusgen.importer.records import ComponentRecord, Localised, Report

log = logging.getLogger(__name__)
Existing = Component | Group


def merge_components(source: tuple[ComponentRecord, ...], existing: Site | None,
                     report: Report) -> tuple[tuple[ComponentRecord, ...], dict[str, str]]:
    """The components to write (source first, then the site's own) and each source
    record's proposed id → its final id."""
    merger = _Merger(existing)
    for record in _flattened(source):
        merger.assign(record)
    merged = tuple(merger.build(record) for record in source)
    kept = tuple(merger.leftovers(report))
    return merged + kept, merger.renames


def component_ids(records: Iterable[ComponentRecord]) -> dict[str, str]:
    """Every alias of the components and groups (a source's id) → the statusgen id."""
    return {alias: record.id for record in _flattened(records) for alias in record.aliases}


def localised(text: Text | None) -> Localised | None:
    """A loaded text as it is written: one string when every language says the same, else
    the languages the file wrote (never the ones filled in from another)."""
    if text is None:
        return None
    values = {lang: value for lang, value in text.values if not text.written or lang in text.written}
    if text.missing:
        return values  # one language of several: written as such, so `check` still says so
    return next(iter(values.values())) if len(set(values.values())) == 1 else values


def kept_text(existing: Text | None, source: Localised | None) -> Localised | None:
    """The source's text, unless the site's translation of that same text stands (one of
    its languages says exactly what the source says), or the source has none."""
    if existing is None:
        return source
    if source is None or (isinstance(source, str) and not source.strip()):
        return localised(existing)
    if isinstance(source, str) and source in dict(existing.values).values():
        return localised(existing)
    return source


def _flattened(records: Iterable[ComponentRecord]) -> Iterator[ComponentRecord]:
    for record in records:
        yield record
        yield from _flattened(record.components or ())


class _Merger:
    def __init__(self, site: Site | None) -> None:
        self.site = site
        items: list[Existing] = [*(site.groups if site else ()), *(site.components if site else ())]
        self.by_alias = {alias: item for item in items for alias in item.aliases}
        self.by_id = {item.id: item for item in items}
        self.taken = set(self.by_id)
        self.claimed: set[str] = set()
        """Existing ids a source record is now."""
        self.renames: dict[str, str] = {}
        self.matches: dict[int, tuple[str, Existing | None]] = {}

    def assign(self, record: ComponentRecord) -> None:
        """Pass one: which existing entry each source record is, and its final id."""
        match = self._match(record)
        final = match.id if match else self._new_id(record.id)
        self.matches[id(record)] = (final, match)
        self.renames.setdefault(record.id, final)

    def build(self, record: ComponentRecord) -> ComponentRecord:
        """Pass two: the record to write, with ops' translations and own members."""
        final, match = self.matches[id(record)]
        members = None
        if record.components is not None:
            members = tuple(self.build(member) for member in record.components)
            if isinstance(match, Group):
                members += self._own_members(match)
        merged = replace(record, id=final, components=members)
        if match is None:
            return merged
        aliases = tuple(dict.fromkeys((*match.aliases, *record.aliases)))
        return replace(merged, aliases=aliases, name=kept_text(match.name, record.name) or record.name,
                       description=kept_text(match.description, record.description),
                       sla=own_sla(self.site, match))

    def _own_members(self, group: Group) -> tuple[ComponentRecord, ...]:
        """The group's components the source does not have (they stay in it)."""
        assert self.site is not None
        own = [cid for cid in group.components if cid not in self.claimed]
        self.claimed.update(own)
        return tuple(_component_record(self.site.components_by_id[cid], self.site) for cid in own)

    def _match(self, record: ComponentRecord) -> Existing | None:
        found = next((self.by_alias[a] for a in record.aliases if a in self.by_alias), None)
        if found is None and not record.aliases:
            found = self.by_id.get(record.id)
        if found is None or found.id in self.claimed:
            return None
        self.claimed.add(found.id)
        return found

    def _new_id(self, proposed: str) -> str:
        final = next(candidate for n in range(1, len(self.taken) + 2)
                     if (candidate := proposed if n == 1 else f"{proposed}-{n}") not in self.taken)
        self.taken.add(final)
        return final

    def leftovers(self, report: Report) -> Iterator[ComponentRecord]:
        """The site's own entries the source does not have, in page order."""
        site = self.site
        if site is None:
            return
        for entry_id in site.layout:
            if entry_id in self.claimed:
                continue
            group = site.groups_by_id.get(entry_id)
            if group is None:
                yield _component_record(site.components_by_id[entry_id], site)
                continue
            members = tuple(_component_record(site.components_by_id[cid], site)
                            for cid in group.components if cid not in self.claimed)
            if not members:
                report.skip(f"group {group.id!r}", "all its components are now in the source's groups, "
                                                   "so it would be empty; left out of components.yaml")
                continue
            yield ComponentRecord(id=group.id, name=localised(group.name) or group.id,
                                  description=localised(group.description), aliases=group.aliases,
                                  sla=group.sla, components=members)


def own_sla(site: Site | None, item: Existing) -> float | None:
    """The `sla:` written on the entry itself: a component's target is loaded with what it
    inherits (its group's, the site's) filled in, and writing that back would pin it."""
    if site is None or isinstance(item, Group):
        return item.sla
    group = site.groups_by_id.get(item.group) if item.group else None
    inherited = group.sla if group is not None and group.sla is not None else site.config.sla
    return None if item.sla == inherited else item.sla


def _component_record(component: Component, site: Site) -> ComponentRecord:
    return ComponentRecord(id=component.id, name=localised(component.name) or component.id,
                           description=localised(component.description), aliases=component.aliases,
                           start_date=component.start_date, showcase=component.showcase,
                           only_show_if_degraded=component.only_show_if_degraded,
                           sla=own_sla(site, component))
