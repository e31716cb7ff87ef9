"""One worker's SMTP session: opened when first needed, reused for many messages, reset
after a problem, and the one place a transaction is split around the final dot.

    send_up_to_the_dot ──▶ commit() (the ledger: committing) ──▶ end_data
    (a break: retry)                                               (a break: uncertain)
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from statusgen.content.relay import SmtpSettings
from statusgen.notifier.delivery import Outgoing
from statusgen.notifier.smtp.problems import Permanent, Problem, Transient, setup_problem, timed_out
from statusgen.notifier.smtp.wire import end_data, send_up_to_the_dot

log = logging.getLogger(__name__)


class Connection:
    """One worker's SMTP session: opened when first needed, reused, reset after a problem."""

    def __init__(self, settings: SmtpSettings, connect: Callable[[], smtplib.SMTP],
                 on_open: Callable[[], None],
                 pace: Callable[[], AbstractContextManager[None]] = nullcontext) -> None:
        self._settings = settings
        self._connect = connect  # an open, greeted, encrypted and logged-in connection (SmtpTransport.connect)
        self._on_open = on_open
        self._pace = pace  # the relay's rate limit: a slot for each MAIL FROM, once the connection is ready
        self._smtp: smtplib.SMTP | None = None
        self._dirty = False

    def transact(self, outgoing: Outgoing, commit: Callable[[], None]) -> None:
        """Hand one message over, or raise a Problem saying why not.

        Three phases: up to the body, anything that breaks can be retried; then `commit`
        records in the ledger that the message is being handed over; then the end of
        data, after which a broken connection means it may have been delivered.
        """
        smtp = self._ready()
        try:
            send_up_to_the_dot(smtp, outgoing, self._pace)
        except OSError as error:  # includes smtplib's SMTPServerDisconnected and socket timeouts
            self._drop()
            raise Transient(f"connection lost before the end of data: {error}", timed_out=timed_out(error)) from error
        except ValueError as error:  # smtplib refuses to send a line break inside an address
            self._dirty = True
            raise Permanent(f"not a deliverable address: {error}") from error
        except Problem as problem:
            self._after(problem)
            raise
        try:
            commit()
        except BaseException:
            self._drop()  # without the final dot, the server throws the message away
            raise
        try:
            end_data(smtp)
        except Problem as problem:
            self._after(problem)
            raise

    def close(self) -> None:
        """Say QUIT if the session is in a clean state, then close."""
        if self._smtp is not None and not self._dirty:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _ready(self) -> smtplib.SMTP:
        if self._smtp is not None and self._dirty:
            self._reset()
        if self._smtp is None:
            self._smtp = self._open()
            self._dirty = False
            self._on_open()
        return self._smtp

    def _reset(self) -> None:
        """RSET after a refused transaction; a connection that will not reset is replaced."""
        assert self._smtp is not None
        try:
            code, _ = self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            code = -1
        if code == 250:
            self._dirty = False
        else:
            self._drop()

    def _open(self) -> smtplib.SMTP:
        settings = self._settings
        where = f"{settings.host}:{settings.port}"
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            raise setup_problem(error, where) from error
        log.debug("smtp: connected to %s (%s)", where, settings.security)
        return smtp

    def _after(self, problem: Problem) -> None:
        if problem.closes:
            self._drop()
        else:
            self._dirty = True
