"""statusgen: a status site, feeds and email notifications from files in git."""

__version__ = "0.1.0"
"""The one place the version is written: the package metadata, `--version`, `init`'s
requirement and the release tag (vX.Y.Z) all follow it."""

REPOSITORY = "https://github.com/statusgen/statusgen"
"""The canonical repository (also `[project.urls]` in pyproject.toml): where `init` points a
site that was created by a statusgen running from a git checkout."""
