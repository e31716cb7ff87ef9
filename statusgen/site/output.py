"""Stage 4 of the build: write the rendered outputs, all at once or not at all.

The new site is written to a temporary folder beside the output folder and swapped
into place with two renames, so readers (and a failed build) never see half a site.
Both kinds of output below refuse a path outside the output folder or one written twice.

`statusgen build` streams: `staged(out_dir)` gives a `StagedOutputs` that writes each
file into the temporary folder the moment it is made and keeps only its path, so a
build's memory does not grow with the site's bytes (10,000 incidents: 230 MB of files);
forked workers write their pages there themselves and send back only the paths. On
leaving, the folder is swapped into place, or removed if the build failed. What the
build wrote can be read back through `WrittenSite`.

`Outputs` holds the bytes in memory instead, by path, for `serve`'s `Builder` (which
compares them with the last build's) and for `render`, which writes nothing.

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
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from statusgen.errors import BuildError

log = logging.getLogger(__name__)
SWAP_SHARE = 0.5
"""Past this share of changed files, swapping in a whole new folder is faster."""


class Outputs(dict[str, bytes]):
    """Output files by path; writing one path twice is a bug in the theme or the site.

    `snapshot` is the notifier's input, made with them but never published: the build
    writes it beside the site (`staged`'s `beside`), so it is not one of the paths."""

    snapshot: bytes | None = None

    def add(self, path: str, content: str | bytes) -> None:
        if path in self:
            raise _twice(path)
        _check_path(path)
        self[path] = content.encode("utf-8") if isinstance(content, str) else content

    def part(self) -> Outputs:
        """An empty set of outputs of the same kind, to `merge` into this one later."""
        return Outputs()

    def merge(self, checked: dict[str, bytes]) -> None:
        """Add outputs whose paths were checked by `add` already (in a worker, or when the
        memo first kept them); only a path written twice is still an error."""
        if twice := self.keys() & checked.keys():
            raise _twice(min(twice))
        self.update(checked)


def _check_path(path: str) -> None:
    if path.startswith("/") or ".." in path.split("/") or not path:
        raise BuildError(f"refusing to write outside the output folder: {path!r}")


def _twice(path: str) -> BuildError:
    return BuildError(f"two outputs would be written to {path!r}")


class StagedOutputs:
    """Output files written into a staging folder as they are added; only paths are kept.

    Several of them may write into one folder, in this process and in forked workers
    (each with its own, sent back whole: a folder and a list of paths); a file is created
    exclusively, so whichever writes a path second fails, as `Outputs.add` would.
    """

    snapshot: bytes | None = None
    """The notifier's input, made with the files but never published (see `Outputs`);
    None when it went straight to its file (`snapshot_to`)."""
    snapshot_to: Path | None = None
    """Where the build puts the snapshot: given, it is written there piece by piece
    (`write_beside`) instead of being kept in `snapshot`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.beside: dict[Path, bytes] = {}
        """Files outside the published folder, put into place after its swap (`staged`)."""
        self.written_beside: dict[Path, str] = {}
        """Files outside it already written under a temporary name, renamed after the swap."""
        self.paths: list[str] = []
        self.bytes = 0
        self._root = os.fspath(folder)
        self._made = {""}

    def add(self, path: str, content: str | bytes) -> None:
        _check_path(path)
        data = content.encode("utf-8") if isinstance(content, str) else content
        folder = path.rpartition("/")[0]
        if folder not in self._made:
            os.makedirs(os.path.join(self._root, folder), exist_ok=True)
            self._made.add(folder)
        try:
            _write_file(os.path.join(self._root, path), data)
        except FileExistsError:
            raise _twice(path) from None
        self.paths.append(path)
        self.bytes += len(data)

    def write_beside(self, target: Path, chunks: Iterable[bytes]) -> None:
        """Write `chunks` to a temporary file beside `target` now, one at a time (a large file
        need not be held in memory), to be renamed over `target` after the folder's swap."""
        self.written_beside[target] = _temporary_file(target, chunks)

    def part(self) -> StagedOutputs:
        """Another writer into the same folder (for a worker), to `merge` into this one later."""
        return StagedOutputs(self.folder)

    def merge(self, written: StagedOutputs) -> None:
        """Count the files another writer put into this folder (each path once, so checked)."""
        self.paths += written.paths
        self.bytes += written.bytes

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict[str, Any]:  # sent back from a worker: no folder cache
        return {"folder": self.folder, "paths": self.paths, "bytes": self.bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.folder, self.paths, self.bytes = state["folder"], state["paths"], state["bytes"]
        self._root, self._made, self.beside, self.written_beside = os.fspath(self.folder), {""}, {}, {}


@contextmanager
def staged(out_dir: Path) -> Iterator[StagedOutputs]:
    """A `StagedOutputs` for `out_dir`, swapped into place when the block ends well and
    removed, leaving `out_dir` as it was, when it raises; then each file the block put in
    its `beside` (the notifier's snapshot, outside the published folder) is put into place.

    The files beside are written under temporary names before the swap, so a failure
    anywhere before it leaves both the folder and them as they were; after the swap only
    renames are left. They come after the folder on purpose: if the process dies between
    the two, the notifier reads the previous snapshot and announces nothing new (the next
    build catches up), where the other order could email links to pages never published.
    """
    out_dir = out_dir.resolve()
    missing = [folder for folder in (out_dir, *out_dir.parents) if not folder.exists()][1:]
    try:
        staging = _staging_folder(out_dir)
    except OSError as error:  # before any work: the folder beside it cannot be written
        for folder in missing:
            _remove_empty(folder)
        raise write_failed(error, out_dir, None) from None
    pending: list[tuple[str, Path]] = []
    outputs = StagedOutputs(staging)
    try:
        yield outputs
        pending += [(temporary, target) for target, temporary in outputs.written_beside.items()]
        outputs.written_beside = {}
        for target, content in outputs.beside.items():
            pending.append((_temporary_file(target, content), target))
        _swap(staging, out_dir)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        for temporary in [*(temporary for temporary, _ in pending), *outputs.written_beside.values()]:
            Path(temporary).unlink(missing_ok=True)
        for folder in missing:  # the folders made for it, deepest first: a failed build makes nothing
            _remove_empty(folder)
        if isinstance(error, OSError):  # a full disk, a folder that cannot be written: said in one line
            raise write_failed(error, out_dir, staging) from None
        raise
    try:
        for temporary, target in pending:
            os.replace(temporary, target)
    except OSError as error:
        raise BuildError(f"the site was published in {out_dir}, but {target} could not be put in place "
                         f"({_cause(error)}); build again once it can be written") from None
    log.debug("wrote %d files to %s and %d beside it", len(outputs), out_dir, len(pending))


def write_failed(error: OSError, out_dir: Path, staging: Path | None) -> BuildError:
    """A failed write as one line naming the folder to fix (not the temporary one the
    build was writing, which is gone) and the system's reason: a full disk, a folder this
    user cannot write, a file size limit. Raised after the clean-up, so it can say that
    nothing changed (the forked workers' errors come here too, with their file names)."""
    where = out_dir
    if error.filename is not None:
        path = Path(os.fsdecode(error.filename))
        if staging is None or (path.parent == out_dir.parent and path.name.startswith(f".{out_dir.name}.")
                               and not path.is_relative_to(staging)):
            where = out_dir.parent  # the temporary folders beside the output folder
        elif path != out_dir and not path.is_relative_to(staging):
            where = path.parent  # a file beside the site (the notifier's snapshot)
    return BuildError(f"cannot write into {where}: {_cause(error)}; nothing was changed "
                      f"({out_dir} is as it was)")


def _cause(error: OSError) -> str:
    return error.strerror or str(error)


class WrittenSite(Mapping[str, bytes]):
    """What a streamed build wrote, by path, read back from the output folder on demand."""

    def __init__(self, out_dir: Path, paths: Iterable[str], snapshot: bytes | None = None,
                 snapshot_path: Path | None = None) -> None:
        self.out_dir = out_dir
        self._paths = frozenset(paths)
        self._snapshot, self._snapshot_path = snapshot, snapshot_path

    @property
    def snapshot(self) -> bytes | None:
        """The notifier's snapshot the build wrote beside the folder (see `Outputs`), read
        back from its file when it went straight there."""
        if self._snapshot is None and self._snapshot_path is not None:
            return self._snapshot_path.read_bytes()
        return self._snapshot

    def __getitem__(self, path: str) -> bytes:
        if path not in self._paths:
            raise KeyError(path)
        return (self.out_dir / path).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._paths))

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._paths


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (someone else wrote there meanwhile): leave it
        pass


def _staging_folder(out_dir: Path) -> Path:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a web server must read it
    return staging


def write_site(outputs: Mapping[str, bytes], out_dir: Path, beside: Mapping[Path, bytes] | None = None) -> None:
    """Write outputs held in memory into `out_dir`, all of them or (on an error) none, and
    then the files `beside` it (see `staged`)."""
    with staged(out_dir) as staging:
        staging.beside.update(beside or {})
        _write_files(staging, outputs)


def _write_files(staging: StagedOutputs, outputs: Mapping[str, bytes]) -> None:
    """Write every file, one after the other with plain `os` calls: the system calls take
    a tenth of a millisecond per file, and a thread pool's bookkeeping (or pathlib's) took
    ten times that (`bench/build_bench.py`: 25,000 files, 3.7 s with 8 threads, ~0.5 s)."""
    for path in sorted(outputs):
        staging.add(path, outputs[path])


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
        try:
            os.rename(out_dir, old / "site")
        except OSError:  # moving a folder needs the right to write it: still in place, as it was
            old.rmdir()
            raise
    try:
        os.rename(staging, out_dir)
    except OSError:
        if old is not None:  # put the previous site back before saying why
            os.rename(old / "site", out_dir)
            old.rmdir()
        raise
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
    # Most files are the very bytes of the last build (taken from the memo): compared by
    # identity first, by value only when they are not.
    maybe = [path for path, content in outputs.items() if previous.get(path) is not content]
    changed = [path for path in maybe if previous.get(path) != outputs[path]]
    if len(changed) > SWAP_SHARE * len(outputs):
        write_site(outputs, out_dir)
        return None
    gone = previous.keys() - outputs.keys()
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


def _temporary_file(target: Path, content: bytes | Iterable[bytes]) -> str:
    """`content` (bytes, or pieces of them written one after the other) in a new file
    under a temporary name in `target`'s folder (made if missing), ready to be renamed
    over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if isinstance(content, bytes):
                handle.write(content)
            else:
                handle.writelines(content)
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
