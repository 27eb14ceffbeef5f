"""Spoken digits (FSDD) targets: the standard split, each held-out speaker, and CTC.

    python benchmarks/speech.py standard [--seeds 0]
    python benchmarks/speech.py speakers [--speakers george theo ...]
    python benchmarks/speech.py ctc
    python benchmarks/speech.py ctc-speakers [--speakers jackson ...]

Accuracy is scored at the default test-time speeds (0.9, 1.0, 1.1, log-probabilities
averaged); "one pass" is the same model scored once at speed 1.0.

Each trains with the CLI's defaults (``rnnkit train speech`` and ``rnnkit train
transcribe`` with nothing but --data and the split), so the numbers are what a
user gets from the README's commands:

- standard: test recordings are indices 0-4 (300 files, every speaker);
- speakers: one model per speaker, trained on the other five, tested on all 500
  recordings of the held-out one;
- ctc: sequences of 2-5 digits joined from the training recordings; the digit
  error rate is measured on 500 sequences joined from the test recordings
  (indices 0-4), greedy and with prefix beam search;
- ctc-speakers: the same, trained on five speakers' recordings and tested on
  sequences joined from all recordings of the sixth.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, markdown_table, write_json  # noqa: E402

from rnnkit.tasks import speech, transcribe  # noqa: E402
from rnnkit.tasks.speech import SpeechDataConfig, train_speech_classifier  # noqa: E402
from rnnkit.tasks.transcribe import TranscribeDataConfig, train_transcriber  # noqa: E402
from rnnkit.train import TrainConfig  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd" / "recordings"
RESULTS = Path(__file__).resolve().parent / "results"
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")


def _train_config(seed: int, classifier: bool) -> TrainConfig:
    """The task's recipe (what the CLI trains with), with the seed."""
    recipe = speech.RECIPE if classifier else transcribe.RECIPE
    return TrainConfig(**{**recipe.train_defaults, "seed": seed, "progress": False})


def classify(out: Path, seed: int, reuse: bool = False, **data) -> tuple:
    """Trains with the defaults (``data`` overrides the data config: the split, --vtlp);
    returns the run, the test report (scored at the default --test-speeds), the report of
    one pass at speed 1.0, and the training minutes. ``reuse``: a run folder that finished
    training earlier is scored again instead (its minutes are NaN)."""
    start = time.perf_counter()
    if reuse and (out / "README.md").is_file():
        run = speech.load_speech_classifier(out)
        report, minutes = run.evaluate(run.split(split="test")), float("nan")
    else:
        run, counters, report = train_speech_classifier(
            out,
            SpeechDataConfig(data=str(DATA), **data),
            None,
            speech.RECIPE.default_model(),
            _train_config(seed, True),
        )
        minutes = (time.perf_counter() - start) / 60
    speeds, run.test_speeds = run.test_speeds, [1.0]
    single = run.evaluate(run.split(split="test"))
    run.test_speeds = speeds
    return run, report, single, minutes


def _overrides(args) -> dict:
    options = {} if args.vtlp is None else {"vtlp": args.vtlp}
    return {**options, "ensemble": args.ensemble}


def _members_alone(run, recordings) -> float:
    """The mean accuracy of an ensemble's members, each scored alone."""
    models, accuracies = run.members, []
    for model in models:
        run.members = [model]
        accuracies.append(run.evaluate(recordings)["accuracy"])
    run.members = models
    return statistics.mean(accuracies)


def standard(args) -> dict:
    rows = []
    for seed in args.seeds:
        _, report, single, minutes = classify(
            args.runs / f"standard-{seed}", seed, **_overrides(args)
        )
        count = sum(c["support"] for c in report["per_class"].values())
        rows.append(
            {
                "seed": seed,
                "test accuracy": report["accuracy"],
                "one pass": single["accuracy"],
                "macro-F1": report["macro_f1"],
                "errors": count - round(report["accuracy"] * count),
                "recordings": count,
                "minutes": minutes,
            }
        )
    mean = statistics.mean(r["test accuracy"] for r in rows)
    return {"rows": rows, "mean accuracy": mean, "target": "test accuracy >= 98% in <= 15 min"}


def _ensemble_accuracy(runs: list, recordings: list) -> float:
    """Accuracy of the runs' models scored together, as ``--ensemble`` scores its members
    (:meth:`SpeechRun.probabilities` averages the log-probabilities of every model and speed)."""
    ensemble, members = runs[0], runs[0].members
    ensemble.members = [model for run in runs for model in run.members]
    accuracy = ensemble.evaluate(recordings)["accuracy"]
    ensemble.members = members
    return accuracy


def speakers(args) -> dict:
    """One model per held-out speaker and seed; with several seeds, also their ensemble."""
    rows, ensembles, runs = [], [], {speaker: [] for speaker in args.speakers}
    for seed in args.seeds:  # seeds outside: the first seed's mean over the folds comes first
        for speaker in args.speakers:
            name = f"speaker-{speaker}" + (f"-{seed}" if args.seeds != [0] else "")
            run, report, single, minutes = classify(
                args.runs / name, seed, args.reuse, test_speakers=speaker, **_overrides(args)
            )
            runs[speaker].append(run)
            alone = _members_alone(run, run.split(split="test")) if args.ensemble > 1 else None
            rows.append(
                {
                    "held-out speaker": speaker,
                    "seed": seed,
                    "accuracy": report["accuracy"],
                    **({"members alone": alone} if alone is not None else {}),
                    "one pass": single["accuracy"],
                    "recordings": report["per_speaker"][speaker]["support"],
                    "minutes": minutes,
                }
            )
            print(markdown_table(rows[-1:]), flush=True)
    for speaker, members in runs.items():
        if len(members) > 1:
            accuracy = _ensemble_accuracy(members, members[0].split(split="test"))
            ensembles.append({"held-out speaker": speaker, "ensemble accuracy": accuracy})
    for seed in args.seeds:
        mine = [r for r in rows if r["seed"] == seed]
        rows.append(
            {
                "held-out speaker": "mean",
                "seed": seed,
                "accuracy": statistics.mean(r["accuracy"] for r in mine),
                **(
                    {"members alone": statistics.mean(r["members alone"] for r in mine)}
                    if args.ensemble > 1
                    else {}
                ),
                "one pass": statistics.mean(r["one pass"] for r in mine),
                "recordings": sum(r["recordings"] for r in mine),
                "minutes": max(r["minutes"] for r in mine),
            }
        )
    means = [r["accuracy"] for r in rows if r["held-out speaker"] == "mean"]
    result = {
        "rows": rows,
        "mean accuracy": statistics.mean(means),
        "target": "mean held-out-speaker accuracy >= 90%, each <= 15 min",
    }
    if ensembles:
        mean = statistics.mean(e["ensemble accuracy"] for e in ensembles)
        ensembles.append({"held-out speaker": "mean", "ensemble accuracy": mean})
        result["ensemble"] = ensembles
    return result


def ctc(args) -> dict:
    rows = []
    for seed in args.seeds:
        start = time.perf_counter()
        run, counters, beam = train_transcriber(
            args.runs / f"ctc-{seed}",
            TranscribeDataConfig(data=str(DATA)),
            train=_train_config(seed, False),
        )
        minutes = (time.perf_counter() - start) / 60
        greedy = run.evaluate(run.sequences(split="test"), beam_width=1)
        rows.append(
            {
                "seed": seed,
                "greedy DER": greedy["token_error_rate"],
                "beam-8 DER": beam["token_error_rate"],
                "sequences exact": beam["sequence_accuracy"],
                "digits": beam["tokens"],
                "sequences": beam["sequences"],
                "minutes": minutes,
            }
        )
    return {"rows": rows, "target": "digit error rate <= 5% in <= 15 min"}


def ctc_speakers(args) -> dict:
    """The transcriber trained on five speakers' sequences and tested on sequences joined from
    all recordings of the sixth (--speakers picks the folds)."""
    rows = []
    for speaker in args.speakers:
        start = time.perf_counter()
        run, counters, beam = train_transcriber(
            args.runs / f"ctc-speaker-{speaker}",
            TranscribeDataConfig(data=str(DATA), test_speakers=speaker),
            train=_train_config(args.seeds[0], False),
        )
        rows.append(
            {
                "held-out speaker": speaker,
                "beam-8 DER": beam["token_error_rate"],
                "sequences exact": beam["sequence_accuracy"],
                "digits": beam["tokens"],
                "minutes": (time.perf_counter() - start) / 60,
            }
        )
    if len(rows) > 1:
        rows.append(
            {
                "held-out speaker": "mean",
                "beam-8 DER": statistics.mean(r["beam-8 DER"] for r in rows),
                "sequences exact": statistics.mean(r["sequences exact"] for r in rows),
                "digits": sum(r["digits"] for r in rows),
                "minutes": max(r["minutes"] for r in rows),
            }
        )
    return {"rows": rows, "target": "report the speaker-independent digit error rate"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("standard", "speakers", "ctc", "ctc-speakers"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--speakers", nargs="+", default=list(SPEAKERS), choices=SPEAKERS)
    parser.add_argument("--runs", type=Path, default=Path("runs/benchmarks/speech"))
    parser.add_argument("--vtlp", type=float, help="classifier: --vtlp (default: the recipe's)")
    parser.add_argument(
        "--ensemble", type=int, default=1, help="classifier: --ensemble (models per run)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="score run folders that finished, not retrain"
    )
    parser.add_argument("--tag", default="", help="suffix of the results file's name")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"skipped: {DATA} is missing (see ../shared/data/README.md)")
    modes = {"standard": standard, "speakers": speakers, "ctc": ctc, "ctc-speakers": ctc_speakers}
    result = modes[args.what](args)
    print(markdown_table(result["rows"]))
    if "ensemble" in result:
        print(markdown_table(result["ensemble"]))
    print(f"target: {result['target']}")
    options = {key: str(value) for key, value in vars(args).items()}
    name = f"speech_{args.what}{'_' + args.tag if args.tag else ''}.json"
    write_json(RESULTS / name, {"machine": machine(), **result, "options": options})


if __name__ == "__main__":
    main()
