"""``rnnkit import-keras MODEL.keras --out RUN``: a Keras text classifier or next-character model
as a run folder."""

from __future__ import annotations

from rnnkit.cli.flags import FORMATTER

EXAMPLES = """examples:
  rnnkit import-keras sentiment.keras --vocabulary vocab.txt --labels negative,positive \\
      --out runs/from-keras
  rnnkit predict runs/from-keras "a gorgeous, witty film"
  rnnkit export runs/from-keras --out exports/from-keras
  rnnkit import-keras chars.keras --vocabulary chars.json --out runs/chars   # next-character
  rnnkit generate runs/chars --prompt "h" --length 100
"""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "import-keras",
        help="turn a Keras text classifier or next-character model (.keras, .h5) into a run",
        epilog=EXAMPLES,
        formatter_class=FORMATTER,
    )
    parser.add_argument("model", metavar="MODEL", help="a Keras 3 .keras file or a legacy .h5")
    parser.add_argument("--out", required=True, help="the run folder to write (new or empty)")
    parser.add_argument(
        "--vocabulary",
        required=True,
        help="classifiers: the tokens in id order, one per line, as TextVectorization."
        "get_vocabulary() returns them (id 0 padding, id 1 [UNK]); next-character models: the "
        "characters in id order, a JSON list (or one per line)",
    )
    parser.add_argument(
        "--labels", help="the class names in output order, comma-separated (default 0,1,...)"
    )
    parser.set_defaults(handler=run)


def run(args) -> int:
    from rnnkit.tasks.keras_runs import import_keras

    from rnnkit.train import RunFolder

    out = import_keras(args.model, args.out, args.vocabulary, args.labels)
    task = RunFolder(out).read_config()["task"]
    kind = "classifier" if task == "classify" else "language-model"
    print(f"wrote the {kind} run folder {out} from {args.model}")
    example = f'predict {out} "a text to classify"' if task == "classify" else f"generate {out}"
    print(f"try it: rnnkit {example}")
    return 0
