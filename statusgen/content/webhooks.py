"""What a webhook subscriber's URL says before anything is sent: its format and its secret's name.

    URL (+ format:) ──detect_format──▶ statuspage | slack | teams | googlechat | discord | mattermost
                    (a retired Office 365 connector URL: ValueError saying what to use instead)
    URL ──default_secret_env──▶ STATUSGEN_WEBHOOK_SECRET_<ID>   (a statuspage webhook without secret_env:)

Here, below the notifier, because `statusgen check` reads subscribers.yaml with it and the
notifier (`webhooks/payloads.py`) chooses the bodies with it: one rule for both.

Which format a URL gets: an explicit `format:` wins; else the host says it: hooks.slack.com
→ slack; Power Automate / Logic Apps hosts (Teams Workflows) → teams; chat.googleapis.com →
googlechat; discord.com `/api/webhooks/` → discord; anything else → statuspage. A `/hooks/`
path is *not* taken for Mattermost (every self-hosted service has such paths, and a
partner's desk expecting Statuspage's JSON would get chat text): Mattermost needs
`format: mattermost`. The retired Office 365 connector URLs are refused whatever the
format, with what to create instead: they no longer deliver anything.

Only Statuspage-format deliveries are signed; a chat target's URL is its own secret.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from statusgen import ids

FORMATS = ("statuspage", "slack", "teams", "googlechat", "discord", "mattermost")
SIGNED = "statuspage"
"""The one format whose deliveries carry Standard Webhooks signatures."""
SECRET_PREFIX = "STATUSGEN_WEBHOOK_SECRET_"
"""A signed webhook in subscribers.yaml without `secret_env:` reads its secret from
`STATUSGEN_WEBHOOK_SECRET_<ID>`, ID its short id in capitals (`default_secret_env`)."""
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

RETIRED_TEAMS = ("{url}: Office 365 connector webhooks (*.webhook.office.com, outlook.office.com/webhook) "
                 "were retired by Microsoft and no longer deliver messages; in Teams, create a Workflows "
                 "webhook instead (the workflow template \"When a Teams webhook request is received\", or "
                 "\"Post to a channel when a webhook request is received\") and use its URL")
HOSTS = {
    "slack": ("hooks.slack.com", "hooks.slack-gov.com"),
    "teams": (".logic.azure.com", ".powerplatform.com", ".powerautomate.com"),
    "googlechat": ("chat.googleapis.com",),
}
DISCORD_HOSTS = ("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com")
DISCORD_PATH = re.compile(r"^/api(/v\d+)?/webhooks/")


def detect_format(url: str, explicit: str | None = None) -> str:
    """The format for a URL: `explicit` if given, else from the host (hooks.slack.com → slack, ...),
    else statuspage. Raises ValueError with what to use instead for a retired target
    (Office 365 connector URLs) and for an explicit format that does not exist."""
    parts = urlsplit(url.strip())
    host, path = (parts.hostname or "").lower().rstrip("."), parts.path
    if host.endswith(".webhook.office.com") or host == "webhook.office.com" or \
            (host in ("outlook.office.com", "outlook.office365.com") and path.lower().startswith("/webhook")):
        raise ValueError(RETIRED_TEAMS.format(url=shown(parts.scheme, host)))
    if explicit is not None:
        if explicit not in FORMATS:
            raise ValueError(f"format: expected one of {', '.join(FORMATS)}; found {explicit!r}")
        return explicit
    for fmt, hosts in HOSTS.items():
        if any(host == known or (known.startswith(".") and host.endswith(known)) for known in hosts):
            return fmt
    if host in DISCORD_HOSTS and DISCORD_PATH.match(path):
        return "discord"
    return "statuspage"


def shown(scheme: str, host: str) -> str:
    """The URL as messages may show it: scheme and host only (the path holds the secret)."""
    return f"{scheme}://{host}/..." if host else "the webhook URL"


def url_problem(url: str) -> str | None:
    """What makes `url` no webhook URL at all, or None. Syntax only: whether its host may
    be reached (https, or http inside STATUSGEN_WEBHOOK_ALLOW_NETS) depends on the
    environment, which the notifier's preflight checks."""
    if not url.isascii() or re.search(r"[\x00-\x20\x7f]", url):
        return "expected a URL without spaces or characters outside ASCII (write the host as xn--…)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is no number
    except ValueError:
        return "expected a URL such as https://desk.partner.example/hooks/status; its host or port is malformed"
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        return "expected a URL such as https://desk.partner.example/hooks/status"
    if "@" in parts.netloc:
        return "a user name or password before the host is not allowed (sign with secret_env, or put a secret in " \
               "the path)"
    return None


def webhook_id(url: str) -> str:
    """The webhook's short id: what ops type (`statusgen subscribers reactivate ID`), the
    same as the subscription service gives it (`ids.webhook_id`)."""
    return ids.webhook_id(url)


def default_secret_env(url: str) -> str:
    """The variable a signed webhook's secret is read from when `secret_env:` names none."""
    return SECRET_PREFIX + webhook_id(url).upper()
