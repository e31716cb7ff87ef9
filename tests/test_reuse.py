"""Which numbered pages of a list of incidents (the history, a component's archive) a
rebuild must look at again (`reuse.archive_rechecked`): every page whose incidents or links
differ from the last build's must be among them, whatever the edits were."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from statusgen.site.pages import LanguagePages, history_pages
from statusgen.site.reuse import Versions, archive_rechecked
from statusgen.site.state import IncidentState


@dataclass(eq=False)
class Entry:
    """What `archive_rechecked` reads of an incident's state: its sort key, and identity."""

    started_at: int
    id: str


def newest_first(entries: list[Entry]) -> list[Any]:
    return sorted(entries, key=lambda e: (e.started_at, e.id), reverse=True)


def shown(incidents: list[Any], size: int) -> dict[int, tuple[Any, ...]]:
    """Each numbered page: the incidents it holds (by identity) and its links."""
    numbered = len(incidents) // size - 1
    return {number: (tuple(map(id, chunk)), tuple(LanguagePages.archive_pagination(number, numbered, str).items()))
            for number, chunk in history_pages(incidents, size) if number}


EDIT = st.tuples(st.sampled_from(["edit", "move", "add", "remove"]), st.integers(0, 10**6), st.integers(0, 500))


@given(count=st.integers(0, 40), size=st.integers(1, 6), edits=st.lists(EDIT, max_size=4),
       starts=st.randoms(use_true_random=False))
def test_every_page_that_differs_is_looked_at_again(count: int, size: int, edits: list[tuple[str, int, int]],
                                                    starts: Any) -> None:
    entries = {f"i{n}": Entry(starts.randint(0, 200), f"i{n}") for n in range(count)}
    before = newest_first(list(entries.values()))
    after_entries = dict(entries)
    for kind, which, start in edits:
        names = sorted(after_entries)
        if kind == "add" or not names:
            name = f"new{which}"
            after_entries[name] = Entry(start, name)
            continue
        name = names[which % len(names)]
        if kind == "remove":
            del after_entries[name]
        else:  # a new state of the incident, in its place or moved
            old = after_entries[name]
            after_entries[name] = Entry(old.started_at if kind == "edit" else start, name)
    after = newest_first(list(after_entries.values()))
    changed: list[Versions] = [cast(tuple[IncidentState | None, IncidentState | None],
                                    (entries.get(name), after_entries.get(name)))
                               for name in sorted(entries.keys() | after_entries.keys())
                               if entries.get(name) is not after_entries.get(name)]
    looked = archive_rechecked(before, after, changed, size)
    old_pages, new_pages = shown(before, size), shown(after, size)
    differ = {number for number, page in new_pages.items() if old_pages.get(number) != page}
    assert differ <= set(looked), (differ, looked)


def test_an_edit_in_place_looks_at_its_own_page_alone() -> None:
    entries = [Entry(n, f"i{n:02d}") for n in range(20)]  # pages of 3: six numbered pages
    before = newest_first(entries)
    edited = Entry(4, "i04")  # the fifth oldest: on page 2
    after = newest_first([edited if e.id == "i04" else e for e in entries])
    assert set(archive_rechecked(before, after, [(cast(IncidentState, entries[4]), cast(IncidentState, edited))],
                                 3)) == {2}
    assert set(archive_rechecked(before, after, [], 3)) == set()
    moved = Entry(1, "i04")  # now the second oldest: pages 1 and 2 hold other incidents
    after = newest_first([moved if e.id == "i04" else e for e in entries])
    assert {1, 2} <= set(archive_rechecked(before, after, [(cast(IncidentState, entries[4]),
                                                           cast(IncidentState, moved))], 3))
