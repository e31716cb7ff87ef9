"""`statusgen notify`: tell subscribers what changed since the last announcement.

    snapshot (from the build) ──diff──▶ events ──recipients──▶ queued deliveries (store)
        email:    ──render once per (event, language)──▶ messages ──transport + ledger──▶ sent
        webhooks: ──payloads (webhookrun.py)──▶ signed requests ──WebhookTransport──▶ sent
                  (in a thread beside the email run: a slow endpoint holds up neither)
        quarantine notices queued meanwhile ──the email transport──▶ the webhooks' contacts

Before any of that, the checks in `preflight` (mail settings, the secret key, the relay's
settings and the relay itself, the notifier store) and the audience's own stop the run with every
problem at once. The first run of a new site (nothing published yet) only records a
baseline. A store that is missing or empty while the site already shows incidents is never
silently re-baselined: the operator says `--baseline` (record what is there, send nothing)
or `--since TIME` (announce what happened after TIME). Every (event, subscriber) is queued
in the store, together with the snapshot it came from, before anything is sent; a rerun
after a crash or a failed connection sends what is still pending and nothing twice.

Runs may overlap (two CI runners, a rerun while a slow run still sends): each holds the
store while it runs (`store.running`), detects and queues one at a time (`store.detecting`),
and takes the queue in batches the store gives to one run only (`store.claim`). With the
SQLite file the second run waits for the first; with PostgreSQL they share the send.

Webhook subscribers get the same events through the same queue: one delivery per event and
subscriber, and for a Statuspage-format webhook one per payload part (the incident, then a
component_update per component change it follows), each sent exactly once. A webhook whose
endpoint is quarantined gets nothing new queued (the run says which); one that answered 410
was unsubscribed through the audience, which leaves it out from then on. The summary
counts both channels; a failure, an uncertain or a deferred delivery of either exits 1.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from statusgen.notifier import composer as composer_module
from statusgen.notifier.composer import Composer, ForkedComposer, can_fork
from statusgen.notifier.message import MailSettings
from statusgen.errors import DeliveryError, SetupError, UsageError
from statusgen.notifier.events import Event, diff
from statusgen.content.load import load_site
from statusgen.content.model import Site, SiteConfig, Subscriber
from statusgen.notifier.backends import StoreLocation, open_store, store_failure, store_location
from statusgen.notifier.store import Delivery, NotifyStore
from statusgen.notifier import preflight
from statusgen.notifier.audience import Audience
from statusgen.notifier.recipients import recipients
from statusgen.site.snapshot import FORMAT, PUBLISHED_BEFORE, snapshot_location
from statusgen.site.theme import Theme
from statusgen.times import TimeError, parse_time
from statusgen.content.relay import SmtpSettings
from statusgen.notifier.delivery import Outgoing, Progress, Tally, Transport
from statusgen.notifier.outbox import OutboxTransport
from statusgen.notifier.smtp import SmtpTransport
from statusgen.notifier.health import Endpoint
from statusgen.notifier.webhookrun import Outcomes, Requests, queued_parts
from statusgen.notifier.webhooks.network import NetworkPolicy, masked_url
from statusgen.notifier.webhooks.transport import WebhookTransport

log = logging.getLogger(__name__)

CLAIM_BATCH = 100
"""Deliveries a run takes from the queue at a time: few enough that two runs share a send
evenly, enough that claiming costs little beside sending."""


@dataclass
class NotifyReport:
    baseline: bool = False
    events: list[Event] = field(default_factory=list)
    queued: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    """Both channels: sent, failed, uncertain, gone (webhooks that unsubscribed with 410), and
    pending (left for the next run)."""
    webhooks: dict[str, int] = field(default_factory=dict)
    """The webhook channel's own: sent, failed, uncertain, deferred, gone."""
    held_back: list[Endpoint] = field(default_factory=list)
    """Webhook endpoints quarantined before this run: nothing was queued for them."""
    interrupted: int = 0


def notify(site_dir: Path, out_dir: Path | None = None, now: str | None = None, *, audience: Audience,
           transport: Transport | str = "outbox", store: NotifyStore | None = None,
           store_path: Path | str | None = None, dry_run: bool = False, env: Mapping[str, str] | None = None,
           stream: IO[str] | None = None, connections: int = 4, baseline: bool = False,
           since: str | None = None, webhooks: WebhookTransport | None = None,
           snapshot_path: Path | None = None) -> NotifyReport:
    """Announce what changed in the built site to its subscribers.

    What the build saw is its snapshot: `snapshot_path` (`--snapshot`), else the site's
    `.statusgen/snapshot.json`, where `statusgen build` writes it also with `--out`.
    `out_dir` is the published folder (default `SITE/public`), which the store must not be in.

    `baseline` records everything the site shows as announced and sends nothing; `since`
    (a time) announces only what happened after it. Either is how to start again after
    losing the store; without them a missing or empty store is refused once the site has
    published anything. `audience` says who the subscribers are (`statusgen.notify` hands
    in the subscription store's). The store is `store`, else the one at `store_path` (a
    SQLite file or a `postgresql://` URL), else `STATUSGEN_DATABASE_URL`'s, else the
    site's `.statusgen/notify.db`. Webhooks go through `webhooks`, else a WebhookTransport
    with the network policy of STATUSGEN_WEBHOOK_ALLOW_NETS and the answer timeout of
    STATUSGEN_WEBHOOK_TIMEOUT."""
    env = os.environ if env is None else env
    stream = stream or sys.stderr
    site_dir = site_dir.resolve()
    out_dir = (out_dir or site_dir / "public").resolve()
    if baseline and since is not None:
        raise UsageError("--baseline and --since: choose one (see `statusgen notify --help`)")
    site, listed = load_site(site_dir)
    snapshot, missing = read_snapshot(snapshot_location(site_dir, snapshot_path), out_dir)
    moment = _moment(now, snapshot, site.config) if snapshot else None
    start = _since(since, moment, site.config) if moment else None
    location = _outside(store_location(site_dir, store_path, env), out_dir)
    _preflight(site, env, transport, location, store, snapshot, audience, chosen=baseline or since is not None,
               listed=tuple(listed), missing=missing)
    assert snapshot is not None and moment is not None  # else the preflight stopped the run
    relay = _relay_settings(site, env) if transport == "outbox" and not dry_run else []
    if relay:  # what `preflight.relay_intended` says, by name
        log.warning("a relay is set (%s) but this run writes its emails to the outbox, %s, and sends none: "
                    "add --transport smtp to send them", ", ".join(relay), site_dir / ".statusgen" / "outbox")
    subscribers = audience.subscribers(site, tuple(listed))  # + self-service, − unsubscribed
    channels = _Channels(transport, webhooks, audience, env, connections)
    opened = store is None
    with _store_failures(location):
        store = store or open_store(location)
        try:
            with (nullcontext() if dry_run else store.running()):
                return _run(site_dir, site, snapshot, moment, start, subscribers, store, channels, dry_run, baseline,
                            stream)
        finally:
            if opened:
                store.close()


@contextmanager
def _store_failures(location: StoreLocation) -> Iterator[None]:
    """A SQLite store that fails, when opened or in the middle of a send (locked by another
    program, read-only, damaged), stops the run with one line naming it (`store_failure`),
    not a traceback. Nothing is lost or sent twice: a message is recorded `committing`
    before its final dot, so one that could not be recorded was not handed over. A system
    error counts only when it names the store's own files (the lock beside it), not the
    outbox's or another file's."""
    try:
        yield
    except sqlite3.Error as error:
        if location.path is None:
            raise
        raise store_failure(location, error) from None
    except OSError as error:
        if location.path is None or not _names_store(error, location.path):
            raise
        raise store_failure(location, error) from None


def _names_store(error: OSError, path: Path) -> bool:
    named = Path(os.fsdecode(error.filename)) if error.filename is not None else None
    return named is not None and named.parent == path.parent and named.name.startswith(path.name)


def _run(site_dir: Path, site: Site, snapshot: dict[str, Any], moment: datetime, start: datetime | None,
         subscribers: tuple[Subscriber, ...], store: NotifyStore, channels: _Channels, dry_run: bool, baseline: bool,
         stream: IO[str]) -> NotifyReport:
    """One run, holding the store: detect and queue (one run at a time), then send."""
    report = NotifyReport()
    with (nullcontext() if dry_run else store.detecting()):
        if baseline or (not store.is_baselined() and start is None):
            return _baseline(store, snapshot, moment, site.config, dry_run, stream, report, chosen=baseline)
        events, keys = diff(snapshot, store.announced_keys(), moment, site.config.notify.reminders,
                            store.last_snapshot(), since=start)
        stopped = {endpoint.key: endpoint for endpoint in store.endpoints() if endpoint.state == "quarantined"}
        active = tuple(s for s in subscribers if s.key not in stopped)
        queued = [(event, _context(snapshot, event), recipients(event, active)) for event in events]
        report.events = events
        report.held_back = _held_back(events, subscribers, stopped)
        if dry_run:
            _print_plan(queued, store.pending(), report.held_back, stream)
            return report
        report.queued = store.queue(queued, keys, snapshot, queued_parts(queued))
    report.interrupted = store.mark_interrupted()
    mail, hooks = Tally(), Tally()
    if store.waiting():
        mail, hooks, outcomes = _send(site_dir, site, snapshot, store, channels, active, stream)
        report.webhooks = {"sent": hooks.sent, "failed": hooks.failed - outcomes.gone_count + outcomes.cancelled,
                           "uncertain": hooks.uncertain, "deferred": hooks.deferred, "gone": outcomes.gone_count}
    report.counts = {"sent": mail.sent + hooks.sent, "failed": mail.failed + report.webhooks.get("failed", 0),
                     "uncertain": mail.uncertain + hooks.uncertain, "gone": report.webhooks.get("gone", 0),
                     "pending": store.waiting()}  # left for the next run (not what a live run beside holds)
    _summarise(report, stream)
    return report


def _send(site_dir: Path, site: Site, snapshot: dict[str, Any], store: NotifyStore, channels: _Channels,
          active: tuple[Subscriber, ...], stream: IO[str]) -> tuple[Tally, Tally, Outcomes]:
    """Both channels at once: the webhooks in a thread, the emails here; then the notices
    of endpoints quarantined meanwhile (emails too). Returns the emails' tally (notices
    included), the webhooks' and their outcomes."""
    theme, settings = Theme(site_dir), mail_settings(site.config, channels.env)
    composer = Composer(theme, settings, snapshot["site"])
    # a large send's emails are made in a process of its own, forked before any other thread starts
    forked = ForkedComposer(composer) if can_fork() and store.waiting("email") >= composer_module.FORK_FROM else None
    try:
        return _send_both(site_dir, site, store, channels, active, stream, theme, settings, composer, forked)
    finally:
        if forked is not None:
            forked.close()


def _send_both(site_dir: Path, site: Site, store: NotifyStore, channels: _Channels, active: tuple[Subscriber, ...],
               stream: IO[str], theme: Theme, settings: MailSettings, composer: Composer,
               forked: ForkedComposer | None) -> tuple[Tally, Tally, Outcomes]:
    outcomes = Outcomes(store, channels.audience, stream)
    requests = Requests(store, theme, settings, {s.key: s for s in active if s.webhook}, channels.env,
                        outcomes.is_stopped, stream)
    hooks = Progress(stream=stream, label="webhooks")
    sender = _Background(lambda: channels.webhooks().deliver(requests, outcomes, hooks)) if requests.claim() \
        else None
    mail = Progress(stream=stream, zone=site.config.timezone)
    try:
        _mail(_Messages(store, composer, forked), channels, site_dir, site.config, mail)
    except KeyboardInterrupt:
        raise  # the webhook thread ends with the process: what it held is reported uncertain next time
    except BaseException:
        if sender is not None:
            sender.wait(quiet=True)
        raise
    if sender is not None:
        sender.wait()
    if outcomes.quarantined:  # their contacts' notices were queued while the emails went out
        _mail(_Messages(store, composer), channels, site_dir, site.config, mail)
    return mail.tally(), hooks.tally() if sender is not None else Tally(), outcomes


def _mail(messages: _Messages, channels: _Channels, site_dir: Path, config: SiteConfig, progress: Progress) -> None:
    """The emails (and notices) still pending, if there are any: the transport is set up
    only then."""
    if messages.claim():
        progress.expect(messages.store.waiting("email"))  # for the progress line's total and finish time
        channels.email(site_dir, config).deliver(messages, messages.store, progress)


class _Background:
    """The webhook run in a thread of its own; its error is raised again by `wait`."""

    def __init__(self, work: Callable[[], None]) -> None:
        self.error: BaseException | None = None
        self._work = work
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            self.error = error

    def wait(self, quiet: bool = False) -> None:
        while self._thread.is_alive():  # short joins: a Ctrl-C still gets through
            self._thread.join(0.2)
        if self.error is not None and not quiet:
            raise self.error


@dataclass
class _Channels:
    """How this run sends: the email transport (made when there is mail), the webhook
    transport, the audience told of 410s, and the environment."""

    transport: Transport | str
    given_webhooks: WebhookTransport | None
    audience: Audience
    env: Mapping[str, str]
    connections: int
    _email: Transport | None = None

    def email(self, site_dir: Path, config: SiteConfig) -> Transport:
        if self._email is None:
            self._email = _transport(self.transport, site_dir, config, self.env, self.connections)
        return self._email

    def webhooks(self) -> WebhookTransport:
        if self.given_webhooks is not None:
            return self.given_webhooks
        timeout, problems = preflight.webhook_timeout(self.env)
        if problems:
            raise SetupError(problems)
        return WebhookTransport(NetworkPolicy.from_env(self.env), timeout=timeout)


def _held_back(events: list[Event], subscribers: Iterable[Subscriber],
               stopped: Mapping[str, Endpoint]) -> list[Endpoint]:
    """The stopped endpoints that would have had one of these events (routing only their
    subscribers: the rest were routed once already)."""
    held = [s for s in subscribers if s.key in stopped]
    chosen = {s.key for event in events for s in recipients(event, held)} if held else set()
    return [endpoint for key, endpoint in sorted(stopped.items()) if key in chosen]


def _preflight(site: Site, env: Mapping[str, str], transport: Transport | str, location: StoreLocation,
               store: NotifyStore | None, snapshot: dict[str, Any] | None, audience: Audience, chosen: bool,
               listed: tuple[Subscriber, ...] = (), missing: str | None = None) -> None:
    """The checks for notify (`statusgen doctor` runs them too), before any work: all
    problems at once, or nothing. A transport object (not "outbox" or "smtp") was set up by
    the caller, who checked it. `missing` says why there is no `snapshot` to announce from."""
    state = None if store is None else "baselined" if store.is_baselined() else "empty"
    published = len(snapshot["incidents"]) if snapshot else 0  # without one, the run stops anyway
    checks = preflight.notify_checks(site, env, transport if isinstance(transport, str) else "given", location,
                                     published, state, chosen, listed=listed)
    problems = [*([missing] if missing else []), *preflight.problems_of([*checks, *audience.checks(site)])]
    problems = list(dict.fromkeys(problems))  # one database for both stores: its problem once
    if problems:
        raise SetupError(problems)


def _relay_settings(site: Site, env: Mapping[str, str]) -> list[str]:
    """Where the relay's settings came from, by name (never their values)."""
    found = preflight.environment_settings(env)
    if dict(site.config.notify.smtp).get("host"):
        found.append("notify.smtp.host in content/site.yaml")
    return found


def read_snapshot(file: Path, out_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The build's snapshot at `file`, or None and the problem to report: what to run.

    An older statusgen published it in `out_dir` (`api/snapshot.json`); that copy is never
    read: it may be older than the store's place, and `statusgen build` writes the new one
    from the same files, so the store keeps its place and nothing is announced twice or lost."""
    try:
        snapshot = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, _no_snapshot(file, out_dir)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        return None, (f"{file}: not a statusgen snapshot ({error}); run `statusgen build` to write it again, "
                      "or give the right file with --snapshot PATH")
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT:
        return None, f"{file}: expected a snapshot in format {FORMAT}; run `statusgen build` to write it again"
    return snapshot, None


def _no_snapshot(file: Path, out_dir: Path) -> str:
    old = out_dir / PUBLISHED_BEFORE
    if old.is_file():
        return (f"{file}: no snapshot; {old} was written by an older statusgen, which published it, and is not "
                f"read: run `statusgen build` (it writes the snapshot to {file} and no longer publishes it), "
                "then notify again; the notifier store keeps its place")
    return (f"{file}: no snapshot; run `statusgen build` first (it writes the snapshot there), or give the "
            "snapshot `statusgen build --snapshot PATH` wrote with `statusgen notify --snapshot PATH`")


def _moment(now: str | None, snapshot: dict[str, Any], config: SiteConfig) -> datetime:
    try:
        return parse_time(now if now is not None else snapshot["generated_at"], config.timezone)
    except TimeError as error:
        raise UsageError(f"--now: {error}") from None


def _since(since: str | None, moment: datetime, config: SiteConfig) -> datetime | None:
    if since is None:
        return None
    try:
        start = parse_time(since, config.timezone)
    except TimeError as error:
        raise UsageError(f"--since: {error}") from None
    if start > moment:
        raise UsageError(f"--since {since}: expected a time before the one being announced "
                         f"({moment.astimezone(config.timezone).isoformat()}, the build's time or --now)")
    return start


def _outside(location: StoreLocation, out_dir: Path) -> StoreLocation:
    if location.path is not None and location.path.resolve().is_relative_to(out_dir):
        raise UsageError(f"--store {location.path} is inside the published folder {out_dir}; it holds addresses")
    return location


def _baseline(store: NotifyStore, snapshot: dict[str, Any], moment: datetime, config: SiteConfig,
              dry_run: bool, stream: IO[str], report: NotifyReport, chosen: bool) -> NotifyReport:
    """Remember every fact the snapshot states as announced, and send nothing: the first
    run of a site that has published nothing yet, or `--baseline`."""
    _, keys = diff(snapshot, set(), moment, config.notify.reminders)
    report.baseline = True
    why = "--baseline" if chosen else "first run, nothing published yet"
    if dry_run:
        print(f"notify: {why}: would record a baseline of {len(keys)} announced facts and send nothing", file=stream)
        return report
    store.record_baseline(keys, snapshot)
    print(f"notify: {why}: recorded a baseline of {len(keys)} facts; nothing sent", file=stream)
    return report


def _context(snapshot: dict[str, Any], event: Event) -> dict[str, Any]:
    """What rendering this event needs from the snapshot, kept with it in the store."""
    return {**{key: value for key, value in snapshot.items() if key != "incidents"},
            "incidents": {event.incident: snapshot["incidents"][event.incident]}}


def mail_settings(config: SiteConfig, env: Mapping[str, str]) -> MailSettings:
    """The sender and the unsubscribe links every email gets (the doctor's mail and secret
    checks first: a SetupError names each setting that is missing)."""
    problems = [*preflight.mail_problems(config, env), *preflight.secret_problems(config, env)]
    if problems:
        raise SetupError(problems)
    sender = env.get("STATUSGEN_SMTP_FROM", "").strip() or config.notify.sender or ""
    try:
        return MailSettings(sender=sender, site_host=urlsplit(config.base_url).hostname or "localhost",
                            subscriptions_url=config.subscriptions_url,
                            unsubscribe_mailto=config.notify.unsubscribe_mailto,
                            secret=env.get(preflight.SECRET_VARIABLE) or None)
    except ValueError as error:
        raise UsageError(f"notify: {error}") from None


class _Messages:
    """The queue's emails as messages, claimed from the store in batches as the transport
    asks for them (the first one goes out at once; a run running beside this one takes
    other batches); each (event, language) is rendered once (`composer.Composer`), here or,
    for a large send, in a forked process (`forked`). How many there will be is not known in
    advance: another run may take some. A quarantine notice (an event of kind
    `webhook_quarantined`) is an email like the others, made by `notice`."""

    def __init__(self, store: NotifyStore, composer: Composer, forked: ForkedComposer | None = None) -> None:
        self.store, self.composer, self.forked = store, composer, forked
        self._first: list[Delivery] = []

    def claim(self) -> bool:
        """Take the first batch now: whether there is anything to send at all."""
        self._first = self._first or self.store.claim(CLAIM_BATCH, "email")
        return bool(self._first)

    def _batches(self) -> Iterator[list[Delivery]]:
        batch, self._first = self._first or self.store.claim(CLAIM_BATCH, "email"), []
        while batch:
            yield batch
            batch = self.store.claim(CLAIM_BATCH, "email")

    def __iter__(self) -> Iterator[Outgoing]:
        if self.forked is not None:
            yield from self.forked.compose(self._batches())
            return
        for batch in self._batches():
            yield from map(self.composer, batch)


def _transport(chosen: Transport | str, site_dir: Path, config: SiteConfig, env: Mapping[str, str],
               connections: int) -> Transport:
    if not isinstance(chosen, str):
        return chosen
    if chosen == "outbox":
        return OutboxTransport(site_dir / ".statusgen" / "outbox")
    try:
        settings = SmtpSettings.from_environment(env, dict(config.notify.smtp))
    except ValueError as error:
        raise UsageError(str(error)) from None
    return SmtpTransport(settings, connections=connections)


def _print_plan(queued: list[tuple[Event, dict[str, Any], list[Subscriber]]], pending: list[Delivery],
                held_back: list[Endpoint], stream: IO[str]) -> None:
    """Who would get what; webhooks shown masked (their URLs are secrets)."""
    for event, _, chosen in queued:
        print(f"would send {event.kind} ({event.key}) to {len(chosen)}: "
              + ", ".join(f"webhook {masked_url(s.webhook)}" if s.webhook else s.email for s in chosen), file=stream)
    for endpoint in held_back:
        print(f"would not send to webhook {masked_url(endpoint.url)} (id {endpoint.id}): it is {endpoint.state}",
              file=stream)
    if pending:
        print(f"would retry {len(pending)} pending deliveries from earlier runs", file=stream)
    if not queued and not pending:
        print("notify: nothing new to announce", file=stream)


def _summarise(report: NotifyReport, stream: IO[str]) -> None:
    for endpoint in report.held_back:
        since = f" since {endpoint.changed_at:%Y-%m-%d %H:%M} UTC" if endpoint.changed_at else ""
        print(f"notify: webhook {masked_url(endpoint.url)} (id {endpoint.id}) gets nothing: quarantined{since}; "
              f"`statusgen subscribers reactivate {endpoint.id}` brings it back", file=stream)
    if report.interrupted:
        print(f"notify: {report.interrupted} messages of an interrupted run may or may not have been"
              " delivered; they are not sent again", file=stream)
    failed = report.counts.get("failed", 0)
    uncertain = report.counts.get("uncertain", 0) + report.interrupted
    deferred = report.counts.get("pending", 0)
    if failed or uncertain or deferred:
        raise DeliveryError(f"{failed} deliveries failed for good, {uncertain} are uncertain and {deferred} "
                            "are still queued for the next run; see the notifier store for the details")
