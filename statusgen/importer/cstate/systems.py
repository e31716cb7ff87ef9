"""cState's systems and categories as statusgen's components and groups.

    config: params.categories [{name, description, untitled}]
            + params.systems [{name, category, description, displayName}]   cState 4 and later
          | params.systems [{name, description, systems: [names]}]         categories inline
          | params.systems [names]                                          no categories
      ──read_systems──▶ Systems: components and groups in page order,
                        and the lookup that issues' `affected` names go through

A titled category is a group; an untitled one (`untitled: true`, cState's way to show
systems without a heading), or any with `enableCategories: false`, leaves its systems at
the top level. Ids come from the names (`Media Proxy` → `media-proxy`, then `-2`, `-3`
where two meet); the cState name is kept as an alias where it is a valid one (`API`,
`infra.ci.jenkins.io`, not `Media Proxy`). An issue names a system by its exact `name`, as
cState matches it; a name that matches only when case is ignored is mapped too, and the
report says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from statusgen.authoring.incident import slugify
from statusgen.content.fields import ALIAS_PATTERN, describe
from statusgen.errors import Problems
from statusgen.importer.cstate.files import Front, line_of
from statusgen.importer.records import ComponentRecord, Report


@dataclass(frozen=True)
class _System:
    name: str
    shown: str
    """`displayName` if set: what the page shows; `name` is what issues refer to."""
    description: str | None
    line: int
    category: str | None = None


@dataclass(frozen=True)
class _Category:
    name: str
    description: str | None
    untitled: bool
    line: int
    members: tuple[_System, ...] = ()
    """Systems listed inside the category (the inline form); the other form names the category on each system."""


@dataclass(frozen=True)
class Systems:
    components: tuple[ComponentRecord, ...] = ()
    """Top-level components and groups, in page order."""
    ids: Mapping[str, str] = field(default_factory=dict)
    """cState system name → component id."""

    def find(self, name: str) -> tuple[str, str] | None:
        """(id, cState name) of the system an issue names: by its exact name, else ignoring case."""
        if name in self.ids:
            return self.ids[name], name
        folded = [(cid, known) for known, cid in self.ids.items() if known.casefold() == name.casefold()]
        return folded[0] if folded else None


@dataclass
class _Reader:
    path: str
    problems: Problems
    report: Report

    def system(self, item: Any, line: int, category: str | None = None) -> _System | None:
        """A system: a plain name, or a mapping with name (and description, displayName, category)."""
        if isinstance(item, (str, int, float)) and not isinstance(item, bool) and str(item).strip():
            return _System(str(item).strip(), str(item).strip(), None, line, category)
        if not isinstance(item, dict) or _text(item, "name") is None:
            self.problems.add(self.path, line, f"systems: expected a system name or a mapping with name; "
                                               f"found {describe(item)}")
            return None
        name = _text(item, "name") or ""
        for key, what in (("link", "a link"), ("partial", "a custom HTML partial")):
            if _text(item, key):
                self.report.skip(f"{self.path}:{line_of(item, key, line)}",
                                 f"system {name!r} has {what} ({_text(item, key)}); components have none")
        return _System(name, _text(item, "displayname") or name, _text(item, "description"), line,
                       category if category is not None else _text(item, "category"))

    def category(self, item: Any, line: int) -> _Category | None:
        if not isinstance(item, dict) or _text(item, "name") is None:
            self.problems.add(self.path, line, f"categories: expected a mapping with name; found {describe(item)}")
            return None
        name = _text(item, "name") or ""
        members = _lowered(item).get("systems") or []
        if not isinstance(members, list):
            self.problems.add(self.path, line_of(item, "systems", line),
                              f"systems of category {name!r}: expected a list of system names; "
                              f"found {describe(members)}")
            members = []
        systems = [s for index, member in enumerate(members)
                   if (s := self.system(member, line_of(members, index, line), name))]
        return _Category(name, _text(item, "description"), _lowered(item).get("untitled") is True, line, tuple(systems))


def read_systems(path: str, config: Front, problems: Problems, report: Report) -> Systems:
    """The components and groups a cState configuration shows, in its order."""
    params = config.section("params")
    where = params if params.has("systems") else config
    if not where.has("systems"):
        report.skip(path, "no systems (params.systems): components.yaml is left as it is")
        return Systems()
    reader = _Reader(path, problems, report)
    items = _listed(where, "systems", reader)
    parsed = [entry for index, item in enumerate(items)
              if (entry := _entry(reader, item, line_of(items, index, where.line_of("systems"))))]
    if params.get("enablecategories") is False:  # cState 3: every system at the top level
        flat = [s for entry in parsed for s in (entry.members if isinstance(entry, _Category) else (entry,))]
        return _records(path, [(None, flat)], report)
    listed = params if params.has("categories") else config
    defined = _listed(listed, "categories", reader)
    categories = [c for index, item in enumerate(defined)
                  if (c := reader.category(item, line_of(defined, index, listed.line_of("categories"))))]
    return _records(path, _layout(path, categories, parsed, report), report)


def _entry(reader: _Reader, item: Any, line: int) -> _Category | _System | None:
    return reader.category(item, line) if _is_inline(item) else reader.system(item, line)


def _layout(path: str, categories: list[_Category], parsed: list[_Category | _System],
            report: Report) -> list[tuple[_Category | None, list[_System]]]:
    """(category or None, its systems) in page order: the defined categories, each with
    the systems that name it; then, as listed, inline categories and systems in none."""
    names = {c.name for c in categories}
    plain = [entry for entry in parsed if isinstance(entry, _System)]
    blocks: list[tuple[_Category | None, list[_System]]] = [
        (c, [s for s in plain if s.category == c.name]) for c in categories]
    for entry in parsed:
        if isinstance(entry, _Category):
            blocks.append((entry, list(entry.members)))
        elif entry.category not in names:
            blocks.append((None, [entry]))
            if entry.category is not None:
                known = f" (it defines {', '.join(sorted(names))})" if names else ""
                report.change(f"{path}:{entry.line}", f"system {entry.name!r} is in category {entry.category!r}, "
                                                      f"which params.categories does not define{known}: "
                                                      "imported outside any group")
            elif categories:
                report.change(f"{path}:{entry.line}", f"system {entry.name!r} has no category: "
                                                      "imported outside any group")
    return blocks


def _records(path: str, blocks: list[tuple[_Category | None, list[_System]]],
             report: Report) -> Systems:
    """Ids in page order first (so the first of two alike keeps the plain one), then aliases:
    a name that is a valid alias and no component's id."""
    taken: set[str] = set()
    first: dict[str, _System] = {}
    laid: list[tuple[_Category | None, str | None, list[tuple[_System, str]]]] = []
    for category, systems in blocks:
        if category is not None and not systems:
            report.skip(f"{path}:{category.line}", f"category {category.name!r} has no systems")
            continue
        group = category if category is not None and not category.untitled else None
        group_id = _unique(slugify(group.name, "group"), taken) if group is not None else None
        members: list[tuple[_System, str]] = []
        for system in systems:
            if system.name in first:
                report.skip(f"{path}:{system.line}", f"system {system.name!r} is listed again "
                                                     f"(first on line {first[system.name].line}): imported once")
                continue
            first[system.name] = system
            members.append((system, _unique(slugify(system.name, "component"), taken)))
        laid.append((group, group_id, members))
    aliases = _Aliases(taken)
    components: list[ComponentRecord] = []
    for group, group_id, members in laid:
        group_aliases = aliases.of(group.name) if group is not None else ()
        records = [ComponentRecord(cid, s.shown, s.description, aliases.of(s.name)) for s, cid in members]
        if group is not None and group_id is not None:
            components.append(ComponentRecord(group_id, group.name, group.description, group_aliases,
                                              components=tuple(records)))
        else:
            components.extend(records)
    return Systems(tuple(components), {s.name: cid for _, _, members in laid for s, cid in members})


class _Aliases:
    """Names kept as aliases: valid ones, each once, never equal to an id."""

    def __init__(self, ids: set[str]) -> None:
        self.used = set(ids)

    def of(self, name: str) -> tuple[str, ...]:
        if not ALIAS_PATTERN.match(name) or name in self.used:
            return ()
        self.used.add(name)
        return (name,)


def _unique(base: str, taken: set[str]) -> str:
    candidate = next(c for n in range(1, len(taken) + 2) if (c := base if n == 1 else f"{base}-{n}") not in taken)
    taken.add(candidate)
    return candidate


def _lowered(item: dict[Any, Any]) -> dict[str, Any]:
    return {str(key).lower(): value for key, value in item.items()}


def _text(item: dict[Any, Any], key: str) -> str | None:
    value = _lowered(item).get(key)
    if value is None or isinstance(value, (dict, list)) or not str(value).strip():
        return None
    return str(value).strip()


def _is_inline(item: Any) -> bool:
    """A category written in the systems list, with its systems inside it."""
    return isinstance(item, dict) and "systems" in _lowered(item)


def _listed(where: Front, key: str, reader: _Reader) -> list[Any]:
    value = where.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        reader.problems.add(reader.path, where.line_of(key), f"{key}: expected a list; found {describe(value)}")
        return []
    return value
