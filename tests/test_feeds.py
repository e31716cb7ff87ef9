"""RSS and Atom feeds, read back with feedparser as feed readers read them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from statusgen.site.build import BuildResult, build
from statusgen.site.feeds import FEED_SIZE, newest_first
from statusgen.site.state import IncidentState, SiteState
from tests.conftest import MakeSite

BASE = "https://status.example.org/"
TAG = "tag:status.example.org,2026:/incidents/"

INCIDENT = """\
---
title: {en: PDF certificates cannot be downloaded, nl: PDF-certificaten niet downloadbaar}
type: incident
components:
  dcc-certificates: major_outage
updates:
  - at: 2026-11-28 09:20
    status: investigating
    body: {en: We are investigating., nl: We onderzoeken het probleem.}
  - at: 2026-11-28 10:05
    status: identified
    body: {en: The certificate store is down., nl: De certificaatopslag ligt plat.}
  - at: 2026-11-28 11:40
    status: resolved
    body: {en: Fixed., nl: Opgelost.}
---
"""
APP_INCIDENT = """\
---
title: {en: App sign-in fails, nl: Aanmelden in de app mislukt}
components:
  dcc-app: partial_outage
updates:
  - at: 2026-11-20 08:00
    status: investigating
    body: {en: Sign-in fails for some users., nl: Aanmelden mislukt voor sommige gebruikers.}
---
"""
LOOKUP_INCIDENT = """\
---
title: Lookup portal slow
components:
  lookup-portal: degraded_performance
updates:
  - at: 2026-11-25 14:00
    status: investigating
    body: Searches are slow.
---
"""
MAINTENANCE = """\
---
title: {en: Database upgrade, nl: Upgrade van de databank}
type: maintenance
components: [eu-dcc]
window:
  start: 2026-12-10 22:00
  end: 2026-12-11 01:00
updates:
  - at: 2026-11-26 10:00
    status: scheduled
    body: {en: We will upgrade the database., nl: We voeren een upgrade uit van de databank.}
---
"""


def parse(content: bytes) -> Any:
    parsed = feedparser.parse(content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def feeds_in(out_dir: Path) -> dict[str, Any]:
    """Every feed file in a built site, parsed, by its path."""
    files = sorted([*out_dir.rglob("*.atom"), *out_dir.rglob("*.rss")])
    return {file.relative_to(out_dir).as_posix(): parse(file.read_bytes()) for file in files}


def moment(parsed: time.struct_time) -> datetime:
    return datetime(*parsed[:6], tzinfo=UTC)


def entry_time(entry: Any) -> datetime:
    """Atom's `updated`; RSS has only `pubDate`, which carries the same moment."""
    atom = dict.__contains__(entry, "updated_parsed")  # feedparser's own lookup warns on RSS
    return moment(entry.updated_parsed if atom else entry.published_parsed)


def prefix(path: str, languages: tuple[str, ...]) -> str:
    first = path.split("/")[0]
    return first + "/" if first in languages[1:] else ""


def lang_of(path: str, languages: tuple[str, ...]) -> str:
    return prefix(path, languages).rstrip("/") or languages[0]


def ids(feed: Any) -> list[str]:
    return [entry.id for entry in feed.entries]


def tags(incidents: list[IncidentState]) -> list[str]:
    return [TAG + s.id for s in incidents]


def affecting(state: SiteState, component_ids: set[str]) -> list[IncidentState]:
    return [s for s in newest_first(state.incidents) if component_ids & set(s.incident.component_ids)]


@pytest.fixture(scope="module")
def example_feeds(example_build: BuildResult) -> dict[str, Any]:
    return feeds_in(example_build.out_dir)


def test_every_language_has_a_site_feed_and_one_per_component_and_group(
        example_build: BuildResult, example_feeds: dict[str, Any]) -> None:
    site = example_build.site
    items = [*(g.id for g in site.groups), *(c.id for c in site.components)]
    folders = [""] + [f"components/{item}/" for item in items]
    expected = {f"{lang}{folder}history.{kind}"
                for lang in ("", "en/") for folder in folders for kind in ("atom", "rss")}
    assert set(example_feeds) == expected


def test_every_feed_is_valid_and_points_at_the_site(example_build: BuildResult,
                                                     example_feeds: dict[str, Any]) -> None:
    config = example_build.site.config
    for path, feed in example_feeds.items():
        lang, lang_prefix = lang_of(path, config.languages), prefix(path, config.languages)
        folder = path.rpartition("/")[0] + "/" if "/" in path else ""
        assert feed.version == ("atom10" if path.endswith(".atom") else "rss20"), path
        assert feed.feed.language == lang
        assert config.title[lang] in feed.feed.title
        assert feed.feed.subtitle
        links = {link.rel: link.href for link in feed.feed.links}
        assert links["self"] == BASE + path
        assert links["alternate"] == BASE + (folder if "components/" in path else lang_prefix + "history/")
        assert len(feed.entries) <= FEED_SIZE
        for entry in feed.entries:
            assert entry.id.startswith(TAG)
            assert entry.link.startswith(BASE + lang_prefix + "incidents/")
            assert entry.title
            assert entry.content[0].value if path.endswith(".atom") else entry.summary
        times = [entry_time(entry) for entry in feed.entries]
        assert times == sorted(times, reverse=True), f"{path}: not newest first"
        if times:
            assert moment(feed.feed.updated_parsed) == times[0], f"{path}: updated is not the newest entry's"


def test_the_site_feed_lists_every_incident_and_maintenance_with_its_dates(
        example_build: BuildResult, example_feeds: dict[str, Any]) -> None:
    state = example_build.state
    expected = newest_first(state.incidents)
    assert any(s.is_upcoming for s in expected), "the example should announce upcoming maintenance"
    for path in ("history.atom", "en/history.atom", "history.rss", "en/history.rss"):
        feed = example_feeds[path]
        assert ids(feed) == tags(expected)
        assert [entry_time(entry) for entry in feed.entries] == [s.updated_at for s in expected]
    atom = example_feeds["en/history.atom"]
    assert [moment(e.published_parsed) for e in atom.entries] == [s.created_at for s in expected]
    assert [e.link for e in atom.entries] == [f"{BASE}en/incidents/{s.id}/" for s in expected]


def test_categories_name_the_affected_components(example_build: BuildResult,
                                                 example_feeds: dict[str, Any]) -> None:
    site, state = example_build.site, example_build.state
    by_tag = {TAG + s.id: s.incident for s in state.incidents}
    for path, lang in (("history.atom", "nl"), ("en/history.atom", "en")):
        for entry in example_feeds[path].entries:
            incident = by_tag[entry.id]
            assert [(t.term, t.label) for t in entry.get("tags", [])] == [
                (cid, site.components_by_id[cid].name[lang]) for cid in incident.component_ids]
    for entry in example_feeds["en/history.rss"].entries:  # RSS has room for the name only
        names = [site.components_by_id[cid].name["en"] for cid in by_tag[entry.id].component_ids]
        assert [t.term for t in entry.get("tags", [])] == names


def test_component_and_group_feeds_hold_only_their_incidents(example_build: BuildResult,
                                                             example_feeds: dict[str, Any]) -> None:
    site, state = example_build.site, example_build.state
    for component in site.components:
        expected = tags(affecting(state, {component.id}))
        for path in (f"components/{component.id}/history.atom", f"en/components/{component.id}/history.rss"):
            assert ids(example_feeds[path]) == expected, path
    for group in site.groups:
        expected = tags(affecting(state, set(group.components)))
        assert expected
        assert ids(example_feeds[f"components/{group.id}/history.atom"]) == expected
        assert ids(example_feeds[f"en/components/{group.id}/history.rss"]) == expected
    assert ids(example_feeds["components/dcc-app/history.atom"]) != ids(example_feeds["history.atom"])


def test_the_dutch_feed_is_in_dutch(example_build: BuildResult, example_feeds: dict[str, Any]) -> None:
    expected = newest_first(example_build.state.incidents)
    dutch, english = example_feeds["history.atom"], example_feeds["en/history.atom"]
    assert dutch.feed.title == "Status Regionaal Integratieplatform – incidenten en onderhoud"
    assert [e.title for e in dutch.entries] == [s.incident.title["nl"] for s in expected]
    assert [e.title for e in english.entries] == [s.incident.title["en"] for s in expected]
    assert dutch.entries[0].title != english.entries[0].title


def test_an_entry_holds_the_whole_timeline_and_the_postmortem(example_feeds: dict[str, Any]) -> None:
    entry = next(e for e in example_feeds["en/history.atom"].entries
                 if e.id == TAG + "2026-11-03-pdf-certificates-unavailable")
    content = entry.content[0].value
    assert entry.content[0].type == "text/html"
    order = [content.index(f"<strong>{word}</strong> · {when}")
             for word, when in (("Resolved", "3 Nov 2026, 11:05 CET"), ("Monitoring", "3 Nov 2026, 09:50 CET"),
                                ("Identified", "3 Nov 2026, 09:00 CET"),
                                ("Investigating", "3 Nov 2026, 08:12 CET"))]
    assert order == sorted(order), "the newest update comes first, as on the page"
    assert "We are rolling the change back." in content
    assert "<h2>Post-mortem</h2>" in content and "<h3>What happened?</h3>" in content
    dutch = next(e for e in example_feeds["history.atom"].entries if e.id == entry.id)
    assert "<strong>Opgelost</strong> · 3 nov 2026, 11:05 CET" in dutch.content[0].value


def test_upcoming_maintenance_is_announced_with_its_window(example_feeds: dict[str, Any]) -> None:
    upcoming = TAG + "2026-12-06-gateway-and-signing-network-upgrade"
    for path in ("en/history.atom", "en/components/integration-gateway/history.atom",
                 "components/dcc-certificates/history.rss"):
        assert upcoming in ids(example_feeds[path]), path
    entry = next(e for e in example_feeds["en/history.atom"].entries if e.id == upcoming)
    assert "Scheduled: 6 Dec 2026, 22:00 CET – 7 Dec 2026, 02:00 CET" in entry.content[0].value
    assert upcoming not in ids(example_feeds["en/components/dcc-app/history.atom"])


def test_a_feed_lists_only_the_most_recent_incidents(make_site: MakeSite, tmp_path: Path) -> None:
    files = {f"incidents/i{n:02}.md": INCIDENT.replace("2026-11-28", f"2026-10-{n:02}")
             for n in range(1, 31)}
    files |= {f"incidents/j{n:02}.md": APP_INCIDENT.replace("2026-11-20", f"2026-09-{n:02}")
              for n in range(1, 31)}
    result = build(make_site(files), tmp_path / "out", "2026-11-30T12:00:00+01:00")
    feeds = feeds_in(result.out_dir)
    site_feed = feeds["history.atom"]
    assert len(site_feed.entries) == FEED_SIZE
    assert ids(site_feed) == tags(newest_first(result.state.incidents)[:FEED_SIZE])
    assert TAG + "j01" not in ids(site_feed) and TAG + "i30" in ids(site_feed)
    assert len(feeds["components/eu-dcc/history.rss"].entries) == FEED_SIZE
    assert len(feeds["components/dcc-app/history.rss"].entries) == 30


def test_ids_never_change_while_dates_follow_the_updates(make_site: MakeSite, tmp_path: Path) -> None:
    files = {"incidents/pdf.md": INCIDENT, "incidents/db.md": MAINTENANCE}
    site = make_site(files)
    during = feeds_in(build(site, tmp_path / "during", "2026-11-28T10:00:00+01:00").out_dir)
    after = feeds_in(build(site, tmp_path / "after", "2026-11-30T12:00:00+01:00").out_dir)
    edited = make_site({"incidents/pdf.md": INCIDENT.replace("PDF certificates cannot", "PDFs cannot")
                        .replace("Fixed.", "Fixed. The store is back."),
                        "incidents/db.md": MAINTENANCE}, name="edited")
    changed = feeds_in(build(edited, tmp_path / "edited-out", "2026-11-30T12:00:00+01:00").out_dir)
    for path in ("history.atom", "nl/history.rss", "components/dcc-certificates/history.atom"):
        assert ids(during[path]) == ids(after[path]) == ids(changed[path]) == [TAG + "pdf", TAG + "db"], path
    pdf = {name: next(e for e in feeds["history.atom"].entries if e.id == TAG + "pdf")
           for name, feeds in (("during", during), ("after", after), ("edited", changed))}
    assert entry_time(pdf["during"]) == datetime(2026, 11, 28, 8, 20, tzinfo=UTC)
    assert entry_time(pdf["after"]) == datetime(2026, 11, 28, 10, 40, tzinfo=UTC)
    assert moment(during["history.atom"].feed.updated_parsed) == datetime(2026, 11, 28, 8, 20, tzinfo=UTC)
    assert moment(after["nl/history.rss"].feed.updated_parsed) == datetime(2026, 11, 28, 10, 40, tzinfo=UTC)
    assert "Fixed." not in pdf["during"].content[0].value and "Fixed." in pdf["after"].content[0].value
    assert pdf["edited"].title == "PDFs cannot be downloaded"
    assert "Fixed. The store is back." in pdf["edited"].content[0].value


def test_the_bytes_depend_on_the_content_not_on_the_build_time(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"incidents/pdf.md": INCIDENT, "incidents/app.md": APP_INCIDENT,
                      "incidents/db.md": MAINTENANCE})

    def feed_files(out: str, now: str) -> dict[str, bytes]:
        outputs = build(site, tmp_path / out, now).outputs
        return {path: content for path, content in outputs.items() if path.endswith((".atom", ".rss"))}

    first = feed_files("a", "2026-11-30T12:00:00+01:00")
    assert first == feed_files("b", "2026-11-30T12:00:00+01:00")
    assert first == feed_files("later", "2026-12-02T08:00:00+01:00"), "nothing changed, so no byte may"
    assert first != feed_files("window", "2026-12-10T23:00:00+01:00"), "the window opened"


def test_a_feed_without_entries_is_still_valid(make_site: MakeSite, tmp_path: Path) -> None:
    result = build(make_site({"incidents/pdf.md": INCIDENT}), tmp_path / "out", "2026-11-30T12:00:00+01:00")
    feeds = feeds_in(result.out_dir)
    for path in ("components/lookup-portal/history.atom", "nl/components/lookup-portal/history.rss"):
        assert feeds[path].entries == []
        assert moment(feeds[path].feed.updated_parsed) == datetime(1970, 1, 1, tzinfo=UTC)
    assert len(feeds["components/dcc-certificates/history.atom"].entries) == 1
    assert feeds["nl/history.atom"].entries[0].title == "PDF-certificaten niet downloadbaar"


def test_text_from_files_is_escaped_and_sanitised(make_site: MakeSite, tmp_path: Path) -> None:
    hostile = LOOKUP_INCIDENT.replace("Lookup portal slow", '"Lookup <b>portal</b> slow"').replace(
        "Searches are slow.", '"<script>alert(1)</script> [x](javascript:alert(2)) **slow**"')
    result = build(make_site({"incidents/hostile.md": hostile}), tmp_path / "out", "2026-11-30T12:00:00+01:00")
    for path in ("history.atom", "history.rss", "components/lookup-portal/history.atom"):
        raw = result.outputs[path]
        assert b"<script" not in raw and b"&lt;script" not in raw and b"javascript:" not in raw, path
        entry = parse(raw).entries[0]
        assert entry.title == "Lookup <b>portal</b> slow"
        assert "<strong>slow</strong>" in (entry.content[0].value if path.endswith(".atom") else entry.summary)
