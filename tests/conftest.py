"""Shared fixtures: a `make_site` factory for small sites, and the example site built once."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statusgen.site.build import BuildResult, build
from statusgen.cli import main
from tests.pgserver import Server, running_server

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_NOW = "2026-11-30T12:00:00+01:00"

SITE_YAML = """\
title: {en: Example status, nl: Voorbeeldstatus}
base_url: https://status.example.org/
languages: [en, nl]
timezone: Europe/Brussels
"""

COMPONENTS_YAML = """\
- id: eu-dcc
  name: {en: EU Digital COVID Certificates, nl: EU Digitale COVID-certificaten}
  components:
    - id: dcc-certificates
      name: {en: Certificates (PDF), nl: Certificaten (PDF)}
    - id: dcc-app
      name: {en: Mobile app, nl: Mobiele app}
- id: lookup-portal
  name: Lookup portal
"""

MakeSite = Callable[..., Path]


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    """Write a small site: `make_site({"incidents/x.md": "..."})`; texts are dedented.

    `content/site.yaml` and `components.yaml` get defaults unless given; a value of
    None leaves a file out, bytes are written as they are.
    """

    def make(files: dict[str, str | bytes | None] | None = None, name: str = "site") -> Path:
        root = tmp_path / name
        wanted: dict[str, str | bytes | None] = {
            "content/site.yaml": SITE_YAML,
            "components.yaml": COMPONENTS_YAML,
            **(files or {}),
        }
        for path, content in wanted.items():
            if content is None:
                continue
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(textwrap.dedent(content), encoding="utf-8")
        (root / "incidents").mkdir(exist_ok=True)
        return root

    return make


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run `statusgen ARGS` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str | Path) -> tuple[int, str, str]:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:  # argparse usage errors
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The example site in the repository root, built once at a fixed time (its snapshot
    beside the output, not in the checkout's `.statusgen/`)."""
    folder = tmp_path_factory.mktemp("example")
    return build(ROOT, folder / "public", EXAMPLE_NOW, folder / "snapshot.json")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """A PostgreSQL server of our own for the whole run (tests/pgserver.py), never one that
    happens to be running; without Debian's postgresql package this fails, saying so."""
    with running_server() as server:
        yield server


@pytest.fixture
def database_url(postgres: Server) -> str:
    """A new, empty database on that server for one test."""
    return postgres.create_database(f"test_{uuid.uuid4().hex[:16]}")
