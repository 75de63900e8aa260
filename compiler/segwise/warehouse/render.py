"""dbt's rendering of profiles.yml: `{{ env_var('X', 'default') }}` and the as_* filters.

A small sandboxed Jinja environment with dbt's semantics rather than dbt's own renderer:
dbt's needs its invocation context set up and costs most of a second to import, and preview
is meant to answer in about one. What is the same as dbt:

- only strings are rendered, and text without `{{`, `{%` or `{#` is left as it is;
- `env_var(name, default)` returns the variable, else the default, else fails naming it;
- the result is text unless the whole value is one expression ending in `as_number`,
  `as_bool` or `as_native` (then it is converted, as dbt does with `literal_eval`), so
  `port: "{{ env_var('PORT', '5432') | as_number }}"` gives the number 5432;
- a `password` that is not valid Jinja is kept verbatim.

Anything else a profile might use (`var()`, macros) is an error naming the key.
"""

from __future__ import annotations

import os
from ast import literal_eval
from collections.abc import Callable, Iterator, Mapping
from itertools import chain, islice
from typing import Any

import jinja2
from jinja2.nativetypes import NativeCodeGenerator
from jinja2.sandbox import SandboxedEnvironment

from segwise.warehouse.base import WarehouseError


class MissingEnvVar(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"env var required but not provided: {name!r}")
        self.name = name


class _Text(str):
    """`as_text`: keep the value a string."""


class _Native(str):
    """`as_native`: convert with literal_eval."""


class _Bool(_Native):
    pass


class _Number(_Native):
    pass


class _Environment(SandboxedEnvironment):
    code_generator_class = NativeCodeGenerator


_ENV = _Environment(undefined=jinja2.StrictUndefined)
_ENV.filters.update({"as_text": _Text, "as_bool": _Bool, "as_native": _Native, "as_number": _Number})


def _concat(nodes: Iterator[Any]) -> Any:
    """dbt's quoted_native_concat: one marked node is converted, several become text."""
    head = list(islice(nodes, 2))
    if not head:
        return ""
    if len(head) > 1:
        return "".join(str(v) for v in chain(head, nodes))
    raw = head[0]
    if isinstance(raw, _Text):
        return str(raw)
    if not isinstance(raw, _Native):
        return raw
    try:
        result = literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError):
        result = raw
    if isinstance(raw, _Bool) and not isinstance(result, bool):
        raise ValueError(f"could not convert value {str(raw)!r} into type 'bool'")
    if isinstance(raw, _Number) and (not isinstance(result, (int, float)) or isinstance(result, bool)):
        raise ValueError(f"could not convert value {str(raw)!r} into type 'number'")
    return result


def env_var_function(env: Mapping[str, str]) -> Callable[..., Any]:
    def env_var(name: str, default: Any = None) -> Any:
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise MissingEnvVar(name)

    return env_var


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """One value of a profile, rendered like dbt renders it (see the module docstring)."""
    if not isinstance(value, str) or not any(tag in value for tag in ("{{", "{%", "{#")):
        return value
    template = _ENV.from_string(value)
    return _concat(template.root_render_func(template.new_context(dict(context))))


def render_data(
    data: Any, where: str, env: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None
) -> Any:
    """Every string inside `data` (dicts and lists, recursively) rendered; `where` names the
    place for error messages ("profiles.yml: profile 'x', target 'y'")."""
    context: dict[str, Any] = {"env_var": env_var_function(os.environ if env is None else env), **(extra or {})}

    def go(value: Any, keypath: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {k: go(v, (*keypath, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [go(v, (*keypath, str(i))) for i, v in enumerate(value)]
        try:
            return render_value(value, context)
        except MissingEnvVar as exc:
            raise WarehouseError(f"{where}, {'.'.join(keypath)}: {exc}") from None
        except (jinja2.TemplateError, ValueError, TypeError) as exc:
            if "password" in keypath:
                return value  # dbt keeps a password that merely looks like Jinja
            raise WarehouseError(f"{where}, {'.'.join(keypath)}: cannot render {value!r}: {exc}") from None

    return go(data, ())
