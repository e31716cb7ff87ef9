"""The service's defences: where a POST may come from, CSRF tokens, response headers.

A state-changing POST is accepted when it proves it comes from a page of ours:
- an `Origin` (or, without one, a `Referer`) of the status site or of the service
  itself: the static site's subscribe form posts cross-origin, and browsers send its
  origin; or
- a CSRF token that matches the cookie it was issued with (signed double submit):
  the service's own pages send `Referrer-Policy: no-referrer`, so browsers post their
  forms with `Origin: null`, and the token is what speaks for them.
A POST that names a foreign origin is refused even with a token. RFC 8058's one-click
unsubscribe is the exception: the mail provider posts with no cookie and no origin,
and the signed unsubscribe token is its authorisation (see `app.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Request, Response

CSRF_COOKIE = "statusgen_csrf"
CSRF_FIELD = "csrf_token"
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`https://status.example.org` for any URL on that origin; None if it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    shown = "" if port in (None, DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{parts.hostname.lower()}{shown}"


class Guard:
    """Checks where POSTs come from and issues the CSRF cookie and tokens."""

    def __init__(self, secret: str, allowed_origins: Iterable[str], cookie_path: str, secure: bool) -> None:
        self._key = hashlib.sha256(b"statusgen.csrf\n" + secret.encode()).digest()
        self.allowed = frozenset(allowed_origins)
        self.cookie_path = cookie_path
        self.secure = secure

    def token_for(self, request: Request) -> tuple[str, str | None]:
        """The form token for this visitor, and a new cookie value to set if they have none."""
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if _looks_like_a_cookie(cookie):
            return self._sign(cookie), None
        cookie = secrets.token_urlsafe(32)
        return self._sign(cookie), cookie

    def set_cookie(self, response: Response, value: str | None) -> None:
        if value is not None:
            response.set_cookie(CSRF_COOKIE, value, path=self.cookie_path, secure=self.secure, httponly=True,
                                samesite="Strict")

    def check(self, request: Request, form: Mapping[str, str]) -> None:
        """Raise 403 unless the POST comes from an allowed origin or carries a valid token."""
        claimed = self._claimed_origin(request)
        if claimed is not None and claimed not in self.allowed:
            raise Forbidden("the form was sent from another site")
        if claimed is None and not self._token_ok(request, str(form.get(CSRF_FIELD, ""))):
            raise Forbidden("the form was not sent from a page of this site (no origin, no valid token)")

    def _claimed_origin(self, request: Request) -> str | None:
        """The origin the browser names: Origin, else Referer's; None when it names none."""
        origin = request.headers.get("Origin", "").strip()
        if origin and origin != "null":
            return origin_of(origin) or origin
        referer = request.headers.get("Referer", "").strip()
        return (origin_of(referer) or referer) if referer else None

    def _token_ok(self, request: Request, token: str) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return _looks_like_a_cookie(cookie) and hmac.compare_digest(token.encode(), self._sign(cookie).encode())

    def _sign(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()


def _looks_like_a_cookie(value: str) -> bool:
    return 32 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()


def security_headers(style_origin: str) -> dict[str, str]:
    """Headers on every response: nothing loads but the status site's stylesheet and
    icon, forms post only to us, nobody frames us, no link leaks a token as a Referer,
    and nothing (a page with a token or an address in it) is cached."""
    policy = (f"default-src 'none'; style-src {style_origin}; img-src {style_origin}; form-action 'self'; "
              "frame-ancestors 'none'; base-uri 'none'")
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
