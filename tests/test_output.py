"""Writing the build: files streamed into a temporary folder as they are made (also by
forked workers), swapped into place whole, or nothing at all."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from statusgen.errors import BuildError
from statusgen.site.build import build
from statusgen.site.output import StagedOutputs, staged
from statusgen.site.theme import Theme
from tests.conftest import EXAMPLE_NOW, ROOT, MakeSite
from tests.golden import read_tree

LATE_ERROR = '{% extends "!theme/404.html" %}{% block main %}{{ missing.attribute }}{% endblock %}'
"""A template that fails only when rendered: the 404 page, each language's last, comes
after hundreds of files were streamed into the temporary folder (by the workers)."""


def test_a_build_failing_after_files_were_streamed_leaves_the_previous_site(make_site: MakeSite,
                                                                             tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(make_site(name="good"), out, EXAMPLE_NOW)
    before = read_tree(out)
    broken = make_site({"site_templates/templates/404.html": LATE_ERROR}, name="broken")
    with pytest.raises(Exception, match="missing"):
        build(broken, out, EXAMPLE_NOW)
    assert read_tree(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken", "good", "out"]  # no temporary folder left


def test_a_first_build_that_fails_leaves_no_folder(make_site: MakeSite, tmp_path: Path) -> None:
    broken = make_site({"site_templates/templates/404.html": LATE_ERROR}, name="broken")
    with pytest.raises(Exception, match="missing"):
        build(broken, tmp_path / "out", EXAMPLE_NOW)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken"]


def test_the_build_result_reads_what_was_written(make_site: MakeSite, tmp_path: Path) -> None:
    result = build(make_site(), tmp_path / "out", EXAMPLE_NOW)
    on_disk = sorted(str(path.relative_to(tmp_path / "out")) for path in (tmp_path / "out").rglob("*")
                     if path.is_file())
    assert list(result.outputs) == on_disk and len(result.outputs) == len(on_disk)
    assert result.outputs["index.html"] == (tmp_path / "out" / "index.html").read_bytes()
    assert "nowhere.html" not in result.outputs
    with pytest.raises(KeyError):
        result.outputs["nowhere.html"]


def test_one_path_written_twice_by_two_writers_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as raised, staged(tmp_path / "out") as outputs:
        outputs.add("a/index.html", "one")
        worker = pickle.loads(pickle.dumps(outputs.part()))  # as a forked worker gets and sends it
        worker.add("a/b.html", "two")
        outputs.merge(pickle.loads(pickle.dumps(worker)))
        assert sorted(outputs) == ["a/b.html", "a/index.html"] and outputs.bytes == 6
        worker.add("a/index.html", "again")
    assert str(raised.value) == "two outputs would be written to 'a/index.html'"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["/etc/passwd", "../x.html", "a/../../x.html", ""])
def test_a_path_outside_the_output_folder_is_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(BuildError, match="refusing to write outside the output folder"):
        StagedOutputs(tmp_path).add(path, b"x")
    assert list(tmp_path.iterdir()) == []


def test_the_bytes_are_not_kept(tmp_path: Path) -> None:
    outputs = StagedOutputs(tmp_path)
    outputs.add("big.html", b"x" * 1_000_000)
    assert len(pickle.dumps(outputs)) < 1_000  # what a worker sends back: the paths
    assert (tmp_path / "big.html").stat().st_size == 1_000_000 and (tmp_path / "big.html").stat().st_mode & 0o777 == 0o644


def test_a_failed_build_leaves_no_folder_it_made_for_the_output(make_site: MakeSite, tmp_path: Path) -> None:
    broken = make_site({"site_templates/templates/404.html": LATE_ERROR}, name="broken")
    with pytest.raises(Exception, match="missing"):
        build(broken, tmp_path / "deep" / "er" / "out", EXAMPLE_NOW)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken"]


def test_the_snapshot_streamed_to_its_file_is_one_json_dump_of_the_whole(tmp_path: Path) -> None:
    """Written piece by piece (one incident at a time), the file is the same bytes as
    `json.dumps` of the whole snapshot with sorted keys, as it was when it was one dump."""
    from statusgen.site.snapshot import snapshot, snapshot_chunks

    site = ROOT  # the example site: incidents, maintenance, texts in one language only
    result = build(site, tmp_path / "out", EXAMPLE_NOW, tmp_path / "snapshot.json")
    written = result.snapshot_path.read_bytes()
    whole = json.dumps(snapshot(result.state, Theme(site)), ensure_ascii=False, sort_keys=True,
                       separators=(",", ":")).encode() + b"\n"
    assert written == whole == b"".join(snapshot_chunks(result.state, Theme(site)))
    assert len(json.loads(written)["incidents"]) == len(result.state.incidents) > 3
    assert result.outputs.snapshot == written  # read back from its file


def test_a_build_failing_after_the_snapshot_was_streamed_leaves_the_old_one_and_no_temporary_file(
        make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site(name="site")
    first = build(site, tmp_path / "out", EXAMPLE_NOW)
    before = first.snapshot_path.read_bytes()
    with pytest.raises(BuildError, match="after the snapshot"), staged(tmp_path / "out") as outputs:
        outputs.write_beside(first.snapshot_path, iter([b"{", b"}\n"]))
        assert len(list(first.snapshot_path.parent.iterdir())) == 2  # the temporary file beside it
        raise OSError("disk full after the snapshot")
    assert first.snapshot_path.read_bytes() == before
    assert [path.name for path in first.snapshot_path.parent.iterdir()] == [first.snapshot_path.name]
