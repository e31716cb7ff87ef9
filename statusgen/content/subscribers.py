"""`subscribers.yaml`: subscribers managed by ops. Never published."""

from __future__ import annotations

import re
from pathlib import Path

from statusgen.content.catalog import Catalog
from statusgen.errors import Problems
from statusgen.content.fields import Fields, describe, did_you_mean
from statusgen.content.model import SiteConfig, Subscriber
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
                        what="a subscriber (a mapping with email)")
        if fields.ok and (subscriber := _read(fields, config, catalog, seen)):
            found.append(subscriber)
    return tuple(found)


def _read(fields: Fields, config: SiteConfig, catalog: Catalog, seen: dict[str, int]) -> Subscriber | None:
    fields.reject_unknown(("email", "components", "language"))
    email = (fields.string("email", "an email address", required=True) or "").strip()
    if email and not EMAIL.match(email):
        fields.error("email", f"email: expected an address such as 'spoc@partner.example'; found {email!r}")
        return None
    key = email.lower()
    if key in seen:
        fields.error("email", f"email: {email!r} is already listed on line {seen[key]}")
        return None
    seen[key] = fields.line("email")
    language = fields.string("language", "a language code") or config.default_language
    if language not in config.languages:
        fields.error("language", f"language: expected one of {', '.join(config.languages)}; "
                                 f"found {language!r}{did_you_mean(language, config.languages)}")
    components = None
    if fields.has("components"):
        refs = fields.sequence("components", "a list of component or group ids") or LocatedList()
        components = tuple(dict.fromkeys(
            cid for index, ref in enumerate(refs)
            for cid in catalog.resolve(fields.path, refs.line_of(index), ref, fields.problems)))
    if not email:
        return None
    return Subscriber(email=email, components=components, language=language, line=fields.line())
