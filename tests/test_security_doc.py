"""SECURITY.md names the test that proves each mitigation: every test it names exists, so
the threat model cannot point at a test that was renamed or removed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMED = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def named_tests(text: str) -> list[tuple[str, str | None]]:
    """(file, test or None) for each `tests/FILE.py`, `tests/FILE.py::test` and `::test`
    in `text`; a bare `::test` belongs to the file named last before it on its line."""
    found = []
    for line in text.splitlines():
        current = None
        for match in NAMED.finditer(line):
            file, test = match.groups()
            if file is None and test is None:
                continue
            current = file or current
            assert current is not None, f"SECURITY.md: `::{test}` has no file before it on its line: {line[:80]}"
            found.append((current, test))
    return found


def missing_tests(named: list[tuple[str, str | None]]) -> list[str]:
    """The files and tests in `named` that are not in the repository."""
    missing = []
    for file, test in named:
        path = ROOT / file
        if not path.is_file():
            missing.append(file)
            continue
        if test is not None:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
            if test not in functions:
                missing.append(f"{file}::{test}")
    return missing


def test_every_test_security_md_names_exists() -> None:
    named = named_tests((ROOT / "SECURITY.md").read_text(encoding="utf-8"))
    assert len(named) >= 40, "SECURITY.md should name the tests behind its mitigations"
    assert missing_tests(named) == []


def test_the_check_finds_a_test_that_is_not_there() -> None:
    line = "| x | y | `tests/test_tokens.py::test_round_trip_gives_the_lowercase_address`, `::no_such_test` |"
    assert named_tests(line) == [("tests/test_tokens.py", "test_round_trip_gives_the_lowercase_address"),
                                 ("tests/test_tokens.py", "no_such_test")]
    assert missing_tests(named_tests(line)) == ["tests/test_tokens.py::no_such_test"]
    assert missing_tests([("tests/test_nothing.py", None)]) == ["tests/test_nothing.py"]
