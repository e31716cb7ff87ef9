"""What the forms send, checked once at the edge: an address, components, a language,
and for a webhook its URL and format.

The subscribe form has one contract, whether it comes from the static site's page or
from the service's own: `email`, `components` (repeated; component or group ids; none
means everything), `language`, and `website`, a honeypot that people leave empty. The
webhook form adds `url` and `format` (`auto` or one of `payloads.FORMATS`); its `email`
is the contact who confirms and manages it. A URL must pass the SSRF policy's static
check (`network.check_url`: https, no private address unless STATUSGEN_WEBHOOK_ALLOW_NETS
allows it) and may not be a retired target (`payloads.detect_format`); its host's
addresses are checked again when anything is sent to it.
Problems come back as `Problem`s (a translation key and its values), so the page that
shows them speaks the visitor's language.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from statusgen.content.model import Site
from statusgen.content.subscribers import EMAIL
from statusgen.content.webhooks import FORMATS, detect_format
from statusgen.notifier.webhooks.network import NetworkPolicy, check_url, non_public

MAX_ADDRESS = 254
"""RFC 5321's limit for a path, the longest address that can be delivered."""
MAX_URL = 2000
"""Longer URLs are not webhooks people paste; browsers and servers disagree beyond it."""
AUTO = "auto"
"""The format choice that lets the URL's host decide."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class FormData(Protocol):
    """werkzeug's MultiDict, as far as reading a form needs it."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Problem:
    field: str
    """The form field it is about: `email`, `components` or `language`."""
    key: str
    """A translation key under `service.error.`."""
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Choices:
    """What a subscriber follows and in which language."""

    components: tuple[str, ...] | None
    """Component or group ids as chosen; None follows everything."""
    language: str


@dataclass(frozen=True)
class Request:
    email: str
    choices: Choices


@dataclass(frozen=True)
class WebhookWanted:
    url: str
    format: str
    """Resolved: `auto` became the host's format."""
    contact: str
    choices: Choices


class AddressError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def normalise_address(raw: str) -> str:
    """The address as stored and mailed: stripped, its domain lowercased (the local part
    may be case-sensitive, RFC 5321 §2.4). Raises AddressError with a translation key.

    A line break anywhere is refused before stripping: it is the start of a header
    injection, never a typing slip worth repairing."""
    if "\r" in raw or "\n" in raw:
        raise AddressError("email_lines")
    email = raw.strip()
    if not email:
        raise AddressError("email_missing")
    if len(email) > MAX_ADDRESS:
        raise AddressError("email_too_long")
    if CONTROL.search(email) or not EMAIL.match(email):
        raise AddressError("email_invalid")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def read_subscribe(form: FormData, site: Site) -> tuple[Request | None, list[Problem]]:
    """The subscribe form: a request, or every problem with it."""
    problems: list[Problem] = []
    email = ""
    try:
        email = normalise_address(str(form.get("email", "")))
    except AddressError as error:
        problems.append(Problem("email", error.key))
    choices = read_choices(form, site, problems, language_field="language")
    if problems or choices is None:
        return None, problems
    return Request(email, choices), []


def read_webhook(form: FormData, site: Site, policy: NetworkPolicy) -> tuple[WebhookWanted | None, list[Problem]]:
    """The webhook form: a request, or every problem with it."""
    problems: list[Problem] = []
    contact = ""
    try:
        contact = normalise_address(str(form.get("email", "")))
    except AddressError as error:
        problems.append(Problem("email", error.key))
    url, fmt = _url(form, policy, problems)
    choices = read_choices(form, site, problems, language_field="language")
    if problems or choices is None:
        return None, problems
    return WebhookWanted(url, fmt, contact, choices), []


def _url(form: FormData, policy: NetworkPolicy, problems: list[Problem]) -> tuple[str, str]:
    """The URL and its format; adds to `problems` what is wrong with either."""
    url = str(form.get("url", "")).strip()
    chosen = str(form.get("format", "") or AUTO)
    if chosen != AUTO and chosen not in FORMATS:
        problems.append(Problem("format", "format", {"found": chosen[:20], "expected": ", ".join(FORMATS)}))
        chosen = AUTO
    if not url:
        problems.append(Problem("url", "url_missing"))
        return "", chosen
    if len(url) > MAX_URL:
        problems.append(Problem("url", "url_too_long", {"limit": str(MAX_URL)}))
        return "", chosen
    refused = check_url(url, policy)
    if refused is not None:
        problems.append(_refusal(url, refused))
        return "", chosen
    try:
        return url, detect_format(url, None if chosen == AUTO else chosen)
    except ValueError as error:
        problems.append(Problem("url", "url_retired", {"reason": str(error)}))
        return "", chosen


def _refusal(url: str, reason: str) -> Problem:
    """What the static check refused, in the visitor's words where it is common: a private
    or local address written in the URL, a scheme other than https; else its own reason."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return Problem("url", "url_refused", {"reason": reason})
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and non_public(address):
        return Problem("url", "url_private", {"address": str(address)})
    if parts.scheme.lower() != "https":
        return Problem("url", "url_https")
    return Problem("url", "url_refused", {"reason": reason})


def read_choices(form: FormData, site: Site, problems: list[Problem],
                 language_field: str = "language") -> Choices | None:
    """Components and language from a form; adds to `problems` what is wrong."""
    before = len(problems)
    components = _components(form.getlist("components"), site, problems)
    language = str(form.get(language_field, "") or site.config.default_language)
    if language not in site.config.languages:
        problems.append(Problem("language", "language", {"found": language[:20],
                                                         "expected": ", ".join(site.config.languages)}))
    return Choices(components, language) if len(problems) == before else None


def _components(refs: Sequence[str], site: Site, problems: list[Problem]) -> tuple[str, ...] | None:
    known = set(site.groups_by_id) | set(site.components_by_id)
    chosen = tuple(dict.fromkeys(ref.strip() for ref in refs if ref.strip()))
    for ref in chosen:
        if ref not in known:
            problems.append(Problem("components", "unknown_component", {"id": ref[:60]}))
    return chosen or None


def expand(components: tuple[str, ...] | None, site: Site) -> tuple[str, ...] | None:
    """Component ids a choice means today: a group means all its components (also ones
    added to it later); ids no longer in components.yaml are left out."""
    if components is None:
        return None
    found: list[str] = []
    for ref in components:
        if ref in site.groups_by_id:
            found += site.groups_by_id[ref].components
        elif ref in site.components_by_id:
            found.append(ref)
    return tuple(dict.fromkeys(found))
