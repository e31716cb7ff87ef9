"""What the subscription service needs before it starts, and what the notifier needs of
its store: the notifier's checks (`notify.preflight`) plus the store's own.

    mail settings ─▶ secret key ─▶ subscription store ─▶ webhook networks ─▶ trusted proxies
        ─▶ SMTP settings (when a relay is set, or any STATUSGEN_SMTP_* variable but the sender)

The subscription store is a SQLite file (it can be read or made) or a PostgreSQL database
(it answers, and its schema is the one this statusgen knows, else `statusgen db upgrade`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from statusgen.content.model import Site, SiteConfig
from statusgen.database import DATABASE_VARIABLE, DatabaseError, redacted
from statusgen.notifier.preflight import Check, mail_problems, relay_intended, secret_problems, smtp_settings
from statusgen.notifier.webhooks.network import ALLOW_NETS, allow_nets_problems
from statusgen.subscriptions.backend import StoreLocation
from statusgen.subscriptions.store import DB_VARIABLE

PROXIES_VARIABLE = "STATUSGEN_TRUSTED_PROXIES"
MAX_PROXIES = 10


def subscription_store(config: SiteConfig, location: StoreLocation, writable: bool = False) -> Check:
    """The subscription service's store: the notifier reads it (unsubscribes!), the service
    writes it. A PostgreSQL database is checked whenever one is named, with or without a
    service: ops may have suppressed addresses there."""
    if location.url:
        return _database(location.url, location.setting)
    if not config.subscriptions_url:
        return Check("subscription store", found="no subscription service (subscriptions.url is not set)")
    assert location.path is not None
    return _file(location.path, writable)


def writable_store(location: StoreLocation) -> Check:
    """A store something is about to write (an import of subscribers), with or without a
    service: the file can be opened or made, or the database answers with the current schema."""
    if location.url:
        return _database(location.url, location.setting)
    assert location.path is not None
    return _file(location.path, writable=True)


def _database(url: str, setting: str = "") -> Check:
    from statusgen.subscriptions.pgstore import verify  # psycopg only when a database is named

    try:
        verify(url)
    except DatabaseError as error:
        return Check("subscription store", (named(setting, error),))
    return Check("subscription store", found=f"{redacted(url)} (PostgreSQL)")


def _file(db_path: Path, writable: bool) -> Check:
    from statusgen.subscriptions.store import SqliteSubscriptionStore  # only sites with the service need it

    if not db_path.is_file() and not writable:
        return Check("subscription store", found=f"none at {db_path}", warnings=(
            f"no subscription store at {db_path}: only subscribers.yaml is mailed, and unsubscribes made through "
            f"the subscription service are not applied; set {DATABASE_VARIABLE} to the service's database, or "
            f"{DB_VARIABLE} to its file",))
    if not db_path.is_file():
        folder = next(parent for parent in db_path.absolute().parents if parent.exists())
        if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
            return Check("subscription store", found=f"{db_path} (created on start)")
        return Check("subscription store", (f"{DB_VARIABLE}: the subscription store {db_path} cannot be created "
                                            f"({folder} is not a writable folder); set {DB_VARIABLE} or --db",))
    try:
        store = SqliteSubscriptionStore(db_path, readonly=not writable)
    except DatabaseError as error:  # it opened, but refuses the write that opening may make
        return Check("subscription store", (f"{DB_VARIABLE}: {error}",))
    except (sqlite3.Error, RuntimeError, OSError) as error:
        busy = "; another program holds it: run again when it lets go" if "locked" in str(error) else ""
        return Check("subscription store", (f"{DB_VARIABLE}: the subscription store {db_path} cannot be "
                                            f"{'opened' if writable else 'read'}: {error}{busy}",))
    try:
        if writable:  # opening writes nothing to a current store: a full disk shows only now
            store.check_writable()
    except DatabaseError as error:
        return Check("subscription store", (f"{DB_VARIABLE}: {error}",))
    finally:
        store.close()
    return Check("subscription store", found=str(db_path))


def named(setting: str, error: DatabaseError) -> str:
    """The database's problem, led by the setting that chose it (as the notifier's store says it)."""
    text = str(error)
    return f"{setting}: {text}" if setting and not text.startswith(f"{setting}:") else text


def service_checks(site: Site, env: Mapping[str, str], location: StoreLocation) -> list[Check]:
    """What `statusgen subscriptions serve` needs: the secret, its store, the relay's
    settings when one is set (else its emails go to the outbox), and the webhook networks."""
    config = site.config
    return [Check("mail settings", tuple(mail_problems(config, env))),
            Check("secret key", tuple(secret_problems(config, env))),
            subscription_store(config, location, writable=True),
            Check("webhook networks", tuple(allow_nets_problems(env)),
                  found=env.get(ALLOW_NETS, "").strip() or "public addresses only"),
            *service_settings(config, env)]


def service_settings(config: SiteConfig, env: Mapping[str, str], relay: bool = True) -> list[Check]:
    """The settings only the service reads: the proxies in front of it, and the relay for its
    confirmation emails when one is meant (`relay=False`: the caller checks the relay
    itself). `statusgen doctor` runs them too for a site with a service, which would not start."""
    proxies, problems = trusted_proxies(env)
    checks = [Check("trusted proxies", tuple(problems), found=f"{proxies} ({PROXIES_VARIABLE})")]
    if relay and relay_intended(config, env):
        checks.append(Check("SMTP settings", tuple(smtp_settings(config, env)[1])))
    return checks


def trusted_proxies(env: Mapping[str, str]) -> tuple[int, list[str]]:
    """How many reverse proxies' X-Forwarded-For the service trusts (0 to 10), or the problem."""
    value = env.get(PROXIES_VARIABLE, "").strip() or "0"
    if not value.isdigit() or int(value) > MAX_PROXIES:
        return 0, [f"{PROXIES_VARIABLE}: expected how many reverse proxies stand in front of the service, 0 to "
                   f"{MAX_PROXIES} (0: none, clients connect to it directly); found {value!r}"]
    return int(value), []
