"""``rnnkit train classify`` and the classifier's part of ``predict`` and ``evaluate``."""

from __future__ import annotations

import json
import sys

import pandas as pd

from rnnkit.cli import using
from rnnkit.cli.arguments import add_train_task, build_config, interrupted, train_config
from rnnkit.errors import DataError
from rnnkit.tasks import classifier as task
from rnnkit.train import TrainConfig

EXAMPLES = """examples:
  rnnkit train classify --train sst2/train.tsv --dev sst2/dev.tsv --out runs/sst2  # SST-2 recipe
  rnnkit train classify --train reviews.csv --label-column stars --cell gru --pooling attention \\
      --embeddings glove.6B.300d.txt --freeze-embeddings --class-weights --out runs/reviews
  rnnkit train classify --train JapaneseVowels_TRAIN.ts --hidden-size 64 --epochs 60 \\
      --out runs/vowels
  rnnkit train classify --train sst2/train.tsv --dev sst2/dev.tsv --encoder runs/wordlm \\
      --out runs/sst2-ulmfit           # start from a word LM (ULMFiT): its own recipe
  rnnkit predict runs/sst2 "a gorgeous , witty film" "a dull mess" --json
  rnnkit predict runs/sst2 --input sentences.txt
  rnnkit evaluate runs/sst2 --data sst2/dev.tsv --plot confusion.png
"""


def add_train_parser(tasks) -> None:
    add_train_task(
        tasks,
        task.RECIPE,
        "sequence classifier (sentiment, text, numeric sequences)",
        EXAMPLES,
        [
            ("data", task.ClassifyDataConfig, ()),
            ("model", task.ClassifierConfig, ("num_classes", "vocab_size", "input_size")),
            ("training", TrainConfig, ()),
        ],
        train,
    )


def add_shared_arguments(command: str, parser) -> None:
    """The classifier's flags of the shared commands."""
    if command == "predict":
        parser.add_argument_group("classifiers").add_argument(
            "--input", help="file to classify: .txt (one text per line), CSV/TSV/JSONL, .ts or .npz"
        )


def train(args) -> int:
    data = build_config(task.ClassifyDataConfig, args, role="data")
    recipe = task.recipe_for(data)
    config = train_config(args, recipe)
    model = build_config(task.ClassifierConfig, args, recipe.model_defaults, "model")
    run, counters, report = task.train_classifier(
        args.out,
        data,
        model,
        config,
        resume=args.resume,
        log=lambda message: print(message, file=sys.stderr),
    )
    print_report(report, f"validation ({counters.stopped_because})")
    print(f"confusion matrix plot: {run.folder.file('confusion_dev.png')}")
    if interrupted(counters, "classify", args.out):
        return 130
    return 0


def print_report(report: dict, title: str) -> None:
    total = sum(c["support"] for c in report["per_class"].values())
    print(
        f"{title}: accuracy {report['accuracy']:.4f} | macro-F1 {report['macro_f1']:.4f} | "
        f"macro recall {report['macro_recall']:.4f} | {total} examples"
    )
    table = pd.DataFrame(report["per_class"]).T
    table["support"] = table["support"].astype(int)
    print(table.to_string(float_format=lambda x: f"{x:.4f}"))
    labels = report["labels"]
    matrix = pd.DataFrame(report["confusion_matrix"], index=labels, columns=labels)
    print("confusion matrix (rows: true label, columns: predicted):")
    print(matrix.to_string())


def predict(args) -> int:
    if bool(args.inputs) == bool(args.input):
        raise DataError("give texts to classify or --input FILE (one of the two)")
    run = task.load_classifier(args.run, device=args.device)
    if run.encoder is None and args.inputs:
        raise DataError(
            f"{args.run}: classifies numeric sequences, not texts; give them with --input FILE"
        )
    if args.input:
        examples = run.read_examples(args.input, labels_required=False)
        inputs, shown = examples.inputs, [f"{examples.path}: {p}" for p in examples.places]
    else:
        inputs = shown = args.inputs
    using.print_labels(run.predict(inputs), shown if run.encoder is None else inputs, args.json)
    return 0


def evaluate(args) -> int:
    run = task.load_classifier(args.run, device=args.device)
    report = run.evaluate(args.data, plot=args.plot)
    if args.json:
        print(json.dumps(report))
        return 0
    print_report(report, str(args.data))
    if args.plot:
        print(f"confusion matrix plot: {args.plot}")
    return 0


HANDLERS = {("classify", "predict"): predict, ("classify", "evaluate"): evaluate}
"""(task, shared command) -> handler."""
