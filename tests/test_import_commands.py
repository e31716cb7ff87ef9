"""`statusgen import` end to end, as ops run it: the command, a real HTTP server playing the
hosted Statuspage (tests/statuspage_server.py) or the saved folder, then `check`, `build`
and `notify` on the result."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.statuspage_server import API_KEY, FIXTURES, PAGE_ID, StatuspageServer

RunCli = Callable[..., tuple[int, str, str]]
ROOT = Path(__file__).resolve().parent.parent
CSTATE = ROOT / "tests/fixtures/cstate"
NOW = "2026-11-29T12:00:00+01:00"
SETTINGS = """\
    title: {en: Platform status, nl: Status van het platform}
    base_url: https://status.example.org/
    languages: [nl, en]
    timezone: Europe/Brussels
"""
HISTORY = ("Certificate issuance delayed", "Message gateway unavailable", "Elevated error rates on the Lookup API",
           "Network maintenance in the primary data centre", "Renewal of the issuing CA certificate", "Slow certificate downloads",
           "Timestamping service unavailable", "Planned upgrade of the lookup database",
           "Message gateway rejects large attachments")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STATUSGEN_DATABASE_URL", "STATUSGEN_SUBSCRIPTIONS_DB", "STATUSPAGE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[StatuspageServer]:
    with StatuspageServer() as running:
        yield running


def new_site(tmp_path: Path, name: str = "site") -> Path:
    site = tmp_path / name
    (site / "content").mkdir(parents=True)
    (site / "content/site.yaml").write_text(textwrap.dedent(SETTINGS), encoding="utf-8")
    return site


def sources_of(site: Path) -> dict[str, bytes]:
    """The site's own files (not its private .statusgen/ nor its output)."""
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file() and not p.relative_to(site).as_posix().startswith((".statusgen/", "public/"))}


def api_titles(public: Path) -> set[str]:
    incidents = json.loads((public / "api/v2/incidents.json").read_text(encoding="utf-8"))["incidents"]
    planned = json.loads((public / "api/v2/scheduled-maintenances.json").read_text(encoding="utf-8"))
    return {item["name"] for item in incidents + planned["scheduled_maintenances"]}


def test_a_hosted_page_moves_in_with_one_command_and_a_rerun_asks_and_writes_nothing(
        server: StatuspageServer, tmp_path: Path, run_cli: RunCli) -> None:
    site = new_site(tmp_path)
    code, out, err = run_cli("import", "statuspage", server.url, "--site", site)
    assert code == 0, err
    assert out.splitlines()[0] == "components.yaml: new; incidents: 9 new, 0 updated, 0 unchanged"
    asked = server.total
    assert asked > 0 and max(server.requests.values()) == 1
    times = server.times()
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.95  # at most one request a second
    code, _, err = run_cli("check", "--site", site)
    assert code == 0, err
    code, _, err = run_cli("build", "--site", site, "--now", NOW)
    assert code == 0, err
    public = site / "public"
    assert api_titles(public) == set(HISTORY)
    incidents = json.loads((public / "api/v2/incidents.json").read_text(encoding="utf-8"))["incidents"]
    delayed = next(i for i in incidents if i["name"] == "Certificate issuance delayed")
    assert [u["status"] for u in delayed["incident_updates"]] == ["resolved", "monitoring", "identified",
                                                                  "investigating"]
    assert all(u["affected_components"] for u in delayed["incident_updates"])
    page = (public / "en/incidents" / incident_file(site, "k8d2w5n9r3tf").stem / "index.html").read_text(
        encoding="utf-8")
    assert "Certificate issuance delayed" in page and "<strong>" in page
    # Old links keep working: the Statuspage id is an alias with a redirect page.
    redirect = (public / "incidents/k8d2w5n9r3tf/index.html").read_text(encoding="utf-8")
    assert f"/incidents/{incident_file(site, 'k8d2w5n9r3tf').stem}/" in redirect

    before = sources_of(site)
    code, out, err = run_cli("import", "statuspage", server.url, "--site", site)
    assert code == 0, err
    assert out.splitlines()[0] == "components.yaml: unchanged; incidents: 0 new, 0 updated, 9 unchanged"
    assert server.total == asked  # everything came from the cache
    assert sources_of(site) == before


def incident_file(site: Path, alias: str) -> Path:
    """The file an import wrote for a Statuspage incident (found by its alias)."""
    return next(p for p in (site / "incidents").rglob("*.md")
                if f"aliases: [{alias}" in p.read_text(encoding="utf-8"))


def test_the_saved_folder_gives_the_same_site_as_the_page(server: StatuspageServer, tmp_path: Path,
                                                          run_cli: RunCli) -> None:
    from_page, from_folder = new_site(tmp_path, "a"), new_site(tmp_path, "b")
    assert run_cli("import", "statuspage", server.url, "--site", from_page)[0] == 0
    code, _, err = run_cli("import", "statuspage", FIXTURES, "--site", from_folder)
    assert code == 0, err
    assert sources_of(from_folder) == sources_of(from_page)


def test_imported_history_is_never_emailed_but_a_coming_window_is_announced(
        tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The old page told its subscribers already: after the move, notify sends nothing for
    the history, even from a store that has run before; the maintenance still to come is
    statusgen's to announce when it starts."""
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", "k" * 32)
    site = new_site(tmp_path)
    assert run_cli("import", "statuspage", FIXTURES, "--site", site)[0] == 0
    (site / "subscribers.yaml").write_text("- email: spoc@partner.example\n", encoding="utf-8")
    settings = site / "content/site.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + textwrap.dedent("""\
        subscriptions: {url: https://status.example.org/subscriptions/}
        notify: {from: status@example.org, unsubscribe_mailto: unsubscribe@example.org}
    """), encoding="utf-8")
    assert run_cli("build", "--site", site, "--now", NOW)[0] == 0
    code, _, err = run_cli("notify", "--site", site, "--baseline")
    assert code == 0, err
    outbox = site / ".statusgen/outbox"
    sent = sorted(outbox.rglob("*.eml")) if outbox.exists() else []
    assert sent == []
    # The rerun of a store that has run before: still nothing for the history.
    code, out, err = run_cli("notify", "--site", site)
    assert code == 0, err
    assert (sorted(outbox.rglob("*.eml")) if outbox.exists() else []) == []
    # The network maintenance opens on 2026-12-05 22:00: statusgen announces its start.
    assert run_cli("build", "--site", site, "--now", "2026-12-05T22:30:00+01:00")[0] == 0
    code, _, err = run_cli("notify", "--site", site)
    assert code == 0, err
    mails = sorted(outbox.rglob("*.eml"))
    assert len(mails) == 1
    assert b"Network maintenance" in mails[0].read_bytes()


def test_the_manage_api_brings_history_templates_and_subscribers(
        server: StatuspageServer, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    site = new_site(tmp_path)
    code, _, err = run_cli("import", "statuspage", server.manage_url, "--page-id", PAGE_ID, "--site", site,
                           "--trust-confirmed")
    assert code == 1 and "STATUSPAGE_API_KEY" in err and server.total == 0
    assert sorted(sources_of(site)) == ["content/site.yaml"]
    monkeypatch.setenv("STATUSPAGE_API_KEY", API_KEY)
    monkeypatch.delenv("STATUSGEN_SECRET_KEY", raising=False)
    code, _, err = run_cli("import", "statuspage", server.manage_url, "--page-id", PAGE_ID, "--site", site,
                           "--trust-confirmed")  # the webhooks' secrets derive from the key: nothing is written
    assert code == 1 and "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: the signing secrets " \
        "of the 2 webhook subscriber(s) that --trust-confirmed confirms are derived from it" in err
    assert sorted(sources_of(site)) == ["content/site.yaml"]
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", "k" * 32)
    code, out, err = run_cli("import", "statuspage", server.manage_url, "--page-id", PAGE_ID, "--site", site,
                             "--trust-confirmed")
    assert code == 0, err
    assert API_KEY not in out + err
    assert sorted(p.name for p in (site / "content/templates").iterdir()) != []
    assert run_cli("check", "--site", site)[0] == 0
    assert any(line.startswith("subscribers: ") for line in out.splitlines())
    assert "webhooks: 2 confirmed, 0 invited (their contacts), 0 suppressed, 0 skipped" in out.splitlines()
    assert any("teams subscriber" in line and line.startswith("not imported") for line in out.splitlines())
    with sqlite3.connect(site / ".statusgen/subscriptions.db") as db:
        confirmed = db.execute("SELECT COUNT(*) FROM subscriptions WHERE state = 'confirmed'").fetchone()[0]
    assert confirmed > 0


def test_a_cstate_site_moves_in(tmp_path: Path, run_cli: RunCli) -> None:
    site = new_site(tmp_path)
    code, out, err = run_cli("import", "cstate", CSTATE, "--site", site)
    assert code == 0, err
    assert out.splitlines()[0].startswith("components.yaml: new; incidents: ")
    assert run_cli("check", "--site", site)[0] == 0
    assert run_cli("build", "--site", site, "--now", NOW)[0] == 0
    before = sources_of(site)
    code, out, err = run_cli("import", "cstate", CSTATE, "--site", site)
    assert code == 0, err
    assert " 0 new, 0 updated" in out.splitlines()[0]
    assert sources_of(site) == before


def test_a_folder_that_is_no_statuspage_changes_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    site = new_site(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli("import", "statuspage", empty, "--site", site)
    assert code == 1 and str(empty) in err
    assert sorted(sources_of(site)) == ["content/site.yaml"]
