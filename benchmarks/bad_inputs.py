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
import shlex
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


QUICK = "--max-steps 2 --eval-every 1 --no-progress"
TINY_LM = "--batch-size 4 --seq-len 16 --hidden-size 16"
CASES = [
    (
        'lm',
        'good text',
        'train lm --data {text} --out {runs}/lm {tiny_lm} {quick} --sample-length 0',
        'ok',
    ),
    (
        'lm',
        '--out is a file',
        'train lm --data {text} --out {file_as_out} {tiny_lm} {quick}',
        'error',
    ),
    ('lm', '--seq-len -4', 'train lm --data {text} --out {runs}/lm2 --seq-len -4', 'error'),
    (
        'lm',
        '--learning-rate nan',
        'train lm --data {text} --out {runs}/lm2 --learning-rate nan',
        'error',
    ),
    ('lm', '--dropout 1.5', 'train lm --data {text} --out {runs}/lm2 --dropout 1.5', 'error'),
    ('lm', 'a folder as --data', 'train lm --data {wavs} --out {runs}/lm2', 'error'),
    ('lm', 'missing --data file', 'train lm --data {text}.nope --out {runs}/lm2', 'error'),
    ('lm', 'empty file', 'train lm --data {empty} --out {runs}/lm2', 'error'),
    ('lm', 'binary file', 'train lm --data {binary} --out {runs}/lm2', 'error'),
    (
        'lm',
        '--resume with a new --hidden-size',
        'train lm --data {text} --out {runs}/lm --resume --hidden-size 32',
        'error',
    ),
    (
        'lm',
        '--resume with a new --tokenizer',
        'train lm --data {text} --out {runs}/lm --resume --tokenizer word',
        'error',
    ),
    (
        'lm',
        '--resume of a folder never trained',
        'train lm --data {text} --out {runs}/nothing --resume',
        'error',
    ),
    ('lm', 'generate --length -5', 'generate {runs}/lm --length -5', 'error'),
    ('lm', 'generate --top-p 2', 'generate {runs}/lm --top-p 2', 'error'),
    ('lm', 'generate --temperature nan', 'generate {runs}/lm --temperature nan', 'error'),
    ('lm', 'predict --top-k 0', 'predict {runs}/lm "To be" --top-k 0', 'error'),
    ('lm', 'evaluate a binary file', 'evaluate {runs}/lm --data {binary}', 'error'),
    ('lm', 'generate from a missing folder', 'generate {runs}/lm_missing', 'error'),
    (
        'classify',
        'good TSV',
        'train classify --train {tsv} --out {runs}/classify --hidden-size 8 {quick}',
        'ok',
    ),
    (
        'classify',
        "BOM + ';' CSV",
        'train classify --train {semicolon_bom} --out {runs}/classify_csv --hidden-size 8 {quick}',
        'ok',
    ),
    (
        'classify',
        '--out is a file',
        'train classify --train {tsv} --out {file_as_out} {quick}',
        'error',
    ),
    (
        'classify',
        '--dev-fraction 0',
        'train classify --train {tsv} --out {runs}/classify2 --dev-fraction 0',
        'error',
    ),
    (
        'classify',
        '--batch-size 0',
        'train classify --train {tsv} --out {runs}/classify2 --batch-size 0',
        'error',
    ),
    (
        'classify',
        'binary --train',
        'train classify --train {binary} --out {runs}/classify2',
        'error',
    ),
    (
        'classify',
        'a folder as --train',
        'train classify --train {wavs} --out {runs}/classify2',
        'error',
    ),
    (
        'classify',
        'NaN in a .npz sequence',
        'train classify --train {npz_nan} --out {runs}/classify2 {quick}',
        'error',
    ),
    (
        'classify',
        '--resume with new --num-layers',
        'train classify --train {tsv} --out {runs}/classify --resume --num-layers 3',
        'error',
    ),
    (
        'classify',
        "--resume with the run's own --num-layers",
        'train classify --train {tsv} --out {runs}/classify --resume --num-layers 2 '
        '--max-steps 3 --no-progress',
        'ok',
    ),
    (
        'classify',
        'predict with an lm-less --top-k',
        'predict {runs}/classify good --top-k -1',
        'error',
    ),
    ('classify', 'evaluate an empty file', 'evaluate {runs}/classify --data {empty}', 'error'),
    (
        'forecast',
        'good CSV',
        'train forecast --data {series} --out {runs}/forecast --target Temp --lookback 48 '
        '--horizon 12 --segment-length 12 --hidden-size 8 {quick}',
        'ok',
    ),
    (
        'forecast',
        '--horizon 0',
        'train forecast --data {series} --out {runs}/forecast2 --horizon 0',
        'error',
    ),
    (
        'forecast',
        '--lookback -1',
        'train forecast --data {series} --out {runs}/forecast2 --lookback -1',
        'error',
    ),
    (
        'forecast',
        '--quantiles 0.5,2',
        'train forecast --data {series} --out {runs}/forecast2 --quantiles 0.5,2',
        'error',
    ),
    (
        'forecast',
        'inf in the series',
        'train forecast --data {series_inf} --out {runs}/forecast2 --target Temp {quick}',
        'error',
    ),
    (
        'forecast',
        'unknown --target',
        'train forecast --data {series} --out {runs}/forecast2 --target Rain {quick}',
        'error',
    ),
    (
        'forecast',
        'binary --data',
        'train forecast --data {binary} --out {runs}/forecast2 --target Temp',
        'error',
    ),
    (
        'forecast',
        '--resume with new --horizon',
        'train forecast --data {series} --out {runs}/forecast --resume --horizon 24',
        'error',
    ),
    (
        'forecast',
        'forecast from an inf CSV',
        'forecast {runs}/forecast --data {series_inf}',
        'error',
    ),
    (
        'music',
        'good rolls',
        'train music --data {rolls} --out {runs}/music --hidden-size 8 {quick}',
        'ok',
    ),
    ('music', 'pitch 200', 'train music --data {rolls_bad} --out {runs}/music2 {quick}', 'error'),
    (
        'music',
        '--steps-per-quarter 0',
        'train music --data {rolls} --out {runs}/music2 --steps-per-quarter 0',
        'error',
    ),
    ('music', 'binary --data', 'train music --data {binary} --out {runs}/music2', 'error'),
    ('music', 'generate --length 0', 'generate {runs}/music --length 0', 'error'),
    ('music', 'generate --tempo -1', 'generate {runs}/music --tempo -1', 'error'),
    (
        'speech',
        'good folder',
        'train speech --data {wavs} --out {runs}/speech --test-indices 0-1 --hidden-size 8 {quick}',
        'ok',
    ),
    (
        'speech',
        '--speeds 0,1',
        'train speech --data {wavs} --out {runs}/speech2 --speeds 0,1',
        'error',
    ),
    (
        'speech',
        '--sample-rate 10',
        'train speech --data {wavs} --out {runs}/speech2 --sample-rate 10',
        'error',
    ),
    (
        'speech',
        '--max-frequency above Nyquist',
        'train speech --data {wavs} --out {runs}/speech2 --max-frequency 9000',
        'error',
    ),
    ('speech', 'predict a cut WAV', 'predict {runs}/speech {wav_cut}', 'error'),
    ('speech', 'predict a text file', 'predict {runs}/speech {text}', 'error'),
    (
        'speech',
        '--resume with new --features',
        'train speech --data {wavs} --out {runs}/speech --resume --features log_mel',
        'error',
    ),
    (
        'transcribe',
        'good folder',
        'train transcribe --data {wavs} --out {runs}/ctc --test-indices 0-1 --epoch-sequences 8 '
        '--valid-sequences 4 --test-sequences 4 --num-layers 1 --hidden-size 8 {quick}',
        'ok',
    ),
    (
        'transcribe',
        '--min-words 3 --max-words 2',
        'train transcribe --data {wavs} --out {runs}/ctc2 --min-words 3 --max-words 2',
        'error',
    ),
    ('transcribe', '--beam-width 0', 'transcribe {runs}/ctc {wav} --beam-width 0', 'error'),
    ('transcribe', 'transcribe a cut WAV', 'transcribe {runs}/ctc {wav_cut}', 'error'),
    ('lab', 'compare --cells lstn', 'compare --cells lstn --out {runs}/lab', 'error'),
    ('lab', 'compare --lengths 0', 'compare --lengths 0 --out {runs}/lab', 'error'),
]
"""``(task, case, command, expected outcome)``: ``{name}`` is a file of :func:`make_data`,
``{runs}`` the folder of the runs the good cases train, ``{quick}`` a two-step training,
``{tiny_lm}`` a tiny language model."""


def cases(files: dict, runs: Path) -> list[tuple[str, str, list[str], str]]:
    """:data:`CASES` with their paths filled in, as argument lists."""
    paths = {**{name: str(path) for name, path in files.items()}, "runs": str(runs)}
    return [
        (
            task,
            case,
            [
                part.format(**paths)
                for part in shlex.split(
                    command.replace("{quick}", QUICK).replace("{tiny_lm}", TINY_LM)
                )
            ],
            expected,
        )
        for task, case, command, expected in CASES
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
