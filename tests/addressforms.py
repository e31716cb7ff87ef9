"""Find an email address in a URL (or any text) in whatever encoding it may hide: plain in
any case, percent-encoded, hex, or inside base64/base64url at any alignment (so also the
base64 of a JSON document or anything else that contains the address verbatim)."""

from __future__ import annotations

import base64
from urllib.parse import unquote, unquote_plus


def base64_cores(data: bytes) -> set[str]:
    """The characters of base64(`prefix` + data + `suffix`) that only `data` decides, for
    each of the three alignments a prefix can give: whatever surrounds the address (a
    JSON document's other keys), these characters are in its base64."""
    cores = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\x00" * shift + data).decode("ascii")
        start, end = -(-8 * shift // 6), 8 * (shift + len(data)) // 6
        core = encoded[start:end]
        cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores


def leaks(text: str, address: str) -> list[str]:
    """The forms of `address` (or its lowercase) that `text` contains; empty if none."""
    decoded = {text, unquote(text), unquote_plus(text)}
    found = []
    for variant in {address, address.lower(), address.strip().lower()}:
        raw = variant.encode("utf-8")
        if any(variant.lower() in form.lower() for form in decoded):
            found.append(f"plain {variant}")
        if any(raw.hex() in form.lower() for form in decoded):
            found.append(f"hex {variant}")
        found += [f"base64 {core}" for core in sorted(base64_cores(raw)) if any(core in form for form in decoded)]
    return found
