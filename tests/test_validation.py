"""Broken site files: the exact `PATH:LINE: message` lines, exit code 1, and nothing written.

Every case feeds one broken site to `statusgen check` and `statusgen build`. Both must
exit 1 and print exactly the expected errors (sorted by path and line) and a count line;
the build must leave the previous output folder byte for byte as it was, with no
temporary folders beside it.

File texts are written with `lines(...)`, one argument per line and the line number in a
comment, so every expected line number can be checked by eye against the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import COMPONENTS_YAML, SITE_YAML, MakeSite

NOW = "2026-11-30T12:00:00+01:00"
RunCli = Callable[..., tuple[int, str, str]]
Files = dict[str, str | bytes | None]


def lines(*rows: str) -> str:
    """A file's text with one argument per line."""
    return "\n".join(rows) + "\n"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` as {relative path: bytes}."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def expected_stderr(errors: list[str], command: str = "build") -> str:
    """What `check` or `build` prints: the errors and a count (`check` never writes anything)."""
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    return "".join(f"{error}\n" for error in errors) + count + ("; nothing was written" if command == "build" else "") + "\n"


def assert_lines_exist(site: Path, errors: list[str]) -> None:
    """Every reported line is a real line of its file (line 1 for an empty one)."""
    for error in errors:
        path, line, _ = error.split(":", 2)
        file = site / path
        if file.exists():
            assert 1 <= int(line) <= max(1, len(file.read_bytes().splitlines())), error


VALID_INCIDENT = lines(
    "---",                                              # 1
    "title: {en: PDF certificates cannot be downloaded, nl: PDF-certificaten niet downloadbaar}",
    "impact: major",                                    # 3
    "components:",                                      # 4
    "  dcc-certificates: major_outage",                 # 5
    "updates:",                                         # 6
    "  - at: 2026-11-28 09:20",                         # 7
    "    status: investigating",                        # 8
    "    body: {en: We are investigating., nl: We onderzoeken het probleem.}",
    "  - at: 2026-11-28 11:40",                         # 10
    "    status: resolved",                             # 11
    "    body: Fixed.",                                 # 12
    "---",                                              # 13
    "The certificate store was down.",                  # 14
)


@pytest.fixture
def previous_output(make_site: MakeSite, run_cli: RunCli, tmp_path: Path) -> Path:
    """An output folder built from a valid site, alone in its parent folder."""
    valid = make_site({"incidents/2026/pdf.md": VALID_INCIDENT}, name="valid")
    out = tmp_path / "out" / "public"
    code, _, err = run_cli("build", "--site", valid, "--out", out, "--now", NOW)
    assert code == 0, err
    return out


@pytest.fixture
def assert_rejected(make_site: MakeSite, run_cli: RunCli,
                    previous_output: Path) -> Callable[[Files, list[str]], None]:
    """Check and build a broken site: exact errors, exit 1, previous output untouched."""

    def check(files: Files, errors: list[str]) -> None:
        site = make_site(files, name="broken")
        assert_lines_exist(site, errors)
        before = snapshot(previous_output)
        assert before

        code, out, err = run_cli("check", "--site", site)
        assert (code, err) == (1, expected_stderr(errors, "check"))
        assert out == ""

        code, out, err = run_cli("build", "--site", site, "--out", previous_output, "--now", NOW)
        assert (code, err) == (1, expected_stderr(errors))
        assert snapshot(previous_output) == before
        assert [p.name for p in previous_output.parent.iterdir()] == ["public"]

    return check


def incident(*rows: str, body: str = "") -> str:
    """An incident `.md` file: `---`, the front matter rows (from line 2), `---`, body."""
    return lines("---", *rows, "---", *([body] if body else []))


def one_update(at: str) -> str:
    return incident(
        "title: Slow downloads",                        # 2
        "updates:",                                     # 3
        f"  - at: {at}",                                # 4
        "    status: investigating",                    # 5
        "    body: Looking into it.",                   # 6
    )


CASES = [
    pytest.param(
        {"incidents/2026/pdf.md": incident(
            "title: PDF certificates cannot be downloaded",   # 2
            "impact: major",                                # 3
            "components:",                                  # 4
            "  dcc-certificates: major_outage",             # 5
            "  dcc-cert: degraded_performance",             # 6
            "updates:",                                     # 7
            "  - at: 2026-11-28 09:20",                     # 8
            "    status: investigating",                    # 9
            "    body: We are investigating.",              # 10
            "  - at: 2026-11-28 10:05",                     # 11
            "    status: identified",                       # 12
            "    components: {dcc-ap: operational}",        # 13
            "    body: Found it.",                          # 14
        )},
        ["incidents/2026/pdf.md:6: unknown component 'dcc-cert' (did you mean 'dcc-certificates'?)",
         "incidents/2026/pdf.md:13: unknown component 'dcc-ap' (did you mean 'dcc-app'?)"],
        id="unknown-component",
    ),
    pytest.param(
        {"incidents/2026/db.md": incident(
            "title: Database upgrade",                      # 2
            "type: maintenance",                            # 3
            "components:",                                  # 4
            "  - lookup-portal",                            # 5
            "  - eu-dc",                                    # 6
            "window: {start: 2026-12-01 22:00, end: 2026-12-01 23:00}",  # 7
        )},
        ["incidents/2026/db.md:6: unknown component 'eu-dc' (did you mean 'eu-dcc'?)"],
        id="unknown-group",
    ),
    pytest.param(
        {"components.yaml": lines(
            "- id: eu-dcc",                                 # 1
            "  name: EU DCC",                               # 2
            "  components:",                                # 3
            "    - id: dcc-certificates",                   # 4
            "      name: Certificates",                     # 5
            "    - id: dcc-app",                            # 6
            "      name: Mobile app",                       # 7
            "- id: lookup-portal",                          # 8
            "  name: Lookup portal",                        # 9
            "- id: dcc-app",                                # 10
            "  name: Mobile app again",                     # 11
            "- id: eu-dcc",                                 # 12
            "  name: EU DCC again",                         # 13
            "  components:",                                # 14
            "    - id: dcc-wallet",                         # 15
            "      name: Wallet",                           # 16
        )},
        ["components.yaml:10: duplicate id 'dcc-app'; it is already used on line 6",
         "components.yaml:12: duplicate id 'eu-dcc'; it is already used on line 1"],
        id="duplicate-component-and-group-id",
    ),
    pytest.param(
        {"incidents/a/x.md": VALID_INCIDENT,
         "incidents/b/x.yaml": lines(
             "title: The same id",                          # 1
             "updates:",                                    # 2
             "  - at: 2026-11-29 09:00",                    # 3
             "    status: investigating",                   # 4
             "    body: Looking.",                          # 5
         )},
        ["incidents/b/x.yaml:1: duplicate incident id 'x': incidents/a/x.md has the same file name"],
        id="duplicate-incident-id",
    ),
    pytest.param(
        # Written out of order on purpose: updates are sorted by time, lines stay true.
        {"incidents/late.md": incident(
            "title: Login fails",                           # 2
            "updates:",                                     # 3
            "  - at: 2026-11-28 12:00",                     # 4
            "    status: monitoring",                       # 5
            "    body: Still watching.",                    # 6
            "  - at: 2026-11-28 09:20",                     # 7
            "    status: investigating",                    # 8
            "    body: Looking.",                           # 9
            "  - at: 2026-11-28 11:40",                     # 10
            "    status: resolved",                         # 11
            "    body: Fixed.",                             # 12
            "  - at: 2026-11-28 13:00",                     # 13
            "    status: resolved",                         # 14
            "    body: Fixed again.",                       # 15
        )},
        ["incidents/late.md:4: update at 2026-11-28 12:00 comes after the resolved update at "
         "2026-11-28 11:40 (line 10); expected nothing after it",
         "incidents/late.md:13: update at 2026-11-28 13:00 comes after the resolved update at "
         "2026-11-28 11:40 (line 10); expected nothing after it"],
        id="update-after-resolved",
    ),
    pytest.param(
        {"incidents/twice.md": incident(
            "title: Login fails",                           # 2
            "updates:",                                     # 3
            "  - at: 2026-11-28 09:20",                     # 4
            "    status: investigating",                    # 5
            "    body: Looking.",                           # 6
            "  - at: 2026-11-28T08:20:00Z",                 # 7  the same instant in UTC
            "    status: identified",                       # 8
            "    body: Found it.",                          # 9
        )},
        ["incidents/twice.md:7: two updates at the same time 2026-11-28 09:20 (the other is on "
         "line 4); expected each update at its own time"],
        id="two-updates-same-instant",
    ),
    pytest.param(
        {"incidents/db.md": incident(
            "title: Database upgrade",                      # 2
            "type: maintenance",                            # 3
            "components: [dcc-app]",                        # 4
            "window:",                                      # 5
            "  start: 2026-12-01 22:00",                    # 6
            "  end: 2026-12-01 20:00",                      # 7
        )},
        ["incidents/db.md:7: window: expected the end after the start; "
         "found end 2026-12-01 20:00 before start 2026-12-01 22:00"],
        id="window-end-before-start",
    ),
    pytest.param(
        {"incidents/db.md": incident(
            "title: Database upgrade",                      # 2
            "type: maintenance",                            # 3
            "window:",                                      # 4
            "  start: 2026-12-01 22:00",                    # 5
            "  end: 2026-12-01T21:00:00Z",                  # 6
        )},
        ["incidents/db.md:6: window: expected the end after the start; "
         "found end 2026-12-01 22:00 equal to start 2026-12-01 22:00"],
        id="window-end-equal-to-start",
    ),
    pytest.param(
        {"incidents/gap.md": one_update("2027-03-28 02:30")},
        ["incidents/gap.md:4: at: local time 2027-03-28 02:30 does not exist in Europe/Brussels "
         "(the clocks skip it); write the time with its UTC offset"],
        id="non-existent-local-time",
    ),
    pytest.param(
        {"incidents/fold.md": one_update("2026-10-25 02:30")},
        ["incidents/fold.md:4: at: local time 2026-10-25 02:30 is ambiguous in Europe/Brussels "
         "(it happens twice); write it with its UTC offset, 2026-10-25T02:30+02:00 or "
         "2026-10-25T02:30+01:00"],
        id="ambiguous-local-time",
    ),
    pytest.param(
        {"incidents/db.md": incident(
            "title: Database upgrade",                      # 2
            "type: maintenance",                            # 3
            "window:",                                      # 4
            "  start: 2027-03-28 02:30",                    # 5
            "  end: 2027-03-28 04:00",                      # 6
        )},
        ["incidents/db.md:5: start: local time 2027-03-28 02:30 does not exist in Europe/Brussels "
         "(the clocks skip it); write the time with its UTC offset"],
        id="non-existent-local-time-in-window",
    ),
    pytest.param(
        {"incidents/slash.md": one_update("28/11/2026 09:20"),
         "incidents/day.md": one_update("2026-11-31 09:20")},
        ["incidents/day.md:4: at: expected an ISO 8601 time like '2026-11-28 09:20'; "
         "found '2026-11-31 09:20'",
         "incidents/slash.md:4: at: expected an ISO 8601 time like '2026-11-28 09:20'; "
         "found '28/11/2026 09:20'"],
        id="bad-timestamp",
    ),
    pytest.param(
        {"incidents/empty.md": "", "incidents/blank.yaml": "\n   \n"},
        ["incidents/blank.yaml:1: expected content; found an empty file",
         "incidents/empty.md:1: expected content; found an empty file"],
        id="empty-file",
    ),
    pytest.param(
        {"incidents/latin1.md": b"---\ntitle: caf\xe9\n---\n"},
        ["incidents/latin1.md:2: expected UTF-8 text; found byte 0xe9"],
        id="not-utf8",
    ),
    pytest.param(
        {"incidents/typo.md": incident(
            "titel: Login fails",                           # 2
            "updates:",                                     # 3
            "  - at: 2026-11-28 09:20",                     # 4
            "    status: investigating",                    # 5
            "    bdoy: Looking.",                           # 6
        )},
        ["incidents/typo.md:2: title: expected text or a mapping of language to text; found nothing",
         "incidents/typo.md:2: unknown key 'titel' (did you mean 'title'?); "
         "expected one of title, type, impact, components, updates, postmortem, aliases",
         "incidents/typo.md:4: body: expected text or a mapping of language to text; found nothing",
         "incidents/typo.md:6: unknown key 'bdoy' (did you mean 'body'?); "
         "expected one of at, status, body, components, notify, id"],
        id="unknown-key",
    ),
    pytest.param(
        {"incidents/fixed.md": incident(
            "title: Login fails",                           # 2
            "updates:",                                     # 3
            "  - at: 2026-11-28 09:20",                     # 4
            "    status: fixed",                            # 5
            "    body: Done.",                              # 6
        )},
        ["incidents/fixed.md:5: status: expected one of investigating, identified, monitoring, "
         "resolved; found 'fixed'"],
        id="bad-status",
    ),
    pytest.param(
        {"incidents/upper.md": incident(
            "title: Login fails",                           # 2
            "updates:",                                     # 3
            "  - at: 2026-11-28 09:20",                     # 4
            "    status: Resolved",                         # 5
            "    body: Done.",                              # 6
        )},
        ["incidents/upper.md:5: status: expected one of investigating, identified, monitoring, "
         "resolved; found 'Resolved' (did you mean 'resolved'?)"],
        id="bad-status-case",
    ),
    pytest.param(
        {"incidents/db.md": incident(
            "title: Database upgrade",                      # 2
            "type: maintenance",                            # 3
            "window: {start: 2026-12-01 22:00, end: 2026-12-01 23:00}",  # 4
            "updates:",                                     # 5
            "  - at: 2026-12-01 21:00",                     # 6
            "    status: investigating",                    # 7
            "    body: Starting soon.",                     # 8
        )},
        ["incidents/db.md:7: status: expected one of scheduled, in_progress, verifying, "
         "completed, cancelled; found 'investigating'"],
        id="bad-maintenance-status",
    ),
    pytest.param(
        {"incidents/down.md": incident(
            "title: Login fails",                           # 2
            "components:",                                  # 3
            "  dcc-app: down",                              # 4
            "updates:",                                     # 5
            "  - at: 2026-11-28 09:20",                     # 6
            "    status: investigating",                    # 7
            "    body: Looking.",                           # 8
            "    components: {dcc-app: major-outage}",      # 9
        )},
        ["incidents/down.md:4: dcc-app: expected a component status, one of operational, "
         "under_maintenance, degraded_performance, partial_outage, major_outage; found 'down'",
         "incidents/down.md:9: dcc-app: expected a component status, one of operational, "
         "under_maintenance, degraded_performance, partial_outage, major_outage; "
         "found 'major-outage' (did you mean 'major_outage'?)"],
        id="bad-component-status",
    ),
    pytest.param(
        {"incidents/severe.md": incident(
            "title: Login fails",                           # 2
            "impact: severe",                               # 3
            "updates:",                                     # 4
            "  - at: 2026-11-28 09:20",                     # 5
            "    status: investigating",                    # 6
            "    body: Looking.",                           # 7
        )},
        ["incidents/severe.md:3: impact: expected one of none, minor, major, critical, "
         "P1, P2, P3, P4; found 'severe'"],
        id="bad-impact",
    ),
    pytest.param(
        {"incidents/indent.md": incident(
            "title: Login fails",                           # 2
            "updates:",                                     # 3
            "  - at: 2026-11-28 09:20",                     # 4
            "     status: investigating",                   # 5  one space too many
            "    body: Looking.",                           # 6
        )},
        ["incidents/indent.md:5: invalid YAML: mapping values are not allowed here"],
        id="invalid-yaml-indent",
    ),
    pytest.param(
        {"incidents/bracket.md": incident(
            "title: Login fails",                           # 2
            "updates:",                                     # 3
            "  - at: 2026-11-28 09:20",                     # 4
            "    status: [investigating",                   # 5  never closed
            "    body: Looking.",                           # 6
        )},
        ["incidents/bracket.md:6: invalid YAML: while parsing a flow sequence from line 5, "
         "expected ',' or ']', but got ':'"],
        id="invalid-yaml-bracket",
    ),
    pytest.param(
        {"incidents/quote.yaml": lines(
            "title: Login fails",                           # 1
            'updates: "never closed',                       # 2
            "",                                             # 3
        )},
        ["incidents/quote.yaml:2: invalid YAML: while scanning a quoted scalar, "
         "found unexpected end of stream"],
        id="invalid-yaml-unclosed-quote",
    ),
    pytest.param(
        {"incidents/dup.md": incident(
            "title: Login fails",                           # 2
            "updates: []",                                  # 3
            "title: Login fails again",                     # 4
        )},
        ["incidents/dup.md:4: invalid YAML: duplicate key 'title'"],
        id="invalid-yaml-duplicate-key",
    ),
    pytest.param(
        {"incidents/bare.md": lines("title: Login fails", "updates: []"),
         "incidents/open.md": lines("---", "title: Login fails", "updates: []")},
        ["incidents/bare.md:1: expected front matter starting with '---'; found 'title: Login fails'",
         "incidents/open.md:1: expected front matter to end with a '---' line; found none"],
        id="missing-front-matter",
    ),
    pytest.param(
        {"incidents/nothing.md": incident("type: incident"),
         "incidents/parts.md": incident(
             "title: Login fails",                          # 2
             "updates:",                                    # 3
             "  - status: investigating",                   # 4
             "    body: Looking.",                          # 5
             "  - at: 2026-11-28 10:00",                    # 6
             "    body: Found it.",                         # 7
             "  - at: 2026-11-28 11:00",                    # 8
             "    status: resolved",                        # 9
         )},
        ["incidents/nothing.md:2: title: expected text or a mapping of language to text; found nothing",
         "incidents/nothing.md:2: updates: expected a list of updates with at, status and body; "
         "found nothing",
         "incidents/parts.md:4: at: expected a time such as 2026-11-28 09:20; found nothing",
         "incidents/parts.md:6: status: expected one of investigating, identified, monitoring, "
         "resolved; found nothing",
         "incidents/parts.md:8: body: expected text or a mapping of language to text; found nothing"],
        id="missing-required-keys",
    ),
    pytest.param(
        {"incidents/lang.md": incident(
            "title:",                                       # 2
            "  en: Login fails",                            # 3
            "  fr: La connexion échoue",                    # 4
            "updates:",                                     # 5
            "  - at: 2026-11-28 09:20",                     # 6
            "    status: investigating",                    # 7
            "    body: {en: Looking., NL: Kijken.}",        # 8
        )},
        ["incidents/lang.md:4: title: unknown language 'fr'; the site has en, nl",
         "incidents/lang.md:8: body: unknown language 'NL' (did you mean 'nl'?); the site has en, nl"],
        id="wrong-language-key",
    ),
    pytest.param(
        {"content/site.yaml": SITE_YAML.replace("Europe/Brussels", "Europe/Brussel")},
        ["content/site.yaml:4: timezone: expected an IANA timezone such as 'Europe/Brussels'; "
         "found 'Europe/Brussel' (did you mean 'Europe/Brussels'?)"],
        id="site-bad-timezone",
    ),
    pytest.param(
        {"content/site.yaml": lines(
            "title: {en: Example status, nl: Voorbeeldstatus}",  # 1
            "languages: [en, nl]",                          # 2
            "timezone: Europe/Brussels",                    # 3
        )},
        ["content/site.yaml:1: base_url: expected the absolute URL the site is published at; "
         "found nothing"],
        id="site-missing-base-url",
    ),
    pytest.param(
        {"content/site.yaml": lines(
            "title: {en: Example status, nl: Voorbeeldstatus}",  # 1
            "base_url: status.example.org",                 # 2
            "languages: [en, nl]",                          # 3
            "timezone: Europe/Brussels",                    # 4
        )},
        ["content/site.yaml:2: base_url: expected an absolute http(s) URL such as "
         "'https://status.example.org/'; found 'status.example.org'"],
        id="site-relative-base-url",
    ),
    pytest.param(
        # Without the site's languages nothing else can be judged: only this error, not one
        # per localised text in components.yaml and the incidents.
        {"content/site.yaml": SITE_YAML.replace("[en, nl]", "[en, dutch]"),
         "incidents/2026/pdf.md": VALID_INCIDENT},
        ["content/site.yaml:3: languages: expected a language code such as 'nl' or 'en'; "
         "found 'dutch'"],
        id="site-bad-language",
    ),
    pytest.param(
        {"content/site.yaml": lines("title: [Example status", "base_url: https://x.example/"),
         "incidents/2026/pdf.md": VALID_INCIDENT},
        ["content/site.yaml:2: invalid YAML: while parsing a flow sequence from line 1, "
         "expected ',' or ']', but got ':'"],
        id="site-invalid-yaml",
    ),
    pytest.param(
        {"content/site.yaml": None},
        ["content/site.yaml:1: expected the site settings file; found no file"],
        id="site-missing",
    ),
    pytest.param(
        # Incidents that name components are not blamed for a components.yaml that cannot be read.
        {"components.yaml": lines("- id: eu-dcc", "  name: [EU DCC"),
         "incidents/2026/pdf.md": VALID_INCIDENT},
        ["components.yaml:2: invalid YAML: while parsing a flow sequence, "
         "expected ',' or ']', but got '<stream end>'"],
        id="components-invalid-yaml",
    ),
    pytest.param(
        {"subscribers.yaml": lines(
            "- email: spoc@partner.example",                # 1
            "  components: [eu-dcc, lookup-portl]",         # 2
            "- email: helpdesk.partner.example",            # 3
            "- email: ops@partner.example",                 # 4
            "  language: fr",                               # 5
        )},
        ["subscribers.yaml:2: unknown component 'lookup-portl' (did you mean 'lookup-portal'?)",
         "subscribers.yaml:3: email: expected an address such as 'spoc@partner.example'; "
         "found 'helpdesk.partner.example'",
         "subscribers.yaml:5: language: expected one of en, nl; found 'fr'"],
        id="subscribers",
    ),
    pytest.param(
        # One uppercase id is one error: the incident and the subscriber that name it are
        # not blamed for it as well.
        {"components.yaml": COMPONENTS_YAML.replace("id: lookup-portal", "id: Lookup-Portal"),
         "incidents/2026/pdf.md": VALID_INCIDENT.replace("dcc-certificates: major_outage",
                                                         "Lookup-Portal: major_outage"),
         "subscribers.yaml": lines("- email: spoc@partner.example", "  components: [Lookup-Portal]")},
        ["components.yaml:8: id: expected lowercase letters, digits and '-' such as 'dcc-app'; "
         "found 'Lookup-Portal'"],
        id="uppercase-component-id",
    ),
    pytest.param(
        {"components.yaml": lines(
            "- id: eu-dcc",                                 # 1
            "  name: EU DCC",                               # 2
            "  aliases: [grp1, grp1]",                      # 3
            "  components:",                                # 4
            "    - id: dcc-certificates",                   # 5
            "      name: Certificates",                     # 6
            "      aliases: [sp1, 'not an id!', true]",     # 7
            "    - id: dcc-app",                            # 8
            "      name: App",                              # 9
            "      aliases: [sp1]",                         # 10
            "- id: lookup-portal",                          # 11
            "  name: Lookup portal",                        # 12
            "  aliases: [dcc-app]",                         # 13
         )},
        ["components.yaml:3: aliases: 'grp1' is listed twice; expected each once",
         "components.yaml:7: aliases: expected ids of letters, digits, '-', '_' and '.' such as 4g8tm2kw1zxl; "
         "found 'not an id!'",
         "components.yaml:7: aliases: expected ids of letters, digits, '-', '_' and '.' such as 4g8tm2kw1zxl; "
         "found True",
         "components.yaml:10: aliases: 'sp1' is already used on line 7; expected an alias no other component "
         "or group has",
         "components.yaml:13: aliases: 'dcc-app' is already used on line 8; expected an alias no other "
         "component or group has"],
        id="component-aliases",
    ),
    pytest.param(
        {"incidents/2026/pdf.md": VALID_INCIDENT,
         "incidents/2026/other.md": incident(
             "title: Another",                              # 2
             "aliases: [x0ljvc9m1wxj, pdf]",                # 3
             "updates:",                                    # 4
             "  - at: 2026-11-28 09:20",                    # 5
             "    status: investigating",                   # 6
             "    body: Looking into it.",                  # 7
         ),
         "incidents/2026/third.md": incident(
             "title: A third",                              # 2
             "updates:",                                    # 3
             "  - at: 2026-11-28 09:20",                    # 4
             "    status: investigating",                   # 5
             "    body: Looking into it.",                  # 6
             "aliases: [x0ljvc9m1wxj]",                     # 7
         ),
         "incidents/2026/fourth.md": incident(
             "title: A fourth",                             # 2
             "aliases: ['sp/1']",                           # 3
             "updates:",                                    # 4
             "  - at: 2026-11-28 09:20",                    # 5
             "    status: investigating",                   # 6
             "    body: Looking into it.",                  # 7
         )},
        ["incidents/2026/fourth.md:3: aliases: expected ids of letters, digits, '-', '_' and '.' such as "
         "4g8tm2kw1zxl; found 'sp/1'",
         "incidents/2026/other.md:3: aliases: 'pdf' already names incidents/2026/pdf.md; expected an alias no "
         "other incident has as id or alias",
         "incidents/2026/third.md:7: aliases: 'x0ljvc9m1wxj' already names incidents/2026/other.md; expected an "
         "alias no other incident has as id or alias"],
        id="incident-aliases",
    ),
    pytest.param(
        {"content/site.yaml": SITE_YAML + lines(
            "import:",                                      # 5
            "  impact_as: P1",                              # 6
            "  impact: priority",                           # 7
        )},
        ["content/site.yaml:6: import.impact_as: expected one of priority, impact (P1-P4, or none, minor, major, "
         "critical); found 'P1'",
         "content/site.yaml:7: unknown key 'impact' (did you mean 'impact_as'?); expected one of impact_as"],
        id="site-import-settings",
    ),
    pytest.param(
        {"content/site.yaml": SITE_YAML + lines(
            "warnings:",                                    # 5
            "  unresolved_after_days: 0",                   # 6
            "  unresolved_days: 3",                         # 7
        )},
        ["content/site.yaml:6: warnings.unresolved_after_days: expected a whole number of days of at least 1; "
         "found 0",
         "content/site.yaml:7: unknown key 'unresolved_days' (did you mean 'unresolved_after_days'?); "
         "expected one of unresolved_after_days"],
        id="site-warnings-settings",
    ),
    pytest.param(
        {"content/site.yaml": SITE_YAML + lines("warnings: 14")},
        ["content/site.yaml:5: expected a mapping under 'warnings'; found 14"],
        id="site-warnings-not-a-mapping",
    ),
    pytest.param(
        {"content/site.yaml": SITE_YAML.replace("Europe/Brussels", "CET+1")},
        ["content/site.yaml:4: timezone: expected an IANA timezone such as 'Europe/Brussels'; found 'CET+1' "
         "(name a place with that clock instead, so that summer time is right: 'Europe/Amsterdam', "
         "'Europe/Andorra', 'Europe/Belgrade', 'Europe/Berlin', ...)"],
        id="site-timezone-abbreviation",
    ),
]


@pytest.mark.parametrize(("files", "errors"), CASES)
def test_broken_site_is_rejected(assert_rejected: Callable[[Files, list[str]], None],
                                 files: Files, errors: list[str]) -> None:
    assert_rejected(files, errors)


def test_all_errors_in_all_files_are_reported_at_once_sorted(
        assert_rejected: Callable[[Files, list[str]], None]) -> None:
    files: Files = {
        "subscribers.yaml": lines("- email: not-an-address"),
        "incidents/b/x.yaml": lines(
            "title: The same id",                           # 1
            "updates:",                                     # 2
            "  - at: 2026-11-29 09:00",                     # 3
            "    status: investigating",                    # 4
            "    body: Looking.",                           # 5
        ),
        # Broken itself, and still counted for the duplicate id in incidents/b/.
        "incidents/a/x.md": incident(
            "title: Login fails",                           # 2
            "components: {dcc-cert: major_outage}",         # 3
            "updates:",                                     # 4
            "  - at: 2026-11-28 09:20",                     # 5
            "    status: fixed",                            # 6
            "    body: Done.",                              # 7
        ),
        "incidents/a.md": one_update("2027-03-28 02:30"),
        "content/pages/help.md": lines("---", "titel: Help", "---", "Ask us."),
        "content/site.yaml": SITE_YAML.replace("base_url: https://status.example.org/\n", ""),
        "components.yaml": COMPONENTS_YAML + lines("- id: dcc-app", "  name: Again"),
    }
    assert_rejected(files, [
        "components.yaml:10: duplicate id 'dcc-app'; it is already used on line 6",
        "content/pages/help.md:2: title: expected the page title; found nothing",
        "content/pages/help.md:2: unknown key 'titel' (did you mean 'title'?); expected one of title, order",
        "content/site.yaml:1: base_url: expected the absolute URL the site is published at; "
        "found nothing",
        "incidents/a.md:4: at: local time 2027-03-28 02:30 does not exist in Europe/Brussels "
        "(the clocks skip it); write the time with its UTC offset",
        "incidents/a/x.md:3: unknown component 'dcc-cert' (did you mean 'dcc-certificates'?)",
        "incidents/a/x.md:6: status: expected one of investigating, identified, monitoring, "
        "resolved; found 'fixed'",
        "incidents/b/x.yaml:1: duplicate incident id 'x': incidents/a/x.md has the same file name",
        "subscribers.yaml:1: email: expected an address such as 'spoc@partner.example'; "
        "found 'not-an-address'",
    ])


@pytest.mark.parametrize("parent_exists", [True, False], ids=["empty-parent", "no-parent"])
def test_failed_build_without_previous_output_creates_nothing(
        make_site: MakeSite, run_cli: RunCli, tmp_path: Path, parent_exists: bool) -> None:
    site = make_site({"incidents/fixed.md": incident(
        "title: Login fails",                               # 2
        "updates:",                                         # 3
        "  - at: 2026-11-28 09:20",                         # 4
        "    status: fixed",                                # 5
        "    body: Done.",                                  # 6
    )})
    parent = tmp_path / "out"
    if parent_exists:
        parent.mkdir()
    for args in (["--out", parent / "public"], []):  # explicit, and the default SITE/public
        code, _, err = run_cli("build", "--site", site, *args, "--now", NOW)
        assert (code, err) == (1, expected_stderr([
            "incidents/fixed.md:5: status: expected one of investigating, identified, "
            "monitoring, resolved; found 'fixed'"]))
    assert (list(parent.iterdir()) == []) if parent_exists else not parent.exists()
    assert sorted(p.name for p in site.iterdir()) == ["components.yaml", "content", "incidents"]


def test_a_valid_site_passes(make_site: MakeSite, run_cli: RunCli) -> None:
    """The base every broken case starts from is itself valid."""
    site = make_site({"incidents/2026/pdf.md": VALID_INCIDENT,
                      "subscribers.yaml": lines("- email: spoc@partner.example",
                                                "  components: [eu-dcc]")})
    code, _, err = run_cli("check", "--site", site)
    assert code == 0, err


def test_incident_file_names_must_be_valid_ids(make_site, run_cli) -> None:
    site = make_site({"incidents/PDF down.md": "---\ntitle: T\nupdates:\n"
                                               "  - {at: 2026-11-20 10:00, status: resolved, body: x}\n---\n"})
    code, _, err = run_cli("check", "--site", site)
    assert code == 1
    assert err.splitlines()[0] == ("incidents/PDF down.md:1: file name: expected lowercase letters, digits "
                                   "and '-' (the file name is the incident's id and URL); found 'PDF down'")


def test_the_subscription_service_url_must_be_absolute_and_gets_its_slash(make_site, run_cli) -> None:
    from statusgen.content.load import load_site
    site_yaml = ("title: T\nbase_url: https://s.example.org/\nlanguages: [en, nl]\ntimezone: UTC\n"
                 "subscriptions: {url: %s}\n")
    site, _ = load_site(make_site({"content/site.yaml": site_yaml % "https://s.example.org/subscriptions"}))
    assert site.config.subscriptions_url == "https://s.example.org/subscriptions/"
    code, _, err = run_cli("check", "--site", make_site({"content/site.yaml": site_yaml % "/subscriptions/"},
                                                        name="relative"))
    assert code == 1
    assert err.splitlines()[0] == ("content/site.yaml:5: subscriptions.url: expected an absolute http(s) URL such as "
                                   "'https://status.example.org/subscriptions/'; found '/subscriptions/'")


def test_a_large_site_is_parsed_by_two_processes_with_the_same_result(
        make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """From `PARALLEL_FROM` files a forked worker parses the second half: the incidents,
    their order and every error (also one in each half) are what one process finds."""
    import os

    from statusgen.content import load
    from statusgen.errors import ContentErrors

    files: dict[str, str | bytes | None] = {
        f"incidents/2026/i{n}.md": VALID_INCIDENT.replace("PDF certificates", f"Outage {n}") for n in range(8)}
    site = make_site(files)
    broken = make_site({**files, "incidents/2026/i1.md": VALID_INCIDENT.replace("impact: major", "impact: P9"),
                        "incidents/2026/i6.md": VALID_INCIDENT.replace("status: resolved", "status: fixed")},
                       name="broken")
    pids = tmp_path / "pids"
    real = load.load_incident

    def noting_the_process(*args, **kwargs):  # type: ignore[no-untyped-def]
        with open(pids, "a") as record:
            record.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    def load_both(root: Path) -> tuple[object, object]:
        found = []
        for threshold in (10_000, 1):
            monkeypatch.setattr(load, "PARALLEL_FROM", threshold)
            try:
                found.append(load.load_site(root)[0])
            except ContentErrors as errors:
                found.append([str(error) for error in errors.errors])
        return found[0], found[1]

    monkeypatch.setattr(load, "load_incident", noting_the_process)
    serial, parallel = load_both(site)
    assert serial == parallel and len(serial.incidents) == 8  # type: ignore[attr-defined]
    assert len(set(pids.read_text().split())) == 2  # this process and the worker
    serial_errors, parallel_errors = load_both(broken)
    assert serial_errors == parallel_errors and len(serial_errors) == 2  # type: ignore[arg-type]
    assert "i1.md" in serial_errors[0] and "i6.md" in serial_errors[1]  # type: ignore[index]


def test_files_shared_in_chunks_load_in_order_however_the_two_processes_take_them(
        make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The two processes take the chunks between the first (this process's) and the last
    (the worker's) as each comes free: the incidents and errors come out in file order."""
    import os

    from statusgen.content import load
    from statusgen.content.catalog import load_catalog
    from statusgen.content.config import load_config
    from statusgen.errors import Problems

    files: dict[str, str | bytes | None] = {
        f"incidents/2026/i{n:02}.md": VALID_INCIDENT.replace("PDF certificates", f"Outage {n}") for n in range(40)}
    for n in (3, 17, 30):
        files[f"incidents/2026/i{n:02}.md"] = VALID_INCIDENT.replace("impact: major", "impact: P9")
    site = make_site(files)
    pids = tmp_path / "pids"
    real = load.load_incident

    def noting_the_process(site_dir: Path, path: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        with open(pids, "a") as record:
            record.write(f"{path} {os.getpid()}\n")
        return real(site_dir, path, *args, **kwargs)

    def loaded(threshold: int) -> tuple[list[str], list[str]]:
        monkeypatch.setattr(load, "PARALLEL_FROM", threshold)
        problems = Problems()
        config = load_config(site, problems)
        assert config is not None
        paths = load.incident_files_in_order(site)
        incidents = load._load_incidents(site, paths, config, load_catalog(site, config.languages, problems),
                                         problems)
        return [incident.path for incident in incidents], [str(error) for error in problems.errors]

    monkeypatch.setattr(load, "CHUNK_FILES", 1)
    monkeypatch.setattr(load, "load_incident", noting_the_process)
    serial = loaded(10_000)
    pids.unlink()
    shared = loaded(1)
    assert shared == serial
    assert shared[0] == [path for path in sorted(files) if path.startswith("incidents/") and
                         path not in ("incidents/2026/i03.md", "incidents/2026/i17.md", "incidents/2026/i30.md")]
    assert [error.split(":")[0] for error in shared[1]] == ["incidents/2026/i03.md", "incidents/2026/i17.md",
                                                            "incidents/2026/i30.md"]
    records = pids.read_text().splitlines()
    parsed_by = dict(line.split() for line in records)
    assert len(records) == len(parsed_by) == 40  # each file parsed once, by one of them
    assert parsed_by["incidents/2026/i00.md"] == str(os.getpid())
    assert parsed_by["incidents/2026/i39.md"] != str(os.getpid())


def test_the_incident_files_are_found_as_paths_find_them(tmp_path: Path) -> None:
    """A full load lists incident files with `scandir`: the files `Path.rglob` and
    `is_file` find, in the order `Path`s sort in (which orders the problems reported)."""
    from statusgen.content.incidents import incident_files
    from statusgen.content.load import incident_files_in_order

    site = tmp_path / "site"
    for path in ("2026/b.md", "2026/a.yaml", "2026-x/a.md", "2026/z/deep.yml", "2026/notes.txt",
                 ".md", "..md", ".hidden.md", "B.md", "folder.md/inside.yaml", "elsewhere/target.md"):
        (site / "incidents" / path).parent.mkdir(parents=True, exist_ok=True)
        (site / "incidents" / path).write_text("title: x\n")
    (site / "incidents/2026/linked.md").symlink_to(site / "incidents/elsewhere/target.md")
    (site / "incidents/2026/gone.md").symlink_to(site / "incidents/nothing.md")
    (site / "incidents/2026/linked-folder").symlink_to(site / "incidents/elsewhere", target_is_directory=True)

    found = incident_files_in_order(site)
    assert found == [file.relative_to(site).as_posix() for file in incident_files(site)]
    assert found == ["incidents/..md", "incidents/.hidden.md", "incidents/2026/a.yaml", "incidents/2026/b.md",
                     "incidents/2026/linked.md", "incidents/2026/z/deep.yml", "incidents/2026-x/a.md",
                     "incidents/B.md", "incidents/elsewhere/target.md", "incidents/folder.md/inside.yaml"]


CET_ZONES = ("(name a place with that clock instead, so that summer time is right: 'Europe/Amsterdam', "
             "'Europe/Andorra', 'Europe/Belgrade', 'Europe/Berlin', ...)")


@pytest.mark.parametrize(("given", "hint"), [
    ("CET+1", f" {CET_ZONES}"),            # an abbreviation with its offset: its zones, not 'CET'
    ("UTC+1", f" {CET_ZONES}"),            # an offset: the zones with it as their standard time
    ("+01:00", f" {CET_ZONES}"),
    ("CEST", f" {CET_ZONES}"),             # the summer name finds the same zones
    ("PST", " (name a place with that clock instead, so that summer time is right: 'America/Ensenada', "
            "'America/Los_Angeles', 'America/Santa_Isabel', 'America/Tijuana', ...)"),
    ("brussels", " (did you mean 'Europe/Brussels'?)"),   # a city without its region
    ("New York", " (did you mean 'America/New_York'?)"),
    ("Amsterdm", " (did you mean 'Europe/Amsterdam'?)"),  # a misspelt city: the closest Region/City
    ("Europe/Brussel", " (did you mean 'Europe/Brussels'?)"),
    ("Mars/Olympus_Mons", ""),
])
def test_timezone_suggestions_prefer_zones_named_after_a_place(tmp_path: Path, run_cli: RunCli,
                                                               given: str, hint: str) -> None:
    code, _, err = run_cli("init", tmp_path / "status", "--timezone", given)
    assert (code, err) == (2, "statusgen: --timezone: expected an IANA timezone such as 'Europe/Brussels'; "
                              f"found {given!r}{hint}\n")
    assert not (tmp_path / "status").exists()
