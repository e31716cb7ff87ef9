"""The forked-worker plumbing: `workers.Claims` shares a list of parts between processes."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from statusgen import workers

_claims: workers.Claims | None = None
"""Inherited by the forked workers, as the loader's claims are."""
_start: Any = None
"""A barrier all three processes pass together, so that they take at the same time."""


def _take_all(_: int) -> list[int]:
    assert _claims is not None and _start is not None
    _start.wait(timeout=60)
    taken = []
    while (number := _claims.take()) is not None:
        taken.append(number)
    return taken


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_each_number_is_taken_once_across_the_processes() -> None:
    global _claims, _start
    _claims, _start = workers.Claims(3, 20_003), multiprocessing.get_context("fork").Barrier(3)
    try:
        with workers.forked(2) as pool:
            theirs = pool.map_async(_take_all, [0, 1], chunksize=1)
            mine = _take_all(0)
            taken = [number for part in [mine, *theirs.get(timeout=60)] for number in part]
    finally:
        _claims = _start = None
    assert sorted(taken) == list(range(3, 20_003))


def test_nothing_is_taken_from_an_empty_range() -> None:
    claims = workers.Claims(5, 5)
    assert claims.take() is None
    assert workers.Claims(0, 1).take() == 0
