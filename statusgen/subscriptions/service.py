"""`statusgen subscriptions serve`: the service's settings, its app, and waitress.

Settings come from `content/site.yaml` (title, languages, base_url, `subscriptions.url`,
the service's public URL, whose path it serves under) and from the environment:

    STATUSGEN_SECRET_KEY          signs every link and CSRF token (required)

Before it starts, the doctor's checks for the service (`doctor.service_checks`) stop it
with every setting to fix at once.
    STATUSGEN_SMTP_*              the relay for confirmation emails (else the outbox)
    STATUSGEN_SUBSCRIPTIONS_DB    the store (default SITE/.statusgen/subscriptions.db)
    STATUSGEN_TRUSTED_PROXIES     how many proxies' X-Forwarded-For to trust (default 0)
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from statusgen.notify.emails import MailSettings
from statusgen.errors import SetupError, UsageError
from statusgen.content.load import load_site
from statusgen.content.model import Site, Subscriber
from statusgen.subscriptions.merge import subscriptions_db
from statusgen.subscriptions.store import address_key
from statusgen.site.theme import Theme
from statusgen.content.relay import SmtpSettings
from statusgen.notify.delivery import Transport
from statusgen.notify.outbox import OutboxTransport
from statusgen.notify.smtp import SmtpTransport

if TYPE_CHECKING:  # a real import would load werkzeug for every statusgen command
    from statusgen.subscriptions.app import SubscriptionApp

log = logging.getLogger(__name__)

THREADS = 8
MAX_BODY = 16 * 1024


@dataclass(frozen=True)
class Service:
    """Everything the app needs, read and checked once at startup."""

    site_dir: Path
    site: Site
    listed: Mapping[str, Subscriber]
    """subscribers.yaml, by address key."""
    theme: Theme
    public_url: str
    """`subscriptions.url`, ending in `/`."""
    secret: str = field(repr=False)  # never in a log or a traceback
    db_path: Path
    trusted_proxies: int
    mail: MailSettings

    @property
    def base_path(self) -> str:
        return urlsplit(self.public_url).path or "/"


def load_service(site_dir: Path, env: Mapping[str, str], db: Path | None = None) -> Service:
    """Read the site and the environment; raises UsageError for what stops the service
    (a SetupError with every setting to fix: the doctor's checks for the service)."""
    from statusgen.doctor import SECRET_VARIABLE, problems_of, service_checks
    from statusgen.notify.run import mail_settings  # the sender and link settings the notifier uses

    site_dir = site_dir.resolve()
    site, listed = load_site(site_dir)
    public_url = _public_url(site)
    db_path = _db_path(site_dir, db or subscriptions_db(site_dir, env))
    problems = problems_of(service_checks(site, env, db_path))
    if problems:
        raise SetupError(problems)
    return Service(site_dir=site_dir, site=site, listed={address_key(s.email): s for s in listed},
                   theme=Theme(site_dir), public_url=public_url, secret=env[SECRET_VARIABLE], db_path=db_path,
                   trusted_proxies=_trusted_proxies(env), mail=mail_settings(site.config, env))


def _public_url(site: Site) -> str:
    url = site.config.subscriptions_url or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError("content/site.yaml: subscriptions.url: expected the service's public URL such as "
                         f"'https://status.example.org/subscriptions/'; found {url or 'nothing'!r}")
    return url if url.endswith("/") else url + "/"


def _db_path(site_dir: Path, path: Path) -> Path:
    published = (site_dir / "public").resolve()
    if path.resolve().is_relative_to(published):
        raise UsageError(f"the subscription store {path} is inside the published folder {published}; "
                         "it holds addresses")
    return path


def _trusted_proxies(env: Mapping[str, str]) -> int:
    value = env.get("STATUSGEN_TRUSTED_PROXIES", "").strip() or "0"
    if not value.isdigit() or int(value) > 10:
        raise UsageError(f"STATUSGEN_TRUSTED_PROXIES: expected how many proxies stand in front of the service "
                         f"(0 to 10); found {value!r}")
    return int(value)


def transport_for(service: Service, env: Mapping[str, str]) -> Transport:
    """SMTP when a relay is configured (environment or notify.smtp), else the outbox."""
    from statusgen.doctor import relay_configured

    smtp = dict(service.site.config.notify.smtp)
    if not relay_configured(service.site.config, env):
        outbox = service.site_dir / ".statusgen" / "outbox"
        log.info("no SMTP relay configured: confirmation emails go to the outbox %s", outbox)
        return OutboxTransport(outbox)
    try:
        return SmtpTransport(SmtpSettings.from_environment(env, smtp), connections=1)
    except ValueError as error:
        raise UsageError(str(error)) from None


def make_app(site_dir: Path, env: Mapping[str, str] | None = None, db: Path | None = None,
             transport: Transport | None = None, clock: Callable[[], datetime] | None = None) -> SubscriptionApp:
    """The WSGI app for a site; `transport` and `clock` default to the configured ones."""
    from statusgen.subscriptions.app import SubscriptionApp
    from statusgen.subscriptions.store import SqliteSubscriptionStore

    env = os.environ if env is None else env
    service = load_service(site_dir, env, db)
    store = SqliteSubscriptionStore(service.db_path)
    return SubscriptionApp(service, store, transport or transport_for(service, env), clock=clock)


def make_server(app: SubscriptionApp, host: str = "127.0.0.1", port: int = 8025) -> Any:
    """A waitress server for the app (not yet running: call `.run()`).

    Waitress would drop X-Forwarded-For itself unless told which proxy to trust; the
    app's ProxyFix does that (STATUSGEN_TRUSTED_PROXIES), so waitress leaves it be."""
    from waitress import create_server

    return create_server(app, host=host, port=port, threads=THREADS, ident="statusgen",
                         max_request_body_size=MAX_BODY * 4, clear_untrusted_proxy_headers=False)


def serve(site_dir: Path, host: str = "127.0.0.1", port: int = 8025, db: Path | None = None,
          env: Mapping[str, str] | None = None) -> None:
    """Run the service with waitress until interrupted."""
    app = make_app(site_dir, env, db)
    server = make_server(app, host, port)
    if threading.current_thread() is threading.main_thread():
        # systemd and container runtimes stop with SIGTERM: leave as on Ctrl-C, so the
        # queued confirmation emails still go out (`app.close()` waits for them)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("subscription service on http://%s:%s%s, public URL %s", host, server.effective_port,
             app.service.base_path, app.service.public_url)
    try:
        server.run()
    finally:
        app.close()
