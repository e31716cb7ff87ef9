"""`statusgen check` lists every localised text that lacks a site language (issue 14, WCAG
3.1.2): a warning at the line of its key (exit 0), an error with `--strict` (exit 1). Plain
strings, meant for every language, and `NAME.md` pages are never listed."""

from __future__ import annotations

from collections.abc import Callable

from statusgen.content.load import load_site
from statusgen.site.advice import site_advice
from statusgen.site.build import resolve_now
from statusgen.site.untranslated import language_name
from tests.conftest import MakeSite
from tests.test_validation import incident, lines

NOW = "2026-11-30T12:00:00+01:00"
RunCli = Callable[..., tuple[int, str, str]]
SITE = lines(
    "title: {nl: Status van het platform}",         # 1: no English
    "base_url: https://status.acme.eu/",            # 2
    "languages: [nl, en]",                          # 3
    "timezone: Europe/Brussels",                    # 4
    "description: The platform's status.",          # 5: plain: every language
    "contacts:",                                    # 6
    "  desk:",                                      # 7
    "    email: desk@acme.eu",                      # 8
    "    hours:",                                   # 9: no Dutch
    "      en: working days 8:00-17:00",            # 10
)
COMPONENTS = lines(
    "- id: certificates",                           # 1
    "  name: {nl: Certificaten, en: Certificates}",  # 2
    "  components:",                                # 3
    "    - id: pdf",                                # 4
    "      name: {nl: PDF-certificaten}",           # 5: no English
    "      description: Downloads.",                # 6
    "- id: app",                                    # 7
    "  name: App",                                  # 8
    "  description:",                               # 9: no English
    "    nl: De mobiele app.",                      # 10
)
INCIDENT = incident(
    "title: {nl: Trage downloads, en: Slow downloads}",  # 2
    "components: {pdf: degraded_performance}",           # 3
    "updates:",                                          # 4
    "  - at: 2026-11-29 09:00",                          # 5
    "    status: investigating",                         # 6
    "    body:",                                         # 7: no Dutch
    "      en: We are looking into it.",                 # 8
    "  - at: 2026-11-29 10:00",                          # 9
    "    status: resolved",                              # 10
    "    body: Opgelost. Solved.",                       # 11: plain
    "postmortem: {en: A disk filled up.}",               # 12: no Dutch
)
FILES = {
    "content/site.yaml": SITE,
    "components.yaml": COMPONENTS,
    "incidents/2026/slow.md": INCIDENT,
    "content/pages/help.nl.md": "---\ntitle: Hulp\n---\nHulp.\n",
    "content/pages/escalation.md": "---\ntitle: Escalation\n---\nFor every language.\n",
    "content/pages/priorities.nl.md": "---\ntitle: Prioriteiten\n---\nP1.\n",
    "content/pages/priorities.en.md": "---\ntitle: Priorities\n---\nP1.\n",
}
EXPECTED = [
    "components.yaml:5: warning: name of 'pdf': no English (en) text; readers of /en/ see the Dutch (nl) one",
    "components.yaml:9: warning: description of 'app': no English (en) text; readers of /en/ see the Dutch (nl) one",
    "content/pages/help.nl.md:1: warning: page 'help': no English (en) version (help.en.md in content/pages/); "
    "readers of /en/help/ see the Dutch (nl) one",
    "content/site.yaml:1: warning: title: no English (en) text; readers of /en/ see the Dutch (nl) one",
    "content/site.yaml:9: warning: contacts.desk.hours: no Dutch (nl) text; readers of / see the English (en) one",
    "incidents/2026/slow.md:7: warning: body: no Dutch (nl) text; readers of / see the English (en) one",
    "incidents/2026/slow.md:12: warning: postmortem: no Dutch (nl) text; readers of / see the English (en) one",
]


def test_check_lists_every_text_without_a_site_language_and_exits_0(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site(FILES)
    code, out, err = run_cli("check", "--site", site, "--now", NOW)
    assert (code, out) == (0, "")
    assert err.splitlines() == [*EXPECTED, f"{site.resolve()}: 2 components, 1 incident, 0 maintenance windows, "
                                           "no errors, 7 warnings"]


def test_strict_makes_them_errors(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site(FILES)
    code, out, err = run_cli("check", "--site", site, "--now", NOW, "--strict")
    assert (code, out) == (1, "")
    assert err.splitlines() == [*EXPECTED, "7 warnings; --strict makes them errors"]


def test_doctor_lists_them_with_its_other_advice(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site(FILES)
    _, _, err = run_cli("doctor", "--site", site)
    assert [line for line in err.splitlines() if line in EXPECTED] == EXPECTED


def test_plain_strings_and_complete_mappings_are_never_listed(make_site: MakeSite, run_cli: RunCli) -> None:
    site = make_site({
        "content/site.yaml": SITE.replace("{nl: Status van het platform}", "Acme").replace(
            "      en: working days 8:00-17:00", "      en: working days\n      nl: werkdagen"),
        "components.yaml": "- id: app\n  name: App\n  description: {nl: De app., en: The app.}\n",
        "incidents/x.md": incident("title: Slow", "updates:", "  - at: 2026-11-29 09:00",
                                   "    status: investigating", "    body: Looking.", body="A post-mortem in Markdown."),
        "content/pages/help.md": "---\ntitle: Help\n---\nFor every language.\n",
        "content/pages/faq.nl.md": "---\ntitle: FAQ\n---\nNL.\n",
        "content/pages/faq.en.md": "---\ntitle: FAQ\n---\nEN.\n",
    })
    code, _, err = run_cli("check", "--site", site, "--now", NOW, "--strict")
    assert (code, err) == (0, f"{site.resolve()}: 1 component, 1 incident, 0 maintenance windows, no errors\n")


def test_several_missing_languages_are_one_warning_naming_all(make_site: MakeSite) -> None:
    site_dir = make_site({
        "content/site.yaml": "title: {de: Status, nl: Status}\nbase_url: https://status.acme.eu/\n"
                             "languages: [nl, en, fr, de]\ntimezone: Europe/Brussels\n",
        "components.yaml": "- id: app\n  name: App\n",
        "content/pages/help.de.md": "---\ntitle: Hilfe\n---\nHilfe.\n",
        "content/templates/outage.yaml": "title: {nl: Storing}\nbody: Down.\nstatus: investigating\n",
    })
    site, _ = load_site(site_dir)
    found = [str(a) for a in site_advice(site, resolve_now(site, NOW), {})]
    assert found == [
        "content/pages/help.de.md:1: warning: page 'help': no Dutch (nl), English (en) or French (fr) version "
        "(help.nl.md or help.en.md or help.fr.md in content/pages/); readers of /help/, /en/help/ and /fr/help/ "
        "see the German (de) one",
        "content/site.yaml:1: warning: title: no English (en) or French (fr) text; readers of /en/ and /fr/ "
        "see the Dutch (nl) one",
        "content/templates/outage.yaml:1: warning: title: no English (en), French (fr) or German (de) text; "
        "readers of /en/, /fr/ and /de/ see the Dutch (nl) one",
    ]


def test_language_names_in_english_and_unknown_codes_as_they_are() -> None:
    assert [language_name(code) for code in ("nl", "fr", "de", "en", "pt-BR", "qq")] == \
        ["Dutch", "French", "German", "English", "Portuguese (Brazil)", "qq"]
