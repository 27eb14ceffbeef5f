"""Forward+backward time of MinGRU/MinLSTM (parallel scan) against torch.nn.GRU and torch.nn.LSTM.

    python benchmarks/minrnn.py [--lengths 256 1024 4096] [--repeats 5]

Batch 16, input = hidden = 256, one layer, float32. Also times the MinGRU's
sequential step loop (impl="reference") and reports each contender's speed-up
over nn.GRU (higher is better). Target: MinGRU >= 5x nn.GRU at T = 4096.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rnnkit  # noqa: E402
from common import machine, markdown_table, time_interleaved, write_json  # noqa: E402


def _run(module, x):
    def step():
        module.zero_grad(set_to_none=True)
        output, _ = module(x)
        output.sum().backward()

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lengths", nargs="+", type=int, default=[256, 1024, 4096])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--reference-up-to", type=int, default=1024, help="time the step loop up to this length"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/minrnn.json"))
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    hidden, device = args.hidden, args.device
    modules = {
        "nn.GRU": torch.nn.GRU(hidden, hidden, batch_first=True),
        "nn.LSTM": torch.nn.LSTM(hidden, hidden, batch_first=True),
        "MinGRU scan": rnnkit.MinGRU(hidden, hidden, impl="scan"),
        "MinLSTM scan": rnnkit.MinLSTM(hidden, hidden, impl="scan"),
        "MinGRU step loop": rnnkit.MinGRU(hidden, hidden, impl="reference"),
    }
    modules = {name: module.to(device) for name, module in modules.items()}
    sync = torch.cuda.synchronize if device == "cuda" else None
    rows = []
    for length in args.lengths:
        x = torch.randn(args.batch, length, hidden, device=device, requires_grad=True)
        contenders = {
            name: _run(module, x)
            for name, module in modules.items()
            if "loop" not in name or length <= args.reference_up_to
        }
        seconds = time_interleaved(contenders, args.repeats, warmup=1, sync=sync)
        for name, value in seconds.items():
            rows.append(
                {
                    "T": length,
                    "layer": name,
                    "fwd+bwd s": value,
                    "speed-up vs nn.GRU": seconds["nn.GRU"] / value,
                    "speed-up vs nn.LSTM": seconds["nn.LSTM"] / value,
                }
            )
            print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    write_json(
        args.out,
        {
            "benchmark": "minrnn",
            "machine": machine(),
            "args": {k: str(v) for k, v in vars(args).items()},
            "rows": rows,
        },
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
