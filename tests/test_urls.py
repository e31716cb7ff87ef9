"""Relative links between site paths always lead to the target."""

from __future__ import annotations

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from statusgen.site.urls import file_of, relative

segment = st.sampled_from(["en", "nl", "incidents", "history", "2", "a-b", "components", "page"])
folder = st.lists(segment, max_size=4).map(lambda parts: "".join(p + "/" for p in parts))
site_path = st.one_of(folder, st.tuples(folder, st.sampled_from(["404.html", "style.css"])).map("".join))


@given(site_path, site_path)
def test_a_relative_link_resolves_to_its_target(page: str, target: str) -> None:
    link = relative(page, target)
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(file_of(page)), link))
    assert resolved == (posixpath.normpath(target) if target else ".")
    assert link.endswith("/") == (target == "" or target.endswith("/"))
    assert not link.startswith("/")
