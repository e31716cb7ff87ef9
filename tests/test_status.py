"""`statusgen status`: what the site says at a moment, from its files or from a published
summary.json (served here by a real HTTP server on 127.0.0.1), as text and as JSON."""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from statusgen.site.build import BuildResult, build
from statusgen.status import status_report
from statusgen.status.report import report_json
from statusgen.status.terminal import report_text, use_colour
from tests.conftest import EXAMPLE_NOW, ROOT, MakeSite

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "status.schema.json").read_text())
RunCli = Callable[..., tuple[int, str, str]]
NOW = "2026-11-28T10:30:00+01:00"
LONG = ("The **certificate store** is down after a failed update; see [the help page](https://example.org/help) "
        "for what partners can do meanwhile. We restore the previous version of the store and expect "
        "certificates to be downloadable again within the hour, after which we will check every partner.")
FILES = {
    "incidents/2026/outage.md": f"""\
        ---
        title: {{en: Certificates cannot be downloaded, nl: Certificaten niet downloadbaar}}
        impact: P1
        components: {{dcc-certificates: major_outage, dcc-app: degraded_performance}}
        updates:
          - {{at: 2026-11-28 09:20, status: investigating, body: {{en: We are investigating., nl: We zoeken.}}}}
          - at: 2026-11-28 10:05
            status: identified
            body: {{en: "{LONG}", nl: De certificaatopslag ligt plat.}}
        ---
        """,
    "incidents/2026/app.md": """\
        ---
        title: {en: App sign-in fails, nl: Inloggen in de app mislukt}
        impact: major
        components: {dcc-app: partial_outage}
        updates:
          - {at: 2026-11-28 10:00, status: investigating, body: Sign-in fails for some users.}
        ---
        """,
    "incidents/2026/old.md": """\
        ---
        title: Resolved yesterday
        impact: minor
        components: {lookup-portal: degraded_performance}
        updates:
          - {at: 2026-11-27 09:00, status: investigating, body: Slow.}
          - {at: 2026-11-27 10:00, status: resolved, body: Fast again.}
        ---
        """,
    "incidents/2026/portal-window.md": """\
        ---
        title: {en: Lookup portal upgrade, nl: Upgrade opzoekportaal}
        type: maintenance
        components: [lookup-portal]
        window: {start: 2026-11-28 09:00, end: 2026-11-28 12:00}
        updates:
          - {at: 2026-11-25 09:00, status: scheduled, body: We upgrade the portal.}
        ---
        """,
    "incidents/2026/signing-window.md": """\
        ---
        title: {en: Signing network upgrade, nl: Upgrade ondertekeningsnetwerk}
        type: maintenance
        components: [dcc-certificates]
        window: {start: 2026-12-06 22:00, end: 2026-12-07 02:00}
        ---
        """,
}


@pytest.fixture
def busy_site(make_site: MakeSite) -> Path:
    """Two active incidents, one resolved, a maintenance in progress and one upcoming (at NOW)."""
    return make_site(FILES)


def status_json(run_cli: RunCli, *args: str | Path) -> dict[str, Any]:
    code, out, err = run_cli("status", "--json", *args)
    assert code == 0, err
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    return document


# --- From the files ------------------------------------------------------------------------


def test_the_overall_status_is_the_one_the_api_publishes(example_build: BuildResult, run_cli: RunCli) -> None:
    document = status_json(run_cli, "--site", ROOT, "--now", EXAMPLE_NOW)
    published = json.loads(example_build.outputs["api/v2/status.json"])
    assert document["status"] == published["status"] == {"indicator": "minor", "description": "Minor Service Outage"}
    assert document["source"] == "site" and document["from"] == str(ROOT)
    assert document["at"] == "2026-11-30T11:00:00Z" and document["language"] == "nl"
    assert document["page"] == {"name": "Status Regionaal Integratieplatform", "url": "https://status.example.org/",
                                "time_zone": "Europe/Brussels"}


def test_the_example_sites_incident_and_upcoming_maintenance(run_cli: RunCli) -> None:
    document = status_json(run_cli, "--site", ROOT, "--now", EXAMPLE_NOW, "--lang", "en")
    assert [c["id"] for c in document["components"]] == ["dcc-lookup"]
    assert document["components"][0]["causes"] == ["2026-11-30-lookup-app-slow"]
    [incident] = document["incidents"]
    assert (incident["id"], incident["priority"], incident["status"]) == ("2026-11-30-lookup-app-slow", "P3",
                                                                           "identified")
    assert incident["url"] == "https://status.example.org/en/incidents/2026-11-30-lookup-app-slow/"
    assert document["maintenance"]["in_progress"] == []
    [upcoming] = document["maintenance"]["upcoming"]
    assert upcoming["window"] == {"start": "2026-12-06T21:00:00Z", "end": "2026-12-07T01:00:00Z"}
    assert document["all_operational"] is False


def test_text_names_components_causes_incidents_and_maintenance(busy_site: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("status", "--site", busy_site, "--now", NOW)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["Example status · 2026-11-28 10:30 CET", "Major System Outage (indicator: critical)"]
    assert re.search(r"EU Digital COVID Certificates › Certificates \(PDF\) +major_outage +← outage$", out, re.MULTILINE)
    assert re.search(r"EU Digital COVID Certificates › Mobile app +partial_outage +← app, outage$", out, re.MULTILINE)
    assert re.search(r"^  Lookup portal +under_maintenance +← portal-window$", out, re.MULTILINE)
    sections = [line for line in lines if line and not line.startswith(" ")][2:]
    assert sections == ["Components not operational", "Active incidents", "Maintenance in progress",
                        "Upcoming maintenance"]
    incidents = out.split("Active incidents\n")[1].split("\n\n")[0]
    assert incidents.index("P2  App sign-in fails  [app]") < incidents.index(
        "P1  Certificates cannot be downloaded  [outage]")  # newest first
    assert "      identified · started 2026-11-28 09:20 CET" in incidents
    assert "Resolved yesterday" not in out
    assert "      in_progress · 2026-11-28 09:00 CET – 2026-11-28 12:00 CET" in out
    assert "      scheduled · 2026-12-06 22:00 CET – 2026-12-07 02:00 CET" in out
    assert "\033[" not in out  # not a terminal: no colour


def test_the_latest_update_is_plain_text_shortened_to_two_lines(busy_site: Path, run_cli: RunCli) -> None:
    _, out, _ = run_cli("status", "--site", busy_site, "--now", NOW)
    block = out.split("[outage]\n")[1].split("\n\n")[0].splitlines()
    assert block == [
        "      identified · started 2026-11-28 09:20 CET",
        "      Certificates (PDF) (major_outage), Mobile app (degraded_performance)",
        "      2026-11-28 10:05 CET identified: The certificate store is down after a",
        "      failed update; see the help page <https://example.org/help> for what …",
        "      https://status.example.org/incidents/outage/",
    ]
    assert all(len(line) <= 6 + 76 for line in block)


def test_json_lists_what_is_wrong_and_why(busy_site: Path, run_cli: RunCli) -> None:
    document = status_json(run_cli, "--site", busy_site, "--now", NOW)
    assert document["status"] == {"indicator": "critical", "description": "Major System Outage"}
    assert [(c["id"], c["group"], c["status"], c["causes"]) for c in document["components"]] == [
        ("dcc-certificates", "EU Digital COVID Certificates", "major_outage", ["outage"]),
        ("dcc-app", "EU Digital COVID Certificates", "partial_outage", ["app", "outage"]),
        ("lookup-portal", None, "under_maintenance", ["portal-window"]),
    ]
    app, outage = document["incidents"]
    assert (app["id"], app["priority"], app["impact"]) == ("app", "P2", "major")  # from its impact
    assert (outage["id"], outage["priority"], outage["impact"]) == ("outage", "P1", "critical")  # as written
    assert outage["started_at"] == "2026-11-28T08:20:00Z" and outage["window"] is None
    assert outage["components"] == [
        {"id": "dcc-certificates", "name": "Certificates (PDF)", "status": "major_outage"},
        {"id": "dcc-app", "name": "Mobile app", "status": "degraded_performance"}]
    assert outage["latest_update"] == {"at": "2026-11-28T09:05:00Z", "status": "identified",
                                       "body": LONG.replace("**", "").replace(
                                           "[the help page](https://example.org/help)",
                                           "the help page <https://example.org/help>")}
    [window] = document["maintenance"]["in_progress"]
    assert (window["id"], window["kind"], window["status"], window["priority"]) == ("portal-window", "maintenance",
                                                                                    "in_progress", None)
    assert window["latest_update"]["body"] == "The maintenance window has started."  # the theme's words
    [upcoming] = document["maintenance"]["upcoming"]
    assert upcoming["id"] == "signing-window" and upcoming["latest_update"] is None
    assert upcoming["components"] == [{"id": "dcc-certificates", "name": "Certificates (PDF)",
                                       "status": "under_maintenance"}]


def test_another_language_shows_its_names_and_texts(busy_site: Path, run_cli: RunCli) -> None:
    document = status_json(run_cli, "--site", busy_site, "--now", NOW, "--lang", "nl")
    assert document["language"] == "nl"
    assert [i["title"] for i in document["incidents"]] == ["Inloggen in de app mislukt", "Certificaten niet downloadbaar"]
    assert document["incidents"][1]["latest_update"]["body"] == "De certificaatopslag ligt plat."
    assert document["incidents"][1]["url"] == "https://status.example.org/nl/incidents/outage/"
    assert document["components"][0]["group"] == "EU Digitale COVID-certificaten"
    assert document["status"]["description"] == "Major System Outage"  # the API's words, in every language


def test_nothing_wrong_says_so(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"incidents/old.md": FILES["incidents/2026/old.md"],
                      "incidents/later.md": FILES["incidents/2026/signing-window.md"]})
    code, out, _ = run_cli("status", "--site", site, "--now", NOW)
    assert code == 0
    assert out.splitlines()[1:3] == ["All Systems Operational (indicator: none)",
                                     "All systems operational: no active incident, no maintenance in progress."]
    assert "Upcoming maintenance" in out and "Active incidents" not in out and "not operational" not in out
    document = status_json(run_cli, "--site", site, "--now", NOW)
    assert document["all_operational"] is True and document["components"] == document["incidents"] == []


def test_the_time_moves_maintenance_along(busy_site: Path, run_cli: RunCli) -> None:
    document = status_json(run_cli, "--site", busy_site, "--now", "2026-12-06T23:00:00+01:00")
    assert [m["id"] for m in document["maintenance"]["in_progress"]] == ["signing-window"]
    assert document["maintenance"]["upcoming"] == []


def test_no_subscriber_data_ever(run_cli: RunCli) -> None:
    _, out, _ = run_cli("status", "--json", "--site", ROOT, "--now", EXAMPLE_NOW)
    _, text, _ = run_cli("status", "--site", ROOT, "--now", EXAMPLE_NOW)
    addresses = re.findall(r"email: (\S+)", (ROOT / "subscribers.yaml").read_text())
    assert addresses and not [a for a in addresses if a in out or a in text]
    assert "@" not in out + text


def test_content_errors_are_reported_like_check_does(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({"incidents/bad.md": "---\ntitle: Bad\nimpact: P9\nupdates:\n  - {at: 2026-11-28 09:00, "
                                          "status: fixed, body: x}\n---\n"})
    code, out, err = run_cli("status", "--site", site, "--now", NOW)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "incidents/bad.md:3: impact: expected one of none, minor, major, critical, P1, P2, P3, P4; found 'P9'",
        "incidents/bad.md:5: status: expected one of investigating, identified, monitoring, resolved; found 'fixed'",
        "2 errors; the status cannot be told",
    ]


@pytest.mark.parametrize(("args", "message"), [
    (("--lang", "fr"), "--lang: expected one of the site's languages, en, nl; found 'fr'"),
    (("--now", "yesterday"), "--now: expected an ISO 8601 time like '2026-11-28 09:20'; found 'yesterday'"),
    (("--url", "status.example.org"),
     "--url: expected the page's address, such as https://status.example.org/; found 'status.example.org'"),
    (("--url", "http://127.0.0.1:9/", "--now", NOW), "--now: a published page says what it says now"),
    (("--url", "http://127.0.0.1:9/", "--timeout", "0"), "--timeout: expected a number of seconds above 0"),
])
def test_usage_errors_exit_2(busy_site: Path, run_cli: RunCli, args: tuple[str, ...], message: str) -> None:
    code, out, err = run_cli("status", "--site", busy_site, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"statusgen: {message}")


def test_callable_from_python(busy_site: Path) -> None:
    report = status_report(busy_site, NOW, "en")
    assert [item.id for item in report.incidents] == ["app", "outage"]
    assert report_json(report)["status"]["indicator"] == "critical"


# --- Colour ----------------------------------------------------------------------------------


def test_colour_only_on_a_terminal_and_never_with_no_color(busy_site: Path, tmp_path: Path) -> None:
    leader, follower = os.openpty()
    try:
        with open(follower, "w", closefd=False) as terminal, open(tmp_path / "file", "w") as file:
            assert use_colour(terminal, {}) is True
            assert use_colour(terminal, {"NO_COLOR": "1"}) is False
            assert use_colour(terminal, {"NO_COLOR": ""}) is True  # no-color.org: set and not empty
            assert use_colour(terminal, {"TERM": "dumb"}) is False
            assert use_colour(file, {}) is False
    finally:
        os.close(leader)
        os.close(follower)
    report = status_report(busy_site, NOW)
    coloured, plain = report_text(report, colour=True), report_text(report)
    assert "\033[31mMajor System Outage\033[0m" in coloured and "\033[" not in plain
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain


# --- From a published page (--url) ------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the tests' output stays readable
        pass


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving `folder`; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def published(busy_site: Path, tmp_path: Path) -> Iterator[str]:
    """The busy site built at NOW, served from its public/ folder."""
    build(busy_site, tmp_path / "public", NOW)
    with serving(tmp_path / "public") as url:
        yield url


def test_a_published_page_says_what_the_files_say(published: str, busy_site: Path, run_cli: RunCli) -> None:
    files = status_json(run_cli, "--site", busy_site, "--now", NOW, "--lang", "en")
    live = status_json(run_cli, "--url", published)
    assert live["source"] == "url" and live["from"] == published + "api/v2/summary.json"
    assert live["language"] is None and live["page"]["name"] == files["page"]["name"]
    for key in ("status", "all_operational"):
        assert live[key] == files[key]

    def shown(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(i["title"], i["status"], i["impact"], i["priority"], i["started_at"], i["window"],
                 i["latest_update"], i["url"], [(c["name"], c["status"]) for c in i["components"]]) for i in items]

    assert shown(live["incidents"]) == shown(files["incidents"])
    for when in ("in_progress", "upcoming"):
        assert shown(live["maintenance"][when]) == shown(files["maintenance"][when])
    assert [(c["name"], c["group"], c["status"], len(c["causes"])) for c in live["components"]] == \
        [(c["name"], c["group"], c["status"], len(c["causes"])) for c in files["components"]]
    names = {i["id"]: i["title"] for i in live["incidents"] + live["maintenance"]["in_progress"]}
    assert [[names[cause] for cause in c["causes"]] for c in live["components"]] == [
        ["Certificates cannot be downloaded"], ["App sign-in fails", "Certificates cannot be downloaded"],
        ["Lookup portal upgrade"]]


def test_a_published_page_in_another_language_and_as_text(published: str, run_cli: RunCli) -> None:
    code, out, err = run_cli("status", "--url", published, "--lang", "nl")
    assert code == 0, err
    assert out.splitlines()[1] == "Major System Outage (indicator: critical)"
    assert "P1  Certificaten niet downloadbaar  [" in out and "De certificaatopslag ligt plat." in out
    assert "https://status.example.org/nl/incidents/outage/" in out
    assert "in_progress · 2026-11-28 09:00 CET – 2026-11-28 12:00 CET" in out


def test_a_missing_summary_names_the_url(tmp_path: Path, run_cli: RunCli) -> None:
    with serving(tmp_path) as url:
        code, out, err = run_cli("status", "--url", url)
    assert code == 1 and out == ""
    assert err == f"statusgen: {url}api/v2/summary.json: the server answered HTTP 404 File not found\n"


@pytest.mark.parametrize(("document", "message"), [
    ("<html>maintenance</html>", "expected a Statuspage summary in JSON; found something else"),
    ("[]", "the document: expected an object; found a list"),
    ('{"page": {"name": "X", "url": "https://x", "time_zone": "Mars/Olympus"}, "status": {}}',
     "page: time_zone: expected an IANA time zone such as Europe/Brussels; found 'Mars/Olympus'"),
    (('{"page": {"name": "X", "url": "https://x", "time_zone": "UTC"}, '
      '"status": {"indicator": "none", "description": "OK"}, "components": [], "scheduled_maintenances": [], '
      '"incidents": [{"id": "a", "name": "A", "status": "identified", "impact": "minor", '
      '"created_at": "yesterday", "incident_updates": [], "components": []}]}'),
     "incidents[0]: created_at: expected an ISO 8601 time with its offset; found 'yesterday'"),
    (('{"page": {"name": "X", "url": "https://x", "time_zone": "UTC"}, '
      '"status": {"indicator": "none", "description": "OK"}, "incidents": [], "scheduled_maintenances": [], '
      '"components": [{"id": "c", "name": "C", "status": "broken"}]}'),
     ("components[0]: status: expected one of operational, under_maintenance, degraded_performance, "
      "partial_outage, major_outage; found 'broken'")),
])
def test_a_summary_that_is_not_one_names_the_url_and_the_item(tmp_path: Path, run_cli: RunCli, document: str,
                                                              message: str) -> None:
    (tmp_path / "api" / "v2").mkdir(parents=True)
    (tmp_path / "api" / "v2" / "summary.json").write_text(document)
    with serving(tmp_path) as url:
        code, out, err = run_cli("status", "--url", url)
    assert code == 1 and out == ""
    assert err.startswith(f"statusgen: {url}api/v2/summary.json: {message}")


def test_a_page_that_does_not_answer_times_out(run_cli: RunCli) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v2/summary.json"
        code, _, err = run_cli("status", "--url", url, "--timeout", "0.3")
    assert code == 1
    assert err == f"statusgen: {url}: no answer within 0.3 s\n"


def test_a_page_that_cannot_be_reached_names_the_url(run_cli: RunCli) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    code, _, err = run_cli("status", "--url", f"http://127.0.0.1:{port}/status/")
    assert code == 1
    assert err.startswith(f"statusgen: http://127.0.0.1:{port}/status/api/v2/summary.json: cannot be fetched (")
