"""Pieces many pages show alike, rendered once instead of once per page.

The header, the footer and an incident's summary in lists look the same on every page
that shows them, except for their links, which are relative to the page. Each is a macro
named after its template (`header.html` has `header`), called once per language and
arguments in a module whose `link()` leaves a marker instead of a link; for each page
the markers are then replaced with the page's relative links, and `slot(name)` markers
with the page's own content (its language menu).

    header.html ──macro(args), link()=marker──▶ _Shape ──links resolved per folder──▶ page

The links of a page in folder `en/incidents/a/` resolve the same as from any other
folder beside it (`en/incidents/b/`), unless a link points inside the folder: so the
resolved pieces are shared by the pages of one parent folder, and a 10,000-incident
site resolves the header's links a handful of times, not 10,000.

With a memo (`serve --watch`), the shapes (`Shapes`) outlive the build: the next build of
the language takes them over while its site-wide inputs and `now` are the same
(`pages.LanguagePages`), so the summaries of an edited component's pages are not all
rendered again. That holds because a piece shows only its arguments and what every page
of the language shows (settings, theme, translations: `fingerprints.site_inputs`), as the
pages' own fingerprints already assume; shapes whose arguments are incident states no
longer in the build are dropped (`Shapes.prune`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

from markupsafe import Markup

from statusgen.site.templating import output_escape
from statusgen.site.theme import Theme

MARK = "\x00"
"""Around a link target or slot name in a rendered `_Shape`: never in a site's text (YAML
and the loaders refuse control characters), and checked against the calls made."""


@dataclass(frozen=True)
class _Shape:
    """A shared piece as rendered once: `pieces` alternate text and markers, `"L" + target`
    for a link and `"S" + name` for a slot. Not `reusable` if the text held a marker
    character of its own; then the piece is rendered for every page."""

    pieces: tuple[str, ...]
    targets: frozenset[str]
    current: str | None
    reusable: bool
    args: tuple[Any, ...] = ()
    """The arguments it was made with, kept alive: objects among them are keyed by `id`."""


class Shapes:
    """The shapes of one language's pieces and the marking macros that made them: what a
    build can hand to the next (see the module docstring)."""

    def __init__(self) -> None:
        self.shapes: dict[Hashable, _Shape] = {}
        self.macros: dict[str, Any] = {}
        self.marked: list[str] = []
        """The markers the macro being called left, in order (`SharedPieces.shape`)."""
        self.taking: dict[tuple[str, tuple[str, ...]], tuple[tuple[str, ...], bool]] = {}

    def prune(self, current: Callable[[Any], bool]) -> None:
        """Drop the shapes made with an argument for which `current(arg)` is False (an
        incident state a newer build replaced): they would never be asked for again, and
        their `args` would keep the old states alive."""
        stale = [key for key, shape in self.shapes.items() if not all(map(current, shape.args))]
        for key in stale:
            del self.shapes[key]


class SharedPieces:
    """The shared pieces of one language in one build.

    `context(link, slot)` is what the pieces see (everything site-wide, nothing of a page)
    and `link_for(path, absolute)` makes a page's `link()`; `kept`: the shapes of an
    earlier build made with the same site-wide inputs, to start from.
    """

    def __init__(self, theme: Theme, context: Callable[[Callable[[str], Any], Callable[[str], Any]], dict[str, Any]],
                 link_for: Callable[[str, bool], Callable[[str], str]], kept: Shapes | None = None) -> None:
        self.theme, self.context, self.link_for = theme, context, link_for
        self.made = Shapes() if kept is None else kept
        self.shapes, self.macros, self.taking = self.made.shapes, self.made.macros, self.made.taking
        self.resolved: dict[tuple[str, str], dict[Hashable, Any]] = {}
        """Each piece's resolved links (`resolve`) by where it shows, then by piece: None
        when seen once there (see `piece`); a place no page is left to use is `forget`-ed."""
        self._place: tuple[str | None, str, tuple[str, str] | None] = (None, "", None)
        """The last page's path, folder and where pieces resolved beside it are kept
        (None: the page is at the top, with no folder)."""

    def piece(self, name: str, path: str, absolute_links: bool, args: dict[str, Any],
              slots: dict[str, str]) -> Markup:
        """Shared piece `name` made with `args` (those its macro takes), as it shows on the
        page at `path`, with `slots` filled; `current` is the page's path when the page is
        one of the piece's links and its macro takes `current`."""
        taken, takes_current = self.accepted(name, tuple(args))
        arg_key = tuple([(key, _identity(args[key])) for key in taken])
        shape = self.shapes.get((name, None, arg_key)) or self.shape(name, None, {k: args[k] for k in taken}, arg_key)
        if takes_current and path in shape.targets:  # the page is one of the links
            shape = self.shape(name, path, {k: args[k] for k in taken}, arg_key)
        if not shape.reusable:  # made for this page alone, with its own links
            module = self.theme.macro(name, name.removesuffix(".html"),
                                      **self.context(self.link_for(path, absolute_links),
                                                     lambda slot: Markup(slots.get(slot, ""))))
            current = {"current": shape.current} if takes_current else {}
            return Markup(self.theme.reporting(name, lambda: module(**{k: args[k] for k in taken}, **current)))
        if self._place[0] != path:  # (a page asks for all its pieces in a row)
            slash = path.rfind("/")
            folder = path[:slash + 1]
            self._place = (path, folder, None if slash < 0 else ("beside", folder.rstrip("/").rpartition("/")[0]))
        _, folder, beside = self._place
        if beside is None or any(map(str.startswith, shape.targets, repeat(folder))):
            where: tuple[str, str] = ("page", path)
        else:
            where = beside
        key = (name, shape.current, arg_key, absolute_links)
        there = self.resolved.setdefault(where, {}) if where[0] == "beside" else None  # a page's own: used once
        resolved = _UNSEEN if there is None else there.get(key, _UNSEEN)
        if resolved is None or resolved is _UNSEEN:
            # Kept from its second use on: an incident's summary shows once in most places
            # (once per component list), the header and footer on every page of a folder.
            made = self.resolve(shape, self.link_for(path, absolute_links))
            if there is not None:
                there[key] = None if resolved is _UNSEEN else made
            resolved = made
        if isinstance(resolved, str):
            return Markup(resolved)
        texts, names = resolved
        parts = [texts[0]]
        for slot, text in zip(names, texts[1:]):
            parts += (slots.get(slot, ""), text)
        return Markup("".join(parts))

    def accepted(self, name: str, given: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
        """Which of the `given` argument names piece `name`'s macro takes (sorted), and
        whether it takes `current`."""
        key = (name, given)
        if key not in self.taking:
            arguments = self.macro(name).arguments
            self.taking[key] = (tuple(sorted(k for k in given if k in arguments)), "current" in arguments)
        return self.taking[key]

    @staticmethod
    def resolve(shape: _Shape, link: Callable[[str], str]) -> str | tuple[tuple[str, ...], tuple[str, ...]]:
        """`shape` with its links resolved by `link`: the text, or the texts between its
        slots and the slots' names."""
        texts, names = [shape.pieces[0]], []
        for marker, text in zip(shape.pieces[1::2], shape.pieces[2::2]):
            if marker[0] == "L":
                texts[-1] += str(output_escape(link(marker[1:]))) + text
            else:
                names.append(marker[1:])
                texts.append(text)
        return texts[0] if not names else (tuple(texts), tuple(names))

    def forget(self, folder: str) -> None:
        """Forget the pieces resolved for pages in the folders of `folder` (such as one
        component's numbered pages, `components/ID/page/`) when no page is left to make
        there: at 10,000 incidents they held about 20 MiB per language."""
        self.resolved.pop(("beside", folder.rstrip("/")), None)

    def macro(self, name: str) -> Any:
        """The macro of piece `name`, in a module made once whose `link()` and `slot()`
        leave markers (see `_Shape`) and note each call."""
        if name not in self.macros:
            made = self.made  # (not `self`: the shapes, and these macros, may serve a later build)

            def mark(kind: str) -> Callable[[str], Markup]:
                def marker(value: str) -> Markup:
                    made.marked.append(kind + value)
                    return Markup(f"{MARK}{kind}{value}{MARK}")
                return marker

            self.macros[name] = self.theme.macro(name, name.removesuffix(".html"),
                                                 **self.context(mark("L"), mark("S")))
        return self.macros[name]

    def shape(self, name: str, current: str | None, args: dict[str, Any], arg_key: Hashable) -> _Shape:
        """Piece `name` made with `args`, with markers for its links and slots."""
        key = (name, current, arg_key)
        if key not in self.shapes:
            macro = self.macro(name)
            marked = self.made.marked = []
            extra = {"current": current} if "current" in macro.arguments else {}
            text = str(self.theme.reporting(name, lambda: macro(**args, **extra)))
            pieces = tuple(text.split(MARK))
            self.shapes[key] = _Shape(pieces, frozenset(c[1:] for c in marked if c[0] == "L"), current,
                                      reusable=list(pieces[1::2]) == marked, args=tuple(args.values()))
        return self.shapes[key]


_UNSEEN = object()


def plain(value: Any) -> bool:
    """Whether an argument is a plain value, a key as it is (else keyed by identity)."""
    return value is None or isinstance(value, (str, int, float, bool, datetime))


def _identity(value: Any) -> Hashable:
    """An argument as a cache key: plain values as they are, objects (an incident's state,
    immutable for the build) by identity, so no deep hashing per use."""
    return value if plain(value) else ("id", id(value))
