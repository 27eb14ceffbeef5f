"""The flags of the commands that use a trained model (generate, predict, transcribe), and the
argparse types every command uses, without torch: the run-folder parser
(:mod:`rnnkit.cli.commands`) and the export-folder parser (:mod:`rnnkit.cli.exports`) both
build those commands from here, so a flag is defined once and reads the same on either.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import math
import textwrap

from rnnkit.fields import AT_LEAST_ONE, Range

FORMATTER = argparse.RawDescriptionHelpFormatter
"""Every command's help keeps its examples' line breaks."""


def number(kind: type, bounds: Range | None = None):
    """An argparse ``type`` that reads a whole number or a finite number inside ``bounds``,
    so a bad value is argparse's one-line error naming the flag."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, found {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, found {text!r}")
        if bounds is not None and not bounds.contains(value):
            raise argparse.ArgumentTypeError(f"must be {bounds.describe()}; got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse's metavar and messages show the kind
    return parse


SEED = Range(0, 2**32 - 1)
"""What numpy, torch and Python's random all accept as a seed."""


def field_docs(cls) -> dict[str, str]:
    """The string literal under each field of a dataclass (its attribute docstring), inherited
    fields included."""
    docs = {}
    for klass in reversed(cls.__mro__):  # base classes first, so a subclass's docstring wins
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body
        for node, following in zip(body, body[1:]):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                    docs[node.target.id] = " ".join(str(following.value.value).split())
    return docs


def add_generate_flags(parser) -> None:
    """``--length``, ``--temperature``, ``--seed`` of ``rnnkit generate``."""
    parser.add_argument(
        "--length",
        type=number(int, Range(1, 10_000_000)),
        default=500,
        help="tokens (characters, words, subwords) or music steps to generate",
    )
    parser.add_argument(
        "--temperature",
        type=number(float, Range(0, 100)),
        default=1.0,
        help="<1 is more conservative; 0 is greedy",
    )
    parser.add_argument(
        "--seed", type=number(int, SEED), default=None, help="seed for reproducible samples"
    )


def add_text_generate_flags(group) -> None:
    """A language model's flags of ``rnnkit generate``."""
    group.add_argument("--prompt", default="\n", help="text to start from (default: a newline)")
    group.add_argument(
        "--top-k",
        type=number(int, AT_LEAST_ONE),
        default=None,
        help="sample only among the k most likely",
    )
    group.add_argument(
        "--top-p",
        type=number(float, Range(0, 1, low_open=True)),
        default=None,
        help="sample only within probability mass p",
    )
    group.add_argument(
        "--num-samples",
        type=number(int, Range(1, 1024)),
        default=1,
        help="independent samples, generated as a batch",
    )


def add_predict_inputs(parser) -> None:
    """The inputs of ``rnnkit predict`` and ``--json``."""
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="texts to classify or to continue, or WAV files for speech models",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")


def add_next_words_flag(group) -> None:
    """A language model's ``--top-k`` of ``rnnkit predict``."""
    group.add_argument(
        "--top-k",
        type=number(int, AT_LEAST_ONE),
        default=5,
        help="how many next tokens to list (default: 5)",
    )


def add_transcribe_flags(parser) -> None:
    """The files, ``--beam-width`` and ``--json`` of ``rnnkit transcribe``."""
    parser.add_argument("files", nargs="+", metavar="FILE.wav", help="recordings to transcribe")
    parser.add_argument(
        "--beam-width",
        type=number(int, Range(1, 1024)),
        default=8,
        help="prefix beam search width; 1 decodes greedily (default: 8)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")


def add_forecast_flags(parser) -> None:
    """``--data``, ``--out``, ``--plot`` and ``--future`` of ``rnnkit forecast``."""
    parser.add_argument(
        "--data", required=True, help="CSV with the series' history, in the training file's format"
    )
    parser.add_argument("--out", help="write the forecast to this CSV (default: print it)")
    parser.add_argument("--plot", help="write history and forecast to this PNG")
    parser.add_argument(
        "--future", help="CSV with the next --horizon values of the known-future covariates"
    )


def add_music_generate_flags(group) -> None:
    """A music model's flags of ``rnnkit generate``."""
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


def add_serve_flags(parser, limits_class) -> None:
    """``rnnkit serve``'s address and one flag per limit (``--max-length`` and so on)."""
    parser.add_argument(
        "folders", nargs="+", metavar="RUN_OR_EXPORT", help="run or export folders to serve"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the "
        "network)",
    )
    parser.add_argument(
        "--port",
        type=number(int, Range(0, 65535)),
        default=8000,
        help="port to listen on (0: a free one, printed in the first line)",
    )
    parser.add_argument("--device", default="auto", help="run folders: cpu, cuda or auto")
    docs = field_docs(limits_class)
    for field in dataclasses.fields(limits_class):
        kind = type(field.default)
        if kind is bool:
            parser.add_argument(
                "--" + field.name.replace("_", "-"),
                action=argparse.BooleanOptionalAction,
                default=field.default,
                help=docs.get(field.name, ""),
            )
            continue
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            type=number(kind, limits_class.BOUNDS[field.name]),
            default=field.default,
            help=f"{docs.get(field.name, '')} (default: {field.default})",
        )
