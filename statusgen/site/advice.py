"""Warnings about a valid site: settings and content that load, but are likely mistakes.

    Site + now + environment ──site_advice──▶ [Advice(path, line, message)], sorted

`statusgen check` and `build` print them (exit 0; `check --strict` fails on them) and
`statusgen doctor` lists them with its own checks. Each names the file and line (or the
environment variable) to change, and says what goes wrong if nothing changes:

- an update dated more than an hour after now (a typo in the year, a clock ahead): it
  stays unpublished until then;
- an incident open for more than `warnings.unresolved_after_days` (default 14) days:
  shown as ongoing until someone resolves it;
- an address (`base_url`, `subscriptions.url`, `notify.from`, `notify.unsubscribe_mailto`)
  at a name reserved for examples (example.org, .test, localhost, ...);
- a `timezone` that names no place (`CET`, `EST`, `Etc/GMT-1`): it misses summer time or
  keeps a clock no reader's place keeps;
- a `base_url` or `subscriptions.url` with plain `http://` for a host beyond this machine:
  readers' browsers warn, and the service's forms and signed links cross the network readable;
- a `STATUSGEN_*` variable statusgen does not read, close to one it does (`…_SMTP_PASS` for `…_SMTP_PASSWORD`):
  the setting meant is missing;
- mail to an SMTP relay without encryption;
- unsubscribing by mail only: someone has to handle every request by hand;
- a localised text (a title, an update, a component name, a content page, ...) that lacks
  one of the site's languages: readers of that language see another (`untranslated`);
- a site's own page template (`site_templates/templates/`) with an inline script, style or
  event handler: the Content-Security-Policy in the published `_headers` blocks it, so it
  would work in a preview without the headers and silently fail in production;
- a content page that still holds a `[[placeholder]]` to fill in (the scaffold's
  accessibility statement has them: its organisation, dates, contact, enforcement body).

Warnings that come from the environment (`STATUSGEN_SMTP_*`) have the path
`environment` and line 0: `environment:0: warning: STATUSGEN_SMTP_SECURITY: ...`.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from statusgen.content.config import CONFIG_PATH, is_place_zone, zones_on_the_clock_of
from statusgen.content.incidents import shown_time
from statusgen.content.model import Site, SiteConfig
from statusgen.content.relay import DEFAULT_PORTS, SITE_SETTINGS, setting_sources
from statusgen.site.untranslated import untranslated

ENVIRONMENT = "environment"
"""The path of a warning about an environment variable (its line is 0)."""
FUTURE_GRACE = timedelta(hours=1)
"""How far ahead an update may be dated before it looks like a mistake (a clock a bit fast)."""
RESERVED_DOMAINS = ("example.org", "example.com", "example.net")
RESERVED_SUFFIXES = ("example", "invalid", "test", "localhost")
"""Names reserved for examples and tests (RFC 2606, RFC 6761): nobody can publish there."""
UTC_NAMES = ("UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu")
"""Zones that name no place and need none: UTC keeps no summer time anywhere."""
SENDER_VARIABLE = "STATUSGEN_SMTP_FROM"
"""Where `statusgen notify` takes the sender from before `notify.from`."""
PLACEHOLDER = re.compile(r"\[\[([^\[\]]+)\]\]")
"""`[[what to write here]]` in a content page: text still to fill in."""
COMMENT = re.compile(r"<!--.*?-->", re.S)
PLAIN_HTTP = (("base_url", "browsers mark every page 'not secure', and a network in between may change what "
                             "readers see"),
              ("subscriptions.url", "addresses, signed links and the forms' tokens cross the network readable"))
PREFIX = "STATUSGEN_"
VARIABLES = ("STATUSGEN_SECRET_KEY", "STATUSGEN_DATABASE_URL", "STATUSGEN_SUBSCRIPTIONS_DB",
             "STATUSGEN_TRUSTED_PROXIES", "STATUSGEN_WEBHOOK_ALLOW_NETS", "STATUSGEN_WEBHOOK_TIMEOUT",
             *(f"STATUSGEN_SMTP_{name.upper()}" for name in (*SITE_SETTINGS, "password", "from")))
"""Every variable statusgen reads (DESIGN.md's table), for the typo warning."""
WEBHOOK_SECRETS = "STATUSGEN_WEBHOOK_SECRET_"
ADDRESSES = (("base_url", "every page, feed, API document and email links to it"),
             ("subscriptions.url", "every email's manage and unsubscribe links point there"),
             ("notify.from", "mail from it fails the receivers' sender checks"),
             ("notify.unsubscribe_mailto", "unsubscribe requests sent there reach nobody"))


@dataclass(frozen=True, order=True)
class Advice:
    """One warning, printed as `PATH:LINE: warning: MESSAGE` (PATH relative to the site)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: warning: {self.message}"


def site_advice(site: Site, now: datetime, env: Mapping[str, str], site_dir: Path | None = None) -> list[Advice]:
    """Every warning about `site` at `now`, with `env` as the environment, sorted; with
    `site_dir`, also about the site's own page templates there."""
    config = site.config
    found = [*_future_updates(site, now), *_unresolved(site, now), *_placeholders(config, env),
             *_plain_http(config), *_misspelt_variables(env),
             *_timezone(config), *_plain_smtp(config, env), *_unsubscribe_by_hand(config),
             *(Advice(*found) for found in untranslated(site)), *_unfilled_pages(site),
             *(_inline_code(site_dir) if site_dir is not None else ())]
    return sorted(set(found))


PAGE_TEMPLATES = "site_templates/templates"
"""A site's own page templates (the emails' may style inline: mail clients need it)."""
INLINE_CODE = (("an inline script", re.compile(r"<script\b(?![^>]*\bsrc\s*=)", re.I)),
               ("a <style> element", re.compile(r"<style\b", re.I)),
               ("a style attribute", re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)),
               ("an event handler attribute", re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)),
               ("a javascript: URL", re.compile(r"javascript:", re.I)))
"""What the published Content-Security-Policy (`seo.headers`: no 'unsafe-inline') refuses."""


def _inline_code(site_dir: Path) -> Iterator[Advice]:
    """Inline code in the site's own page templates, by file and line (a tag's attributes
    on one line: enough for the mistakes people make)."""
    folder = site_dir / PAGE_TEMPLATES
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".html", ".xml", ".svg") or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for what, pattern in INLINE_CODE:
                if pattern.search(line):
                    yield Advice(path.relative_to(site_dir).as_posix(), number,
                                 f"{what}: the Content-Security-Policy the site publishes (_headers) blocks inline "
                                 f"code, so browsers will ignore it; move it into a file in site_templates/static/")
                    break


def _future_updates(site: Site, now: datetime) -> Iterator[Advice]:
    for incident in site.incidents:
        for update in incident.updates:
            if update.at > now + FUTURE_GRACE:
                yield Advice(incident.path, update.at_line or update.line,
                             f"at: {shown_time(update.at, site.config)} is in the future (now is "
                             f"{shown_time(now, site.config)}): this update stays unpublished until then; "
                             "check the year, and the clock of the machine that builds")


def _unresolved(site: Site, now: datetime) -> Iterator[Advice]:
    days = site.config.unresolved_after_days
    for incident in site.incidents:
        published = [update for update in incident.updates if update.at <= now]
        if incident.is_maintenance or not published or published[-1].status == "resolved":
            continue
        started = published[0].at
        if now - started > timedelta(days=days):
            yield Advice(incident.path, published[-1].line,
                         f"not resolved {(now - started).days} days after it started "
                         f"({shown_time(started, site.config)}): the site shows it as ongoing until an update "
                         f"with status: resolved is added; warnings.unresolved_after_days in "
                         f"{CONFIG_PATH} ({days}) sets when this warning starts")


def _placeholders(config: SiteConfig, env: Mapping[str, str]) -> Iterator[Advice]:
    values = {"base_url": config.base_url, "subscriptions.url": config.subscriptions_url,
              "notify.from": config.notify.sender, "notify.unsubscribe_mailto": config.notify.unsubscribe_mailto}
    for key, consequence in ADDRESSES:
        path, line, name, value = CONFIG_PATH, config.line_of(key), key, values[key]
        if key == "notify.from" and env.get(SENDER_VARIABLE):  # notify sends from it instead
            path, line, name, value = ENVIRONMENT, 0, SENDER_VARIABLE, env[SENDER_VARIABLE]
        host = _host(value) if value else None
        if value and host and is_placeholder_host(host):
            yield Advice(path, line, f"{name}: {value!r} is at {host!r}, a name reserved for examples: "
                                     f"{consequence}; set the real {'address' if '@' in value else 'URL'}")


def _host(value: str) -> str | None:
    if "://" in value:
        return urlsplit(value).hostname
    return value.rpartition("@")[2].strip().rstrip(">").lower() or None


def is_placeholder_host(host: str) -> bool:
    """A host name nobody can publish at: reserved for examples and tests, or this machine."""
    host = host.lower().rstrip(".")
    return (_is_this_machine(host) or host.rpartition(".")[2] in RESERVED_SUFFIXES
            or any(host == domain or host.endswith(f".{domain}") for domain in RESERVED_DOMAINS))


def _is_this_machine(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _plain_http(config: SiteConfig) -> Iterator[Advice]:
    """A published URL without TLS. Only this machine may go without it: `statusgen serve`
    previews at http://127.0.0.1, and a test site may be built for localhost."""
    for key, consequence in PLAIN_HTTP:
        url = config.base_url if key == "base_url" else config.subscriptions_url
        host = urlsplit(url).hostname if url else None
        if url and url.startswith("http://") and host and not _is_this_machine(host):
            yield Advice(CONFIG_PATH, config.line_of(key),
                         f"{key}: {url!r} is plain http: {consequence}; publish over TLS and set "
                         f"{key} to 'https://{url[len('http://'):]}'")


def _misspelt_variables(env: Mapping[str, str]) -> Iterator[Advice]:
    """A variable close to one statusgen reads is likely a typo, and the one meant is unset.
    One far from all of them may be a webhook's `secret_env:`, which may have any name."""
    known = {name.removeprefix(PREFIX): name for name in VARIABLES}
    for name in sorted(env):
        if not name.startswith(PREFIX) or name in VARIABLES or name.startswith(WEBHOOK_SECRETS):
            continue
        near = difflib.get_close_matches(name.removeprefix(PREFIX), list(known), n=1, cutoff=0.75)
        if near:
            yield Advice(ENVIRONMENT, 0, f"{name}: statusgen reads no such variable (did you mean {known[near[0]]}?); "
                                         f"{known[near[0]]} is {'set too' if env.get(known[near[0]]) else 'unset'}")


def _timezone(config: SiteConfig) -> Iterator[Advice]:
    name = config.timezone.key
    if is_place_zone(name) or name in UTC_NAMES:
        return
    places = zones_on_the_clock_of(name)
    shown = ", ".join(repr(place) for place in places[:3]) + (", ..." if len(places) > 3 else "")
    yield Advice(CONFIG_PATH, config.line_of("timezone"),
                 f"timezone: {name!r} names no place, so it may miss summer time or keep a clock no "
                 f"reader keeps; write the zone of the place whose clock the site follows"
                 + (f", such as {shown}" if places else " (Region/City, such as 'Europe/Brussels')"))


def _plain_smtp(config: SiteConfig, env: Mapping[str, str]) -> Iterator[Advice]:
    """Mail to a relay beyond this machine with `security: none` (the default)."""
    if not env.get("STATUSGEN_SMTP_HOST", "").strip() and not dict(config.notify.smtp).get("host"):
        return  # no relay: notify writes to the outbox (doctor says what --transport smtp needs)
    # Read as notify reads them (content/relay.py), so that this warns about what notify would do.
    settings, _ = setting_sources(env, dict(config.notify.smtp))  # its problems are doctor's to report
    source, security = settings.get("security", (settings["host"][0], "none"))
    host = str(settings["host"][1]).strip()
    if str(security).strip().lower() != "none" or _is_this_machine(host):
        return
    port = str(settings["port"][1]).strip() if "port" in settings else DEFAULT_PORTS["none"]
    message = (f"{source}: mail to {host}:{port} crosses the network unencrypted (security: none"
               f"{'' if 'security' in settings else ', the default'}); set notify.smtp.security in "
               f"{CONFIG_PATH} or STATUSGEN_SMTP_SECURITY to starttls (port 587) or tls (port 465)")
    if source.startswith("STATUSGEN_"):
        yield Advice(ENVIRONMENT, 0, message)
    else:
        yield Advice(CONFIG_PATH, config.line_of(source), message)


def _unsubscribe_by_hand(config: SiteConfig) -> Iterator[Advice]:
    mailbox = config.notify.unsubscribe_mailto
    if mailbox and not config.subscriptions_url:
        yield Advice(CONFIG_PATH, config.line_of("notify.unsubscribe_mailto"),
                     f"notify.unsubscribe_mailto: the only way to unsubscribe is a mail to {mailbox}, and "
                     "nothing handles those on its own: someone must read that mailbox and run "
                     "statusgen subscribers remove ADDRESS (and delete the address from subscribers.yaml) "
                     "for each request; for one-click unsubscribe, run the subscription service and set "
                     "subscriptions.url")


def _unfilled_pages(site: Site) -> Iterator[Advice]:
    """A page's `[[...]]` left (once per file: a missing translation shows another's file)."""
    for path, body in sorted({(page.path, page.body) for page in site.pages}):
        left = PLACEHOLDER.findall(COMMENT.sub("", body))  # a comment is not shown: it may name them
        if left:
            first = " ".join(left[0].split())
            yield Advice(path, 1, f"{len(left)} placeholder{'s' if len(left) != 1 else ''} to fill in, the first "
                                  f"[[{first}]]: the page shows {'them' if len(left) != 1 else 'it'} as written "
                                  "until each is replaced")
