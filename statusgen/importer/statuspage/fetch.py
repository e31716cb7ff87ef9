"""Fetchers: where the crawls read answers from, a folder of saved JSON or a polite HTTP client.

    crawl ──get(path, query)──▶ FolderFetcher: folder/saved_name(path, query)   (saved.py)
                           └──▶ HttpFetcher: the cache first ──miss──▶ throttle (≥ 1 s between
                                request starts) ──GET──▶ 200 / 404 saved as they came
                                429/420: wait Retry-After, ask again │ 5xx, timeouts: back off, ask again
                                401/403: Refused │ no connection: Unreachable │ other host: Redirected

An `Answer` carries the parsed JSON (None for "not found") and where it came from, for
messages. Fetchers raise `FetchError`s; the crawl decides whether a failure stops the
import (SetupError) or becomes a note. No message, log line or file name carries the
request headers (the manage API's key is one).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from statusgen.importer.statuspage.saved import Query, parse_file, read_saved, saved_name, write_saved

log = logging.getLogger(__name__)

INTERVAL = 1.0
"""Seconds between the starts of two requests: Statuspage's limit is about one a second."""
DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 300.0
"""A Retry-After above this is waited for this long, then asked again (and counted as a try)."""
THROTTLED_TRIES = 5
FAILED_TRIES = 4
"""Tries for a 5xx answer or a broken connection: backoff 2, 4, 8 s between them."""
TIMEOUT = 30.0


@dataclass(frozen=True)
class Answer:
    where: str
    """The URL or the file, for messages."""
    data: Any
    """The parsed JSON; None when the source has nothing there (404, or no saved file)."""
    cached: bool = False


class FetchError(Exception):
    """A request that got no usable answer; `where` is the URL, never a header."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class Refused(FetchError):
    """401 or 403: the credentials (or their absence) were not accepted."""


class Unreachable(FetchError):
    """No HTTP answer at all: DNS, a refused connection, timeouts after retries."""


class Redirected(FetchError):
    """A redirect to another host (or from https to http): not followed."""


class Fetcher(Protocol):
    def get(self, path: str, query: Query = ()) -> Answer: ...


@dataclass
class Counts:
    asked: int = 0
    """Requests sent (every try counts)."""
    cached: int = 0
    """Answers read from saved files instead."""


class FolderFetcher:
    """Answers from a folder of saved JSON (the cache layout, saved.py): the source itself,
    so nothing counts as cached. For the simple cases people have, `api/v2/NAME.json` is
    also found as `NAME.json` directly in the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counts = Counts()

    def get(self, path: str, query: Query = ()) -> Answer:
        name = saved_name(path, query)
        found = read_saved(self.folder, name)
        if found is None and name.parts[:2] == ("api", "v2") and len(name.parts) == 3:
            found = read_saved(self.folder, name.relative_to("api/v2"))
        if found is None:
            return Answer(str(self.folder / name), None)
        return Answer(str(found.file), None if found.body is None else parse_file(found.file, found.body))


class Throttle:
    """At most one request start per `interval` seconds, on the injected clock."""

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float], interval: float = INTERVAL) -> None:
        self.sleep, self.clock, self.interval = sleep, clock, interval
        self.last: float | None = None

    def wait(self) -> None:
        if self.last is not None:
            pause = self.last + self.interval - self.clock()
            if pause > 0:
                self.sleep(pause)
        self.last = self.clock()


class HttpFetcher:
    """GETs under `base` (an http(s) URL ending in /), answers saved in `cache` as they came."""

    def __init__(self, base: str, cache: Path, throttle: Throttle, headers: Mapping[str, str],
                 secret: str | None = None, reuse: bool = True) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.cache = cache
        self.throttle = throttle
        self.headers = dict(headers)
        self.secret = secret
        self.reuse = reuse
        """False: ask again for everything, saving over what was saved."""
        self.counts = Counts()
        self.opener = urllib.request.build_opener(_SameHostRedirects())

    def url(self, path: str, query: Query = ()) -> str:
        url = urllib.parse.urljoin(self.base, path.lstrip("/"))
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def get(self, path: str, query: Query = ()) -> Answer:
        name = saved_name(path, query)
        url = self.url(path, query)
        saved = read_saved(self.cache, name) if self.reuse else None
        if saved is not None:
            self.counts.cached += 1
            return Answer(url, None if saved.body is None else parse_file(saved.file, saved.body), True)
        body = self._ask(url)
        data = None if body is None else _parse_answer(url, body)
        write_saved(self.cache, name, body)
        return Answer(url, data)

    def _ask(self, url: str) -> bytes | None:
        """The body of a 200, None for a 404; retries what can pass, raises the rest."""
        throttled = failed = 0
        while True:
            self.throttle.wait()
            self.counts.asked += 1
            try:
                return self._request(url)
            except _Retry as retry:
                if retry.throttled:
                    throttled += 1
                    if throttled >= THROTTLED_TRIES:
                        raise FetchError(url, f"still rate-limited (HTTP {retry.status}) after "
                                              f"{throttled} tries; try again later") from None
                    pause = retry.after
                else:
                    failed += 1
                    if failed >= FAILED_TRIES:
                        raise _final(url, retry) from None
                    pause = 2.0 ** failed
                log.info("%s: %s; asking again in %.0f s", url, retry.reason, pause)
                self.throttle.sleep(pause)

    def _request(self, url: str) -> bytes | None:
        request = urllib.request.Request(url, headers=self.headers)
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return self._http_error(url, error)
        except _Redirect as redirect:
            raise Redirected(url, f"redirects to {redirect.target}, another host (or plain http); "
                                  "use that address as the source if you trust it") from None
        except (TimeoutError, ConnectionResetError, http.client.IncompleteRead, http.client.RemoteDisconnected) as error:
            raise _Retry(None, f"no complete answer ({self._clean(error)})") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise _Retry(None, "no answer in time") from None
            raise Unreachable(url, f"cannot connect: {self._clean(error.reason)}") from None

    def _http_error(self, url: str, error: urllib.error.HTTPError) -> bytes | None:
        status = error.code
        if status == 404:
            return None
        if status in (401, 403):
            raise Refused(url, f"HTTP {status}")
        if status in (420, 429):
            raise _Retry(status, f"rate-limited (HTTP {status})", throttled=True,
                         after=retry_after(error.headers.get("Retry-After"), error.headers.get("Date")))
        if status >= 500:
            raise _Retry(status, f"HTTP {status}")
        raise FetchError(url, f"HTTP {status} {error.reason}")

    def _clean(self, reason: object) -> str:
        text = str(reason)
        return text.replace(self.secret, "***") if self.secret else text


def retry_after(value: str | None, date: str | None) -> float:
    """Seconds to wait: Retry-After in seconds or as an HTTP date (against the answer's own
    Date, so no clock is read here); missing or unreadable: a minute; capped at five."""
    seconds = DEFAULT_RETRY_AFTER
    if value:
        value = value.strip()
        if value.isdigit():
            seconds = float(value)
        else:
            seconds = _date_difference(value, date)
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


def _date_difference(value: str, date: str | None) -> float:
    then, now = _http_date(value), _http_date(date)
    if then is None or now is None:
        return DEFAULT_RETRY_AFTER
    return (then - now).total_seconds()


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _parse_answer(url: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = getattr(error, "lineno", 1)
        raise FetchError(url, f"the answer is not JSON (line {line}: {getattr(error, 'msg', error)})") from None


def _final(url: str, retry: _Retry) -> FetchError:
    if retry.status is None:
        return Unreachable(url, f"{retry.reason}, {FAILED_TRIES} tries")
    return FetchError(url, f"{retry.reason}, {FAILED_TRIES} tries")


class _Retry(Exception):
    def __init__(self, status: int | None, reason: str, *, throttled: bool = False, after: float = 0.0) -> None:
        super().__init__(reason)
        self.status, self.reason, self.throttled, self.after = status, reason, throttled, after


class _Redirect(Exception):
    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme, host and port (a moved path, a trailing slash)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        if (old.scheme, old.netloc) != (new.scheme, new.netloc):
            fp.close()
            raise _Redirect(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)
