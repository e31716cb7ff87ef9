"""Whether requests reach the service the way `subscriptions.url` says, told once each.

    request ──Reach.note──▶ a path outside subscriptions.url's, ending in one of the service's pages
                            (a proxy that strips or adds a prefix: every link in every email 404s)
                          ▶ a form posted from the service's own page at another origin than
                            subscriptions.url's (the service reached under another host or
                            scheme: every such post is refused as cross-site)

What the service can see of how it is reached is the path and Host of each request, and
the Origin a browser names on a POST. A proxy in between may rewrite the Host (nginx's
default sends the upstream's own), so a Host alone proves nothing; but a browser that posts
a page of this service from an origin subscriptions.url does not name, and a request for
`/confirm` when the service lives under `/subscriptions/`, are each a setting to change.
Each kind is logged once per process as a warning naming `subscriptions.url`, so a busy
service does not repeat it for every request, and nothing of the request but its path and
origin is written (never a token or an address).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from werkzeug.wrappers import Request

from statusgen.subscriptions.security import origin_of

log = logging.getLogger(__name__)

PAGES = ("subscribe", "confirm", "manage", "unsubscribe", "webhook", "healthz")
"""The last part of each of the service's paths (app.py's routes)."""


class Reach:
    """Notes each request; warns once per kind of mismatch with `subscriptions.url`."""

    def __init__(self, public_url: str, base_path: str, allowed_origins: Iterable[str]) -> None:
        self.public_url, self.base_path = public_url, base_path
        self.allowed = frozenset(allowed_origins)
        self._told: set[str] = set()
        self._lock = threading.Lock()

    def note(self, request: Request) -> None:
        """Look at one request (cheap: two string checks unless something is wrong)."""
        path = request.path
        if not path.startswith(self.base_path) and path.rstrip("/").rpartition("/")[2] in PAGES:
            self._tell("path", f"subscriptions: a request for {path} is outside the path of subscriptions.url "
                               f"({self.public_url}): a reverse proxy strips or adds a prefix, or subscriptions.url "
                               "in content/site.yaml names another path than the one the service is reached at; "
                               "every link in the emails and pages uses subscriptions.url, so make the two agree")
        origin = posted_from(request) if request.method == "POST" else None
        if origin and origin not in self.allowed and _host_of(origin) == request.host.lower():
            self._tell("origin", f"subscriptions: a form was posted from {origin}, the service's own address, but "
                                 f"subscriptions.url in content/site.yaml says {self.public_url}: browsers reach the "
                                 "service there, so its posts are refused as cross-site; set subscriptions.url to "
                                 "the address readers use")

    def _tell(self, kind: str, message: str) -> None:
        with self._lock:
            if kind in self._told:
                return
            self._told.add(kind)
        log.warning("%s", message)


def posted_from(request: Request) -> str | None:
    """The origin the browser names for a POST (Origin), without a path."""
    origin = request.headers.get("Origin", "").strip()
    return None if not origin or origin == "null" else origin_of(origin) or origin


def _host_of(origin: str) -> str:
    return origin.partition("://")[2].lower()
