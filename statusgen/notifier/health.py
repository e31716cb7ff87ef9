"""A webhook endpoint's health: when it is quarantined, and what its contact is told.

    every delivery's outcome ──after(endpoint, outcome, now)──▶ the endpoint's next state
        sent                      failures back to 0
        failed | retry_later | uncertain   one more failed attempt; the 10th (QUARANTINE_FAILURES)
                                  with the first of them an hour (QUARANTINE_SPAN) or more ago:
                                  quarantined, and one notice to the contact is queued
        gone (410)                gone: the endpoint unsubscribed itself

    active ──10 failures over ≥ 1 h──▶ quarantined ──`statusgen subscribers reactivate ID`──▶ active
    active ──410 Gone──▶ gone (the audience records the unsubscribe and leaves it out from then on)
           ──subscribed again (the audience lists it again: queued)──▶ active

Statuspage's rule, as our ledger sees it: a failed attempt is one the ledger hears of (an
attempt the transport retries within the run without telling the ledger is not counted
apart). A quarantined endpoint gets nothing more: its queued deliveries fail at once and
new events are not queued for it, until ops reactivate it; a backlog of old events is
never sent in a burst. A gone one's queued deliveries end `gone`; whether it gets new
events is the audience's call (its unsubscribes). The store keeps these facts beside the deliveries (`endpoints`);
the functions here only decide, so both stores decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from statusgen.notifier.events import Event

QUARANTINE_FAILURES = 10
QUARANTINE_SPAN = timedelta(hours=1)
NOTICE_KIND = "webhook_quarantined"
"""The kind of the event that tells an endpoint's contact it was quarantined (an email)."""
FAILURES = frozenset({"failed", "retry_later", "uncertain"})


@dataclass(frozen=True)
class Endpoint:
    """What the notifier store knows of one webhook endpoint (never its secret)."""

    key: str
    """`webhook:` and the URL, as `Subscriber.key`."""
    id: str
    """The short id ops type (`ids.webhook_id`)."""
    url: str
    format: str
    contact: str
    language: str
    state: str = "active"
    """active | quarantined | gone"""
    failures: int = 0
    """Failed attempts since the last success."""
    failing_since: datetime | None = None
    last_error: str | None = None
    last_failure_at: datetime | None = None
    last_success_at: datetime | None = None
    changed_at: datetime | None = None
    """When it was quarantined, gone or reactivated."""

    @property
    def active(self) -> bool:
        return self.state == "active"


def after(endpoint: Endpoint, outcome: str, error: str | None, now: datetime) -> Endpoint:
    """The endpoint after one delivery's outcome (see the module docstring)."""
    if outcome == "sent":
        return replace(endpoint, failures=0, failing_since=None, last_success_at=now)
    if outcome == "gone":
        return replace(endpoint, state="gone", changed_at=now, last_error=error, last_failure_at=now)
    if outcome not in FAILURES:
        return endpoint
    failed = replace(endpoint, failures=endpoint.failures + 1, failing_since=endpoint.failing_since or now,
                     last_error=error, last_failure_at=now)
    if failed.active and quarantine_due(failed, now):
        return replace(failed, state="quarantined", changed_at=now)
    return failed


def quarantine_due(endpoint: Endpoint, now: datetime) -> bool:
    since = endpoint.failing_since or now
    return endpoint.failures >= QUARANTINE_FAILURES and now - since >= QUARANTINE_SPAN


def reactivated(endpoint: Endpoint, now: datetime) -> Endpoint:
    return replace(endpoint, state="active", failures=0, failing_since=None, changed_at=now)


def stop_reason(endpoint: Endpoint) -> str:
    """Why a queued delivery to a stopped endpoint is not sent (the ledger's error)."""
    when = endpoint.changed_at.isoformat(timespec="seconds") if endpoint.changed_at else "earlier"
    if endpoint.state == "gone":
        return f"not sent: the endpoint answered 410 Gone at {when} and is unsubscribed"
    return (f"not sent: the endpoint was quarantined at {when} after {endpoint.failures} failed attempts; "
            f"`statusgen subscribers reactivate {endpoint.id}` brings it back")


def notice(endpoint: Endpoint) -> tuple[Event, dict[str, object]]:
    """The event (and its context) of the one email that tells the contact of a quarantine:
    keyed by the endpoint and the moment, so each quarantine is told once."""
    assert endpoint.changed_at is not None
    at = endpoint.changed_at.isoformat(timespec="seconds")
    event = Event(f"webhook/{endpoint.id}/quarantined/{at}", NOTICE_KIND, "", None, ())
    since = endpoint.failing_since.isoformat(timespec="seconds") if endpoint.failing_since else at
    return event, {"webhook": {"id": endpoint.id, "url": endpoint.url, "format": endpoint.format,
                               "failures": endpoint.failures, "since": since, "at": at,
                               "last_error": endpoint.last_error or ""}}
