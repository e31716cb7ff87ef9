"""`subscribers.yaml`: subscribers managed by ops. Never published.

    - email: spoc@partner.example          an email subscriber
      components: [eu-dcc]                 ids or groups; omitted: everything
      language: nl                         default: the site's first language
    - webhook: https://desk.partner.example/hooks/status    a webhook or chat subscriber
      format: statuspage                   optional: else from the URL's host (content/webhooks.py)
      secret_env: PARTNER_DESK_SECRET      statuspage format: the variable with its whsec_ secret(s);
                                           default STATUSGEN_WEBHOOK_SECRET_<ID>; chat formats: none
      email: desk-admins@partner.example   optional: the contact told when deliveries keep failing

Checked here: the syntax. Whether the URL may be reached (https, or http inside
STATUSGEN_WEBHOOK_ALLOW_NETS) and whether the secret is set depend on the environment:
the notifier's preflight checks them (`statusgen doctor`, before `statusgen notify`).
"""

from __future__ import annotations

import re
from pathlib import Path

from statusgen.content.catalog import Catalog
from statusgen.errors import Problems
from statusgen.content.fields import Fields, describe, did_you_mean
from statusgen.content.model import SiteConfig, Subscriber, subscriber_key
from statusgen.content.webhooks import SIGNED, VARIABLE, default_secret_env, detect_format, url_problem
from statusgen.content.yamlsource import LocatedList, read_document

SUBSCRIBERS_PATH = "subscribers.yaml"
EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+\Z")


def load_subscribers(site_dir: Path, config: SiteConfig, catalog: Catalog,
                     problems: Problems) -> tuple[Subscriber, ...]:
    document = read_document(site_dir, SUBSCRIBERS_PATH, problems)  # optional: no file, no subscribers
    if document is None:
        return ()
    data = document.data
    if not isinstance(data, LocatedList):
        problems.add(SUBSCRIBERS_PATH, getattr(data, "line", 1),
                     f"expected a list of subscribers; found {describe(data)}")
        return ()
    seen: dict[str, int] = {}
    found = []
    for index, entry in enumerate(data):
        fields = Fields(SUBSCRIBERS_PATH, entry, problems, data.line_of(index),
                        what="a subscriber (a mapping with email or webhook)")
        if fields.ok and (subscriber := _read(fields, config, catalog, seen)):
            found.append(subscriber)
    return tuple(found)


def _read(fields: Fields, config: SiteConfig, catalog: Catalog, seen: dict[str, int]) -> Subscriber | None:
    if "webhook" in fields.data:
        return _webhook(fields, config, catalog, seen)
    fields.reject_unknown(("email", "components", "language", "webhook"))
    email = (fields.string("email", "an email address", required=True) or "").strip()
    if email and not _address(fields, email):
        return None
    key = email.lower()
    if key in seen:
        fields.error("email", f"email: {email!r} is already listed on line {seen[key]}")
        return None
    seen[key] = fields.line("email")
    language, components = _language(fields, config), _components(fields, catalog)
    if not email:
        return None
    return Subscriber(email=email, components=components, language=language, line=fields.line())


def _webhook(fields: Fields, config: SiteConfig, catalog: Catalog, seen: dict[str, int]) -> Subscriber | None:
    """A webhook entry: its URL, format and secret's variable, and the contact (`email`)."""
    fields.reject_unknown(("webhook", "format", "secret_env", "email", "components", "language"))
    url = (fields.string("webhook", "a URL such as https://desk.partner.example/hooks/status", required=True)
           or "").strip()
    contact = (fields.string("email", "the contact's email address") or "").strip()
    if contact and not _address(fields, contact):
        contact = ""
    language, components = _language(fields, config), _components(fields, catalog)
    fmt = _format(fields, url)
    secret_env = _secret_env(fields, url, fmt)
    if not url or fmt is None:
        return None
    key = subscriber_key("", url)
    if key in seen:
        fields.error("webhook", f"webhook: this URL is already listed on line {seen[key]}")
        return None
    seen[key] = fields.line("webhook")
    return Subscriber(email=contact, components=components, language=language, line=fields.line(), webhook=url,
                      format=fmt, secret_env=secret_env)


def _format(fields: Fields, url: str) -> str | None:
    """The format the URL gets (an explicit `format:` wins), or None after an error."""
    if not url:
        return None
    if (problem := url_problem(url)) is not None:
        fields.error("webhook", f"webhook: {problem}")
        return None
    explicit = fields.string("format", "a format name")
    try:
        return detect_format(url, explicit)
    except ValueError as error:  # an unknown format, or a retired target (which says what to use instead)
        unknown = str(error).startswith("format:")
        fields.error("format" if unknown else "webhook", str(error) if unknown else f"webhook: {error}")
        return None


def _secret_env(fields: Fields, url: str, fmt: str | None) -> str | None:
    """The variable holding a signed webhook's secret(s); chat messages are not signed."""
    name = fields.string("secret_env", "the name of an environment variable")
    if name is not None and (not VARIABLE.match(name) or name.startswith("whsec_")):
        what = "a whsec_ secret" if name.startswith("whsec_") else f"{len(name)} characters that are no such name"
        fields.error("secret_env", "secret_env: expected the NAME of an environment variable (letters, digits and _, "
                                   f"such as PARTNER_DESK_SECRET), never the secret itself; found {what}")
        return None
    if fmt is not None and fmt != SIGNED:
        if name is not None:
            fields.error("secret_env", f"secret_env: {fmt} messages are not signed (the URL itself is the secret); "
                                       "remove secret_env")
        return None
    return name or (default_secret_env(url) if url and fmt == SIGNED else None)


def _address(fields: Fields, email: str) -> bool:
    if EMAIL.match(email):
        return True
    fields.error("email", f"email: expected an address such as 'spoc@partner.example'; found {email!r}")
    return False


def _language(fields: Fields, config: SiteConfig) -> str:
    language = fields.string("language", "a language code") or config.default_language
    if language not in config.languages:
        fields.error("language", f"language: expected one of {', '.join(config.languages)}; "
                                 f"found {language!r}{did_you_mean(language, config.languages)}")
    return language


def _components(fields: Fields, catalog: Catalog) -> tuple[str, ...] | None:
    if not fields.has("components"):
        return None
    refs = fields.sequence("components", "a list of component or group ids") or LocatedList()
    return tuple(dict.fromkeys(
        cid for index, ref in enumerate(refs)
        for cid in catalog.resolve(fields.path, refs.line_of(index), ref, fields.problems)))
