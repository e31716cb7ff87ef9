"""Who the notifier mails (and posts to): subscribers.yaml plus the service's confirmed
subscribers, minus everyone on the suppression list (`StoreAudience`, the notifier's `Audience`).

    subscribers.yaml ─┐
                      ├─▶ an address's (a URL's) own confirmed record replaces its yaml entry
    confirmed rows ───┘   ─▶ minus suppressed keys (an unsubscribe always wins, a 410 too)
    confirmed webhooks ──▶ Subscriber(email=contact, webhook=URL, format, secrets=derived)

A self-service webhook's signing secrets travel in `Subscriber.secrets`, derived here from
STATUSGEN_SECRET_KEY and the stored seed (signingkeys.py): the notifier signs with them and
never learns where they come from, and nothing stores them. A webhook whose seed was stored
under another key (STATUSGEN_SECRET_KEY changed) would be signed with secrets its receiver
never saw: it is left out, and `checks` names it (a warning, so the others still go out).

The store is opened read-only: the notifier never changes it. With a database URL it is
the PostgreSQL database the service instances write, so a notifier run anywhere (CI)
honours every unsubscribe made through any of them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from statusgen.content.model import Site, Subscriber
from statusgen.database import DATABASE_VARIABLE, DatabaseError, is_database_url
from statusgen.notifier.preflight import SECRET_VARIABLE, Check
from statusgen.subscriptions.backend import StoreLocation, open_store, store_location
from statusgen.subscriptions.forms import expand
from statusgen.subscriptions.preflight import subscription_store
from statusgen.subscriptions.store import DB_VARIABLE, SubscriptionStore, WebhookSubscription

log = logging.getLogger(__name__)


def audience(site: Site, yaml_subscribers: Iterable[Subscriber], location: StoreLocation | None,
             key: str = "") -> tuple[Subscriber, ...]:
    """The final list of subscribers for a notifier run (see the module docstring); `key`
    is STATUSGEN_SECRET_KEY, which the self-service webhooks' secrets are derived with.

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
    with _reading(location):
        store = open_store(location, readonly=True)
        try:
            return combine(site, listed, store, key)
        finally:
            store.close()


@contextmanager
def _reading(location: StoreLocation) -> Iterator[None]:
    """A store that cannot be read, on opening or later (locked by another program, a
    damaged page that only a query reaches), stops the run before anything is sent, in one
    line naming it: sending without its unsubscribes would mail people who left."""
    try:
        yield
    except (sqlite3.Error, RuntimeError) as error:
        setting = DATABASE_VARIABLE if location.url else DB_VARIABLE
        raise DatabaseError(f"{setting}: the subscription store {location} cannot be read: {error}; nothing was "
                            "sent") from None


def combine(site: Site, listed: tuple[Subscriber, ...], store: SubscriptionStore,
            key: str = "") -> tuple[Subscriber, ...]:
    suppressed = {entry.digest for entry in store.suppressions()}
    own = {s.key: s for s in store.subscriptions() if s.state == "confirmed"}
    hooks = {hook.key: hook for hook in store.webhooks() if hook.state == "confirmed"}
    chosen = [s for s in listed if s.key not in own and s.key not in hooks]
    chosen += [Subscriber(s.email, expand(s.components, site), _language(s.language, site)) for s in own.values()]
    chosen += [_webhook(hook, site, key) for hook in hooks.values() if hook.made_with(key)]
    return tuple(s for s in chosen if store.digest(s.key) not in suppressed)


def _webhook(hook: WebhookSubscription, site: Site, key: str) -> Subscriber:
    return Subscriber(hook.contact, expand(hook.components, site), _language(hook.language, site),
                      webhook=hook.url, format=hook.format, secrets=hook.secrets(key))


def _language(language: str, site: Site) -> str:
    return language if language in site.config.languages else site.config.default_language


def stale_webhooks(location: StoreLocation, key: str) -> list[str]:
    """The confirmed webhooks whose seed was stored under another key than `key`."""
    if not location.exists():
        return []
    with _reading(location):
        store = open_store(location, readonly=True)
        try:
            return [hook.id for hook in store.webhooks() if hook.state == "confirmed" and not hook.made_with(key)]
        finally:
            store.close()


@dataclass(frozen=True)
class StoreAudience:
    """The notifier's `Audience` for a site: subscribers.yaml plus the subscription store
    at `location` (a file when the site has the service, or the shared database), minus
    everyone who unsubscribed; `key` (STATUSGEN_SECRET_KEY) derives the webhooks' secrets."""

    location: StoreLocation
    key: str = field(default="", repr=False)

    def checks(self, site: Site) -> list[Check]:
        check = subscription_store(site.config, self.location)
        if not check.passed or not self.location.exists():
            return [check]
        return [replace(check, warnings=(*check.warnings, *self._stale_warnings()))]

    def _stale_warnings(self) -> list[str]:
        """Self-service webhooks made under another STATUSGEN_SECRET_KEY: left out, and named."""
        stale = stale_webhooks(self.location, self.key)
        if not stale:
            return []
        return [f"{SECRET_VARIABLE}: {len(stale)} self-service webhook subscription(s) ({', '.join(stale[:10])}"
                f"{', ...' if len(stale) > 10 else ''}) were confirmed under another {SECRET_VARIABLE}: their signing "
                "secrets changed with it, so nothing is sent to them. Set the key they were made with again, or have "
                "each contact ask for a new signing secret (the webhook's manage page, or the webhook form again)"]

    def subscribers(self, site: Site, listed: tuple[Subscriber, ...]) -> tuple[Subscriber, ...]:
        return audience(site, listed, self.location, self.key)

    def unsubscribe(self, key: str, now: datetime) -> None:
        """A webhook that answered 410 Gone: suppressed as an unsubscribe through the service
        is (`SubscriptionStore.unsubscribe`), also over subscribers.yaml. The store is made
        if there is none: the suppression must be kept somewhere."""
        store = open_store(self.location)
        try:
            store.unsubscribe(key, now)
        finally:
            store.close()


def store_audience(site_dir: Path, env: Mapping[str, str], store: str | Path | None = None) -> StoreAudience:
    """The audience `statusgen notify` mails: the database when one is named (`STATUSGEN_DATABASE_URL`,
    or a URL given to notify's `--store`, which means one database for both stores), else the
    subscription store file the environment names, or the site's own."""
    given = str(store) if store is not None and is_database_url(str(store)) else None
    return StoreAudience(store_location(site_dir, env, given), env.get(SECRET_VARIABLE, ""))
