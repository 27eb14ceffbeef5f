"""``rnnkit import-keras MODEL.keras --out RUN``: a Keras text classifier as a run folder."""

from __future__ import annotations

from rnnkit.cli.flags import FORMATTER

EXAMPLES = """examples:
  rnnkit import-keras sentiment.keras --vocabulary vocab.txt --labels negative,positive \\
      --out runs/from-keras
  rnnkit predict runs/from-keras "a gorgeous, witty film"
  rnnkit export runs/from-keras --out exports/from-keras
"""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "import-keras",
        help="turn a Keras text classifier (.keras or .h5) into a run folder",
        epilog=EXAMPLES,
        formatter_class=FORMATTER,
    )
    parser.add_argument("model", metavar="MODEL", help="a Keras 3 .keras file or a legacy .h5")
    parser.add_argument("--out", required=True, help="the run folder to write (new or empty)")
    parser.add_argument(
        "--vocabulary",
        required=True,
        help="the tokens in id order, one per line, as TextVectorization.get_vocabulary() "
        "returns them (id 0 padding, id 1 [UNK])",
    )
    parser.add_argument(
        "--labels", help="the class names in output order, comma-separated (default 0,1,...)"
    )
    parser.set_defaults(handler=run)


def run(args) -> int:
    from rnnkit.tasks.keras_runs import import_keras

    out = import_keras(args.model, args.out, args.vocabulary, args.labels)
    print(f"wrote the classifier run folder {out} from {args.model}")
    print(f'try it: rnnkit predict {out} "a text to classify"')
    return 0
