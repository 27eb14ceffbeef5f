"""One process with 2 threads against 2 processes (torchrun + DDP, gloo) with 1 thread each.

    python benchmarks/distributed.py [--steps 60] [--rounds 2]

For the char LM (the demo's model, batch 64 x 100) and the SST-2 classifier
(the recipe's defaults, batch 64), each layout trains the same global batch
for ``--steps`` steps, alternately, ``--rounds`` times. The rate is the median
of the trainer's logged rate (items per second, over the last 50 steps) after
the first 10 steps; the table prints it with the ratio two processes / one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, markdown_table, write_json  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
LAYOUTS = {
    "1 process x 2 threads": ([sys.executable, "-m", "rnnkit"], {"OMP_NUM_THREADS": "2"}),
    "2 processes x 1 thread": (
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "rnnkit",
        ],
        {"OMP_NUM_THREADS": "1"},
    ),
}


def workloads(steps: int) -> dict:
    common = ["--max-steps", str(steps), "--eval-every", str(steps), "--no-progress"]
    return {
        "char LM (chars/s)": ["train", "lm", "--sample-length", "0", *common],
        "SST-2 classifier (examples/s)": [
            "train",
            "classify",
            "--train",
            str(DATA / "sst2" / "train.tsv"),
            "--dev",
            str(DATA / "sst2" / "dev.tsv"),
            *common,
        ],
    }


def rate(folder: Path) -> float:
    rates = [
        json.loads(line)["train_rate"]
        for line in (folder / "metrics.jsonl").read_text().splitlines()
        if "train_rate" in line
    ]
    return statistics.median(rates[10:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    measured: dict = {}
    with tempfile.TemporaryDirectory() as scratch:
        for round_index in range(args.rounds):
            for workload, command in workloads(args.steps).items():
                for layout, (launcher, environment) in LAYOUTS.items():
                    out = Path(scratch) / f"{round_index}-{len(measured)}"
                    subprocess.run(
                        [*launcher, *command, "--out", str(out)],
                        check=True,
                        env={**os.environ, **environment},
                        capture_output=True,
                    )
                    measured.setdefault((workload, layout), []).append(rate(out))
    rows = []
    for workload in workloads(args.steps):
        rates = {layout: statistics.median(measured[workload, layout]) for layout in LAYOUTS}
        one, two = rates.values()
        rows.append({"workload": workload, **rates, "ratio 2 processes / 1": two / one})
    print(markdown_table(rows))
    write_json(
        RESULTS / "distributed.json",
        {"machine": machine(), "steps": args.steps, "rounds": args.rounds, "rows": rows},
    )
    print(f"wrote {RESULTS / 'distributed.json'}")


if __name__ == "__main__":
    main()
