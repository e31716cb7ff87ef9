"""What the subscription service needs before it starts, and what the notifier needs of
its store: the notifier's checks (`notify.preflight`) plus the store's own.

    mail settings ─▶ secret key ─▶ subscription store ─▶ SMTP settings (when a relay is set)
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from statusgen.content.model import Site, SiteConfig
from statusgen.notifier.preflight import Check, mail_problems, relay_configured, secret_problems, smtp_settings
from statusgen.subscriptions.store import DB_VARIABLE


def subscription_store(config: SiteConfig, db_path: Path, writable: bool = False) -> Check:
    """The subscription service's store, when the site has the service: the notifier
    reads it (unsubscribes!), the service writes it."""
    from statusgen.subscriptions.store import SqliteSubscriptionStore  # only sites with the service need it

    if not config.subscriptions_url:
        return Check("subscription store", found="no subscription service (subscriptions.url is not set)")
    if not db_path.is_file() and not writable:
        return Check("subscription store", found=f"none at {db_path}", warnings=(
            f"no subscription store at {db_path}: only subscribers.yaml is mailed, and unsubscribes made through "
            f"the subscription service are not applied; set {DB_VARIABLE} to the service's store",))
    if not db_path.is_file():
        folder = next(parent for parent in db_path.absolute().parents if parent.exists())
        if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
            return Check("subscription store", found=f"{db_path} (created on start)")
        return Check("subscription store", (f"{DB_VARIABLE}: the subscription store {db_path} cannot be created "
                                            f"({folder} is not a writable folder); set {DB_VARIABLE} or --db",))
    try:
        SqliteSubscriptionStore(db_path, readonly=not writable).close()
    except (sqlite3.Error, RuntimeError, OSError) as error:
        return Check("subscription store", (f"{DB_VARIABLE}: the subscription store {db_path} cannot be "
                                            f"{'opened' if writable else 'read'}: {error}",))
    return Check("subscription store", found=str(db_path))


def service_checks(site: Site, env: Mapping[str, str], db_path: Path) -> list[Check]:
    """What `statusgen subscriptions serve` needs: the secret, its store, the relay's
    settings when one is set (else its emails go to the outbox)."""
    config = site.config
    checks = [Check("mail settings", tuple(mail_problems(config, env))),
              Check("secret key", tuple(secret_problems(config, env))),
              subscription_store(config, db_path, writable=True)]
    if relay_configured(config, env):
        checks.append(Check("SMTP settings", tuple(smtp_settings(config, env)[1])))
    return checks
