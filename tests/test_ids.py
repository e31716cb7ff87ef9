"""Public ids never change: the same 12 base-36 digits as the first statusgen made them."""

from __future__ import annotations

import hashlib

from statusgen import ids


def reference(kind: str, key: str) -> str:
    """The digit-by-digit conversion ids were first made with."""
    number = int.from_bytes(hashlib.sha256(f"statusgen:{kind}:{key}".encode()).digest()[:10], "big")
    chars = []
    for _ in range(12):
        number, digit = divmod(number, 36)
        chars.append(ids.ALPHABET[digit])
    return "".join(chars)


def test_public_ids_as_they_always_were() -> None:
    for n in range(3000):
        for kind in ("incident", "update", "component", "page"):
            assert ids.public_id(kind, f"incident-{n:05d}") == reference(kind, f"incident-{n:05d}")
    assert ids.incident_id("pdf-down") == reference("incident", "pdf-down")
    assert len(ids.component_id("x")) == 12
