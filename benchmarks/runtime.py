"""The onnxruntime path against the torch path, side by side on one machine: latency of one
classification (SST-2 recipe model) and of one forecast (ETTh1 recipe model), and generation
speed (the char LSTM of the demo). Each model is the recipe's size, trained a few steps
(speed does not depend on the weights), exported, and timed in interleaved rounds.

    python benchmarks/runtime.py            # about two minutes; run it alone on the machine
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, markdown_table, time_interleaved, write_json  # noqa: E402
from rnnkit.cli import main as rnnkit  # noqa: E402
from rnnkit.opening import load  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
SENTENCE = "a gorgeous , witty , seductive movie that never loses its sense of fun ."


def train_and_export(folder: Path, names=("classify", "forecast", "lm")) -> dict:
    """name -> (run folder, export folder): recipe-sized runs (the defaults) trained for a few
    steps, and their exports."""
    quiet = ["--no-progress", "--max-steps", "20", "--eval-every", "20"]
    commands = {
        "classify": [
            "train",
            "classify",
            "--train",
            str(DATA / "sst2" / "train.tsv"),
            "--dev",
            str(DATA / "sst2" / "dev.tsv"),
        ],
        "forecast": [
            "train",
            "forecast",
            "--data",
            str(DATA / "ett" / "ETTh1.csv"),
            "--target",
            "OT",
        ],
        "lm": ["train", "lm", "--sample-length", "0"],
    }
    folders = {}
    for name in names:
        run, export = folder / name, folder / f"{name}-export"
        assert rnnkit([*commands[name], "--out", str(run), *quiet]) == 0
        assert rnnkit(["export", str(run), "--out", str(export)]) == 0
        folders[name] = (run, export)
    return folders


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--characters", type=int, default=2000)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        pairs = {
            name: (load(run, device="cpu"), load(export))
            for name, (run, export) in train_and_export(Path(scratch)).items()
        }
        run, export = pairs["classify"]
        seconds = time_interleaved(
            {
                "torch": lambda: run.predict([SENTENCE]),
                "onnxruntime": lambda: export.predict([SENTENCE]),
            },
            args.repeats,
        )
        rows.append(_row("classify one sentence (SST-2 recipe: 2-layer biLSTM 128)", seconds, "ms"))
        run, export = pairs["forecast"]
        series = run.read_series(DATA / "ett" / "ETTh1.csv")
        lookback = run.model_config.lookback
        history, past = series.targets[-lookback:], series.past[-lookback:]
        seconds = time_interleaved(
            {
                "torch": lambda: run.predict(history, past),
                "onnxruntime": lambda: export.predict(history, past),
            },
            args.repeats,
        )
        rows.append(_row("forecast one window (ETTh1 recipe: segment GRU 256)", seconds, "ms"))
        run, export = pairs["lm"]
        speeds = {}
        for name, model in (("torch", run), ("onnxruntime", export)):
            model.generate("\n", 50, seed=0)  # warm up
            start = time.perf_counter()
            model.generate("\n", args.characters, temperature=0.8, seed=1)
            speeds[name] = args.characters / (time.perf_counter() - start)
        same = run.generate("\n", 300, 0.8, seed=2) == export.generate("\n", 300, 0.8, seed=2)
        rows.append(
            {
                "measure": "generate characters (char LSTM 256, the demo)",
                "torch": f"{speeds['torch']:.0f} chars/s",
                "onnxruntime": f"{speeds['onnxruntime']:.0f} chars/s",
                "onnxruntime / torch": round(speeds["onnxruntime"] / speeds["torch"], 3),
            }
        )
    print(markdown_table(rows))
    print(f"seeded text identical on both paths: {same}")
    write_json(
        RESULTS / "runtime.json",
        {"machine": machine(), "args": vars(args), "rows": rows, "same_seeded_text": same},
    )
    return 0


def _row(measure: str, seconds: dict, unit: str) -> dict:
    return {
        "measure": measure,
        "torch": f"{seconds['torch'] * 1000:.3f} {unit}",
        "onnxruntime": f"{seconds['onnxruntime'] * 1000:.3f} {unit}",
        "onnxruntime / torch": round(seconds["onnxruntime"] / seconds["torch"], 3),
    }


if __name__ == "__main__":
    sys.exit(main())
