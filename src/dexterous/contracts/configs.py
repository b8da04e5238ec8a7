"""What every config dataclass of the package shares: its checks, its help, its JSON.

Configs are frozen dataclasses whose fields carry the paper's defaults and a docstring
each. One set of checks words every refusal the same way ("seed must be an integer ≥ 0,
got -5"); the command line builds its flags from the fields and their docstrings
(`field_docs`); and a config read back from JSON (a run's config.json, a figure's manifest)
is rebuilt by one function (`from_json`), with its tuples and nested configs restored and
any field the class does not know refused by name.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import math
import textwrap
import types
import typing
from collections.abc import Collection
from functools import cache
from typing import Any


def check_number(name: str, value: Any, low: float, high: float = math.inf, integer: bool = False,
                 low_open: bool = False, high_open: bool = False) -> None:
    """Raise ValueError naming the field unless value is a number (an integer if asked; a
    bool is neither) in the interval from low to high, each end closed unless said open."""
    kinds = (int,) if integer else (int, float)
    is_kind = isinstance(value, kinds) and not isinstance(value, bool)
    above = is_kind and (value > low if low_open else value >= low)
    below = is_kind and (value < high if high_open else value <= high)
    if above and below:
        return
    what = "an integer" if integer else "a finite number" if high == math.inf and high_open else "a number"
    if high == math.inf:
        bounds = f"{'>' if low_open else '≥'} {low:g}"
    else:
        bounds = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    raise ValueError(f"{name} must be {what} {bounds}, got {value!r}")


def check_choice(name: str, value: Any, choices: Collection[str]) -> None:
    """Raise ValueError naming the field and its choices unless value is one of them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def check_flag(name: str, value: Any) -> None:
    """Raise ValueError naming the field unless value is a bool."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be a bool, got {value!r}")


@cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each dataclass field (subclass docstrings win), for --help."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body
        for node, after in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)):
                docs[node.target.id] = " ".join(str(after.value.value).split())
    return docs


def field_defaults(cls: type) -> dict[str, Any]:
    """A dataclass's fields that have defaults, at their defaults, as JSON holds them: what a
    record written before a field existed ran, where the new field's default keeps the old
    behaviour (new switches default to off)."""
    found = {}
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            found[f.name] = json.loads(json.dumps(f.default_factory()))
        elif f.default is not dataclasses.MISSING:
            found[f.name] = json.loads(json.dumps(f.default))
    return found


def from_json(cls: type, data: dict[str, Any]) -> Any:
    """The cls config that `dataclasses.asdict` and JSON turned into data: lists become the
    tuples the fields hold, nested dicts their dataclasses; an unknown field is refused."""
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"config has fields {unknown} that {cls.__name__} does not know")
    hints = typing.get_type_hints(cls)
    return cls(**{name: _value(hints[name], value) for name, value in data.items()})


def _value(kind: Any, value: Any) -> Any:
    """value (as JSON holds it) as the annotation kind wants it."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        return _value(next(a for a in args if a is not type(None)), value)
    if dataclasses.is_dataclass(kind) and isinstance(value, dict):
        return from_json(kind, value)
    if kind is Any and isinstance(value, list):  # configs hold tuples, never lists
        return tuple(_value(Any, v) for v in value)
    if origin is tuple and isinstance(value, list):
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        return tuple(_value(k, v) for k, v in zip(items, value)) if items else tuple(value)
    return value
