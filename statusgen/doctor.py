"""`statusgen doctor`: the whole configuration, checked before any work.

    the folder is a site ─▶ the site loads ─▶ the notifier's checks (mail settings, secret
        key, SMTP settings, the relay, the notifier store) ─▶ the subscription store
        ─▶ with subscriptions.url, the service's own settings (trusted proxies, its relay)
        + warnings for likely mistakes (`site.advice`)

With a database (`--db URL` or STATUSGEN_DATABASE_URL) both stores are in PostgreSQL: the
store checks become one of the database (reachable, the login accepted, both schemas
current) and the notifier store's baseline there.

The checks themselves live beside what they check (`content.config.site_folder`,
`notify.preflight`, `subscriptions.preflight`, `database.database_problems`); the commands run their share of them before
they do any work. The doctor runs them all, writes and sends nothing, and reports every
problem at once.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from statusgen.content.config import site_folder
from statusgen.content.load import load_site
from statusgen.database import DATABASE_VARIABLE, DatabaseError, database_problems, database_url, redacted
from statusgen.errors import ContentErrors
from statusgen.notifier.backends import store_location
from statusgen.notifier.preflight import PROBE_TIMEOUT, Check, mail_checks, notify_checks
from statusgen.site.advice import Advice, site_advice
from statusgen.site.state import incident_state
from statusgen.subscriptions.merge import store_audience
from statusgen.subscriptions.preflight import service_settings


@dataclass(frozen=True)
class Diagnosis:
    """Everything `statusgen doctor` found."""

    checks: tuple[Check, ...]
    advice: tuple[Advice, ...] = ()

    @property
    def problems(self) -> list[str]:
        return [problem for check in self.checks for problem in check.problems]

    @property
    def warnings(self) -> list[str]:
        return [str(advice) for advice in self.advice] + [w for check in self.checks for w in check.warnings]

    @property
    def ok(self) -> bool:
        return not self.problems


def diagnose(site_dir: Path, transport: str = "outbox", store_path: Path | str | None = None,
             env: Mapping[str, str] | None = None, now: datetime | None = None, *, timeout: float = PROBE_TIMEOUT,
             tls_context: ssl.SSLContext | None = None, local_hostname: str | None = None,
             database: str | None = None) -> Diagnosis:
    """Every check `notify` runs, and the site's warnings: nothing is written or sent.
    `database` is a `--db URL`; without it STATUSGEN_DATABASE_URL, else the SQLite stores."""
    env = os.environ if env is None else env
    now = now or datetime.now(UTC)
    site_dir = site_dir.resolve()
    missing = site_folder(site_dir)
    if missing:
        return Diagnosis((Check("site", tuple(missing)),))
    try:
        site, listed = load_site(site_dir)
    except ContentErrors as errors:
        return Diagnosis((Check("site", tuple(str(error) for error in errors.errors)),))
    published = sum(1 for incident in site.incidents if incident_state(incident, now))
    checks = [Check("site", found=f"{site_dir}: {len(site.components)} components, {published} incidents and "
                                  "maintenance windows published")]
    try:
        url = database_url(env, database)
    except DatabaseError as error:
        return Diagnosis((*checks, Check("database", (str(error),))))
    if url is not None:  # both stores there: reachable, both schemas current, before looking inside
        env = {**env, DATABASE_VARIABLE: url}
        problems = database_checks(url, "--db" if database else DATABASE_VARIABLE, timeout)
        if problems:
            checks += [*mail_checks(site.config, env, transport, timeout, tls_context, local_hostname),
                       Check("database", tuple(problems))]
            return Diagnosis(tuple(checks), tuple(site_advice(site, now, env, site_dir)))
        checks.append(Check("database", found=f"{redacted(url)} answers; the notifier and subscriptions schemas "
                                               "are current"))
    store = store_location(site_dir, store_path, env)
    checks += [*notify_checks(site, env, transport, store, published, timeout=timeout, tls_context=tls_context,
                              local_hostname=local_hostname, listed=tuple(listed)),
               *store_audience(site_dir, env, store_path).checks(site)]
    if site.config.subscriptions_url:  # what would stop `statusgen subscriptions serve`, too
        checks += service_settings(site.config, env, relay=transport != "smtp")
    return Diagnosis(tuple(checks), tuple(site_advice(site, now, env, site_dir)))


def database_checks(url: str, setting: str = DATABASE_VARIABLE, timeout: float = PROBE_TIMEOUT) -> list[str]:
    """Both stores in PostgreSQL: the database reachable, both schemas current (else
    `statusgen db upgrade`); what is inside each store is the stores' own checks."""
    from statusgen.notifier import pgstore as notifier_pgstore
    from statusgen.subscriptions import pgstore as subscriptions_pgstore

    stores = [(store.STORE, store.MIGRATIONS) for store in (notifier_pgstore, subscriptions_pgstore)]
    return database_problems(url, stores, setting, timeout)


def report_lines(diagnosis: Diagnosis, transport: str, verbose: bool = False) -> tuple[list[str], list[str]]:
    """What `statusgen doctor` prints: (problems and warnings, for stderr; what passed and
    the summary, for stdout)."""
    shown = [*diagnosis.problems, *diagnosis.warnings]
    passed = [f"ok: {check.name}: {check.found}" for check in diagnosis.checks if check.passed] if verbose else []
    problems, warnings = len(diagnosis.problems), len(diagnosis.warnings)
    if problems:
        summary = (f"doctor: {problems} problem{'s' if problems != 1 else ''}"
                   f"{f' and {warnings} warning' + ('s' if warnings != 1 else '') if warnings else ''}: "
                   "fix them before `statusgen notify`, which stops at the same ones")
    else:
        summary = (f"doctor: ready to notify by {transport}: {len(diagnosis.checks)} checks passed"
                   f"{f' ({warnings} warning' + ('s' if warnings != 1 else '') + ')' if warnings else ''}")
    return shown, [*passed, summary]
