"""``rnnkit <command>``: the one argument parser. It turns flags into typed
configs and calls a task; nothing else in rnnkit parses arguments. Each task's
flags and handlers live in its own module here (``lm``, ``classify``, ``forecast``, ``music``, ``speech``, ``lab``)."""

from __future__ import annotations

import argparse
import os
import sys

from rnnkit.cli import classify, forecast, lab, lm, music, speech
from rnnkit.errors import RnnkitError

EXAMPLES = lm.EXAMPLES + "".join(m.EXAMPLES.replace("examples:\n", "") for m in (classify, forecast, music, speech, lab))
FORMATTER = argparse.RawDescriptionHelpFormatter
EVALUATORS = {"lm": lm.evaluate, "classify": classify.evaluate, "forecast": forecast.evaluate,
              "music": music.evaluate, "speech": speech.evaluate, "transcribe": speech.evaluate_transcriber}
PREDICTORS = {"classify": classify.predict_labels, "speech": speech.predict_files}
GENERATORS = {"lm": lm.generate_text, "music": music.generate_piece}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnkit", description="Recurrent networks on sequential data.",
                                     epilog=EXAMPLES, formatter_class=FORMATTER)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser("train", help="train a model", epilog=EXAMPLES, formatter_class=FORMATTER)
    tasks = train.add_subparsers(dest="task", required=True, metavar="TASK")
    lm.add_train_parser(tasks)
    classify.add_train_parser(tasks)
    forecast.add_train_parser(tasks)
    music.add_train_parser(tasks)
    speech.add_train_parsers(tasks)
    generate = lm.add_generate_parser(commands)
    music.add_generate_arguments(generate)
    generate.set_defaults(handler=_generate)
    classify.add_predict_parser(commands).set_defaults(handler=_predict)
    speech.add_transcribe_parser(commands)
    forecast.add_forecast_parser(commands)
    lab.add_parsers(commands)

    evaluate = commands.add_parser("evaluate", help="score a trained model on a file", epilog=EXAMPLES,
                                   formatter_class=FORMATTER)
    evaluate.add_argument("run", help="run folder written by 'rnnkit train'")
    evaluate.add_argument("--data", required=True, help="file to score, in the format the model was trained on "
                          "(speech: the folder or manifest)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--plot", help="write a PNG: the confusion matrix (classifiers) or forecast windows (forecasters)")
    evaluate.add_argument("--split", default="test", choices=("train", "valid", "test"),
                          help="forecasters: which rows of the file to backtest, by the run's --split; music and speech: which "
                               "split of the data to score, split as in training (default: test)")
    evaluate.add_argument("--windows", help="forecasters: backtest windows to plot, comma-separated indices "
                          "(negative from the end; default: first, middle, last)")
    evaluate.add_argument("--test-speeds", help="speech classifiers: score each recording at these speeds and average "
                          "(e.g. 0.9,1.0,1.1; default: the run's --test-speeds)")
    evaluate.add_argument("--beam-width", type=int, default=8, help="transcribers: prefix beam search width, "
                          "scored beside greedy decoding (default: 8)")
    evaluate.add_argument("--device", default="auto", help="cpu, cuda or auto")
    evaluate.set_defaults(handler=_evaluate)
    return parser


def _task_of(run) -> str:
    from rnnkit.train import RunFolder

    return RunFolder(run).read_config().get("task")


def _generate(args) -> int:
    task = _task_of(args.run)
    if task not in GENERATORS:
        raise RnnkitError(f"{args.run}: holds a {task!r} model, which 'rnnkit generate' does not know")
    return GENERATORS[task](args)


def _predict(args) -> int:
    task = _task_of(args.run)
    if task not in PREDICTORS:
        hint = "; use 'rnnkit transcribe'" if task == "transcribe" else ""
        raise RnnkitError(f"{args.run}: holds a {task!r} model, which 'rnnkit predict' does not know{hint}")
    return PREDICTORS[task](args)


def _evaluate(args) -> int:
    task = _task_of(args.run)
    if task not in EVALUATORS:
        raise RnnkitError(f"{args.run}: holds a {task!r} model, which 'rnnkit evaluate' does not know")
    return EVALUATORS[task](args)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except (RnnkitError, ValueError) as error:
        print(f"rnnkit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnkit: aborted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
