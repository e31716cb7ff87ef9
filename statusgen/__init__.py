"""statusgen: a status site, feeds and email notifications from files in git.

Everything the command line does is callable from Python; these are the entry points
(ARCHITECTURE.md maps the rest):

    import statusgen

    site, subscribers = statusgen.load_site(Path("status"))  # the validated model; ContentErrors lists every problem
    statusgen.check(Path("status"))                          # the same, for CI: raises or returns the Site
    result = statusgen.build(Path("status"), now="2026-11-30T12:00:00+01:00")  # -> BuildResult
    report = statusgen.notify(Path("status"), transport="smtp")                # -> NotifyReport

Errors are `statusgen.StatusgenError` and its subclasses (`ContentErrors` with `.errors`,
each `PATH:LINE: message`; `SetupError` with `.problems`, each naming a setting to change).
The functions are imported on first use, so `import statusgen` stays cheap.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
"""The one place the version is written: the package metadata, `--version`, `init`'s
requirement and the release tag (vX.Y.Z) all follow it."""

REPOSITORY = "https://github.com/statusgen/statusgen"
"""The canonical repository (also `[project.urls]` in pyproject.toml): where `init` points a
site that was created by a statusgen running from a git checkout."""

if TYPE_CHECKING:
    from statusgen.notifier.run import NotifyReport

_EXPORTS = {
    "load_site": "statusgen.content.load",
    "check": "statusgen.site.build",
    "build": "statusgen.site.build",
    "BuildResult": "statusgen.site.build",
    "StatusgenError": "statusgen.errors",
    "ContentError": "statusgen.errors",
    "ContentErrors": "statusgen.errors",
    "SetupError": "statusgen.errors",
    "DeliveryError": "statusgen.errors",
}
"""Names importable from the package root, and the module each one lives in."""

__all__ = ["REPOSITORY", "__version__", "notify", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'statusgen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


def notify(site_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None, now: str | None = None,
           **options: Any) -> NotifyReport:
    """Tell the subscribers of the built site what changed since the last run, exactly once:
    `statusgen notify`. What the build saw is read from its snapshot (`snapshot_path`, default
    `SITE/.statusgen/snapshot.json`, where `build` writes it); `out_dir` is the published
    folder (default `SITE/public`), which the store must not be in.

    Subscribers are those in subscribers.yaml plus the subscription service's confirmed
    ones, minus everyone who unsubscribed (the PostgreSQL database of `STATUSGEN_DATABASE_URL`
    or of a URL given as `store_path`, else the file that `STATUSGEN_SUBSCRIPTIONS_DB` or the
    site's `.statusgen/` holds). `options` are those of `statusgen.notifier.run.notify`:
    `transport` ("outbox", "smtp" or a Transport), `store`/`store_path`, `snapshot_path`, `dry_run`, `env`,
    `stream`, `connections`, `baseline`, `since`, and `audience` to choose the subscribers
    yourself."""
    from pathlib import Path

    from statusgen.notifier.run import notify as run
    from statusgen.subscriptions.merge import store_audience

    site = Path(site_dir).resolve()
    if "audience" not in options:
        env = options.get("env")
        options["audience"] = store_audience(site, os.environ if env is None else env, options.get("store_path"))
    return run(site, None if out_dir is None else Path(out_dir), now, **options)
