"""``rnnkit train classify``, ``predict`` and ``evaluate`` as a user runs them."""

import json

import pytest

from rnnkit.cli import main
from tests.tasks.test_classifier_task import _write_reviews

TINY = [
    "--embedding-size",
    "16",
    "--hidden-size",
    "16",
    "--dropout",
    "0.1",
    "--embedding-dropout",
    "0.1",
    "--batch-size",
    "16",
    "--learning-rate",
    "0.01",
    "--max-steps",
    "150",
    "--warmup-steps",
    "5",
    "--eval-every",
    "20",
    "--no-progress",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify")
    train = _write_reviews(folder / "train.tsv", 400, 0)
    dev = _write_reviews(folder / "dev.tsv", 60, 1)
    out = folder / "run"
    assert (
        main(
            [
                "train",
                "classify",
                "--train",
                str(train),
                "--dev",
                str(dev),
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    return out, dev


def test_train_prints_the_validation_report(trained, capsys):
    out, dev = trained
    assert (out / "confusion_dev.png").is_file() and (out / "model.safetensors").is_file()
    assert main(["evaluate", str(out), "--data", str(dev), "--plot", str(out / "cm.png")]) == 0
    printed = capsys.readouterr().out
    assert (
        printed.startswith(f"{dev}: accuracy ")
        and "confusion matrix (rows: true label, columns: predicted):" in printed
    )
    assert (out / "cm.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_texts_and_files(trained, capsys, tmp_path):
    out, _ = trained
    assert main(["predict", str(out), "a great film", "dull and flat", "--json"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in results] == ["pos", "neg"] and results[0]["input"] == "a great film"
    assert abs(sum(results[0]["probabilities"].values()) - 1) < 1e-6
    texts = tmp_path / "texts.txt"
    texts.write_text("superb acting\n\nawful plot\n")
    assert main(["predict", str(out), "--input", str(texts)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["pos", "neg"] and lines[1].endswith(
        "\tawful plot"
    )


def test_evaluate_json_matches_the_report(trained, capsys):
    out, dev = trained
    assert main(["evaluate", str(out), "--data", str(dev), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {
        "accuracy",
        "macro_f1",
        "per_class",
        "confusion_matrix",
        "labels",
        "loss",
    }
    assert report["labels"] == ["neg", "pos"] and sum(map(sum, report["confusion_matrix"])) == 60
    # macro recall (TweetEval's score): the mean of the per-class recalls
    recalls = [report["per_class"][label]["recall"] for label in report["labels"]]
    assert report["macro_recall"] == pytest.approx(sum(recalls) / 2, abs=1e-12)


def test_errors_are_one_line(trained, capsys, tmp_path):
    out, _ = trained
    bad = tmp_path / "bad.csv"
    bad.write_text("body,label\nfine,pos\n")
    assert (
        main(["train", "classify", "--train", str(bad), "--out", str(tmp_path / "x"), *TINY]) == 2
    )
    assert capsys.readouterr().err == (
        f"rnnkit: error: {bad}: no text column; expected one of text, sentence, "
        "review, content, found body, label (choose one with --text-column)\n"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\ngood,pos\n,neg\n")
    assert main(["evaluate", str(out), "--data", str(empty)]) == 2
    assert (
        capsys.readouterr().err == f"rnnkit: error: {empty}: line 3: the text ('text') is empty\n"
    )
    assert main(["predict", str(out)]) == 2
    assert (
        capsys.readouterr().err
        == "rnnkit: error: give texts to classify or --input FILE (one of the two)\n"
    )


def test_help_lists_examples(capsys):
    with pytest.raises(SystemExit):
        main(["train", "classify", "--help"])
    text = capsys.readouterr().out
    assert "--pooling" in text and "--embeddings" in text and "rnnkit predict runs/sst2" in text
