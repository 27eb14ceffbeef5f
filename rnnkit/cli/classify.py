"""``rnnkit train classify``, ``predict`` and the classifier's ``evaluate``."""

from __future__ import annotations

import argparse
import json
import sys

from rnnkit.cli.arguments import add_train_task, build_config, interrupted, train_config

EXAMPLES = """examples:
  rnnkit train classify --train sst2/train.tsv --dev sst2/dev.tsv --text-column sentence --out runs/sst2
  rnnkit train classify --train reviews.csv --label-column stars --cell gru --pooling attention \\
      --embeddings glove.6B.300d.txt --freeze-embeddings --class-weights --out runs/reviews
  rnnkit train classify --train JapaneseVowels_TRAIN.ts --hidden-size 64 --epochs 60 --out runs/vowels
  rnnkit predict runs/sst2 "a gorgeous , witty film" "a dull mess" --json
  rnnkit predict runs/sst2 --input sentences.txt
  rnnkit evaluate runs/sst2 --data sst2/dev.tsv --plot confusion.png
"""

DEFAULT_EPOCHS = 10.0
FORMATTER = argparse.RawDescriptionHelpFormatter


def add_train_parser(tasks) -> None:
    from rnnkit.models.classifier import ClassifierConfig
    from rnnkit.tasks.classifier import ClassifyDataConfig
    from rnnkit.train import TrainConfig

    add_train_task(tasks, "classify", "sequence classifier (sentiment, text, numeric sequences)", EXAMPLES,
                   [("data", ClassifyDataConfig, ()),
                    ("model", ClassifierConfig, ("num_classes", "vocab_size", "input_size")),
                    ("training", TrainConfig, ())], train)

def add_predict_parser(commands):
    predict = commands.add_parser("predict", help="labels and class probabilities from a trained classifier",
                                  epilog=EXAMPLES, formatter_class=FORMATTER)
    predict.add_argument("run", help="run folder written by 'rnnkit train classify' or 'rnnkit train speech'")
    predict.add_argument("inputs", nargs="*", metavar="INPUT", help="texts to classify, or WAV files for speech models")
    predict.add_argument("--input", help="file to classify: .txt (one text per line), CSV/TSV/JSONL, .ts or .npz")
    predict.add_argument("--json", action="store_true", help="print one JSON object per line")
    predict.add_argument("--test-speeds", help="speech models: score each recording at these speeds and average "
                         "(e.g. 0.9,1.0,1.1; default: the run's --test-speeds)")
    predict.add_argument("--device", default="auto", help="cpu, cuda or auto")
    return predict  # the caller dispatches on the run's task (classify or speech)


def train(args) -> int:
    from rnnkit.models.classifier import ClassifierConfig
    from rnnkit.tasks import classifier as task

    # Accuracy is what classification users compare; --select-by loss changes it.
    config = train_config(args, "epochs", DEFAULT_EPOCHS, select_by="accuracy")
    data = build_config(task.ClassifyDataConfig, args)
    model = build_config(ClassifierConfig, args)
    run, counters, report = task.train_classifier(args.out, data, model, config, resume=args.resume,
                                                  log=lambda message: print(message, file=sys.stderr))
    print_report(report, f"validation ({counters.stopped_because})")
    print(f"confusion matrix plot: {run.folder.file('confusion_dev.png')}")
    if interrupted(counters, "classify", args.out):
        return 130
    return 0


def print_report(report: dict, title: str) -> None:
    import pandas as pd

    total = sum(c["support"] for c in report["per_class"].values())
    print(f"{title}: accuracy {report['accuracy']:.4f} | macro-F1 {report['macro_f1']:.4f} | {total} examples")
    table = pd.DataFrame(report["per_class"]).T
    table["support"] = table["support"].astype(int)
    print(table.to_string(float_format=lambda x: f"{x:.4f}"))
    labels = report["labels"]
    matrix = pd.DataFrame(report["confusion_matrix"], index=labels, columns=labels)
    print("confusion matrix (rows: true label, columns: predicted):")
    print(matrix.to_string())


def predict_labels(args) -> int:
    from rnnkit.errors import DataError
    from rnnkit.tasks.classifier import load_classifier

    if bool(args.inputs) == bool(args.input):
        raise DataError("give texts to classify or --input FILE (one of the two)")
    run = load_classifier(args.run, device=args.device)
    if run.encoder is None and args.inputs:
        raise DataError(f"{args.run}: classifies numeric sequences, not texts; give them with --input FILE")
    if args.input:
        examples = run.read(args.input, labels_required=False)
        inputs, shown = examples.inputs, [f"{examples.path}: {p}" for p in examples.places]
    else:
        inputs = shown = args.inputs
    for text, result in zip(shown if run.encoder is None else inputs, run.predict(inputs)):
        if args.json:
            print(json.dumps({"input": text, **result}, ensure_ascii=False))
        else:
            probability = result["probabilities"][result["label"]]
            print(f"{result['label']}\t{probability:.4f}\t{text}")
    return 0


def evaluate(args) -> int:
    from rnnkit.tasks.classifier import load_classifier

    run = load_classifier(args.run, device=args.device)
    report = run.evaluate(args.data, plot=args.plot)
    if args.json:
        print(json.dumps(report))
        return 0
    print_report(report, str(args.data))
    if args.plot:
        print(f"confusion matrix plot: {args.plot}")
    return 0
