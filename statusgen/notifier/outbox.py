"""The outbox: the default transport, one file per message in a Maildir.

    messages ──write to tmp/, fsync──▶ committing ──rename into new/──▶ sent

The file name is derived from the message, so writing it again is a no-op: here even a
crash cannot duplicate a message.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from statusgen.notifier.delivery import Ledger, Outgoing, Progress, known_count

log = logging.getLogger(__name__)


class OutboxTransport:
    """The default transport: one `.eml` file per message in a Maildir, so `notify` works
    with no mail server at all (and a mail client, or a later relay, can read the folder).

    Each file's name is derived from the message id and the recipient; a file that is
    already there means the message was delivered before, so delivering it again is a
    no-op. The file is written to `tmp/`, fsynced and renamed into `new/` (the Maildir
    protocol: readers never see half a message). Files and folders are private to the
    user: they hold addresses.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, messages: Iterable[Outgoing], ledger: Ledger, progress: Progress) -> None:
        progress.started(known_count(messages))
        for sub in ("tmp", "new", "cur"):
            (self.folder / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        present = self._present()
        folder = os.open(self.folder / "new", os.O_RDONLY | os.O_DIRECTORY)
        try:
            for outgoing in messages:
                self._deliver_one(outgoing, ledger, progress, present, folder)
        finally:
            os.close(folder)
            progress.finished()

    def _present(self) -> set[str]:
        """Names already delivered: in new/, or in cur/ once a mail client has read them
        (it appends `:2,FLAGS` to the name)."""
        names = set(os.listdir(self.folder / "new"))
        names.update(name.partition(":")[0] for name in os.listdir(self.folder / "cur"))
        return names

    def _deliver_one(self, outgoing: Outgoing, ledger: Ledger, progress: Progress,
                     present: set[str], folder: int) -> None:
        name = maildir_name(outgoing)
        if name in present or (self.folder / "new" / name).exists():
            log.debug("outbox: %s is already there", name)
            ledger.committing(outgoing.delivery_id)
            ledger.sent(outgoing.delivery_id)
            progress.delivered()
            return
        try:
            temporary = self._write_temporary(name, outgoing.data)
        except OSError as error:
            self._defer(outgoing, ledger, progress, f"outbox: cannot write {self.folder / 'tmp' / name}: {error}")
            return
        ledger.committing(outgoing.delivery_id)
        try:
            os.rename(temporary, self.folder / "new" / name)
        except OSError as error:  # a rename happens entirely or not at all: nothing was delivered
            self._defer(outgoing, ledger, progress, f"outbox: cannot move {name} into new/: {error}")
            return
        _sync(folder)
        present.add(name)
        ledger.sent(outgoing.delivery_id)
        progress.delivered()

    def _write_temporary(self, name: str, data: bytes) -> Path:
        """Write the message under tmp/, replacing what a crashed run may have left there."""
        temporary = self.folder / "tmp" / name
        temporary.unlink(missing_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # whatever the umask says
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
            os.fsync(descriptor)  # the data is on disk before the name in new/ promises it
        finally:
            os.close(descriptor)
        return temporary

    @staticmethod
    def _defer(outgoing: Outgoing, ledger: Ledger, progress: Progress, error: str) -> None:
        log.info("%s", error)
        ledger.retry_later(outgoing.delivery_id, error)
        progress.deferred(outgoing.recipient, error)


def maildir_name(outgoing: Outgoing) -> str:
    """The message's file name: the same for the same message to the same recipient."""
    digest = hashlib.sha256(f"{outgoing.message_id}\n{outgoing.recipient}".encode()).hexdigest()
    return f"{digest[:40]}.eml"


def _sync(folder: int) -> None:
    """Make a rename durable before the ledger says `sent`."""
    try:
        os.fsync(folder)
    except OSError as error:  # some file systems cannot sync a folder; the file itself is safe
        log.debug("outbox: cannot sync the folder: %s", error)
