"""Step 2, made fast: every subscriber's message as wire bytes, from one stencil per
(event, language).

    RenderedEmail + event + snapshot + settings ──Stencil (once)──▶ subscriber ──▶ bytes

`message.build_message` + `wire.wire_bytes` is the reference: it builds an `EmailMessage`
and lets the email package parse, fold and encode every header and part, about 1.7 ms a
message, for text that is the same for everyone but a few values. A `Stencil` does that
work once and, per subscriber, only what differs, giving the very same bytes
(tests/test_stencil.py compares both for every kind of event):

- Headers: the generator writes each header on its own, `POLICY.fold_binary(name, value)`.
  The stencil computes the subscriber's headers with `message`'s own functions, refuses
  what `set_headers` refuses (CR, LF, empty, not one `To` address), and folds each with
  `POLICY` unless it was folded before: the headers that are the same for everyone are
  folded once; the literal ones (`Message-ID`, `List-Unsubscribe`, ...) by `fold_literal`,
  as `WirePolicy` does; a `To` that is one plain ASCII address fitting on its line is
  written as the email package writes it, any other goes through the email package.
- Bodies: quoted-printable encodes line by line (`quoprimime.body_encode` carries nothing
  from one line to the next), so after the personal sections are chosen (per set of
  conditions, once), the lines without a slot are encoded once and each line with a slot
  is filled and encoded per subscriber, the way `set_content` encodes a whole text.
- Structure: the MIME headers and parts' headers come from one message built by the
  reference path; the boundary is `message.mime_boundary`, the same for every subscriber.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from email import quoprimime
from typing import Any

from statusgen.content.model import Subscriber
from statusgen.notifier.compose import RenderedEmail
from statusgen.notifier.events import Event
from statusgen.notifier.message import (
    MailSettings,
    build_message,
    conditions_of,
    following,
    mime_boundary,
    own_headers,
    personal_links,
)
from statusgen.notifier.placeholders import SLOT, fill_slots, keep_sections
from statusgen.notifier.wire import LITERAL_HEADERS, POLICY, fold_literal

CRLF = "\r\n"
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
"""An address the email package writes as it is: a dot-atom of letters, digits and
`_%+-` on both sides (nothing it could read as a comment, quote, group or encoded word)."""
WIDTH = POLICY.max_line_length or 78
NLCRE = re.compile(r"\r\n|\r|\n")
"""A line end, as the generator finds them (`email.generator.NLCRE`) to write CRLF."""
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
"""A line with its `\\n` (also after a `\\r`: `\\r\\n` stays in one piece), or the last one without."""


class Stencil:
    """`wire_bytes(build_message(rendered, event, snapshot, subscriber, settings))` for every
    subscriber of one (event, language), at a fraction of the cost.

    Raises ValueError where `build_message` does (a header value with CR or LF, a `To` that
    is not one address): for what everyone shares when the stencil is made, for what is the
    subscriber's own when their message is."""

    def __init__(self, rendered: RenderedEmail, event: Event, snapshot: dict[str, Any], lang: str,
                 settings: MailSettings) -> None:
        self.rendered, self.event, self.snapshot, self.settings = rendered, event, snapshot, settings
        self.sent_at = datetime.fromisoformat(snapshot["generated_at"])
        self._following: dict[tuple[tuple[str, ...] | None, str], str] = {}
        probe_subscriber = Subscriber("probe@example.invalid", None, lang)
        probe = build_message(rendered, event, snapshot, probe_subscriber, settings)  # checks what all share
        own = len(self._headers(probe_subscriber, self._values(probe_subscriber)))
        self._folded: dict[tuple[str, str], bytes] = {}
        items = list(probe.raw_items())
        self._mime = b"".join(POLICY.fold_binary(name, value) for name, value in items[own:])
        self._part_heads = [b"".join(POLICY.fold_binary(name, value) for name, value in part.raw_items()) + b"\r\n"
                            for part in probe.iter_parts()]
        self._boundary = mime_boundary(event, lang).encode("ascii")
        self._bodies: dict[tuple[tuple[str, bool], ...], tuple[_Body, _Body]] = {}

    def __call__(self, subscriber: Subscriber) -> bytes:
        values = self._values(subscriber)
        head = b"".join(self._fold(name, value) for name, value in self._headers(subscriber, values))
        conditions = conditions_of(subscriber, self.settings)
        text, markup = self._body(conditions)
        parts = [self._part_heads[0] + text.fill(values), self._part_heads[1] + markup.fill(values)]
        dash = b"--" + self._boundary
        return b"".join([head, self._mime, b"\r\n", dash, b"\r\n", parts[0], b"\r\n", dash, b"\r\n", parts[1],
                         b"\r\n", dash, b"--\r\n"])

    # ── the subscriber's own values and headers, by `message`'s functions ─────────────

    def _values(self, subscriber: Subscriber) -> dict[str, str]:
        """`message._personal_values`, with the components line (the same for everyone who
        follows the same components in the same language) made once."""
        key = (subscriber.components, subscriber.language)
        if key not in self._following:
            self._following[key] = following(self.event, self.snapshot, subscriber)
        return {**personal_links(subscriber.email, self.settings, self.sent_at), "following": self._following[key]}

    def _headers(self, subscriber: Subscriber, values: dict[str, str]) -> list[tuple[str, str]]:
        return own_headers(self.rendered, self.event, self.snapshot, subscriber, self.settings, values, self.sent_at)

    def _fold(self, name: str, value: str) -> bytes:
        """`name: value` as the generator writes it, checked as `set_headers` checks it."""
        if "\r" in value or "\n" in value or not value.strip():
            raise ValueError(f"{name}: a header value must be one non-empty line; found {value!r}")
        folded = self._folded.get((name, value))
        if folded is not None:
            return folded
        if name.lower() in LITERAL_HEADERS:
            return fold_literal(name, value, CRLF, WIDTH).encode("ascii")
        if name == "To":
            return _fold_to(value)
        folded = self._folded[name, value] = POLICY.fold_binary(name, POLICY.header_store_parse(name, value)[1])
        return folded

    # ── the bodies, per set of conditions ─────────────────────────────────────────────

    def _body(self, conditions: dict[str, bool]) -> tuple[_Body, _Body]:
        key = tuple(sorted(conditions.items()))
        if key not in self._bodies:
            self._bodies[key] = (_Body(keep_sections(self.rendered.text, conditions), str),
                                 _Body(keep_sections(self.rendered.html, conditions), html.escape))
        return self._bodies[key]


class _Body:
    """One part's text with its sections chosen: the lines without a slot encoded once
    (bytes), the lines with one kept as text to fill and encode per subscriber."""

    def __init__(self, kept: str, escape: Callable[[str], str]) -> None:
        self.escape = escape
        self.pieces: list[bytes | str] = []
        static: list[str] = []
        for line in _LINE.findall(kept) or [""]:
            if SLOT.search(line):
                if static:
                    self.pieces.append(encode_lines("".join(static)))
                    static = []
                self.pieces.append(line)
            else:
                static.append(line)
        if static:
            self.pieces.append(encode_lines("".join(static)))

    def fill(self, values: dict[str, str]) -> bytes:
        return b"".join(piece if isinstance(piece, bytes) else self._encoded(piece, values, first=n == 0)
                        for n, piece in enumerate(self.pieces))

    def _encoded(self, line: str, values: dict[str, str], first: bool) -> bytes:
        """One line with slots, filled and encoded. Only the last line can lack a line break;
        filled to nothing, it adds nothing (the text before it ends with its line break,
        where `set_content` adds none), unless it is the whole text."""
        filled = fill_slots(line, values, self.escape)
        return b"" if not filled and not first else encode_lines(filled)


def encode_lines(text: str) -> bytes:
    """`text` as `set_content(text, cte="quoted-printable")` encodes it (UTF-8, lines
    normalised, `quoprimime.body_encode` at POLICY's width) and the generator writes it
    (CRLF line ends)."""
    lines = text.encode("utf-8").splitlines()
    encoded = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), WIDTH)
    return NLCRE.sub(CRLF, encoded).encode("ascii")


def _fold_to(address: str) -> bytes:
    """`To: address` as the email package writes it; one that is not a plain address that fits
    on its line is parsed and folded by the email package itself, and refused unless it is one
    address (as `set_headers` does)."""
    if len(address) + 4 <= WIDTH and PLAIN_ADDRESS.fullmatch(address):
        return f"To: {address}{CRLF}".encode("ascii")
    value = POLICY.header_store_parse("To", address)[1]
    if len(value.addresses) != 1:
        raise ValueError(f"To: expected one address; found {value!r}")
    return POLICY.fold_binary("To", value)

