"""`statusgen subscriptions serve` and `statusgen subscribers list|export|remove|secret|reactivate`.

Thin, like the rest of the CLI: parse, call one library function, print. The service's
and the ops tools' modules are imported only when their command runs.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING

from statusgen.database import is_database_url
from statusgen.subscriptions.backend import StoreLocation, store_location

if TYPE_CHECKING:
    from statusgen.notifier.backends import StoreLocation as NotifierLocation


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    service = commands.add_parser("subscriptions", help="the self-service subscription service",
                                  description="Run the subscription service (subscribe, confirm, manage, "
                                              "unsubscribe) behind the status site.")
    actions = service.add_subparsers(dest="subscriptions_action", required=True, metavar="ACTION")
    serve = actions.add_parser("serve", parents=[common], help="serve the subscription service with waitress",
                               description="Serve the subscription service under the path of subscriptions.url "
                                           "in content/site.yaml. Needs STATUSGEN_SECRET_KEY.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8025, help="port to listen on (default 8025)")
    _db_option(serve)
    serve.set_defaults(run=_serve)

    ops = commands.add_parser("subscribers", help="list, export or erase subscribers (ops)",
                              description="What statusgen stores about subscribers, from subscribers.yaml, the "
                                          "subscription store and the notifier store. Addresses are shown in full.")
    tasks = ops.add_subparsers(dest="subscribers_action", required=True, metavar="ACTION")
    listing = tasks.add_parser("list", parents=[common], help="every subscriber: source, state, components; "
                                                              "webhooks with their health (URLs masked)")
    _db_option(listing)
    _store_option(listing)
    listing.set_defaults(run=_list)
    again = tasks.add_parser("reactivate", parents=[common], help="deliver to a quarantined webhook again",
                             description="A webhook is quarantined after 10 failed deliveries over at least an "
                                         "hour: nothing is sent to it until it is reactivated. Its failures are "
                                         "forgotten; what it missed meanwhile is not sent.")
    again.add_argument("id", metavar="ID", help="the webhook's id (`statusgen subscribers list` shows it)")
    _db_option(again)
    _store_option(again)
    again.set_defaults(run=_reactivate)
    for name, run, text in (("export", _export, "print everything stored about ADDRESS as JSON"),
                            ("remove", _remove, "erase ADDRESS (it stays unsubscribed, as a digest only)")):
        task = tasks.add_parser(name, parents=[common], help=text)
        task.add_argument("address", metavar="ADDRESS")
        _db_option(task)
        _store_option(task)
        task.set_defaults(run=run)
    secret = tasks.add_parser("secret", parents=[common], help="print a self-service webhook's signing secret",
                              description="Print the signing secret of a confirmed self-service webhook (the "
                                          "current one, then the previous one while a rotation lasts), for you to "
                                          "hand to its partner. Needs STATUSGEN_SECRET_KEY, from which it is "
                                          "derived.")
    secret.add_argument("id", metavar="ID", help="the webhook's id (the import lists them)")
    _db_option(secret)
    secret.set_defaults(run=_secret)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH|URL",
                        help="the subscription store: a SQLite file or a postgresql:// URL (default: "
                             "$STATUSGEN_DATABASE_URL, else $STATUSGEN_SUBSCRIPTIONS_DB, else "
                             "SITE/.statusgen/subscriptions.db)")


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="PATH|URL", help="the notifier store: a SQLite file or a postgresql:// "
                                                            "URL (default: $STATUSGEN_DATABASE_URL, else "
                                                            "SITE/.statusgen/notify.db)")


def _db(args: argparse.Namespace) -> StoreLocation:
    return store_location(args.site.resolve(), os.environ, args.db)


def _serve(args: argparse.Namespace) -> int:
    from statusgen.subscriptions.service import serve

    try:
        serve(args.site, args.host, args.port, args.db)
    except KeyboardInterrupt:
        pass
    return 0


def _list(args: argparse.Namespace) -> int:
    from statusgen.subscriptions.ops import format_listing, list_subscribers

    print(format_listing(list_subscribers(args.site.resolve(), _db(args), _notifier_store(args))))
    return 0


def _reactivate(args: argparse.Namespace) -> int:
    from statusgen.notifier.webhooks.network import masked_url
    from statusgen.subscriptions.ops import reactivate_webhook

    endpoint, changed = reactivate_webhook(args.id, _notifier_store(args))
    what = f"webhook {endpoint.id} ({masked_url(endpoint.url)})"
    print(f"{what}: reactivated; its next events are delivered" if changed else f"{what}: not quarantined; "
          "nothing to do")
    return 0


def _notifier_store(args: argparse.Namespace) -> NotifierLocation:
    """`--store`, else a database URL given as `--db` (one database for both stores), else
    `STATUSGEN_DATABASE_URL`, else the site's file."""
    from statusgen.notifier.backends import store_location

    db = str(args.db or "")
    return store_location(args.site.resolve(), args.store or (db if is_database_url(db) else None), os.environ)


def _export(args: argparse.Namespace) -> int:
    from statusgen.subscriptions.ops import export_address

    site = args.site.resolve()
    document = export_address(site, args.address, _db(args), _notifier_store(args))
    print(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from statusgen.subscriptions.ops import remove_address

    site = args.site.resolve()
    done = remove_address(site, args.address, _db(args), _notifier_store(args))
    print(f"{done.address}: removed {done.subscriptions} subscription(s) and {done.rate_limits} rate counter(s); "
          "it stays unsubscribed, stored as a salted digest only")
    if done.webhooks:
        print(f"{done.address}: also removed the {done.webhooks} webhook subscription(s) it was the contact of")
    print(f"notifier store: {done.deliveries} deliveries now name the digest instead of the address"
          + (f"; {done.cancelled} queued ones will not be sent" if done.cancelled else ""))
    if done.outbox:
        print(f"the outbox holds {len(done.outbox)} message(s) to this address; delete them once relayed:")
        for path in done.outbox:
            print(f"  {path}")
    if done.in_yaml:
        print(f"reminder: {done.address} is also in subscribers.yaml; remove it there and commit, "
              "or it stays in git's history of that file")
    return 0


def _secret(args: argparse.Namespace) -> int:
    from statusgen.subscriptions.webhookops import signing_secrets

    for secret in signing_secrets(_db(args), args.id, os.environ):
        print(secret)
    return 0
