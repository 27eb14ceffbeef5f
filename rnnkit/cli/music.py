"""``rnnkit train music`` and the music model's part of ``evaluate`` and ``generate``."""

from __future__ import annotations

import json

from rnnkit.cli import using
from rnnkit.cli.flags import add_music_generate_flags
from rnnkit.cli.arguments import (
    add_train_task,
    build_config,
    interrupted,
    train_config,
)
from rnnkit.errors import DataError
from rnnkit.tasks import music as task
from rnnkit.train import TrainConfig

EXAMPLES = """examples:
  rnnkit train music --data JSB_Chorales.mat --out runs/jsb     # the JSB recipe: the defaults
  rnnkit evaluate runs/jsb --data JSB_Chorales.mat --split test --json
  rnnkit generate runs/jsb --length 64 --out piece.mid                   # also writes piece.png
  rnnkit generate runs/jsb --length 64 --out primed.mid --prime bach.mid --prime-steps 16 \\
      --temperature 0.9
"""


def add_train_parser(tasks) -> None:
    add_train_task(
        tasks,
        task.RECIPE,
        "polyphonic piano-roll model (JSB Chorales, Nottingham, MIDI)",
        EXAMPLES,
        [
            ("data", task.MusicDataConfig, ()),
            ("model", task.PianoRollModelConfig, ("keys",)),
            ("training", TrainConfig, ()),
        ],
        train,
    )


def add_shared_arguments(command: str, parser) -> None:
    """The music model's flags of the shared commands."""
    if command != "generate":
        return
    add_music_generate_flags(parser.add_argument_group("music models"))


def train(args) -> int:
    config = train_config(args, task.RECIPE)
    data = build_config(task.MusicDataConfig, args, role="data")
    model = build_config(task.PianoRollModelConfig, args, task.RECIPE.model_defaults, "model")
    run, counters = task.train_music(args.out, data, model, config, resume=args.resume)
    for split in ("valid", "test"):
        try:
            result = run.evaluate(run.config["data"]["data"], split)
        except DataError as error:  # a file without a test split still trained fine
            print(f"{split}: not scored ({error})")
            continue
        print(
            f"{split}: {result['loss']:.4f} nats per step (NLL summed over 88 keys), "
            f"{result['steps']} steps in {result['pieces']} pieces"
        )
    if interrupted(counters, "music", args.out):
        return 130
    return 0


def evaluate(args) -> int:
    result = task.load_music_model(args.run, device=args.device).evaluate(args.data, args.split)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.data} ({args.split}): {result['loss']:.4f} nats per step (NLL summed over 88 "
            "keys), "
            f"{result['steps']} steps in {result['pieces']} pieces"
        )
    return 0


def generate(args) -> int:
    return using.generate_music(task.load_music_model(args.run, device=args.device), args)


HANDLERS = {("music", "generate"): generate, ("music", "evaluate"): evaluate}
"""(task, shared command) -> handler."""
