"""Connections whose every answer has a deadline, and whose timeouts say so.

    getreply: deadline = now + timeout ──each read waits at most what is left──▶ the answer, or RelayTimeout
    send:     sendall bounded by the timeout (Python's own rule since 3.5) ──▶ sent, or RelayTimeout

smtplib's socket timeout bounds each wait for bytes, not an answer: a relay that dribbles
its answer a byte at a time, or sends continuation lines (`250-...`) without end, keeps a
run waiting forever. Here the whole answer must arrive within `timeout` seconds. And
smtplib reports a timeout as "Connection unexpectedly closed: timed out" (a read) or
"Server not connected" (a write); `RelayTimeout` says what happened and which setting sets
the time. It is an `SMTPServerDisconnected` (so an `OSError`), as smtplib's own were, so
the session judges it as before: before the final dot retried, after it uncertain.
"""

from __future__ import annotations

import io
import smtplib
import socket
import time
from typing import Any

TIMEOUT_SETTING = "STATUSGEN_SMTP_TIMEOUT or notify.smtp.timeout"


class RelayTimeout(smtplib.SMTPServerDisconnected):
    """The relay did not answer, or take what was sent, within the timeout."""


class _Deadlined:
    """A mixin for smtplib.SMTP and SMTP_SSL: the deadline per answer, the clearer errors."""

    timeout: float
    sock: socket.socket | None
    file: Any
    deadline = 0.0

    def getreply(self) -> tuple[int, bytes]:
        if self.file is None and self.sock is not None:  # a new connection, or a new TLS layer after STARTTLS
            self.file = io.BufferedReader(_DeadlineReader(self.sock, self))
        self.deadline = time.monotonic() + self.timeout
        try:
            return super().getreply()  # type: ignore[misc, no-any-return]
        except smtplib.SMTPServerDisconnected as error:
            if isinstance(error.__context__, TimeoutError):
                raise RelayTimeout(f"timed out: no whole answer within {self.timeout:g} s ({TIMEOUT_SETTING})") \
                    from error.__context__
            raise

    def send(self, data: bytes | str) -> None:
        try:
            super().send(data)  # type: ignore[misc]
        except smtplib.SMTPServerDisconnected as error:
            if isinstance(error.__context__, TimeoutError):
                raise RelayTimeout(f"timed out: the relay took nothing for {self.timeout:g} s ({TIMEOUT_SETTING})") \
                    from error.__context__
            raise


class DeadlineSMTP(_Deadlined, smtplib.SMTP):
    """smtplib.SMTP with a deadline per answer."""


class DeadlineSMTP_SSL(_Deadlined, smtplib.SMTP_SSL):  # noqa: N801 - as smtplib names it
    """smtplib.SMTP_SSL with a deadline per answer."""


class _DeadlineReader(io.RawIOBase):
    """Reads from the socket, each read waiting at most until the owner's deadline."""

    def __init__(self, sock: socket.socket, owner: _Deadlined) -> None:
        super().__init__()
        self._sock = sock
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._owner.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self._sock.settimeout(left)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self._owner.timeout)  # what writes are bounded by
