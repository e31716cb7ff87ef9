"""What can happen to one attempt, and which SMTP replies and errors mean what.

    Problem ─┬─ Transient   nothing was delivered; trying again may work
             ├─ Permanent   the server refused this message or this recipient for good
             ├─ Uncertain   the end of data was sent but no answer came
             └─ Refused     the server will not take mail from us at all: stop

Only the SMTP session and the pool see these; the ledger hears the outcome.
"""

from __future__ import annotations

import smtplib
import ssl


class Problem(Exception):
    def __init__(self, error: str, *, closes: bool = False, connecting: bool = False, timed_out: bool = False) -> None:
        super().__init__(error)
        self.closes = closes
        """The connection is unusable afterwards."""
        self.connecting = connecting
        """It happened while opening a connection, before any message was tried."""
        self.timed_out = timed_out
        """The relay let the timeout pass: a slow relay, which the next messages would wait for too."""


class Transient(Problem):
    """Nothing was delivered; trying again may work."""


class Permanent(Problem):
    """The server refused this message or this recipient for good."""


class Uncertain(Problem):
    """The end of data was sent but no answer came: it may have been delivered."""


class Refused(Problem):
    """The server will not take mail from us at all (authentication, TLS, sender): stop."""


def expect(reply: tuple[int, bytes], step: str, wanted: int | None = None,
           refuses: type[Problem] = Permanent) -> None:
    """Turn an SMTP reply into a Problem unless it is the one wanted (default: any 2xx)."""
    code, text = reply
    if code == wanted or (wanted is None and 200 <= code < 300):
        return
    error = f"{step}: {code} {reply_text(text)}"
    if 500 <= code < 600:
        raise refuses(error)
    raise Transient(error, closes=not 400 <= code < 500 or code == 421)  # 421: the server is closing


def setup_problem(error: BaseException, where: str) -> Problem:
    """Why a connection could not be opened: worth retrying, or a reason to stop."""
    if isinstance(error, ssl.SSLCertVerificationError):
        _, reason, advice = certificate_problem(error)
        return Refused(f"{where}: the server's TLS certificate is not trusted ({reason}); {advice}")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return Transient(f"{where}: {error}", connecting=True, timed_out=timed_out(error))
    if isinstance(error, smtplib.SMTPResponseException):
        problem = f"{where}: {error.smtp_code} {reply_text(error.smtp_error)}"
        return Refused(problem) if error.smtp_code >= 500 else Transient(problem, connecting=True)
    if isinstance(error, smtplib.SMTPException):  # no STARTTLS, no AUTH, no usable AUTH method
        return Refused(f"{where}: {error}")
    return Transient(f"cannot connect to {where}: {error}", connecting=True, timed_out=timed_out(error))


def timed_out(error: BaseException) -> bool:
    """Whether the relay let the timeout pass (smtp/deadline.py's RelayTimeout, or the
    socket's own while connecting)."""
    return isinstance(error, TimeoutError) or isinstance(error.__cause__ or error.__context__, TimeoutError)


def certificate_problem(error: ssl.SSLCertVerificationError) -> tuple[str, str, str]:
    """Why the relay's certificate was refused: the setting that would change it, the reason
    as OpenSSL gives it, and what to do."""
    message = str(error.verify_message)
    reason = f"certificate verify failed: {message}"
    if "mismatch" in message:  # Hostname mismatch, IP address mismatch
        return ("STATUSGEN_SMTP_HOST", reason,
                "set STATUSGEN_SMTP_HOST (or notify.smtp.host) to a name the certificate was issued for")
    if "expired" in message or "not yet valid" in message:
        return ("STATUSGEN_SMTP_HOST", reason,
                "the relay's certificate must be renewed (or the relay's clock or this machine's set right); "
                "no setting here makes statusgen accept it")
    return ("STATUSGEN_SMTP_CA_FILE", reason,
            "if the relay's certificate is meant to be private or self-signed, set STATUSGEN_SMTP_CA_FILE (or "
            "notify.smtp.ca_file) to a PEM file holding it or the authority that issued it")


def reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
