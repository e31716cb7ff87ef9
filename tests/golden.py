"""The golden copy of the example site's output.

Regenerate after an intended change of the output, then read the diff in git:

    python tests/golden.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "example"
NOW = "2026-11-30T12:00:00+01:00"


def read_tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def regenerate() -> None:
    sys.path.insert(0, str(ROOT))
    from statusgen.site.build import build

    shutil.rmtree(GOLDEN, ignore_errors=True)
    with tempfile.TemporaryDirectory() as folder:  # the notifier's snapshot is not published: not golden
        result = build(ROOT, GOLDEN, NOW, Path(folder) / "snapshot.json")
    print(f"wrote {len(result.outputs)} files to {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    regenerate()
