"""A real SMTP server on 127.0.0.1 for tests and benchmarks (aiosmtpd), with fault hooks."""

from __future__ import annotations

import email
import email.policy
import threading
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class LoopbackController(Controller):
    """aiosmtpd's Controller on an ephemeral port of 127.0.0.1: it checks the server by
    connecting to `self.port`, so the port the system chose is read back before that."""

    def __init__(self, handler: Any, **options: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, **options)

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """Collects every accepted message; `on_data` may answer something else than 250."""

    def __init__(self, on_data: Callable[[Any, Any], str | None] | None = None) -> None:
        self.messages: list[tuple[str, EmailMessage]] = []
        self.on_data = on_data
        self.arrived = threading.Condition()
        self.controller = LoopbackController(self)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.on_data and (answer := self.on_data(session, envelope)):
            return answer
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            for recipient in envelope.rcpt_tos:
                self.messages.append((recipient, message))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)

    def per_recipient(self) -> Counter[str]:
        return Counter(recipient for recipient, _ in self.messages)

    def to(self, recipient: str) -> list[EmailMessage]:
        return [message for to, message in self.messages if to == recipient]
