"""Polyphonic music targets: test NLL per step on JSB Chorales and Nottingham.

    python benchmarks/music.py jsb [--seeds 0 1 2] [--output made|nade|independent]
    python benchmarks/music.py nottingham [--seeds 0]
    python benchmarks/music.py compare          # tanh RNN, LSTM, GRU on JSB at one parameter budget

Each trains the documented recipe on the split as given (Boulanger-Lewandowski
et al. 2012) and scores the test split with the best-validation weights: the
NLL of each step from the second on, summed over the 88 keys and averaged over
all test steps (the TCN paper's convention; see rnnkit/tasks/music.py). The
recipe's output is MADE (each key conditioned on the keys below it, the CLI's
default); --output independent gives the one-sigmoid-per-key model of the TCN
and Chung et al. papers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, markdown_table, write_json  # noqa: E402

from rnnkit.models.music import PianoRollModelConfig  # noqa: E402
from rnnkit.tasks.music import MusicDataConfig, train_music  # noqa: E402
from rnnkit.train import TrainConfig  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"

# The documented recipes (README "Music"); the CLI equivalents are in BENCHMARKS.md.
RECIPES = {
    "jsb": {
        "file": DATA / "jsb_chorales" / "JSB_Chorales.mat",
        "model": dict(cell="lstm", hidden_size=256, dropout=0.3),
        # = the CLI's defaults for train music
        "train": dict(
            max_steps=12000, learning_rate=2e-3, warmup_steps=50, eval_every=100, early_stopping=20
        ),
        "target": "test NLL per step <= 8.30 in <= 20 min",
    },
    "nottingham": {
        "file": DATA / "nottingham" / "Nottingham.mat",
        "model": dict(cell="lstm", hidden_size=512, dropout=0.3),
        "train": dict(time_budget=1080, learning_rate=2e-3, warmup_steps=50, eval_every=200),
        "target": "test NLL per step <= 3.20 in <= 20 min",
    },
}


def _need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"skipped: {path} is missing (see ../shared/data/README.md)")
    return path


def benchmark(name: str, args) -> dict:
    recipe = {
        **RECIPES[name],
        "model": {
            **RECIPES[name]["model"],
            **({"dropout": args.dropout} if args.dropout else {}),
            **({"output": args.output} if args.output else {}),
        },
        "train": {
            **RECIPES[name]["train"],
            **(
                {"time_budget": args.time_budget}
                if name == "nottingham" and args.time_budget_given
                else {}
            ),
        },
    }
    path = _need(recipe["file"])
    rows = []
    for seed in args.seeds:
        start = time.perf_counter()
        run, counters = train_music(
            args.runs / f"{name}-{seed}",
            MusicDataConfig(data=str(path), batch_size=8),
            PianoRollModelConfig(**recipe["model"]),
            TrainConfig(**recipe["train"], seed=seed, progress=False),
        )
        minutes = (time.perf_counter() - start) / 60
        rows.append(
            {
                "data": name,
                "seed": seed,
                "valid NLL": run.evaluate(path, "valid")["loss"],
                "test NLL": run.evaluate(path, "test")["loss"],
                "steps": counters.step,
                "best step": counters.best_step,
                "minutes": minutes,
            }
        )
    if len(rows) > 1:
        rows.append(
            {
                "data": name,
                "seed": "mean",
                **{
                    k: statistics.mean(r[k] for r in rows)
                    for k in ("valid NLL", "test NLL", "steps", "best step", "minutes")
                },
            }
        )
    return {
        "rows": rows,
        "target": recipe["target"],
        "recipe": {"model": recipe["model"], "train": recipe["train"], "batch_size": 8},
    }


def compare_cells(args) -> dict:
    from rnnkit.lab.compare import CompareConfig, compare

    config = CompareConfig(
        task="music",
        cells="rnn,lstm,gru",
        hidden_size=args.hidden_size,
        time_budget=args.time_budget,
        seeds=",".join(map(str, args.seeds)),
        data=str(_need(RECIPES["jsb"]["file"])),
    )
    runs = compare(config, args.runs / "compare-jsb", log=print)
    rows = [
        {
            "cell": r["cell"],
            "seed": r["seed"],
            "hidden": r["hidden_size"],
            "parameters": r["parameters"],
            "test NLL": r["metric"],
            "marginal baseline": r["baseline"],
            "s/1k steps": r["seconds_per_1k_steps"],
        }
        for r in runs
    ]
    return {
        "rows": rows,
        "setting": f"equal parameters (an LSTM of width {args.hidden_size}), "
        f"{args.time_budget:g} s of training per cell",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["jsb", "nottingham", "compare"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--hidden-size",
        type=int,
        default=36,
        help="compare: the LSTM width that sets the budget "
        "(36: Chung et al. 2014's ~20k parameters)",
    )
    parser.add_argument(
        "--time-budget", type=float, default=120, help="compare: seconds of training per cell"
    )
    parser.add_argument(
        "--runs", type=Path, default=Path("/tmp/rnnkit-bench"), help="where run folders go"
    )
    parser.add_argument(
        "--dropout", type=float, default=None, help="jsb/nottingham: override the recipe's dropout"
    )
    parser.add_argument(
        "--output",
        choices=["made", "nade", "independent"],
        default=None,
        help="jsb/nottingham: the output layer (default: the recipe's, made)",
    )
    args = parser.parse_args(argv)
    args.time_budget_given = "--time-budget" in (argv or sys.argv[1:])
    result = compare_cells(args) if args.mode == "compare" else benchmark(args.mode, args)
    result["machine"] = machine()
    result["command"] = "python benchmarks/music.py " + " ".join(argv or sys.argv[1:])
    print(markdown_table(result["rows"]))
    suffix = f"_{args.output}" if args.output and args.output != "made" else ""
    write_json(RESULTS / f"music_{args.mode}{suffix}.json", result)


if __name__ == "__main__":
    main()
