"""Keras 3 (torch backend) against rnnkit on the same char LSTM, the same data, batch and steps.

    python -m venv .venv-keras && .venv-keras/bin/pip install keras numpy torch==2.13.0
    python benchmarks/keras.py --keras-python .venv-keras/bin/python [--steps 200]

The model is the demo's: Embedding 64 -> LSTM 256 -> Dense over the characters, batch 64 x
100, Adam at 2e-3 without decay, float32 on both sides. Keras runs in its own process (its own
venv when --keras-python names one) on windows cut from the same 90% of tiny Shakespeare that
rnnkit trains on (rnnkit reads it as 64 streams with the state carried, Keras as stateless
windows: each side's usual way), and both are scored on the same last 10%. Reported: training
throughput (characters per second, after a warm-up), the validation loss at equal steps, and
generation speed (characters per second, one stream of 500). Writes
benchmarks/results/keras.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, markdown_table, write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SHAPE = dict(embedding=64, hidden=256, batch=64, seq_len=100, learning_rate=2e-3)

KERAS_SIDE = r"""
import json, os, sys, time
os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np, keras
from keras import layers
spec = json.loads(sys.argv[1])
text = open(spec["corpus"], encoding="utf-8").read()
split = int(len(text) * 0.9)
chars = spec["characters"]
index = {c: i for i, c in enumerate(chars)}
ids = np.array([index.get(c, 0) for c in text], dtype="int32")
train, valid = ids[:split], ids[split:]
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((None,), dtype="int32"),
    layers.Embedding(len(chars), spec["embedding"]),
    layers.LSTM(spec["hidden"], return_sequences=True),
    layers.Dense(len(chars))])
model.compile(optimizer=keras.optimizers.Adam(spec["learning_rate"]),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0)
T, B = spec["seq_len"], spec["batch"]
def batch():
    starts = rng.integers(0, len(train) - T - 1, B)
    inputs = np.stack([train[s:s + T] for s in starts])
    return inputs, np.stack([train[s + 1:s + T + 1] for s in starts])
for _ in range(spec["warmup"]):
    model.train_on_batch(*batch())
start = time.perf_counter()
for _ in range(spec["steps"] - spec["warmup"]):
    model.train_on_batch(*batch())
seconds = time.perf_counter() - start
windows = len(valid) // T
x = valid[: windows * T].reshape(windows, T)
y = valid[1 : windows * T + 1].reshape(windows, T)
loss = float(model.evaluate(x, y, batch_size=B, verbose=0))
state, prompt, out = None, [index["T"]], []
start = time.perf_counter()
sequence = list(prompt)
for _ in range(spec["generate"]):  # Keras' usual loop: the model re-reads the window
    logits = keras.ops.convert_to_numpy(model(np.array([sequence[-T:]]), training=False))[0, -1]
    sequence.append(int(np.argmax(logits)))
generation = spec["generate"] / (time.perf_counter() - start)
print(json.dumps({"train_chars_per_s": (spec["steps"] - spec["warmup"]) * B * T / seconds,
    "valid_loss": loss, "generate_chars_per_s": generation, "keras": keras.__version__}))
"""


def rnnkit_side(steps: int, warmup: int, generate: int, out: Path) -> dict:
    import shutil

    from rnnkit.data import BUNDLED_CORPUS
    from rnnkit.models import LanguageModelConfig
    from rnnkit.tasks.language_model import TextDataConfig, train_language_model
    from rnnkit.train import TrainConfig

    shutil.rmtree(out, ignore_errors=True)
    data = TextDataConfig(
        data=str(BUNDLED_CORPUS),
        split="0.9,0.1,0.0",
        batch_size=SHAPE["batch"],
        seq_len=SHAPE["seq_len"],
    )
    model = LanguageModelConfig(embedding_size=SHAPE["embedding"], hidden_size=SHAPE["hidden"])
    train = TrainConfig(
        learning_rate=SHAPE["learning_rate"],
        weight_decay=0.0,
        warmup_steps=0,
        decay="none",
        max_steps=steps,
        eval_every=steps,
        precision="fp32",
        progress=False,
    )
    run, counters = train_language_model(out, data, model, train)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    rates = [r["train_rate"] for r in records if "train_rate" in r][warmup:]  # chars/s
    start = time.perf_counter()
    run.generate("T", generate, temperature=0.0)
    generation = generate / (time.perf_counter() - start)
    return {
        "train_chars_per_s": sorted(rates)[len(rates) // 2] if rates else float("nan"),
        "valid_loss": counters.last_eval["loss"],
        "generate_chars_per_s": generation,
        "characters": run.codec.tokenizer.characters,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--generate", type=int, default=500)
    parser.add_argument("--keras-python", default=sys.executable)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/keras-rnnkit"))
    args = parser.parse_args()
    from rnnkit.data import BUNDLED_CORPUS

    ours = rnnkit_side(args.steps, args.warmup, args.generate, args.out)
    spec = dict(
        SHAPE,
        corpus=str(BUNDLED_CORPUS),
        characters=ours.pop("characters"),
        steps=args.steps,
        warmup=args.warmup,
        generate=args.generate,
    )
    done = subprocess.run(
        [args.keras_python, "-c", KERAS_SIDE, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    rows = [
        {"": "train chars/s", "rnnkit": ours["train_chars_per_s"],
         "Keras": theirs["train_chars_per_s"],
         "Keras / rnnkit": theirs["train_chars_per_s"] / ours["train_chars_per_s"]},
        {"": f"valid loss after {args.steps} steps (nats/char)", "rnnkit": ours["valid_loss"],
         "Keras": theirs["valid_loss"],
         "Keras / rnnkit": theirs["valid_loss"] / ours["valid_loss"]},
        {"": "generation chars/s (1 stream)", "rnnkit": ours["generate_chars_per_s"],
         "Keras": theirs["generate_chars_per_s"],
         "Keras / rnnkit": theirs["generate_chars_per_s"] / ours["generate_chars_per_s"]},
    ]
    print(markdown_table(rows))
    write_json(
        RESULTS / "keras.json",
        {
            "benchmark": "keras",
            "machine": machine(),
            "args": {k: str(v) for k, v in vars(args).items()},
            "keras_version": theirs["keras"],
            "shape": SHAPE,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
