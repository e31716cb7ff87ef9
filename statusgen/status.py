"""`statusgen status [--json]`: what the site says right now, at the terminal.

STUB (contract): the status engineer replaces this file.
"""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Adds `status`."""
