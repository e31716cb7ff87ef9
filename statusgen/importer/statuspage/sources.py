"""Where a Statuspage's data comes from: a page URL, a folder of saved JSON, or the manage API.

    SOURCE, --page-id, env ──check (before any request)──▶ a Fetcher (fetch.py)
        https://status.example.com   public API + history, cached in cache_dir   (public.py)
        FOLDER                       saved answers, the cache's layout           (public.py | manage.py)
        api | https://…/v1 + ID      manage API with STATUSPAGE_API_KEY, cached  (manage.py)
    ──crawl──▶ Found ──▶ Dump (found.py: page order, one object per id, oldest first)

A folder source has the layout of the cache (saved.py), so the cache of a URL run is a
folder source for the next one:

    api/v2/summary.json  api/v2/components.json  api/v2/incidents.json
    api/v2/scheduled-maintenances.json           the public API (summary.json is required)
    history.page-1.json  history.page-2.json …   the page's history.json?page=N
    incidents/CODE.json                          a timeline, as incidents/CODE.json answers
    pages/ID.json  pages/ID/incidents.limit-100.page-1.json  …   the manage API's answers

It also takes the simple cases: a statusgen site's `public/` (only `api/v2/`), or the
`*.json` files directly in the folder (summary.json, incidents.json, ...). With
`--page-id` (or when the folder holds only `pages/ID.json` answers) it is read as the
manage API. Plain http is accepted for 127.0.0.1 and localhost only; the manage API's
key is read from the environment only, and never appears in a message or file name.
"""

from __future__ import annotations

import ipaddress
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

from statusgen import REPOSITORY, __version__
from statusgen.errors import SetupError, UsageError
from statusgen.importer.statuspage.dump import Dump
from statusgen.importer.statuspage.fetch import (
    FetchError,
    FolderFetcher,
    HttpFetcher,
    Redirected,
    Refused,
    Throttle,
    Unreachable,
)
from statusgen.importer.statuspage.found import Found
from statusgen.importer.statuspage.manage import read_manage
from statusgen.importer.statuspage.public import read_public

API_KEY_VARIABLE = "STATUSPAGE_API_KEY"
MANAGE_API = "https://api.statuspage.io/v1"
USER_AGENT = f"statusgen/{__version__} (+{REPOSITORY})"
SOURCE_MARKER = ".source"
"""In the cache folder: which source its answers came from, so two sources never mix."""

_PAGE_ID = re.compile(r"[A-Za-z0-9]+")
_LOOPBACK = ("localhost",)


def open_source(source: str, *, page_id: str | None, env: Mapping[str, str], cache_dir: Path,
                progress: Callable[[str], None] = lambda line: None,
                sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.monotonic,
                refresh: bool = False) -> Dump:
    """Read everything the source has. `source` is an http(s) page URL or a folder of saved
    JSON; with `page_id` it is the manage API (`source` then is its base URL or "api",
    the key in env[API_KEY_VARIABLE]). Answers are saved in `cache_dir` as they come, and a
    rerun reads them from there (`refresh` asks everything again). Raises `SetupError` for a
    missing or refused key, an unreachable source or one that is not a Statuspage,
    `UsageError` for a source that is neither, `ContentErrors` for a saved file that is not JSON."""
    if page_id is not None and not _PAGE_ID.fullmatch(page_id):
        raise UsageError(f"--page-id {page_id!r}: expected the page's id, letters and digits (e.g. 'kctbh9vrtdwd')")
    folder = Path(source)
    if not _is_url(source) and source != "api":
        if not folder.is_dir():
            raise UsageError(f"{source}: neither an http(s) URL of a status page nor a folder of saved JSON")
        return _from_folder(folder, page_id, progress).dump()
    throttle = Throttle(sleep, clock)
    if page_id is not None:
        return _from_manage_api(source, page_id, env, cache_dir, throttle, progress, refresh).dump()
    if source == "api":
        raise UsageError("SOURCE 'api' is the manage API: it needs --page-id ID (and STATUSPAGE_API_KEY)")
    return _from_page(source, cache_dir, throttle, progress, refresh).dump()


def cache_folder(site_dir: Path, source: str, page_id: str | None) -> Path:
    """Where a source's answers are kept by default: `SITE/.statusgen/statuspage/HOST` (or
    `HOST-ID` for the manage API). `.statusgen/` is never published and is git-ignored by
    `statusgen init`: the manage API's answers hold subscriber addresses."""
    host = "api.statuspage.io" if source == "api" else urllib.parse.urlsplit(source).netloc or "folder"
    name = re.sub(r"[^A-Za-z0-9.-]", "_", host) + (f"-{page_id}" if page_id else "")
    return site_dir / ".statusgen" / "statuspage" / name


def _from_folder(folder: Path, page_id: str | None, progress: Callable[[str], None]) -> Found:
    fetch = FolderFetcher(folder)
    page_id = page_id or _only_manage_page(folder)
    if page_id is not None:
        progress(f"reading the manage API's answers for page {page_id} saved in {folder}")
        return read_manage(fetch, page_id, progress,
                           f"{folder}: no pages/{page_id}.json in it: expected the manage API's answers for "
                           f"page {page_id} (as a cache folder of `--page-id {page_id}` holds them)")
    progress(f"reading saved answers in {folder}")
    return read_public(fetch, progress,
                       f"{folder}: no api/v2/summary.json (or summary.json) in it: expected a folder of saved "
                       "Statuspage JSON (a cache folder, a status page's api/v2/ files, or a statusgen site's public/)")


def _only_manage_page(folder: Path) -> str | None:
    """The page id when the folder holds the manage API's answers for one page and nothing public."""
    if (folder / "api" / "v2").is_dir() or (folder / "summary.json").is_file():
        return None
    pages = sorted(path.stem for path in (folder / "pages").glob("*.json")) if (folder / "pages").is_dir() else []
    return pages[0] if len(pages) == 1 and _PAGE_ID.fullmatch(pages[0]) else None


def _from_page(source: str, cache_dir: Path, throttle: Throttle, progress: Callable[[str], None],
               refresh: bool) -> Found:
    base = _checked_url(source, "the status page")
    cache = _cache(cache_dir, base)
    fetch = HttpFetcher(base, cache, throttle, {"User-Agent": USER_AGENT, "Accept": "application/json"},
                        reuse=not refresh)
    progress(f"reading {base} (at most one request a second; answers saved in {cache_dir})")
    expected = f"{base}: is this a Statuspage? expected {fetch.url('api/v2/summary.json')} (it answered 404)"
    try:
        found = _crawl(lambda: read_public(fetch, progress, expected), fetch, cache_dir)
    except Refused as error:
        raise SetupError([f"{error}: the status page refused the request (is it private, or only for "
                          "logged-in viewers?)"]) from None
    progress(f"{fetch.counts.asked} requests, {fetch.counts.cached} answers from the cache")
    return found


def _from_manage_api(source: str, page_id: str, env: Mapping[str, str], cache_dir: Path, throttle: Throttle,
                     progress: Callable[[str], None], refresh: bool) -> Found:
    base = MANAGE_API if source == "api" else _checked_url(source, "the manage API")
    if not base.rstrip("/").endswith("/v1"):
        raise UsageError(f"{source}: expected the manage API's base URL ending in /v1 (or 'api' for {MANAGE_API})")
    key = env.get(API_KEY_VARIABLE, "").strip()
    if not key:
        raise SetupError([f"{API_KEY_VARIABLE} is not set: the manage API (--page-id {page_id}) needs an API key "
                          "(Statuspage: your avatar → API info); set it in the environment, never on the command line"])
    cache = _cache(cache_dir, f"{base.rstrip('/')}/pages/{page_id}")
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Authorization": f"OAuth {key}"}
    fetch = HttpFetcher(base, cache, throttle, headers, secret=key, reuse=not refresh)
    progress(f"reading page {page_id} from {base} (at most one request a second; answers saved in {cache_dir})")
    not_found = f"{fetch.url(f'pages/{page_id}')}: not found: is {page_id} the page's id (--page-id)?"
    try:
        found = _crawl(lambda: read_manage(fetch, page_id, progress, not_found), fetch, cache_dir)
    except Refused as error:
        raise SetupError([f"{API_KEY_VARIABLE} was refused for page {page_id} ({error.message} from {error.where}): "
                          "check the key and that its user may manage this page"]) from None
    progress(f"{fetch.counts.asked} requests, {fetch.counts.cached} answers from the cache")
    return found


def _crawl(crawl: Callable[[], Found], fetch: HttpFetcher, cache_dir: Path) -> Found:
    """Runs a crawl, turning a source that stops answering into a SetupError (which says,
    once answers have come in, that they are saved: a rerun continues where this one stopped)."""
    try:
        return crawl()
    except Refused:
        raise
    except (Unreachable, Redirected) as error:
        saved = fetch.counts.asked > 1 or fetch.counts.cached > 0
        raise SetupError([f"{error}; the answers so far are saved in {cache_dir}" if saved else str(error)]) from None
    except FetchError as error:
        raise SetupError([str(error)]) from None


def _checked_url(source: str, what: str) -> str:
    parts = urllib.parse.urlsplit(source)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{source}: expected an http(s) URL of {what}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise UsageError(f"{source}: plain http is for 127.0.0.1 and localhost only; use https://{parts.netloc}")
    if parts.query or parts.fragment or parts.username:
        raise UsageError(f"{source}: expected the URL of {what} without a query, fragment or user")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))


def _loopback(host: str) -> bool:
    if host in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _cache(cache_dir: Path, source: str) -> Path:
    """The cache folder, claimed for `source` (a folder holding another source's answers is refused)."""
    marker = cache_dir / SOURCE_MARKER
    if marker.is_file():
        owner = marker.read_text(encoding="utf-8").strip()
        if owner != source:
            raise SetupError([f"{cache_dir}: holds the answers of {owner}, not of {source}; "
                              "choose another cache folder for this source"])
    cache_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(source + "\n", encoding="utf-8")
    return cache_dir
