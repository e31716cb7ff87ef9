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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from statusgen.errors import BuildError

log = logging.getLogger(__name__)
WRITERS = 8


def write_site(outputs: Mapping[str, bytes], out_dir: Path) -> None:
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a web server must read it
    try:
        _write_files(staging, outputs)
        _swap(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.debug("wrote %d files to %s", len(outputs), out_dir)


def _write_files(staging: Path, outputs: Mapping[str, bytes]) -> None:
    """Write every file; threads overlap the file system's latency (the GIL is released)."""
    folders = sorted({(staging / path).parent for path in outputs}, key=lambda f: len(f.parts))
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lambda folder: folder.mkdir(parents=True, exist_ok=True), folders))
        list(pool.map(lambda item: _write_file(staging / item[0], item[1]), sorted(outputs.items())))


def _write_file(target: Path, content: bytes) -> None:
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view):]
    finally:
        os.close(descriptor)


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
