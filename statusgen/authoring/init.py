"""`statusgen init`: scaffold a new site that checks and builds at once.

    site_templates/scaffold ──fill $values in *.tmpl──▶ a temporary folder ──load_site──▶ DIR
                              (requirements.txt: the running statusgen, from origin.py)

Loading the staged site first means options that make an invalid site (an unknown
language or timezone) leave DIR untouched.

The scaffold speaks every language the theme ships (nl, en, fr, de): a `${text:NAME}` line
in a `.tmpl` file becomes NAME's text from `site_templates/scaffold-texts.yaml` as a mapping
of the chosen languages, and a page `NAME.LANG.md` is copied for each chosen language. A
chosen language the theme does not ship gets no text, so `statusgen check` lists what to
translate (`untranslated_languages` says so at once); when no chosen language is shipped,
the English texts are written for all languages (plain strings, `NAME.md`).
"""

from __future__ import annotations

import functools
import re
import shutil
import string
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from statusgen.authoring.origin import Origin, requirement, running_origin
from statusgen.authoring.yamltext import dumped
from statusgen.content.yamlsource import parse_document
from statusgen.content.load import load_site
from statusgen.errors import ContentErrors, UsageError
from statusgen.site.theme import packaged_theme

SCAFFOLD = "scaffold"
TEXTS = "scaffold-texts.yaml"
TEMPLATE_SUFFIX = ".tmpl"
SHIPPED = ("nl", "en", "fr", "de")
"""The languages the theme and the scaffold are written in (tests/test_i18n.py holds them to it)."""
FALLBACK = "en"
"""The scaffold's language for a site none of whose languages it speaks."""
TEXT_LINE = re.compile(r"^(?P<lead>[ -]*)(?P<key>[a-z_]+): \$\{text:(?P<name>[a-z_]+)\}(?P<rest>.*)$", re.M)
PAGE_FILE = re.compile(r"(?P<name>[a-z0-9-]+)\.(?P<lang>[a-z]{2,3})\.md\Z")


def scaffold_dir() -> Path:
    """The files `init` copies: beside the theme, in the wheel as in a checkout."""
    return packaged_theme() / SCAFFOLD


def init_site(target: Path, languages: Sequence[str] = ("en",), timezone: str = "UTC",
              title: str | None = None, force: bool = False, today: date | None = None,
              origin: Origin | None = None) -> list[str]:
    """Scaffold a site that builds at once into `target`; return the files written.

    Everything is written and loaded in a temporary folder first, so options that make an
    invalid site (an unknown language or timezone) leave `target` untouched. Its
    `requirements.txt` installs the statusgen that runs (or `origin`). Without `title`
    the site's title is the scaffold's, in each chosen language; with it, that one text.
    """
    _check_target(target, force)
    day = (today or datetime.now(UTC).astimezone(_zone(timezone)).date()) - timedelta(days=1)
    values = {"languages": f"[{', '.join(languages)}]",
              "timezone": dumped(timezone), "day": day.isoformat(),
              "requirement": "\n".join(requirement(origin or running_origin()))}
    written = [lang for lang in languages if lang in SHIPPED] or None  # None: English, for all
    texts = {**scaffold_texts(), **({"title": {FALLBACK: title}} if title is not None else {})}
    fill = functools.partial(_texts, texts=texts, languages=written, plain={"title"} if title is not None else set())
    with tempfile.TemporaryDirectory(prefix="statusgen-init-") as temp:
        staged = Path(temp)
        files = _stage(scaffold_dir(), staged, values, fill, written)
        try:
            load_site(staged)
        except ContentErrors as errors:
            raise UsageError("these options make a site that does not load:\n" + str(errors)) from None
        for name in files:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staged / name, target / name)
    return files


def untranslated_languages(languages: Sequence[str]) -> list[str]:
    """The chosen languages the scaffold (and the theme) has no texts in."""
    return [lang for lang in languages if lang not in SHIPPED]


def scaffold_texts() -> dict[str, dict[str, str]]:
    """NAME -> {language: text}: what `${text:NAME}` in the scaffold becomes."""
    file = packaged_theme() / TEXTS
    return parse_document(TEXTS, file.read_bytes()).data  # type: ignore[no-any-return]


def _texts(template: str, texts: dict[str, dict[str, str]], languages: list[str] | None,
           plain: set[str]) -> str:
    """Each `KEY: ${text:NAME}` line as KEY: a mapping of `languages` (None, or NAME in
    `plain`: the one text, English, as a plain string for every language)."""
    def line(match: re.Match[str]) -> str:
        lead, key, name, rest = match["lead"], match["key"], match["name"], match["rest"]
        values = texts[name]
        if languages is None or name in plain:
            return f"{lead}{key}: {_literal(values[FALLBACK])}{rest}"
        indent = " " * (len(lead) + 2)
        return "\n".join([f"{lead}{key}:{rest}",
                          *(f"{indent}{lang}: {_literal(values[lang])}" for lang in languages)])
    return TEXT_LINE.sub(line, template)


def _literal(text: str) -> str:
    """A text as YAML, with `$` kept from string.Template's `$name`s."""
    return dumped(text).replace("$", "$$")


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


def _stage(source: Path, staged: Path, values: dict[str, str], fill: Callable[[str], str],
           languages: list[str] | None) -> list[str]:
    """Copy the scaffold, filling `${text:NAME}` lines (`fill`) and `$name` in the `.tmpl`
    files (and dropping that suffix); pages only in `languages` (None: English as NAME.md)."""
    written = []
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        name = file.relative_to(source).as_posix()
        page = PAGE_FILE.match(file.name)
        if page and page["lang"] not in (languages or [FALLBACK]):
            continue
        if page and languages is None:
            name = f"{name.rpartition('/')[0]}/{page['name']}.md"
        if name.endswith(TEMPLATE_SUFFIX):
            name = name.removesuffix(TEMPLATE_SUFFIX)
            content = string.Template(fill(file.read_text(encoding="utf-8"))).substitute(values)
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            (staged / name).write_text(content, encoding="utf-8", newline="\n")
        else:
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, staged / name)
        written.append(name)
    return written
