"""Stage 4 of the build: write the rendered outputs, all at once or not at all.

The new site is written to a temporary folder beside the output folder and swapped
into place with two renames, so readers (and a failed build) never see half a site.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from statusgen.errors import BuildError

log = logging.getLogger(__name__)


def write_site(outputs: Mapping[str, bytes], out_dir: Path) -> None:
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a web server must read it
    try:
        for path, content in sorted(outputs.items()):
            target = staging / path
            if not target.resolve().is_relative_to(staging):
                raise BuildError(f"refusing to write outside the output folder: {path!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        _swap(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.debug("wrote %d files to %s", len(outputs), out_dir)


def _swap(staging: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        if not out_dir.is_dir():
            raise BuildError(f"{out_dir} exists and is not a folder")
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.rename(out_dir, old / "site")
    os.rename(staging, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
