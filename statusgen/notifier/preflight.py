"""What the notifier needs before it does any work, one function per check.

    mail settings ─▶ secret key ─▶ SMTP settings (and what the rate means) ─▶ the relay (connect, EHLO, STARTTLS or TLS, AUTH, QUIT)
        ─▶ notifier store (a readable file, or a reachable database with the current schema;
           never silently re-baselined)
        ─▶ webhooks (STATUSGEN_WEBHOOK_ALLOW_NETS and _TIMEOUT readable; every subscribers.yaml
           webhook's URL passes the network policy's static check, and a signed one's secret
           variable holds valid whsec_ secrets)

Each check returns its problems, one line each, naming the setting to change (an
environment variable, a `content/site.yaml` key or a command option). `notify` runs them
(`notify_checks`) and stops with a `SetupError` listing every problem; `statusgen doctor`
runs the same ones and reports them; the subscription service runs its share. Only the
relay check does I/O beyond reading files: it is given the TLS context and timeout to use,
so tests run it against a real server on 127.0.0.1.
"""

from __future__ import annotations

import smtplib
import socket
import sqlite3
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from statusgen.content.model import Site, SiteConfig, Subscriber
from statusgen.content.subscribers import SUBSCRIBERS_PATH
from statusgen.content.webhooks import SIGNED
from statusgen.database import DatabaseError
from statusgen.notifier.backends import StoreLocation, store_failure, store_state
from statusgen.content.relay import SmtpSettings, address_problem, environment_settings
from statusgen.notifier.delivery import duration_text, per_second
from statusgen.notifier.smtp import SmtpTransport
from statusgen.notifier.smtp.pace import Pace
from statusgen.notifier.smtp.problems import certificate_problem
from statusgen.notifier.webhooks.network import ALLOW_NETS, NetworkPolicy, check_url, masked_url, parse_nets
from statusgen.notifier.webhooks.signing import secret_problem
from statusgen.tokens import MIN_SECRET_LENGTH

PROBE_TIMEOUT = 10.0
"""Seconds the relay check waits for each answer when STATUSGEN_SMTP_TIMEOUT (notify.smtp.timeout)
is not set: a dead relay is reported, not waited for."""
SECRET_VARIABLE = "STATUSGEN_SECRET_KEY"
SENDER_VARIABLE = "STATUSGEN_SMTP_FROM"
TIMEOUT_VARIABLE = "STATUSGEN_WEBHOOK_TIMEOUT"
"""Seconds a webhook receiver has to answer (default 30, Statuspage's rule); tests shorten it."""
WEBHOOK_TIMEOUT = 30.0


@dataclass(frozen=True)
class Check:
    """One check's outcome: what it found wrong (nothing: it passed) and what it saw."""

    name: str
    problems: tuple[str, ...] = ()
    found: str = ""
    """What the check saw when it passed, for `doctor -v`."""
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems


def mail_problems(config: SiteConfig, env: Mapping[str, str]) -> list[str]:
    """What every email needs: a sender and a way to unsubscribe."""
    problems = []
    sender = env.get(SENDER_VARIABLE, "")
    if not (sender.strip() or config.notify.sender):
        problems.append(f"no sender address: set notify.from in content/site.yaml or {SENDER_VARIABLE}")
    elif sender.strip() and (problem := address_problem(sender)) is not None:
        problems.append(f"{SENDER_VARIABLE}: {problem}")
    if not config.subscriptions_url and not config.notify.unsubscribe_mailto:
        problems.append("every email needs a way to unsubscribe: set subscriptions.url or "
                        "notify.unsubscribe_mailto in content/site.yaml")
    return problems


def secret_problems(config: SiteConfig, env: Mapping[str, str]) -> list[str]:
    """With a subscription service, every email's unsubscribe and manage links are signed."""
    if not config.subscriptions_url:
        return []
    secret = env.get(SECRET_VARIABLE, "")
    if len(secret) >= MIN_SECRET_LENGTH:
        return []
    return [f"{SECRET_VARIABLE} must hold a secret of at least {MIN_SECRET_LENGTH} characters: subscriptions.url "
            f"is set in content/site.yaml, and the secret signs every unsubscribe and manage link in the emails "
            f"and the subscription service's pages; {secret_found(secret)}"]


def secret_found(secret: str) -> str:
    """What a secret key too short to use holds, for the message (never the secret itself)."""
    return "it is not set" if not secret else f"it has {len(secret)} characters"


def smtp_settings(config: SiteConfig, env: Mapping[str, str]) -> tuple[SmtpSettings | None, list[str]]:
    """The relay's settings (`STATUSGEN_SMTP_*` over `notify.smtp`), or every problem with them."""
    return SmtpSettings.read(env, dict(config.notify.smtp))


def relay_problems(settings: SmtpSettings, timeout: float = PROBE_TIMEOUT, tls_context: ssl.SSLContext | None = None,
                   local_hostname: str | None = None) -> list[str]:
    """Reach the relay as a delivery would: connect, EHLO, STARTTLS or TLS from the first
    byte (the certificate checked against `settings.ca_file` or the system's authorities),
    AUTH when credentials are set; then QUIT. The relay's own `timeout` setting, when set,
    wins over `timeout`: a relay known to be slow is not refused for it."""
    timeout = settings.timeout or timeout
    transport = SmtpTransport(settings, connections=1, timeout=timeout, local_hostname=local_hostname,
                              tls_context=tls_context)
    try:
        smtp = transport.connect()
    except (OSError, smtplib.SMTPException) as error:
        return [relay_problem(error, settings, timeout)]
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
    return []


def relay_problem(error: BaseException, settings: SmtpSettings, timeout: float) -> str:
    """Why the relay could not be reached, and which setting to look at."""
    where, security = f"{settings.host}:{settings.port}", settings.security
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return (f"STATUSGEN_SMTP_USER / STATUSGEN_SMTP_PASSWORD: {where} refused the login "
                f"({error.smtp_code} {_text(error.smtp_error)}); check both")
    if isinstance(error, smtplib.SMTPNotSupportedError) and "STARTTLS" in str(error):
        return (f"STATUSGEN_SMTP_SECURITY=starttls: {where} does not offer STARTTLS; set STATUSGEN_SMTP_SECURITY=tls "
                "if it speaks TLS from the first byte (usually port 465), or check STATUSGEN_SMTP_PORT")
    if isinstance(error, smtplib.SMTPNotSupportedError) and "AUTH" in str(error):
        return (f"STATUSGEN_SMTP_SECURITY={security}: {where} offers no login (AUTH) on this connection; relays "
                "usually offer it only over TLS: set STATUSGEN_SMTP_SECURITY=starttls or tls, or unset "
                "STATUSGEN_SMTP_USER and STATUSGEN_SMTP_PASSWORD if the relay needs no login")
    if isinstance(error, ssl.SSLCertVerificationError):
        setting, reason, advice = certificate_problem(error)
        if settings.ca_file and setting == "STATUSGEN_SMTP_CA_FILE":
            advice = (f"{settings.ca_file} holds neither the relay's certificate nor the authority that issued it; "
                      "set STATUSGEN_SMTP_CA_FILE (or notify.smtp.ca_file) to the one that does")
        return f"{setting}: the TLS certificate of {where} is not trusted ({reason}); {advice}"
    if isinstance(error, ssl.SSLError):
        return (f"STATUSGEN_SMTP_SECURITY={security}: the TLS handshake with {where} failed ({error.reason}); "
                + ("set STATUSGEN_SMTP_SECURITY=starttls if the relay starts without TLS (usually port 587)"
                   if security == "tls" else "check STATUSGEN_SMTP_PORT"))
    if isinstance(error, ConnectionRefusedError):
        return (f"STATUSGEN_SMTP_PORT: {where} refused the connection; check STATUSGEN_SMTP_HOST and "
                "STATUSGEN_SMTP_PORT (usually 587 with starttls, 465 with tls)")
    if isinstance(error, (TimeoutError, smtplib.SMTPServerDisconnected)):
        # smtplib reports a greeting that never comes as a closed connection that "timed out"
        silent = isinstance(error, TimeoutError) or "timed out" in str(error)
        what = (f"no answer from {where} within {timeout:g} s (STATUSGEN_SMTP_TIMEOUT or notify.smtp.timeout: "
                "the seconds the relay has for each answer)") if silent else f"{where} closed the connection ({error})"
        return (f"STATUSGEN_SMTP_HOST: {what}; check STATUSGEN_SMTP_HOST and STATUSGEN_SMTP_PORT, that this machine "
                f"may reach it, and STATUSGEN_SMTP_SECURITY ({security}: "
                + ("the relay must speak TLS from the first byte)" if security == "tls"
                   else "a relay on port 465 expects tls)"))
    if isinstance(error, socket.gaierror):
        return f"STATUSGEN_SMTP_HOST: cannot find the host {settings.host!r} ({error.strerror})"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"STATUSGEN_SMTP_HOST: {where} will not take mail from here: {error.smtp_code} {_text(error.smtp_error)}"
    return f"STATUSGEN_SMTP_HOST: cannot connect to {where}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def notifier_store(path: StoreLocation, state: str, published: int, chosen: bool = False) -> list[str]:
    """A missing or empty store is a new baseline: right for a new site, silent loss for
    one that already published incidents (whatever happened meanwhile reaches nobody),
    unless the operator chose how to start again (`chosen`: --baseline or --since)."""
    if state == "baselined" or published == 0 or chosen:
        return []
    return [f"the notifier store {path} is {state} but the site already has {published} incidents and maintenance "
            "windows: after losing the store, run `statusgen notify --since TIME` once to announce what changed "
            "after TIME (when the store was last saved), or `statusgen notify --baseline` to record what is there "
            "now without sending; or pass --store with the store you have"]


def notifier_store_state(store: StoreLocation) -> tuple[str, list[str]]:
    """The store's state (`store_state`), or a problem when the file is not a readable
    store, or the database cannot be reached or has another schema than this statusgen's."""
    try:
        return store_state(store), []
    except sqlite3.Error as error:
        if "locked" in str(error) or "readonly" in str(error):  # reading a WAL file writes beside it
            return "unwritable", [str(store_failure(store, error))]
        return "unreadable", [f"the notifier store {store} cannot be read ({error}); pass --store with the "
                              "right file, or move this one away"]
    except DatabaseError as error:
        return "unreachable", [f"{store.setting}: {error}"]


def mail_checks(config: SiteConfig, env: Mapping[str, str], transport: str, timeout: float = PROBE_TIMEOUT,
                tls_context: ssl.SSLContext | None = None, local_hostname: str | None = None) -> list[Check]:
    """Mail settings, the secret key, and with `transport="smtp"` the relay's settings and
    the relay itself."""
    checks = [Check("mail settings", tuple(mail_problems(config, env)),
                    f"from {env.get('STATUSGEN_SMTP_FROM', '').strip() or config.notify.sender}"),
              Check("secret key", tuple(secret_problems(config, env)),
                    f"{SECRET_VARIABLE} is set" if config.subscriptions_url else "not needed (no subscriptions.url)")]
    if transport != "smtp":
        return checks
    settings, problems = smtp_settings(config, env)
    checks.append(Check("SMTP settings", tuple(problems), _describe(settings)))
    if settings is not None:
        checks.append(Check("SMTP relay", tuple(relay_problems(settings, timeout, tls_context, local_hostname)),
                            f"{settings.host}:{settings.port} answers"
                            + (" and accepts the login" if settings.user else "")))
    return checks


def _describe(settings: SmtpSettings | None) -> str:
    if settings is None:
        return ""
    login = f", login as {settings.user}" if settings.user else ", no login"
    trust = f", trusting the certificates in {settings.ca_file}" if settings.ca_file else ""
    timeout = f", {settings.timeout:g} s for each answer" if settings.timeout else ""
    return (f"{settings.host}:{settings.port}, security {settings.security}{login}{trust}{timeout}, "
            f"{pace_text(settings.rate)}")


def pace_text(rate: float | None, messages: int = 10_000) -> str:
    """What the relay's rate limit means for a large send, in the doctor's words."""
    if rate is None:
        return "no rate limit (notify.smtp.rate or STATUSGEN_SMTP_RATE: the relay's messages per second)"
    took = duration_text(Pace(rate).seconds_for(messages))
    return f"at most {per_second(rate)} messages a second: {messages:,} messages take about {took}"


def webhook_timeout(env: Mapping[str, str]) -> tuple[float, list[str]]:
    """STATUSGEN_WEBHOOK_TIMEOUT in seconds (default 30), or the problem with it."""
    text = env.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return WEBHOOK_TIMEOUT, []
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 300:
        return WEBHOOK_TIMEOUT, [f"{TIMEOUT_VARIABLE}: expected the seconds a webhook receiver has to answer, more "
                                 f"than 0 and at most 300 (default {WEBHOOK_TIMEOUT:g}); found {text!r}"]
    return seconds, []


def webhook_secrets(subscriber: Subscriber, env: Mapping[str, str]) -> tuple[str, ...]:
    """The `whsec_` secrets that sign a subscriber's deliveries: the audience's own (a
    self-service webhook's), else those in its variable (space-separated: two during a
    rotation); none for a chat target."""
    if subscriber.secrets or not subscriber.secret_env:
        return tuple(subscriber.secrets)
    return tuple(env.get(subscriber.secret_env, "").split())


def webhook_problems(listed: tuple[Subscriber, ...], env: Mapping[str, str]) -> list[str]:
    """What stops a subscribers.yaml webhook from being delivered to, each naming its line
    and the setting to change: the URL refused by the network policy (https, or http inside
    STATUSGEN_WEBHOOK_ALLOW_NETS; no address that is not public), a signed one's secret
    variable unset or not holding whsec_ secrets."""
    nets, problems = parse_nets(env.get(ALLOW_NETS, ""))
    problems += webhook_timeout(env)[1]
    policy = NetworkPolicy(nets)
    for subscriber in listed:
        if subscriber.webhook is None:
            continue
        where = f"{SUBSCRIBERS_PATH}:{subscriber.line}: webhook {masked_url(subscriber.webhook)}"
        if (refused := check_url(subscriber.webhook, policy)) is not None:
            problems.append(f"{where}: {refused}")
        if subscriber.format == SIGNED:
            problems += _secret_problems(where, subscriber, env)
    return problems


def _secret_problems(where: str, subscriber: Subscriber, env: Mapping[str, str]) -> list[str]:
    name = subscriber.secret_env
    secrets = webhook_secrets(subscriber, env)
    if not secrets:
        return [f"{where}: its deliveries are signed, but {name} is not set: set {name} to its whsec_ secret (whsec_ "
                "and base64 of 24 to 64 random bytes; two, space-separated, while rotating), or name the variable "
                "that holds it with secret_env:"]
    return [f"{where}: {name}: {problem}" for problem in filter(None, map(secret_problem, secrets))]


def notify_checks(site: Site, env: Mapping[str, str], transport: str, store: StoreLocation,
                  published: int, state: str | None = None, chosen: bool = False, *, timeout: float = PROBE_TIMEOUT,
                  tls_context: ssl.SSLContext | None = None, local_hostname: str | None = None,
                  listed: tuple[Subscriber, ...] = ()) -> list[Check]:
    """What `statusgen notify` needs before it does any work. `published` is how many
    incidents and maintenance windows the site shows (the store may only start empty when
    that is 0, or when `chosen`: --baseline or --since); `state` is the store's, when the
    caller already holds it. A `transport` other than "smtp" needs no relay settings. Who
    the subscribers are is checked by the audience the run is handed (`Audience.checks`);
    `listed`, subscribers.yaml's, are checked for what their webhooks need."""
    checks = mail_checks(site.config, env, transport, timeout, tls_context, local_hostname)
    found: list[str] = []
    if state is None:
        state, found = notifier_store_state(store)
    checks.append(Check("notifier store", tuple(found or notifier_store(store, state, published, chosen)),
                        f"{store} ({state})"))
    hooks = sum(1 for subscriber in listed if subscriber.webhook)
    problems = webhook_problems(listed, env)
    if hooks or problems:  # a site without webhooks is not told about them
        checks.append(Check("webhooks", tuple(problems),
                            f"{hooks} in {SUBSCRIBERS_PATH}: reachable under the network policy, secrets set"))
    return checks


def relay_configured(config: SiteConfig, env: Mapping[str, str]) -> bool:
    """Whether a relay is set at all (the subscription service mails through it, else into the outbox)."""
    return bool(env.get("STATUSGEN_SMTP_HOST", "").strip() or dict(config.notify.smtp).get("host"))


def relay_intended(config: SiteConfig, env: Mapping[str, str]) -> bool:
    """Whether someone meant to set a relay: its host, or any STATUSGEN_SMTP_* variable but
    the sender (CI secrets for a relay whose host was forgotten must not mean the outbox)."""
    return relay_configured(config, env) or bool(environment_settings(env))


def problems_of(checks: list[Check]) -> list[str]:
    return [problem for check in checks for problem in check.problems]
