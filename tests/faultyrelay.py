"""A scripted SMTP relay on 127.0.0.1 that misbehaves in one chosen phase, for the fault tests.

    connect ─▶ greeting ─▶ ehlo ─▶ starttls ─▶ auth ─▶ mail ─▶ rcpt ─▶ data ─▶ body ─▶ dot ─▶ quit

`fault` names the phase and `how` what happens there: `drop` closes the connection,
`stall` says nothing more (and reads nothing more) until the test ends, `dribble` (on connect,
instead of the greeting) sends continuation lines a byte at a time and never ends them. `fault = None`
is a healthy relay, so the same server is the relay that fails and the one that comes back.

aiosmtpd cannot be told to vanish in the middle of a command or a body, so this one is a
socket per connection, in a thread, speaking line by line: the greeting, EHLO (PIPELINING,
STARTTLS and AUTH PLAIN as asked), STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA (dot-terminated),
RSET, NOOP, QUIT. A message counts in `accepted` once its final dot has arrived, whatever
happens to the answer: it is what the relay may have delivered.
"""

from __future__ import annotations

import base64
import socket
import ssl
import threading
from collections import Counter

PHASES = ("connect", "greeting", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "body", "dot", "quit")
LOGIN = ("status", "s3cret")
SAFETY = 60.0  # seconds any socket of the relay waits at most: a broken test ends, it does not hang


class FaultyRelay:
    """The relay (`with`); `port`, and what it saw: `accepted` (recipient, data), `hits`
    (how often each phase's fault was acted on), `commands`, `connections`."""

    def __init__(self, *, pipelining: bool = False, starttls: ssl.SSLContext | None = None,
                 implicit: ssl.SSLContext | None = None, auth: bool = False, trickle: float = 0.0) -> None:
        self.pipelining, self.starttls, self.implicit, self.auth = pipelining, starttls, implicit, auth
        self.trickle = trickle
        """Seconds between the bytes of every answer: a slow relay that does answer."""
        self.fault: str | None = None
        self.how = "drop"
        self.accepted: list[tuple[str, bytes]] = []
        self.hits: Counter[str] = Counter()
        self.commands: Counter[str] = Counter()
        self.connections = 0
        self.ended = 0
        """Connections the relay ended in a fault (closed: the client can see it)."""
        self.ending = threading.Condition()
        self._lock = threading.Lock()
        self.released = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="faultyrelay", daemon=True)

    def __enter__(self) -> FaultyRelay:
        self._acceptor.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.released.set()
        self._acceptor.join(SAFETY)
        self._listener.close()
        for thread in self._threads:
            thread.join(SAFETY)

    def per_recipient(self) -> Counter[str]:
        return Counter(recipient for recipient, _ in self.accepted)

    # ── serving ──────────────────────────────────────────────────────────────────────

    def _accept(self) -> None:
        self._listener.settimeout(0.05)  # closing a socket does not wake a thread blocked in accept()
        while not self.released.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed: the test is over
                return
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(SAFETY)
        session = _Session(self, sock)
        try:
            if self.implicit is not None:
                session.sock = self.implicit.wrap_socket(sock, server_side=True)
            session.run()
        except (OSError, ValueError):  # the client went away, or refused our certificate
            pass
        finally:
            session.sock.close()
            sock.close()
            if session.faulted:
                with self.ending:
                    self.ended += 1
                    self.ending.notify_all()

    def wait_for_ended(self, count: int) -> None:
        """Until `count` connections have been ended by the fault (at most SAFETY seconds)."""
        with self.ending:
            self.ending.wait_for(lambda: self.ended >= count, SAFETY)

    def misbehaves(self, phase: str, sock: socket.socket) -> bool:
        """Whether the fault is here; if so, act it out (the caller then closes)."""
        if self.fault != phase:
            return False
        with self._lock:
            self.hits[phase] += 1
        if self.how == "stall":
            self.released.wait(SAFETY)
        elif self.how == "dribble":  # `220-slow` lines, a byte every 50 ms, never the last line
            line = b"220-slow\r\n"
            sent = 0
            while not self.released.wait(0.05):
                sock.sendall(line[sent % len(line):][:1])
                sent += 1
        return True

    def took(self, recipient: str, data: bytes) -> None:
        with self._lock:
            self.accepted.append((recipient, data))

    def counted(self, verb: str) -> None:
        with self._lock:
            self.commands[verb] += 1


class _Session:
    """One connection, line by line."""

    def __init__(self, relay: FaultyRelay, sock: socket.socket) -> None:
        self.relay, self.sock = relay, sock
        self.buffer = b""
        self.tls = relay.implicit is not None
        self.rcpt: list[str] = []
        self.faulted = False

    def _fails(self, phase: str) -> bool:
        self.faulted = self.relay.misbehaves(phase, self.sock)
        return self.faulted

    def run(self) -> None:
        relay = self.relay
        if self._fails("connect"):
            return
        self._send(b"220 relay.test ESMTP\r\n")
        if self._fails("greeting"):
            return
        while (line := self._line()) is not None:
            verb = line[:4].decode("ascii", "replace").upper().strip()
            relay.counted(verb)
            if verb in ("EHLO", "HELO", "STAR", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"):
                phase = {"HELO": "ehlo", "STAR": "starttls"}.get(verb, verb.lower())
                if phase != "starttls" and self._fails(phase):
                    return
            if not self._answer(verb, line):
                return

    def _answer(self, verb: str, line: bytes) -> bool:
        """Answer one command; False: the connection ends."""
        relay, send = self.relay, self._send
        if verb == "EHLO":
            send(self._ehlo())
        elif verb == "HELO":
            send(b"250 relay.test\r\n")
        elif verb == "STAR":
            send(b"220 2.0.0 go ahead\r\n")
            if self._fails("starttls"):  # agreed, then gone before the handshake
                return False
            assert relay.starttls is not None
            self.sock = relay.starttls.wrap_socket(self.sock, server_side=True)
            self.tls = True
        elif verb == "AUTH":
            given = base64.b64decode(line.split()[-1]).split(b"\0")[1:]
            send(b"235 2.7.0 welcome\r\n" if tuple(p.decode() for p in given) == LOGIN else b"535 5.7.8 no\r\n")
        elif verb == "MAIL":
            self.rcpt = []
            send(b"250 OK\r\n")
        elif verb == "RCPT":
            self.rcpt.append(line[line.find(b"<") + 1:line.find(b">")].decode())
            send(b"250 OK\r\n")
        elif verb == "DATA":
            send(b"354 go ahead\r\n")
            return self._data()
        elif verb in ("RSET", "NOOP"):
            send(b"250 OK\r\n")
        elif verb == "QUIT":
            send(b"221 bye\r\n")
            return False
        else:
            send(b"500 unknown command\r\n")
        return True

    def _ehlo(self) -> bytes:
        relay = self.relay
        lines = ["relay.test", "8BITMIME"]
        if relay.pipelining:
            lines.append("PIPELINING")
        if relay.starttls is not None and not self.tls:
            lines.append("STARTTLS")
        if relay.auth and self.tls:
            lines.append("AUTH PLAIN")
        return b"".join(f"250{' ' if n == len(lines) - 1 else '-'}{text}\r\n".encode()
                        for n, text in enumerate(lines))

    def _data(self) -> bool:
        body: list[bytes] = []
        while (line := self._line()) is not None:
            if line == b".":
                data = b"\r\n".join(body) + b"\r\n"
                for recipient in self.rcpt:
                    self.relay.took(recipient, data)
                if self._fails("dot"):
                    return False
                self._send(b"250 2.0.0 queued\r\n")
                return True
            body.append(line[1:] if line.startswith(b".") else line)
            if len(body) == 1 and self._fails("body"):
                return False
        return False

    def _send(self, answer: bytes) -> None:
        if not self.relay.trickle:
            self.sock.sendall(answer)
            return
        for byte in range(len(answer)):  # one write, one TCP segment, one TLS record each
            self.sock.sendall(answer[byte:byte + 1])
            self.relay.released.wait(self.relay.trickle)

    def _line(self) -> bytes | None:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line
