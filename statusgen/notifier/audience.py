"""Who the notifier mails: a source the caller hands in.

The notifier knows subscribers only as `Subscriber`s. Where they come from (subscribers.yaml
alone, or with the subscription service's confirmed subscribers and its unsubscribes) is
decided above it: the command line hands `notify` the subscription store's audience
(`subscriptions.merge.StoreAudience`), so this package imports nothing from the service.
The one thing the notifier tells its audience back: a webhook that answered 410 Gone
unsubscribed itself (`unsubscribe`), which must outlast this run wherever the audience
keeps its unsubscribes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from statusgen.content.model import Site, Subscriber
from statusgen.notifier.preflight import Check


class Audience(Protocol):
    """The subscribers of one notifier run."""

    def checks(self, site: Site) -> list[Check]:
        """What must hold before the run (e.g. the store can be read); problems stop it."""
        ...

    def subscribers(self, site: Site, listed: tuple[Subscriber, ...]) -> tuple[Subscriber, ...]:
        """Everyone to consider for this run, given subscribers.yaml (`listed`)."""
        ...

    def unsubscribe(self, key: str, now: datetime) -> None:
        """`key` (a webhook's `webhook:URL`, as `Subscriber.key`) unsubscribed itself (its
        endpoint answered 410 Gone): leave it out from now on. Called from the sending threads."""
        ...
