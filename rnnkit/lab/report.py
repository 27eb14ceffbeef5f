"""The comparison table: printed, and saved as markdown, CSV, JSON and PNG."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.io import atomic_write, new_figure, save_figure


def summarise(rows: list[dict]) -> list[dict]:
    """One row per (T, cell): means over seeds and how many seeds solved it."""
    groups: dict = {}
    for row in rows:
        groups.setdefault((row["T"], row["cell"]), []).append(row)
    table = []
    for (length, cell), runs in groups.items():
        metric = statistics.mean(r["metric"] for r in runs)
        table.append(
            {
                "T": length,
                "cell": cell,
                "hidden": runs[0]["hidden_size"],
                "parameters": runs[0]["parameters"],
                "s/1k steps": statistics.mean(r["seconds_per_1k_steps"] for r in runs),
                "metric": metric,
                "baseline": runs[0]["baseline"],
                "metric/baseline": metric / runs[0]["baseline"]
                if runs[0]["baseline"]
                else math.nan,
                "solved": "-"
                if runs[0]["solved"] == "-"
                else f"{sum(bool(r['solved']) for r in runs)}/{len(runs)}",
            }
        )
    return table


def markdown(table: list[dict]) -> str:
    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    columns = list(table[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in table]
    return "\n".join(lines) + "\n"


def save_tables(rows: list[dict], config, out: Path, log) -> None:
    table = summarise(rows)
    frame = pd.DataFrame(table)
    for length, part in frame.groupby("T", sort=False):
        log(
            f"\n{config.task}, T = {length}"
            if config.task not in ("lm", "music")
            else f"\n{config.task}"
        )
        log(part.drop(columns="T").to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    atomic_write(out / "compare.md", markdown(table).encode())
    atomic_write(out / "compare.csv", frame.to_csv(index=False).encode())
    runs = [
        {
            k: (v.tolist() if isinstance(v, np.ndarray) else str(v) if isinstance(v, Path) else v)
            for k, v in row.items()
            if k != "_folder"
        }
        for row in rows
    ]
    payload = {"config": asdict(config), "table": table, "runs": runs}
    atomic_write(out / "compare.json", json.dumps(payload, indent=1, default=float).encode())
    plot_table(table, config, out / "compare.png")
    log(f"\nsaved {out}/compare.md, compare.csv, compare.json and compare.png")


def plot_table(table: list[dict], config, path: Path) -> None:
    """Final metric against T per cell (log scale, baseline dashed), and seconds per 1k steps."""
    figure, (left, right) = new_figure(1, 2, figsize=(11, 4.2))
    for cell in dict.fromkeys(row["cell"] for row in table):
        rows = [r for r in table if r["cell"] == cell]
        x = [r["T"] for r in rows] if config.task not in ("lm", "music") else [cell]
        left.plot(x, [r["metric"] for r in rows], "o-", label=cell)
        right.plot(x, [r["s/1k steps"] for r in rows], "o-", label=cell)
    if config.task not in ("lm", "music"):
        lengths = sorted({r["T"] for r in table})
        left.plot(
            lengths,
            [next(r["baseline"] for r in table if r["T"] == t) for t in lengths],
            "k--",
            label="baseline",
        )
        left.set_xlabel("sequence length T")
        right.set_xlabel("sequence length T")
    left.set_yscale("log")
    left.set_ylabel("validation loss (MSE or nats)")
    right.set_ylabel("seconds per 1,000 steps")
    left.set_title(f"{config.task}: final metric")
    right.set_title("training speed")
    for axis in (left, right):
        axis.grid(alpha=0.3, which="both")
        axis.legend()
    save_figure(figure, path, dpi=110)
