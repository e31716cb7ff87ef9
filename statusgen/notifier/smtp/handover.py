"""The ledger hand-over: what became of each message, told to the ledger and the progress.

`committing` is called by the session right before the final dot; every other outcome
once the message is settled. The ledger commits each call before it returns, so a
killed run leaves nothing in between.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from statusgen.notifier.delivery import Ledger, Outgoing, Progress, masked, masked_in

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One message on its way, with what has happened to it so far."""

    outgoing: Outgoing
    attempts: int = 0
    committed: bool = False
    """`committing` was recorded (it stays so when the server then refused the dot)."""


@dataclass(frozen=True)
class Handover:
    ledger: Ledger
    progress: Progress

    def committing(self, job: Job) -> None:
        self.ledger.committing(job.outgoing.delivery_id)
        job.committed = True

    def sent(self, job: Job) -> None:
        self.ledger.sent(job.outgoing.delivery_id)
        self.progress.delivered()

    def record(self, job: Job, outcome: str, error: str) -> None:
        """A final outcome: `failed` or `uncertain`."""
        log.info("smtp: %s %s: %s", outcome, masked(job.outgoing.recipient), masked_in(error, job.outgoing.recipient))
        getattr(self.ledger, outcome)(job.outgoing.delivery_id, error)
        getattr(self.progress, outcome)(job.outgoing.recipient, error)

    def defer(self, job: Job, error: str) -> None:
        """Not delivered in this run: the next one tries again."""
        self.ledger.retry_later(job.outgoing.delivery_id, error)
        self.progress.deferred(job.outgoing.recipient, error)
