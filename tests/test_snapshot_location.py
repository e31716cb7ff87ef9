"""The notifier's snapshot lives beside the site, never in the published folder.

What is published is what readers and clients use; the snapshot (the notifier's input,
about 20 MB at 10,000 incidents) goes to `SITE/.statusgen/snapshot.json` or `--snapshot`,
all or nothing with the folder, and `statusgen notify` finds it there."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from statusgen import notify
from statusgen.content.load import load_site
from statusgen.errors import BuildError, ContentErrors, SetupError
from statusgen.site import output
from statusgen.site.build import BuildResult, Builder, build
from statusgen.site.snapshot import FORMAT
from tests.conftest import EXAMPLE_NOW, ROOT, SITE_YAML, MakeSite
from tests.golden import read_tree

SECRET = {"STATUSGEN_SECRET_KEY": "s" * 32}
NOTIFYING = SITE_YAML + "notify: {from: status@example.org, unsubscribe_mailto: leave@example.org}\n"
INCIDENT = """\
---
title: App down
components: {dcc-app: major_outage}
updates:
  - {at: 2026-11-30 09:00, status: investigating, body: Looking.}
---
"""
PUBLISHED = re.compile(r"""(?x)((?P<lang>en|nl)/)?(
    .*\.html | _headers | robots\.txt | sitemap\.xml | availability\.csv | live\.js | embed/banner\.js
  | static/[^/]+ | history\.(atom|rss) | maintenance\.ics | badge\.(svg|json)
  | components/[a-z0-9-]+/(history\.(atom|rss)|maintenance\.ics|badge\.(svg|json))
  | api/(uptime|availability)\.json | api/v2/[a-z/-]+\.json)""")
"""Every kind of file the published folder may hold (DESIGN.md, "Output layout")."""


def test_the_published_folder_holds_only_what_readers_and_clients_use(example_build: BuildResult) -> None:
    files = read_tree(example_build.out_dir)
    assert not [path for path in files if not PUBLISHED.fullmatch(path)]
    _, subscribers = load_site(ROOT)
    secrets = {s.email.lower() for s in subscribers if s.email} | {s.webhook.lower() for s in subscribers if s.webhook}
    secrets |= {"statusgen-snapshot", ".statusgen", "snapshot.json", "notify.db", "subscriptions.db"}
    for path, content in files.items():
        text = f"{path}\n{content.decode(errors='replace')}".lower()
        assert not {secret for secret in secrets if secret in text}, path


def test_the_snapshot_is_written_beside_the_published_folder(example_build: BuildResult) -> None:
    assert example_build.snapshot_path is not None
    assert not example_build.snapshot_path.is_relative_to(example_build.out_dir)
    assert example_build.snapshot_path.read_bytes() == example_build.outputs.snapshot
    assert json.loads(example_build.snapshot_path.read_bytes())["format"] == FORMAT
    assert "api/snapshot.json" not in example_build.outputs


def test_by_default_it_goes_to_the_sites_private_folder_also_with_out(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"incidents/app.md": INCIDENT})
    result = build(site, tmp_path / "elsewhere", EXAMPLE_NOW)
    assert result.snapshot_path == site / ".statusgen" / "snapshot.json"
    assert result.snapshot_path.read_bytes() == result.outputs.snapshot
    assert sorted(os.listdir(site / ".statusgen")) == ["snapshot.json"]  # no temporary file left behind
    assert not (tmp_path / "elsewhere" / "api" / "snapshot.json").exists()


def test_two_builds_at_the_same_time_write_the_same_snapshot(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"incidents/app.md": INCIDENT})
    first = build(site, tmp_path / "a", EXAMPLE_NOW, tmp_path / "a.json").snapshot_path
    second = build(site, tmp_path / "b", EXAMPLE_NOW, tmp_path / "b.json").snapshot_path
    assert first and second and first.read_bytes() == second.read_bytes()


def test_a_snapshot_inside_the_published_folder_is_refused(make_site: MakeSite, tmp_path: Path,
                                                           run_cli: Any) -> None:
    site = make_site()
    code, _, err = run_cli("build", "--site", site, "--out", tmp_path / "out", "--snapshot",
                           tmp_path / "out" / "api" / "snapshot.json")
    assert code == 2
    assert err.splitlines()[-1] == (
        f"statusgen: --snapshot {tmp_path}/out/api/snapshot.json is inside the published folder {tmp_path}/out; "
        "the snapshot is internal: leave --snapshot out (default: SITE/.statusgen/snapshot.json) or choose a path "
        "outside it")
    assert not (tmp_path / "out").exists() and not (site / ".statusgen").exists()


def test_a_failed_build_leaves_the_folder_and_the_snapshot_as_they_were(make_site: MakeSite,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site({"incidents/app.md": INCIDENT})
    first = build(site, None, EXAMPLE_NOW)
    assert first.snapshot_path is not None
    before = first.snapshot_path.read_bytes(), read_tree(first.out_dir)
    (site / "incidents" / "broken.md").write_text("---\ntitle: [\n---\n")
    with pytest.raises(ContentErrors):
        build(site, None, "2026-11-30T13:00:00+01:00")
    (site / "incidents" / "broken.md").unlink()

    def fail(staging: Path, out_dir: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(output, "_swap", fail)  # written in full, then the swap fails
    with pytest.raises(BuildError, match="disk full; nothing was changed"):  # one line, no traceback
        build(site, None, "2026-11-30T13:00:00+01:00")
    assert (first.snapshot_path.read_bytes(), read_tree(first.out_dir)) == before
    assert sorted(os.listdir(site / ".statusgen")) == ["snapshot.json"]
    assert sorted(p.name for p in site.iterdir() if p.name.startswith(".public")) == []


def test_the_snapshot_is_replaced_only_after_the_folder(make_site: MakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the process dies between the two, notify announces the previous state (late), never
    one whose pages are not published yet."""
    site = make_site({"incidents/app.md": INCIDENT})
    build(site, None, EXAMPLE_NOW)
    order: list[str] = []
    swap, replace = output._swap, os.replace
    monkeypatch.setattr(output, "_swap", lambda *a: (order.append("folder"), swap(*a))[1])
    monkeypatch.setattr(output.os, "replace", lambda a, b: (order.append(Path(b).name), replace(a, b))[1])
    build(site, None, "2026-11-30T13:00:00+01:00")
    assert order == ["folder", "snapshot.json"]


def test_serve_writes_the_snapshot_beside_the_site_when_it_changes(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"incidents/app.md": INCIDENT})
    builder = Builder(site, None, EXAMPLE_NOW, parallel=False)
    first = builder.build()
    snapshot = site / ".statusgen" / "snapshot.json"
    assert first.snapshot_path == snapshot and snapshot.read_bytes() == build(
        site, tmp_path / "full", EXAMPLE_NOW, tmp_path / "full.json").outputs.snapshot
    written = snapshot.stat().st_mtime_ns, snapshot.stat().st_ino
    builder.build()  # nothing changed: not written again
    assert (snapshot.stat().st_mtime_ns, snapshot.stat().st_ino) == written
    (site / "incidents" / "app.md").write_text(INCIDENT.replace("App down", "App is down"))
    builder.build()
    assert json.loads(snapshot.read_bytes())["incidents"]["app"]["title"]["en"] == "App is down"
    again = build(site, tmp_path / "again", EXAMPLE_NOW, tmp_path / "again.json")
    assert snapshot.read_bytes() == again.outputs.snapshot
    assert not (site / "public" / "api" / "snapshot.json").exists()


# ── statusgen notify finds it, or says exactly what to run ──────────────────────────

def run_notify(site: Path, **options: Any) -> Any:
    return notify(site, env=SECRET, stream=io.StringIO(), **options)


def test_notify_finds_the_snapshot_of_a_build_into_another_folder(make_site: MakeSite, tmp_path: Path,
                                                                 run_cli: Any) -> None:
    site = make_site({"incidents/app.md": INCIDENT, "content/site.yaml": NOTIFYING})
    code, _, err = run_cli("build", "--site", site, "--out", tmp_path / "deploy", "--now", EXAMPLE_NOW)
    assert code == 0, err
    assert run_notify(site, baseline=True).baseline  # no --out, no --snapshot


def test_build_and_notify_agree_on_snapshot(make_site: MakeSite, tmp_path: Path, run_cli: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET["STATUSGEN_SECRET_KEY"])
    site = make_site({"incidents/app.md": INCIDENT, "content/site.yaml": NOTIFYING})
    chosen = tmp_path / "state" / "snap.json"
    assert run_cli("build", "--site", site, "--snapshot", chosen, "--now", EXAMPLE_NOW)[0] == 0
    assert chosen.is_file() and not (site / ".statusgen").exists()
    code, _, err = run_cli("notify", "--site", site, "--snapshot", chosen, "--baseline")
    assert code == 0 and "recorded a baseline of" in err, err


def test_notify_without_a_snapshot_says_what_to_run_and_does_nothing(make_site: MakeSite, run_cli: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET["STATUSGEN_SECRET_KEY"])
    site = make_site({"incidents/app.md": INCIDENT, "content/site.yaml": NOTIFYING})
    code, _, err = run_cli("notify", "--site", site)
    assert code == 1
    assert err.splitlines() == [
        f"{site}/.statusgen/snapshot.json: no snapshot; run `statusgen build` first (it writes the snapshot there), "
        "or give the snapshot `statusgen build --snapshot PATH` wrote with `statusgen notify --snapshot PATH`",
        "statusgen: 1 setting to fix; nothing was done (`statusgen doctor` checks them all)"]
    assert not (site / ".statusgen").exists()  # no store, no outbox


def test_the_other_problems_are_listed_with_it(make_site: MakeSite) -> None:
    site = make_site({"incidents/app.md": INCIDENT, "content/site.yaml": (
        SITE_YAML + "subscriptions: {url: https://status.example.org/subscriptions/}\n")})
    with pytest.raises(SetupError) as refused:
        notify(site, env={}, stream=io.StringIO())
    assert len(refused.value.problems) > 1
    assert refused.value.problems[0].endswith("`statusgen notify --snapshot PATH`")
    assert any("STATUSGEN_SECRET_KEY" in problem for problem in refused.value.problems[1:])


def test_an_old_sites_published_snapshot_is_named_and_never_read(make_site: MakeSite) -> None:
    site = make_site({"incidents/app.md": INCIDENT, "content/site.yaml": NOTIFYING})
    build(site, None, EXAMPLE_NOW)
    run_notify(site, baseline=True)  # the store's place, as the old version recorded it
    store = (site / ".statusgen" / "notify.db").read_bytes()
    (site / ".statusgen" / "snapshot.json").rename(site / "public" / "api" / "snapshot.json")  # as 0.1 left it
    with pytest.raises(SetupError) as refused:
        run_notify(site)
    assert refused.value.problems == (
        f"{site}/.statusgen/snapshot.json: no snapshot; {site}/public/api/snapshot.json was written by an older "
        f"statusgen, which published it, and is not read: run `statusgen build` (it writes the snapshot to "
        f"{site}/.statusgen/snapshot.json and no longer publishes it), then notify again; the notifier store keeps "
        "its place",)
    assert (site / ".statusgen" / "notify.db").read_bytes() == store
    build(site, None, EXAMPLE_NOW)
    assert not (site / "public" / "api" / "snapshot.json").exists()
    report = run_notify(site)
    assert not report.baseline and report.events == []


def test_a_snapshot_that_is_not_one_is_named(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"content/site.yaml": NOTIFYING})
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(SetupError) as refused:
        run_notify(site, snapshot_path=tmp_path / "x.json")
    assert refused.value.problems == (
        f"{tmp_path}/x.json: expected a snapshot in format {FORMAT}; run `statusgen build` to write it again",)
