"""`statusgen new incident|maintenance --template NAME --var KEY=VALUE`: a new file from a template.

    --template NAME ──find_template──▶ Template (content/templates/NAME.yaml, checked as `check` does)
    --var KEY=VALUE, --var KEY.LANG=VALUE ──template_values──▶ each language's placeholder values
        (a missing or unknown one is a usage error naming the template file)
    ──fill──▶ the title and first update in every site language ──▶ incidents/YYYY/YYYY-MM-DD-slug.md
        (written as `new incident` writes, then read back by the loader)
    --list-templates ──template_listing──▶ each template, what it is for, and the command that uses it

`--components` and `--impact` replace the template's; `--status` gives the status of the
components (the template's, or those of `--components` given without one). A maintenance
window is `--start` to `--end`, or `--start` plus the template's `duration`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from statusgen.authoring.incident import (
    components_field,
    front_matter,
    impact_line,
    slugify,
    window_end,
    window_field,
    window_start,
    write_new,
)
from statusgen.authoring.options import (
    AuthoringSite,
    authoring_time,
    component_statuses,
    expect_choice,
    impact_value,
    open_site,
    option_time,
    written_time,
)
from statusgen.authoring.yamltext import NewUpdate
from statusgen.content.fields import did_you_mean, one_of
from statusgen.content.model import COMPONENT_STATUSES, Template
from statusgen.content.templates import TEMPLATES_FOLDER, fill, load_template, template_paths
from statusgen.errors import ContentErrors, Problems, UsageError

log = logging.getLogger(__name__)

ARTICLE = {"incident": "an", "maintenance": "a"}
DEFAULT_STATUS = {"incident": "major_outage", "maintenance": "under_maintenance"}
"""The status of a component given without one."""


def new_from_template(site_dir: Path, name: str, variables: Mapping[str, str] | None = None, *,
                      kind: str = "incident", components: str | None = None, status: str | None = None,
                      impact: str | None = None, start: str | None = None, end: str | None = None,
                      now: str | datetime | None = None) -> Path:
    """Write a new incident (or maintenance) from template `name`; return its path.

    `variables` maps a placeholder to its value (`KEY`) or to its value in one language
    (`KEY.LANG`), as `--var` gives them.
    """
    site = open_site(site_dir)
    tz, languages = site.config.timezone, site.config.languages
    template = find_template(site, name, kind)
    values = template_values(template, variables or {}, languages)
    moment = authoring_time(now, tz)
    titles = {lang: fill(template.title[lang], values[lang]) for lang in languages}
    bodies = {lang: fill(template.body[lang], values[lang]) for lang in languages}
    affected = _components(template, site, components, status)
    first = NewUpdate(written_time(moment, tz), template.status, _collapsed(bodies), notify=template.notify)
    slug = slugify(titles[languages[0]], kind)
    if kind == "maintenance":
        head, day = _window_head(template, affected, start, end, tz)
    else:
        head = [impact_line(impact_value(impact) if impact else template.impact), *components_field(affected)]
        day = moment.astimezone(tz).date()
    text = front_matter(_collapsed(titles), kind, head, first, top=[f"# from {template.path}"])
    return write_new(site, day, slug, text)


# ── the template ───────────────────────────────────────────────────────────────────────


def find_template(site: AuthoringSite, name: str, kind: str) -> Template:
    """Template `name` of type `kind`, checked; its problems raised as content errors."""
    paths = {PurePosixPath(path).stem: path for path in template_paths(site.dir, Problems())}
    if name not in paths:
        raise UsageError(f"--template: no template {name!r} in {TEMPLATES_FOLDER}/{_known(name, paths)}")
    problems = Problems()
    template = load_template(site.dir, paths[name], site.config, site.catalog, problems)
    if template is None:
        raise ContentErrors(problems.errors)
    if template.kind != kind:
        raise UsageError(f"--template {name}: {template.path} is {ARTICLE[template.kind]} {template.kind} "
                         f"template; use {_command(template)}")
    return template


def _known(name: str, paths: Mapping[str, str]) -> str:
    if not paths:
        return f"; the site has none yet: write {TEMPLATES_FOLDER}/NAME.yaml"
    return f"{did_you_mean(name, paths)}; the site has {one_of(paths)}"


def parse_vars(items: Sequence[str]) -> dict[str, str]:
    """`--var KEY=VALUE` (and `KEY.LANG=VALUE`) options as a mapping; each key once, with a value."""
    values: dict[str, str] = {}
    for item in items:
        key, equals, value = item.partition("=")
        key = key.strip()
        if not equals or not key:
            raise UsageError(f"--var: expected KEY=VALUE such as since=09:20; found {item!r}")
        if not value.strip():
            raise UsageError(f"--var {key}: expected a value after '='; found nothing")
        if key in values:
            raise UsageError(f"--var {key}: given twice; expected each placeholder once (KEY.LANG=VALUE "
                             "gives its value in one language)")
        values[key] = value
    return values


def template_values(template: Template, variables: Mapping[str, str],
                    languages: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each language's value of every placeholder: `KEY.LANG` over `KEY`. An unknown key, an
    unknown language or a placeholder without a value in some language is a usage error."""
    for key in variables:
        name, dot, lang = key.partition(".")
        if name not in template.placeholders:
            has = one_of(f"{{{p}}}" for p in template.placeholders) if template.placeholders else "none"
            raise UsageError(f"--var {key}: {template.path} has no placeholder {{{name}}}"
                             f"{did_you_mean(name, template.placeholders)}; its placeholders: {has}")
        if dot and lang not in languages:
            raise UsageError(f"--var {key}: the site has no language {lang!r}{did_you_mean(lang, languages)}; "
                             f"it has {one_of(languages)}")
    values = {lang: {name: value for name in template.placeholders
                     if (value := variables.get(f"{name}.{lang}", variables.get(name))) is not None}
              for lang in languages}
    missing = _missing(template, values, languages)
    if missing:
        raise UsageError(f"--var: {template.path} needs a value for every placeholder; add {' '.join(missing)}")
    return values


def _missing(template: Template, values: Mapping[str, Mapping[str, str]], languages: Sequence[str]) -> list[str]:
    """The `--var` options still to give: `--var KEY=VALUE`, or `--var KEY.LANG=VALUE` where
    only some languages have a value."""
    missing = []
    for name in template.placeholders:
        without = [lang for lang in languages if name not in values[lang]]
        if len(without) == len(languages):
            missing.append(f"--var {name}=VALUE")
        else:
            missing += [f"--var {name}.{lang}=VALUE" for lang in without]
    return missing


def _components(template: Template, site: AuthoringSite, components: str | None,
                status: str | None) -> dict[str, str]:
    """The template's components, or those of `--components`; `--status` sets the status of
    each that has none of its own (with a template's components: all of them)."""
    if status is not None:
        expect_choice("--status", status, COMPONENT_STATUSES)
    if components is not None:
        return component_statuses(components, site.catalog, status or DEFAULT_STATUS[template.kind])
    return {cid: status or given for cid, given in template.components}


def _window_head(template: Template, affected: dict[str, str], start: str | None, end: str | None,
                 tz: ZoneInfo) -> tuple[list[str], date]:
    """A maintenance's components and window, and the day it is named after (its start)."""
    opens = window_start(start, tz)
    closes = window_end(opens, _window_end(template, opens, end, tz), tz)
    return [*components_field(affected), *window_field(opens, closes, tz)], opens.astimezone(tz).date()


def _window_end(template: Template, opens: datetime, end: str | None, tz: ZoneInfo) -> datetime:
    """`--end`, else the start plus the template's duration."""
    if end is not None:
        return option_time(end, tz, "--end")
    if template.duration is None:
        raise UsageError(f"--end: expected when the window closes, e.g. '2026-12-07 02:00'; found nothing "
                         f"({template.path} has no duration: to give one, add e.g. `duration: 2h`)")
    return opens + template.duration


def _collapsed(texts: dict[str, str]) -> dict[str, str]:
    """One text for every language where they are all the same (`title: text`), else each."""
    first = next(iter(texts))
    return {first: texts[first]} if len(set(texts.values())) == 1 else texts


# ── listing ────────────────────────────────────────────────────────────────────────────


def template_listing(site_dir: Path) -> list[str]:
    """Every template: its name, type and impact or duration, what it is for, and the command
    that uses it (to paste); a template with errors is listed as such (`check` shows them)."""
    site = open_site(site_dir)
    paths = template_paths(site.dir, Problems())
    if not paths:
        return [f"no templates in {TEMPLATES_FOLDER}/ yet: write {TEMPLATES_FOLDER}/NAME.yaml "
                "(a title, a body and {placeholders}; the README shows one)"]
    lines = []
    for path in paths:
        problems = Problems()
        template = load_template(site.dir, path, site.config, site.catalog, problems)
        name = PurePosixPath(path).stem
        if template is None:
            lines.append(f"{name}: not usable until the errors in {path} are fixed (statusgen check lists them)")
            continue
        lang = site.config.default_language
        about = (template.description or template.title)[lang]
        lines += [f"{name} ({_traits(template)}): {about}", f"    {_command(template, site_dir)}"]
    return lines


def _traits(template: Template) -> str:
    traits = [template.kind]
    if template.impact:
        traits.append(template.impact)
    if template.duration:
        traits.append(_shown_duration(template.duration.total_seconds() // 60))
    if not template.notify:
        traits.append("emails no one")
    return ", ".join(traits)


def _shown_duration(minutes: float) -> str:
    days, rest = divmod(int(minutes), 1440)
    hours, mins = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n) or "0m"


def _command(template: Template, site_dir: Path | None = None) -> str:
    """The command line that writes a file from `template`, placeholders to fill in."""
    parts = ["statusgen new", template.kind, "--template", template.name]
    if template.kind == "maintenance":
        parts.append("--start TIME" if template.duration else "--start TIME --end TIME")
    parts += [f"--var {name}=VALUE" for name in template.placeholders]
    if site_dir is not None and site_dir != Path("."):
        parts.append(f"--site {site_dir}")
    return " ".join(parts)
