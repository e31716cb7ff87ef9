"""`statusgen subscribers secret ID`: a self-service webhook's signing secret, for ops to
hand to its partner (the webhooks an import confirmed with --trust-confirmed got a new
secret that nobody has seen).

    ID ──the store (read only)──▶ a confirmed, signed webhook ──STATUSGEN_SECRET_KEY──▶ whsec_...
                                                              (and the previous one during a rotation)

Nothing else prints a secret: exports and listings show URLs masked and secrets never.
"""

from __future__ import annotations

from collections.abc import Mapping

from statusgen.errors import UsageError
from statusgen.notifier.preflight import SECRET_VARIABLE, secret_found
from statusgen.subscriptions.backend import StoreLocation, open_store
from statusgen.tokens import MIN_SECRET_LENGTH


def signing_secrets(location: StoreLocation, ident: str, env: Mapping[str, str]) -> tuple[str, ...]:
    """The secrets that sign webhook `ident`'s deliveries now: the current one first."""
    key = env.get(SECRET_VARIABLE, "")
    if len(key) < MIN_SECRET_LENGTH:
        raise UsageError(f"{SECRET_VARIABLE}: the webhooks' signing secrets are derived from it; set it to the key the "
                         f"subscription service and notify use (at least {MIN_SECRET_LENGTH} characters); "
                         f"{secret_found(key)}")
    if not location.exists():
        raise UsageError(f"no subscription store at {location}: name it with --db or STATUSGEN_DATABASE_URL")
    store = open_store(location, readonly=True)
    try:
        hook = store.find_webhook(ident.strip().lower())
    finally:
        store.close()
    if hook is None:
        raise UsageError(f"no self-service webhook subscription has the id {ident!r} in {location}")
    what = f"webhook {hook.id} ({hook.shown})"
    if hook.state != "confirmed":
        raise UsageError(f"{what} is {hook.state}: only a confirmed one has a signing secret")
    if not hook.signed:
        raise UsageError(f"{what} is a {hook.format} chat channel: its messages are not signed (its URL is its secret)")
    if not hook.made_with(key):
        raise UsageError(f"{what} was confirmed under another {SECRET_VARIABLE}: set that one, or have its contact "
                         "ask for a new signing secret on its manage page")
    return hook.secrets(key)
