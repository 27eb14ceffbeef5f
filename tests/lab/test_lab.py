"""The lab: problems as trainer tasks, parameter budgets, gradient diagnostics, compare and
diagnose."""

import json

import pytest
import torch

from rnnkit.cli import main
from rnnkit.errors import ConfigError
from rnnkit.lab import gradients
from rnnkit.lab.compare import CompareConfig, compare, matched_width, parameter_count
from rnnkit.lab.diagnose import DiagnoseConfig, diagnose_cells, diagnose_run
from rnnkit.lab.problems import ProblemModel, ProblemModelConfig, ProblemTask


def test_batches_are_reproducible_by_index():
    task = ProblemTask("adding", 20, 8, seed=3, device=torch.device("cpu"), validation_size=10)
    first, again = (
        task.batches(0)[5],
        ProblemTask("adding", 20, 8, 3, torch.device("cpu")).batches(0)[5],
    )
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(task.batches(0)[6][0], first[0]) and not torch.equal(
        task.batches(1)[5][0], first[0]
    )


def test_equal_parameter_budgets():
    budget = parameter_count(ProblemModel(ProblemModelConfig("adding", "lstm", 64)))
    widths = {}
    for cell in ("rnn", "gru", "mingru"):
        widths[cell] = matched_width(
            lambda w: ProblemModel(ProblemModelConfig("adding", cell, w)), budget
        )
        count = parameter_count(ProblemModel(ProblemModelConfig("adding", cell, widths[cell])))
        assert abs(count - budget) / budget < 0.03, cell
    assert widths["rnn"] > widths["gru"] > 64


def test_rnn_gradient_vanishes_where_chrono_lstm_keeps_it():
    torch.manual_seed(0)
    rnn = ProblemModel(ProblemModelConfig("adding", "rnn", 64))
    lstm = ProblemModel(ProblemModelConfig("adding", "lstm", 64, "chrono", 200))
    rnn_norms = gradients.gradient_by_distance(rnn, "adding", 200)
    lstm_norms = gradients.gradient_by_distance(lstm, "adding", 200)
    assert rnn_norms.shape == (200,)
    assert gradients.decay_per_100_steps(rnn_norms) > 1e6
    assert gradients.decay_per_100_steps(lstm_norms) < 100


def test_lstm_learns_the_adding_problem_at_a_short_length(tmp_path):
    config = CompareConfig(
        task="adding",
        cells="lstm",
        lengths="10",
        steps=400,
        batch_size=32,
        hidden_size=32,
        learning_rate=1e-2,
        precision="fp32",  # the same arithmetic on every CPU (auto is bf16 on some)
    )
    rows = compare(config, tmp_path, log=lambda message: None)
    assert rows[0]["metric"] < 0.05 < rows[0]["baseline"]  # the baseline is 0.167
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "compare.md",
        "compare.csv",
        "compare.json",
        "compare.png",
        "gradients_T10.png",
        "grad_norms_T10.png",
        "runs",
    } <= names
    saved = json.loads((tmp_path / "compare.json").read_text())
    assert (
        saved["table"][0]["cell"] == "lstm"
        and saved["table"][0]["parameters"] == rows[0]["parameters"]
    )
    assert (
        (tmp_path / "compare.md")
        .read_text()
        .startswith("| T | cell | hidden | parameters | s/1k steps |")
    )
    decay = diagnose_run(tmp_path / "runs" / "adding-T10-lstm-seed0", log=lambda message: None)
    assert set(decay) == {"trained", "fresh"}
    assert (tmp_path / "runs" / "adding-T10-lstm-seed0" / "gradients.png").is_file()


def test_diagnose_fresh_cells_with_and_without_clipping(tmp_path):
    config = DiagnoseConfig(cells="rnn,gru", length=30, hidden_size=16, steps=20)
    decay = diagnose_cells(config, tmp_path, log=lambda message: None)
    assert set(decay) == {"rnn", "gru"}
    saved = json.loads((tmp_path / "diagnose.json").read_text())
    assert set(saved["grad_norms"]) == {
        "rnn, clip 1",
        "rnn, no clipping",
        "gru, clip 1",
        "gru, no clipping",
    }
    assert all(len(steps) == 20 for steps, _ in saved["grad_norms"].values())
    assert (tmp_path / "grad_norms.png").is_file() and (
        tmp_path / "gradients_at_init.png"
    ).is_file()


def test_cli_compare_and_errors(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                "--task",
                "copy",
                "--cells",
                "gru,mingru",
                "--lengths",
                "5",
                "--steps",
                "10",
                "--hidden-size",
                "16",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "copy, T = 5" in printed and "mingru" in printed
    assert main(["compare", "--task", "sorting", "--out", str(out)]) == 2
    assert (
        capsys.readouterr().err
        == "rnnkit: error: --task must be one of 'adding', 'copy', 'lm', 'music'; got 'sorting'\n"
    )
    assert main(["diagnose", str(tmp_path)]) == 2
    assert "config.json: no such file" in capsys.readouterr().err


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    assert "rnnkit compare --task adding " in capsys.readouterr().out


def test_compare_and_diagnose_write_to_a_default_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "compare",
                "--task",
                "copy",
                "--cells",
                "gru",
                "--lengths",
                "5",
                "--steps",
                "4",
                "--hidden-size",
                "8",
                "--batch-size",
                "4",
            ]
        )
        == 0
    )
    assert (tmp_path / "runs" / "compare-copy" / "compare.md").is_file()
    assert "wrote the comparison to runs/compare-copy" in capsys.readouterr().out
    assert (
        main(["diagnose", "--cells", "gru", "--length", "10", "--hidden-size", "8", "--steps", "3"])
        == 0
    )
    assert "wrote the diagnostics to runs/diagnose" in capsys.readouterr().out
    assert any((tmp_path / "runs" / "diagnose").glob("*.png"))


def test_compare_language_models_under_one_time_budget(tmp_path):
    from rnnkit.data import BUNDLED_CORPUS

    text = tmp_path / "small.txt"
    text.write_text(BUNDLED_CORPUS.read_text()[:60000])
    config = CompareConfig(
        task="lm",
        cells="lstm,mingru",
        hidden_size=32,
        # a step count, not the wall clock, ends each run: the same training on every machine;
        # the budget is only a backstop (the two runs take about 10 s together)
        steps=150,
        time_budget=600.0,
        batch_size=8,
        data=str(text),
        precision="fp32",
    )
    rows = compare(config, tmp_path / "cmp", log=lambda message: None)
    assert [r["cell"] for r in rows] == ["lstm", "mingru"]
    assert abs(rows[0]["parameters"] - rows[1]["parameters"]) / rows[0]["parameters"] < 0.03
    # 150 steps take both cells below the unigram baseline's loss (3.20): measured 2.95 and
    # 2.69 in fp32; 40 steps, still warming up, leave them above it (4.04 and 3.85)
    assert all(r["metric"] < r["baseline"] - 0.1 and r["solved"] == "-" for r in rows), rows
    assert (tmp_path / "cmp" / "compare.png").is_file()


def test_decay_of_a_vanished_gradient_is_huge_but_finite():
    import math

    import numpy as np

    vanished = gradients.decay_per_100_steps(np.array([1.0] * 12 + [0.0] * 88))
    assert vanished > 1e300 and math.isfinite(vanished)
    assert gradients.decay_per_100_steps(np.ones(50)) == 1.0
    assert abs(gradients.decay_per_100_steps(0.5 ** np.arange(300.0)) - 2.0**100) / 2.0**100 < 1e-9


def test_default_steps_grow_with_the_length_and_an_explicit_count_wins():
    default = CompareConfig()
    assert [default.steps_for(t) for t in (100, 200, 400, 600)] == [1000, 1000, 2000, 3000]
    fixed = CompareConfig(steps=1500)
    assert [fixed.steps_for(t) for t in (100, 600)] == [1500, 1500]
    with pytest.raises(ConfigError, match="steps"):
        CompareConfig(steps=0)
