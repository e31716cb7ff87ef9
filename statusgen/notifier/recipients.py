"""Who hears of an event: the subscribers who follow one of its components."""

from __future__ import annotations

from collections.abc import Iterable

from statusgen.notifier.events import Event
from statusgen.content.model import Subscriber


def recipients(event: Event, subscribers: Iterable[Subscriber]) -> list[Subscriber]:
    """Subscribers following any component of the event (groups are already expanded);
    one who follows everything (`components` None) hears of every event. One each."""
    touched = set(event.components)
    chosen: dict[str, Subscriber] = {}
    for subscriber in subscribers:
        follows = subscriber.components is None or touched.intersection(subscriber.components)
        if follows and subscriber.key not in chosen:
            chosen[subscriber.key] = subscriber
    return list(chosen.values())
