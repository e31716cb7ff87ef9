"""`FastEnvironment` (statusgen/site/templating.py) renders what Jinja renders: the same
calls, context passing, escaping and errors, with fewer steps per call and value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jinja2
import pytest
from markupsafe import Markup, escape

from jinja2.runtime import markup_join

from statusgen.site.templating import (FastContext, FastEnvironment, _replaced, concat_join, escape_text,
                                      output_escape)


@jinja2.pass_context
def seen(context: jinja2.runtime.Context, name: str) -> str:
    return f"{name}={context.get(name)!r}"


@jinja2.pass_environment
def environment_kind(environment: jinja2.Environment) -> str:
    return type(environment).__name__.replace("Fast", "")


@jinja2.pass_eval_context
def autoescaping(eval_ctx: jinja2.nodes.EvalContext) -> str:
    return f"autoescape={eval_ctx.autoescape}"


class Labels:
    """A callable object, as the translator is."""

    def __call__(self, key: str, **values: Any) -> str:
        return f"<{key}>{values}"


class Marked:
    """A callable object whose `__call__` wants the context."""

    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context, name: str) -> str:
        return f"marked {name}={context.get(name)!r}"


class Helpers:
    """Methods, as the page helpers are: one of them wants the context."""

    def plain(self, name: str) -> str:
        return f"plain {name}"

    @jinja2.pass_context
    def marked(self, context: jinja2.runtime.Context, name: str) -> str:
        return f"marked method {name}={context.get(name)!r}"


def stops() -> Iterator[int]:
    raise StopIteration


def exploding() -> str:
    raise ValueError("boom")


GLOBALS = {"seen": seen, "environment_kind": environment_kind, "autoescaping": autoescaping, "labels": Labels(),
           "marked": Marked(), "stops": stops, "markup": Markup("<b>bold</b>"), "text": "<i>&amp;</i>", "number": 3,
           "items": ["a<", Markup("b<br>")], "method": "x".upper, "builtin": len, "cls": dict,
           "plain_method": Helpers().plain, "marked_method": Helpers().marked}

TEMPLATE = """\
{{ text }} {{ markup }} {{ number }} {{ none }} {{ 1.5 }} {{ [text] }} {{ text | safe }} {{ markup | e }}
{{ labels("k", a=text) }} {{ method() }} {{ builtin(items) }} {{ cls(a=1) }} {{ stops() is undefined }}
{{ seen("number") }} {{ environment_kind() }} {{ autoescaping() }} {{ marked("number") }}
{{ plain_method(text) }} {{ marked_method("number") }} {{ text ~ markup }} {{ text ~ number }} {{ text ~ "<" }} {{ "a" ~ 1 }}
{% for item in items %}{% set inner = loop.index %}{{ seen("item") }} {{ seen("inner") }} {{ marked("item") }} {{ item }} {{ marked_method("inner") }} {{ "x" ~ item }}|{% endfor %}
{% macro box(value, caller=none) %}[{{ value }}{% if caller %}{{ caller() }}{% endif %}]{% endmacro %}
{{ box(text) }} {{ box(markup) }} {% call box(number) %}{{ text }}{% endcall %}
{% set block %}{{ text }}{{ markup }}{% endset %}{{ block }} {{ block | length }}
{% filter upper %}{{ text }}{{ markup }}{% endfilter %}
{% autoescape false %}{{ text }}{{ markup }}{% endautoescape %}
{% autoescape number > 2 %}{{ text }}{{ markup }}{% endautoescape %}
{% block main %}{{ seen("text") }}{% endblock %}
"""


@pytest.mark.parametrize("autoescape", [True, False])
def test_the_same_output_as_jinja(autoescape: bool) -> None:
    def render(environment_class: type[jinja2.Environment]) -> str:
        environment = environment_class(autoescape=autoescape, undefined=jinja2.StrictUndefined)
        return environment.from_string(TEMPLATE).render(**GLOBALS)

    fast = render(FastEnvironment)
    assert fast == render(jinja2.Environment)
    assert "marked number=3" in fast and fast.count("marked item=") == 2 and f"autoescape={autoescape}" in fast
    assert "marked method number=3" in fast and "marked method inner=2" in fast
    assert fast.startswith("&lt;i&gt;&amp;amp;&lt;/i&gt;") is autoescape


def test_errors_and_strict_undefined_as_in_jinja() -> None:
    for environment_class in (FastEnvironment, jinja2.Environment):
        environment = environment_class(autoescape=True, undefined=jinja2.StrictUndefined)
        with pytest.raises(ValueError, match="boom"):
            environment.from_string("{{ exploding() }}").render(exploding=exploding)
        with pytest.raises(jinja2.UndefinedError):
            environment.from_string("{{ missing(1) }}").render()


def test_the_environment_uses_the_fast_parts() -> None:
    environment = FastEnvironment(autoescape=True)
    assert isinstance(environment.from_string("{{ 1 }}").new_context(), FastContext)
    assert "environment.output_escape(" in environment.compile("{{ x }}", raw=True)
    assert "escape(" not in environment.compile("{{ x }}", raw=True).replace("output_escape(", "")
    assert "context.call_in(None, None, " in environment.compile("{{ f(1) }}", raw=True)
    assert "context.call_in(_loop_vars, None, " in environment.compile("{% for i in x %}{{ f(i) }}{% endfor %}", raw=True)
    assert environment.compile("a{{ x }}b{{ y }}", raw=True).count("\n    yield ") == 1  # (besides `if 0: yield None`)


def test_concatenation_as_jinja_joins() -> None:
    environment = FastEnvironment(autoescape=True)
    assert "environment.concat_join(" in environment.compile("{{ a ~ b }}", raw=True)
    for values in [("a", "<b>"), ("<", Markup("<b>")), (Markup("<i>"), "&"), ("n", 3), (), ("a", None)]:
        assert concat_join(values) == markup_join(values)
        assert type(concat_join(values)) is type(markup_join(values))


def test_a_template_is_loaded_once_and_globals_still_reach_it() -> None:
    environment = FastEnvironment(loader=jinja2.DictLoader({"a.html": "{{ g }}"}), autoescape=True)
    template = environment.get_template("a.html")
    assert environment.get_template("a.html") is template
    assert environment.get_template("a.html", globals={"g": "<set>"}).render() == "&lt;set&gt;"
    environment.loader = jinja2.DictLoader({"a.html": "other"})
    assert environment.get_template("a.html").render() == "other"


def test_text_is_escaped_as_markupsafe_escapes_it() -> None:
    for text in ["", "plain", "<a href='x' title=\"y\">&amp; & ; &#39;</a>", "é ’ \x7f \u2028 <<>>", "&&''\"\""]:
        assert output_escape(text) == str(escape(text)) == _replaced(text) == escape_text(text)
        assert type(output_escape(text)) is str
    for value in [Markup("<b>"), 3, 1.5, None, ["<"], Markup("&amp;")]:
        assert output_escape(value) == escape(value)
