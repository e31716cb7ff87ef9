"""Making the queue's emails, here or in a forked process beside the sending one.

    store.claim ─batches─▶ Composer (here)                        ─▶ Outgoing ─▶ transport
                      └──▶ pipe ─▶ forked process: Composer ─▶ pipe ─┘   (a large send)

Making a message (a stencil's fill, two signed links, the headers) costs about as much CPU
as sending it, and the SMTP connections run in threads that share one interpreter lock:
one core. For a large send (`FORK_FROM` messages or more, and a second core), a forked
process makes the messages while this one sends: it gets batches of claimed deliveries
through a pipe and sends back their messages (`Outgoing`, bytes) in the same order, two
batches ahead of what the transport asks for. Nothing else changes: the store is used here
only (claims, the ledger), the messages are the same bytes (tests/test_notify.py compares
both ways), and an error making a message is raised here where the transport takes it, as
it would be without the process. Deliveries claimed but never taken (a halted run) stay
pending, as a claimed batch always did.

The process is forked before any other thread of the run starts (the webhooks' thread,
the SMTP connections), so it inherits no lock another thread holds; it ignores Ctrl-C
(the parent ends it), ends when the pipe closes, and dies with the parent (on Linux,
PR_SET_PDEATHSIG): a killed run leaves no process behind holding its output or the
store's lock, which the fork shares.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from statusgen.notifier.compose import render_email
from statusgen.notifier.delivery import Outgoing
from statusgen.notifier.health import NOTICE_KIND
from statusgen.notifier.message import MailSettings, message_id
from statusgen.notifier.notice import notice_email
from statusgen.notifier.stencil import Stencil
from statusgen.notifier.store import Delivery
from statusgen.site.theme import Theme

FORK_FROM = 1_000
"""Emails waiting from which a run makes them in a process of its own: below it, the fork
and the pipe cost more than they save."""
AHEAD = 2
"""Batches the process makes ahead of the transport."""


class Composer:
    """Each delivery's message; each (event, language) rendered once, into a `Stencil`."""

    def __init__(self, theme: Theme, settings: MailSettings, site: dict[str, Any]) -> None:
        self.theme, self.settings, self.site = theme, settings, site
        self._stencils: dict[tuple[str, str], Stencil] = {}

    def __call__(self, delivery: Delivery) -> Outgoing:
        event, context, subscriber = delivery.event, delivery.context, delivery.subscriber
        if event.kind == NOTICE_KIND:
            return notice_email(delivery.id, event, context, subscriber, self.site, self.theme, self.settings)
        key = (event.key, subscriber.language)
        stencil = self._stencils.get(key)
        if stencil is None:
            rendered = render_email(event, context, subscriber.language, self.theme)
            stencil = self._stencils[key] = Stencil(rendered, event, context, subscriber.language, self.settings)
        return Outgoing(delivery.id, self.settings.sender, subscriber.email,
                        message_id(event, context, subscriber.email, self.settings), stencil(subscriber))


def can_fork() -> bool:
    """Whether a composing process can help: fork is there and so is a second core."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1


class ForkedComposer:
    """A `Composer` in a forked process, fed and read through one pipe (`compose`); `close`
    ends it. Made before the run starts other threads (see the module's docstring)."""

    def __init__(self, composer: Composer) -> None:
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        gc.freeze()  # what the parent made so far stays shared with the child, not copied
        try:
            self._process = context.Process(target=_serve, args=(theirs, composer, self._pipe),
                                            name="statusgen-composer", daemon=True)
            self._process.start()
        finally:
            gc.unfreeze()
        theirs.close()

    def compose(self, batches: Iterator[list[Delivery]]) -> Iterator[Outgoing]:
        """The messages of every delivery in `batches`, in order, made in the process;
        at most AHEAD batches are claimed ahead of what is taken."""
        sent: deque[int] = deque()

        def feed() -> None:
            batch = next(batches, None)
            if batch:
                self._pipe.send(batch)
                sent.append(len(batch))

        for _ in range(AHEAD):
            feed()
        while sent:
            try:
                made = self._pipe.recv()
            except EOFError:
                raise RuntimeError("notify: the process making the emails ended unexpectedly") from None
            sent.popleft()
            feed()
            for outgoing in made:
                if isinstance(outgoing, BaseException):
                    raise outgoing
                yield outgoing

    def close(self) -> None:
        try:
            self._pipe.send(None)
        except OSError:
            pass
        self._pipe.close()
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere
    the closed pipe ends it once it next reads."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _serve(pipe: multiprocessing.connection.Connection, compose: Callable[[Delivery], Outgoing],
           parents: multiprocessing.connection.Connection) -> None:
    """In the process: make each batch's messages until the pipe says None or closes. An
    error making one message is sent back in its place, and the batch ends there."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parents.close()  # the fork's copy of the parent's end: else the pipe never closes when the parent dies
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # it died before that
        return
    while True:
        try:
            batch = pipe.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        made: list[Outgoing | BaseException] = []
        for delivery in batch:
            try:
                made.append(compose(delivery))
            except Exception as error:  # noqa: BLE001 - raised again in the parent, in its place
                made.append(error)
                break
        try:
            pipe.send(made)
        except OSError:  # the parent stopped taking (it ended the run, or died): nothing to say
            return
