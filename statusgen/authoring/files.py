"""Authoring: `statusgen new incident|maintenance|update` and `statusgen init`.

Files are written as text, not dumped from data: a new incident reads like the README's
examples (block style, a comment where a person still has work to do), and a new update
is inserted into the file as it stands, so every comment and line break already there
stays. Each value goes through `yaml.safe_dump`, so a title such as `Sign-in: no` stays a
string. What is written is read back by the loader the build uses; a file it rejects is
restored (or removed) and its errors are raised.

    new incident|maintenance   settings + components ──▶ text ──▶ incidents/YYYY/DATE-slug.md ──▶ load_incident
    new update                 the file ──▶ YAML marks ──▶ insert after the updates list ──▶ load_incident
    init                       site_templates/scaffold ──▶ a temporary folder ──▶ load_site ──▶ DIR
                               (requirements.txt: the running statusgen, from statusgen.origin)
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import string
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from statusgen.content.catalog import Catalog, load_catalog
from statusgen.content.config import CONFIG_PATH, load_config
from statusgen.errors import ContentErrors, Problems, UsageError
from statusgen.content.fields import did_you_mean, one_of
from statusgen.content.incidents import incident_files, load_incident
from statusgen.content.load import load_site
from statusgen.content.model import (
    COMPONENT_STATUSES,
    IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    PRIORITIES,
    Incident,
    SiteConfig,
)
from statusgen.origin import Origin, requirement, running_origin
from statusgen.site.theme import packaged_theme
from statusgen.times import TimeError, localize, parse_time

log = logging.getLogger(__name__)

SLUG_LENGTH = 50
FOLDED = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH", "ı": "i"})
"""Letters that Unicode does not decompose into a Latin letter plus an accent."""
TRANSLATE = "# translate: every language shows this text until you do"
WRITE_BODY = {"investigating": "# replace with what users notice and what you are doing about it",
              "scheduled": "# replace with what will be done and what users will notice"}
IMPACT_HINT = "# impact: P2                 # P1 (critical) to P4; left out, the component statuses set it"
PLACEHOLDERS = {
    "investigating": {"en": "We are investigating the problem.", "nl": "We onderzoeken het probleem.",
                      "fr": "Nous examinons le problème.", "de": "Wir untersuchen das Problem."},
    "scheduled": {"en": "We will carry out planned maintenance.", "nl": "We voeren gepland onderhoud uit.",
                  "fr": "Nous effectuerons une maintenance planifiée.",
                  "de": "Wir führen eine geplante Wartung durch."},
}
"""First-update texts: publishable as they are, since during a P1 the page must go out first."""
SCAFFOLD = "scaffold"
TEMPLATE_SUFFIX = ".tmpl"


# ── the site an author writes into ─────────────────────────────────────────────────────


@dataclass(frozen=True)
class AuthoringSite:
    """What writing a file needs: the settings (languages, timezone) and the components."""

    dir: Path
    config: SiteConfig
    catalog: Catalog


def open_site(site_dir: Path) -> AuthoringSite:
    """Read settings and components only: a broken incident elsewhere must not stop a new one."""
    if not (site_dir / CONFIG_PATH).is_file():
        raise UsageError(f"no site in {site_dir}: {CONFIG_PATH} is missing "
                         "(use --site DIR, or create a site with statusgen init DIR)")
    problems = Problems()
    config = load_config(site_dir, problems)
    catalog = load_catalog(site_dir, config.languages, problems) if config else None
    if config is None or catalog is None or problems.errors:
        raise ContentErrors(problems.errors)
    return AuthoringSite(site_dir, config, catalog)


def authoring_time(now: str | datetime | None, tz: ZoneInfo) -> datetime:
    """When a thing is written: `--now` if given, else the clock (never SOURCE_DATE_EPOCH,
    which pins builds, not the moment someone reports an incident)."""
    if isinstance(now, datetime):
        return now.astimezone(UTC).replace(microsecond=0)
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    return option_time(now, tz, "--now")


def option_time(value: str, tz: ZoneInfo, option: str) -> datetime:
    try:
        return parse_time(value, tz)
    except TimeError as error:
        raise UsageError(f"{option}: {error}") from None


def written_time(moment: datetime, tz: ZoneInfo, seconds: bool = False) -> str:
    """`2026-11-28 09:20` in the site timezone, as people write it; with the UTC offset
    where that wall-clock time happens twice or never (the DST changes)."""
    local = moment.astimezone(tz)
    wall = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    try:
        localize(local.replace(tzinfo=None), tz)
    except TimeError:
        return local.isoformat(timespec="seconds" if seconds else "minutes")
    return wall


# ── names ──────────────────────────────────────────────────────────────────────────────


def slugify(title: str, fallback: str = "incident") -> str:
    """The file-name part of a title: `Certificats indisponibles à Liège !` becomes
    `certificats-indisponibles-a-liege`; cut at whole words where it gets long."""
    folded = unicodedata.normalize("NFKD", title.translate(FOLDED)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(slug) > SLUG_LENGTH:
        cut = slug[:SLUG_LENGTH + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:SLUG_LENGTH]
    return slug.strip("-") or fallback


def new_incident_path(site_dir: Path, day: date, slug: str) -> Path:
    """`incidents/YYYY/YYYY-MM-DD-slug.md`, with -2, -3, ... if the id is taken anywhere
    under incidents/ (an id is the file name, unique across sub-folders)."""
    taken = {file.stem for file in incident_files(site_dir)}
    base = f"{day.isoformat()}-{slug}"
    name = next(candidate for n in range(1, len(taken) + 2)
                if (candidate := base if n == 1 else f"{base}-{n}") not in taken)
    return site_dir / "incidents" / str(day.year) / f"{name}.md"


# ── option values ──────────────────────────────────────────────────────────────────────


def expect_choice(option: str, value: str, options: Sequence[str]) -> str:
    if value not in options:
        raise UsageError(f"{option}: expected one of {one_of(options)}; found {value!r}"
                         f"{did_you_mean(value, options)}")
    return value


def impact_value(value: str | None) -> str | None:
    """`P1`..`P4` (any case) or an impact name, as it will be written."""
    if value is None or value.upper() in PRIORITIES:
        return value.upper() if value else None
    return expect_choice("--impact", value, (*PRIORITIES, *IMPACTS))


def component_statuses(spec: str | None, catalog: Catalog, default: str | None) -> dict[str, str]:
    """`--components a,b=partial_outage,GROUP` as {component id: status}, groups expanded
    (so an update can later change one component of the group), in the order given."""
    found: dict[str, str] = {}
    for item in (part.strip() for part in (spec or "").split(",")):
        if not item:
            continue
        ref, given, status = (part.strip() for part in item.partition("="))
        if ref not in catalog.ids:
            suggestion = did_you_mean(ref, catalog.ids) or f"; expected one of {one_of(catalog.ids)}"
            raise UsageError(f"--components: unknown component {ref!r}{suggestion}")
        if not given and default is None:
            raise UsageError(f"--components: expected ID=STATUS such as {ref}=operational; found {item!r}")
        status = expect_choice(f"--components {ref}", status if given else default or "", COMPONENT_STATUSES)
        found.update((cid, status) for cid in catalog.expand(ref))
    return found


def texts_for(languages: Sequence[str], text: str, by_language: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """One text per site language: `text` everywhere, replaced where `--lang LANG TEXT` says."""
    texts = dict.fromkeys(languages, text)
    for lang, value in by_language:
        if lang not in languages:
            raise UsageError(f"--lang: the site has no language {lang!r}{did_you_mean(lang, languages)}; "
                             f"it has {one_of(languages)}")
        texts[lang] = value
    return texts


# ── YAML text ──────────────────────────────────────────────────────────────────────────


def yaml_value(value: str, indent: int) -> list[str]:
    """A string as YAML after `key: `: plain or quoted on one line, or a literal block
    (its lines indented by `indent`) for text of several lines; always reads back the same."""
    candidates = [_literal(value, indent)] if "\n" in value else []
    candidates.append([_dumped(value)])
    # Double quotes escape everything, line breaks YAML 1.1 knows (U+0085, U+2028) included.
    return next((lines for lines in candidates if _reads_back(lines, value)), [_dumped(value, style='"')])


def _dumped(value: str, style: str | None = None) -> str:
    text = yaml.safe_dump(value, allow_unicode=True, width=1 << 30, default_style=style)
    return text.removesuffix("\n...\n").rstrip("\n")


def _literal(value: str, indent: int) -> list[str]:
    chomp = "" if value.endswith("\n") else "-"
    pad = " " * indent
    return [f"|{chomp}", *(pad + line if line else "" for line in value.removesuffix("\n").split("\n"))]


def _reads_back(block: list[str], value: str) -> bool:
    try:
        return yaml.safe_load("key: " + "\n".join(block) + "\n") == {"key": value}
    except yaml.YAMLError:
        return False


def text_field(key: str, texts: dict[str, str], indent: int, comment: str | None = None) -> list[str]:
    """`key: text` for a one-language site, else `key:` with one line per language."""
    pad = " " * indent
    note = f"  {comment}" if comment else ""
    if len(texts) == 1:
        first, *rest = yaml_value(next(iter(texts.values())), indent + 2)
        return [f"{pad}{key}: {first}{note}", *rest]
    lines = [f"{pad}{key}:{note}"]
    for lang, text in texts.items():
        first, *rest = yaml_value(text, indent + 4)
        lines += [f"{pad}  {lang}: {first}", *rest]
    return lines


def needs_translation(texts: dict[str, str]) -> str | None:
    """The translate comment, where several languages got the same text."""
    return TRANSLATE if len(set(texts.values())) < len(texts) else None


@dataclass(frozen=True)
class NewUpdate:
    """An update as it will be written."""

    at: str
    status: str
    body: dict[str, str]
    components: dict[str, str] = field(default_factory=dict)
    notify: bool = True
    comment: str | None = None

    def lines(self, dash: int, content: int) -> list[str]:
        """The list item, its `-` in column `dash` and its keys in column `content`."""
        pad = " " * content
        lines = [f"{' ' * dash}-{' ' * (content - dash - 1)}at: {self.at}", f"{pad}status: {self.status}"]
        if self.components:
            changes = ", ".join(f"{cid}: {status}" for cid, status in self.components.items())
            lines.append(f"{pad}components: {{{changes}}}")
        if not self.notify:
            lines.append(f"{pad}notify: false")
        return lines + text_field("body", self.body, content, self.comment)


def components_field(components: dict[str, str]) -> list[str]:
    if not components:
        return ["components: {}                 # none yet: add lines `id: status` below `components:`"]
    return ["components:", *(f"  {cid}: {status}" for cid, status in components.items())]


# ── new incident, new maintenance ──────────────────────────────────────────────────────


def new_incident(site_dir: Path, title: str, components: str | None = None, status: str = "major_outage",
                 impact: str | None = None, now: str | datetime | None = None) -> Path:
    """Write a new incident, investigating since now; return its path."""
    site = open_site(site_dir)
    tz, languages = site.config.timezone, site.config.languages
    moment, title = authoring_time(now, tz), _required_text("TITLE", title)
    status = expect_choice("--status", status, COMPONENT_STATUSES)
    affected = component_statuses(components, site.catalog, status)
    priority = impact_value(impact)
    first = _first_update(moment, tz, "investigating", languages)
    head = [f"impact: {priority}" if priority else IMPACT_HINT, *components_field(affected)]
    text = _front_matter(title, languages, "incident", head, first)
    return _write_new(site, moment.astimezone(tz).date(), slugify(title), text)


def new_maintenance(site_dir: Path, title: str, start: str, end: str, components: str | None = None,
                    now: str | datetime | None = None) -> Path:
    """Write a maintenance window, announced (scheduled) now; return its path.

    The file is named after the day the window starts: that is the date people look for.
    """
    site = open_site(site_dir)
    tz, languages = site.config.timezone, site.config.languages
    moment, title = authoring_time(now, tz), _required_text("TITLE", title)
    opens, closes = option_time(start, tz, "--start"), option_time(end, tz, "--end")
    if closes <= opens:
        raise UsageError(f"--end: expected a time after --start {written_time(opens, tz)}; "
                         f"found {written_time(closes, tz)}")
    affected = component_statuses(components, site.catalog, "under_maintenance")
    first = _first_update(moment, tz, "scheduled", languages)
    head = [*components_field(affected), "window:",
            f"  start: {written_time(opens, tz)}", f"  end: {written_time(closes, tz)}"]
    text = _front_matter(title, languages, "maintenance", head, first)
    return _write_new(site, opens.astimezone(tz).date(), slugify(title, "maintenance"), text)


def _first_update(moment: datetime, tz: ZoneInfo, status: str, languages: Sequence[str]) -> NewUpdate:
    texts = PLACEHOLDERS[status]
    body = {lang: texts.get(lang.split("-")[0], texts["en"]) for lang in languages}
    return NewUpdate(written_time(moment, tz), status, body, comment=WRITE_BODY[status])


def _required_text(what: str, value: str) -> str:
    if not value.strip():
        raise UsageError(f"{what}: expected some text; found nothing")
    return value


def _front_matter(title: str, languages: Sequence[str], kind: str, head: list[str], first: NewUpdate) -> str:
    titles = dict.fromkeys(languages, title)
    lines = ["---", *text_field("title", titles, 0, needs_translation(titles)), f"type: {kind}", *head,
             "updates:", *first.lines(2, 4), "---"]
    return "\n".join(lines) + "\n"


def _write_new(site: AuthoringSite, day: date, slug: str, text: str) -> Path:
    path = new_incident_path(site.dir, day, slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8", newline="\n") as file:  # never over a file
        file.write(text)
    try:
        check_incident_file(site, path)
    except ContentErrors:
        path.unlink()
        raise
    log.debug("wrote %s", path)
    return path


def check_incident_file(site: AuthoringSite, path: Path) -> Incident:
    """Read one incident file as the build does; raise its errors.

    One file is all a new file or a new update can break: the other cross-file rule,
    unique ids, is kept by the file name chosen.
    """
    problems = Problems()
    incident = load_incident(site.dir, path, site.config, site.catalog, problems)
    if incident is None or problems.errors:
        raise ContentErrors(problems.errors)
    return incident


# ── new update ─────────────────────────────────────────────────────────────────────────


def new_update(site_dir: Path, incident_id: str, status: str, text: str,
               by_language: Iterable[tuple[str, str]] = (), components: str | None = None,
               notify: bool = True, now: str | datetime | None = None) -> Path:
    """Append an update to an incident or maintenance window, at now; return its path.

    Only the new lines are added; if the file then fails to load, its old bytes are put
    back and the errors raised.
    """
    site = open_site(site_dir)
    path = find_incident(site_dir, incident_id)
    incident = check_incident_file(site, path)
    statuses = MAINTENANCE_STATUSES if incident.is_maintenance else INCIDENT_STATUSES
    kind = "a maintenance window" if incident.is_maintenance else "an incident"
    if status not in statuses:
        raise UsageError(f"--status: {incident_id} is {kind}: expected one of {one_of(statuses)}; "
                         f"found {status!r}{did_you_mean(status, statuses)}")
    tz = site.config.timezone
    moment = authoring_time(now, tz)
    body = texts_for(site.config.languages, _required_text("TEXT", text), by_language)
    taken = {written_time(update.at, tz) for update in incident.updates}
    update = NewUpdate(written_time(moment, tz, seconds=written_time(moment, tz) in taken), status, body,
                       component_statuses(components, site.catalog, None), notify,
                       needs_translation(body))
    original = path.read_bytes()
    write_atomic(path, append_update(original, path.suffix == ".md", update))
    try:
        check_incident_file(site, path)
    except ContentErrors:
        write_atomic(path, original)
        raise
    return path


def find_incident(site_dir: Path, incident_id: str) -> Path:
    files = {file.stem: file for file in incident_files(site_dir)}
    if incident_id not in files:
        raise UsageError(f"no incident or maintenance {incident_id!r} in incidents/"
                         f"{did_you_mean(incident_id, files)}")
    return files[incident_id]


def write_atomic(path: Path, data: bytes) -> None:
    """Replace a file in one step, so an interrupted write never leaves half a file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        shutil.copymode(path, temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def append_update(raw: bytes, markdown: bool, update: NewUpdate) -> bytes:
    """The file with `update` added at the end of its `updates:` list, all else unchanged."""
    bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
    text = raw[len(bom):].decode("utf-8")
    start, end = _front_matter_span(text) if markdown else (0, len(text))
    newline = "\r\n" if "\r\n" in text else "\n"
    front = _insert_update(text[start:end], update, newline)
    return bom + (text[:start] + front + text[end:]).encode("utf-8")


def _front_matter_span(text: str) -> tuple[int, int]:
    """Where the YAML between the `---` lines starts and ends (the loader checked they exist)."""
    lines = text.splitlines(keepends=True)
    offset = len(lines[0])
    start = offset
    for line in lines[1:]:
        if line.strip() == "---":
            return start, offset
        offset += len(line)
    raise UsageError("the front matter has no closing '---' line")


def _insert_update(front: str, update: NewUpdate, newline: str) -> str:
    """Insert the update's lines into front-matter YAML, after the updates list."""
    root = yaml.compose(front, Loader=yaml.SafeLoader)
    updates = next((value for key, value in root.value if key.value == "updates"), None)
    if updates is None:  # a maintenance without updates yet
        lines = ["updates:", *update.lines(2, 4)]
        return _insert_lines(front, len(front), lines, newline)
    key = next(key for key, value in root.value if value is updates)
    if isinstance(updates, yaml.SequenceNode) and updates.value and not updates.flow_style:
        last = updates.value[-1]
        at = _after_item(front, last, updates.start_mark.column)
        return _insert_lines(front, at, update.lines(updates.start_mark.column, last.start_mark.column), newline)
    if _is_empty(updates):  # `updates:`, `updates: []` or `updates: ~`: the list starts here
        front = front[:updates.start_mark.index].rstrip(" \t") + front[updates.end_mark.index:]
        column = key.start_mark.column
        return _insert_lines(front, _line_end(front, key.end_mark.index), update.lines(column + 2, column + 4),
                             newline)
    raise UsageError("updates: written as a list in [brackets]; write it as a list of '- ' items "
                     "to add an update")


def _is_empty(node: yaml.Node) -> bool:
    if isinstance(node, yaml.SequenceNode):
        return not node.value
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _after_item(front: str, item: yaml.Node, dash: int) -> int:
    """Where the line after a list item starts: after its last value, its trailing
    comment, and the comment lines indented under it (they belong to it)."""
    end = _content_end(item)
    while end > 0 and front[end - 1] in " \t\r\n":  # a block scalar ends at the next line
        end -= 1
    at = _line_end(front, end)
    while at < len(front):
        line = front[at:_line_end(front, at)]
        stripped = line.lstrip(" ")
        if not stripped.startswith("#") or len(line) - len(stripped) <= dash:
            break
        at += len(line)
    return at


def _content_end(node: yaml.Node) -> int:
    """The end of the last value in a node (a block collection's own end mark lies at the
    next token, past blank lines and comments)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
    return max((_content_end(child) for child in children), default=int(node.start_mark.index))


def _line_end(text: str, index: int) -> int:
    """The start of the line after the one holding `index` (or the end of the text)."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def _insert_lines(text: str, at: int, lines: list[str], newline: str) -> str:
    before = text[:at]
    if before and not before.endswith("\n"):
        before += newline
    return before + "".join(line + newline for line in lines) + text[at:]


# ── init ───────────────────────────────────────────────────────────────────────────────


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
    values = {"title": _dumped(title), "languages": f"[{', '.join(languages)}]",
              "timezone": _dumped(timezone), "day": day.isoformat(),
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


# ── command line ───────────────────────────────────────────────────────────────────────


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """`statusgen new incident|maintenance|update` and `statusgen init`."""
    new = commands.add_parser("new", help="write a new incident, maintenance window or update",
                              description="Write a new incident or maintenance file, or add an update to one. "
                                          "Prints the path of the file written.")
    kinds = new.add_subparsers(dest="new_kind", required=True, metavar="KIND")
    _incident_command(kinds, common)
    _maintenance_command(kinds, common)
    _update_command(kinds, common)
    _init_command(commands, common)


def _incident_command(kinds: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = kinds.add_parser("incident", parents=[common], help="a new incident, investigating since now")
    command.add_argument("title", metavar="TITLE", help="the title, in every language until translated")
    _components_option(command, "affected ids (groups mean all their components); ID=STATUS sets one's status")
    command.add_argument("--status", default="major_outage",
                         help="status of the components given without one (default major_outage)")
    command.add_argument("--impact", help="P1..P4, or none|minor|major|critical (default: from the statuses)")
    _now_option(command)
    command.set_defaults(run=_run_incident)


def _maintenance_command(kinds: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = kinds.add_parser("maintenance", parents=[common], help="a maintenance window, announced now")
    command.add_argument("title", metavar="TITLE", help="the title, in every language until translated")
    command.add_argument("--start", required=True, help="when the window opens, e.g. '2026-12-06 22:00'")
    command.add_argument("--end", required=True, help="when it closes, e.g. '2026-12-07 02:00'")
    _components_option(command, "ids under maintenance (groups mean all their components)")
    _now_option(command)
    command.set_defaults(run=_run_maintenance)


def _update_command(kinds: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = kinds.add_parser("update", parents=[common], help="add an update to an incident or maintenance")
    command.add_argument("id", metavar="ID", help="the incident's id: its file name without extension")
    command.add_argument("text", metavar="TEXT", help="the update's text, in every language until translated")
    command.add_argument("--status", required=True,
                         help=f"incident: {one_of(INCIDENT_STATUSES)}; maintenance: {one_of(MAINTENANCE_STATUSES)}")
    command.add_argument("--lang", nargs=2, action="append", default=[], metavar=("LANG", "TEXT"),
                         help="the text in one language (repeat for others)")
    _components_option(command, "statuses that change from this update on: ID=STATUS,...")
    command.add_argument("--quiet-update", action="store_true",
                         help="publish without emailing anyone (notify: false), e.g. for a wording fix")
    _now_option(command)
    command.set_defaults(run=_run_update)


def _init_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    command = commands.add_parser("init", parents=[common], help="scaffold a new site that builds at once")
    command.add_argument("dir", metavar="DIR", type=Path, nargs="?",
                         help="the folder for the new site (default: --site, the current folder)")
    command.add_argument("--languages", default="en", help="comma-separated, the default first (default: en)")
    command.add_argument("--timezone", default="UTC", help="IANA timezone, e.g. Europe/Brussels (default: UTC)")
    command.add_argument("--title", default="Service status", help="the site's title")
    command.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    command.set_defaults(run=_run_init)


def _components_option(command: argparse.ArgumentParser, help: str) -> None:
    command.add_argument("--components", metavar="ID[=STATUS],...", help=help)


def _now_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--now", help="write as if it were this time (ISO 8601; default: the clock)")


def _run_incident(args: argparse.Namespace) -> int:
    print(new_incident(args.site, args.title, args.components, args.status, args.impact, args.now))
    return 0


def _run_maintenance(args: argparse.Namespace) -> int:
    print(new_maintenance(args.site, args.title, args.start, args.end, args.components, args.now))
    return 0


def _run_update(args: argparse.Namespace) -> int:
    path = new_update(args.site, args.id, args.status, args.text, [tuple(pair) for pair in args.lang],
                      args.components, notify=not args.quiet_update, now=args.now)
    print(path)
    return 0


def _run_init(args: argparse.Namespace) -> int:
    target = args.dir or args.site
    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    files = init_site(target, languages, args.timezone, args.title, args.force)
    log.info("created a site in %s (%d files); next: statusgen build --site %s", target, len(files), target)
    return 0
