"""The package's layers and the absence of import cycles, as `pyproject.toml`'s
import-linter contracts state them (ARCHITECTURE.md draws the same picture)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
        "--no-cache"]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the `statusgen` package found in `root`, with `root`'s contracts."""
    return subprocess.run(LINT, cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False, timeout=120)


def test_the_package_keeps_its_layers_and_has_no_cycles() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "statusgen", tmp_path / "statusgen", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    root = copy_of_the_package(tmp_path)
    model = root / "statusgen" / "content" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\nfrom statusgen.site import state  # upward\n",
                     encoding="utf-8")
    done = lint_imports(root)
    assert done.returncode == 1
    assert "statusgen.content is not allowed to import statusgen.site" in done.stdout
    assert "statusgen.content.model -> statusgen.site.state" in done.stdout


def test_a_cycle_inside_a_layer_breaks_the_contracts(tmp_path: Path) -> None:
    root = copy_of_the_package(tmp_path)
    urls = root / "statusgen" / "site" / "urls.py"
    urls.write_text(urls.read_text(encoding="utf-8") + "\nfrom statusgen.site import feeds  # feeds imports urls\n",
                    encoding="utf-8")
    done = lint_imports(root)
    assert done.returncode == 1
    assert "No cycles are allowed in statusgen.site." in done.stdout
