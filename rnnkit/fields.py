"""Floor 0: every config dataclass checks its own fields, in one way.

A config lists its numeric ranges and its choices in a class attribute ``BOUNDS``
(field name -> :class:`Range` or a tuple of allowed strings) and calls
:func:`check_fields` first thing in ``__post_init__``. The field's annotation gives the
kind (``int``, ``float``, ``bool``, ``str``, each maybe ``| None``), so a string where a
number goes, a float where a whole number goes, NaN or infinity, and a value outside its
range all fail the same way from Python and from the command line: one
:class:`~rnnkit.errors.ConfigError` that names the field (``--flag`` on the command line).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass

from rnnkit.errors import ConfigError, check_choice


@dataclass(frozen=True)
class Range:
    """``low <= value <= high`` (``<`` where open); ``None`` is unbounded."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def contains(self, value) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None:
            return value < self.high if self.high_open else value <= self.high
        return True

    def describe(self) -> str:
        low, high = _number(self.low), _number(self.high)
        if self.low is not None and self.high is not None:
            opening, closing = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {opening}{low}, {high}{closing}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {low}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {high}"
        return "a number"


def _number(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


POSITIVE = Range(0, low_open=True)
"""> 0."""
NON_NEGATIVE = Range(0)
"""0 or more."""
AT_LEAST_ONE = Range(1)
PROBABILITY = Range(0, 1, high_open=True)
"""A dropout rate: [0, 1)."""
FRACTION = Range(0, 1)
WIDTH = Range(1, 1 << 16)
"""A layer's width: beyond 65,536 a single matrix no longer fits in memory."""
DEPTH = Range(1, 64)
"""Stacked layers."""
COUNT = Range(0)
"""A size set from the data (0 until it is)."""


def base_type(annotation) -> tuple[type, bool]:
    """``int | None`` -> (int, True); ``float`` -> (float, False)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return options[0], True
    return annotation, False


def _check_kind(name: str, value, kind: type) -> None:
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be true or false; got {value!r}")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name, f"must be a whole number; got {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(name, f"must be a number; got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(name, f"must be a finite number; got {value}")
    elif kind is str and not isinstance(value, str):
        raise ConfigError(name, f"must be text; got {value!r}")


PATH_FIELDS = {"data", "train", "dev", "valid", "test", "embeddings", "encoder", "static"}
"""Fields that name a file or folder, where an empty string is a mistake (an empty shell
variable, say) rather than a choice."""


def check_fields(config) -> None:
    """Checks each field of ``config`` against its annotation and the class's ``BOUNDS``."""
    cls = type(config)
    bounds = getattr(cls, "BOUNDS", {})
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        name, value = field.name, getattr(config, field.name)
        kind, optional = base_type(hints[name])
        if value is None:
            if optional:
                continue
            raise ConfigError(name, f"must be given; got {value!r}")
        _check_kind(name, value, kind)
        if name in PATH_FIELDS and value == "":  # Path("") is the current folder: never meant
            raise ConfigError(name, "is an empty file name; give a file, or leave it out")
        spec = bounds.get(name)
        if isinstance(spec, Range) and not spec.contains(value):
            raise ConfigError(name, f"must be {spec.describe()}; got {value!r}")
        if isinstance(spec, tuple):
            check_choice(name, value, spec)
