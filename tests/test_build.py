"""The build as a whole: golden output, reproducibility, atomic writes, themes, privacy."""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from statusgen.site.build import BuildResult, build
from statusgen.content.load import load_site
from tests.conftest import EXAMPLE_NOW, ROOT, MakeSite
from tests.golden import GOLDEN, read_tree


def test_example_site_matches_the_golden_copy(example_build: BuildResult) -> None:
    built, golden = read_tree(example_build.out_dir), read_tree(GOLDEN)
    assert sorted(built) == sorted(golden), "files differ; regenerate with: python tests/golden.py"
    for path in sorted(built):
        if built[path] != golden[path]:
            diff = difflib.unified_diff(golden[path].decode(errors="replace").splitlines(),
                                        built[path].decode(errors="replace").splitlines(),
                                        f"golden/{path}", f"built/{path}", lineterm="", n=2)
            pytest.fail("\n".join(list(diff)[:60]) + "\n\nregenerate with: python tests/golden.py")


def test_two_builds_at_the_same_time_are_byte_identical(tmp_path: Path) -> None:
    first = build(ROOT, tmp_path / "a", EXAMPLE_NOW)
    second = build(ROOT, tmp_path / "b", EXAMPLE_NOW)
    assert first.outputs == second.outputs
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")


def test_source_date_epoch_fixes_the_build_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796036400")  # 2026-11-30 12:00 CET
    from_epoch = build(ROOT, tmp_path / "epoch")
    assert from_epoch.outputs == build(ROOT, tmp_path / "now", EXAMPLE_NOW).outputs


def test_the_build_time_moves_the_site(tmp_path: Path) -> None:
    later = build(ROOT, tmp_path / "later", "2026-12-06T23:00:00+01:00")
    home = later.outputs["en/index.html"].decode()
    assert "Maintenance in progress" in home
    assert later.state.indicator.indicator in ("minor", "maintenance")


def test_output_layout(example_build: BuildResult) -> None:
    outputs = example_build.outputs
    site = example_build.site
    for lang_prefix in ("", "en/"):
        assert f"{lang_prefix}index.html" in outputs
        assert f"{lang_prefix}history/index.html" in outputs
        assert f"{lang_prefix}404.html" in outputs
        for page in ("help", "priorities", "escalation"):
            assert f"{lang_prefix}{page}/index.html" in outputs
        for entry in site.incidents:
            assert f"{lang_prefix}incidents/{entry.id}/index.html" in outputs
        for item in [*site.components, *site.groups]:
            assert f"{lang_prefix}components/{item.id}/index.html" in outputs
    assert "static/style.css" in outputs and "api/uptime.json" in outputs


def test_pages_name_their_language_and_translations(example_build: BuildResult) -> None:
    html = example_build.outputs["en/incidents/2026-11-03-pdf-certificates-unavailable/index.html"].decode()
    assert '<html lang="en">' in html
    assert ('<link rel="alternate" hreflang="nl" '
            'href="https://status.example.org/incidents/2026-11-03-pdf-certificates-unavailable/">') in html
    assert '<link rel="alternate" hreflang="x-default" href="https://status.example.org/incidents/' in html
    assert '<a href="../../../incidents/2026-11-03-pdf-certificates-unavailable/" hreflang="nl" lang="nl">Nederlands</a>' in html
    assert '<li><a href="./" hreflang="en" lang="en" aria-current="true">English</a></li>' in html


def test_times_are_shown_in_the_site_timezone_with_the_zone_named(example_build: BuildResult) -> None:
    html = example_build.outputs["en/incidents/2026-11-03-pdf-certificates-unavailable/index.html"].decode()
    assert '<time datetime="2026-11-03T07:12:00+00:00">3 Nov 2026, 08:12 CET</time>' in html
    dutch = example_build.outputs["incidents/2026-11-03-pdf-certificates-unavailable/index.html"].decode()
    assert '<time datetime="2026-11-03T07:12:00+00:00">3 nov 2026, 08:12 CET</time>' in dutch


def test_incident_page_shows_timeline_duration_components_and_postmortem(example_build: BuildResult) -> None:
    html = example_build.outputs["en/incidents/2026-11-03-pdf-certificates-unavailable/index.html"].decode()
    assert html.count('<li class="update ') == 6
    assert "<dd>2 hr 53 min</dd>" in html
    assert '<span class="impact i-critical">P1 · Critical</span>' in html
    assert '<h2 id="postmortem">Post-mortem</h2>' in html and "<h3>What happened?</h3>" in html
    dutch = example_build.outputs["incidents/2026-11-03-pdf-certificates-unavailable/index.html"].decode()
    assert "<h3>Wat is er gebeurd?</h3>" in dutch and "What happened?" not in dutch


def test_history_is_paginated(make_site: MakeSite, tmp_path: Path) -> None:
    files = {"content/site.yaml": "title: S\nbase_url: https://s.example.org/\nlanguages: [en, nl]\n"
                                  "timezone: UTC\npage_size: 2\n"}
    for day in range(1, 6):
        files[f"incidents/i{day}.md"] = (f"---\ntitle: Incident {day}\ncomponents: {{}}\nupdates:\n"
                                         f"  - {{at: 2026-11-0{day} 10:00, status: resolved, body: x}}\n---\n")
    result = build(make_site(files), tmp_path / "out", "2026-11-30T12:00:00Z")
    pages = sorted(p for p in result.outputs if p.startswith("history/"))
    # numbered from the oldest, two a page; the front page holds the rest (2 to 3 entries)
    assert pages == ["history/1/index.html", "history/index.html"]
    first = result.outputs["history/index.html"].decode()
    assert "Incident 5" in first and "Incident 3" in first and "Incident 2" not in first
    assert '<a href="1/" rel="next">Older</a>' in first and 'rel="prev"' not in first
    oldest = result.outputs["history/1/index.html"].decode()
    assert "Incident 1" in oldest and "Incident 2" in oldest and "Incident 3" not in oldest
    assert '<a href="../" rel="prev">Newer</a>' in oldest and 'rel="next"' not in oldest
    assert "<title>Incident history (Page 1)" in oldest and "<span>Page 1</span>" in oldest


def test_no_subscriber_address_reaches_the_output(example_build: BuildResult) -> None:
    _, subscribers = load_site(ROOT)
    assert subscribers, "the example site should have subscribers to test this with"
    addresses = {s.email.lower() for s in subscribers}
    for path, content in read_tree(example_build.out_dir).items():
        text = content.decode(errors="replace").lower()
        leaked = {a for a in addresses if a in text}
        assert not leaked, f"{path} contains {leaked}"


def test_markdown_is_sanitised(make_site: MakeSite, tmp_path: Path) -> None:
    body = "'<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) **bold**'"
    site = make_site({"incidents/x.md": f"---\ntitle: '<b>T</b>'\ncomponents: {{}}\nupdates:\n"
                                        f"  - {{at: 2026-11-20 10:00, status: investigating, body: {body}}}\n---\n"})
    html = build(site, tmp_path / "out", EXAMPLE_NOW).outputs["incidents/x/index.html"].decode()
    assert "<script>alert" not in html and "onerror" not in html and "javascript:" not in html
    assert "<strong>bold</strong>" in html
    assert "&lt;b&gt;T&lt;/b&gt;" in html


def test_a_sites_own_templates_override_the_theme_file_by_file(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({
        "site_templates/templates/404.html": '{% extends "!theme/404.html" %}'
                                             '{% block main %}<p>Custom 404</p>{{ super() }}{% endblock %}',
        "site_templates/i18n/en.yaml": "nav_history: Archive\n",
        "site_templates/static/style.css": "body { color: red }\n",
        "site_templates/static/logo.svg": "<svg/>",
    })
    outputs = build(site, tmp_path / "out", EXAMPLE_NOW).outputs
    assert "<p>Custom 404</p>" in outputs["404.html"].decode()
    assert "Page not found" in outputs["404.html"].decode()
    assert ">Archive</a>" in outputs["index.html"].decode()
    assert ">Geschiedenis</a>" in outputs["nl/index.html"].decode()
    assert outputs["static/style.css"] == b"body { color: red }\n"
    assert outputs["static/logo.svg"] == b"<svg/>"
    assert outputs["static/favicon.svg"].startswith(b"<svg")


def test_a_broken_template_is_reported_by_file_and_line(make_site: MakeSite, tmp_path: Path, run_cli) -> None:
    site = make_site({"site_templates/templates/404.html": "<p>\n{% if %}\n"})
    out = tmp_path / "out"
    build(make_site(name="good"), out, EXAMPLE_NOW)
    before = read_tree(out)
    code, _, err = run_cli("build", "--site", site, "--out", out, "--now", EXAMPLE_NOW)
    assert code == 1
    assert err.splitlines()[0] == "site_templates/templates/404.html:2: template error: Expected an expression, got 'end of statement block'"
    assert read_tree(out) == before


def test_usage_errors_exit_2(run_cli, tmp_path: Path) -> None:
    code, _, err = run_cli("build", "--site", ROOT, "--out", tmp_path / "o", "--now", "yesterday")
    assert code == 2
    assert err.strip() == ("statusgen: --now: expected an ISO 8601 time like '2026-11-28 09:20'; "
                           "found 'yesterday'")
    assert run_cli("frobnicate")[0] == 2
    code, _, err = run_cli("build", "--site", ROOT, "--out", ROOT)
    assert code == 2 and "would replace the site itself" in err


def test_check_and_build_commands_on_the_example_site(run_cli, tmp_path: Path) -> None:
    code, _, err = run_cli("check", "--site", ROOT)
    assert code == 0, err
    code, _, err = run_cli("build", "--site", ROOT, "--out", tmp_path / "public", "--now", EXAMPLE_NOW)
    assert code == 0, err
    assert re.search(r"built \d+ files into .*public in \d+\.\d+ s", err)
    assert (tmp_path / "public" / "index.html").is_file()
    assert os.stat(tmp_path / "public").st_mode & 0o755 == 0o755


def test_the_console_script_runs(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "statusgen", "check", "--site", str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel and sdist `python -m build` makes (the wheel is built from the sdist)."""
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel], [sdist] = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    return wheel, sdist


def _theme_files() -> set[str]:
    theme = {p.relative_to(ROOT).as_posix() for p in (ROOT / "site_templates").rglob("*") if p.is_file()}
    assert any(name.startswith("site_templates/scaffold/") for name in theme), "no scaffold in the theme"
    return theme


def test_the_release_files_are_named_after_the_one_version(release: tuple[Path, Path]) -> None:
    from statusgen import __version__

    assert [path.name for path in release] == [f"statusgen-{__version__}-py3-none-any.whl",
                                               f"statusgen-{__version__}.tar.gz"]


def test_twine_accepts_the_wheel_and_the_sdist(release: tuple[Path, Path]) -> None:
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, release)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_contains_the_theme_and_the_scaffold(release: tuple[Path, Path]) -> None:
    wheel, _ = release
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"statusgen/{name}" for name in _theme_files()} <= names
    assert {"statusgen/cli.py", "statusgen/subscriptions/__init__.py"} <= names
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Project-URL: Source, https://github.com/statusgen/statusgen\n" in text
    assert "Project-URL: Changelog, https://github.com/statusgen/statusgen/blob/main/CHANGELOG.md\n" in text


def test_the_sdist_contains_the_source_the_theme_the_tests_and_the_changelog(release: tuple[Path, Path]) -> None:
    _, sdist = release
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    assert _theme_files() <= names
    assert {"statusgen/__init__.py", "statusgen/cli.py", "tests/conftest.py", "README.md", "CHANGELOG.md",
            "pyproject.toml", "PKG-INFO"} <= names
    assert not any(name.startswith((".venv/", "public/", ".statusgen/", ".git/")) for name in names)


def test_the_version_is_written_in_one_place(release: tuple[Path, Path]) -> None:
    """statusgen/__init__.py says the version; everything else reads it from there (the
    changelog names each version, and the metadata is generated)."""
    from statusgen import __version__

    _, sdist = release
    version = re.compile(rb"(?<![\d.])" + re.escape(__version__.encode()) + rb"(?!\.?\d)")
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        holding = sorted(member.name.removeprefix(f"{top}/") for member in archive.getmembers()
                         if member.isfile() and version.search(archive.extractfile(member).read()))  # type: ignore[union-attr]
    assert holding == ["CHANGELOG.md", "PKG-INFO", "statusgen/__init__.py"]


def test_a_site_can_override_one_nested_translation(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"site_templates/i18n/en.yaml": "indicator:\n  none: Everything works\n"})
    home = build(site, tmp_path / "out", EXAMPLE_NOW).outputs["index.html"].decode()
    assert "Everything works" in home
    assert "Operational" in home  # the rest of the theme's texts are still there


def test_percentages_follow_the_language(make_site: MakeSite, tmp_path: Path) -> None:
    outputs = build(make_site(), tmp_path / "out", EXAMPLE_NOW).outputs
    assert "100.00% uptime" in outputs["index.html"].decode()
    assert "100,00% beschikbaar" in outputs["nl/index.html"].decode()


def test_markdown_hard_line_breaks_survive_the_plain_text_shortcut() -> None:
    from statusgen.markup import render_markdown
    assert render_markdown("line one  \nline two") == "<p>line one<br>\nline two</p>"
    assert render_markdown("just words") == "<p>just words</p>"


def test_the_subscribe_page_posts_to_the_service_with_components_by_group(example_build: BuildResult) -> None:
    html = example_build.outputs["en/subscribe/index.html"].decode()
    assert '<form class="subscribe" method="post" action="https://status.example.org/subscriptions/subscribe">' in html
    assert '<input id="email" name="email" type="email" autocomplete="email" required maxlength="254">' in html
    assert '<input type="checkbox" name="components" value="eu-dcc"> All of EU Digital COVID Certificates' in html
    assert '<input type="checkbox" name="components" value="dcc-app"> Mobile app' in html
    assert '<option value="en" lang="en" selected>English</option>' in html
    assert 'name="website" type="text" tabindex="-1"' in html  # the honeypot
    for page in ("en/index.html", "en/components/dcc-app/index.html"):
        assert 'href="' in example_build.outputs[page].decode() and "subscribe/" in example_build.outputs[page].decode()


def test_without_a_service_the_subscribe_page_offers_feeds(make_site: MakeSite, tmp_path: Path) -> None:
    html = build(make_site(), tmp_path / "out", EXAMPLE_NOW).outputs["subscribe/index.html"].decode()
    assert "<form" not in html
    assert "Email subscriptions are not offered on this status page." in html
    assert '<a href="../components/dcc-app/history.atom" type="application/atom+xml">Atom feed</a>' in html


def test_a_build_leaves_the_collector_as_it_found_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build collects less often and freezes the heap while workers fork; a process that
    goes on afterwards (serve, a test run, a library user) gets the collector back as it was."""
    import gc

    from statusgen.content import load

    monkeypatch.setattr(load, "PARALLEL_FROM", 1)  # the example site is parsed by two processes too
    gc.set_threshold(700, 10, 10)
    before = gc.get_threshold()
    build(ROOT, tmp_path / "public", EXAMPLE_NOW)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_rebuilds_summary_says_what_it_wrote(make_site: MakeSite, tmp_path: Path) -> None:
    """`statusgen serve` prints this line after each build; the first swaps in the whole folder."""
    from statusgen.site.build import Builder

    builder = Builder(make_site(), tmp_path / "out", EXAMPLE_NOW, parallel=False)
    first = builder.build().summary()
    assert re.fullmatch(r"built \d+ files into .*out in \d+\.\d\d s \(\d+ pages rendered, 0 reused, "
                        r"all files written\)", first), first
    again = builder.build().summary()
    assert re.fullmatch(r"built \d+ files into .*out in \d+\.\d\d s \(\d+ pages? rendered, \d+ reused, "
                        r"0 files written\)", again), again
