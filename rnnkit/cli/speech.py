"""``rnnkit train speech``, ``rnnkit train transcribe``, ``rnnkit transcribe``, and
``predict`` and ``evaluate`` for speech runs."""

from __future__ import annotations

import json

import pandas as pd

from rnnkit.cli import using
from rnnkit.cli.arguments import (
    FORMATTER,
    number,
    add_train_task,
    build_config,
    interrupted,
    train_config,
)
from rnnkit.cli.classify import print_report as print_classification
from rnnkit.cli.flags import add_transcribe_flags
from rnnkit.data.audio import AudioConfig
from rnnkit.fields import Range
from rnnkit.tasks import speech, transcribe
from rnnkit.train import TrainConfig

EXAMPLES = """examples:
  rnnkit train speech --data fsdd/recordings --out runs/fsdd
  rnnkit train speech --data fsdd/recordings --test-speakers theo --ensemble 3 --out runs/fsdd-theo
  rnnkit train speech --data manifest.csv --features log_mel --cell gru --out runs/words
  rnnkit predict runs/fsdd 7_jackson_32.wav my_recording.wav --json
  rnnkit evaluate runs/fsdd --data fsdd/recordings --plot confusion.png
  rnnkit train transcribe --data fsdd/recordings --out runs/digits
  rnnkit transcribe runs/digits runs/digits/example_test.wav --beam-width 16
"""


def add_train_parsers(tasks) -> None:
    derived = (
        "num_classes",
        "vocab_size",
        "input_size",
        "embedding_size",
        "word_dropout",
        "freeze_embeddings",
    )
    add_train_task(
        tasks,
        speech.RECIPE,
        "spoken-word classifier on WAV files (e.g. spoken digits)",
        EXAMPLES,
        [
            ("data", speech.SpeechDataConfig, ()),
            ("features", AudioConfig, ()),
            ("model", speech.RECIPE.model_config, derived),
            ("training", TrainConfig, ()),
        ],
        train_classifier,
    )
    add_train_task(
        tasks,
        transcribe.RECIPE,
        "CTC transcriber of spoken sequences (e.g. digit strings)",
        EXAMPLES,
        [
            ("data", transcribe.TranscribeDataConfig, ("test_speeds", "ensemble")),
            ("features", AudioConfig, ()),
            ("model", transcribe.RECIPE.model_config, ("input_size", "num_tokens")),
            ("training", TrainConfig, ()),
        ],
        train_ctc,
    )


def add_shared_arguments(command: str, parser) -> None:
    """The speech models' flags of the shared commands."""
    group = parser.add_argument_group("speech models")
    if command in ("predict", "evaluate"):
        group.add_argument(
            "--test-speeds",
            help="speech classifiers: score each recording at these speeds and "
            "average (e.g. 0.9,1.0,1.1; default: the run's --test-speeds)",
        )
    if command == "evaluate":
        group.add_argument(
            "--beam-width",
            type=number(int, Range(1, 1024)),
            default=8,
            help="transcribers: prefix beam search width, "
            "scored beside greedy decoding (default: 8)",
        )


def add_transcribe_parser(commands) -> None:
    parser = commands.add_parser(
        "transcribe",
        help="transcribe WAV files with a CTC model",
        epilog=EXAMPLES,
        formatter_class=FORMATTER,
    )
    parser.add_argument("run", help="run folder written by 'rnnkit train transcribe'")
    add_transcribe_flags(parser)
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.set_defaults(handler=transcribe_files)


def train_classifier(args) -> int:
    config = train_config(args, speech.RECIPE)
    model = build_config(speech.RECIPE.model_config, args, speech.RECIPE.model_defaults, "model")
    run, counters, report = speech.train_speech_classifier(
        args.out,
        build_config(speech.SpeechDataConfig, args, role="data"),
        build_config(AudioConfig, args, role="audio"),
        model,
        config,
        resume=args.resume,
    )
    if report is not None:
        print_report(report, f"test ({counters.stopped_because})")
        print(f"confusion matrix plot: {run.folder.file('confusion_test.png')}")
    return 130 if interrupted(counters, "speech", args.out) else 0


def train_ctc(args) -> int:
    config = train_config(args, transcribe.RECIPE)
    run, counters, report = transcribe.train_transcriber(
        args.out,
        build_config(transcribe.TranscribeDataConfig, args, role="data"),
        build_config(AudioConfig, args, role="audio"),
        build_config(
            transcribe.RECIPE.model_config, args, transcribe.RECIPE.model_defaults, "model"
        ),
        config,
        resume=args.resume,
    )
    if report is not None:
        print(f"test ({counters.stopped_because}): {_errors(report)}")
        example = run.folder.file("example_test.wav")
        said = run.folder.file("example_test.txt").read_text().strip()
        print(f"try it: rnnkit transcribe {args.out} {example}   (the recording says {said})")
    return 130 if interrupted(counters, "transcribe", args.out) else 0


def _errors(report: dict) -> str:
    return (
        f"token error rate {report['token_error_rate']:.2%} | sequences exactly right "
        f"{report['sequence_accuracy']:.2%} | {report['sequences']} sequences, {report['tokens']} "
        "tokens, "
        f"beam width {report['beam_width']}"
    )


def print_report(report: dict, title: str) -> None:
    print_classification(report, title)
    print("accuracy per speaker:")
    table = pd.DataFrame(report["per_speaker"]).T
    table["support"] = table["support"].astype(int)
    print(table.to_string(float_format=lambda x: f"{x:.4f}"))


def _with_test_speeds(run, speeds: str | None):
    if speeds is not None:
        run.test_speeds = speech.SpeechDataConfig(test_speeds=speeds).test_speed_list()
    return run


def predict(args) -> int:
    run = speech.load_speech_classifier(args.run, device=args.device)
    return using.classify_recordings(_with_test_speeds(run, args.test_speeds), args)


def transcribe_files(args) -> int:
    return using.transcribe_recordings(transcribe.load_transcriber(args.run, args.device), args)


def evaluate(args) -> int:
    run = _with_test_speeds(
        speech.load_speech_classifier(args.run, device=args.device), args.test_speeds
    )
    report = run.evaluate(
        run.split(args.data, args.split), plot=args.plot, title=f"{args.data}: {args.split}"
    )
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report, f"{args.data} ({args.split})")
    return 0


def evaluate_transcriber(args) -> int:
    run = transcribe.load_transcriber(args.run, device=args.device)
    sequences = run.sequences(args.data, args.split)
    reports = [run.evaluate(sequences, beam_width=width) for width in (1, args.beam_width)]
    if args.json:
        print(json.dumps({"greedy": reports[0], "beam": reports[1]}))
    else:
        for name, report in zip(("greedy", "beam"), reports):
            print(f"{args.data} ({args.split}), {name}: {_errors(report)}")
    return 0


HANDLERS = {
    ("speech", "predict"): predict,
    ("speech", "evaluate"): evaluate,
    ("transcribe", "evaluate"): evaluate_transcriber,
}
"""(task, shared command) -> handler."""
