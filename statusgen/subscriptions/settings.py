"""The subscription service's settings, read and checked once at startup.

Settings come from `content/site.yaml` (title, languages, base_url, `subscriptions.url`,
the service's public URL, whose path it serves under) and from the environment:

    STATUSGEN_SECRET_KEY          signs every link and CSRF token (required)
    STATUSGEN_SMTP_*              the relay for confirmation emails (else the outbox)
    STATUSGEN_DATABASE_URL        the store in PostgreSQL, shared by several instances and the notifier
    STATUSGEN_SUBSCRIPTIONS_DB    else the SQLite store (default SITE/.statusgen/subscriptions.db)
    STATUSGEN_TRUSTED_PROXIES     how many proxies' X-Forwarded-For to trust (default 0)
    STATUSGEN_WEBHOOK_ALLOW_NETS  private ranges a webhook may be subscribed at (tests, an internal desk)

Before the service starts, its checks (`preflight.service_checks`, which `statusgen doctor`
shares) stop it with every setting to fix at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from statusgen.content.load import load_site
from statusgen import ids
from statusgen.content.model import Site, Subscriber
from statusgen.database import DatabaseError
from statusgen.errors import SetupError, UsageError
from statusgen.notifier.message import MailSettings
from statusgen.notifier.preflight import SECRET_VARIABLE, problems_of, relay_configured
from statusgen.content.relay import SmtpSettings
from statusgen.notifier.delivery import Transport
from statusgen.notifier.outbox import OutboxTransport
from statusgen.notifier.smtp import SmtpTransport
from statusgen.notifier.webhooks.network import NetworkPolicy
from statusgen.site.theme import Theme
from statusgen.subscriptions.preflight import named, service_checks, trusted_proxies
from statusgen.subscriptions.backend import StoreLocation, store_location
from statusgen.subscriptions.store import address_key

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024


@dataclass(frozen=True)
class Service:
    """Everything the app needs, read and checked once at startup."""

    site_dir: Path
    site: Site
    listed: Mapping[str, Subscriber]
    """subscribers.yaml's email subscribers, by address key."""
    listed_webhooks: Mapping[str, Subscriber]
    """subscribers.yaml's webhook subscribers, by their id (`ids.webhook_id`)."""
    theme: Theme
    public_url: str
    """`subscriptions.url`, ending in `/`."""
    secret: str = field(repr=False)  # never in a log or a traceback
    store: StoreLocation
    """The subscription store: a SQLite file or a PostgreSQL database (backend.py)."""
    trusted_proxies: int
    mail: MailSettings
    webhook_policy: NetworkPolicy
    """Where webhooks may be subscribed (and test deliveries go): public addresses, plus
    STATUSGEN_WEBHOOK_ALLOW_NETS."""

    @property
    def base_path(self) -> str:
        return urlsplit(self.public_url).path or "/"


def load_service(site_dir: Path, env: Mapping[str, str], db: str | Path | None = None) -> Service:
    """Read the site and the environment; raises UsageError for what stops the service
    (a SetupError with every setting to fix: the doctor's checks for the service), and a
    DatabaseError, in one line, when the database named does not answer."""
    from statusgen.notifier.run import mail_settings  # the sender and link settings the notifier uses

    site_dir = site_dir.resolve()
    site, listed = load_site(site_dir)
    public_url = _public_url(site)
    store = _outside_published(site_dir, store_location(site_dir, env, db))
    if store.url:
        from statusgen.subscriptions.pgstore import verify

        try:
            verify(store.url)  # unreachable, refused, an old schema: one line, before anything else
        except DatabaseError as error:
            raise DatabaseError(named(store.setting, error)) from None
    problems = problems_of(service_checks(site, env, store))
    if problems:
        raise SetupError(problems)
    return Service(site_dir=site_dir, site=site, listed={address_key(s.email): s for s in listed if not s.webhook},
                   listed_webhooks={ids.webhook_id(s.webhook): s for s in listed if s.webhook},
                   theme=Theme(site_dir), public_url=public_url, secret=env[SECRET_VARIABLE], store=store,
                   trusted_proxies=_trusted_proxies(env), mail=mail_settings(site.config, env),
                   webhook_policy=NetworkPolicy.from_env(env))


def _public_url(site: Site) -> str:
    url = site.config.subscriptions_url or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError("content/site.yaml: subscriptions.url: expected the service's public URL such as "
                         f"'https://status.example.org/subscriptions/'; found {url or 'nothing'!r}")
    return url if url.endswith("/") else url + "/"


def _outside_published(site_dir: Path, store: StoreLocation) -> StoreLocation:
    published = (site_dir / "public").resolve()
    if store.path and store.path.resolve().is_relative_to(published):
        raise UsageError(f"the subscription store {store.path} is inside the published folder {published}; "
                         "it holds addresses")
    return store


def _trusted_proxies(env: Mapping[str, str]) -> int:
    count, problems = trusted_proxies(env)
    if problems:  # the preflight has named it already; a caller without it still gets the reason
        raise UsageError(problems[0])
    return count


def transport_for(service: Service, env: Mapping[str, str]) -> Transport:
    """SMTP when a relay is configured (environment or notify.smtp), else the outbox."""
    smtp = dict(service.site.config.notify.smtp)
    if not relay_configured(service.site.config, env):
        outbox = service.site_dir / ".statusgen" / "outbox"
        log.info("no SMTP relay configured: confirmation emails go to the outbox %s", outbox)
        return OutboxTransport(outbox)
    try:
        return SmtpTransport(SmtpSettings.from_environment(env, smtp), connections=1)
    except ValueError as error:
        raise UsageError(str(error)) from None
