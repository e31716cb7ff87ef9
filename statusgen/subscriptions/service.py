"""`statusgen subscriptions serve`: the service's app (settings.py reads what it needs)
and waitress, with the limits and the graceful stop of wsgiserver.py.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statusgen.notifier.delivery import Transport
from statusgen.notifier.webhooks.transport import WebhookTransport
from statusgen.subscriptions.backend import open_store
from statusgen.subscriptions.settings import MAX_BODY, load_service, transport_for
from statusgen.subscriptions.wsgiserver import (
    CONNECTION_LIMIT,
    RESERVED_FILES,
    THREADS,
    Lifecycle,
    connection_limit,
    open_files_for_connections,
    secured_channel,
    server_options,
)

if TYPE_CHECKING:  # a real import would load werkzeug for every statusgen command
    from statusgen.subscriptions.app import SubscriptionApp

log = logging.getLogger(__name__)


def make_app(site_dir: Path, env: Mapping[str, str] | None = None, db: str | Path | None = None,
             transport: Transport | None = None, clock: Callable[[], datetime] | None = None,
             webhooks: WebhookTransport | None = None) -> SubscriptionApp:
    """The WSGI app for a site; `transport` (email), `webhooks` (test deliveries) and
    `clock` default to the configured ones; `db` is a SQLite file or a PostgreSQL URL
    (else the environment's, else the site's file)."""
    from statusgen.subscriptions.app import SubscriptionApp
    from statusgen.subscriptions.webhooktest import ping_transport

    env = os.environ if env is None else env
    service = load_service(site_dir, env, db)
    store = open_store(service.store, connections=THREADS)  # PostgreSQL: one pooled connection per thread
    return SubscriptionApp(service, store, transport or transport_for(service, env), clock=clock,
                           webhooks=webhooks or ping_transport(service.webhook_policy))


def make_server(app: SubscriptionApp, host: str = "127.0.0.1", port: int = 8025,
                connections: int = CONNECTION_LIMIT) -> Any:
    """A waitress server for the app (not yet running: `Lifecycle(server).run()`), with
    wsgiserver.py's limits, and the app's security headers on waitress's own answers.
    Bodies up to 4 × MAX_BODY reach the app, which answers 413 in the site's look; waitress
    refuses larger ones before reading them."""
    from waitress import create_server

    server = create_server(app, host=host, port=port, **server_options(MAX_BODY * 4, connections))
    server.channel_class = secured_channel(app.headers)
    return server


def serve(site_dir: Path, host: str = "127.0.0.1", port: int = 8025, db: str | Path | None = None,
          env: Mapping[str, str] | None = None) -> None:
    """Run the service with waitress until SIGTERM or Ctrl-C: then new connections are
    refused, the requests in flight get their answers, the queued confirmation emails go
    out (`app.close()` waits for them), and it returns."""
    app = make_app(site_dir, env, db)
    connections = connection_limit(open_files_for_connections())
    if connections < CONNECTION_LIMIT:
        log.warning("subscriptions: at most %d connections at once (not %d): the limit of open files is too low; "
                    "raise it (LimitNOFILE= in the systemd unit, ulimit -n) to %d", connections, CONNECTION_LIMIT,
                    CONNECTION_LIMIT + RESERVED_FILES)
    server = make_server(app, host, port, connections)
    lifecycle = Lifecycle(server)
    if threading.current_thread() is threading.main_thread():
        # systemd and container runtimes stop with SIGTERM
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: lifecycle.stop())
    log.info("subscription service on http://%s:%s%s, public URL %s, store %s", host, server.effective_port,
             app.service.base_path, app.service.public_url, app.service.store)
    try:
        lifecycle.run()
    finally:
        app.close()
    log.info("subscription service stopped")
