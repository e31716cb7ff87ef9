"""Where a Statuspage's data comes from: the hosted page (tests/statuspage_server.py serving
tests/fixtures/statuspage), a folder of saved JSON, the manage API."""

from __future__ import annotations

import itertools
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from statusgen import REPOSITORY, __version__
from statusgen.errors import ContentErrors, SetupError, UsageError
from statusgen.importer.statuspage.dump import Dump
from statusgen.importer.statuspage.fetch import MAX_RETRY_AFTER, retry_after
from statusgen.importer.statuspage.saved import saved_name
from statusgen.importer.statuspage.sources import API_KEY_VARIABLE, cache_folder, open_source
from statusgen.site.build import BuildResult
from tests.statuspage_server import API_KEY, FIXTURES, PAGE_ID, StatuspageServer

COMPONENTS = ["Certificate services", "Certificate issuance", "Revocation (OCSP and CRL)", "Timestamping",
              "Message gateway", "Lookup API"]
GROUP = "ws4n8c1t6bqz"
HISTORY_ONLY = {"x3v8n1q6c9tk": 3, "f7k2p9w4m6bz": 4, "r5j1t8y3n0wd": 2, "h9c4m7q2v5xs": 3}
"""Incidents only history.json lists, with the number of updates of their full timeline."""
POSTMORTEM = "q1z6v3b8j4pe"
EVERY_INCIDENT = ["x3v8n1q6c9tk", "f7k2p9w4m6bz", "r5j1t8y3n0wd", "h9c4m7q2v5xs", POSTMORTEM, "n2s5y8b1k4gu",
                  "k8d2w5n9r3tf", "j6e9a2p5z8cr", "w4t7c0m3x8ha"]
"""Every incident and maintenance of the public fixture, oldest first."""


class FakeTime:
    """An injected clock: `sleep` only moves it forward, and every pause is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


@pytest.fixture
def server() -> Iterator[StatuspageServer]:
    with StatuspageServer() as running:
        yield running


def read(source: str, cache: Path, fake: FakeTime | None = None, page_id: str | None = None,
         env: dict[str, str] | None = None, lines: list[str] | None = None) -> Dump:
    fake = fake or FakeTime()
    return open_source(source, page_id=page_id, env=env or {}, cache_dir=cache,
                       progress=(lines if lines is not None else []).append, sleep=fake.sleep, clock=fake.clock)


# ── the hosted page ──────────────────────────────────────────────────────────────────
def test_page_url_gives_every_incident_with_its_full_timeline(server: StatuspageServer, tmp_path: Path) -> None:
    fake, lines = FakeTime(), list[str]()
    dump = read(server.url, tmp_path / "cache", fake, lines=lines)

    assert dump.page["name"] == "Regional Integration Platform"
    assert [c["name"] for c in dump.components] == COMPONENTS
    group = dump.components[0]
    assert group["group"] is True and group["components"] == [c["id"] for c in dump.components[1:4]]
    assert [i["id"] for i in dump.incidents] == EVERY_INCIDENT
    by_id = {i["id"]: i for i in dump.incidents}
    for code, updates in HISTORY_ONLY.items():
        assert len(by_id[code]["incident_updates"]) == updates
    assert by_id[POSTMORTEM]["postmortem_body"].startswith("<strong>Summary</strong>")
    changes = [u["affected_components"] for u in by_id["k8d2w5n9r3tf"]["incident_updates"]]
    assert all(changes) and len(changes) == 4
    assert dump.notes == ()
    assert lines[-2:] == ["fetched 7 history pages, 5 incident timelines", "16 requests, 0 answers from the cache"]


def test_page_url_asks_only_what_it_lacks_politely(server: StatuspageServer, tmp_path: Path) -> None:
    fake = FakeTime()
    read(server.url + "/", tmp_path / "cache", fake)

    asked = set(server.requests)
    assert {f"/history.json?page={n}" for n in range(1, 8)} <= asked
    assert "/history.json?page=8" not in asked
    timelines = {target for target in asked if target.startswith("/incidents/")}
    assert timelines == {f"/incidents/{code}.json" for code in [*HISTORY_ONLY, POSTMORTEM]}
    assert max(server.requests.values()) == 1
    assert {s.headers["User-Agent"] for s in server.seen} == {f"statusgen/{__version__} (+{REPOSITORY})"}
    # one request a second, measured from the previous start, on the injected clock
    assert len(fake.pauses) == server.total - 1 and all(p == pytest.approx(1.0) for p in fake.pauses)


def test_a_rerun_reads_the_cache_and_asks_nothing(server: StatuspageServer, tmp_path: Path) -> None:
    first = read(server.url, tmp_path / "cache")
    asked = server.total
    lines: list[str] = []
    second = read(server.url, tmp_path / "cache", lines=lines)

    assert server.total == asked
    assert second == first
    assert lines[-1] == f"0 requests, {asked} answers from the cache"


def test_the_cache_is_a_folder_source_giving_the_same_dump(server: StatuspageServer, tmp_path: Path) -> None:
    from_page = read(server.url, tmp_path / "cache")
    asked = server.total

    from_folder = read(str(tmp_path / "cache"), tmp_path / "unused")

    assert from_folder == from_page
    assert server.total == asked
    assert not (tmp_path / "unused").exists()


def test_a_429_is_waited_out_as_retry_after_says(server: StatuspageServer, tmp_path: Path) -> None:
    server.throttle_once("/api/v2/incidents.json", retry_after="7")
    server.throttle_once("/history.json?page=2", retry_after="3", status=420)
    fake = FakeTime()
    dump = read(server.url, tmp_path / "cache", fake)

    assert server.requests["/api/v2/incidents.json"] == 2
    assert server.requests["/history.json?page=2"] == 2
    assert 7.0 in fake.pauses and 3.0 in fake.pauses
    assert [i["id"] for i in dump.incidents] == EVERY_INCIDENT


def test_retry_after_as_an_http_date_is_counted_from_the_answers_date(server: StatuspageServer,
                                                                      tmp_path: Path) -> None:
    server.answer_once("/api/v2/components.json", 429, {"Date": "Wed, 02 Dec 2026 10:00:00 GMT",
                                                         "Retry-After": "Wed, 02 Dec 2026 10:00:12 GMT"})
    fake = FakeTime()
    read(server.url, tmp_path / "cache", fake)

    assert 12.0 in fake.pauses
    assert server.requests["/api/v2/components.json"] == 2


def test_retry_after_defaults_to_a_minute_and_is_capped() -> None:
    assert retry_after(None, None) == 60.0
    assert retry_after("soon", None) == 60.0
    assert retry_after("86400", None) == MAX_RETRY_AFTER
    assert retry_after("Wed, 02 Dec 2026 10:00:00 GMT", "Wed, 02 Dec 2026 10:00:30 GMT") == 0.0


def test_requests_are_a_second_apart_in_real_time(server: StatuspageServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(FIXTURES / "api", cache / "api")
    shutil.copytree(FIXTURES / "incidents", cache / "incidents")
    for n in range(1, 8):
        shutil.copy(FIXTURES / f"history.page-{n}.json", cache)
    for name in ("api/v2/incidents.json", "history.page-6.json", "history.page-7.json"):
        (cache / name).unlink()

    dump = open_source(server.url, page_id=None, env={}, cache_dir=cache)

    assert sorted(server.requests) == ["/api/v2/incidents.json", "/history.json?page=6", "/history.json?page=7"]
    times = server.times()
    assert all(later - earlier >= 0.99 for earlier, later in itertools.pairwise(times))
    assert len(dump.incidents) == len(EVERY_INCIDENT)


def test_server_errors_are_retried_with_backoff(server: StatuspageServer, tmp_path: Path) -> None:
    server.answer_once("/api/v2/components.json", 503)
    server.answer_once("/api/v2/components.json", 502)
    fake = FakeTime()
    dump = read(server.url, tmp_path / "cache", fake)

    assert server.requests["/api/v2/components.json"] == 3
    assert fake.pauses[1:3] == [2.0, 4.0]
    assert [c["name"] for c in dump.components] == COMPONENTS


def test_a_same_host_redirect_is_followed_another_host_is_not(server: StatuspageServer, tmp_path: Path) -> None:
    server.answer_once("/api/v2/summary.json", 301, {"Location": f"{server.url}/api/v2/summary.json"})
    assert len(read(server.url, tmp_path / "a").incidents) == len(EVERY_INCIDENT)

    elsewhere = f"http://localhost:{server.port}/api/v2/summary.json"
    server.answer_once("/api/v2/summary.json", 302, {"Location": elsewhere})
    with pytest.raises(SetupError) as error:
        read(server.url, tmp_path / "b")
    assert str(error.value).startswith(f"{server.url}/api/v2/summary.json: redirects to {elsewhere}, another host")


def test_a_history_page_that_cannot_be_read_is_a_note(tmp_path: Path) -> None:
    root = tmp_path / "page"
    shutil.copytree(FIXTURES, root)
    (root / "history.page-2.json").write_text("<html><body>Something went wrong</body></html>")
    (root / "incidents" / "x3v8n1q6c9tk.json").unlink()
    with StatuspageServer(root) as server:
        dump = read(server.url, tmp_path / "cache")

    assert [i["id"] for i in dump.incidents] == [POSTMORTEM, "n2s5y8b1k4gu", "k8d2w5n9r3tf", "j6e9a2p5z8cr",
                                                 "w4t7c0m3x8ha"]
    assert dump.notes == (f"{server.url}/history.json?page=2: the answer is not JSON (line 1: Expecting value): "
                          "incidents older than the previous history page are not imported",)


def test_an_incident_page_that_is_missing_is_a_note(tmp_path: Path) -> None:
    root = tmp_path / "page"
    shutil.copytree(FIXTURES, root)
    (root / "incidents" / "r5j1t8y3n0wd.json").unlink()
    with StatuspageServer(root) as server:
        dump = read(server.url, tmp_path / "cache")
        again = read(server.url, tmp_path / "cache")
        asked = server.requests["/incidents/r5j1t8y3n0wd.json"]

    assert "r5j1t8y3n0wd" not in {i["id"] for i in dump.incidents}
    assert dump.notes == (f"{server.url}/incidents/r5j1t8y3n0wd.json: not found; incident r5j1t8y3n0wd "
                          f"('Timestamping service unavailable', listed in {server.url}/history.json?page=4) "
                          "not imported",)
    assert again == dump and asked == 1  # the 404 is remembered too


def test_not_a_statuspage(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with StatuspageServer(tmp_path / "empty") as server, pytest.raises(SetupError) as error:
        read(server.url, tmp_path / "cache")
    assert str(error.value) == (f"{server.url}/: is this a Statuspage? expected "
                                f"{server.url}/api/v2/summary.json (it answered 404)")


def test_an_answer_that_is_not_json_or_refused(server: StatuspageServer, tmp_path: Path) -> None:
    server.answer_once("/api/v2/summary.json", 200, {"Content-Type": "text/html"}, b"<!doctype html><p>Welcome")
    with pytest.raises(SetupError) as error:
        read(server.url, tmp_path / "a")
    assert str(error.value) == (f"{server.url}/api/v2/summary.json: the answer is not JSON (line 1: Expecting "
                                "value): is this a Statuspage?")

    server.answer_once("/api/v2/summary.json", 403)
    with pytest.raises(SetupError) as error:
        read(server.url, tmp_path / "b")
    assert str(error.value) == (f"{server.url}/api/v2/summary.json: HTTP 403: the status page refused the "
                                "request (is it private, or only for logged-in viewers?)")
    assert server.requests["/api/v2/summary.json"] == 2


def test_a_host_that_cannot_be_reached_is_named(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SetupError) as error:
        read(f"http://127.0.0.1:{port}", tmp_path / "cache")
    assert str(error.value).startswith(f"http://127.0.0.1:{port}/api/v2/summary.json: cannot connect: ")
    assert "Connection refused" in str(error.value)


@pytest.mark.parametrize(("source", "message"), [
    ("http://status.example.com", "http://status.example.com: plain http is for 127.0.0.1 and localhost only; "
                                  "use https://status.example.com"),
    ("ftp://status.example.com", "ftp://status.example.com: neither an http(s) URL of a status page nor a "
                                 "folder of saved JSON"),
    ("api", "SOURCE 'api' is the manage API: it needs --page-id ID (and STATUSPAGE_API_KEY)"),
])
def test_sources_that_are_neither(source: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as error:
        read(source, tmp_path / "cache")
    assert str(error.value) == message


def test_a_cache_folder_serves_one_source_only(server: StatuspageServer, tmp_path: Path) -> None:
    read(server.url, tmp_path / "cache")
    with pytest.raises(SetupError) as error:
        read("https://status.other.example", tmp_path / "cache")
    assert str(error.value) == (f"{tmp_path / 'cache'}: holds the answers of {server.url}/, not of "
                                "https://status.other.example/; choose another cache folder for this source")


# ── folders ──────────────────────────────────────────────────────────────────────────
def test_a_folder_with_only_the_v2_api(tmp_path: Path) -> None:
    public = tmp_path / "public"
    shutil.copytree(FIXTURES / "api", public / "api")
    dump = read(str(public), tmp_path / "cache")

    assert [c["name"] for c in dump.components] == COMPONENTS
    assert [i["id"] for i in dump.incidents] == [POSTMORTEM, "n2s5y8b1k4gu", "k8d2w5n9r3tf", "j6e9a2p5z8cr",
                                                 "w4t7c0m3x8ha"]
    assert dump.notes == (f"{public}/history.page-1.json: not found; only the incidents the API lists "
                          "(its 50 most recent) are imported",)


def test_a_statusgen_sites_published_folder(example_build: BuildResult, tmp_path: Path) -> None:
    api = example_build.out_dir / "api" / "v2"
    published = json.loads((api / "components.json").read_text())["components"]
    listed = [item["id"] for name, key in (("incidents.json", "incidents"),
                                          ("scheduled-maintenances.json", "scheduled_maintenances"))
              for item in json.loads((api / name).read_text())[key]]

    dump = read(str(example_build.out_dir), tmp_path / "cache")

    assert [c["id"] for c in dump.components] == [c["id"] for c in published]
    assert sorted(i["id"] for i in dump.incidents) == sorted(set(listed)) and listed
    assert all(i["incident_updates"] for i in dump.incidents)
    assert dump.notes == (f"{example_build.out_dir}/history.page-1.json: not found; only the incidents the API "
                          "lists (its 50 most recent) are imported",)


def test_a_folder_with_the_json_files_directly_in_it(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    shutil.copytree(FIXTURES / "api" / "v2", saved)
    (saved / "scheduled-maintenances.json").unlink()
    dump = read(str(saved), tmp_path / "cache")

    assert [c["name"] for c in dump.components] == COMPONENTS
    assert [i["id"] for i in dump.incidents] == [POSTMORTEM, "k8d2w5n9r3tf", "j6e9a2p5z8cr", "w4t7c0m3x8ha"]
    assert dump.notes[0] == (f"{saved}/api/v2/scheduled-maintenances.json: not found; only what summary.json "
                             "and history.json list")


def test_malformed_json_in_a_folder_names_the_file_and_line(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    shutil.copytree(FIXTURES / "api", saved / "api")
    (saved / "api" / "v2" / "incidents.json").write_text('{\n  "page": {},\n  "incidents": [\n    {"id": "a",}\n]}')
    with pytest.raises(ContentErrors) as error:
        read(str(saved), tmp_path / "cache")
    assert str(error.value) == (f"{saved}/api/v2/incidents.json:4: not valid JSON: Expecting property name "
                                "enclosed in double quotes (column 16)")


def test_an_item_without_an_id_stops_the_import_naming_it(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    shutil.copytree(FIXTURES / "api", saved / "api")
    (saved / "api" / "v2" / "components.json").write_text('{"page": {}, "components": [{"id": "a"}, {"name": "b"}]}')
    with pytest.raises(SetupError) as error:
        read(str(saved), tmp_path / "cache")
    assert str(error.value) == (f"{saved}/api/v2/components.json: components[1]: expected an object with an id, "
                                "found {'name': 'b'}")


# ── the manage API ───────────────────────────────────────────────────────────────────
def test_manage_api_reads_every_page_of_everything(server: StatuspageServer, tmp_path: Path) -> None:
    lines: list[str] = []
    dump = read(server.manage_url, tmp_path / "cache", page_id=PAGE_ID, env={API_KEY_VARIABLE: API_KEY},
                lines=lines)

    base = f"/v1/pages/{PAGE_ID}"
    assert server.requests[f"{base}/incidents?limit=100&page=2"] == 1
    assert f"{base}/incidents?limit=100&page=3" not in server.requests
    assert server.requests[f"{base}/subscribers?type=email&state=all&limit=100&page=1"] == 1
    assert f"{base}/subscribers?type=email&state=all&limit=100&page=2" not in server.requests
    for mode in ("sms", "webhook", "slack", "teams"):
        assert server.requests[f"{base}/subscribers?type={mode}&state=all&limit=100&page=0"] == 1
    assert {s.headers["Authorization"] for s in server.seen} == {f"OAuth {API_KEY}"}

    assert len(dump.incidents) == 104 and len({i["id"] for i in dump.incidents}) == 104
    assert dump.incidents[0]["created_at"] < dump.incidents[-1]["created_at"]
    assert dump.page["url"] == "https://status.rip.example"
    assert [c["name"] for c in dump.components] == COMPONENTS
    group = dump.components[0]
    assert group["id"] == GROUP and group["group"] is True and group["components"] == [
        c["id"] for c in dump.components[1:4]]
    assert {c["group_id"] for c in dump.components[1:4]} == {GROUP}
    assert [t["component_ids"] for t in dump.templates] == [["b6t0r5wz8p4n"], ["p4n8v2c6x0zt"]]
    by_id = {i["id"]: i for i in dump.incidents}
    assert by_id[POSTMORTEM]["status"] == "postmortem" and by_id[POSTMORTEM]["postmortem_body"]
    overridden = [i for i in dump.incidents if i.get("impact_override")]
    assert [i["impact"] for i in overridden] == ["critical"]
    assert by_id["ht5y7vvyvo4m"]["postmortem_body"] is None
    assert dump.notes == ("incident ht5y7vvyvo4m ('Timestamping requests time out'): its post-mortem is an "
                          "unpublished draft; left out",)
    assert lines[-2] == "fetched 104 incidents, 2 templates and 110 subscribers"


def test_manage_api_subscribers_every_mode_and_state(server: StatuspageServer, tmp_path: Path) -> None:
    dump = read(server.manage_url, tmp_path / "cache", page_id=PAGE_ID, env={API_KEY_VARIABLE: API_KEY})

    by_mode: dict[str, int] = {}
    for subscriber in dump.subscribers:
        by_mode[subscriber["mode"]] = by_mode.get(subscriber["mode"], 0) + 1
    assert by_mode == {"email": 105, "webhook": 2, "sms": 1, "slack": 1, "teams": 1}
    states = {s["email"]: s["state"] for s in dump.subscribers if s["mode"] == "email"}
    assert states["former-spoc@stad-gent.example"] == "unsubscribed"
    assert states["privacy@mutualite-sud.example"] == "unsubscribed"
    assert states["old-team@defunct-partner.example"] == "quarantined"
    assert states["noc@grid-operator.example"] == "active"
    assert all(isinstance(cid, str) for s in dump.subscribers for cid in s["components"])


def test_manage_api_cache_is_a_folder_source_and_holds_no_key(server: StatuspageServer, tmp_path: Path) -> None:
    lines: list[str] = []
    from_api = read(f"http://127.0.0.1:{server.port}/v1/", tmp_path / "cache", page_id=PAGE_ID,
                    env={API_KEY_VARIABLE: API_KEY}, lines=lines)
    asked = server.total
    again = read(server.manage_url, tmp_path / "cache", page_id=PAGE_ID, env={API_KEY_VARIABLE: API_KEY})
    from_folder = read(str(tmp_path / "cache"), tmp_path / "unused")

    assert server.total == asked
    assert again == from_api and from_folder == from_api
    saved = list((tmp_path / "cache").rglob("*"))
    assert all(API_KEY not in path.name for path in saved)
    assert all(API_KEY.encode() not in path.read_bytes() for path in saved if path.is_file())
    assert all(API_KEY not in line for line in lines)


@pytest.mark.parametrize("env", [{}, {API_KEY_VARIABLE: "  "}])
def test_manage_api_without_a_key_asks_nothing(server: StatuspageServer, tmp_path: Path,
                                               env: dict[str, str]) -> None:
    with pytest.raises(SetupError) as error:
        read(server.manage_url, tmp_path / "cache", page_id=PAGE_ID, env=env)
    assert str(error.value).startswith(f"STATUSPAGE_API_KEY is not set: the manage API (--page-id {PAGE_ID}) "
                                       "needs an API key")
    assert server.total == 0
    assert not (tmp_path / "cache").exists()


def test_manage_api_with_a_wrong_key_is_refused(server: StatuspageServer, tmp_path: Path) -> None:
    wrong = "wrong-key-0000"
    with pytest.raises(SetupError) as error:
        read(server.manage_url, tmp_path / "cache", page_id=PAGE_ID, env={API_KEY_VARIABLE: wrong})
    assert str(error.value) == (f"STATUSPAGE_API_KEY was refused for page {PAGE_ID} (HTTP 401 from "
                                f"{server.manage_url}/pages/{PAGE_ID}): check the key and that its user may "
                                "manage this page")
    assert server.total == 1
    assert not any(wrong in path.name for path in (tmp_path / "cache").rglob("*"))


def test_manage_api_with_an_unknown_page(server: StatuspageServer, tmp_path: Path) -> None:
    with pytest.raises(SetupError) as error:
        read(server.manage_url, tmp_path / "cache", page_id="nosuchpage12",
             env={API_KEY_VARIABLE: API_KEY})
    assert str(error.value) == (f"{server.manage_url}/pages/nosuchpage12: not found: is nosuchpage12 the page's "
                                "id (--page-id)?")


def test_manage_api_checks_its_arguments_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as error:
        read("api", tmp_path / "cache", page_id="../etc", env={API_KEY_VARIABLE: "k"})
    assert "--page-id '../etc': expected the page's id" in str(error.value)
    with pytest.raises(UsageError) as error:
        read("https://api.example.com/v2", tmp_path / "cache", page_id=PAGE_ID, env={API_KEY_VARIABLE: "k"})
    assert str(error.value) == ("https://api.example.com/v2: expected the manage API's base URL ending in /v1 "
                                "(or 'api' for https://api.statuspage.io/v1)")


def test_default_cache_folders_are_per_source(tmp_path: Path) -> None:
    assert cache_folder(tmp_path, "https://status.rip.example/", None) == \
        tmp_path / ".statusgen/statuspage/status.rip.example"
    assert cache_folder(tmp_path, "api", PAGE_ID) == tmp_path / f".statusgen/statuspage/api.statuspage.io-{PAGE_ID}"
    assert cache_folder(tmp_path, "http://127.0.0.1:8080/v1", PAGE_ID) == \
        tmp_path / f".statusgen/statuspage/127.0.0.1_8080-{PAGE_ID}"


def test_the_saved_layout() -> None:
    assert str(saved_name("api/v2/summary.json")) == "api/v2/summary.json"
    assert str(saved_name("history.json", (("page", "2"),))) == "history.page-2.json"
    assert str(saved_name("pages/abc")) == "pages/abc.json"
    assert str(saved_name("pages/abc/subscribers", (("type", "email"), ("state", "all"), ("limit", "100"),
                                                    ("page", "0")))) == \
        "pages/abc/subscribers.type-email.state-all.limit-100.page-0.json"
    for unsafe in ("incidents/../../etc.json", "/", "incidents/.hidden.json"):
        with pytest.raises(ValueError):
            saved_name(unsafe)

