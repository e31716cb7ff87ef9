"""Forked worker processes, for the two stages that have work to share: loading a large
site's incident files, and rendering each language's pages.

Workers are forked, so they start with everything this process has (the model, the
state, a render memo) and only their results travel back. Where fork is missing
(Windows, macOS's default) or only one core is there, the work runs here instead.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.pool
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager


def available(wanted: int) -> int:
    """How many processes to use for `wanted` parts of work: 1 means here, no workers."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(wanted, os.cpu_count() or 1))


@contextmanager
def forked(processes: int) -> Iterator[multiprocessing.pool.Pool]:
    """A pool of forked workers, ended on leaving.

    While it runs, the objects made so far are frozen: the collector leaves them alone,
    here while this process waits and in the workers, whose memory pages they then keep
    sharing with this process instead of copying them on the collector's first look.
    """
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes, initializer=_worker_signals) as pool:
            yield pool
    finally:
        gc.unfreeze()


def _worker_signals() -> None:
    """A worker leaves Ctrl-C to its parent (which ends the pool) and dies when the pool
    ends it, whatever handlers the parent had (`serve` has its own for both)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Claims:
    """The numbers from `start` up to `stop`, each taken once by whichever process asks
    first: this one or a worker forked after it. Processes that share a list of parts this
    way end together even when one of them runs slower (a core shared with other work),
    where halves fixed in advance would wait for the slower one."""

    def __init__(self, start: int, stop: int) -> None:
        self._next = multiprocessing.get_context("fork").Value("q", start)  # shared memory and a lock
        self._stop = stop

    def take(self) -> int | None:
        """The next number not taken yet, or None when all are."""
        with self._next.get_lock():
            number = self._next.value
            if number >= self._stop:
                return None
            self._next.value = number + 1
            return number
