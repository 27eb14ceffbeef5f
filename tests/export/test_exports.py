"""Export folders against their run folders: the same answers from onnxruntime as from torch,
through the Python API and through the command line, and the command line without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.cli import main
from rnnkit.errors import DataError, RunFolderError
from rnnkit.runtime import open_export
from rnnkit.tasks.loading import load_run

from tests.conftest import SHARED_DATA, assert_same_labels

PROBABILITY_TOLERANCE = 1e-5
"""onnxruntime and torch (oneDNN) sum the same float32 products in different orders: measured
differences are below 1e-6 after a few layers and steps (tests/export/test_parity.py). 1e-5
leaves ten times that, and a wrong gate order, bias or mask shows at 1e-2 and above."""


def test_export_json_describes_each_graph(runs, exports):
    for name, folder in exports.items():
        description = json.loads((folder / "export.json").read_text())
        assert description["format"] == "rnnkit-export/1"
        assert (folder / description["graph"]["file"]).is_file()
        inputs = [entry["name"] for entry in description["graph"]["inputs"]]
        outputs = [entry["name"] for entry in description["graph"]["outputs"]]
        expected = {
            "lm": (["inputs", "h0", "c0"], ["logits", "hn", "cn"]),
            "word_lm": (["inputs", "h0", "c0"], ["logits", "hn", "cn"]),
            "classify": (["inputs", "lengths"], ["probabilities"]),
            "speech": (["inputs", "lengths"], ["probabilities"]),
            "transcribe": (["stacked", "lengths"], ["log_probs"]),
            "forecast": (["history"], ["forecast"]),
            "music": (["inputs", "h0", "c0", "frame"], ["logits", "hn", "cn"]),  # made output
        }[name]
        assert (inputs, outputs) == expected, name
        assert description["run"] == json.loads((runs[name] / "config.json").read_text())


@pytest.mark.parametrize("name", ["lm", "word_lm"])
def test_language_model_next_tokens_and_seeded_text_match_torch(runs, exports, name):
    run, export = load_run(runs[name], device="cpu"), open_export(exports[name])
    prompt = "ROMEO:" if name == "lm" else "the company said"
    torch_ranked, onnx_ranked = run.next_tokens(prompt, 8), export.next_tokens(prompt, 8)
    assert [t for t, _ in torch_ranked] == [t for t, _ in onnx_ranked]
    assert np.allclose([p for _, p in torch_ranked], [p for _, p in onnx_ranked], atol=1e-6)
    # Seeded draws compared exactly: see test_commands_print_the_same_for_a_run_and_its_export
    # for why probabilities equal to 1e-6 give the same draws but for a chance of about 1e-6
    # per draw (300 draws here).
    for options in (
        dict(temperature=1.0, seed=1),
        dict(temperature=0.7, top_k=5, seed=2),
        dict(temperature=1.3, top_p=0.9, seed=3),
        dict(temperature=0.0),
        dict(temperature=0.8, seed=4, num_samples=3),
    ):
        assert run.generate(prompt, 60, **options) == export.generate(prompt, 60, **options)


def test_classifier_labels_and_probabilities_match_torch(runs, exports):
    run, export = load_run(runs["classify"], device="cpu"), open_export(exports["classify"])
    lines = (SHARED_DATA / "sst2" / "dev.tsv").read_text().splitlines()[1:201]
    texts = [line.split("\t")[0] for line in lines] + ["!", "zzzz unknownword"]
    torch_rows, onnx_rows = run.predict(texts), export.predict(texts)
    assert_same_labels(torch_rows, onnx_rows, PROBABILITY_TOLERANCE)
    for model in (run, export):  # an empty text is refused the same way by both
        with pytest.raises(DataError, match=r"^input 1 is empty \(' '\); give a text to classify$"):
            model.predict(["a film", " "])


def test_speech_classifier_matches_torch_on_unseen_recordings(runs, exports):
    run, export = load_run(runs["speech"], device="cpu"), open_export(exports["speech"])
    recordings = sorted((SHARED_DATA / "fsdd" / "recordings").glob("*_yweweler_4*.wav"))[:12]
    torch_rows, onnx_rows = run.predict(recordings), export.predict(recordings)
    # The features differ too: numpy's FFT in float64 against torch's in float32 (see
    # tests/data/test_spectra.py), so the bound is 1e-4 rather than 1e-5.
    assert_same_labels(torch_rows, onnx_rows, 1e-4)


def test_transcripts_match_torch(runs, exports):
    run, export = load_run(runs["transcribe"], device="cpu"), open_export(exports["transcribe"])
    recordings = sorted((SHARED_DATA / "fsdd" / "recordings").glob("*_george_1*.wav"))[:10]
    for width in (1, 4):
        torch_rows = run.transcribe(recordings, beam_width=width)
        onnx_rows = export.transcribe(recordings, beam_width=width)
        assert [r["text"] for r in torch_rows] == [r["text"] for r in onnx_rows]
        if width > 1:
            assert np.allclose(
                [r["log_probability"] for r in torch_rows],
                [r["log_probability"] for r in onnx_rows],
                atol=1e-3,
            )


def test_forecast_table_matches_torch(runs, exports):
    run, export = load_run(runs["forecast"], device="cpu"), open_export(exports["forecast"])
    data = SHARED_DATA / "ett" / "ETTh1.csv"
    ours, theirs = export.forecast(data), run.forecast(data)
    assert list(ours.columns) == list(theirs.columns) and len(ours) == 12
    assert (ours["time"] == theirs["time"]).all()
    scale = np.abs(theirs["OT"].to_numpy()).max()
    assert np.abs(ours["OT"].to_numpy() - theirs["OT"].to_numpy()).max() < 1e-5 * scale


def test_seeded_music_matches_torch(runs, exports):
    run, export = load_run(runs["music"], device="cpu"), open_export(exports["music"])
    prime = (np.random.default_rng(0).random((6, run.model.config.keys)) < 0.05).astype(np.float32)
    # Seeded draws compared exactly, as for text: the two backends' key probabilities agree to
    # 1e-6 (tests/export/test_parity.py), so a draw differs by a chance of about 1e-6.
    for options in (dict(seed=1), dict(seed=2, temperature=0.7)):
        assert np.array_equal(
            run.generate(40, prime, **options), export.generate(40, prime, **options)
        )
    assert np.array_equal(run.generate(10, None, seed=3), export.generate(10, None, seed=3))


def _output(capsys, argv) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "name,argv",
    [
        ("lm", ["generate", "{}", "--prompt", "KING:", "--length", "80", "--seed", "7"]),
        (
            "word_lm",
            [
                "generate",
                "{}",
                "--prompt",
                "the",
                "--length",
                "30",
                "--top-k",
                "10",
                "--seed",
                "3",
                "--num-samples",
                "2",
            ],
        ),
    ],
)
def test_commands_print_the_same_for_a_run_and_its_export(runs, exports, capsys, name, argv):
    """Seeded text, compared exactly. The two backends' next-token probabilities agree to 1e-6
    (the test above); a seeded draw from them differs only when its uniform number falls
    between the two cumulative sums at some token, a chance below 1e-6 per draw here, so
    about 1e-4 for the 110 draws of this test. A wrong state, seed or sampler shows at once."""
    on_run = _output(capsys, [word.format(runs[name]) for word in argv])
    on_export = _output(capsys, [word.format(exports[name]) for word in argv])
    assert on_run == on_export


@pytest.mark.parametrize(
    "name,argv",
    [
        ("word_lm", ["predict", "{}", "the new york stock", "--top-k", "5", "--json"]),
        ("classify", ["predict", "{}", "a gorgeous , witty film", "dull and lifeless", "--json"]),
    ],
)
def test_predict_commands_answer_the_same_for_a_run_and_its_export(
    runs, exports, capsys, name, argv
):
    """As JSON, compared to the backends' float32 tolerance: the printed text rounds the
    probabilities to 4 decimals, and numbers that agree to 1e-6 still round apart now and
    then."""
    on_run, on_export = (
        list(map(json.loads, _output(capsys, [w.format(f[name]) for w in argv]).splitlines()))
        for f in (runs, exports)
    )
    assert [row["input"] for row in on_run] == [row["input"] for row in on_export]
    if name == "classify":
        assert_same_labels(on_run, on_export, PROBABILITY_TOLERANCE)
        return
    for a, b in zip(on_run, on_export):
        assert [n["probability"] for n in a["next"]] == pytest.approx(
            [n["probability"] for n in b["next"]], abs=PROBABILITY_TOLERANCE
        )
        # the same words with the same probabilities; only the last of the five may differ,
        # if a sixth word ties with it
        ours, theirs = ({n["token"]: n["probability"] for n in row["next"]} for row in (a, b))
        common = ours.keys() & theirs.keys()
        assert len(common) >= 4 and all(
            abs(ours[t] - theirs[t]) <= PROBABILITY_TOLERANCE for t in common
        )


def test_music_commands_write_the_same_midi_for_a_run_and_its_export(runs, exports, tmp_path):
    for name in ("run", "export"):
        folder = runs["music"] if name == "run" else exports["music"]
        argv = [
            "generate",
            str(folder),
            "--length",
            "24",
            "--seed",
            "5",
            "--out",
            str(tmp_path / f"{name}.mid"),
        ]
        assert main(argv) == 0
    # The same seeded draws as test_seeded_music_matches_torch, written by the same code.
    assert (tmp_path / "run.mid").read_bytes() == (tmp_path / "export.mid").read_bytes()


def test_the_export_commands_run_where_torch_cannot_be_imported(runs, exports, tmp_path, capsys):
    """A ``torch`` package that raises on import comes first on the path: the command works
    from start-up to output, and prints what the run folder prints (run in this process)."""
    blocker = tmp_path / "blocker" / "torch"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('torch is blocked in this test')\n")
    blocked_environment = {**os.environ, "PYTHONPATH": f"{blocker.parent}{os.pathsep}{Path.cwd()}"}

    def rnnkit(argv, blocked: bool) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "rnnkit", *argv],
            capture_output=True,
            text=True,
            env=blocked_environment if blocked else None,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done

    wav = next((SHARED_DATA / "fsdd" / "recordings").glob("3_lucas_4*.wav"))
    for name, argv, key in [
        ("lm", ["generate", "{}", "--length", "50", "--seed", "1"], None),
        ("word_lm", ["predict", "{}", "the market", "--json"], "next"),
        ("classify", ["predict", "{}", "a fine film", "--json"], "label"),
        ("speech", ["predict", "{}", str(wav), "--json"], "label"),
        ("transcribe", ["transcribe", "{}", str(wav), "--json"], "text"),
    ]:
        ours = rnnkit([word.format(exports[name]) for word in argv], blocked=True).stdout
        theirs = _output(capsys, [word.format(runs[name]) for word in argv])
        if key is None:  # seeded text: the same draws but for a chance of about 1e-6 a draw
            assert ours == theirs
        elif key == "next":
            ours_next, theirs_next = json.loads(ours)[key], json.loads(theirs)[key]
            assert [n["probability"] for n in ours_next] == pytest.approx(
                [n["probability"] for n in theirs_next], abs=PROBABILITY_TOLERANCE
            )
        elif key == "label":  # the features differ to 1e-4 for speech (numpy against torch)
            assert_same_labels([json.loads(ours)], [json.loads(theirs)], 1e-4)
        else:
            assert json.loads(ours)[key] == json.loads(theirs)[key]
    data = SHARED_DATA / "ett" / "ETTh1.csv"
    table = tmp_path / "forecast.csv"
    rnnkit(["forecast", str(exports["forecast"]), "--data", str(data), "--out", str(table)], True)
    expected = load_run(runs["forecast"], device="cpu").forecast(data)["OT"].to_numpy()
    written = pd.read_csv(table)["OT"].to_numpy()
    assert np.abs(written - expected).max() < 1e-5 * np.abs(expected).max()
    failed = subprocess.run(
        [sys.executable, "-m", "rnnkit", "generate", str(runs["lm"]), "--length", "5"],
        capture_output=True,
        text=True,
        env=blocked_environment,
        timeout=120,
    )
    assert failed.returncode != 0 and "torch is blocked" in failed.stderr


def test_load_returns_the_right_object_for_any_folder(runs, exports):
    import rnnkit
    from rnnkit import runtime
    from rnnkit.tasks import classifier, forecast_run, language_model, music, speech, transcribe

    expected = {
        "lm": (language_model.LanguageModelRun, runtime.text.ExportedLanguageModel),
        "classify": (classifier.ClassifierRun, runtime.classify.ExportedClassifier),
        "forecast": (forecast_run.ForecastRun, runtime.forecast.ExportedForecaster),
        "music": (music.MusicRun, runtime.music.ExportedMusicModel),
        "speech": (speech.SpeechRun, runtime.classify.ExportedSpeechClassifier),
        "transcribe": (transcribe.TranscriberRun, runtime.transcribe.ExportedTranscriber),
    }
    for name, (run_class, export_class) in expected.items():
        assert type(rnnkit.load(runs[name], device="cpu")) is run_class
        assert type(rnnkit.load(exports[name])) is export_class


def test_run_and_export_folders_carry_a_model_card(runs, exports):
    for name in runs:
        config = json.loads((runs[name] / "config.json").read_text())
        rows = [
            json.loads(line) for line in (runs[name] / "metrics.jsonl").read_text().splitlines()
        ]
        key = f"val_{config['train']['select_by']}"
        scores = [row[key] for row in rows if key in row]
        best = min(scores) if key == "val_loss" else max(scores)
        for folder, kind in ((runs[name], "run folder"), (exports[name], "export folder")):
            card = (folder / "README.md").read_text()
            assert card.startswith(f"# {folder.name}: ") and f"rnnkit 0.1.0 {kind}" in card
            assert f"| {key} | {best:.6g} |" in card, (name, kind)
            assert "## Use" in card and str(folder) in card


def test_damaged_export_folders_get_one_line_errors(exports, runs, tmp_path, capsys):
    import shutil

    folder = tmp_path / "damaged"
    shutil.copytree(exports["classify"], folder)
    description = folder / "export.json"
    cases = [
        (lambda: description.write_text("{cut"), f"{description}: unreadable ("),
        (
            lambda: description.write_text('{"format": "other/9"}'),
            f"{description}: format must be 'rnnkit-export/1'; found 'other/9'",
        ),
    ]
    for damage, expected in cases:
        damage()
        with pytest.raises(RunFolderError) as error:
            open_export(folder)
        assert str(error.value).startswith(expected)
    shutil.copy(exports["classify"] / "export.json", description)
    (folder / "model.onnx").write_bytes(b"not a model")
    assert main(["predict", str(folder), "a film"]) == 2
    assert capsys.readouterr().err.startswith(
        f"rnnkit: error: {folder / 'model.onnx'}: cannot be loaded by onnxruntime ("
    )
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    assert main(["export", str(runs["classify"]), "--out", str(taken)]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: {taken}: exists and is not an export folder; give --out a new or "
        "empty folder\n"
    )
    assert (taken / "notes.txt").read_text() == "mine"
    # An export folder is replaced whole by a new export.
    assert main(["export", str(runs["classify"]), "--out", str(folder)]) == 0
    replaced = open_export(folder).predict(["a film"])
    assert replaced == open_export(exports["classify"]).predict(["a film"])
