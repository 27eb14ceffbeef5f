"""Forecasting targets: ETTh1 scaled test MSE, airline MASE, and prediction latency.

    python benchmarks/forecast.py ett [--horizons 96 336] [--lookback 720]   # <= 20 min each
    python benchmarks/forecast.py airline [--seeds 0 1 2]
    python benchmarks/forecast.py latency [--repeats 200]

``ett`` trains the documented SegRNN-style recipe on ETTh1 (7 variables, all
forecast; the 12/4/4-month split; scaler fitted on train) and backtests every
test window (stride 1), next to the baselines. ``airline`` holds out the last
12 months (val: the 12 before), then the last 24 (val: the 12 before), and
compares MASE with seasonal naive. ``latency`` times one forecast of one
336-step ETTh1 series (all 7 variables, horizon 96) through ``ForecastRun.predict``
(scaling included), against the same forecast from a plain torch.nn.LSTM
encoder with a linear head, interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, markdown_table, time_interleaved, write_json  # noqa: E402

from rnnkit.models.forecaster import ForecasterConfig  # noqa: E402
from rnnkit.tasks.forecast import ForecastDataConfig, train_forecaster  # noqa: E402
from rnnkit.train import TrainConfig  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
ETT_TARGETS = "HUFL,HULL,MUFL,MULL,LUFL,LULL,OT"

# The documented ETTh1 recipe (README "Forecasting"); SegRNN (Lin et al. 2023) with its
# ETTh1 settings (segments of 48, width 512, dropout 0.5), trained for 12 epochs.
ETT_MODEL = dict(
    architecture="segment", cell="gru", segment_length=48, hidden_size=512, dropout=0.5
)
ETT_TRAIN = dict(epochs=12, learning_rate=1e-3, warmup_steps=30, eval_every=31)
AIRLINE_MODEL = dict(
    architecture="segment", cell="gru", lookback=36, horizon=12, segment_length=12, hidden_size=64
)
AIRLINE_TRAIN = dict(max_steps=400, learning_rate=3e-3, warmup_steps=20, eval_every=25)
AIRLINE_SPLITS = {"last 12 months": "1959-01,1960-01", "last 24 months": "1958-01,1959-01"}


def _need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"skipped: {path} is missing (see ../shared/data/README.md)")
    return path


def ett(args) -> dict:
    path = _need(DATA / "ett" / "ETTh1.csv")
    data = ForecastDataConfig(data=str(path), target=ETT_TARGETS, split="ett", batch_size=256)
    rows = []
    for horizon in args.horizons:
        model = ForecasterConfig(**ETT_MODEL, lookback=args.lookback, horizon=horizon)
        start = time.perf_counter()
        run, counters = train_forecaster(
            args.runs / f"etth1-{args.lookback}-{horizon}",
            data,
            model,
            TrainConfig(**ETT_TRAIN, seed=args.seeds[0], progress=False),
        )
        minutes = (time.perf_counter() - start) / 60
        report = run.backtest(path)
        for name, result in report["models"].items():
            rows.append(
                {
                    "horizon": horizon,
                    "lookback": args.lookback,
                    "model": name,
                    "scaled MSE": result["overall"]["scaled_mse"],
                    "scaled MAE": result["overall"]["scaled_mae"],
                    "MAE": result["overall"]["mae"],
                    "train minutes": minutes if name == "model" else "-",
                }
            )
    return {
        "rows": rows,
        "target": "scaled test MSE <= 0.40 at horizon 96 in <= 20 min",
        "recipe": {"model": ETT_MODEL, "train": ETT_TRAIN, "batch_size": 256},
    }


def airline(args) -> dict:
    path = _need(DATA / "classic_timeseries" / "airline-passengers.csv")
    rows = []
    for label, split in AIRLINE_SPLITS.items():
        for seed in args.seeds:
            data = ForecastDataConfig(
                data=str(path), target="Passengers", split=split, batch_size=16
            )
            start = time.perf_counter()
            run, _ = train_forecaster(
                args.runs / f"airline-{seed}",
                data,
                ForecasterConfig(**AIRLINE_MODEL),
                TrainConfig(**AIRLINE_TRAIN, seed=seed, progress=False),
            )
            models = run.backtest(path)["models"]
            rows.append(
                {
                    "test": label,
                    "seed": seed,
                    **{f"MASE {n}": m["overall"]["mase"] for n, m in models.items()},
                    "sMAPE model": models["model"]["overall"]["smape"],
                    "seconds": time.perf_counter() - start,
                }
            )
    return {
        "rows": rows,
        "target": "MASE below seasonal naive's",
        "recipe": {"model": AIRLINE_MODEL, "train": AIRLINE_TRAIN},
    }


class PlainLSTM(torch.nn.Module):
    """The plain PyTorch reference: torch.nn.LSTM over the 336 steps, a linear head to 96 x 7."""

    def __init__(self, lookback: int, horizon: int, targets: int, hidden: int):
        super().__init__()
        self.lstm = torch.nn.LSTM(targets, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, horizon * targets)
        self.shape = (horizon, targets)

    def forward(self, history):
        output, _ = self.lstm(history)
        return self.head(output[:, -1]).reshape(-1, *self.shape)


def latency(args) -> dict:
    path = _need(DATA / "ett" / "ETTh1.csv")
    data = ForecastDataConfig(data=str(path), target=ETT_TARGETS, split="ett", batch_size=256)
    lookback, horizon = 336, 96
    history = torch.randn(lookback, 7).numpy() * 3 + 10
    contenders, sizes = {}, {}
    shapes = {
        "segment GRU 512, segments of 24": dict(ETT_MODEL, segment_length=24),
        "direct LSTM 256": dict(architecture="direct", cell="lstm", hidden_size=256),
        "autoregressive LSTM 256": dict(
            architecture="autoregressive", cell="lstm", hidden_size=256
        ),
    }
    for i, (name, shape) in enumerate(shapes.items()):
        # One training step makes a real run folder; latency does not depend on the weights' values.
        run, _ = train_forecaster(
            args.runs / f"latency-{i}",
            data,
            ForecasterConfig(**shape, lookback=lookback, horizon=horizon),
            TrainConfig(max_steps=1, progress=False, device="cpu"),
        )
        contenders[f"rnnkit {name}"] = lambda run=run: run.predict(history)
        sizes[f"rnnkit {name}"] = sum(p.numel() for p in run.model.parameters())
    plain = PlainLSTM(lookback, horizon, 7, 256).eval()
    tensor = torch.as_tensor(history, dtype=torch.float32)[None]

    def reference():
        with torch.no_grad():
            return plain(tensor)

    contenders["plain torch.nn.LSTM 256 + linear head"] = reference
    sizes["plain torch.nn.LSTM 256 + linear head"] = sum(p.numel() for p in plain.parameters())
    seconds = time_interleaved(contenders, repeats=args.repeats, warmup=5)
    base = seconds["plain torch.nn.LSTM 256 + linear head"]
    rows = [
        {
            "forecaster": name,
            "parameters": sizes[name],
            "ms per forecast": value * 1000,
            "ratio vs plain LSTM": value / base,
        }
        for name, value in seconds.items()
    ]
    return {
        "rows": rows,
        "target": "<= 5 ms per 336-step series on CPU",
        "threads": torch.get_num_threads(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["ett", "airline", "latency"])
    parser.add_argument("--horizons", nargs="+", type=int, default=[96, 336])
    parser.add_argument("--lookback", type=int, default=720)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--repeats", type=int, default=200, help="latency: interleaved timing rounds"
    )
    parser.add_argument(
        "--runs", type=Path, default=Path("/tmp/rnnkit-bench"), help="where run folders go"
    )
    args = parser.parse_args(argv)
    result = {"ett": ett, "airline": airline, "latency": latency}[args.mode](args)
    result["machine"] = machine()
    result["command"] = "python benchmarks/forecast.py " + " ".join(argv or sys.argv[1:])
    print(markdown_table(result["rows"]))
    if args.mode == "airline":
        wins = sum(r["MASE model"] < r["MASE seasonal_naive"] for r in result["rows"])
        print(
            f"model MASE below seasonal naive's in {wins} of {len(result['rows'])} runs; "
            f"mean model MASE {statistics.mean(r['MASE model'] for r in result['rows']):.3f}"
        )
    write_json(RESULTS / f"forecast_{args.mode}.json", result)


if __name__ == "__main__":
    main()
