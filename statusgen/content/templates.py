"""`content/templates/NAME.yaml`: incident and maintenance templates, for a first message in seconds.

    content/templates/NAME.yaml ──load_template──▶ Template (checked as an incident file is,
        and its {placeholders}) ──fill(text, values)──▶ the title and first update that
        `statusgen new incident|maintenance --template NAME --var KEY=VALUE` writes

A template (only title and body are required):

    description:                   # what it is for, shown by `new incident --list-templates`
      en: PDF certificates cannot be issued or downloaded (P1)
      nl: PDF-certificaten kunnen niet worden aangemaakt of gedownload (P1)
    type: incident                 # incident | maintenance
    title:                         # localised, like every text: one string, or one per language
      en: PDF certificates unavailable since {since}
      nl: PDF-certificaten niet beschikbaar sinds {since}
    body:                          # the first update's text (Markdown)
      en: Since {since} no PDF certificate can be issued. Next update at {next_update}.
      nl: Sinds {since} kan geen PDF-certificaat worden aangemaakt. Volgende update om {next_update}.
    impact: P1                     # incidents: P1..P4 or none|minor|major|critical; left out, statuses decide
    status: investigating          # the first update's status (default investigating; maintenance: scheduled)
    components:                    # id: status (a group id means all its components);
      dcc-certificates: major_outage   # a maintenance may list ids instead (under maintenance)
    notify: true                   # false: the first update is published but emails no one
    duration: 2h                   # maintenance only: `--start` alone then gives the window

`{name}` in title and body (a letter or '_', then letters, digits, '_', '-') is a placeholder,
filled in from `--var name=VALUE` (or `--var name.LANG=VALUE` for one language); `{{` and `}}`
are literal braces. Any other brace is an error, and every language of a template must use
the same placeholders (title and body together), so that no translation silently drops a fact.
Values are inserted as they are: a brace or a colon in a value stays what it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path, PurePosixPath

from statusgen.content.catalog import Catalog
from statusgen.content.fields import ID_PATTERN, Fields
from statusgen.content.incidents import read_components
from statusgen.content.model import (
    IMPACTS,
    INCIDENT_STATUSES,
    KINDS,
    MAINTENANCE_STATUSES,
    PRIORITIES,
    SiteConfig,
    Template,
    Text,
)
from statusgen.content.yamlsource import LocatedDict, read_document
from statusgen.errors import Problems
from statusgen.times import TimeError, parse_duration

log = logging.getLogger(__name__)

TEMPLATES_FOLDER = "content/templates"
TEMPLATE_SUFFIXES = (".yaml", ".yml")
TEMPLATE_KEYS = ("description", "type", "title", "body", "impact", "status", "components", "notify", "duration")
ONLY_FOR = {"impact": "incident", "duration": "maintenance"}
"""Keys of one type of template: a maintenance is shown as maintenance, an incident has no window."""
FIRST_STATUS = {"incident": "investigating", "maintenance": "scheduled"}
"""The first update's status when a template does not say."""
TEXT_KEYS = ("title", "body")
"""The texts that hold placeholders (a description is shown as it is)."""

PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_BRACES = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
"""Every brace in a text: an escaped brace, a `{...}` pair, or a brace on its own."""


# ── placeholders ───────────────────────────────────────────────────────────────────────


class PlaceholderError(ValueError):
    """A brace that is neither a placeholder nor an escaped brace; the message says which."""


def placeholders(text: str) -> tuple[str, ...]:
    """The placeholder names in `text`, in order of first use."""
    names: dict[str, None] = {}
    for match in _BRACES.finditer(text):
        token = match.group()
        if token in ("{{", "}}"):
            continue
        if token == "{":
            raise PlaceholderError(f"unclosed '{{' at {_excerpt(text, match.start())}; expected {{name}} "
                                   "for a placeholder, or {{ for a literal brace")
        if token == "}":
            raise PlaceholderError(f"single '}}' at {_excerpt(text, match.start())}; expected }}}} "
                                   "for a literal brace")
        if not PLACEHOLDER_NAME.match(match.group(1)):
            raise PlaceholderError(f"{token!r} is not a placeholder: expected a name of letters, digits, "
                                   "'_' and '-' such as {since}; write {{ and }} for literal braces")
        names.setdefault(match.group(1))
    return tuple(names)


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with every placeholder replaced by its value and `{{`/`}}` made single braces.

    One pass over the template's text: a value is inserted as it is, never read again, so
    braces in a value stay braces. `text` has been checked (`placeholders`); every
    placeholder in it must have a value.
    """
    def replace(match: re.Match[str]) -> str:
        token = match.group()
        return token[0] if token in ("{{", "}}") else values[match.group(1)]

    return _BRACES.sub(replace, text)


def escape(text: str) -> str:
    """Text as a template's text that `fill` gives back unchanged (no placeholders)."""
    return text.replace("{", "{{").replace("}", "}}")


def _excerpt(text: str, index: int) -> str:
    part = text[index:index + 24].split("\n", 1)[0]
    return repr(part + ("..." if len(part) < len(text) - index else ""))


# ── the files ──────────────────────────────────────────────────────────────────────────


def template_paths(site_dir: Path, problems: Problems) -> list[str]:
    """The template files in content/templates/, by name; anything else there is a problem
    (a `.yml.bak` or a sub-folder must not look like a template that silently does nothing)."""
    folder = site_dir / TEMPLATES_FOLDER
    if not folder.is_dir():
        return []
    found: dict[str, str] = {}
    for entry in sorted(folder.iterdir()):
        path = f"{TEMPLATES_FOLDER}/{entry.name}"
        if entry.name.startswith("."):
            continue  # .gitkeep and editors' files
        if entry.is_dir() or entry.suffix not in TEMPLATE_SUFFIXES:
            found_what = "a folder" if entry.is_dir() else repr(entry.name)
            problems.add(path, 1, f"expected template files named NAME.yaml in {TEMPLATES_FOLDER}/; "
                                  f"found {found_what}")
        elif entry.stem in found:
            problems.add(path, 1, f"duplicate template {entry.stem!r}: {found[entry.stem]} has the same name")
        else:
            found[entry.stem] = path
    return sorted(found.values(), key=lambda path: PurePosixPath(path).stem)


def template_names(site_dir: Path) -> list[str]:
    """The names of the templates there are (valid or not), for listing and did-you-mean."""
    return [PurePosixPath(path).stem for path in template_paths(site_dir, Problems())]


def load_templates(site_dir: Path, config: SiteConfig, catalog: Catalog, problems: Problems) -> tuple[Template, ...]:
    """Every template, checked; problems recorded, broken templates left out."""
    return tuple(template for path in template_paths(site_dir, problems)
                 if (template := load_template(site_dir, path, config, catalog, problems)))


def load_template(site_dir: Path, path: str, config: SiteConfig, catalog: Catalog,
                  problems: Problems) -> Template | None:
    """One template file; None (its problems recorded) when anything in it is wrong."""
    name = PurePosixPath(path).stem
    if not ID_PATTERN.match(name):
        problems.add(path, 1, "file name: expected lowercase letters, digits and '-' (the file name is the "
                              f"template's name in --template NAME); found {name!r}")
        return None
    document = read_document(site_dir, path, problems)
    if document is None:
        return None
    before = len(problems.errors)
    fields = Fields(path, document.data, problems, what="a template (a mapping with title and body)")
    if not fields.ok:
        return None
    template = _read(fields, name, config, catalog)
    return template if len(problems.errors) == before else None


def _read(fields: Fields, name: str, config: SiteConfig, catalog: Catalog) -> Template | None:
    kind = fields.choice("type", KINDS, default="incident") or "incident"
    maintenance = kind == "maintenance"
    fields.reject_unknown(TEMPLATE_KEYS)
    for key, only in ONLY_FOR.items():
        if only != kind and fields.has(key):
            fields.error(key, f"{key}: only a template of type {only} has one; found it on type {kind}")
    languages = config.languages
    title = fields.text("title", languages, required=True)
    body = fields.text("body", languages, required=True)
    statuses = MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES
    status = fields.choice("status", statuses, default=FIRST_STATUS[kind]) or FIRST_STATUS[kind]
    impact = None if maintenance else _impact(fields)
    components = read_components(fields, catalog, maintenance)
    notify = fields.boolean("notify", True)
    description = fields.text("description", languages)
    duration = _duration(fields) if maintenance else None
    if title is None or body is None:
        return None
    names = _placeholders(fields, {"title": title, "body": body}, languages)
    if names is None:
        return None
    return Template(name=name, path=fields.path, kind=kind, title=title, body=body, status=status,
                    impact=impact, components=components, notify=notify, description=description,
                    duration=duration, placeholders=names)


def _impact(fields: Fields) -> str | None:
    """The impact as it will be written: a priority stays a priority (`P1`), upper case."""
    if not fields.has("impact"):
        return None
    impact = fields.choice("impact", IMPACTS, aliases=PRIORITIES)
    written = str(fields.get("impact")).upper()
    return written if written in PRIORITIES else impact


def _duration(fields: Fields) -> timedelta | None:
    if not fields.has("duration"):
        return None
    try:
        return parse_duration(fields.get("duration"))
    except TimeError as error:
        fields.error("duration", f"duration: {error}")
        return None


def _placeholders(fields: Fields, texts: dict[str, Text], languages: tuple[str, ...]) -> tuple[str, ...] | None:
    """The placeholders of title and body, in order of first use; None when a text has a
    stray brace or the languages do not use the same placeholders (each recorded)."""
    used: dict[str, dict[str, None]] = {lang: {} for lang in languages}
    broken = False
    for key in TEXT_KEYS:
        for lang in languages:
            try:
                used[lang].update(dict.fromkeys(placeholders(texts[key][lang])))
            except PlaceholderError as error:
                broken = True
                if _written_for(fields, key, lang):
                    fields.problems.add(fields.path, _line(fields, key, lang), f"{_where(fields, key, lang)}: {error}")
    if broken:
        return None
    every = dict.fromkeys(name for lang in languages for name in used[lang])
    for lang in languages:
        for name in (name for name in every if name not in used[lang]):
            users = [other for other in languages if name in used[other]]
            key = next((key for key in ("body", "title") if _written_for(fields, key, lang)), "body")
            fields.problems.add(fields.path, _line(fields, key, lang),
                                f"{_where(fields, key, lang)}: missing {{{name}}}, which {', '.join(users)} "
                                "uses; expected the same placeholders in every language (title and body together)")
            broken = True
    return None if broken else tuple(every)


def _written_for(fields: Fields, key: str, lang: str) -> bool:
    """Whether `key`'s text for `lang` is written in the file (a string counts for every
    language; a mapping only for its own): a problem is reported where it was written."""
    value = fields.get(key)
    return not isinstance(value, LocatedDict) or lang in value


def _line(fields: Fields, key: str, lang: str) -> int:
    value = fields.get(key)
    return value.line_of(lang) if isinstance(value, LocatedDict) and lang in value else fields.line(key)


def _where(fields: Fields, key: str, lang: str) -> str:
    return f"{key}.{lang}" if isinstance(fields.get(key), LocatedDict) and lang in fields.get(key) else key
