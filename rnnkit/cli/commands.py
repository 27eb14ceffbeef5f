"""``rnnkit <command>`` on run folders: the argument parser. It turns flags into typed
configs and calls a task; nothing else in rnnkit parses arguments.

Each task's module here (``lm``, ``classify``, ``forecast``, ``music``,
``speech``) adds its ``train`` subcommand and its flags of the shared commands,
and names its handlers; the shared commands (``generate``, ``predict``,
``evaluate``) are built here once and dispatch on the run folder's task.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from functools import partial

from rnnkit.cli import classify, forecast, keras, lab, lm, music, speech
from rnnkit.cli.flags import FORMATTER, add_generate_flags, add_predict_inputs
from rnnkit.errors import RnnkitError
from rnnkit.train import RunFolder

TASK_MODULES = (lm, classify, forecast, music, speech)
EXAMPLES = lm.EXAMPLES + "".join(
    module.EXAMPLES.replace("examples:\n", "") for module in (*TASK_MODULES[1:], lab)
)
HANDLERS = {key: handler for module in TASK_MODULES for key, handler in module.HANDLERS.items()}
"""(task, shared command) -> handler."""
SHARED_COMMANDS = {
    "generate": "sample text (language models) or MIDI (music models)",
    "predict": "labels and class probabilities (text, sequence and speech classifiers), or the "
    "next words (language models)",
    "evaluate": "score a trained model on a file",
}
HINTS = {
    ("transcribe", "predict"): "; use 'rnnkit transcribe'",
    ("forecast", "predict"): "; use 'rnnkit forecast'",
}


def _add_common_arguments(command: str, parser: argparse.ArgumentParser) -> None:
    """The flags a shared command has for every task; task modules add their own groups."""
    parser.add_argument("run", help="run folder written by 'rnnkit train'")
    if command == "generate":
        add_generate_flags(parser)
    elif command == "predict":
        add_predict_inputs(parser)
    else:
        parser.add_argument(
            "--data",
            required=True,
            help="file to score, in the format the model was trained "
            "on (speech: the folder or manifest)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--plot",
            help="write a PNG: the confusion matrix (classifiers) or forecast "
            "windows (forecasters)",
        )
        parser.add_argument(
            "--split",
            default="test",
            choices=("train", "valid", "test"),
            help="forecasters: which rows of the file to backtest, by the run's --split; "
            "music and speech: which split of the data to score, split as in training "
            "(default: test)",
        )
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")


def _dispatch(command: str, args) -> int:
    task = RunFolder(args.run).read_config().get("task")
    handler = HANDLERS.get((task, command))
    if handler is None:
        raise RnnkitError(
            f"{args.run}: holds a {task!r} model, which 'rnnkit {command}' does not know"
            + HINTS.get((task, command), "")
        )
    return handler(args)


EXPORT_EXAMPLES = """examples:
  rnnkit export runs/shakespeare --out exports/shakespeare
  rnnkit generate exports/shakespeare --prompt "ROMEO:" --length 200   # onnxruntime, no torch
  rnnkit predict exports/sst2 "a gorgeous, witty film"
"""


def _add_export_parser(commands) -> None:
    parser = commands.add_parser(
        "export",
        help="write a run's model as ONNX with export.json, to run without torch",
        epilog=EXPORT_EXAMPLES,
        formatter_class=FORMATTER,
    )
    parser.add_argument("run", help="run folder written by 'rnnkit train'")
    parser.add_argument("--out", required=True, help="the export folder to write")
    parser.set_defaults(handler=_export)


def _export(args) -> int:
    from rnnkit.export import export_run  # torch.onnx loads only for this command

    out = export_run(args.run, args.out)
    description = json.loads((out / "export.json").read_text())
    graph = description["graph"]
    names = ", ".join(entry["name"] for entry in graph["inputs"])
    outputs = ", ".join(entry["name"] for entry in graph["outputs"])
    print(
        f"exported the {description['task']} model of {args.run} to {out}: "
        f"{graph['file']} ({graph['kind']} graph: {names} -> {outputs}), export.json, README.md"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnkit",
        description="Recurrent networks on sequential data.",
        epilog=EXAMPLES,
        formatter_class=FORMATTER,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser(
        "train", help="train a model", epilog=EXAMPLES, formatter_class=FORMATTER
    )
    tasks = train.add_subparsers(dest="task", required=True, metavar="TASK")
    lm.add_train_parser(tasks)
    classify.add_train_parser(tasks)
    forecast.add_train_parser(tasks)
    music.add_train_parser(tasks)
    speech.add_train_parsers(tasks)
    for command, help_text in SHARED_COMMANDS.items():
        shared = commands.add_parser(
            command, help=help_text, epilog=EXAMPLES, formatter_class=FORMATTER
        )
        _add_common_arguments(command, shared)
        for module in TASK_MODULES:
            module.add_shared_arguments(command, shared)
        shared.set_defaults(handler=partial(_dispatch, command))
    speech.add_transcribe_parser(commands)
    _add_export_parser(commands)
    # Answered by rnnkit.cli.exports (which needs no torch); listed here for 'rnnkit --help'.
    commands.add_parser(
        "serve", help="answer HTTP requests, with a web page (see 'rnnkit serve --help')"
    )
    forecast.add_forecast_parser(commands)
    lab.add_parsers(commands)
    keras.add_parser(commands)
    return parser


def _launch(processes_per_node: int, argv: list[str]) -> int:
    """``rnnkit train ... --nproc-per-node N``: the same command under torchrun."""
    if processes_per_node < 1:
        raise RnnkitError(f"--nproc-per-node must be a positive number; got {processes_per_node}")
    kept, skip = [], False
    for word in argv:
        if skip or word.startswith("--nproc-per-node"):
            skip = word == "--nproc-per-node" and not skip
            continue
        kept.append(word)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(processes_per_node),
        "-m",
        "rnnkit",
        *kept,
    ]
    # Ctrl-C reaches torchrun, which stops its workers (they save); this process waits for it.
    # A handler, not SIG_IGN: an ignored signal would stay ignored in torchrun too.
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        code = subprocess.call(command)
    finally:
        signal.signal(signal.SIGINT, previous)
    if code != 0 and not interrupted:
        # torchrun's own report is a long traceback; this is the line that says what to do
        print(
            f"rnnkit: error: a training process failed (torchrun exited with {code}; its "
            "report is above); the run folder keeps its last checkpoint, and the same command "
            "with --resume continues from it",
            file=sys.stderr,
        )
    return code


def run(argv: list[str]) -> int:
    """Parses ``argv`` with the full parser and runs the command (errors: see :func:`main`)."""
    args = _parser().parse_args(argv)
    if getattr(args, "nproc_per_node", None) and "WORLD_SIZE" not in os.environ:
        return _launch(args.nproc_per_node, argv)
    if int(os.environ.get("RANK", "0")) > 0:  # under torchrun, rank 0 alone speaks
        sys.stdout = open(os.devnull, "w")
    return args.handler(args)
