"""The exceptions statusgen raises, and the one place they are turned into exit codes.

    StatusgenError
    ├── ContentError(path, line, message)   one problem in a site file
    ├── ContentErrors(errors)               all content problems of a run, at once
    ├── UsageError                          a bad command line or option (exit 2)
    ├── SetupError(problems)                settings that stop a command before it does any work (exit 1)
    ├── BuildError                          the build itself failed (exit 1)
    └── DeliveryError                       messages failed for good or may not have arrived (exit 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class StatusgenError(Exception):
    """Base of every error statusgen reports to its user."""

    exit_code = 1


@dataclass(order=True, unsafe_hash=True)
class ContentError(StatusgenError):
    """A problem in one site file, printed as `PATH:LINE: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentErrors(StatusgenError):
    """Every content error found in one run, sorted by file and line."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(error) for error in self.errors))


class UsageError(StatusgenError):
    """The command line asked for something impossible."""

    exit_code = 2


class SetupError(StatusgenError):
    """The settings or the environment stop a command before it does any work: every
    problem found, one line each, naming the setting to change (`statusgen doctor`).
    Exit 1, as for content errors: something in the site or its settings to fix."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class BuildError(StatusgenError):
    """The site could not be written."""


class DeliveryError(StatusgenError):
    """Some notifications failed for good, or may not have been delivered."""


class Problems:
    """Collects content errors so that a run reports all of them, not only the first."""

    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def add(self, path: str, line: int, message: str) -> None:
        self.errors.append(ContentError(path, line, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ContentErrors(self.errors)
