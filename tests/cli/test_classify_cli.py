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


def test_three_class_tweets_with_the_social_normaliser(shared_data, tmp_path, capsys):
    """TweetEval's three classes: the normaliser is saved in the run, and predict, evaluate
    (with macro recall) and the export all read tweets through it."""
    source = shared_data / "tweeteval_sentiment"
    lines = (source / "valid.tsv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "train.tsv").write_text("\n".join(lines[:301]) + "\n", encoding="utf-8")
    (tmp_path / "dev.tsv").write_text("\n".join([lines[0], *lines[301:401]]) + "\n", "utf-8")
    out = tmp_path / "run"
    argv = ["train", "classify", "--train", str(tmp_path / "train.tsv"), "--out", str(out)]
    flags = ["--dev", str(tmp_path / "dev.tsv"), "--text-normalizer", "social", "--max-steps", "4"]
    small = ["--hidden-size", "8", "--embedding-size", "8", "--no-progress", "--precision", "fp32"]
    assert main([*argv, *flags, *small, "--select-by", "macro_recall", "--calibrate"]) == 0
    config = json.loads((out / "config.json").read_text())
    # --calibrate: a temperature fitted on the dev set, saved, and the dev set's calibration
    # error no worse after it (it minimises the dev set's NLL, which ECE follows loosely)
    calibration = config["calibration"]
    assert 0.05 <= calibration["temperature"] <= 20 and calibration["temperature"] != 1.0
    assert calibration["dev_ece_after"] <= calibration["dev_ece_before"] + 0.02
    assert config["data"]["labels"] == ["negative", "neutral", "positive"]
    assert config["data"]["text_encoder"]["tokenizer"]["normalizer"] == "social"
    assert config["train"]["select_by"] == "macro_recall"
    capsys.readouterr()
    tweets = ["@user I LOVE this sooo much :) #BestDay", "ugh :( never again http://t.co/x"]
    assert main(["predict", str(out), *tweets, "--json"]) == 0
    ours = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [set(row["probabilities"]) for row in ours] == [set(config["data"]["labels"])] * 2
    assert main(["evaluate", str(out), "--data", str(tmp_path / "dev.tsv"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 <= report["macro_recall"] <= 1 and len(report["per_class"]) == 3
    assert 0 <= report["ece"] <= 1
    pytest.importorskip("onnxruntime", reason="the onnx extra")
    from rnnkit.runtime import open_export
    from tests.conftest import assert_same_labels

    assert main(["export", str(out), "--out", str(tmp_path / "export")]) == 0
    # the export applies the same temperature: the same probabilities
    assert_same_labels(open_export(tmp_path / "export").predict(tweets), ours, 1e-5)
    from rnnkit.tasks.classifier import load_classifier

    run = load_classifier(out, device="cpu")
    run.config.pop("calibration")  # uncalibrated, the probabilities differ
    raw = run.predict(tweets)
    assert max(abs(a["probabilities"][k] - b["probabilities"][k])
               for a, b in zip(raw, ours) for k in a["probabilities"]) > 1e-4
