"""How every email leaves the process: made with `POLICY`, headers set with `set_headers`,
serialised with `wire_bytes` (over SMTP or into the outbox).

Message ids and the list headers are written as their RFCs want them (unencoded, never
broken inside `<...>`), RFC 2047 only where text may carry it (Subject, display names),
CRLF line ends. No header value may bring a CR or LF of its own. The notifications
(`message`) and the subscription service's confirmations (`subscriptions.mail`) both go
through here.
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

LITERAL_HEADERS = frozenset({"message-id", "in-reply-to", "references", "list-id", "list-unsubscribe",
                             "list-unsubscribe-post", "list-subscribe", "list-help", "list-post", "list-owner",
                             "list-archive"})
"""Headers that programs read as they are: message ids (RFC 5322 §3.6.4) and the list
headers (RFC 2369, RFC 8058). ASCII, never RFC 2047 encoded words: a mail client does not
decode them there, and `List-Unsubscribe: =?utf-8?q?=3Chttps...` is no unsubscribe link."""
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_WORD = re.compile(r"[ \t]+[^ \t]+")
MAX_LINE = 998
"""RFC 5322 §2.1.1: no line of a message may be longer, CRLF not counted."""


class WirePolicy(policy.EmailPolicy):
    """`email.policy.SMTP` (CRLF, folding at 78 columns, RFC 2047 for non-ASCII text), except
    that the `LITERAL_HEADERS` are stored as given and written by `fold_literal`.

    The standard folder turns any structured-looking value it cannot fit on a line, such as
    `<https://.../unsubscribe?token=...>` or a long `<id@host>` in In-Reply-To, into encoded
    words. A message only keeps this promise when it is serialised with this policy: use
    `wire_bytes`, never `as_bytes(policy=email.policy.SMTP)`, which replaces it."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if name.lower() in LITERAL_HEADERS:
            value = str(value)
            fold_literal(name, value)  # refuse now what could not be written later
            return name, value
        return super().header_store_parse(name, value)

    def fold(self, name: str, value: Any) -> str:
        if name.lower() in LITERAL_HEADERS:
            return fold_literal(name, str(value), self.linesep, self.max_line_length or MAX_LINE)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() in LITERAL_HEADERS:
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


def fold_literal(name: str, value: str, linesep: str = "\r\n", width: int = 78) -> str:
    """`Name: value` + linesep, for a header read as it is: unencoded, and folded only before
    the whitespace between items (RFC 5322 §2.2.3) where a line would pass `width`, so each
    `<URI>` or `<msg-id>` stays whole on one line however long it is.

    Raises ValueError for a value with CR or LF, a non-ASCII one, or an item that does not
    fit on a line of 998 characters."""
    unfolded = _UNFOLD.sub("", value)
    if "\r" in unfolded or "\n" in unfolded:
        raise ValueError(f"{name}: a header value must be one line; found {value!r}")
    if not unfolded.isascii():
        raise ValueError(f"{name}: must be ASCII (RFC 5322; no encoded words here); found {value!r}")
    lines = [f"{name}:"]
    for word in _WORD.findall(" " + unfolded.strip(" \t")):
        if len(lines[-1]) + len(word) > width and lines[-1] != f"{name}:":
            lines.append(word)
        else:
            lines[-1] += word
    if any(len(line) > MAX_LINE for line in lines):
        raise ValueError(f"{name}: an item is longer than a header line may be ({MAX_LINE} characters)")
    return linesep.join(lines) + linesep


POLICY = WirePolicy(linesep="\r\n")
"""How every email is made and serialised (see `WirePolicy`, `wire_bytes`)."""


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it leaves the process, over SMTP or into the outbox: CRLF line ends,
    the literal headers as `WirePolicy` writes them, whatever policy the message has."""
    return message.as_bytes(policy=POLICY)


def set_headers(message: EmailMessage, headers: list[tuple[str, str]]) -> None:
    """Add the headers in order, refusing a value that is empty or not one line (a title such
    as "Outage\\r\\nBcc: victim@example.net" must never add a header), and any `To` that is
    not exactly one address."""
    for name, value in headers:
        if "\r" in value or "\n" in value or not value.strip():
            raise ValueError(f"{name}: a header value must be one non-empty line; found {value!r}")
        message[name] = value  # POLICY keeps the literal ones as they are (see WirePolicy)
    if len(message["To"].addresses) != 1:
        raise ValueError(f"To: expected one address; found {message['To']!r}")


def ascii_host(host: str) -> str:
    """A host name as DNS and headers want it: IDNA (`bücher.example` → `xn--bcher-kva.example`)."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid name: left as it is, for fold_literal to refuse
        return host


def as_uri(iri: str) -> str:
    """An IRI as a URI (RFC 3987 §3.1): an http(s) host in IDNA, any other non-ASCII
    character percent-encoded as UTF-8. An ASCII link is returned as it is."""
    if iri.isascii():
        return iri
    parts = urlsplit(iri)
    if parts.scheme in ("http", "https") and parts.hostname and not parts.hostname.isascii():
        userinfo, at, _ = parts.netloc.rpartition("@")
        port = f":{parts.port}" if parts.port is not None else ""
        iri = urlunsplit(parts._replace(netloc=f"{userinfo}{at}{ascii_host(parts.hostname)}{port}"))
    return quote(iri, safe="".join(map(chr, range(0x21, 0x7F))))
