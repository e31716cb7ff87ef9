"""The snapshot: everything the notifier needs to know about the site at build time.

Every build writes it beside the site, never into the published folder (it is internal,
and about 20 MB at 10,000 incidents): `SITE/.statusgen/snapshot.json`, or the path given
with `--snapshot` (`snapshot_location`). It is made from the same state, ids, timestamps and
texts as the API and the pages, so an email can never say something the page does not.
`statusgen notify` reads it from the same place and compares it with what it announced
before. It is replaced only after the published folder was swapped in (`output.write_site`):
a notify after a build that died between the two announces the previous state again
(late), never a state whose pages are not yet published.

    {"format": "statusgen-snapshot/1", "generated_at": ..., "site": {...},
     "components": {id: {name, group, status, description, position, showcase, start_date,
                         only_show_if_degraded, created_at, updated_at}},
     "groups": {id: {name, components}},
     "incidents": {file id: {public_id, kind, title, impact, priority, status, url,
                             started_at, ended_at, window, components, component_ids,
                             postmortem, updates: [...]}}}

Texts are mappings of language to text, every site language filled in. Where a text was
written as a mapping that lacks some language, the object holding it says which languages
were written, beside the texts: `"written": {"title": ["nl"]}` (site, components, groups,
incidents; `"written": {"body": [...]}` on updates), so an email can mark the fallback
with its real language (`Text.lang_of`); a plain string, the same in every language on
purpose, is not listed. The notifier's diff reads none of it, so a store baselined before
this key existed sees nothing new. Times are ISO 8601 in the site's offset; keys
are sorted, so two builds of the same input give the same bytes. A component carries
everything its API object says (position, times, flags) and an incident its components
in the API's order (`component_ids`), so a webhook can send the very objects of
`api/v2/incidents.json` from the snapshot alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statusgen import ids
from statusgen.site import urls
from statusgen.site.api import component_created, component_position, last_changes, page_beginning, update_body
from statusgen.content.model import Component, Text
from statusgen.site.state import IncidentState, SiteState
from statusgen.site.theme import Theme, Translator
from statusgen.times import iso_time

if TYPE_CHECKING:
    from statusgen.site.incremental import RenderMemo

DEFAULT_PATH = Path(".statusgen") / "snapshot.json"
"""Where it is, relative to the site, unless `--snapshot` says otherwise: the site's private
folder (git-ignored, never published), beside the notifier store."""
PUBLISHED_BEFORE = "api/snapshot.json"
"""Where statusgen 0.1 published it, inside the output folder: an old site's notify is told
to build again (`notifier.run.read_snapshot`) and a build no longer writes it there."""
FORMAT = "statusgen-snapshot/1"


def snapshot_location(site_dir: Path, given: Path | None = None) -> Path:
    """The snapshot file that `statusgen build` writes and `statusgen notify` reads: `given`
    (`--snapshot`), else `SITE/.statusgen/snapshot.json`, also when the site is built into
    another folder with `--out` (so notify finds it with no option, as CI runs them)."""
    return (given if given is not None else site_dir / DEFAULT_PATH).resolve()


def snapshot_bytes(state: SiteState, theme: Theme, memo: RenderMemo | None = None) -> bytes:
    """The snapshot file in memory, joined from each incident's JSON text (the same bytes as
    one `json.dumps`): what `serve` keeps to compare; with a `memo`, the incidents' part is
    the last build's with the texts of the incidents that changed since
    (`RenderMemo.delta`) made again. `statusgen build` writes `snapshot_chunks` instead."""
    if memo is None:
        return b"".join(snapshot_chunks(state, theme))
    translators = _translators(state, theme)
    parts = {key: _member(key, value).encode() for key, value in _site_part(state, memo).items()}
    members, order, fresh = _incident_members(state, lambda entry: _incident_member(state, entry, translators), memo)
    carried: tuple[dict[str, bytes], bytes] | None = memo.carried("snapshot-file", memo.site_key)
    if carried is None or fresh or any(carried[0].get(key) is not value and carried[0].get(key) != value
                                       for key, value in parts.items()) or len(carried[0]) != len(parts):
        # (20 MB at 10,000 incidents: joined at once, and not again while the same)
        carried = (parts, b"".join(_file(parts, (members[key] for key in order))))
    memo.carry("snapshot-file", memo.site_key, carried)
    return carried[1]


def snapshot_chunks(state: SiteState, theme: Theme) -> Iterator[bytes]:
    """The snapshot file in pieces, one incident's JSON text at a time (together the same
    bytes as one `json.dumps` of the whole).

    In pieces, not dumped whole: the whole as Python objects took five times the file's
    size (100 MB at 10,000 incidents) at the build's peak, and even its text joined in
    memory twice the file's. `statusgen build` writes each piece to the file as it comes
    (`output.StagedOutputs.write_beside`), so only one incident's text lives at a time."""
    translators = _translators(state, theme)
    parts = {key: _member(key, value).encode() for key, value in _site_part(state).items()}
    yield from _file(parts, (_incident_member(state, entry, translators)
                             for entry in sorted(state.incidents, key=lambda entry: entry.id)))


def _incident_member(state: SiteState, entry: IncidentState, translators: dict[str, Translator]) -> bytes:
    """One incident's `"id":{...}` text, as both `snapshot_chunks` and `snapshot_bytes` write it."""
    return _member(entry.id, _incident(state, entry, translators)).encode()


def _file(parts: dict[str, bytes], incidents: Iterable[bytes]) -> Iterator[bytes]:
    """The file in pieces: the `parts` (each `"key":value`) and, in its place among their
    sorted keys, `"incidents":{...}` from each incident's `"id":{...}` text (in order)."""
    yield b"{"
    for number, key in enumerate(sorted([*parts, "incidents"])):
        if number:
            yield b","
        if key != "incidents":
            yield parts[key]
            continue
        yield _dumps("incidents").encode() + b":{"
        for position, text in enumerate(incidents):
            if position:
                yield b","
            yield text
        yield b"}"
    yield b"}\n"


_Members = tuple[dict[str, bytes], list[str]]
"""Each incident's `"id":{...}` text, and the ids sorted."""


def _incident_members(state: SiteState, member: Callable[[IncidentState], bytes],
                      memo: RenderMemo) -> tuple[dict[str, bytes], list[str], bool]:
    """Each incident's `"id":{...}` text and the ids sorted, from the last build's (see
    `snapshot_bytes`); and whether they may differ from the last build's."""
    carried: _Members | None = memo.carried("snapshot", memo.site_key)
    delta = memo.delta
    if carried is None or delta is None:
        members = {entry.id: member(entry) for entry in state.incidents}
        order, fresh = sorted(members), True
    elif not delta.changed:
        members, order = carried
        fresh = False
    else:
        members, order = dict(carried[0]), carried[1]
        for incident_id in delta.changed:
            entry = delta.after.get(incident_id)
            if entry is None:
                members.pop(incident_id, None)
            else:
                members[incident_id] = member(entry)
        same_ids = all((i in delta.before) == (i in delta.after) for i in delta.changed)
        order, fresh = order if same_ids else sorted(members), True
    memo.carry("snapshot", memo.site_key, (members, order))
    return members, order, fresh


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _member(key: str, value: Any) -> str:
    """`"key":value` as `_dumps` writes it inside an object; objects joined from sorted
    members are then the same text as one `_dumps` of the whole."""
    return f"{_dumps(key)}:{_dumps(value)}"


def snapshot(state: SiteState, theme: Theme) -> dict[str, Any]:
    translators = _translators(state, theme)
    return {**_site_part(state),
            "incidents": {entry.id: _incident(state, entry, translators) for entry in state.incidents}}


def _translators(state: SiteState, theme: Theme) -> dict[str, Translator]:
    config = state.site.config
    return {lang: Translator(lang, theme.messages(lang), config.timezone) for lang in config.languages}


def _site_part(state: SiteState, memo: RenderMemo | None = None) -> dict[str, Any]:
    """Everything but the incidents."""
    site, config = state.site, state.site.config
    changed_at, beginning = last_changes(state, memo), page_beginning(state, memo)
    return {
        "format": FORMAT,
        "generated_at": iso_time(state.now, config.timezone),
        "site": {"title": _texts(config.title, config.languages), "written": _written(title=config.title),
                 "base_url": config.base_url,
                 "languages": list(config.languages), "timezone": config.timezone.key,
                 "page_id": ids.page_id(config.base_url)},
        "status": {"indicator": state.indicator.indicator, "description": state.indicator.description},
        "components": {c.id: _component(state, c, changed_at, beginning) for c in site.components},
        "groups": {g.id: {"name": _texts(g.name, config.languages), "components": list(g.components),
                          "written": _written(name=g.name)}
                   for g in site.groups},
    }


def _component(state: SiteState, component: Component, changed_at: dict[str, datetime],
               beginning: datetime) -> dict[str, Any]:
    config = state.site.config
    created = component_created(component, beginning, config.timezone)
    return {
        "name": _texts(component.name, config.languages), "group": component.group,
        "status": state.component_statuses[component.id],
        "description": _texts(component.description, config.languages) if component.description else None,
        "position": component_position(state.site, component), "showcase": component.showcase,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "only_show_if_degraded": component.only_show_if_degraded,
        "written": _written(name=component.name, description=component.description),
        "created_at": iso_time(created, config.timezone),
        "updated_at": iso_time(changed_at.get(component.id, created), config.timezone),
    }


def _incident(state: SiteState, entry: IncidentState, translators: dict[str, Translator]) -> dict[str, Any]:
    config, incident = state.site.config, entry.incident
    tz = config.timezone
    return {
        "public_id": ids.incident_id(incident.id),
        "kind": incident.kind,
        "title": _texts(incident.title, config.languages),
        "impact": incident.impact,
        "priority": incident.priority,
        "status": entry.status,
        "url": {lang: urls.absolute(config, urls.incident(config, lang, incident.id)) for lang in config.languages},
        "started_at": iso_time(entry.started_at, tz),
        "ended_at": iso_time(entry.ended_at, tz) if entry.ended_at else None,
        "window": {"start": iso_time(incident.window.start, tz), "end": iso_time(incident.window.end, tz)}
        if incident.window else None,
        "components": dict(incident.affected),
        "component_ids": list(incident.component_ids),
        "postmortem": _texts(incident.postmortem, config.languages) if incident.postmortem else None,
        "written": _written(title=incident.title, postmortem=incident.postmortem),
        "updates": [{
            "id": update.id, "public_id": ids.update_id(incident.id, update.id),
            "at": iso_time(update.at, tz), "status": update.status, "notify": update.notify,
            "automatic": update.automatic,
            "body": {lang: update_body(update, t, lang) for lang, t in translators.items()},
            "changes": [list(change) for change in changes],
            "written": {} if update.automatic else _written(body=update.body),
        } for update, changes in entry.changes],
    }


def _texts(text: Text, languages: tuple[str, ...]) -> dict[str, str]:
    return {lang: text[lang] for lang in languages}


def _written(**texts: Text | None) -> dict[str, list[str]]:
    """Which languages each text lacking some language was written in (see the docstring)."""
    return {name: list(text.written) for name, text in texts.items() if text is not None and text.missing}
