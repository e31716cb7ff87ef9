"""Injected faults, real ones: nothing lost, nothing twice, and a line that says why.

A build whose disk fills up (a tmpfs of our own, shrunk under the next build) or whose
folders cannot be written (the build run as root without the capabilities that let root
ignore file modes: `setpriv --bounding-set`) leaves the previous site byte for byte and
names the folder and the cause. A notifier store that is locked by another process, read
only, corrupt or another program's database stops `statusgen notify` before anything is
sent, naming the store and the setting that chose it; a store locked in the middle of a
send stops the run, and the next run sends the rest: each message exactly once, what may
have arrived reported as uncertain (DESIGN.md, Notifier 5). The same for the subscription
store the audience is read from.

These tests need root (CI runs as root), as the build's tests of real faults must: they
fail, saying what is missing, where it is not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_NOW, ROOT
from tests.golden import read_tree

NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable"]
"""Run a command as root without the capabilities that let root write where file modes say
no: the folders a test makes read-only are then read-only to it, as to any other user
(an unprivileged user could not run this checkout's Python, which lives under /root)."""


def statusgen(*args: str | Path, as_ordinary_user: bool = False, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    """`statusgen ARGS` in a process of its own, with this checkout's package."""
    command = [sys.executable, "-m", "statusgen", *map(str, args)]
    environment = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([*NO_OVERRIDE, *command] if as_ordinary_user else command, env=environment,
                          capture_output=True, text=True, timeout=300, check=False)


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What the command said went wrong (its warnings about the example site left out)."""
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("statusgen:")]


@pytest.fixture(scope="module")
def modes_hold() -> None:
    """The precondition of every read-only folder below: root without its capabilities
    cannot write into a folder of mode 0555. Fails (never skips) where it does not hold."""
    probe = Path(f"/tmp/statusgen-modes-{os.getpid()}")
    probe.mkdir(mode=0o555)
    try:
        result = subprocess.run([*NO_OVERRIDE, sys.executable, "-c", f"open({str(probe / 'x')!r}, 'w')"],
                                capture_output=True, text=True, timeout=60, check=False)
    finally:
        probe.chmod(0o755)
        (probe / "x").unlink(missing_ok=True)
        probe.rmdir()
    assert "PermissionError" in result.stderr, (
        "these tests run commands as root without CAP_DAC_OVERRIDE (`setpriv --bounding-set`, util-linux): run "
        f"them as root with CAP_SETPCAP, as CI does; the probe said: {result.stderr or result.stdout}")


@contextmanager
def read_only(*folders: Path) -> Iterator[None]:
    for folder in folders:
        folder.chmod(0o555)
    try:
        yield
    finally:
        for folder in folders:
            folder.chmod(0o755)


@contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    """A tmpfs of our own at `folder` (a disk that can really fill up), unmounted after."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "statusgen-test", str(folder)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert mounted.returncode == 0, ("this test fills a disk of its own, a tmpfs: mounting one needs root with "
                                     f"CAP_SYS_ADMIN, as CI has: {mounted.stderr}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True, timeout=60)


def used_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


def resize(disk: Path, size: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size // 1024}k", str(disk)], check=True, timeout=60)


# ── the build ────────────────────────────────────────────────────────────────────────


def test_a_disk_that_fills_up_halfway_leaves_the_previous_site_and_says_why(tmp_path: Path) -> None:
    """The example site (about 2 MB) is built onto a disk of its own; the disk is then
    shrunk to what that takes plus half of it, so the next build writes about half its
    files (the workers' pages, the API, the feeds) before the disk is full: it says so in one line,
    exit 1, and the disk holds the previous site and nothing else, byte for byte."""
    snapshot = tmp_path / "snapshot.json"
    with small_disk(tmp_path / "disk") as disk:
        out = disk / "public"
        first = statusgen("build", "--site", ROOT, "--out", out, "--now", EXAMPLE_NOW, "--snapshot", snapshot)
        assert first.returncode == 0, first.stderr
        before, snapshot_before, used = read_tree(out), snapshot.read_bytes(), used_bytes(disk)
        assert used > 1024 * 1024
        resize(disk, used + used // 2)

        failed = statusgen("build", "--site", ROOT, "--out", out, "--now", "2026-11-30T13:00:00+01:00",
                           "--snapshot", snapshot)

        assert failed.returncode == 1
        assert errors(failed) == [f"statusgen: cannot write into {out}: No space left on device; nothing was changed "
                                  f"({out} is as it was)"]
        assert read_tree(out) == before and snapshot.read_bytes() == snapshot_before
        assert sorted(os.listdir(disk)) == ["public"] and used_bytes(disk) == used  # no temporary folder left
        assert sorted(os.listdir(tmp_path)) == ["disk", "snapshot.json"]


def test_an_output_folder_that_cannot_be_written_stops_the_build_before_it_renders(tmp_path: Path,
                                                                                  modes_hold: None) -> None:
    """The folder the output folder sits in is read-only: the build cannot make its
    temporary folder there, and says so before rendering anything."""
    out, snapshot = tmp_path / "site" / "public", tmp_path / "snapshot.json"
    assert statusgen("build", "--site", ROOT, "--out", out, "--now", EXAMPLE_NOW, "--snapshot", snapshot).returncode == 0
    before = read_tree(out)
    with read_only(out.parent):
        failed = statusgen("build", "--site", ROOT, "--out", out, "--now", EXAMPLE_NOW, "--snapshot", snapshot, "-v",
                           as_ordinary_user=True)
    assert failed.returncode == 1
    assert errors(failed) == [f"statusgen: cannot write into {out.parent}: Permission denied; nothing was changed "
                              f"({out} is as it was)"]
    assert "render" not in failed.stderr  # -v names each stage it ran: none was
    assert read_tree(out) == before and os.listdir(out.parent) == ["public"]


@pytest.mark.parametrize("locked", ["snapshot folder", "output folder"])
def test_a_folder_found_unwritable_halfway_leaves_everything_as_it_was(tmp_path: Path, modes_hold: None,
                                                                       locked: str) -> None:
    """The notifier's snapshot folder is read-only: the build finds out when it writes the
    snapshot, after the pages, the API and the feeds were written. The output folder itself
    is read-only: moving it aside (the swap) needs the right to write it, which the build
    finds out last of all. Either way one line names the folder, and the previous site, its
    snapshot and the folders around them are as they were."""
    out, snapshot = tmp_path / "site" / "public", tmp_path / "internal" / "snapshot.json"
    first = statusgen("build", "--site", ROOT, "--out", out, "--now", EXAMPLE_NOW, "--snapshot", snapshot)
    assert first.returncode == 0, first.stderr
    before, snapshot_before = read_tree(out), snapshot.read_bytes()
    folder = snapshot.parent if locked == "snapshot folder" else out
    with read_only(folder):
        failed = statusgen("build", "--site", ROOT, "--out", out, "--now", "2026-11-30T13:00:00+01:00",
                           "--snapshot", snapshot, as_ordinary_user=True)
    assert failed.returncode == 1
    assert errors(failed) == [f"statusgen: cannot write into {folder}: Permission denied; nothing was changed "
                              f"({out} is as it was)"]
    assert read_tree(out) == before and snapshot.read_bytes() == snapshot_before
    assert os.listdir(out.parent) == ["public"] and os.listdir(snapshot.parent) == ["snapshot.json"]
