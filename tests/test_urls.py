"""Relative links between site paths always lead to the target."""

from __future__ import annotations

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from statusgen.site.urls import file_of, relative, relative_from

segment = st.sampled_from(["en", "nl", "incidents", "history", "2", "a-b", "components", "page", "pages", "a", "ab"])
folder = st.lists(segment, max_size=4).map(lambda parts: "".join(p + "/" for p in parts))
site_path = st.one_of(folder, st.tuples(folder, st.sampled_from(["404.html", "style.css", "a", "pages"])).map("".join))


@given(site_path, site_path)
def test_a_relative_link_resolves_to_its_target(page: str, target: str) -> None:
    link = relative(page, target)
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(file_of(page)), link))
    assert resolved == (posixpath.normpath(target) if target else ".")
    assert link.endswith("/") == (target == "" or target.endswith("/"))
    assert not link.startswith("/")


@given(site_path, st.lists(site_path, max_size=6))
def test_a_pages_links_are_the_relative_links(page: str, targets: list[str]) -> None:
    link = relative_from(page)
    assert [link(target) for target in targets] == [relative(page, target) for target in targets]
