"""``rnnkit train forecast``, ``forecast`` and ``evaluate`` as a user runs them."""

import json

import pandas as pd
import pytest

from rnnkit.cli import main
from tests.tasks.test_forecast_task import write_hourly

TINY = [
    "--lookback",
    "48",
    "--horizon",
    "12",
    "--segment-length",
    "12",
    "--hidden-size",
    "16",
    "--batch-size",
    "32",
    "--max-steps",
    "30",
    "--eval-every",
    "10",
    "--warmup-steps",
    "5",
    "--precision",
    "fp32",
    "--no-progress",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast")
    data = write_hourly(folder / "series.csv", rows=500)
    out = folder / "run"
    assert (
        main(
            [
                "train",
                "forecast",
                "--data",
                str(data),
                "--target",
                "load,temp",
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    return out, data


def test_train_prints_the_backtest_next_to_the_baselines(trained, capsys):
    out, data = trained
    assert (out / "forecast_test.png").is_file() and (out / "error_by_horizon.png").is_file()
    assert (
        main(
            [
                "evaluate",
                str(out),
                "--data",
                str(data),
                "--plot",
                str(out / "w.png"),
                "--windows",
                "0,-1",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith(f"{data}, test rows [400, 500): 89 windows, horizon 12, season 24")
    for name in ("model", "naive", "seasonal_naive", "linear"):
        assert f"\n{name} " in printed
    assert (
        "per horizon step (every step):" in printed
        and (out / "w.png").read_bytes()[:4] == b"\x89PNG"
    )


def test_evaluate_json_has_every_step_and_the_chosen_split(trained, capsys):
    out, data = trained
    assert main(["evaluate", str(out), "--data", str(data), "--split", "valid", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "valid" and report["rows"] == [350, 400]
    assert len(report["models"]["linear"]["per_step"]["mase"]) == 12


def test_forecast_writes_a_csv_and_a_plot(trained, capsys, tmp_path):
    out, data = trained
    target = tmp_path / "forecast.csv"
    assert (
        main(
            [
                "forecast",
                str(out),
                "--data",
                str(data),
                "--out",
                str(target),
                "--plot",
                str(tmp_path / "f.png"),
            ]
        )
        == 0
    )
    table = pd.read_csv(target)
    assert list(table.columns) == ["time", "load", "temp"] and len(table) == 12
    assert table["time"].iloc[0] == "2021-01-21 20:00:00"
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_errors_are_one_line(trained, capsys, tmp_path):
    out, _ = trained
    broken = tmp_path / "broken.csv"
    broken.write_text("date,load,temp\n2021-01-01 00:00:00,1,2\n2021-01-01 01:00:00,x,2\n")
    assert main(["forecast", str(out), "--data", str(broken)]) == 2
    assert (
        capsys.readouterr().err
        == f"rnnkit: error: {broken} line 3, column 'load': expected a finite number, found 'x'\n"
    )
    assert (
        main(
            [
                "evaluate",
                str(out),
                "--data",
                str(trained[1]),
                "--plot",
                str(tmp_path / "w.png"),
                "--windows",
                "89",
            ]
        )
        == 2
    )
    assert (
        capsys.readouterr().err
        == "rnnkit: error: window 89 does not exist: the backtest has 89 windows (0 to 88)\n"
    )
    assert (
        main(
            [
                "train",
                "forecast",
                "--data",
                str(broken),
                "--target",
                "nope",
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 2
    )
    assert capsys.readouterr().err.endswith(
        f"rnnkit: error: {broken}: no target column 'nope'; the columns are date, load, temp\n"
    )
