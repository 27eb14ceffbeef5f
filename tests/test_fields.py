"""Every config dataclass checks its own fields in one way (rnnkit.fields): each numeric field
has declared bounds, and NaN, text, a fraction where a whole number goes and a value outside
the bounds all raise one ConfigError that names the field."""

import dataclasses
import importlib
import math
import pkgutil
import typing

import pytest

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.fields import Range, base_type


def _config_classes():
    found = {}
    for module in pkgutil.walk_packages(rnnkit.__path__, "rnnkit."):
        if module.name.startswith(("rnnkit.cli", "rnnkit.__main__")):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if (
                dataclasses.is_dataclass(value)
                and isinstance(value, type)
                and name.endswith("Config")
                and value.__module__ == module.name
            ):
                found[f"{value.__module__}.{name}"] = value
    return found


CONFIGS = _config_classes()
NUMERIC_FIELDS = [
    (name, cls, field.name, base_type(typing.get_type_hints(cls)[field.name])[0])
    for name, cls in CONFIGS.items()
    for field in dataclasses.fields(cls)
    if base_type(typing.get_type_hints(cls)[field.name])[0] in (int, float)
]


def test_every_config_class_is_found():
    assert len(CONFIGS) >= 17, sorted(CONFIGS)
    assert "rnnkit.train.config.TrainConfig" in CONFIGS


@pytest.mark.parametrize("name, cls", CONFIGS.items(), ids=list(CONFIGS))
def test_every_numeric_field_has_bounds_and_the_defaults_pass(name, cls):
    cls()  # the defaults are valid
    bounds = getattr(cls, "BOUNDS", {})
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        kind = base_type(hints[field.name])[0]
        if kind in (int, float):
            assert isinstance(bounds.get(field.name), Range), f"{name}.{field.name} has no bounds"


def _raises_naming(cls, field, value):
    with pytest.raises(ConfigError) as caught:
        cls(**{field: value})
    assert caught.value.field == field, str(caught.value)
    assert str(caught.value).startswith(f"{field} "), str(caught.value)
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    "name, cls, field, kind", NUMERIC_FIELDS, ids=[f"{n}.{f}" for n, _, f, _ in NUMERIC_FIELDS]
)
def test_bad_numbers_name_the_field(name, cls, field, kind):
    expected = "must be a whole number" if kind is int else "must be a number"
    assert expected in _raises_naming(cls, field, "12")
    if kind is float:
        assert "finite" in _raises_naming(cls, field, math.nan)
        assert "finite" in _raises_naming(cls, field, math.inf)
    else:
        assert "whole number" in _raises_naming(cls, field, 2.5)
        _raises_naming(cls, field, True)
    bounds = cls.BOUNDS[field]
    if bounds.low is not None:
        below = bounds.low if bounds.low_open else bounds.low - (1 if kind is int else 1e-3)
        message = _raises_naming(cls, field, kind(below))
        assert f"got {kind(below)!r}" in message
    if bounds.high is not None:
        above = bounds.high if bounds.high_open else bounds.high + 1
        _raises_naming(cls, field, kind(above))


def test_choices_and_messages():
    from rnnkit.models import LanguageModelConfig
    from rnnkit.train import TrainConfig

    with pytest.raises(ConfigError, match=r"^cell must be one of 'rnn', .*; got 'lstn'$"):
        LanguageModelConfig(cell="lstn")
    with pytest.raises(ConfigError, match=r"^learning_rate must be > 0; got -0.1$"):
        TrainConfig(learning_rate=-0.1)
    with pytest.raises(ConfigError, match=r"^dropout must be in \[0, 1\); got 1.0$"):
        LanguageModelConfig(dropout=1.0)
    with pytest.raises(ConfigError, match=r"^progress must be true or false; got 'yes'$"):
        TrainConfig(progress="yes")
    assert TrainConfig(epochs=3).epochs == 3.0 and isinstance(TrainConfig(epochs=3).epochs, float)
