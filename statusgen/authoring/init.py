"""`statusgen init`: scaffold a new site that checks and builds at once.

    site_templates/scaffold ──fill $values in *.tmpl──▶ a temporary folder ──load_site──▶ DIR
                              (requirements.txt: the running statusgen, from origin.py)

Loading the staged site first means options that make an invalid site (an unknown
language or timezone) leave DIR untouched.
"""

from __future__ import annotations

import shutil
import string
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from statusgen.authoring.origin import Origin, requirement, running_origin
from statusgen.authoring.yamltext import dumped
from statusgen.content.load import load_site
from statusgen.errors import ContentErrors, UsageError
from statusgen.site.theme import packaged_theme

SCAFFOLD = "scaffold"
TEMPLATE_SUFFIX = ".tmpl"


def scaffold_dir() -> Path:
    """The files `init` copies: beside the theme, in the wheel as in a checkout."""
    return packaged_theme() / SCAFFOLD


def init_site(target: Path, languages: Sequence[str] = ("en",), timezone: str = "UTC",
              title: str = "Service status", force: bool = False, today: date | None = None,
              origin: Origin | None = None) -> list[str]:
    """Scaffold a site that builds at once into `target`; return the files written.

    Everything is written and loaded in a temporary folder first, so options that make an
    invalid site (an unknown language or timezone) leave `target` untouched. Its
    `requirements.txt` installs the statusgen that runs (or `origin`).
    """
    _check_target(target, force)
    day = (today or datetime.now(UTC).astimezone(_zone(timezone)).date()) - timedelta(days=1)
    values = {"title": dumped(title), "languages": f"[{', '.join(languages)}]",
              "timezone": dumped(timezone), "day": day.isoformat(),
              "requirement": "\n".join(requirement(origin or running_origin()))}
    with tempfile.TemporaryDirectory(prefix="statusgen-init-") as temp:
        staged = Path(temp)
        files = _stage(scaffold_dir(), staged, values)
        try:
            load_site(staged)
        except ContentErrors as errors:
            raise UsageError("these options make a site that does not load:\n" + str(errors)) from None
        for name in files:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staged / name, target / name)
    return files


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, LookupError):
        from statusgen.content.config import zone_hint

        raise UsageError(f"--timezone: expected an IANA timezone such as 'Europe/Brussels'; "
                         f"found {name!r}{zone_hint(name)}") from None


def _check_target(target: Path, force: bool) -> None:
    """An empty folder (or one holding only `.git`), unless --force."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file; expected a folder for the new site")
    present = sorted(p.name for p in target.iterdir() if p.name != ".git") if target.is_dir() else []
    if present and not force:
        shown = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
        raise UsageError(f"{target} is not empty ({shown}); choose an empty folder, or add --force "
                         "to write the new site's files into it (files with the same names are replaced)")


def _stage(source: Path, staged: Path, values: dict[str, str]) -> list[str]:
    """Copy the scaffold, filling `$name` in the `.tmpl` files (and dropping that suffix)."""
    written = []
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        name = file.relative_to(source).as_posix()
        if name.endswith(TEMPLATE_SUFFIX):
            name = name.removesuffix(TEMPLATE_SUFFIX)
            content = string.Template(file.read_text(encoding="utf-8")).substitute(values)
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            (staged / name).write_text(content, encoding="utf-8", newline="\n")
        else:
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, staged / name)
        written.append(name)
    return written
