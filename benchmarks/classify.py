"""Sequence classification targets: SST-2 accuracy, JapaneseVowels accuracy, and the cost of
lengths.

    python benchmarks/classify.py sst2               # dev accuracy of the recipe, <= 20 min
    python benchmarks/classify.py vowels [--seeds 0 1 2]
    python benchmarks/classify.py lengths            # lengths vs plain padding on bucketed SST-2

``sst2`` trains the README recipe on GLUE SST-2 (train.tsv, 67,349 phrases)
and reports the accuracy on dev.tsv (872 sentences); no external embeddings.
``vowels`` trains on JapaneseVowels_TRAIN.ts (sktime's copy) with 10% held out
for validation, and reports the accuracy on JapaneseVowels_TEST.ts.
``lengths`` times training steps of the same BiLSTM classifier on the same
length-bucketed SST-2 batches, with ``lengths`` and without (plain padding,
which gives wrong results for padded rows), interleaved; and checks that the
batch with lengths gives the same logits as each sentence alone.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, markdown_table, time_interleaved, write_json  # noqa: E402

from rnnkit.models.classifier import ClassifierConfig  # noqa: E402
from rnnkit.tasks.classifier import RECIPE, ClassifyDataConfig, train_classifier  # noqa: E402
from rnnkit.train import TrainConfig  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"

# The SST-2 recipe is train classify's defaults (rnnkit.tasks.classifier.RECIPE); the CLI
# equivalent is rnnkit train classify --train sst2/train.tsv --dev sst2/dev.tsv --out runs/sst2.
SST2_MODEL = asdict(RECIPE.default_model())
SST2_TRAIN = {k: v for k, v in asdict(RECIPE.default_train()).items() if k in RECIPE.train_defaults}
VOWELS_MODEL = dict(
    cell="lstm",
    hidden_size=64,
    bidirectional=True,
    pooling="max",
    dropout=0.5,
    embedding_dropout=0.3,
)
VOWELS_TRAIN = dict(epochs=60, eval_every=50, select_by="loss")


def _need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"skipped: {path} is missing (see ../shared/data/README.md)")
    return path


def sst2(args) -> dict:
    folder = _need(DATA / "sst2")
    data = ClassifyDataConfig(
        train=str(folder / "train.tsv"), dev=str(folder / "dev.tsv"), batch_size=64
    )
    rows = []
    for seed in args.seeds:
        start = time.perf_counter()
        run, counters, report = train_classifier(
            args.runs / f"sst2-{seed}",
            data,
            None,  # the defaults
            replace(RECIPE.default_train(), seed=seed, progress=False),
        )
        final = counters.last_eval  # the last validation, not the best: how much selection adds
        rows.append(
            {
                "seed": seed,
                "dev accuracy (best)": report["accuracy"],
                "macro_f1": report["macro_f1"],
                "dev accuracy (last step)": final["accuracy"],
                "minutes": (time.perf_counter() - start) / 60,
                "steps": counters.step,
            }
        )
    rows.append(
        {"seed": "mean", **{k: statistics.mean(r[k] for r in rows) for k in list(rows[0])[1:]}}
    )
    return {
        "rows": rows,
        "target": "dev accuracy >= 0.85 in <= 20 min",
        "recipe": {"model": SST2_MODEL, "train": SST2_TRAIN, "batch_size": 64},
    }


def vowels(args) -> dict:
    sktime = __import__("sktime")
    folder = _need(Path(sktime.__file__).parent / "datasets" / "data" / "JapaneseVowels")
    rows = []
    for seed in args.seeds:
        data = ClassifyDataConfig(train=str(folder / "JapaneseVowels_TRAIN.ts"), batch_size=16)
        start = time.perf_counter()
        run, _, _ = train_classifier(
            args.runs / f"vowels-{seed}",
            data,
            ClassifierConfig(**VOWELS_MODEL),
            TrainConfig(**VOWELS_TRAIN, seed=seed, progress=False),
        )
        report = run.evaluate(folder / "JapaneseVowels_TEST.ts")
        rows.append(
            {
                "dataset": "JapaneseVowels test (370)",
                "seed": seed,
                "accuracy": report["accuracy"],
                "macro_f1": report["macro_f1"],
                "seconds": time.perf_counter() - start,
            }
        )
    accuracies = [r["accuracy"] for r in rows]
    rows.append(
        {
            "dataset": "mean",
            "seed": "-",
            "accuracy": statistics.mean(accuracies),
            "macro_f1": statistics.mean(r["macro_f1"] for r in rows),
            "seconds": sum(r["seconds"] for r in rows),
        }
    )
    return {
        "rows": rows,
        "recipe": {"model": VOWELS_MODEL, "train": VOWELS_TRAIN, "batch_size": 16},
    }


def lengths(args) -> dict:
    from rnnkit.data.buckets import bucket_batches, pad_sequences
    from rnnkit.data.words import TextEncoder
    from rnnkit.data.tables import read_labelled_text
    from rnnkit.models.classifier import SequenceClassifier

    texts, labels, _ = read_labelled_text(_need(DATA / "sst2" / "train.tsv"))
    encoder = TextEncoder.fit(texts)
    inputs, targets = encoder.encode(texts), torch.tensor([int(label) for label in labels])
    batches = bucket_batches([len(x) for x in inputs], 64, seed=0)[: args.batches]
    padded = [(*pad_sequences([inputs[i] for i in b]), targets[b]) for b in batches]
    torch.manual_seed(0)
    model = SequenceClassifier(replace(RECIPE.default_model(), vocab_size=len(encoder.vocabulary)))
    optimizer = torch.optim.AdamW(model.parameters())

    def epoch(use_lengths):
        def run():
            for tokens, length, target in padded:
                loss = F.cross_entropy(model(tokens, length if use_lengths else None), target)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()

        return run

    seconds = time_interleaved(
        {"with lengths": epoch(True), "padded, no lengths": epoch(False)},
        repeats=args.repeats,
        warmup=1,
    )
    model.eval()
    difference = 0.0
    with torch.no_grad():
        for tokens, length, _ in padded[:20]:
            together = model(tokens, length)
            alone = torch.cat([model(tokens[r : r + 1, :n]) for r, n in enumerate(length.tolist())])
            difference = max(difference, (together - alone).abs().max().item())
    padding = sum(int(t.numel() - n.sum()) for t, n, _ in padded) / sum(
        t.numel() for t, _, _ in padded
    )
    base = seconds["padded, no lengths"]
    rows = [
        {"batches": name, "seconds per pass": value, "ratio vs no lengths": value / base}
        for name, value in seconds.items()
    ]
    return {
        "rows": rows,
        "batches": len(padded),
        "padding_fraction": padding,
        "max_abs_difference_batch_vs_alone": difference,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["sst2", "vowels", "lengths"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--batches", type=int, default=200, help="lengths: training batches per timed pass"
    )
    parser.add_argument("--repeats", type=int, default=5, help="lengths: interleaved timing rounds")
    parser.add_argument(
        "--runs", type=Path, default=Path("/tmp/rnnkit-bench"), help="where run folders go"
    )
    args = parser.parse_args(argv)
    result = {"sst2": sst2, "vowels": vowels, "lengths": lengths}[args.mode](args)
    result["machine"] = machine()
    result["command"] = "python benchmarks/classify.py " + " ".join(argv or sys.argv[1:])
    shown = [
        {
            k: f"{v:.4f}" if isinstance(v, float) and ("accuracy" in k or "f1" in k) else v
            for k, v in row.items()
        }
        for row in result["rows"]
    ]
    print(markdown_table(shown))
    for key in ("padding_fraction", "max_abs_difference_batch_vs_alone"):
        if key in result:
            print(f"{key}: {result[key]:.3g}")
    write_json(RESULTS / f"classify_{args.mode}.json", result)


if __name__ == "__main__":
    main()
