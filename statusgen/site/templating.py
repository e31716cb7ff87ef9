"""Jinja, with the two steps it takes for every `{{ f(x) }}` made cheaper.

A 10,000-incident site calls a template function (`t`, `time`, `status`, `link`, ...)
some 1.5 million times and writes some 2.5 million `{{ ... }}` values: Jinja's own
`Context.call` asks three times whether the callable wants the context passed in, and
its autoescape wraps every value in a new `Markup`, even one that is `Markup` already.
Both were a tenth of the render time. Here:

- `FastContext.call` calls a plain function, method or callable object that is not marked
  `pass_context`/`pass_eval_context`/`pass_environment` directly (one `hasattr`), and
  leaves everything else (marked ones, objects with a marked `__call__`) to Jinja;
- `FastCodeGenerator` writes each value through `output_escape`, which returns
  `Markup` (already safe) as it is, escapes text as markupsafe does and anything else
  with markupsafe, as Jinja does. A value written to the output is only ever joined into the page, so it need not
  be wrapped again;
- `FastEnvironment` keeps each loaded template in a plain dict (`auto_reload` off): every
  page looks up its template, the one it extends and the macros it imports, and Jinja's
  own cache is a locked LRU queue;
- a method (`time`, `status`, `t.duration`, ...) is asked for `jinja_pass_arg` on its
  function: asking the method itself raises and catches an `AttributeError` each time,
  half a microsecond; a macro (which takes the evaluation context) is called as
  `Context.call` would call it, without the checks that find that out;
- `FastCodeGenerator` writes a call as `context.call_in(loop_vars, block_vars, f, ...)`:
  the variables Jinja hands a context-taking callable in keywords, as arguments; and it
  yields a run of output once, joined, not part by part (`visit_Output`).

The result is byte for byte what Jinja makes (`tests/test_templating.py` renders the
theme's pages both ways); a template sees no difference.
"""

from __future__ import annotations

import types
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.nodes
import jinja2.runtime
from jinja2.utils import internalcode
from markupsafe import Markup, escape

_PLAIN = {types.FunctionType: True, types.MethodType: True, types.BuiltinFunctionType: True,
          types.BuiltinMethodType: True}
"""By type: whether its callables can be marked to receive the context only on themselves
(`jinja_pass_arg`), never on their `__call__`: functions and methods, and classes whose
`__call__` is a function not so marked (the translator), found on first use."""


_MACRO = jinja2.runtime.Macro if getattr(jinja2.runtime.Macro.__call__, "jinja_pass_arg", None) \
    is jinja2.utils._PassArg.eval_context else None
"""Jinja's macros, whose `__call__` takes the evaluation context (None if a Jinja to come
changes that: then `Context.call` finds out, as for any marked callable)."""


def _plain(cls: type) -> bool:
    if cls not in _PLAIN:  # the `__call__` its instances run, looked up as Python does
        call = next((vars(base)["__call__"] for base in cls.__mro__ if "__call__" in vars(base)), None)
        _PLAIN[cls] = type(call) is types.FunctionType and not hasattr(call, "jinja_pass_arg")
    return _PLAIN[cls]


class FastContext(jinja2.runtime.Context):
    """Jinja's context, calling plain functions without the checks they cannot need."""

    @internalcode
    def call(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        loop_vars, block_vars = kwargs.pop("_loop_vars", None), kwargs.pop("_block_vars", None)
        return self.call_in(loop_vars, block_vars, obj, *args, **kwargs)

    @internalcode
    def call_in(self, loop_vars: dict[str, Any] | None, block_vars: dict[str, Any] | None, obj: Any, /,
                *args: Any, **kwargs: Any) -> Any:
        """`call(obj, *args, _loop_vars=loop_vars, _block_vars=block_vars, **kwargs)`, as
        `FastCodeGenerator` writes it: the loop's and block's variables (for a callable that
        takes the context) in their places, not in a dict of keywords made for every call."""
        kind = type(obj)
        if kind is _MACRO:  # `__call__` takes the evaluation context
            arguments: tuple[Any, ...] = (self.eval_ctx, *args)
        else:
            plain = _PLAIN.get(kind)
            if plain is None:
                plain = _plain(kind)
            if not plain or hasattr(obj.__func__ if kind is types.MethodType else obj, "jinja_pass_arg"):
                if loop_vars:
                    kwargs["_loop_vars"] = loop_vars
                if block_vars:
                    kwargs["_block_vars"] = block_vars
                return super().call(obj, *args, **kwargs)
            arguments = args
        try:
            return obj(*arguments, **kwargs)
        except StopIteration:
            return self.environment.undefined("value was undefined because a callable raised a"
                                              " StopIteration exception")


def _replaced(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


try:  # markupsafe's own escaping of text, without the `Markup` around it (markupsafe 3)
    from markupsafe._speedups import _escape_inner as escape_text
except ImportError:  # pragma: no cover (pure Python or an older markupsafe: the same replacements)
    escape_text = _replaced
"""`str(markupsafe.escape(text))` for a `str`, without making the `Markup`."""


def output_escape(value: Any) -> str:
    """A value as it is written into a page: markup as it is, text escaped as markupsafe
    escapes it (without wrapping it in `Markup`), anything else by markupsafe."""
    kind = type(value)
    if kind is Markup:
        return value
    if kind is str:
        return escape_text(value)
    return escape(value)


def concat_join(values: tuple[Any, ...]) -> str:
    """`a ~ b` under autoescape: plain text joined as it is (what Jinja's `markup_join`
    makes of it), anything else (markup among them) by `markup_join`."""
    for value in values:
        if type(value) is not str:
            return jinja2.runtime.markup_join(values)
    return "".join(values)


class FastCodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, writing values through `output_escape` and joining `~` with
    `concat_join` under autoescape, and calls through `FastContext.call_in`."""

    def _output_child_pre(self, node: jinja2.nodes.Expr, frame: jinja2.compiler.Frame,
                          finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.output_escape(")
        if finalize.src is not None:
            self.write(finalize.src)

    def visit_Output(self, node: jinja2.nodes.Output, frame: jinja2.compiler.Frame) -> None:
        """Jinja yields each part of an output (text, a value, text, ...), and each yield
        passes up through every template of an `extends` chain (an incident page: its block,
        base.html, incident.html) to the join: here a run of parts is gathered in a list,
        Jinja's way for a buffered frame (a macro's), and yielded joined, once."""
        if frame.buffer is not None or frame.require_output_check or len(node.nodes) < 2 \
                or self.environment.is_async:
            super().visit_Output(node, frame)
            return
        buffer = frame.buffer = self.temporary_identifier()
        self.writeline(f"{buffer} = []")
        try:
            super().visit_Output(node, frame)
        finally:
            frame.buffer = None
        self.writeline(f"yield concat({buffer})")

    def visit_Call(self, node: jinja2.nodes.Call, frame: jinja2.compiler.Frame, forward_caller: bool = False) -> None:
        if self.environment.is_async or self.environment.sandboxed:
            super().visit_Call(node, frame, forward_caller)
            return
        self.write("context.call_in(")
        self.write("_loop_vars, " if frame.loop_frame else "None, ")
        self.write("_block_vars, " if frame.block_frame else "None, ")
        self.visit(node.node, frame)
        self.signature(node, frame, {"caller": "caller"} if forward_caller else None)
        self.write(")")

    @jinja2.compiler.optimizeconst  # as Jinja's own: a constant `~` is joined once, here
    def visit_Concat(self, node: jinja2.nodes.Concat, frame: jinja2.compiler.Frame) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super().visit_Concat(node, frame)
            return
        self.write("environment.concat_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class FastEnvironment(jinja2.Environment):
    """A Jinja environment using `FastContext` and `FastCodeGenerator`, and a plain dict
    of the templates it loaded (while `auto_reload` is off)."""

    context_class = FastContext
    code_generator_class = FastCodeGenerator
    output_escape = staticmethod(output_escape)
    concat_join = staticmethod(concat_join)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[tuple[Any, str], jinja2.Template] = {}

    @internalcode
    def _load_template(self, name: str, globals: Any) -> jinja2.Template:
        """Jinja's, for a template found once in its cache (by loader and name, as Jinja's
        own cache) and with no globals to add: the same template, from a dict."""
        if globals or self.auto_reload or self.cache is None:
            return super()._load_template(name, globals)
        key = (self.loader, name)
        template = self._loaded.get(key)
        if template is None:
            template = self._loaded[key] = super()._load_template(name, globals)
        return template
