"""``rnnkit train forecast``, ``rnnkit forecast`` and the forecaster's part of ``evaluate``."""

from __future__ import annotations

import json

import pandas as pd

from rnnkit.cli import using
from rnnkit.cli.flags import add_forecast_flags
from rnnkit.cli.arguments import (
    FORMATTER,
    add_train_task,
    build_config,
    interrupted,
    train_config,
)
from rnnkit.io import parse_list
from rnnkit.tasks import forecast as task
from rnnkit.tasks.forecast_data import RECIPE, ForecastDataConfig
from rnnkit.tasks.forecast_run import load_forecaster
from rnnkit.train import TrainConfig

EXAMPLES = """examples:
  rnnkit train forecast --data ETTh1.csv --target HUFL,HULL,MUFL,MULL,LUFL,LULL,OT --split ett \\
      --lookback 720 --horizon 96 --segment-length 48 --hidden-size 512 --out runs/etth1
  rnnkit train forecast --data airline-passengers.csv --target Passengers \\
      --split 0.75,0.083,0.167 --lookback 36 --horizon 12 --architecture direct --cell lstm \\
      --quantiles 0.1,0.5,0.9 --out runs/airline
  rnnkit forecast runs/airline --data airline-passengers.csv --out forecast.csv --plot forecast.png
  rnnkit evaluate runs/etth1 --data ETTh1.csv --plot windows.png --json
"""

SHOWN_METRICS = ("mae", "mse", "rmse", "smape", "mase", "scaled_mse", "scaled_mae")


def add_train_parser(tasks) -> None:
    add_train_task(
        tasks,
        RECIPE,
        "multi-step forecaster for CSV time series",
        EXAMPLES,
        [
            ("data", ForecastDataConfig, ()),
            ("model", RECIPE.model_config, ("targets", "past_covariates", "future_covariates")),
            ("training", TrainConfig, ()),
        ],
        train,
    )


def add_shared_arguments(command: str, parser) -> None:
    """The forecaster's flags of the shared commands."""
    if command == "evaluate":
        parser.add_argument_group("forecasters").add_argument(
            "--windows",
            help="backtest windows to plot, comma-separated indices "
            "(negative from the end; default: first, middle, last)",
        )


def add_forecast_parser(commands) -> None:
    parser = commands.add_parser(
        "forecast",
        help="forecast the steps after the end of a series",
        epilog=EXAMPLES,
        formatter_class=FORMATTER,
    )
    parser.add_argument("run", help="run folder written by 'rnnkit train forecast'")
    add_forecast_flags(parser)
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.set_defaults(handler=forecast)


def train(args) -> int:
    config = train_config(args, RECIPE)
    data = build_config(ForecastDataConfig, args, role="data")
    model = build_config(RECIPE.model_config, args, RECIPE.model_defaults, "model")
    run, counters = task.train_forecaster(args.out, data, model, config, resume=args.resume)
    report = run.backtest(
        run.data.data,
        plot=run.folder.file("forecast_test.png"),
        plot_errors=run.folder.file("error_by_horizon.png"),
    )
    print_report(report, f"backtest on the test rows {_rows(report)} ({counters.stopped_because})")
    print(
        f"plots: {run.folder.file('forecast_test.png')}, {run.folder.file('error_by_horizon.png')}"
    )
    if interrupted(counters, "forecast", args.out):
        return 130
    return 0


def _rows(report: dict) -> str:
    start, end = report["rows"]
    return f"[{start}, {end})"


def print_report(report: dict, title: str) -> None:
    print(
        f"{title}: {report['windows']} windows, horizon {report['horizon']}, season "
        f"{report['season']}"
    )
    overall = pd.DataFrame({name: model["overall"] for name, model in report["models"].items()}).T
    print(overall[list(SHOWN_METRICS)].to_string(float_format=lambda x: f"{x:.4f}"))
    horizon = report["horizon"]
    steps = (
        list(range(1, horizon + 1))
        if horizon <= 24
        else sorted(
            {1, 2, 3, *[s for s in (6, 12, 24, 48, 96, 192, 336, 720) if s <= horizon], horizon}
        )
    )
    columns = {
        f"{name} {metric}": [model["per_step"][metric][s - 1] for s in steps]
        for metric in ("mae", "scaled_mse")
        for name, model in report["models"].items()
    }
    table = pd.DataFrame(columns, index=pd.Index(steps, name="step"))
    shown = "every step" if len(steps) == horizon else "selected steps; --json gives every step"
    print(f"per horizon step ({shown}):")
    print(table.to_string(float_format=lambda x: f"{x:.4f}"))


def forecast(args) -> int:
    return using.forecast_series(load_forecaster(args.run, device=args.device), args)


def evaluate(args) -> int:
    run = load_forecaster(args.run, device=args.device)
    windows = None
    if args.windows:
        windows = parse_list(args.windows, int, "--windows", "0,10,-1")
    report = run.backtest(args.data, split=args.split, plot=args.plot, windows=windows)
    if args.json:
        print(json.dumps(report))
        return 0
    print_report(report, f"{args.data}, {args.split} rows {_rows(report)}")
    if args.plot:
        print(f"forecast plot: {args.plot}")
    return 0


HANDLERS = {("forecast", "evaluate"): evaluate}
"""(task, shared command) -> handler."""
