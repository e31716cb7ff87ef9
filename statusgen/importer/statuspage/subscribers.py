"""Statuspage's subscribers into the subscription store.

    prepare(site_dir, env, store, trust_confirmed)       before the import writes any file
        the store can be written: --store, else STATUSGEN_DATABASE_URL, else
            STATUSGEN_SUBSCRIPTIONS_DB, else SITE/.statusgen/subscriptions.db
        without --trust-confirmed: subscriptions.url (the link), STATUSGEN_SECRET_KEY (signs it),
            the mail settings, the relay's settings and the relay itself (the notifier's checks)
        ──▶ SubscriberImport, or a SetupError naming every setting to fix (nothing written)
    SubscriberImport.check(subscribers)                   before the site's files are written
        every malformed subscriber; a trusted webhook needs STATUSGEN_SECRET_KEY
    SubscriberImport.run(subscribers, site, report, now)  once the site's files are written
        subscriberplan.plan: one decision per address (ContentErrors before anything is written)
        ──▶ unsubscribed or quarantined: a suppression (`unsubscribe`): no email from statusgen,
            not even for an address in subscribers.yaml
        ──▶ active, with --trust-confirmed: a confirmed subscription (`save`), in the site's first language
        ──▶ otherwise: one confirmation email each (invitations.py), the service's double opt-in
        webhooks the same, by URL: the URL must pass the network policy's static check
            (STATUSGEN_WEBHOOK_ALLOW_NETS); with --trust-confirmed confirmed with a new signing
            secret each (derived from STATUSGEN_SECRET_KEY: `statusgen subscribers secret ID`
            prints one for ops to hand over), else a confirmation email to the contact
            (none without one); Statuspage's format, as before
        ──▶ summary lines; a DeliveryError at the end if an invitation did not go out
    read_csv(path, report): a Statuspage export or import CSV as the same objects (subscribercsv.py)

A rerun is safe: a confirmed subscription is left as it is (its owner may have changed its
choices), an address invited less than PENDING_LIFETIME ago (48 h, as long as its link
works and as long as the store keeps a pending subscription) gets no second email, a later
one does; an address that unsubscribed from statusgen is never subscribed again, and a
suppression is not applied over a subscription confirmed here after the address left
Statuspage.
"""

from __future__ import annotations

import ssl
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from statusgen import ids
from statusgen.content.config import load_config
from statusgen.content.model import Site, SiteConfig
from statusgen.content.relay import SmtpSettings
from statusgen.errors import DeliveryError, Problems, SetupError
from statusgen.notifier.webhooks.network import NetworkPolicy, allow_nets_problems, check_url, masked_url
from statusgen.content.webhooks import detect_format
from statusgen.importer.records import Report
from statusgen.importer.statuspage import invitations
from statusgen.importer.statuspage.invitations import WEBHOOK_FORMAT, Invitation, Outcome
from statusgen.importer.statuspage.subscribercsv import read_csv as _read_csv
from statusgen.importer.statuspage.subscriberplan import Wanted, check, plan
from statusgen.notifier.delivery import Transport
from statusgen.notifier.message import MailSettings
from statusgen.notifier.preflight import PROBE_TIMEOUT, SECRET_VARIABLE, mail_checks, problems_of
from statusgen.notifier.smtp import SmtpTransport
from statusgen.site.theme import Theme
from statusgen.subscriptions.backend import StoreLocation, open_store, store_location
from statusgen.subscriptions.mail import CONFIRM_HOURS, Composer
from statusgen.subscriptions.preflight import writable_store
from statusgen.subscriptions.signingkeys import key_check, new_seed
from statusgen.subscriptions.store import PENDING_LIFETIME, Subscription, SubscriptionStore, WebhookSubscription
from statusgen.tokens import MIN_SECRET_LENGTH

SKIPPED = {
    "confirmed": "already subscribed here (their own choices are kept)",
    "pending": f"invited less than {CONFIRM_HOURS} h ago (their confirmation link still works)",
    "suppressed": "already suppressed",
    "left_us": "unsubscribed from this site's emails before (statusgen never subscribes them again)",
    "came_back": "subscribed here after they left Statuspage (their subscription is kept)",
    "unconfirmed": "never confirmed with Statuspage (import without --trust-confirmed to invite them)",
    "no_contact": "a webhook without a contact address, so nobody can confirm it (import with --trust-confirmed, "
                  "or add it to subscribers.yaml)",
    "refused": "a webhook URL that may not be reached (see below)",
}
"""Why an address was left as it is, as the summary says it."""


@dataclass(frozen=True)
class _Mail:
    """What the confirmation emails need, checked by `prepare`."""

    settings: MailSettings
    public_url: str
    secret: str = field(repr=False)
    transport: Transport


@dataclass(frozen=True)
class SubscriberImport:
    """Settings checked before any file is written; `run` once the site is written."""

    site_dir: Path
    location: StoreLocation
    trust_confirmed: bool
    mail: _Mail | None
    """None with --trust-confirmed: nobody is mailed."""
    stream: TextIO | None = None
    """Where the invitations' progress goes (None: stderr)."""
    policy: NetworkPolicy = field(default_factory=NetworkPolicy)
    """Where imported webhooks may point (STATUSGEN_WEBHOOK_ALLOW_NETS)."""
    key: str = field(default="", repr=False)
    """STATUSGEN_SECRET_KEY: derives a trusted webhook's signing secret."""

    def run(self, subscribers: Sequence[Mapping[str, Any]], site: Site, report: Report,
            now: datetime) -> list[str]:
        """Import them; the summary lines to print (counts per outcome). Raises ContentErrors
        (nothing written) for a malformed subscriber, and DeliveryError, once everything
        else is done, when invitations failed or were deferred (its message: the summary)."""
        self.check(subscribers)
        wanted = plan(subscribers, site, report)
        if not wanted:  # no store made for nobody
            return _Tally().lines(Outcome())
        store = open_store(self.location)
        try:
            tally = _Tally()
            waiting = [invitation for one in wanted if (invitation := self._apply(store, one, site, tally, now))]
            outcome = self._invite(waiting, store, site, now)
        finally:
            store.close()
        _report(tally, report)
        lines = tally.lines(outcome)
        if outcome.failed or outcome.deferred:
            raise DeliveryError("\n".join(lines))
        return lines

    def check(self, subscribers: Sequence[Mapping[str, Any]]) -> None:
        """What can be known of the subscribers before the site's files are written: every
        malformed one (ContentErrors), and a trusted webhook without the key its signing
        secret is derived from (SetupError)."""
        entries = check(subscribers)
        trusted = sum(1 for entry in entries if entry.mode == "webhook" and entry.state == "active")
        if self.trust_confirmed and trusted and len(self.key) < MIN_SECRET_LENGTH:
            found = "it is not set" if not self.key else f"it has {len(self.key)} characters"
            raise SetupError([f"{SECRET_VARIABLE} must hold a secret of at least {MIN_SECRET_LENGTH} characters: the "
                              f"signing secrets of the {trusted} webhook subscriber(s) that --trust-confirmed "
                              f"confirms are derived from it; {found}"])

    def _apply(self, store: SubscriptionStore, wanted: Wanted, site: Site, tally: _Tally,
               now: datetime) -> Invitation | None:
        """Suppress or subscribe one address (or webhook) now; an invitation still to send, if any."""
        if wanted.suppress:
            tally.count(_suppress(store, wanted, now), wanted)
            return None
        if wanted.webhook and (refused := self._refused(wanted.webhook)):
            tally.count("refused", wanted)
            tally.refused.append(f"{masked_url(wanted.webhook)}: {refused}")
            return None
        if store.is_suppressed(wanted.key):
            tally.count("left_us", wanted)
            return None
        found = _found(store, wanted)
        language = site.config.default_language
        if found is not None and found.state == "confirmed":
            tally.count("confirmed", wanted)
        elif self.trust_confirmed and not wanted.confirmed:
            tally.count("unconfirmed", wanted)
        elif self.trust_confirmed:
            self._save(store, wanted, language, tally, now)
        elif found is not None and _still_pending(found, now):
            tally.count("pending", wanted)
        elif wanted.webhook and not wanted.email:
            tally.count("no_contact", wanted)
        else:
            return Invitation(wanted.email, wanted.components, language, wanted.webhook)
        return None

    def _refused(self, url: str) -> str | None:
        """Why a webhook URL may not be used (the service's form asks the same), or None."""
        problem = check_url(url, self.policy)
        if problem is None:
            try:
                detect_format(url, WEBHOOK_FORMAT)
            except ValueError as error:
                problem = str(error)
        return problem

    def _save(self, store: SubscriptionStore, wanted: Wanted, language: str, tally: _Tally, now: datetime) -> None:
        if wanted.webhook is None:
            store.save(wanted.email, wanted.components, language, now)
        else:
            hook = WebhookSubscription.asked(wanted.webhook, WEBHOOK_FORMAT, wanted.components, language,
                                             wanted.email, now)
            seed = new_seed()
            saved = store.subscribe_webhook(hook.url, hook.format, hook.components, language, hook.contact, seed,
                                            key_check(self.key, hook.id, seed), now)
            tally.trusted.append(saved.id)
        tally.count("saved", wanted)

    def _invite(self, waiting: list[Invitation], store: SubscriptionStore, site: Site, now: datetime) -> Outcome:
        if not waiting:
            return Outcome()
        assert self.mail is not None  # prepare checked the mail settings without --trust-confirmed
        composer = Composer(site, Theme(self.site_dir), self.mail.settings, self.mail.public_url, self.mail.secret)
        return invitations.send(waiting, composer, self.mail.transport, store, now, self.stream)


def _suppress(store: SubscriptionStore, wanted: Wanted, now: datetime) -> str:
    """Unsubscribed or quarantined on Statuspage: suppressed, unless it already is, or the
    address (webhook) confirmed a subscription here after it left (its own, later choice)."""
    if store.is_suppressed(wanted.key):
        return "suppressed"
    found = _found(store, wanted)
    if found is not None and found.confirmed_at and wanted.since is not None \
            and datetime.fromisoformat(found.confirmed_at) > wanted.since:
        return "came_back"
    store.unsubscribe(wanted.key, now)
    return "unsubscribed"


def _found(store: SubscriptionStore, wanted: Wanted) -> Subscription | WebhookSubscription | None:
    """The store's record of the address, or of the webhook."""
    if wanted.webhook is None:
        return store.find(wanted.email)
    return store.find_webhook(ids.webhook_id(wanted.webhook))


def _still_pending(found: Subscription | WebhookSubscription, now: datetime) -> bool:
    """An invitation counts while its link works; after that a rerun invites again (the
    store forgets an unconfirmed subscription then too)."""
    return found.state == "pending" and datetime.fromisoformat(found.requested_at) > now - PENDING_LIFETIME


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    """Email subscribers per outcome."""
    hooks: Counter[str] = field(default_factory=Counter)
    """Webhook subscribers per outcome."""
    refused: list[str] = field(default_factory=list)
    """`host/p…/***: why`, per webhook URL that may not be reached."""
    trusted: list[str] = field(default_factory=list)
    """Ids of the webhooks confirmed now with a new secret."""

    def count(self, outcome: str, wanted: Wanted | None = None) -> None:
        (self.hooks if wanted is not None and wanted.webhook else self.counts)[outcome] += 1

    def lines(self, outcome: Outcome) -> list[str]:
        counts, hooks = self.counts, self.hooks
        invited = outcome.sent + outcome.uncertain - outcome.webhooks
        lines = [f"subscribers: {counts['saved']} confirmed, {invited} invited, {counts['unsubscribed']} suppressed, "
                 f"{sum(counts[reason] for reason in SKIPPED)} skipped"]
        lines += [f"subscribers skipped: {counts[reason]} {why}" for reason, why in SKIPPED.items() if counts[reason]]
        if sum(hooks.values()):
            lines += self._webhook_lines(outcome)
        if outcome.uncertain:
            lines.append(f"subscribers: {outcome.uncertain} invitations may not have arrived (the relay did not "
                         "confirm them); they count as sent and are not sent again")
        lines += [f"subscribers: invitation failed for good: {problem}" for problem in outcome.failed]
        if outcome.deferred:
            lines.append(f"subscribers: {outcome.deferred} invitations deferred (the relay did not take them); "
                         "run the same import again to send them (nobody gets a second one)")
        return lines

    def _webhook_lines(self, outcome: Outcome) -> list[str]:
        hooks = self.hooks
        lines = [f"webhooks: {hooks['saved']} confirmed, {outcome.webhooks} invited (their contacts), "
                 f"{hooks['unsubscribed']} suppressed, {sum(hooks[reason] for reason in SKIPPED)} skipped"]
        lines += [f"webhooks skipped: {hooks[reason]} {why}" for reason, why in SKIPPED.items() if hooks[reason]]
        lines += [f"webhooks refused: {line}" for line in self.refused]
        if self.trusted:
            lines.append(f"webhooks: each confirmed one signs with a new secret (Standard Webhooks headers; "
                         f"receivers written for Statuspage may ignore them); `statusgen subscribers secret ID` "
                         f"prints one for you to hand to its partner, and its contact can have a new one mailed "
                         f"from the manage link in every delivery: {', '.join(self.trusted)}")
        return lines


def _report(tally: _Tally, report: Report) -> None:
    """The addresses (webhooks) deliberately not subscribed also go to the import's report."""
    for kind, counts in (("email", tally.counts), ("webhook", tally.hooks)):
        for reason in ("left_us", "unconfirmed", "no_contact", "refused"):
            if count := counts[reason]:
                report.skip(f"{count} {kind} subscriber{'s' if count != 1 else ''}", SKIPPED[reason])


# ── before any work ─────────────────────────────────────────────────────────────────────

def prepare(site_dir: Path, *, env: Mapping[str, str], store: str | None, trust_confirmed: bool,
            stream: TextIO | None = None, timeout: float = PROBE_TIMEOUT, tls_context: ssl.SSLContext | None = None,
            local_hostname: str | None = None) -> SubscriberImport:
    """Check the store, and (without trust_confirmed) STATUSGEN_SECRET_KEY and the SMTP relay for
    the confirmation emails; raise SetupError naming each setting to fix. Only content/site.yaml
    is read: the import writes the other files after this. `timeout`, `tls_context` and
    `local_hostname` are the relay check's and the sending's (tests use a relay on 127.0.0.1)."""
    site_dir = site_dir.resolve()
    config = _config(site_dir)
    location = store_location(site_dir, env, store)
    problems = [] if trust_confirmed else _mail_problems(config, env, timeout, tls_context, local_hostname)
    problems += _store_problems(site_dir, location)
    problems += allow_nets_problems(env)
    if problems:
        raise SetupError(problems)
    mail = None if trust_confirmed else _mail(config, env, timeout, tls_context, local_hostname)
    return SubscriberImport(site_dir, location, trust_confirmed, mail, stream, NetworkPolicy.from_env(env),
                            env.get(SECRET_VARIABLE, ""))


def _config(site_dir: Path) -> SiteConfig:
    problems = Problems()
    config = load_config(site_dir, problems)
    problems.raise_if_any()
    assert config is not None  # load_config records why when it has none
    return config


def _mail_problems(config: SiteConfig, env: Mapping[str, str], timeout: float,
                   tls_context: ssl.SSLContext | None, local_hostname: str | None) -> list[str]:
    """The notifier's mail checks through the relay itself, plus the service's link."""
    problems = problems_of(mail_checks(config, env, "smtp", timeout, tls_context, local_hostname))
    if config.subscriptions_url:
        return problems
    secret = env.get(SECRET_VARIABLE, "")
    found = "it is not set" if not secret else f"it has {len(secret)} characters"
    return [
        "subscriptions.url in content/site.yaml: the confirmation emails link to the subscription service; set it "
        "to the service's public URL such as 'https://status.example.org/subscriptions/' (or import with "
        "--trust-confirmed: subscribers who confirmed with Statuspage then need no email)",
        *problems,
        *([] if len(secret) >= MIN_SECRET_LENGTH else
          [f"{SECRET_VARIABLE} must hold a secret of at least {MIN_SECRET_LENGTH} characters: it signs the link in "
           f"every confirmation email; {found}"]),
    ]


def _store_problems(site_dir: Path, location: StoreLocation) -> list[str]:
    published = (site_dir / "public").resolve()
    if location.path and location.path.resolve().is_relative_to(published):
        return [f"--store / STATUSGEN_SUBSCRIPTIONS_DB: the subscription store {location.path} is inside the published "
                f"folder {published}; it holds addresses"]
    return list(writable_store(location).problems)


def _mail(config: SiteConfig, env: Mapping[str, str], timeout: float, tls_context: ssl.SSLContext | None,
          local_hostname: str | None) -> _Mail:
    from statusgen.notifier.run import mail_settings  # the sender and links the notifier and the service use

    relay = SmtpSettings.from_environment(env, dict(config.notify.smtp))
    assert config.subscriptions_url is not None  # checked: the link needs it
    transport = SmtpTransport(relay, connections=1, timeout=timeout, local_hostname=local_hostname,
                              tls_context=tls_context)
    return _Mail(mail_settings(config, env), config.subscriptions_url, env[SECRET_VARIABLE], transport)


# ── input ───────────────────────────────────────────────────────────────────────────────

def read_csv(path: Path, report: Report) -> tuple[dict[str, Any], ...]:
    """A Statuspage subscriber CSV (export or import format) as manage-API-shaped subscribers."""
    return _read_csv(path, report)


def import_csv(site_dir: Path, path: Path, *, env: Mapping[str, str], store: str | None, trust_confirmed: bool,
               now: datetime, stream: TextIO | None = None, **relay: Any) -> tuple[list[str], Report]:
    """Subscribers from a CSV alone, into a site as it is: prepare, read, run. `relay`
    passes `timeout`, `tls_context` and `local_hostname` on to `prepare`."""
    from statusgen.content.load import load_site

    subscriber_import = prepare(site_dir, env=env, store=store, trust_confirmed=trust_confirmed, stream=stream,
                                **relay)
    report = Report()
    subscribers = read_csv(path, report)
    site, _ = load_site(site_dir.resolve())
    return subscriber_import.run(subscribers, site, report, now), report
