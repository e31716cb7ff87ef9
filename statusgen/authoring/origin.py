"""Where the running statusgen came from, and the requirement that installs it again.

`statusgen init` writes that requirement into a new site's `requirements.txt`, so the site's
CI installs the statusgen that created the site, and one that exists:

    installed from a package index (no PEP 610 direct_url.json)    statusgen==X.Y.Z
    installed from a URL of a release's archive                   statusgen==X.Y.Z
    installed from git (direct_url.json with vcs_info)            statusgen @ git+URL@COMMIT
    a git checkout (editable, installed from its folder, or on    statusgen @ git+REPOSITORY@HEAD
      the path): the commit it has checked out                      (with a comment)
    a local wheel or sdist, or a folder that is not a checkout    statusgen==X.Y.Z (with a comment)

`requirement` is pure (the install's metadata is passed in); `running_origin` reads it.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import statusgen
from statusgen import REPOSITORY, __version__


@dataclass(frozen=True)
class Origin:
    """The running statusgen's version and how it was installed."""

    version: str
    direct_url: Mapping[str, Any] | None
    """PEP 610 `direct_url.json`; None for an install from a package index."""
    commit: str | None = None
    """The checked-out commit, when `direct_url` names a local folder that is a git checkout."""


def requirement(origin: Origin, repository: str = REPOSITORY) -> list[str]:
    """The lines of `requirements.txt` that install `origin` again: comments, then the requirement."""
    released = f"statusgen=={origin.version}"
    if origin.direct_url is None:
        return [released]
    url = str(origin.direct_url.get("url", ""))
    vcs = origin.direct_url.get("vcs_info")
    if vcs:
        subdirectory = origin.direct_url.get("subdirectory")
        return [f"statusgen @ {vcs['vcs']}+{url}@{vcs['commit_id']}"
                + (f"#subdirectory={subdirectory}" if subdirectory else "")]
    if urlparse(url).scheme != "file":
        return [released]
    if "dir_info" in origin.direct_url and origin.commit:
        return ["# statusgen ran from a git checkout, not a release: this is the commit it had checked",
                "# out. Push it to this repository (or name your fork here) before CI runs; changes",
                "# not committed in the checkout are not in it.",
                f"statusgen @ git+{repository}@{origin.commit}"]
    return [f"# statusgen ran from {url}, not from a package index: the line below",
            f"# installs once {origin.version} is published; until then, name a commit of the git",
            f"# repository instead: statusgen @ git+{repository}@COMMIT",
            released]


def running_origin() -> Origin:
    """Where the statusgen that runs this code was installed from."""
    package = Path(statusgen.__file__).resolve().parent
    direct_url = _installed_direct_url(package)
    folder = _local_folder(direct_url) if direct_url else None
    return Origin(__version__, direct_url, _git_head(folder) if folder else None)


def _installed_direct_url(package: Path) -> dict[str, Any] | None:
    """The installed distribution's direct_url.json (None: from an index); a folder's own
    description when the code runs from a folder no installed distribution describes (it is
    on the path, or another copy is installed)."""
    on_the_path = {"url": package.parent.as_uri(), "dir_info": {}}
    try:
        distribution = importlib.metadata.distribution("statusgen")
    except importlib.metadata.PackageNotFoundError:
        return on_the_path
    text = distribution.read_text("direct_url.json")
    direct_url = json.loads(text) if text else None
    if Path(str(distribution.locate_file("statusgen/__init__.py"))).resolve() == package / "__init__.py":
        return direct_url
    editable = direct_url and direct_url.get("dir_info", {}).get("editable")
    if editable and _local_folder(direct_url) == package.parent:
        return direct_url
    return on_the_path


def _local_folder(direct_url: Mapping[str, Any]) -> Path | None:
    """The folder a `file:` URL with dir_info names (None for archives and remote URLs)."""
    parsed = urlparse(str(direct_url.get("url", "")))
    if parsed.scheme != "file" or "dir_info" not in direct_url:
        return None
    return Path(url2pathname(parsed.path)).resolve()


def _git_head(folder: Path) -> str | None:
    """The commit checked out in `folder` when it is the top of a git work tree."""
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel", "HEAD"],
                              capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != folder:
        return None
    return lines[1]
