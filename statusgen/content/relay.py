"""The SMTP relay's settings: where and how `notify --transport smtp` reaches the relay.

    content/site.yaml notify.smtp (host, port, security, user, rate, timeout, ca_file) ──┐
    STATUSGEN_SMTP_* in the environment (wins; the password only) ────────┴──read──▶ SmtpSettings  or  problems

Read and checked here, at the edge, so that the notifier's SMTP transport, `doctor` and
the site's warnings (site/advice.py) all see the same settings and the same problems.
"""

from __future__ import annotations

import logging
import re
import ssl
from pathlib import Path
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

log = logging.getLogger(__name__)


SECURITY_MODES = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
SITE_SETTINGS = ("host", "port", "security", "user", "rate", "timeout", "ca_file")
"""What `notify.smtp` in content/site.yaml may set: never the password."""
DEFAULT_TIMEOUT = 30.0
"""Seconds the relay has for each answer when `timeout` is not set."""
MAX_TIMEOUT = 600.0
ADDRESS = re.compile(r"[^@\s<>()\[\],;:\\\"]+@[^@\s<>()\[\],;:\\\"]+\Z")
"""local@domain, as a relay takes it in MAIL FROM: no spaces, one @, nothing to quote."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP relay."""

    host: str
    port: int = 25
    security: str = "none"
    """`none`, `starttls` (upgrade a plain connection) or `tls` (TLS from the first byte)."""
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log or a traceback
    rate: float | None = None
    """The relay's quota in messages per second (`notify.smtp.rate`, `STATUSGEN_SMTP_RATE`),
    kept across all connections (smtp/pace.py); None: as fast as the relay takes them."""
    timeout: float | None = None
    """Seconds the relay has for each answer, whole (`notify.smtp.timeout`,
    `STATUSGEN_SMTP_TIMEOUT`); None: the transport's default (30 s; the doctor's probe 10 s).
    A relay that stays silent longer, or dribbles an answer, is given up on."""
    ca_file: str | None = None
    """A PEM file of certificates to trust for the relay's TLS certificate instead of the
    system's (`notify.smtp.ca_file`, `STATUSGEN_SMTP_CA_FILE`): a relay with a private or
    self-signed certificate. The host name is still checked against it."""

    @classmethod
    def from_environment(cls, env: Mapping[str, str], defaults: Mapping[str, Any] | None = None) -> SmtpSettings:
        """Settings from `STATUSGEN_SMTP_*` (as CI secrets arrive), over the non-secret
        `defaults` from the site's `notify.smtp`. An empty variable counts as unset, as
        CI systems pass a missing secret as an empty string. Raises ValueError (the first
        problem `read` finds)."""
        settings, problems = cls.read(env, defaults or {})
        if settings is None:
            raise ValueError(problems[0])
        if settings.user is not None and settings.security == "none":
            log.warning("SMTP credentials will cross the network unencrypted; set STATUSGEN_SMTP_SECURITY")
        return settings

    @classmethod
    def read(cls, env: Mapping[str, str], defaults: Mapping[str, Any]) -> tuple[SmtpSettings | None, list[str]]:
        """The settings, or None and every problem, one line each naming the setting."""
        found, problems = setting_sources(env, defaults)
        if "host" not in found:
            given = [source for source, _ in found.values()]  # settings for a relay that is not named
            problems.append("no SMTP server: set STATUSGEN_SMTP_HOST (or notify.smtp.host in content/site.yaml)"
                            + (f"; found {', '.join(given)} without it" if given else ""))
        security = _checked(_security, found.get("security"), "none", problems)
        port = _checked(_port, found.get("port"), DEFAULT_PORTS.get(security, 25), problems)
        user = str(found["user"][1]).strip() if "user" in found else None
        password = str(found["password"][1]) if "password" in found else None
        rate = _checked(_rate, found.get("rate"), None, problems)
        timeout = _checked(_timeout, found.get("timeout"), None, problems)
        ca_file = _checked(_ca_file, found.get("ca_file"), None, problems)
        if (user is None) != (password is None):
            given, missing = ("USER", "PASSWORD") if password is None else ("PASSWORD", "USER")
            problems.append(f"STATUSGEN_SMTP_{given} is set but STATUSGEN_SMTP_{missing} is not: set both or neither")
        if problems:
            return None, problems
        return cls(host=str(found["host"][1]).strip(), port=port, security=security, user=user,
                   password=password, rate=rate, timeout=timeout, ca_file=ca_file), []


def address_problem(value: str) -> str | None:
    """What is wrong with an email address (`Name <local@domain>` or `local@domain`), or None.
    A header made of it must hold exactly one address and never a line break."""
    if "\r" in value or "\n" in value:
        return "expected one email address on one line; found a line break"
    found = getaddresses([value])
    name, address = found[0] if len(found) == 1 else ("", "")
    if not ADDRESS.match(address) or (not name and address != value.strip()):
        return f"expected an email address such as 'status@example.org' or 'Status <status@example.org>'; " \
               f"found {value!r}"
    return None


def _checked(parse: Callable[[str, Any], Any], source: tuple[str, Any] | None, default: Any,
             problems: list[str]) -> Any:
    """A setting parsed from where it came from, or its default; a bad one adds a problem."""
    if source is None:
        return default
    try:
        return parse(*source)
    except ValueError as error:
        problems.append(str(error))
        return default


def environment_settings(env: Mapping[str, str]) -> list[str]:
    """The relay's variables set in the environment (the sender aside: the outbox uses it too)."""
    return [f"STATUSGEN_SMTP_{name.upper()}" for name in (*SITE_SETTINGS, "password")
            if env.get(f"STATUSGEN_SMTP_{name.upper()}", "").strip()]


def setting_sources(env: Mapping[str, str], defaults: Mapping[str, Any]) -> tuple[dict[str, tuple[str, Any]],
                                                                                    list[str]]:
    """Each setting that is set, with where it came from (the environment wins), and the
    problems of the site's `notify.smtp`."""
    problems = []
    if "password" in defaults:
        problems.append("notify.smtp.password: the SMTP password may only come from the environment "
                        "(STATUSGEN_SMTP_PASSWORD), never from a file in git")
    unknown = sorted(str(key) for key in defaults if key not in (*SITE_SETTINGS, "password"))
    if unknown:
        problems.append(f"notify.smtp: expected only {', '.join(SITE_SETTINGS)}; found {', '.join(unknown)}")
    found: dict[str, tuple[str, Any]] = {}
    for name in (*SITE_SETTINGS, "password"):
        variable = f"STATUSGEN_SMTP_{name.upper()}"
        value = env.get(variable)
        if value is not None and (value if name == "password" else value.strip()):
            found[name] = (variable, value)
        elif name != "password" and defaults.get(name) not in (None, ""):
            found[name] = (f"notify.smtp.{name}", defaults[name])
    return found, problems


def _security(source: str, value: Any) -> str:
    mode = str(value).strip().lower()
    if mode not in SECURITY_MODES:
        hint = " (did you mean 'tls'?)" if mode in ("ssl", "smtps", "implicit") else ""
        raise ValueError(f"{source}: expected one of {', '.join(SECURITY_MODES)}; found {value!r}{hint}")
    return mode


def _port(source: str, value: Any) -> int:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise ValueError(f"{source}: expected a port number from 1 to 65535; found {value!r}")
    return int(text)


def _timeout(source: str, value: Any) -> float:
    return parse_timeout(value, source)


def parse_timeout(value: Any, source: str = "notify.smtp.timeout") -> float:
    """Seconds, above 0 and at most 600 (a number, or the same as text from the environment);
    raises ValueError naming `source`. Also what content/site.yaml is checked with."""
    text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
    seconds = float(text) if re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", text) else 0.0
    if not 0 < seconds <= MAX_TIMEOUT:
        raise ValueError(f"{source}: expected the seconds the relay has for each answer, a number above 0 and at "
                         f"most {MAX_TIMEOUT:g} (default {DEFAULT_TIMEOUT:g}); found {value!r}")
    return seconds


def _ca_file(source: str, value: Any) -> str:
    """An absolute path to a PEM file holding at least one certificate, loaded once here so
    that a wrong file is named before any work, not at the first TLS handshake."""
    path = Path(str(value).strip())
    expected = f"{source}: expected the absolute path of a PEM file of certificates to trust for the relay"
    if not path.is_absolute():
        raise ValueError(f"{expected}; found {str(value)!r}, a relative path")
    try:
        ssl.create_default_context(cafile=str(path))
    except ssl.SSLError:  # an OSError too: first
        raise ValueError(f"{expected}; {path} holds no PEM certificate") from None
    except OSError as error:  # FileNotFoundError, PermissionError, IsADirectoryError
        raise ValueError(f"{expected}; cannot read {path}: {error.strerror or error}") from None
    return str(path)


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """What a connection to the relay trusts: `ca_file`'s certificates, else the system's;
    the host name always checked."""
    return ssl.create_default_context(cafile=settings.ca_file)


def _rate(source: str, value: Any) -> float:
    return parse_rate(value, source)


def parse_rate(value: Any, source: str = "notify.smtp.rate") -> float:
    """Messages per second, a number above 0 (14, 0.5, or the same as text from the
    environment); raises ValueError naming `source`. Also what `content/site.yaml` is checked
    with when it loads, so `statusgen check` names the line."""
    text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
    rate = float(text) if re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", text) else 0.0
    if not 0 < rate < float("inf"):
        raise ValueError(f"{source}: expected the relay's limit in messages per second, a number above 0 such as 14 "
                         f"or 0.5; found {value!r}")
    return rate

