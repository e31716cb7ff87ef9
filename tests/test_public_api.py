"""The package root's entry points (`statusgen.load_site`, `check`, `build`, `notify`), as
the README's "Use from Python" section shows them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import statusgen
from statusgen.subscriptions.store import SqliteSubscriptionStore
from tests.conftest import EXAMPLE_NOW, ROOT, MakeSite

SUBSCRIBERS = """\
- email: stays@partner.example
- email: left@partner.example
"""
INCIDENT = """\
---
title: Certificates down
impact: major
components: {dcc-certificates: major_outage}
updates:
  - at: 2026-11-28 09:20
    status: investigating
    body: We are investigating.
---
"""
ENTRY_POINTS = ("load_site", "check", "build", "notify")


def test_the_entry_points_are_importable_from_the_root_and_documented() -> None:
    for name in ENTRY_POINTS:
        function = getattr(statusgen, name)
        assert callable(function) and function.__doc__, name
    assert set(ENTRY_POINTS) | {"ContentErrors", "SetupError", "StatusgenError", "__version__"} <= set(dir(statusgen))
    assert set(ENTRY_POINTS) <= set(statusgen.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'bild'"):
        statusgen.bild  # noqa: B018


def test_importing_the_package_loads_no_pipeline() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys, statusgen; print(sorted(m for m in sys.modules "
                           "if m.startswith('statusgen.')))"], capture_output=True, text=True, check=True,
                          cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_build_and_check_from_python_match_the_command_line(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = statusgen.build(ROOT, tmp_path / "python", now=EXAMPLE_NOW)
    code, _, _ = run_cli("build", "--site", ROOT, "--out", tmp_path / "cli", "--now", EXAMPLE_NOW, "-q")
    assert code == 0
    assert sorted(result.outputs) == sorted(p.relative_to(tmp_path / "cli").as_posix()
                                            for p in (tmp_path / "cli").rglob("*") if p.is_file())
    for path in result.outputs:
        assert (tmp_path / "python" / path).read_bytes() == (tmp_path / "cli" / path).read_bytes(), path
    assert statusgen.check(ROOT).config.base_url == "https://status.example.org/"


def test_content_errors_reach_the_caller_with_every_problem(make_site: MakeSite) -> None:
    site = make_site({"incidents/bad.md": INCIDENT.replace("dcc-certificates", "dcc-cert").replace("major\n", "huge\n", 1)})
    with pytest.raises(statusgen.ContentErrors) as raised:
        statusgen.load_site(site)
    assert [str(error) for error in raised.value.errors] == [
        "incidents/bad.md:3: impact: expected one of none, minor, major, critical, P1, P2, P3, P4; found 'huge'",
        "incidents/bad.md:4: unknown component 'dcc-cert' (did you mean 'dcc-certificates'?)",
    ]


def test_notify_from_python_honours_the_subscription_stores_unsubscribes(make_site: MakeSite) -> None:
    """The root's notify hands the notifier the subscription store, as the command does:
    an address that unsubscribed through the service is not mailed, also when it is in
    subscribers.yaml."""
    site = make_site({"subscribers.yaml": SUBSCRIBERS, "content/site.yaml": SITE_WITH_SERVICE})
    env = {"STATUSGEN_SECRET_KEY": "k" * 32}
    store = SqliteSubscriptionStore(site / ".statusgen" / "subscriptions.db")
    store.unsubscribe("left@partner.example", datetime(2026, 11, 1, tzinfo=UTC))
    store.close()
    statusgen.build(site, now="2026-11-28T09:00:00+01:00")
    statusgen.notify(site, env=env)  # a new site: the first run records the (empty) baseline
    (site / "incidents" / "down.md").write_text(INCIDENT, encoding="utf-8")
    statusgen.build(site, now="2026-11-28T09:30:00+01:00")
    report = statusgen.notify(site, env=env)
    assert report.counts["sent"] == 1
    sent = [p.read_bytes() for p in (site / ".statusgen" / "outbox").rglob("*") if p.is_file()]
    assert [re.search(rb"^To: (.*)\r$", message, re.M).group(1) for message in sent] == [b"stays@partner.example"]


SITE_WITH_SERVICE = """\
title: {en: Example status, nl: Voorbeeldstatus}
base_url: https://status.regional-platform.test-site.nl/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions:
  url: https://status.regional-platform.test-site.nl/subscriptions/
notify:
  from: status@regional-platform.test-site.nl
"""


def test_the_readmes_python_example_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use from Python"):readme.index("## Development")]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    site = tmp_path / "site"
    shutil.copytree(ROOT, site, ignore=shutil.ignore_patterns(".git", "public", ".statusgen", ".venv", "tests",
                                                              "bench", "screenshots", "statusgen"))
    env = {**os.environ, "STATUSGEN_SECRET_KEY": "k" * 32}  # the example site has a subscription service
    statusgen.build(site, now=EXAMPLE_NOW)
    statusgen.notify(site, baseline=True, env=env)  # the notifier store this example's dry run compares with
    done = subprocess.run([sys.executable, "-c", code], cwd=site, capture_output=True, text=True, check=False,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\d+ files in .*public\n\d+ events\n", done.stdout), done.stdout
