"""One SMTP transaction on the wire, split around the final `.` line.

    MAIL FROM ─▶ RCPT TO ─▶ DATA ─▶ body        send_up_to_the_dot: a break here loses nothing
                                      ─▶ .      end_data: a break before the dot is out loses nothing;
                                                after it, it may have delivered the message

A server that loses the connection before the dot throws the message away (RFC 5321
§4.1.1.4), so everything before it can be retried; the session records `committing` in
the ledger between the two.

When the server offers PIPELINING (RFC 2920), MAIL FROM, RCPT TO and DATA go out in one
write and their three replies are read after it: one round trip instead of three, and a
third of the system calls. The replies are judged in order, as they would have been one
by one (the first refusal is the problem; the later ones are its consequence); a DATA that
a server accepted although MAIL or RCPT was refused gets a lone `.` (RFC 2920 §3.1: with
no accepted recipient nothing can be delivered) and the session is reset before the next
message. The body still waits for DATA's 354, and the dot for the ledger.
"""

from __future__ import annotations

import re
import select
import smtplib
import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from statusgen.notifier.delivery import Outgoing
from statusgen.notifier.smtp.problems import (Permanent, Problem, Refused, Transient, Uncertain, expect, reply_text,
                                              timed_out)


def send_up_to_the_dot(smtp: smtplib.SMTP, outgoing: Outgoing,
                       pace: Callable[[], AbstractContextManager[None]] = nullcontext) -> None:
    """MAIL FROM, RCPT TO, DATA and the body, stopping right before the final `.` line.
    MAIL FROM is written inside a slot of the relay's rate limit (`pace`, smtp/pace.py):
    it is what the relay counts."""
    options = _mail_options(smtp, outgoing)
    smtp.command_encoding = encoding = "utf-8" if "SMTPUTF8" in options else "ascii"
    mail = f"MAIL FROM:{quoted(outgoing.sender)}{''.join(' ' + o for o in options)}\r\n"
    if smtp.has_extn("pipelining"):
        commands = f"{mail}RCPT TO:{quoted(outgoing.recipient)}\r\nDATA\r\n".encode(encoding)
        with pace():  # the slot is for MAIL FROM, the first of the three
            smtp.send(commands)
        _pipelined_replies(smtp)
    else:
        with pace():  # smtplib's mail() without its wait for the answer, which needs no slot
            smtp.send(mail.encode(encoding))
        expect(smtp.getreply(), "MAIL FROM", refuses=Refused)
        expect(smtp.rcpt(outgoing.recipient), "RCPT TO")
        smtp.putcmd("data")
        expect(smtp.getreply(), "DATA", wanted=354)
    smtp.send(data_lines(outgoing.data))


def _pipelined_replies(smtp: smtplib.SMTP) -> None:
    """The replies to MAIL FROM, RCPT TO and DATA, all three read, then judged in order."""
    replies = (smtp.getreply(), smtp.getreply(), smtp.getreply())
    try:
        expect(replies[0], "MAIL FROM", refuses=Refused)
        expect(replies[1], "RCPT TO")
        expect(replies[2], "DATA", wanted=354)
    except Problem:
        if replies[2][0] == 354:  # DATA taken without a recipient: end it empty, nothing is delivered
            smtp.send(b".\r\n")
            smtp.getreply()
        raise


def quoted(address: str) -> str:
    """`smtplib.quoteaddr(address)`, without its parse for a plain address (two a message)."""
    return f"<{address}>" if _PLAIN.fullmatch(address) else smtplib.quoteaddr(address)


def end_data(smtp: smtplib.SMTP) -> None:
    """The final `.`: from here on, a lost connection leaves the outcome unknown.

    Until the dot has gone out the relay cannot have the message, so a connection that is
    seen to be gone before it (the relay closed it or said something in the middle of the
    data), or a dot that cannot be written, is a transient problem: the message is tried
    again, never reported uncertain for nothing."""
    if not _still_listening(smtp):
        raise Transient("connection lost before the end of data: the relay ended it during the data", closes=True)
    try:
        smtp.send(b".\r\n")
    except OSError as error:
        raise Transient(f"connection lost before the end of data: {error}", closes=True,
                        timed_out=timed_out(error)) from error
    try:
        code, text = smtp.getreply()
    except OSError as error:
        raise Uncertain(f"no answer to the end of data: {error}", closes=True, timed_out=timed_out(error)) from error
    if 400 <= code < 600:
        expect((code, text), "end of data")
    elif not 200 <= code < 300:
        raise Uncertain(f"end of data: unexpected answer {code} {reply_text(text)}", closes=True)


def _still_listening(smtp: smtplib.SMTP) -> bool:
    """Whether the relay is still waiting for the data: nothing may be readable in the middle
    of DATA (every reply has been read), so anything there, an end of stream or a reset is a
    relay that is gone or going. One poll, no wait."""
    sock = smtp.sock
    if sock is None:
        return False
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return False
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return not poller.poll(0)


def _mail_options(smtp: smtplib.SMTP, outgoing: Outgoing) -> list[str]:
    """MAIL FROM parameters for this message; refuses an address that could smuggle in an
    SMTP command (smtplib sends a line break inside an address as it is)."""
    for address in (outgoing.sender, outgoing.recipient):
        if _CONTROL.search(address):
            raise Permanent("not a deliverable address: it holds a control character")
    options = []
    if not outgoing.data.isascii() and smtp.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    if not (outgoing.sender + outgoing.recipient).isascii():
        if not smtp.has_extn("smtputf8"):
            raise Permanent("the server does not accept non-ASCII addresses (no SMTPUTF8)")
        options.append("SMTPUTF8")
    return options


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
"""An address `quoteaddr` writes as it is, in angle brackets (as stencil.PLAIN_ADDRESS)."""
_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def data_lines(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, a leading `.` doubled (so that a
    line holding only `.` is not taken for the end), ending in CRLF, without the final `.`."""
    if data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r"):  # CRLF only, as the stencil writes
        data = (b"." if data.startswith(b".") else b"") + data.replace(b"\r\n.", b"\r\n..")
    else:
        data = _LEADING_DOT.sub(b"..", _LINE_END.sub(b"\r\n", data))
    return data if data.endswith(b"\r\n") else data + b"\r\n"
