"""``rnnkit train music`` and the music model's part of ``evaluate`` and ``generate``."""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit.cli.arguments import (
    add_train_task,
    build_config,
    interrupted,
    number,
    train_config,
)
from rnnkit.fields import AT_LEAST_ONE, Range
from rnnkit.data.music import plot_piano_roll, read_piano_rolls, write_midi
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
    group = parser.add_argument_group("music models")
    group.add_argument("--out", help="MIDI file to write (a PNG piano roll is written next to it)")
    group.add_argument(
        "--prime",
        help="start from the opening of this piece: a .mid file, or a .mat/.json "
        "benchmark file (its first test piece, or --prime-piece)",
    )
    group.add_argument(
        "--prime-piece", default="test:0", help="SPLIT:INDEX of the piece in a benchmark file"
    )
    group.add_argument(
        "--prime-steps",
        type=number(int, AT_LEAST_ONE),
        default=16,
        help="steps of the prime's opening to use",
    )
    group.add_argument(
        "--tempo",
        type=number(float, Range(1, 1000)),
        default=100.0,
        help="quarter notes per minute in the MIDI file",
    )


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


def _prime(args):
    if not args.prime:
        return None
    pieces = read_piano_rolls(args.prime)
    split, _, index = args.prime_piece.partition(":")
    if Path(args.prime).suffix.lower() in (".mid", ".midi"):
        split, index = "train", "0"
    if split not in pieces or not index.isdigit() or int(index) >= len(pieces[split]):
        raise DataError(
            f"{args.prime}: has no piece {args.prime_piece!r} (splits: "
            f"{', '.join(f'{k} ({len(v)} pieces)' for k, v in pieces.items())})"
        )
    return pieces[split][int(index)][: args.prime_steps]


def generate(args) -> int:
    if not args.out:
        raise DataError("a music model writes MIDI: give --out piece.mid")
    run = task.load_music_model(args.run, device=args.device)
    prime = _prime(args)
    roll = run.generate(args.length, prime, args.temperature, args.seed)
    # MIDI-trained models keep their resolution; the benchmark rolls are one step per quarter note.
    data = run.config["data"]
    benchmark = Path(data["data"]).suffix.lower() in (".mat", ".json")
    write_midi(roll, args.out, 1 if benchmark else data["steps_per_quarter"], args.tempo)
    picture = Path(args.out).with_suffix(".png")
    plot_piano_roll(
        roll,
        picture,
        f"{Path(args.run).name}: {args.length} steps",
        0 if prime is None else len(prime),
    )
    notes = int(roll.sum())
    print(f"wrote {args.out} ({len(roll)} steps, {notes} key-steps) and {picture}")
    return 0


HANDLERS = {("music", "generate"): generate, ("music", "evaluate"): evaluate}
"""(task, shared command) -> handler."""
