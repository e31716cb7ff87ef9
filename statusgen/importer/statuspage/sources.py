"""Where a Statuspage's data comes from: a page URL, a folder of saved JSON, or the manage API.

STUB (contract): the fetching engineer replaces this file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from statusgen.importer.statuspage.dump import Dump

API_KEY_VARIABLE = "STATUSPAGE_API_KEY"


def open_source(source: str, *, page_id: str | None, env: Mapping[str, str], cache_dir: Path,
                progress: Callable[[str], None] = lambda line: None,
                sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.monotonic) -> Dump:
    """Read everything the source has. `source` is an http(s) page URL or a folder of saved
    JSON; with `page_id` it is the manage API (`source` then is its base URL or "api",
    the key in env[API_KEY_VARIABLE]). Raises `SetupError` for a missing key or an
    unreachable source, `UsageError` for a source that is neither."""
    raise NotImplementedError("contract stub")
