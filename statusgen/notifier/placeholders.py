"""The placeholders an email keeps between its two steps: what differs per subscriber.

`compose` renders an event once per language and leaves a slot where a subscriber's own
value goes (`{{ manage_url }}`) and a section around what only some subscribers get
(`{% filter personal("can_manage") %}...{% endfilter %}`); `message` fills them for each
subscriber with `fill`. Both are private-use characters no text contains, and
`without_markers` takes them out of every text that comes from the snapshot, so a title
cannot pose as one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup

from statusgen.errors import BuildError

SLOT_START, SLOT_END, SECTION_START, SECTION_MID, SECTION_END = "\ue000\ue001\ue002\ue003\ue004"
NO_MARKERS = dict.fromkeys(map(ord, SLOT_START + SLOT_END + SECTION_START + SECTION_MID + SECTION_END))
SLOT = re.compile(f"{SLOT_START}(\\w+){SLOT_END}")
SECTION = re.compile(f"{SECTION_START}(\\w+){SECTION_MID}(.*?){SECTION_END}", re.S)


def slot(name: str) -> Markup:
    """A placeholder `fill` replaces per subscriber (safe: it holds no HTML)."""
    return Markup(f"{SLOT_START}{name}{SLOT_END}")


def personal(content: str, condition: str) -> Markup:
    """The `personal` template filter: `content` is kept only for subscribers for whom the
    condition holds (the conditions are `message`'s business)."""
    return Markup(f"{SECTION_START}{condition}{SECTION_MID}") + Markup(content) + Markup(SECTION_END)


def without_markers(text: str) -> str:
    return text.translate(NO_MARKERS)


def fill(rendered: str, values: dict[str, str], conditions: dict[str, bool], escape: Callable[[str], str]) -> str:
    """Keep the sections that apply, then put the subscriber's values in the slots."""
    return fill_slots(keep_sections(rendered, conditions), values, escape)


def keep_sections(rendered: str, conditions: dict[str, bool]) -> str:
    """The text with the sections that apply kept (their markers gone) and the others left out."""
    return SECTION.sub(lambda m: m.group(2) if _condition(m.group(1), conditions) else "", rendered)


def fill_slots(kept: str, values: dict[str, str], escape: Callable[[str], str]) -> str:
    """The slots replaced by the subscriber's values, escaped; a value is never read again
    for slots (one pass), so a value cannot pose as another slot."""
    return SLOT.sub(lambda m: escape(values[m.group(1)]), kept)


def _condition(name: str, conditions: dict[str, bool]) -> bool:
    if name not in conditions:
        raise BuildError(f"email template: unknown personal({name!r}); "
                         f"expected one of {', '.join(sorted(conditions))}")
    return conditions[name]
