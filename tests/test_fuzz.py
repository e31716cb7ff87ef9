"""Fuzzed site files: `statusgen check` on valid files of every format, mutated.

Whatever ops (or a bad merge, an editor, a copy from a chat window) do to a site file,
`check` ends with `PATH:LINE: message` lines and exit 1, or exit 0 when the mutation
happens to be valid: never a traceback, a crash of the interpreter, or minutes and
gigabytes spent on a few lines. The seeds are the example site's own files (every kind the
loader reads: settings, components, incidents as YAML and as Markdown, a maintenance
window, content pages, incident templates, subscribers with a webhook); the mutations are
what goes wrong with text files (truncation, CRLF, tabs, a byte-order mark, invalid UTF-8,
control characters) and with YAML (wrong types, random keys, tags, anchors, duplicate
keys, deep nesting, long strings, impossible dates, hostile strings).

CI runs a bounded, derandomised profile (the same examples every run, well under a minute
on two cores). A longer random run outside CI:

    STATUSGEN_FUZZ=long python3 -m pytest tests/test_fuzz.py -q

(`STATUSGEN_FUZZ_EXAMPLES=N` sets how many examples each property tries; failures are
kept in `.hypothesis/`, which git ignores, and replayed first next time.)
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from statusgen.cli import main
from statusgen.content import yamlsource
from statusgen.content.yamlsource import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    LocatedDict,
    LocatedList,
    parse_document,
)
from statusgen.errors import ContentError

ROOT = Path(__file__).resolve().parent.parent
LONG = os.environ.get("STATUSGEN_FUZZ") == "long"
EXAMPLES = int(os.environ.get("STATUSGEN_FUZZ_EXAMPLES", "2000" if LONG else "0")) or None

FUZZ = settings(
    max_examples=EXAMPLES or 120,
    # A safety net against a hang, not a measure: one example takes about 0.1 s here.
    deadline=timedelta(seconds=60),
    derandomize=not LONG,  # CI: the same examples every run; the long run explores
    database=DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "fuzz")) if LONG else None,
    # capsys is read before and after every example, so sharing it is safe
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.function_scoped_fixture],
)

SEEDS = (
    "content/site.yaml",
    "components.yaml",
    "incidents/2026/2026-11-18-email-delays.yaml",
    "incidents/2026/2026-11-03-pdf-certificates-unavailable.md",
    "incidents/2026/2026-09-16-database-maintenance.md",
    "incidents/2026/2026-12-06-gateway-and-signing-network-upgrade.md",
    "content/pages/help.en.md",
    "content/pages/help.nl.md",
    "content/templates/certificates-down.yaml",
    "subscribers.yaml",
)
EXTRA_SEEDS = {
    # anchors and aliases that a valid site may use, and a webhook subscriber
    "incidents/2026/2026-11-29-shared-statuses.yaml": """\
title: {nl: Trage certificaten, en: Slow certificates}
components: &affected
  dcc-certificates: degraded_performance
updates:
  - at: 2026-11-29 10:00
    status: investigating
    components: *affected
    body: &same {nl: We onderzoeken het., en: We are looking into it.}
  - at: 2026-11-29 11:00
    status: resolved
    body: *same
""",
    "subscribers.yaml": (ROOT / "subscribers.yaml").read_text(encoding="utf-8") + """
- webhook: https://desk.partner.example.org/hooks/status
  secret_env: PARTNER_DESK_SECRET
  email: desk-admins@partner.example.org
  components: [eu-dcc]
- webhook: https://hooks.slack.com/services/T000/B000/XXXX
  language: en
""",
}
TARGETS = (*SEEDS, "incidents/2026/2026-11-29-shared-statuses.yaml")

LINE = re.compile(r"(?P<path>[^\s:][^:]*):(?P<line>\d+): (?P<message>\S.*)\Z")
SUMMARY = re.compile(r"\d+ errors?\Z")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

HOSTILE = (
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "\r\nBcc: victim@example.org",
    "line\rbreak", "nul\x00byte", "\x1b[31mred\x1b[0m", "\u202egnp.exe", "\ufeff", "\u2028",
    "{{ 7 * 7 }}", "{% raw %}", "{since}", "${HOME}", "$(reboot)", "../../../etc/passwd",
    "javascript:alert(1)", "mailto:a@b.example?bcc=c@d.example", "%0d%0aSet-Cookie: a=b",
    "😀" * 3, "é", "\t", " ", "",
)
YAML_BITS = (
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system ''", "!!python/object:os.system {}",
    "!!binary aGVsbG8=", "!custom value", "!!set {a, b}", "!!omap [a: 1]", "!!pairs [a: 1]",
    "!!timestamp 2026-02-30", "!!int not-a-number", "!!float 1e999", "!!str", "!!map", "!!seq",
    "&anchor value", "*anchor", "*undefined", "<<: *anchor", "<<: {a: 1}", "? [a, b]\n: c",
    "{a: 1, a: 2}", "[", "]", "{", "}", "'", '"', "|", ">-", "%YAML 1.1", "%TAG ! tag:x,2000:",
    "---", "...", "- ", "? ", ": ", "#", "@", "`", "~", "null", "yes", "on", "NO",
    "2026-02-30 10:00", "2026-13-01 10:00", "2026-03-29 02:30", "2026-10-25 02:30",
    "9999-12-31 23:59", "0001-01-01 00:00", "2026-11-28T09:20:00+99:00", "1e309", "-0",
    "0x7fffffffffffffffffffffff", ".nan", "-.inf", "0o777", "1_000", "P5", "p1", "critical",
    "[]", "{}", "[[[]]]", "\"\\x00\"", "\"\\uD800\"", "'a''b'",
)
KEYS = ("title", "type", "impact", "components", "updates", "window", "start", "end", "at",
        "status", "body", "notify", "id", "postmortem", "aliases", "order", "email", "webhook",
        "format", "secret_env", "language", "languages", "timezone", "base_url", "name",
        "description", "sla", "notify", "subscriptions", "url", "reminders", "nl", "en", "fr",
        "de", "<<", "", "__proto__", "Title", "tittle")


@pytest.fixture(scope="module")
def site() -> Iterator[Path]:
    """One copy of the seeds for the whole module: each example mutates a file and puts it
    back, so a run writes a few files instead of a site per example."""
    folder = Path(tempfile.mkdtemp(prefix="statusgen-fuzz-"))
    for path in SEEDS:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, folder / path)
    for path, text in EXTRA_SEEDS.items():
        (folder / path).write_text(text, encoding="utf-8")
    yield folder
    shutil.rmtree(folder)


def run_check(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`statusgen check` through the CLI's entry point, in this process."""
    capsys.readouterr()
    code = main(["check", "--site", str(folder)])
    return code, capsys.readouterr().err


def assert_reported(code: int, err: str, folder: Path) -> None:
    """Exit 0, or exit 1 with one `PATH:LINE: message` line per problem and a count."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert CONTROL.search(err) is None, f"a control character reached the terminal: {err!r}"
    if code == 0:
        assert lines and lines[-1].startswith(f"{folder}: ") and "no errors" in lines[-1], err
        lines = lines[:-1]
    else:
        assert code == 1, err
        assert lines and SUMMARY.match(lines[-1]), err
        lines = lines[:-1]
        assert lines, "exit 1 without a problem named"
    for line in lines:
        found = LINE.match(line)
        assert found, f"not PATH:LINE: message: {line!r}"
        path, number = found["path"], int(found["line"])
        if path == "environment":
            continue
        assert not path.startswith("/") and (folder / path).is_file(), line
        size = _lines((folder / path).read_bytes())
        assert 1 <= number <= size, f"line {number} of a {size}-line file: {line}"


def _lines(raw: bytes) -> int:
    """A file's lines as the loader may count them: YAML breaks lines at CR and NEL too,
    `str.splitlines` (the front matter's) at form feeds and more."""
    text = raw.decode("utf-8", "replace")
    return max(len(re.findall(r"\r\n|[\r\n\x85\u2028\u2029]", text)), len(text.splitlines())) + 1


@st.composite
def snippets(draw: st.DrawFn) -> bytes:
    """Something to write into a file: YAML syntax, a hostile string, or anything."""
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return draw(st.sampled_from(YAML_BITS)).encode()
    if kind == 1:
        return draw(st.sampled_from(HOSTILE)).encode("utf-8", "surrogatepass")
    if kind == 2:
        return draw(st.sampled_from(KEYS)).encode() + b": " + draw(st.sampled_from(YAML_BITS)).encode()
    if kind == 3:
        depth = draw(st.integers(1, 3 * MAX_DEPTH))
        opener = draw(st.sampled_from(["[", "{a: ", "- ", "\n" + " " * 2]))
        return (opener * depth + draw(st.sampled_from(["]" * depth, "x", ""]))).encode()
    if kind == 4:
        return draw(st.sampled_from("xé\n ")).encode() * draw(st.integers(200, 200_000))
    if kind == 5:
        return draw(st.binary(min_size=1, max_size=8))  # invalid UTF-8 more often than not
    return draw(st.text(st.characters(codec="utf-8"), max_size=40)).encode()


@st.composite
def byte_mutation(draw: st.DrawFn, raw: bytes) -> bytes:
    """One mutation of a file's bytes, as editors, merges and copies make them."""
    at = draw(st.integers(0, len(raw)))
    lines = raw.splitlines(keepends=True)
    index = draw(st.integers(0, max(0, len(lines) - 1)))
    kind = draw(st.sampled_from(["insert", "replace-value", "delete", "truncate", "duplicate-line",
                                 "crlf", "cr", "bom", "tabs", "swap-lines"]))
    if kind == "insert":
        return raw[:at] + draw(snippets()) + raw[at:]
    if kind == "replace-value" and lines:
        key, colon, _ = lines[index].partition(b":")
        return b"".join(lines[:index]) + key + (colon or b":") + b" " + draw(snippets()) + b"\n" \
            + b"".join(lines[index + 1:])
    if kind == "delete":
        return raw[:at] + raw[at + draw(st.integers(1, 200)):]
    if kind == "truncate":
        return raw[:at]
    if kind == "duplicate-line" and lines:
        return b"".join(lines[:index + 1] + lines[index:])
    if kind == "crlf":
        return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if kind == "cr":
        return raw.replace(b"\n", b"\r")
    if kind == "bom":
        return b"\xef\xbb\xbf" + raw
    if kind == "tabs":
        return re.sub(rb"(?m)^(  )+", lambda m: b"\t" * (len(m.group()) // 2), raw)
    if kind == "swap-lines" and len(lines) > 1:
        other = draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
        return b"".join(lines)
    return raw


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.sampled_from(HOSTILE) | st.sampled_from(KEYS) | st.dates() | st.datetimes(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8),
                                                                inner, max_size=4),
    max_leaves=12,
)


@st.composite
def tree_mutation(draw: st.DrawFn, path: str, raw: bytes) -> bytes:
    """The file parsed, one value replaced, a key added or removed, and written back."""
    front, body = _split(path, raw)
    data = yaml.safe_load(front)
    holders = list(_holders(data))
    if not holders:
        return raw
    holder = draw(st.sampled_from(holders))
    keys = list(holder.keys()) if isinstance(holder, dict) else list(range(len(holder)))
    action = draw(st.sampled_from(["replace", "add", "remove"]))
    if action == "add" and isinstance(holder, dict):
        holder[draw(st.sampled_from(KEYS) | st.text(max_size=12))] = draw(VALUES)
    elif action == "remove" and keys:
        del holder[draw(st.sampled_from(keys))]
    elif keys:
        holder[draw(st.sampled_from(keys))] = draw(VALUES)
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False,
                          default_flow_style=draw(st.sampled_from([False, None, True])))
    return (b"---\n" + text.encode("utf-8", "surrogatepass") + b"---\n" + body) if path.endswith(".md") \
        else text.encode("utf-8", "surrogatepass")


def _split(path: str, raw: bytes) -> tuple[bytes, bytes]:
    if not path.endswith(".md"):
        return raw, b""
    _, front, body = raw.split(b"---\n", 2)
    return front, body


def _holders(value: object) -> Iterator[dict | list]:  # type: ignore[type-arg]
    if isinstance(value, (dict, list)):
        yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _holders(child)


@st.composite
def mutated_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """A seed file and its bytes after one to three mutations."""
    path = draw(st.sampled_from(TARGETS))
    raw = EXTRA_SEEDS[path].encode() if path in EXTRA_SEEDS else (ROOT / path).read_bytes()
    if draw(st.booleans()):
        raw = draw(tree_mutation(path, raw))
    for _ in range(draw(st.integers(1, 3))):
        raw = draw(byte_mutation(raw))
    return path, raw


@FUZZ
@given(case=mutated_file())
def test_check_reports_every_mutated_file_as_path_line_message(
        site: Path, capsys: pytest.CaptureFixture[str], case: tuple[str, bytes]) -> None:
    path, raw = case
    original = (site / path).read_bytes()
    (site / path).write_bytes(raw)
    try:
        code, err = run_check(site, capsys)
        assert_reported(code, err, site)
        if code == 0:  # what check passes must also build: pages, feeds, calendars, the API
            built = main(["build", "--site", str(site), "--out", str(site.parent / "public")])
            err = capsys.readouterr().err
            assert built == 0 and "Traceback" not in err, err
    finally:
        (site / path).write_bytes(original)


def test_the_unmutated_seeds_are_a_valid_site(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The property above means something only if the seeds pass as they are."""
    code, err = run_check(site, capsys)
    assert code == 0, err
    assert ", no errors" in err


# --- in a real process: the interpreter survives, and memory stays bounded -------------

MEMORY_HEADROOM_KIB = 200 * 1024
"""How much more memory than the valid site a mutated one may take: a bomb takes gigabytes."""
WRAPPER = """\
import resource, sys
from statusgen.cli import main
code = main(sys.argv[1:])
print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
sys.exit(code)
"""


def check_in_process(folder: Path) -> tuple[int, str, int]:
    """`statusgen check` in a new interpreter, capped at 2 GiB of address space as a safety
    net: returns the exit code, stderr and the peak resident memory in KiB."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    result = subprocess.run([sys.executable, "-c", WRAPPER, "check", "--site", str(folder)],
                            capture_output=True, text=True, timeout=300, preexec_fn=limit,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    found = re.search(r"maxrss (\d+)", result.stdout)
    return result.returncode, result.stderr, int(found[1]) if found else -1


@pytest.fixture(scope="module")
def baseline_kib(site: Path) -> int:
    code, err, kib = check_in_process(site)
    assert code == 0, err
    return kib


@settings(FUZZ, max_examples=EXAMPLES // 20 if EXAMPLES else 6)
@given(case=mutated_file())
def test_check_in_a_real_process_survives_mutations_in_bounded_memory(
        site: Path, baseline_kib: int, case: tuple[str, bytes]) -> None:
    path, raw = case
    original = (site / path).read_bytes()
    (site / path).write_bytes(raw)
    try:
        code, err, kib = check_in_process(site)
        assert code in (0, 1), err
        assert_reported(code, err, site)  # before the seed is put back: it reads the lines
        assert 0 < kib <= baseline_kib + MEMORY_HEADROOM_KIB
    finally:
        (site / path).write_bytes(original)


# --- the named attacks, in every kind of file -----------------------------------------

def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": nine lines that stand for 9^9 (387 million) strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BOMB_PLACES = {
    # path: (file text around the bomb, the line the first over-the-limit alias is on)
    "content/site.yaml": ("{bomb}", 6),
    "components.yaml": ("x:\n  {bomb}", 7),
    "incidents/2026/bomb.yaml": ("{bomb}", 6),
    "incidents/2026/bomb.md": ("---\n{bomb}---\nBody.\n", 7),
    "content/pages/bomb.md": ("---\n{bomb}---\nBody.\n", 7),
    "content/templates/bomb.yaml": ("{bomb}", 6),
    "subscribers.yaml": ("{bomb}", 6),
}


@pytest.mark.parametrize("path", sorted(BOMB_PLACES))
def test_an_alias_bomb_is_refused_in_every_kind_of_file(site: Path, baseline_kib: int, path: str) -> None:
    shape, line = BOMB_PLACES[path]
    bomb = alias_bomb()
    if path == "components.yaml":
        bomb = bomb.replace("\n", "\n  ")
    folder = site.parent / f"bomb-{path.replace('/', '-')}"
    shutil.copytree(site, folder)
    try:
        (folder / path).write_text(shape.format(bomb=bomb), encoding="utf-8")
        code, err, kib = check_in_process(folder)
    finally:
        shutil.rmtree(folder)
    assert code == 1, err
    assert (f"{path}:{line}: aliases: expected them to repeat at most {MAX_ALIAS_NODES:,} nodes in all; "
            f"found more at *a4 (nested aliases multiply: write the values out)") in err.splitlines()
    assert 0 < kib <= baseline_kib + MEMORY_HEADROOM_KIB


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    """The loader's own entry point, as the importers and the theme use it: a ContentError
    naming the line of the alias that goes over the limit, not a list of millions."""
    with pytest.raises(ContentError) as raised:
        parse_document("incidents/bomb.yaml", alias_bomb().encode())
    assert (raised.value.path, raised.value.line) == ("incidents/bomb.yaml", 6)


def test_aliases_under_the_limit_still_load() -> None:
    """Seven levels stand for 9^6 = 531,441 repeats, more than allowed; four for 6,561: a
    site may share values with anchors freely."""
    data = parse_document("x.yaml", alias_bomb(levels=4).encode()).data
    assert len(data["a3"]) == 9 and data["a3"][8][8][8] == ["lol"] * 9


def test_an_oversized_file_is_refused_without_reading_it_all(site: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    folder = site.parent / "oversized"
    shutil.copytree(site, folder)
    try:
        (folder / "incidents/2026/huge.md").write_bytes(b"---\ntitle: x\n---\n" + b"x" * (5 * 1024 * 1024))
        code, _out, err = run_cli("check", "--site", folder)
    finally:
        shutil.rmtree(folder)
    assert code == 1
    assert err.splitlines() == [
        "incidents/2026/huge.md:1: expected a file of at most 1,024 KiB; found 5.0 MiB "
        "(split it, or shorten its texts)",
        "1 error",
    ]


def test_a_file_of_exactly_the_limit_is_read(site: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    """The limit is on size alone: a long but valid post-mortem at the limit passes."""
    folder = site.parent / "at-limit"
    shutil.copytree(site, folder)
    file = folder / "incidents/2026/2026-11-18-email-delays.yaml"
    head = file.read_bytes() + b"# "
    try:
        file.write_bytes(head + (b"word " * MAX_FILE_BYTES)[:MAX_FILE_BYTES - len(head)])
        code, _out, err = run_cli("check", "--site", folder)
    finally:
        shutil.rmtree(folder)
    assert code == 0, err


@pytest.mark.parametrize("deep, line", [
    ("title: " + "[" * 30_000 + "]" * 30_000, 1),
    ("title: " + "{a: " * 30_000 + "}" * 30_000, 1),
    ("title:\n" + "- " * 30_000 + "x", 2),
], ids=["flow-lists", "flow-mappings", "block-lists"])
def test_nesting_deeper_than_the_limit_is_refused_not_a_crash(deep: str, line: int) -> None:
    """libyaml composes recursively in C: 30,000 levels of brackets crashed the interpreter
    (SIGSEGV), a few hundred raised RecursionError from the constructors."""
    with pytest.raises(ContentError) as raised:
        parse_document("incidents/deep.yaml", deep.encode())
    assert str(raised.value) == (f"incidents/deep.yaml:{line}: expected at most 100 levels of nested "
                                 "mappings and lists; found more")


def test_nesting_at_the_limit_is_read() -> None:
    data = parse_document("x.yaml", ("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)).encode()).data
    depth = 0
    while isinstance(data, (dict, list)) and data:
        data, depth = (data["a"] if isinstance(data, dict) else data[0]), depth + 1
    assert depth == MAX_DEPTH - 1


def test_a_deep_file_in_a_real_process_is_an_error_not_a_segfault(site: Path) -> None:
    folder = site.parent / "deep"
    shutil.copytree(site, folder)
    try:
        (folder / "incidents/2026/deep.yaml").write_text("title: " + "[" * 100_000 + "]" * 100_000)
        code, err, _kib = check_in_process(folder)
    finally:
        shutil.rmtree(folder)
    assert code == 1, err
    assert "incidents/2026/deep.yaml:1: expected at most 100 levels of nested mappings and lists; found more" \
        in err.splitlines()


def test_a_long_value_is_quoted_short_in_the_message(site: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    folder = site.parent / "long-value"
    shutil.copytree(site, folder)
    file = folder / "incidents/2026/2026-11-18-email-delays.yaml"
    file.write_text(file.read_text(encoding="utf-8").replace("type: incident", "type: " + "x" * 50_000))
    try:
        code, _out, err = run_cli("check", "--site", folder)
    finally:
        shutil.rmtree(folder)
    assert code == 1
    assert err.splitlines()[0] == (
        "incidents/2026/2026-11-18-email-delays.yaml:6: type: expected one of incident, maintenance; "
        f"found {'x' * 80!r}... (50,000 characters)")


# --- what the fuzzing found, each as an ordinary test ---------------------------------

@pytest.mark.parametrize("text, line, code", [
    ("\x00title: x\n", 1, 0x00),
    ("title: x\nimpact: nul\x00byte\n", 2, 0x00),
    ("title: x\rimpact: \x1b[31mred\n", 2, 0x1B),  # a lone CR breaks the line, as YAML reads it
    ("title: \x07\n", 1, 0x07),
])
def test_a_control_character_is_named_with_its_line(text: str, line: int, code: int) -> None:
    """Found by the long run: a NUL or ESC raised the parser's ReaderError, a traceback."""
    with pytest.raises(ContentError) as raised:
        parse_document("incidents/x.yaml", text.encode())
    assert str(raised.value) == (
        f"incidents/x.yaml:{line}: invalid YAML: expected text without control characters; found "
        f"U+{code:04X} (remove it)")


@pytest.mark.parametrize("text, line, code", [
    (b'title: "nul\\x00byte"\n', 1, 0x00),
    (b'title: x\nupdates:\n  - body: {nl: "bell \\a", en: ok}\n', 3, 0x07),
    (b'title: x\nlist:\n  - ok\n  - "\\e[31m"\n', 4, 0x1B),
    (b'"key \\x01": x\n', 1, 0x01),
    (b'title: "\\uFFFE"\n', 1, 0xFFFE),
])
def test_a_control_character_written_as_an_escape_is_refused_at_its_line(text: bytes, line: int, code: int) -> None:
    """Found after the fuzzing, by a build: such text passed `check`, and the feeds' XML
    writer then stopped the build with a traceback."""
    with pytest.raises(ContentError) as raised:
        parse_document("incidents/x.yaml", text)
    assert str(raised.value) == (f"incidents/x.yaml:{line}: expected text without control characters; found "
                                 f"U+{code:04X} (written as an escape: remove it)")


def test_escapes_that_make_ordinary_text_are_read() -> None:
    assert parse_document("x.yaml", b'title: "tab\\there \\u00e9 \\x41"\n').data == {"title": "tab\there \u00e9 A"}


def test_a_control_character_in_a_markdown_body_is_refused_at_its_line() -> None:
    with pytest.raises(ContentError) as raised:
        parse_document("incidents/x.md", b"---\ntitle: x\n---\nfine\n\nPost-mortem: bell \x07 here.\n")
    assert str(raised.value) == ("incidents/x.md:6: expected text without control characters; found U+0007 "
                                 "(remove it)")


@pytest.mark.parametrize("text, message", [
    ("title: !!timestamp 2026-02-30\n", None),  # PyYAML's own constructor: AttributeError
    ("title: !!int x\n", "invalid YAML: !!int: expected a value of this type; found 'x'"),  # ValueError
    ("title: !!float x\n", "invalid YAML: !!float: expected a value of this type; found 'x'"),
    ("title: !!bool x\n", "invalid YAML: !!bool: expected a value of this type; found 'x'"),  # KeyError
    ("title: !!map [1]\n", "invalid YAML: !!map: expected a mapping"),  # TypeError
    ("title: !!seq {a: 1}\n", "invalid YAML: !!seq: expected a list"),  # AttributeError
    ("title: !!binary aGVsbG8=\n", "invalid YAML: expected plain YAML (text, numbers, true/false, lists, "
                                   "mappings); found the tag '!!binary'"),
    ("title: !!set {a, b}\n", "invalid YAML: expected plain YAML (text, numbers, true/false, lists, "
                              "mappings); found the tag '!!set'"),
])
def test_explicit_tags_are_read_or_refused_with_a_line(text: str, message: str | None) -> None:
    """Found by the CI profile: explicit core tags reached PyYAML's constructors, which
    raised bare Python errors (a traceback) on values they could not read."""
    if message is None:
        assert parse_document("x.yaml", text.encode()).data == {"title": "2026-02-30"}
        return
    with pytest.raises(ContentError) as raised:
        parse_document("x.yaml", text.encode())
    assert str(raised.value) == f"x.yaml:1: {message}"


# --- plain documents: built without PyYAML's constructors, into the same values --------

PLAIN_CASES = (
    "a: 1\nb: [x, {c: d}, [], {}]\nc: {nl: x, en: y}\n", "x\n", "", "# only a comment\n", "[1, 2.5, ~, yes]\n",
    "{1: a, true: b}\n", "{1: a, 1.0: b}\n", "{null: a, ~: b}\n", "{.nan: a, .nan: b}\n", "{a: 1, a: 2}\n",
    "<<: {a: 1}\nb: 2\n", "a: 1\n<<: [{b: 2}, {c: 3}]\n", "=: x\n", "? [a, b]\n: c\n", "? {a: 1}\n: c\n",
    "--- a\n--- b\n", "a: &x 1\nb: 2\n", "!!map {a: 1}\n", "!!seq [a]\n", "!!str {a: 1}\n", "a: !!str 1\n",
    "!!int 3: x\n", "!!bool yes: x\n", "!custom a: b\n", "a: !!timestamp 2026-11-28\n", "a: 2026-11-28 09:20\n",
    "a:\n  - b: 1\n    c: [d]\n  -\n  - - e\n", "? |\n  a\n  b\n: c\nd:\n- |\n  e\n  f\n- g\n", "{a: [b, {c: [d, {e: f}]}]}\n", "a: 'it''s'\nb: \"\\u00e9\"\n",
    *(f"a: {bit}\n" for bit in YAML_BITS), *(f"{bit}: a\n" for bit in YAML_BITS),
)


def _built(load: Callable[[str], object], source: str) -> object:
    """What `load` makes of `source`, with the line of every key and item, or the error it
    raises (its kind and message)."""
    try:
        return _located(load(source))
    except yaml.YAMLError as error:
        return type(error).__name__, str(error)


def _located(value: object) -> object:
    if isinstance(value, LocatedDict):
        return "mapping", value.line, [(_located(key), _located(item), value.key_lines[key])
                                       for key, item in value.items()]
    if isinstance(value, LocatedList):
        return "list", value.line, value.item_lines, [_located(item) for item in value]
    return type(value).__name__, repr(value)


def _plainly(source: str) -> object:
    return yamlsource._load(source, shared=False)


def _by_pyyaml(source: str) -> object:
    return yaml.load(source, Loader=yamlsource._Loader)


@pytest.mark.parametrize("source", PLAIN_CASES)
def test_a_document_is_built_as_pyyamls_constructors_build_it(source: str) -> None:
    """The loader builds plain mappings, lists and scalars itself (a third of an incident
    file's load time): the same values and lines as PyYAML's constructors, and what it does
    not build (tags, merges, `=`, collections as keys, duplicates) they build or refuse."""
    assert _built(_plainly, source) == _built(_by_pyyaml, source)


def test_the_cases_above_are_built_both_ways() -> None:
    """The comparison means something only if some documents are built plainly and some
    are left to PyYAML: the first case is the shape of an incident file."""
    assert _built(_plainly, PLAIN_CASES[0]) == ("mapping", 1, [
        (("str", "'a'"), ("int", "1"), 1),
        (("str", "'b'"), ("list", 2, [2, 2, 2, 2], [("str", "'x'"), ("mapping", 2, [(("str", "'c'"), ("str", "'d'"), 2)]),
                                                     ("list", 2, [], []), ("mapping", 2, [])]), 2),
        (("str", "'c'"), ("mapping", 3, [(("str", "'nl'"), ("str", "'x'"), 3), (("str", "'en'"), ("str", "'y'"), 3)]), 3),
    ])
    node = yaml.compose("<<: {a: 1}\n", Loader=yamlsource._Loader)
    with pytest.raises(yamlsource._NotPlain):
        yamlsource._construct_plain(yamlsource._Loader(""), node)


@FUZZ
@given(case=mutated_file())
def test_a_mutated_file_is_built_as_pyyamls_constructors_build_it(case: tuple[str, bytes]) -> None:
    path, raw = case
    text = raw.decode("utf-8", "replace")
    parts = text.split("---\n", 2)
    source = parts[1] if path.endswith(".md") and len(parts) == 3 else text
    if "*" in source:  # aliases: PyYAML's constructors always, and the expansion checked first
        return
    try:
        yamlsource._check_expansion(path, source)  # too deep to compose: refused before
    except ContentError:
        return
    except yaml.YAMLError:
        pass  # not YAML: both ways must raise the same
    assert _built(_plainly, source) == _built(_by_pyyaml, source)


def test_a_list_where_a_component_id_belongs_is_an_error(make_site: Callable[..., Path],
                                                         run_cli: Callable[..., tuple[int, str, str]]) -> None:
    """Found by the CI profile: `components: [[]]` in subscribers.yaml raised TypeError
    (unhashable list) in the catalog instead of naming the line."""
    folder = make_site({"subscribers.yaml": """\
        - email: a@partner.example.org
          components:
            - [eu-dcc]
            - {dcc-app: x}
        """})
    code, _out, err = run_cli("check", "--site", folder)
    assert code == 1
    assert err.splitlines() == [
        "subscribers.yaml:3: expected a component or group id; found a list",
        "subscribers.yaml:4: expected a component or group id; found a mapping",
        "2 errors",
    ]


def test_a_component_key_with_control_characters_is_quoted(make_site: Callable[..., Path],
                                                           run_cli: Callable[..., tuple[int, str, str]]) -> None:
    """Found by the long run: a component key written as "\\x1f" (or " ") was printed raw
    before its message, so an escape sequence or a line break reached the terminal. (C0
    controls written as escapes are now refused where they are read; DEL still gets here.)"""
    folder = make_site({"incidents/x.yaml": """\
        title: x
        components: {"\\x7f[2J": major, " ": nope}
        updates: [{at: 2026-11-28 09:20, status: investigating, body: x}]
        """})
    code, _out, err = run_cli("check", "--site", folder)
    assert code == 1
    statuses = "one of operational, under_maintenance, degraded_performance, partial_outage, major_outage"
    assert err.splitlines() == [
        f"incidents/x.yaml:2: ' ': expected a component status, {statuses}; found 'nope'",
        f"incidents/x.yaml:2: '\\x7f[2J': expected a component status, {statuses}; found 'major'",
        "incidents/x.yaml:2: unknown component ' '",
        "incidents/x.yaml:2: unknown component '\\x7f[2J'",
        "4 errors",
    ]


@pytest.mark.parametrize("path, text, line", [
    ("incidents/x.yaml", 'title: "bell \\a"\nupdates: [{at: 2026-11-28 09:20, status: investigating, body: x}]\n', 1),
    ("incidents/x.md", "---\ntitle: x\nupdates: [{at: 2026-11-28 09:20, status: investigating, body: x}]\n---\n"
                       "Post-mortem \x1b[31m.\n", 5),
])
def test_text_no_feed_can_hold_stops_check_and_build_with_its_line(make_site: Callable[..., Path],
                                                                    run_cli: Callable[..., tuple[int, str, str]],
                                                                    path: str, text: str, line: int) -> None:
    """Found after the fuzzing, which ran `check` only: this text passed it, and `build` then
    stopped with lxml's traceback ("All strings must be XML compatible") writing the feeds."""
    folder = make_site({path: text.encode()})
    for command in ("check", "build"):
        code, _out, err = run_cli(command, "--site", folder, "--now", "2026-11-30T12:00:00+01:00")
        assert code == 1 and "Traceback" not in err
        assert err.splitlines()[0].startswith(f"{path}:{line}: expected text without control characters; found U+")


@pytest.mark.parametrize("value", ["", *YAML_BITS, *KEYS, *HOSTILE, "1", "1.5", "~", "True", "0b101", "1:30"])
def test_a_node_without_a_tag_gets_the_tag_pyyaml_gives_it(value: str) -> None:
    """The loader's own `resolve` (libyaml asks it for every node) answers as PyYAML's."""
    loader = yamlsource._Loader("")
    assert not loader.yaml_path_resolvers and None not in loader.yaml_implicit_resolvers
    for kind in (yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode):
        for implicit in ((True, False), (False, True), (False, False)):
            assert loader.resolve(kind, value, implicit) == yaml.resolver.BaseResolver.resolve(loader, kind, value, implicit)
