"""Typed config dataclasses -> argparse flags, with each field's docstring as its help."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing

from rnnkit.cli.flags import FORMATTER, SEED, field_docs, number  # noqa: F401 (re-exported)
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.fields import Range, base_type
from rnnkit.tasks.common import LIMITS, Recipe
from rnnkit.train import RunFolder, TrainConfig
from rnnkit.train.distributed import processes


def add_config_arguments(
    parser: argparse.ArgumentParser,
    cls,
    skip=(),
    title: str | None = None,
    defaults: dict | None = None,
) -> None:
    """Adds ``--field-name`` for each field of ``cls`` (default None: "not given");
    ``defaults`` are the task's own defaults for some fields, shown in the help
    (pass the same to :func:`build_config`)."""
    group = parser.add_argument_group(
        title or cls.__name__, (cls.__doc__ or "").strip().splitlines()[0]
    )
    docs, hints = field_docs(cls), typing.get_type_hints(cls)
    defaults = defaults or {}
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        kind, _ = base_type(hints[field.name])
        flag = "--" + field.name.replace("_", "-")
        default = defaults.get(field.name, field.default)
        when = (
            " when no other limit is given"
            if cls is TrainConfig and field.name in defaults and field.name in LIMITS
            else ""
        )
        help_text = f"{docs.get(field.name, '')} (default: {default}{when})"
        if kind is bool:
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            group.add_argument(
                flag, type=kind, default=None, metavar=kind.__name__.upper(), help=help_text
            )


def build_config(
    cls, namespace: argparse.Namespace, defaults: dict | None = None, role: str = "", **overrides
):
    """A ``cls`` from the flags that were given; the others take ``defaults``, else the dataclass
    defaults. With ``--resume``, the others take the run's saved config ``role`` (data, model,
    train...), so that only the flags given can differ from it."""
    saved = _saved(namespace, role)
    if saved is not None:
        names = {f.name for f in dataclasses.fields(cls)}
        defaults = {name: value for name, value in saved.items() if name in names}
    given = {
        f.name: getattr(namespace, f.name)
        for f in dataclasses.fields(cls)
        if getattr(namespace, f.name, None) is not None
    }
    try:
        config = cls(**{**(defaults or {}), **given, **overrides})
    except ConfigError as error:  # the command line names the flag, the API the field
        raise RnnkitError(error.as_flag()) from None
    config.given_fields = sorted(given)  # what --resume compares with the saved run
    return config


def _saved(namespace: argparse.Namespace, role: str) -> dict | None:
    if not (role and getattr(namespace, "resume", False)):
        return None
    folder = RunFolder(namespace.out)
    try:
        if not folder.file("config.json").is_file():
            return None  # resuming then says why it cannot
    except (OSError, ValueError):  # not a usable folder name: resuming says so
        return None
    saved = folder.read_config().get(role)
    return saved if isinstance(saved, dict) else None


def train_config(namespace: argparse.Namespace, recipe: Recipe) -> TrainConfig:
    """The ``TrainConfig`` from the flags and the task's recipe. The recipe's limits
    apply only when the flags give none, and a note says so."""
    limits = recipe.default_limits()
    given_limit = any(getattr(namespace, name, None) is not None for name in LIMITS)
    defaults = {
        k: v for k, v in recipe.train_defaults.items() if k not in LIMITS or not given_limit
    }
    config = build_config(TrainConfig, namespace, defaults, "train")
    if getattr(namespace, "resume", False):
        return config
    if not given_limit:
        units = {"epochs": "epochs", "max_steps": "steps", "time_budget": "s"}
        shown = " or ".join(f"{value:g} {units[name]}" for name, value in limits.items())
        print(
            f"no limit given: training for {shown}, whichever comes first "
            "(set --epochs, --time-budget or --max-steps)"
            if len(limits) > 1
            else f"no limit given: training for {shown} (set --epochs, --time-budget or "
            "--max-steps)",
            file=sys.stderr,
        )
    return config


def add_train_task(tasks, recipe: Recipe, help_text: str, examples: str, configs, handler):
    """``rnnkit train NAME``: ``--out``, ``--resume`` and one flag group per config,
    given as ``(title, dataclass, fields to skip)``; the recipe's defaults show in the help."""
    parser = tasks.add_parser(
        recipe.task, help=help_text, epilog=examples, formatter_class=FORMATTER
    )
    parser.add_argument(
        "--out", required=True, help="run folder to write (config, weights, metrics, plots)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out exactly where it stopped"
    )
    parser.add_argument(
        "--nproc-per-node",
        type=number(int, Range(1, 1024)),
        default=None,
        metavar="N",
        help="train on N processes with torchrun and DistributedDataParallel "
        "(gloo on CPU, nccl on GPUs); --batch-size stays the global batch",
    )
    defaults = {recipe.model_config: recipe.model_defaults, TrainConfig: recipe.train_defaults}
    for title, cls, skip in configs:
        add_config_arguments(parser, cls, skip=skip, title=title, defaults=defaults.get(cls))
    parser.set_defaults(handler=handler)
    return parser


def interrupted(counters, task: str, out) -> bool:
    """After Ctrl-C: says where the run stopped and how to continue it (the caller exits 130)."""
    if counters.stopped_because != "interrupted":
        return False
    if not processes().is_main:  # under torchrun, rank 0 says it once
        return True
    print(
        f"interrupted at step {counters.step}; saved {out}. "
        f"Continue with: rnnkit train {task} --out {out} --resume",
        file=sys.stderr,
    )
    return True
