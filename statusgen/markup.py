"""Markdown written by ops → sanitised HTML.

Incident text is trusted to be written by ops but is still sanitised: a pasted
`<script>` or `javascript:` link must never reach readers (nor partners' portals).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import markdown
import nh3
from markupsafe import Markup

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
# Text with none of these characters renders the same as Markdown: skip the parser.
MARKDOWN_SYNTAX = re.compile(r"[\\`*_{}\[\]<>#+|!~&]|^\s*(\d+[.)]|[-=]+)\s|\n\s*\n|\n\s*[-*+]\s|://|  \n", re.M)
# A table column's alignment as `align`, which the sanitiser keeps, not as `style`, which it
# drops (the site's Content-Security-Policy would refuse it anyway).
_markdown = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html",
                              extension_configs={"tables": {"use_align_attribute": True}})


# Kept: the texts that recur (a component's description, "We are investigating."); a cache
# of every text held 10 MiB per language at 10,000 incidents, most of them used once.
@lru_cache(maxsize=2048)
def render_markdown(text: str) -> Markup:
    """Markdown → sanitised HTML, safe to put in a template."""
    text = text.strip()
    if not text:
        return Markup("")
    if not MARKDOWN_SYNTAX.search(text):
        return Markup("<p>" + html.escape(text, quote=False) + "</p>")
    raw = _markdown.reset().convert(text)
    return Markup(nh3.clean(raw, tags=TAGS, attributes=ATTRIBUTES, link_rel="noopener noreferrer",
                            url_schemes={"http", "https", "mailto"}))


def render_prose(text: str, label: str) -> Markup:
    """Markdown for a page, with each table in a box of its own that scrolls on a phone
    (WCAG lets a data table keep its two dimensions), which the keyboard can reach and
    a screen reader names."""
    rendered = render_markdown(text)
    if "<table>" not in rendered:
        return rendered
    box = Markup('<div class="table-box" role="region" tabindex="0" aria-label="{0}"><table>').format(label)
    return Markup(str(rendered).replace("<table>", str(box)).replace("</table>", "</table></div>"))
