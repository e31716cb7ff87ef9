"""Who the notifier mails: subscribers.yaml plus the service's confirmed subscribers,
minus everyone on the suppression list (`StoreAudience`, the notifier's `Audience`).

    subscribers.yaml ─┐
                      ├─▶ an address's own confirmed record replaces its yaml entry
    confirmed rows ───┘   ─▶ minus suppressed addresses (an unsubscribe always wins)

The store is opened read-only: the notifier never changes it. With a database URL it is
the PostgreSQL database the service instances write, so a notifier run anywhere (CI)
honours every unsubscribe made through any of them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from statusgen.content.model import Site, Subscriber
from statusgen.database import DATABASE_VARIABLE, is_database_url
from statusgen.errors import UsageError
from statusgen.notifier.preflight import Check
from statusgen.subscriptions.backend import StoreLocation, open_store, store_location
from statusgen.subscriptions.forms import expand
from statusgen.subscriptions.preflight import subscription_store
from statusgen.subscriptions.store import DB_VARIABLE, SubscriptionStore, address_key

log = logging.getLogger(__name__)


def audience(site: Site, yaml_subscribers: Iterable[Subscriber],
             location: StoreLocation | None) -> tuple[Subscriber, ...]:
    """The final list of subscribers for a notifier run (see the module docstring).

    Without a store only subscribers.yaml counts; when the site has a subscription
    service that is worth a warning: its unsubscribes cannot be honoured from here. A
    PostgreSQL database is always read (a DatabaseError when it cannot be)."""
    listed = tuple(yaml_subscribers)
    if location is None or not location.exists():
        if site.config.subscriptions_url:
            log.warning("no subscription store at %s: only subscribers.yaml is used, and unsubscribes made "
                        "through the subscription service are not applied (set %s or %s)", location,
                        DATABASE_VARIABLE, DB_VARIABLE)
        return listed
    try:
        store = open_store(location, readonly=True)
    except (sqlite3.Error, RuntimeError) as error:
        raise UsageError(f"the subscription store {location} cannot be read: {error}") from None
    try:
        return combine(site, listed, store)
    finally:
        store.close()


def combine(site: Site, listed: tuple[Subscriber, ...], store: SubscriptionStore) -> tuple[Subscriber, ...]:
    suppressed = {entry.digest for entry in store.suppressions()}
    own = {s.key: s for s in store.subscriptions() if s.state == "confirmed"}
    languages = site.config.languages
    chosen = [s for s in listed if address_key(s.email) not in own]
    chosen += [Subscriber(s.email, expand(s.components, site),
                          s.language if s.language in languages else site.config.default_language)
               for s in own.values()]
    return tuple(s for s in chosen if store.digest(s.email) not in suppressed)


@dataclass(frozen=True)
class StoreAudience:
    """The notifier's `Audience` for a site: subscribers.yaml plus the subscription store
    at `location` (a file when the site has the service, or the shared database), minus
    everyone who unsubscribed."""

    location: StoreLocation

    def checks(self, site: Site) -> list[Check]:
        return [subscription_store(site.config, self.location)]

    def subscribers(self, site: Site, listed: tuple[Subscriber, ...]) -> tuple[Subscriber, ...]:
        return audience(site, listed, self.location)


def store_audience(site_dir: Path, env: Mapping[str, str], store: str | Path | None = None) -> StoreAudience:
    """The audience `statusgen notify` mails: the database when one is named (`STATUSGEN_DATABASE_URL`,
    or a URL given to notify's `--store`, which means one database for both stores), else the
    subscription store file the environment names, or the site's own."""
    given = str(store) if store is not None and is_database_url(str(store)) else None
    return StoreAudience(store_location(site_dir, env, given))
