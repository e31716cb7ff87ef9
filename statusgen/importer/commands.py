"""`statusgen import statuspage|cstate`.

STUB (contract): the mapping engineer replaces this file.
"""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Adds `import statuspage SOURCE` and `import cstate FOLDER`."""
