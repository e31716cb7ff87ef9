"""Who the notifier mails: subscribers.yaml plus the service's confirmed subscribers,
minus everyone on the suppression list (`StoreAudience`, the notifier's `Audience`).

    subscribers.yaml ─┐
                      ├─▶ an address's own confirmed record replaces its yaml entry
    confirmed rows ───┘   ─▶ minus suppressed addresses (an unsubscribe always wins)

The store is opened read-only: the notifier never changes it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from statusgen.errors import UsageError
from statusgen.notifier.preflight import Check
from statusgen.content.model import Site, Subscriber
from statusgen.subscriptions.forms import expand
from statusgen.subscriptions.preflight import subscription_store
from statusgen.subscriptions.store import SqliteSubscriptionStore, SubscriptionStore, DB_VARIABLE, address_key, subscriptions_db

log = logging.getLogger(__name__)

def audience(site: Site, yaml_subscribers: Iterable[Subscriber], db_path: Path | None) -> tuple[Subscriber, ...]:
    """The final list of subscribers for a notifier run (see the module docstring).

    Without a store file only subscribers.yaml counts; when the site has a subscription
    service that is worth a warning: its unsubscribes cannot be honoured from here."""
    listed = tuple(yaml_subscribers)
    if db_path is None or not db_path.is_file():
        if site.config.subscriptions_url:
            log.warning("no subscription store at %s: only subscribers.yaml is used, and unsubscribes made "
                        "through the subscription service are not applied (set %s)", db_path, DB_VARIABLE)
        return listed
    try:
        store = SqliteSubscriptionStore(db_path, readonly=True)
    except (sqlite3.Error, RuntimeError) as error:
        raise UsageError(f"the subscription store {db_path} cannot be read: {error}") from None
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
    at `db_path` (when the site has the service), minus everyone who unsubscribed."""

    db_path: Path

    def checks(self, site: Site) -> list[Check]:
        return [subscription_store(site.config, self.db_path)]

    def subscribers(self, site: Site, listed: tuple[Subscriber, ...]) -> tuple[Subscriber, ...]:
        return audience(site, listed, self.db_path)


def store_audience(site_dir: Path, env: Mapping[str, str]) -> StoreAudience:
    """The audience `statusgen notify` mails: the store named by the environment, or the site's own."""
    return StoreAudience(subscriptions_db(site_dir, env))
