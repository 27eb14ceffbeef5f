"""Typed config dataclasses -> argparse flags, with each field's docstring as its help."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import textwrap
import types
import typing


def field_docs(cls) -> dict[str, str]:
    """The string literal under each field of a dataclass (its attribute docstring), inherited fields included."""
    docs = {}
    for klass in reversed(cls.__mro__):  # base classes first, so a subclass's docstring wins
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body
        for node, following in zip(body, body[1:]):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                    docs[node.target.id] = " ".join(str(following.value.value).split())
    return docs


def _base_type(annotation):
    """``int | None`` -> (int, True); ``float`` -> (float, False)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return options[0], True
    return annotation, False


def add_config_arguments(parser: argparse.ArgumentParser, cls, skip=(), title: str | None = None,
                         defaults: dict | None = None) -> None:
    """Adds ``--field-name`` for each field of ``cls`` (default None: "not given");
    ``defaults`` are the task's own defaults for some fields, shown in the help
    (pass the same to :func:`build_config`)."""
    group = parser.add_argument_group(title or cls.__name__, (cls.__doc__ or "").strip().splitlines()[0])
    docs, hints = field_docs(cls), typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        kind, _ = _base_type(hints[field.name])
        flag = "--" + field.name.replace("_", "-")
        help_text = f"{docs.get(field.name, '')} (default: {(defaults or {}).get(field.name, field.default)})"
        if kind is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            group.add_argument(flag, type=kind, default=None, metavar=kind.__name__.upper(), help=help_text)


def build_config(cls, namespace: argparse.Namespace, defaults: dict | None = None, **overrides):
    """A ``cls`` from the flags that were given; the others take ``defaults``, else the dataclass defaults."""
    given = {f.name: getattr(namespace, f.name) for f in dataclasses.fields(cls)
             if getattr(namespace, f.name, None) is not None}
    return cls(**{**(defaults or {}), **given, **overrides})


def train_config(namespace: argparse.Namespace, default_limit: str, value: float, **defaults):
    """The ``TrainConfig`` from the flags; without any limit, ``default_limit``
    (``epochs``, ``max_steps`` or ``time_budget``) becomes ``value``, and a note says so. ``defaults``
    replace TrainConfig's own defaults for flags that were not given."""
    import sys

    from rnnkit.train import TrainConfig

    config = build_config(TrainConfig, namespace)
    for name, default in defaults.items():
        if getattr(namespace, name, None) is None:
            setattr(config, name, default)
    if not (config.max_steps or config.epochs or config.time_budget):
        setattr(config, default_limit, value)
        if not getattr(namespace, "resume", False):
            unit = {"epochs": "epochs", "max_steps": "steps"}.get(default_limit, "s")
            print(f"no limit given: training for {value:g} {unit} (set --epochs, --time-budget or --max-steps)",
                  file=sys.stderr)
    return config


def add_train_task(tasks, name: str, help_text: str, examples: str, configs, handler):
    """``rnnkit train NAME``: ``--out``, ``--resume`` and one flag group per config,
    given as ``(title, dataclass, fields to skip[, the task's defaults])``; returns the parser."""
    parser = tasks.add_parser(name, help=help_text, epilog=examples, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="run folder to write (config, weights, metrics, plots)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    for title, cls, skip, *defaults in configs:
        add_config_arguments(parser, cls, skip=skip, title=title, defaults=defaults[0] if defaults else None)
    parser.set_defaults(handler=handler)
    return parser


def interrupted(counters, task: str, out) -> bool:
    """After Ctrl-C: says where the run stopped and how to continue it (the caller exits 130)."""
    import sys

    if counters.stopped_because != "interrupted":
        return False
    print(f"interrupted at step {counters.step}; saved {out}. "
          f"Continue with: rnnkit train {task} --out {out} --resume", file=sys.stderr)
    return True
