"""The connection pool: one `deliver` call's workers, each with its own SMTP session,
taking messages from a shared queue and settling each one (retries, then the ledger).

    messages (rendered lazily) ──take──▶ worker 1..n ──settle: transact, retry──▶ handover
                  ▲                          │
                  └──────── hand back ◀──────┘  (cannot connect while others can)
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections import deque
from collections.abc import Callable, Iterator

from statusgen.content.relay import SmtpSettings
from statusgen.notifier.delivery import Outgoing, masked_in
from statusgen.notifier.smtp.handover import Handover, Job
from statusgen.notifier.smtp.pace import Pace, Stopped
from statusgen.notifier.smtp.problems import Permanent, Refused, Transient, Uncertain
from statusgen.notifier.smtp.retry import RetryPolicy
from statusgen.notifier.smtp.session import Connection

log = logging.getLogger(__name__)


class Pool:
    """One `deliver` call: workers (one connection each) take messages from a shared queue;
    every attempt waits for its slot in the relay's rate limit (`pace`) before MAIL FROM.

    A worker keeps a message through its retries. One that cannot even connect while
    others are connected hands its message back and stops: relays often limit connections
    per client. When the server refuses us or nobody can reach it, the run is halted and
    the remaining messages are deferred without trying; when a worker crashes (the ledger
    failed) or the run is interrupted, the others stop and the rest stays pending.
    """

    def __init__(self, settings: SmtpSettings, connect: Callable[[], smtplib.SMTP], retry: RetryPolicy,
                 messages: Iterator[Outgoing], handover: Handover, pace: Pace | None = None) -> None:
        self.settings = settings
        self.connect = connect
        self.retry = retry
        self.pace = pace or Pace(None)
        self.handover = handover
        self._lock = threading.Lock()
        self._messages = messages
        self._handed_back: deque[Job] = deque()
        self._live: set[int] = set()
        self._halted: str | None = None
        self._stopped = False
        self._crash: BaseException | None = None
        self._ended = threading.Condition()
        self._working = 0

    def run(self, workers: int) -> None:
        threads = [threading.Thread(target=self._work, args=(n,), name=f"smtp-{n}") for n in range(workers)]
        self._working = workers
        for thread in threads:
            thread.start()
        try:
            self._wait_for_workers()
        except BaseException:  # Ctrl-C: finish the messages in hand, leave the rest pending
            self._stop()
            self._wait_for_workers()
            raise
        for thread in threads:
            thread.join()  # they have ended their work: this returns at once
        if self._crash is not None:
            raise self._crash

    def _wait_for_workers(self) -> None:
        """Until every worker has ended its work.

        Not `Thread.join`: on Python 3.11 a KeyboardInterrupt raised inside `join` can mark
        a thread that is still running as ended (threading's bpo-45274 clean-up releases the
        running thread's own lock), and the run would then exit while a worker is handing a
        message over. Short waits also let the main thread notice a Ctrl-C whose signal the
        kernel gave to a worker thread.
        """
        with self._ended:
            while not self._ended.wait_for(lambda: self._working == 0, timeout=0.2):
                pass

    # ── one worker ──────────────────────────────────────────────────────────────────

    def _work(self, worker: int) -> None:
        connection = Connection(self.settings, self.connect, on_open=lambda: self._set_live(worker, True),
                                pace=lambda: self.pace.slot(lambda: self._stopped))
        try:
            while (job := self._take(worker)) is not None:
                if not self._settle(job, connection, worker):
                    break
        except BaseException as error:  # noqa: BLE001 - run() raises it again in the caller's thread
            with self._lock:
                self._crash = self._crash or error
            self._stop()
        finally:
            self._set_live(worker, False)
            connection.close()
            with self._ended:
                self._working -= 1
                self._ended.notify_all()

    def _take(self, worker: int) -> Job | None:
        with self._lock:
            if self._stopped:
                return None
            if self._handed_back:
                return self._handed_back.popleft()
            outgoing = next(self._messages, None)  # the notifier renders lazily: one thread at a time
            if outgoing is None:
                self._live.discard(worker)
                return None
            return Job(outgoing)

    def _settle(self, job: Job, connection: Connection, worker: int) -> bool:
        """Deliver one message, retrying what is transient; False: this worker should stop."""
        while True:
            if self._stopped:
                if job.committed:  # refused at the dot earlier: nothing was delivered
                    self.handover.defer(job, "the run was interrupted")
                return False
            if self._halted is not None:
                self.handover.defer(job, f"not tried: {self._halted}")
                return True
            try:
                connection.transact(job.outgoing, commit=lambda: self.handover.committing(job))
            except Stopped:  # while it waited for its slot: nothing of it was sent
                return False
            except Transient as problem:
                if problem.connecting and self._hand_back(job, worker):
                    log.info("smtp: connection %d gives up (%s); the others go on", worker, problem)
                    return False
                if self._gave_up(job, problem):
                    return True
                continue
            except Permanent as problem:
                self.handover.record(job, "failed", str(problem))
            except Uncertain as problem:
                if problem.timed_out:  # a relay that sits on the dot would make every message uncertain
                    self._halt(str(problem))
                self.handover.record(job, "uncertain", str(problem))
            except Refused as problem:
                self._halt(str(problem))
                self.handover.defer(job, str(problem))
            else:
                self.handover.sent(job)
            return True

    def _gave_up(self, job: Job, problem: Transient) -> bool:
        """Count a failed attempt; either wait for the next one, or defer the message (and,
        when not even a connection could be opened, or the relay let the timeout pass on the
        last attempt, halt the run: every other message would wait as long)."""
        job.attempts += 1
        if self.retry.gives_up(job.attempts):
            if problem.connecting or problem.timed_out:
                self._halt(str(problem))
            self.handover.defer(job, str(problem))
            return True
        log.info("smtp: %s; retry %d in a moment", masked_in(str(problem), job.outgoing.recipient), job.attempts)
        self.retry.wait(job.attempts)
        return False

    # ── the pool's shared state ─────────────────────────────────────────────────────

    def _hand_back(self, job: Job, worker: int) -> bool:
        """Leave the message to a connected worker, if there is one (it will take it)."""
        with self._lock:
            if not self._live - {worker} or self._stopped:
                return False
            self._handed_back.append(job)
            self._live.discard(worker)
            return True

    def _set_live(self, worker: int, live: bool) -> None:
        with self._lock:
            (self._live.add if live else self._live.discard)(worker)

    def _halt(self, reason: str) -> None:
        with self._lock:
            if self._halted is None:
                log.error("smtp: %s; the remaining messages stay queued for the next run", reason)
                self._halted = reason

    def _stop(self) -> None:
        with self._lock:
            self._stopped = True
