"""Incremental rebuilds (`Builder`, as `serve --watch` uses it): after any edit, the output
is byte for byte what a full build of the edited site writes at the same `now`, and a
one-incident edit renders only the few pages that show that incident."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statusgen.site.build import Builder, build
from statusgen.errors import ContentErrors
from statusgen.site.theme import packaged_theme
from tests.conftest import EXAMPLE_NOW, ROOT
from tests.golden import read_tree

INCIDENTS = ROOT / "incidents" / "2026"
OUTAGE = "incidents/2026/2026-11-03-pdf-certificates-unavailable.md"
ONGOING = "incidents/2026/2026-11-30-lookup-app-slow.md"
MAINTENANCE = "incidents/2026/2026-12-06-gateway-and-signing-network-upgrade.md"
GONE = "incidents/2026/2026-09-24-gateway-timeouts.md"
NEW_INCIDENT = """\
---
title: {en: A new incident, nl: Een nieuw incident}
impact: minor
components: {dcc-app: degraded_performance}
updates:
  - {at: 2026-11-29 10:00, status: investigating, body: Looking.}
  - {at: 2026-11-29 11:00, status: resolved, body: Fixed.}
---
"""
ANOTHER_UPDATE = """\
  - at: 2026-11-30 11:30
    status: monitoring
    body: {en: Searches are fast again; we keep watching., nl: Zoeken is weer snel.}
"""


def copy_example(folder: Path) -> Path:
    """The example site's files (not its output, nor the theme, which stays the packaged one)."""
    folder.mkdir(parents=True)
    for name in ("components.yaml", "subscribers.yaml"):
        shutil.copy(ROOT / name, folder / name)
    for name in ("content", "incidents"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "site")


def edit(site: Path, path: str, old: str, new: str) -> None:
    file = site / path
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_update(site: Path, path: str) -> None:
    """Append an update to an incident whose updates are the last thing in its front matter."""
    text = (site / path).read_text(encoding="utf-8").rstrip().removesuffix("---")
    (site / path).write_text(text + ANOTHER_UPDATE + "---\n", encoding="utf-8")


def write(site: Path, path: str, text: str) -> None:
    (site / path).parent.mkdir(parents=True, exist_ok=True)
    (site / path).write_text(text, encoding="utf-8")


def override_template(site: Path, name: str, old: str, new: str) -> None:
    """Give the site its own copy of a theme template, edited."""
    target = site / "site_templates" / "templates" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copy(packaged_theme() / "templates" / name, target)
    edit(site, target.relative_to(site).as_posix(), old, new)


EDITS: dict[str, Callable[[Path], None]] = {
    "title": lambda s: edit(s, OUTAGE, "en: PDF", "en: Downloadable PDF"),
    "update text": lambda s: edit(s, ONGOING, "We are investigating the cause.", "We look into it."),
    "add update": lambda s: add_update(s, ONGOING),
    "move window": lambda s: edit(s, MAINTENANCE, "start: 2026-12-06 22:00", "start: 2026-11-30 11:00"),
    "delete": lambda s: (s / GONE).unlink(),
    "add": lambda s: write(s, "incidents/2026/2026-11-29-new.md", NEW_INCIDENT),
    "template": lambda s: override_template(s, "incident.html", '<article class="incident',
                                            '<p>Edited template</p>\n<article class="incident'),
    "translation": lambda s: write(s, "site_templates/i18n/en.yaml", "nav_history: Archive\n"),
    "site.yaml": lambda s: edit(s, "content/site.yaml", "en: Regional Integration Platform status",
                                "en: Platform status"),
    "components.yaml": lambda s: edit(s, "components.yaml", "en: EU Digital COVID Certificates",
                                      "en: EU COVID Certificates"),
    "content page": lambda s: edit(s, "content/pages/help.en.md", "This page shows", "Edited. This page shows"),
    # the Dutch-only update gets its English: the English page no longer marks it as Dutch
    "missing translation": lambda s: edit(s, "incidents/2026/2026-11-10-partner-portal-date-format.md",
                                  "      nl: De datums worden weer correct weergegeven.\n",
                                  "      nl: De datums worden weer correct weergegeven.\n"
                                  "      en: Dates are shown correctly again.\n"),
}
LOCAL = ("title", "update text", "add update", "delete", "move window", "missing translation")
"""Edits of one incident: a rebuild renders the home page, the incident's own page, the
history page and the pages of the components and groups it touches, in both languages;
at most 16 of the example site's 66 pages (the P1 outage touches five)."""
MOST_PAGES = 16


def assert_same_as_full_build(site: Path, out: Path, tmp_path: Path, now: str = EXAMPLE_NOW) -> None:
    full = build(site, tmp_path / "full", now)
    built = read_tree(out)
    assert sorted(built) == sorted(full.outputs)
    different = [path for path in sorted(built) if built[path] != full.outputs[path]]
    assert not different, f"differ from a full build: {different[:10]}"
    shutil.rmtree(tmp_path / "full")


@pytest.mark.parametrize("change", sorted(EDITS))
def test_an_incremental_rebuild_equals_a_full_build(change: str, site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    first = builder.build()
    assert first.counters["pages_reused"] == 0
    EDITS[change](site)
    again = builder.build()
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    if change in LOCAL:
        assert 0 < again.counters["pages_rendered"] <= MOST_PAGES, again.counters
        assert again.counters["files_parsed"] <= 1 and again.counters["states_computed"] <= 2


def test_nothing_changed_renders_only_the_home_pages(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    again = builder.build()
    assert again.counters["pages_rendered"] == 2  # the home page, in two languages: it says when
    assert again.counters["files_parsed"] == 0 and again.written == 0


def test_forked_workers_fill_the_cache_too(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=True)
    builder.build()
    EDITS["components.yaml"](site)  # every page changes: rendered by the workers again
    builder.build()
    EDITS["title"](site)
    again = builder.build()
    assert again.counters["pages_rendered"] <= MOST_PAGES
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_time_moving_on_moves_maintenance_and_durations(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    for later in ("2026-11-30T12:07:00+01:00", "2026-12-06T23:00:00+01:00", "2026-12-08T09:00:00+01:00"):
        builder.now = later
        builder.build()
        assert_same_as_full_build(site, tmp_path / "out", tmp_path, later)


def test_a_broken_edit_keeps_the_last_good_build_and_recovers(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    before = read_tree(tmp_path / "out")
    original = (site / OUTAGE).read_text(encoding="utf-8")
    (site / OUTAGE).write_text(original.replace("impact: P1", "impact: P9"), encoding="utf-8")
    with pytest.raises(ContentErrors) as raised:
        builder.build()
    assert str(raised.value.errors[0]).startswith(f"{OUTAGE}:")
    assert read_tree(tmp_path / "out") == before
    (site / OUTAGE).write_text(original.replace("en: PDF", "en: The PDF"), encoding="utf-8")
    builder.build()
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_a_broken_template_is_reported_and_the_cache_survives(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    override_template(site, "history.html", "{% block main %}", "{% block main %}{% if %}")
    with pytest.raises(ContentErrors):
        builder.build()
    (site / "site_templates" / "templates" / "history.html").unlink()
    again = builder.build()
    assert again.counters["pages_rendered"] <= 4  # the theme is as before: the home pages and little else
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


STEPS = ["title", "update text", "add update", "move window", "delete", "add", "content page",
         "components.yaml", "translation"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=4, unique=True),
       minutes=st.lists(st.integers(0, 60 * 24 * 8), min_size=4, max_size=4))
def test_any_sequence_of_edits_and_times_equals_a_full_build(tmp_path_factory: pytest.TempPathFactory,
                                                              steps: list[str], minutes: list[int]) -> None:
    from datetime import datetime, timedelta

    folder = tmp_path_factory.mktemp("sequence")
    site = copy_example(folder / "site")
    builder = Builder(site, folder / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    start = datetime.fromisoformat(EXAMPLE_NOW)
    for step, offset in zip(steps, minutes[:len(steps)], strict=True):
        EDITS[step](site)
        builder.now = (start + timedelta(minutes=offset)).isoformat()
        builder.build()
        assert_same_as_full_build(site, folder / "out", folder, builder.now)


# --- The watcher's paths (serve --watch hands the Builder what changed) -----------------

def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file() and not p.relative_to(site).as_posix().startswith("public/")}


def reported(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """What a watcher reports for an edit: every file created, modified or deleted."""
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


@pytest.mark.parametrize("change", sorted(EDITS))
def test_a_rebuild_of_the_watchers_paths_equals_a_full_build(change: str, site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    before = files_of(site)
    EDITS[change](site)
    again = builder.build(reported(before, files_of(site)))
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    assert not builder.cache.files.walked
    if change in LOCAL:
        assert 0 < again.counters["pages_rendered"] <= MOST_PAGES, again.counters
        assert again.counters["files_parsed"] <= 1


def test_files_the_watcher_did_not_report_are_not_looked_at_until_a_walk(site: Path, tmp_path: Path) -> None:
    """The missed-event fallback: without the watcher's word nothing is seen; a walk (the
    build after an overflow) sees everything."""
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    before = read_tree(tmp_path / "out")
    EDITS["title"](site)
    EDITS["add"](site)
    unreported = builder.build([])
    assert unreported.counters["files_parsed"] == 0 and read_tree(tmp_path / "out") == before
    walked = builder.build(None)
    assert builder.cache.files.walked and walked.counters["files_parsed"] == 2
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_a_folder_moved_created_or_deleted_makes_the_build_walk(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    (site / "incidents" / "2026").rename(site / "incidents" / "this-year")  # watchdog: one folder event
    builder.build([site / "incidents" / "2026", site / "incidents" / "this-year"])
    assert builder.cache.files.walked
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    shutil.rmtree(site / "incidents" / "this-year")
    builder.build(["incidents/this-year"])
    assert builder.cache.files.walked
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    write(site, "incidents/later/2026-11-29-new.md", NEW_INCIDENT)
    builder.build(["incidents/later"])
    assert builder.cache.files.walked
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_renamed_and_deleted_files_by_the_watchers_paths(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    (site / OUTAGE).rename(site / "incidents/2026/pdf-down.md")
    builder.build([OUTAGE, "incidents/2026/pdf-down.md"])
    assert not builder.cache.files.walked
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    (site / "incidents/2026/pdf-down.md").unlink()
    builder.build([site / "incidents/2026/pdf-down.md"])
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_paths_reported_before_a_failed_build_count_in_the_next(site: Path, tmp_path: Path) -> None:
    """site.yaml broken: the load stops before the incidents; the file added meanwhile
    must still be read once site.yaml is fixed (only site.yaml is reported then)."""
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    original = (site / "content/site.yaml").read_text(encoding="utf-8")
    (site / "content/site.yaml").write_text(original.replace("timezone:", "timezone: Mars/Base\nx:"),
                                            encoding="utf-8")
    write(site, "incidents/2026/2026-11-29-new.md", NEW_INCIDENT)
    with pytest.raises(ContentErrors):
        builder.build(["content/site.yaml", "incidents/2026/2026-11-29-new.md"])
    (site / "content/site.yaml").write_text(original, encoding="utf-8")
    builder.build(["content/site.yaml"])
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


# --- History pages are numbered from the oldest ---------------------------------------

def history_files(out: Path) -> dict[str, bytes]:
    return {path: data for path, data in read_tree(out).items()
            if path.startswith(("history/", "en/history/")) and path.endswith(".html")}


def test_a_new_incident_changes_a_bounded_number_of_history_pages(site: Path, tmp_path: Path) -> None:
    """Two entries a page: each new incident rewrites the front page; every second one also
    makes a new numbered page and changes its older neighbour's "newer" link. The other
    numbered pages keep their bytes, so their URLs keep their incidents."""
    edit(site, "content/site.yaml", "history_days: 14", "history_days: 14\npage_size: 2")
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    pages = history_files(tmp_path / "out")
    assert "history/1/index.html" in pages and "en/history/1/index.html" in pages
    for day in ("27", "28", "29"):
        name = f"incidents/2026/2026-11-{day}-new.md"
        write(site, name, NEW_INCIDENT.replace("2026-11-29", f"2026-11-{day}"))
        builder.build([name])
        now = history_files(tmp_path / "out")
        changed = [path for path in now if pages.get(path) != now[path]]
        assert set(pages) <= set(now) and len(now) - len(pages) in (0, 2)
        assert len(changed) <= 6, changed  # at most three in each language
        assert "history/1/index.html" not in changed
        pages = now
        assert_same_as_full_build(site, tmp_path / "out", tmp_path)


# --- Component pages are numbered from the oldest too ----------------------------------

def component_files(out: Path, item: str) -> dict[str, bytes]:
    return {path: data for path, data in read_tree(out).items()
            if path.startswith((f"components/{item}/", f"en/components/{item}/")) and path.endswith(".html")}


def test_a_new_incident_changes_a_bounded_number_of_component_pages(site: Path, tmp_path: Path) -> None:
    """Two entries a page: a new incident of the app rewrites the front pages of the app and
    of its group (status, bars, newest entries) and, every second one, makes a new numbered
    page and changes its older neighbour's link; the app's other numbered pages keep their
    bytes, so their URLs keep their incidents."""
    edit(site, "content/site.yaml", "history_days: 14", "history_days: 14\npage_size: 2")
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    pages = {item: component_files(tmp_path / "out", item) for item in ("dcc-app", "eu-dcc")}
    assert "components/dcc-app/page/1/index.html" in pages["dcc-app"]
    assert "en/components/eu-dcc/page/2/index.html" in pages["eu-dcc"]
    for day in ("27", "28", "29"):
        name = f"incidents/2026/2026-11-{day}-new.md"
        write(site, name, NEW_INCIDENT.replace("2026-11-29", f"2026-11-{day}"))
        builder.build([name])
        for item in ("dcc-app", "eu-dcc"):
            now = component_files(tmp_path / "out", item)
            changed = [path for path in now if pages[item].get(path) != now[path]]
            assert set(pages[item]) <= set(now) and len(now) - len(pages[item]) in (0, 2)
            assert len(changed) <= 6, changed  # at most three in each language
            assert f"components/{item}/page/1/index.html" not in changed
            pages[item] = now
        assert_same_as_full_build(site, tmp_path / "out", tmp_path)


OLDEST_APP = "incidents/2026/2026-08-27-vaccinations-missing.md"
"""The app's oldest incident: on the app's first numbered page when pages hold two."""


def test_edits_of_a_listed_incident_change_the_pages_that_list_it(site: Path, tmp_path: Path) -> None:
    """Summaries (shared.py) and archive pages are taken over from build to build: an edit
    to an incident must still reach every page that lists it, the oldest numbered component
    page included, again and again, and undone, give the first bytes back."""
    edit(site, "content/site.yaml", "history_days: 14", "history_days: 14\npage_size: 2")
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    archive = tmp_path / "out" / "en/components/dcc-app/page/1/index.html"
    first = archive.read_bytes()
    assert b"Recent vaccinations missing from certificates" in first
    for title in ("Vaccinations gone", "Vaccinations missing again"):
        text = (site / OLDEST_APP).read_text(encoding="utf-8")
        edit(site, OLDEST_APP, text.split("  en: ", 1)[1].split("\n", 1)[0], title)
        again = builder.build([OLDEST_APP])
        assert again.counters["pages_rendered"] <= MOST_PAGES, again.counters
        assert title.encode() in archive.read_bytes()
        assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    edit(site, OLDEST_APP, "Vaccinations missing again", "Recent vaccinations missing from certificates")
    builder.build([OLDEST_APP])
    assert archive.read_bytes() == first
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_an_edit_of_a_newer_incident_leaves_the_older_archive_pages(site: Path, tmp_path: Path) -> None:
    """The numbered pages older than an edited incident's are taken from the last build
    whole; the edited incident's own page shows the edit (as a full build does)."""
    edit(site, "content/site.yaml", "history_days: 14", "history_days: 14\npage_size: 2")
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    before = component_files(tmp_path / "out", "dcc-app")
    EDITS["title"](site)  # the November outage, newer than the app's oldest pages
    builder.build([OUTAGE])
    after = component_files(tmp_path / "out", "dcc-app")
    changed = sorted(path for path in after if before.get(path) != after[path])
    assert changed and "components/dcc-app/page/1/index.html" not in changed
    assert any(b"Downloadable PDF" in after[path] for path in changed)
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_a_changed_summary_template_changes_every_list(site: Path, tmp_path: Path) -> None:
    """The summaries kept from the last build are not used once the theme changed."""
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    builder.build()
    override_template(site, "summary.html", '<article class="incident-summary', '<article class="edited incident-summary')
    builder.build()
    assert b'class="edited incident-summary' in (tmp_path / "out" / "en/components/dcc-app/index.html").read_bytes()
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_an_old_numbered_component_page_shows_its_incidents_and_links_back(site: Path, tmp_path: Path) -> None:
    edit(site, "content/site.yaml", "history_days: 14", "history_days: 14\npage_size: 2")
    build(site, tmp_path / "out", EXAMPLE_NOW)
    oldest = (tmp_path / "out" / "en/components/dcc-app/page/1/index.html").read_text(encoding="utf-8")
    front = (tmp_path / "out" / "en/components/dcc-app/index.html").read_text(encoding="utf-8")
    assert "Recent vaccinations missing" in oldest  # the app's oldest incident (August)
    assert 'rel="next"' not in oldest and 'rel="prev"' in oldest and "Page 1" in oldest
    assert 'href="../../"' in oldest  # back to the component's first page
    assert "data-live-component" in front and "data-live-component" not in oldest  # status: the front only


# --- What every incident feeds: the snapshot, the API and availability ------------------

def snapshot_after_full_build(site: Path, tmp_path: Path, now: str = EXAMPLE_NOW) -> bytes:
    full = build(site, tmp_path / "full", now, snapshot_path=tmp_path / "full-snapshot.json")
    shutil.rmtree(tmp_path / "full")
    assert full.snapshot_path is not None
    return full.snapshot_path.read_bytes()


@pytest.mark.parametrize("change", ["delete", "add", "title", "move window", "add update"])
def test_the_snapshot_after_an_edit_equals_a_full_builds(change: str, site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    before = files_of(site)
    EDITS[change](site)
    builder.build(reported(before, files_of(site)))
    assert builder.snapshot.read_bytes() == snapshot_after_full_build(site, tmp_path)


def test_the_api_after_a_delete_no_longer_lists_the_incident(site: Path, tmp_path: Path) -> None:
    from statusgen.ids import incident_id

    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    gone = incident_id(Path(GONE).stem)
    assert gone in (tmp_path / "out" / "api/v2/incidents.json").read_text(encoding="utf-8")
    EDITS["delete"](site)
    builder.build([GONE])
    for path in ("api/v2/incidents.json", "en/api/v2/incidents.json", "api/v2/summary.json"):
        assert gone not in (tmp_path / "out" / path).read_text(encoding="utf-8")
    assert Path(GONE).stem.encode() not in builder.snapshot.read_bytes()
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


@pytest.mark.parametrize("change", ["delete ongoing", "title", "add update"])
def test_the_api_after_edits_to_the_last_change_of_a_component(change: str, site: Path, tmp_path: Path) -> None:
    """Deleting the incident that changed a component last moves its last change back
    (looked for among all incidents again); an edit to an older one leaves it."""
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    before = (tmp_path / "out" / "api/v2/components.json").read_bytes()
    if change == "delete ongoing":
        (site / ONGOING).unlink()
    else:
        EDITS[change](site)
    builder.build()
    after = (tmp_path / "out" / "api/v2/components.json").read_bytes()
    assert (before != after) == (change != "title")
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_availability_after_an_edit_moves_with_the_incident(site: Path, tmp_path: Path) -> None:
    """The P1 outage begun an hour earlier: its components' figures for November change."""
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    before = {path: (tmp_path / "out" / path).read_bytes() for path in ("availability.csv", "api/availability.json",
                                                                      "availability/index.html")}
    edit(site, OUTAGE, "at: 2026-11-03 08:12", "at: 2026-11-03 07:12")
    builder.build([OUTAGE])
    for path, data in before.items():
        assert (tmp_path / "out" / path).read_bytes() != data, path
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_availability_after_an_incident_moves_out_of_the_months_shown(site: Path, tmp_path: Path) -> None:
    """Moved two years back, the outage no longer counts (its old version did); edited
    there, it changes no figure."""
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    files = ("availability.csv", "api/availability.json", "availability/index.html")
    before = {path: (tmp_path / "out" / path).read_bytes() for path in files}
    (site / OUTAGE).write_text((site / OUTAGE).read_text(encoding="utf-8").replace("2026-11-03", "2024-11-03"),
                               encoding="utf-8")
    builder.build([OUTAGE])
    moved = {path: (tmp_path / "out" / path).read_bytes() for path in files}
    assert all(moved[path] != before[path] for path in files)
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    EDITS["title"](site)
    builder.build([OUTAGE])
    assert {path: (tmp_path / "out" / path).read_bytes() for path in files} == moved
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)


def test_aliases_added_and_removed_by_edits_give_a_full_builds_redirects(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    edit(site, OUTAGE, "type: incident", "type: incident\naliases: [pdf-down-2026]")
    builder.build([OUTAGE])
    assert (tmp_path / "out" / "incidents/pdf-down-2026/index.html").is_file()
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    edit(site, OUTAGE, "aliases: [pdf-down-2026]", "aliases: [pdf-gone]")
    EDITS["delete"](site)
    builder.build([OUTAGE, GONE])
    assert not (tmp_path / "out" / "incidents/pdf-down-2026").exists()
    assert_same_as_full_build(site, tmp_path / "out", tmp_path)
