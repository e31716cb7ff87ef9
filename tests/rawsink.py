"""A cheap SMTP sink on 127.0.0.1 for the notifier benchmark: raw asyncio, no parsing of
the messages beyond what proves they arrived whole.

aiosmtpd costs about as much CPU per message as the notifier itself (≈1.9 ms here), so on a
2-core machine a benchmark against it measures the sink as much as statusgen. This one
speaks just enough SMTP for smtplib and statusgen's SMTP transport: the greeting, EHLO
(offering PIPELINING, 8BITMIME, SMTPUTF8) or HELO, MAIL, RCPT, DATA with dot-terminated
data, RSET, NOOP and QUIT, answering every command of a pipelined group in one write.

It verifies what it counts (`Tally`): a message counts when it ended with the final dot
after a MAIL and exactly one RCPT; it is `bad` unless its data holds its RCPT address and
ends with the closing MIME boundary (`--` + CRLF), so a truncated or misrouted message
shows; `recipients` are the distinct RCPT addresses (a message sent twice shows as
`messages > recipients`). Anything else (an unknown command, DATA without RCPT) is answered
500/503 and counted in `errors`.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

END = b"\r\n.\r\n"
EHLO = (b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n")


@dataclass
class Tally:
    """What the sink received, over all connections."""

    messages: int = 0
    bad: int = 0
    errors: int = 0
    connections: int = 0
    recipients: set[bytes] = field(default_factory=set)
    data_bytes: int = 0


class _Session(asyncio.Protocol):
    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.buffer = b""
        self.rcpt: list[bytes] = []
        self.mail = False
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.tally.connections += 1
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out: list[bytes] = []
        while True:
            if self.in_data:
                # the data starts right after the DATA line: a message of no lines ends at ".\r\n"
                end = 0 if self.buffer.startswith(b".\r\n") else self.buffer.find(END)
                if end < 0:
                    break
                body, self.buffer = self.buffer[:end], self.buffer[end + (3 if end == 0 else 5):]
                out.append(self._message(body))
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                break
            line, self.buffer = self.buffer[:line_end], self.buffer[line_end + 2:]
            reply = self._command(line)
            out.append(reply)
            if reply.startswith(b"221"):
                assert self.transport is not None
                self.transport.write(b"".join(out))
                self.transport.close()
                return
        if out:
            assert self.transport is not None
            self.transport.write(b"".join(out))

    def _command(self, line: bytes) -> bytes:
        verb = line[:4].upper()
        if verb == b"EHLO":
            return EHLO
        if verb == b"HELO":
            return b"250 sink\r\n"
        if verb == b"MAIL":
            self.mail, self.rcpt = True, []
            return b"250 OK\r\n"
        if verb == b"RCPT":
            if not self.mail:
                self.tally.errors += 1
                return b"503 MAIL first\r\n"
            start, end = line.find(b"<"), line.find(b">")
            self.rcpt.append(line[start + 1:end].lower())
            return b"250 OK\r\n"
        if verb == b"DATA":
            if not self.rcpt:
                self.tally.errors += 1
                return b"503 RCPT first\r\n"
            self.in_data = True
            return b"354 go ahead\r\n"
        if verb == b"RSET":
            self.mail, self.rcpt = False, []
            return b"250 OK\r\n"
        if verb == b"NOOP":
            return b"250 OK\r\n"
        if verb == b"QUIT":
            return b"221 bye\r\n"
        self.tally.errors += 1
        return b"500 unknown command\r\n"

    def _message(self, body: bytes) -> bytes:
        tally = self.tally
        tally.messages += 1
        tally.data_bytes += len(body)
        if len(self.rcpt) != 1 or self.rcpt[0] not in body.lower() or not body.endswith(b"--"):
            tally.bad += 1
        tally.recipients.update(self.rcpt)
        self.in_data, self.mail, self.rcpt = False, False, []
        return b"250 OK queued\r\n"


class RawSink:
    """The sink, serving on an ephemeral port of 127.0.0.1 in a thread of its own (`with`)."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="rawsink", daemon=True)

    def __enter__(self) -> RawSink:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Session(self.tally), "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()


def main() -> None:
    """`python tests/rawsink.py`: serve, print the port; when stdin closes, print what
    arrived and the sink's own CPU seconds while serving, as one JSON line."""
    import json
    import resource
    import sys

    with RawSink() as sink:
        print(sink.port, flush=True)
        before = resource.getrusage(resource.RUSAGE_SELF)
        sys.stdin.read()
        after = resource.getrusage(resource.RUSAGE_SELF)
    tally = sink.tally
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(json.dumps({"messages": tally.messages, "recipients": len(tally.recipients), "bad": tally.bad,
                      "errors": tally.errors, "connections": tally.connections, "cpu_seconds": round(cpu, 3),
                      "peak_rss_mib": round(after.ru_maxrss / 1024)}), flush=True)


if __name__ == "__main__":
    main()
