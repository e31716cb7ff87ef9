"""Self-service subscriptions: the service behind the status site's subscribe form.

    forms.py     what the forms send, checked at the edge (address, components, language)
    store.py     subscriptions, the suppression list and rate limits (a Protocol; SQLite)
    pgstore.py   the same in PostgreSQL, for several instances and a notifier elsewhere
    backend.py   which store (--db, STATUSGEN_DATABASE_URL, the SQLite file), and opening it
    mail.py      the confirmation and "already subscribed" emails, sent in the background
    security.py  where POSTs may come from, CSRF tokens, response headers
    reach.py     requests that show subscriptions.url is not where the service is reached: told once
    pages.py     the service's pages (site_templates/service/) in the site's look
    app.py       the WSGI app: routes and the subscribe → confirm → manage → unsubscribe flow, /healthz
    service.py   the app and its store, served by waitress until SIGTERM
    wsgiserver.py  waitress hardened: connection limits against slow clients, security headers on
                 its own refusals (400, 413, 431), a stop that lets requests in flight finish
    merge.py     `StoreAudience`: who the notifier mails (yaml + confirmed − unsubscribed)
    preflight.py what the service needs before it starts (the secret, its store, the relay, its proxies)
    settings.py  the service's settings from site.yaml and the environment, checked once
    ops.py       `statusgen subscribers list|export|remove`
    webhookroutes.py  the webhook tab: a URL, its contact's confirmation, the secret shown once
    webhooktest.py    the test delivery a webhook gets when it is confirmed (or asked from manage)
    signingkeys.py    webhook signing secrets: derived from STATUSGEN_SECRET_KEY and a stored seed
    webhookops.py     `statusgen subscribers secret ID`
    commands.py  the command line
"""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """`statusgen subscriptions serve` and `statusgen subscribers ...` (see commands.py)."""
    from statusgen.subscriptions.commands import register as register_commands

    register_commands(commands, common)
