"""Bad input on every task, tried as a user would: each case runs ``rnnkit ...`` in this
process and is sorted into a one-line error (expected), a traceback (a defect), or a silent
acceptance (exit 0 where an error was due, a defect). Prints the table of cases per task.

    python benchmarks/bad_inputs.py

Data: slices of ../shared/data (tinyshakespeare, SST-2 dev, daily minimum temperatures,
JSB chorales, FSDD), written into a temporary folder with damaged copies.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

from benchmarks.common import machine, markdown_table, write_json  # noqa: E402
from rnnkit.cli import main as rnnkit  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
QUICK = ["--max-steps", "2", "--eval-every", "1", "--no-progress"]


def run(argv: list[str]) -> tuple[str, str]:
    """``(outcome, last line of stderr)``: outcome is error, ok or traceback."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            status = rnnkit(argv)
    except SystemExit as exit:  # argparse's usage errors
        status = exit.code
    except Exception:
        return "traceback", traceback.format_exc().strip().splitlines()[-1]
    lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
    return ("ok" if status == 0 else "error"), (lines[-1] if lines else "")


def make_data(folder: Path) -> dict:
    """Good and damaged inputs for every task."""
    files = {}
    text = DATA / "tinyshakespeare" / "input.txt"
    text = text if text.is_file() else next((DATA / "tinyshakespeare").glob("*.txt"))
    files["text"] = folder / "text.txt"
    files["text"].write_text(text.read_text()[:6000])
    sst = (DATA / "sst2" / "dev.tsv").read_text().splitlines()[:200]
    files["tsv"] = folder / "sst.tsv"
    files["tsv"].write_text("\n".join(sst) + "\n")
    files["semicolon_bom"] = folder / "sst_semicolon.csv"
    rows = [line.split("\t") for line in sst[1:]]
    files["semicolon_bom"].write_bytes(
        (
            "\ufefftext;label\r\n" + "".join(f'"{t.strip()}";{label}\r\n' for t, label in rows)
        ).encode()
    )
    temperatures = (DATA / "classic_timeseries" / "daily-min-temperatures.csv").read_text()
    files["series"] = folder / "temps.csv"
    files["series"].write_text("\n".join(temperatures.splitlines()[:600]) + "\n")
    lines = temperatures.splitlines()[:600]
    lines[300] = lines[300].split(",")[0] + ",inf"
    files["series_inf"] = folder / "temps_inf.csv"
    files["series_inf"].write_text("\n".join(lines) + "\n")
    files["rolls"] = DATA / "jsb_chorales" / "jsb-chorales-quarter.json"
    files["rolls_bad"] = folder / "rolls.json"
    files["rolls_bad"].write_text(json.dumps({"train": [[[60, 200]]]}))
    wavs = folder / "wavs"
    wavs.mkdir()
    for name in (f"{d}_{s}_{i}.wav" for d in "01" for s in ("jackson", "theo") for i in range(6)):
        shutil.copy(DATA / "fsdd" / "recordings" / name, wavs)
    files["wavs"] = wavs
    files["wav"] = wavs / "0_jackson_0.wav"
    files["wav_cut"] = folder / "cut.wav"
    files["wav_cut"].write_bytes(files["wav"].read_bytes()[:30])
    files["binary"] = folder / "binary.txt"
    files["binary"].write_bytes(bytes(range(256)) * 4)
    files["empty"] = folder / "empty.txt"
    files["empty"].write_text("")
    files["npz_nan"] = folder / "seq.npz"
    x = np.random.default_rng(0).normal(size=(20, 8, 2)).astype(np.float32)
    x[3, 2, 1] = np.nan
    np.savez(files["npz_nan"], x=x, y=np.arange(20) % 2)
    files["file_as_out"] = folder / "a_file"
    files["file_as_out"].write_text("x")
    return files


def cases(f: dict, runs: Path) -> list[tuple[str, str, list[str], str]]:
    """``(task, case, argv, expected outcome)``."""
    t = {k: str(v) for k, v in f.items()}
    lm, cl, fc = str(runs / "lm"), str(runs / "classify"), str(runs / "forecast")
    mu, sp, ct = str(runs / "music"), str(runs / "speech"), str(runs / "ctc")
    tiny_lm = ["--batch-size", "4", "--seq-len", "16", "--hidden-size", "16"]
    tiny_fc = ["--lookback", "48", "--horizon", "12", "--segment-length", "12"]
    small = ["--hidden-size", "8"]
    return [
        (
            "lm",
            "good text",
            [
                "train",
                "lm",
                "--data",
                t["text"],
                "--out",
                lm,
                *tiny_lm,
                *QUICK,
                "--sample-length",
                "0",
            ],
            "ok",
        ),
        (
            "lm",
            "--out is a file",
            ["train", "lm", "--data", t["text"], "--out", t["file_as_out"], *tiny_lm, *QUICK],
            "error",
        ),
        (
            "lm",
            "--seq-len -4",
            ["train", "lm", "--data", t["text"], "--out", lm + "2", "--seq-len", "-4"],
            "error",
        ),
        (
            "lm",
            "--learning-rate nan",
            ["train", "lm", "--data", t["text"], "--out", lm + "2", "--learning-rate", "nan"],
            "error",
        ),
        (
            "lm",
            "--dropout 1.5",
            ["train", "lm", "--data", t["text"], "--out", lm + "2", "--dropout", "1.5"],
            "error",
        ),
        (
            "lm",
            "a folder as --data",
            ["train", "lm", "--data", t["wavs"], "--out", lm + "2"],
            "error",
        ),
        (
            "lm",
            "missing --data file",
            ["train", "lm", "--data", t["text"] + ".nope", "--out", lm + "2"],
            "error",
        ),
        ("lm", "empty file", ["train", "lm", "--data", t["empty"], "--out", lm + "2"], "error"),
        ("lm", "binary file", ["train", "lm", "--data", t["binary"], "--out", lm + "2"], "error"),
        (
            "lm",
            "--resume with a new --hidden-size",
            ["train", "lm", "--data", t["text"], "--out", lm, "--resume", "--hidden-size", "32"],
            "error",
        ),
        (
            "lm",
            "--resume with a new --tokenizer",
            ["train", "lm", "--data", t["text"], "--out", lm, "--resume", "--tokenizer", "word"],
            "error",
        ),
        (
            "lm",
            "--resume of a folder never trained",
            ["train", "lm", "--data", t["text"], "--out", str(runs / "nothing"), "--resume"],
            "error",
        ),
        ("lm", "generate --length -5", ["generate", lm, "--length", "-5"], "error"),
        ("lm", "generate --top-p 2", ["generate", lm, "--top-p", "2"], "error"),
        ("lm", "generate --temperature nan", ["generate", lm, "--temperature", "nan"], "error"),
        ("lm", "predict --top-k 0", ["predict", lm, "To be", "--top-k", "0"], "error"),
        ("lm", "evaluate a binary file", ["evaluate", lm, "--data", t["binary"]], "error"),
        ("lm", "generate from a missing folder", ["generate", lm + "_missing"], "error"),
        (
            "classify",
            "good TSV",
            ["train", "classify", "--train", t["tsv"], "--out", cl, *small, *QUICK],
            "ok",
        ),
        (
            "classify",
            "BOM + ';' CSV",
            [
                "train",
                "classify",
                "--train",
                t["semicolon_bom"],
                "--out",
                cl + "_csv",
                *small,
                *QUICK,
            ],
            "ok",
        ),
        (
            "classify",
            "--out is a file",
            ["train", "classify", "--train", t["tsv"], "--out", t["file_as_out"], *QUICK],
            "error",
        ),
        (
            "classify",
            "--dev-fraction 0",
            ["train", "classify", "--train", t["tsv"], "--out", cl + "2", "--dev-fraction", "0"],
            "error",
        ),
        (
            "classify",
            "--batch-size 0",
            ["train", "classify", "--train", t["tsv"], "--out", cl + "2", "--batch-size", "0"],
            "error",
        ),
        (
            "classify",
            "binary --train",
            ["train", "classify", "--train", t["binary"], "--out", cl + "2"],
            "error",
        ),
        (
            "classify",
            "a folder as --train",
            ["train", "classify", "--train", t["wavs"], "--out", cl + "2"],
            "error",
        ),
        (
            "classify",
            "NaN in a .npz sequence",
            ["train", "classify", "--train", t["npz_nan"], "--out", cl + "2", *QUICK],
            "error",
        ),
        (
            "classify",
            "--resume with new --num-layers",
            [
                "train",
                "classify",
                "--train",
                t["tsv"],
                "--out",
                cl,
                "--resume",
                "--num-layers",
                "3",
            ],
            "error",
        ),
        (
            "classify",
            "--resume with the run's own --num-layers",
            [
                "train",
                "classify",
                "--train",
                t["tsv"],
                "--out",
                cl,
                "--resume",
                "--num-layers",
                "2",
                "--max-steps",
                "3",
                "--no-progress",
            ],
            "ok",
        ),
        (
            "classify",
            "predict with an lm-less --top-k",
            ["predict", cl, "good", "--top-k", "-1"],
            "error",
        ),
        ("classify", "evaluate an empty file", ["evaluate", cl, "--data", t["empty"]], "error"),
        (
            "forecast",
            "good CSV",
            [
                "train",
                "forecast",
                "--data",
                t["series"],
                "--out",
                fc,
                "--target",
                "Temp",
                *tiny_fc,
                *small,
                *QUICK,
            ],
            "ok",
        ),
        (
            "forecast",
            "--horizon 0",
            ["train", "forecast", "--data", t["series"], "--out", fc + "2", "--horizon", "0"],
            "error",
        ),
        (
            "forecast",
            "--lookback -1",
            ["train", "forecast", "--data", t["series"], "--out", fc + "2", "--lookback", "-1"],
            "error",
        ),
        (
            "forecast",
            "--quantiles 0.5,2",
            ["train", "forecast", "--data", t["series"], "--out", fc + "2", "--quantiles", "0.5,2"],
            "error",
        ),
        (
            "forecast",
            "inf in the series",
            [
                "train",
                "forecast",
                "--data",
                t["series_inf"],
                "--out",
                fc + "2",
                "--target",
                "Temp",
                *QUICK,
            ],
            "error",
        ),
        (
            "forecast",
            "unknown --target",
            [
                "train",
                "forecast",
                "--data",
                t["series"],
                "--out",
                fc + "2",
                "--target",
                "Rain",
                *QUICK,
            ],
            "error",
        ),
        (
            "forecast",
            "binary --data",
            ["train", "forecast", "--data", t["binary"], "--out", fc + "2", "--target", "Temp"],
            "error",
        ),
        (
            "forecast",
            "--resume with new --horizon",
            [
                "train",
                "forecast",
                "--data",
                t["series"],
                "--out",
                fc,
                "--resume",
                "--horizon",
                "24",
            ],
            "error",
        ),
        (
            "forecast",
            "forecast from an inf CSV",
            ["forecast", fc, "--data", t["series_inf"]],
            "error",
        ),
        (
            "music",
            "good rolls",
            ["train", "music", "--data", t["rolls"], "--out", mu, *small, *QUICK],
            "ok",
        ),
        (
            "music",
            "pitch 200",
            ["train", "music", "--data", t["rolls_bad"], "--out", mu + "2", *QUICK],
            "error",
        ),
        (
            "music",
            "--steps-per-quarter 0",
            ["train", "music", "--data", t["rolls"], "--out", mu + "2", "--steps-per-quarter", "0"],
            "error",
        ),
        (
            "music",
            "binary --data",
            ["train", "music", "--data", t["binary"], "--out", mu + "2"],
            "error",
        ),
        ("music", "generate --length 0", ["generate", mu, "--length", "0"], "error"),
        ("music", "generate --tempo -1", ["generate", mu, "--tempo", "-1"], "error"),
        (
            "speech",
            "good folder",
            [
                "train",
                "speech",
                "--data",
                t["wavs"],
                "--out",
                sp,
                "--test-indices",
                "0-1",
                *small,
                *QUICK,
            ],
            "ok",
        ),
        (
            "speech",
            "--speeds 0,1",
            ["train", "speech", "--data", t["wavs"], "--out", sp + "2", "--speeds", "0,1"],
            "error",
        ),
        (
            "speech",
            "--sample-rate 10",
            ["train", "speech", "--data", t["wavs"], "--out", sp + "2", "--sample-rate", "10"],
            "error",
        ),
        (
            "speech",
            "--max-frequency above Nyquist",
            ["train", "speech", "--data", t["wavs"], "--out", sp + "2", "--max-frequency", "9000"],
            "error",
        ),
        ("speech", "predict a cut WAV", ["predict", sp, t["wav_cut"]], "error"),
        ("speech", "predict a text file", ["predict", sp, t["text"]], "error"),
        (
            "speech",
            "--resume with new --features",
            [
                "train",
                "speech",
                "--data",
                t["wavs"],
                "--out",
                sp,
                "--resume",
                "--features",
                "log_mel",
            ],
            "error",
        ),
        (
            "transcribe",
            "good folder",
            [
                "train",
                "transcribe",
                "--data",
                t["wavs"],
                "--out",
                ct,
                "--test-indices",
                "0-1",
                "--epoch-sequences",
                "8",
                "--valid-sequences",
                "4",
                "--test-sequences",
                "4",
                "--num-layers",
                "1",
                *small,
                *QUICK,
            ],
            "ok",
        ),
        (
            "transcribe",
            "--min-words 3 --max-words 2",
            [
                "train",
                "transcribe",
                "--data",
                t["wavs"],
                "--out",
                ct + "2",
                "--min-words",
                "3",
                "--max-words",
                "2",
            ],
            "error",
        ),
        (
            "transcribe",
            "--beam-width 0",
            ["transcribe", ct, t["wav"], "--beam-width", "0"],
            "error",
        ),
        ("transcribe", "transcribe a cut WAV", ["transcribe", ct, t["wav_cut"]], "error"),
        (
            "lab",
            "compare --cells lstn",
            ["compare", "--cells", "lstn", "--out", str(runs / "lab")],
            "error",
        ),
        (
            "lab",
            "compare --lengths 0",
            ["compare", "--lengths", "0", "--out", str(runs / "lab")],
            "error",
        ),
    ]


def tamper(runs: Path) -> list[tuple[str, str, list[str], str]]:
    """Run folders damaged after training: weights edited, cut, config changed."""
    lm = runs / "lm"
    edited, cut, changed = (runs / name for name in ("lm_edited", "lm_cut", "lm_changed"))
    for copy in (edited, cut, changed):
        shutil.copytree(lm, copy)
    data = bytearray((edited / "model.safetensors").read_bytes())
    data[-3] ^= 0xFF
    (edited / "model.safetensors").write_bytes(bytes(data))
    (cut / "model.safetensors").write_bytes(bytes(data[: len(data) // 3]))
    config = json.loads((changed / "config.json").read_text())
    config["model"]["hidden_size"] = 24
    (changed / "config.json").write_text(json.dumps(config))
    return [
        ("run folder", "a weights byte changed", ["generate", str(edited)], "error"),
        ("run folder", "weights cut short", ["generate", str(cut)], "error"),
        ("run folder", "config.json no longer fits", ["generate", str(changed)], "error"),
        (
            "run folder",
            "resume a changed folder",
            ["train", "lm", "--out", str(edited), "--resume", "--no-progress"],
            "error",
        ),
        (
            "run folder",
            "a classifier run to generate",
            ["generate", str(runs / "classify")],
            "error",
        ),
    ]


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        files = make_data(folder)
        runs = folder / "runs"
        for task, case, argv, expected in cases(files, runs):
            rows.append(_row(task, case, expected, *run(argv)))
        for task, case, argv, expected in tamper(runs):
            rows.append(_row(task, case, expected, *run(argv)))
    print(markdown_table(rows))
    defects = [r for r in rows if r["verdict"] != "as expected"]
    print(
        f"\n{len(rows)} cases: {len(defects)} defects "
        f"({sum(r['outcome'] == 'traceback' for r in rows)} tracebacks, "
        f"{sum(r['verdict'] == 'silently accepted' for r in rows)} silent acceptances)"
    )
    write_json(RESULTS / "bad_inputs.json", {"machine": machine(), "rows": rows})
    return 1 if defects else 0


def _row(task, case, expected, outcome, line) -> dict:
    if outcome == expected:
        verdict = "as expected"
    elif outcome == "ok":
        verdict = "silently accepted"
    else:
        verdict = outcome if outcome == "traceback" else "refused a good input"
    print(f"{task}: {case}: {outcome}: {line}", file=sys.stderr)
    return {
        "task": task,
        "case": case,
        "outcome": outcome,
        "verdict": verdict,
        "message": line.replace("|", "\\|")[:160],
    }


if __name__ == "__main__":
    sys.exit(main())
