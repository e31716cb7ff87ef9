"""`components.yaml`: components and groups, in page order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

from statusgen.errors import Problems
from statusgen.content.fields import ID_PATTERN, Fields, describe, did_you_mean
from statusgen.content.model import Component, Group
from statusgen.content.yamlsource import LocatedList, read_document

COMPONENTS_PATH = "components.yaml"
COMPONENT_KEYS = ("id", "name", "description", "start_date", "showcase", "only_show_if_degraded", "aliases",
                  "sla")
GROUP_KEYS = ("id", "name", "description", "components", "aliases", "sla")


@dataclass(frozen=True)
class Catalog:
    """Components and groups as loaded, with the lookups the other files need."""

    groups: tuple[Group, ...]
    components: tuple[Component, ...]
    layout: tuple[str, ...]
    unchecked: frozenset[str] = frozenset()
    """Ids written in components.yaml on entries with errors: already reported there."""
    readable: bool = True
    """False when components.yaml could not be read at all, so no reference can be judged."""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.groups) + tuple(c.id for c in self.components)

    @property
    def aliases(self) -> dict[str, str]:
        """Every alias (an id from another system) and the component or group id it names."""
        return {alias: item.id for item in (*self.groups, *self.components) for alias in item.aliases}

    def expand(self, component_or_group: str) -> tuple[str, ...]:
        """Component ids meant by an id: a group means all its components."""
        for group in self.groups:
            if group.id == component_or_group:
                return group.components
        return (component_or_group,)

    @cached_property
    def _expansions(self) -> dict[str, tuple[str, ...]]:
        """`expand` of every id, made once: every component an incident file names is
        looked up here (on a large site, a hundred thousand times in one load)."""
        return {ref: self.expand(ref) for ref in self.ids}

    def resolve(self, path: str, line: int, ref: object, problems: Problems) -> tuple[str, ...]:
        """Expand a component or group reference, or record why it is unknown."""
        if isinstance(ref, str) and ref in self._expansions:
            return self._expansions[ref]
        if isinstance(ref, (dict, list)):  # a list where an id belongs: never hashed or printed whole
            problems.add(path, line, f"expected a component or group id; found {describe(ref)}")
            return ()
        if not self.readable or ref in self.unchecked:
            return ()  # components.yaml's own error says it; repeating it here would mislead
        problems.add(path, line, f"unknown component {ref!r}{did_you_mean(str(ref), self.ids)}")
        return ()


UNREADABLE = Catalog((), (), (), readable=False)


def load_catalog(site_dir: Path, languages: tuple[str, ...], problems: Problems,
                 sla: float | None = None) -> Catalog:
    """Components and groups; `sla` is the site's availability target, which a component
    gets unless it or its group sets its own."""
    document = read_document(site_dir, COMPONENTS_PATH, problems, missing="expected a list of components")
    if document is None:
        return UNREADABLE
    data = document.data
    if not isinstance(data, LocatedList):
        problems.add(COMPONENTS_PATH, getattr(data, "line", 1),
                     f"expected a list of components and groups; found {describe(data)}")
        return UNREADABLE
    return _read_entries(data, languages, problems, sla)


def _read_entries(entries: LocatedList, languages: tuple[str, ...], problems: Problems,
                  sla: float | None = None) -> Catalog:
    groups: list[Group] = []
    components: list[Component] = []
    layout: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        fields = Fields(COMPONENTS_PATH, entry, problems, entries.line_of(index),
                        what="a component or group (a mapping with id and name)")
        if not fields.ok:
            continue
        if fields.has("components"):
            group = _read_group(fields, len(groups), languages, seen, components, sla)
            if group:
                groups.append(group)
                layout.append(group.id)
        else:
            component = _read_component(fields, None, len(components), languages, seen, sla)
            if component:
                components.append(component)
                layout.append(component.id)
    ids = {item.id for item in (*groups, *components)}
    return Catalog(tuple(groups), tuple(components), tuple(layout),
                   unchecked=frozenset(seen) - ids)


def _read_aliases(fields: Fields, seen: dict[str, int]) -> tuple[str, ...]:
    """`aliases:`, each unique across every id and alias in the file."""
    aliases = fields.aliases()
    for alias in aliases:
        if alias in seen:
            fields.error("aliases", f"aliases: {alias!r} is already used on line {seen[alias]}; "
                                    "expected an alias no other component or group has")
        else:
            seen[alias] = fields.line("aliases")
    return tuple(alias for alias in aliases if seen[alias] == fields.line("aliases"))


def _read_id(fields: Fields, seen: dict[str, int]) -> str | None:
    if not fields.require("id", "an id such as 'dcc-app'"):
        return None
    value = fields.get("id")
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        fields.error("id", f"id: expected lowercase letters, digits and '-' such as 'dcc-app'; "
                           f"found {describe(value)}")
        if isinstance(value, str):
            seen.setdefault(value, fields.line("id"))  # so references to it are not reported again
        return None
    if value in seen:
        fields.error("id", f"duplicate id {value!r}; it is already used on line {seen[value]}")
        return None
    seen[value] = fields.line("id")
    return value


def _read_group(fields: Fields, position: int, languages: tuple[str, ...],
                seen: dict[str, int], components: list[Component], site_sla: float | None) -> Group | None:
    fields.reject_unknown(GROUP_KEYS)
    group_id = _read_id(fields, seen)
    aliases = _read_aliases(fields, seen)
    name = fields.text("name", languages, required=True)
    sla = fields.percent("sla")
    members = fields.sequence("components", "a list of components") or LocatedList()
    if not members:
        fields.error("components", "components: expected at least one component in the group; found none")
    ids = []
    for index, entry in enumerate(members):
        child = Fields(fields.path, entry, fields.problems, members.line_of(index),
                       what="a component (a mapping with id and name)")
        if not child.ok:
            continue
        if child.has("components"):
            child.error("components", "components: groups cannot contain groups; "
                                      "expected a component without 'components'")
            continue
        component = _read_component(child, group_id, len(components), languages, seen,
                                    site_sla if sla is None else sla)
        if component:
            components.append(component)
            ids.append(component.id)
    if group_id is None or name is None:
        return None
    return Group(group_id, name, fields.text("description", languages), tuple(ids), position, aliases, sla)


def _read_component(fields: Fields, group: str | None, position: int,
                    languages: tuple[str, ...], seen: dict[str, int],
                    inherited_sla: float | None) -> Component | None:
    """A component; its availability target is its own `sla:`, else `inherited_sla`
    (its group's, else the site's)."""
    fields.reject_unknown(COMPONENT_KEYS)
    component_id = _read_id(fields, seen)
    aliases = _read_aliases(fields, seen)
    name = fields.text("name", languages, required=True)
    start = _start_date(fields)
    sla = fields.percent("sla")
    if component_id is None or name is None:
        return None
    return Component(
        id=component_id, name=name, description=fields.text("description", languages),
        group=group, position=position, start_date=start,
        showcase=fields.boolean("showcase", True),
        only_show_if_degraded=fields.boolean("only_show_if_degraded", False),
        aliases=aliases, sla=inherited_sla if sla is None else sla,
    )


def _start_date(fields: Fields) -> date | None:
    value = fields.string("start_date", "a date such as 2026-01-31")
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fields.error("start_date", f"start_date: expected a date such as 2026-01-31; found {value!r}")
        return None
