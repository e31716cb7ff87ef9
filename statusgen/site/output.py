"""Stage 4 of the build: write the rendered outputs, all at once or not at all.

`Outputs` holds them until then, by path, and refuses a path outside the output folder
or one written twice.

The new site is written to a temporary folder beside the output folder and swapped
into place with two renames, so readers (and a failed build) never see half a site.

`serve --watch` rebuilds after every edit; rewriting 25,000 files for one changed
incident would take seconds, so there `write_changes` writes only the files whose bytes
changed, each atomically (a temporary file renamed over it), and deletes the ones no
longer produced. A reader may then see a page of the new build beside one of the old
for a moment, which a local preview can afford.
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
SWAP_SHARE = 0.5
"""Past this share of changed files, swapping in a whole new folder is faster."""


class Outputs(dict[str, bytes]):
    """Output files by path; writing one path twice is a bug in the theme or the site.

    `snapshot` is the notifier's input, made with them but never published: the build
    writes it beside the site (`write_site`'s `beside`), so it is not one of the paths."""

    snapshot: bytes | None = None

    def add(self, path: str, content: str | bytes) -> None:
        if path in self:
            raise BuildError(f"two outputs would be written to {path!r}")
        if path.startswith("/") or ".." in path.split("/") or not path:
            raise BuildError(f"refusing to write outside the output folder: {path!r}")
        self[path] = content.encode("utf-8") if isinstance(content, str) else content

    def merge(self, checked: dict[str, bytes]) -> None:
        """Add outputs whose paths were checked by `add` already (in a worker, or when the
        memo first kept them); only a path written twice is still an error."""
        if twice := self.keys() & checked.keys():
            raise BuildError(f"two outputs would be written to {min(twice)!r}")
        self.update(checked)


def write_site(outputs: Mapping[str, bytes], out_dir: Path, beside: Mapping[Path, bytes] | None = None) -> None:
    """Swap `outputs` into `out_dir` whole; then put each file of `beside` (the notifier's
    snapshot, outside the published folder) into place.

    The files beside are written under temporary names first, so a failure anywhere before
    the swap leaves both the folder and them as they were; after the swap only renames are
    left. They come after the folder on purpose: if the process dies between the two, the
    notifier reads the previous snapshot and announces nothing new (the next build catches
    up), where the other order could email links to pages that were never published.
    """
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a web server must read it
    try:
        for target, content in (beside or {}).items():
            staged.append((_temporary_file(target, content), target))
        _write_files(staging, outputs)
        _swap(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
        raise
    for temporary, target in staged:
        os.replace(temporary, target)
    log.debug("wrote %d files to %s and %d beside it", len(outputs), out_dir, len(staged))


def _write_files(staging: Path, outputs: Mapping[str, bytes]) -> None:
    """Write every file, one after the other with plain `os` calls: the system calls take
    a tenth of a millisecond per file, and a thread pool's bookkeeping (or pathlib's) took
    ten times that (`bench/build_bench.py`: 25,000 files, 3.7 s with 8 threads, ~0.5 s)."""
    root = os.fspath(staging)
    made = {""}
    for path in sorted(outputs):
        folder = path.rpartition("/")[0]
        if folder not in made:
            os.makedirs(os.path.join(root, folder), exist_ok=True)
            made.add(folder)
        _write_file(os.path.join(root, path), outputs[path])


def _write_file(target: str, content: bytes) -> None:
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


def write_changes(outputs: Mapping[str, bytes], out_dir: Path, previous: Mapping[str, bytes] | None) -> int | None:
    """Make `out_dir` hold `outputs`, given that it holds `previous` (None: unknown).

    Returns the number of files written and deleted, or None when the whole folder was
    swapped (the first build, or when most files changed).
    """
    out_dir = out_dir.resolve()
    if previous is None or not out_dir.is_dir():
        write_site(outputs, out_dir)
        return None
    changed = [path for path, content in outputs.items()
               if (old := previous.get(path)) is not content and old != content]
    if len(changed) > SWAP_SHARE * len(outputs):
        write_site(outputs, out_dir)
        return None
    gone = [path for path in previous if path not in outputs]
    for path in sorted(changed):
        replace_file(out_dir / path, outputs[path])
    for path in sorted(gone):
        _remove_file(out_dir, path)
    log.debug("wrote %d files, deleted %d in %s", len(changed), len(gone), out_dir)
    return len(changed) + len(gone)


def replace_file(target: Path, content: bytes) -> None:
    """Write a file under a temporary name beside it and rename it into place."""
    temporary = _temporary_file(target, content)
    try:
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _temporary_file(target: Path, content: bytes) -> str:
    """`content` in a new file under a temporary name in `target`'s folder (made if
    missing), ready to be renamed over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def _remove_file(out_dir: Path, path: str) -> None:
    """Delete an output file and the folders it leaves empty."""
    (out_dir / path).unlink(missing_ok=True)
    folder = (out_dir / path).parent
    while folder != out_dir and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
