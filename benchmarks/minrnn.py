"""Forward+backward time of MinGRU/MinLSTM (parallel scan) against torch.nn.GRU and torch.nn.LSTM.

    python benchmarks/minrnn.py [--lengths 256 1024 4096] [--precisions fp32 bf16] [--repeats 5]

Batch 16, input = hidden = 256, one layer. Each layer is timed in float32 and
under bfloat16 autocast, side by side; the MinGRU and MinLSTM on the compiled
gates+scan kernel (``rnnkit.nn.minscan``, the default where it builds) and on
the eager scan, and the MinGRU's sequential step loop (impl="reference") at the
shorter lengths. Speed-ups are against nn.GRU in float32, and the headline per
length is each layer at its fastest precision against nn.GRU at its fastest,
the choice a user makes. Targets at T = 4096: MinGRU >= 5x best against best,
and >= 3x in float32 alone.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rnnkit  # noqa: E402
from common import machine, markdown_table, time_interleaved, write_json  # noqa: E402
from rnnkit.nn import minscan  # noqa: E402


def _run(module, x, precision: str, eager: bool):
    def step():
        module.zero_grad(set_to_none=True)
        with contextlib.ExitStack() as stack:
            if eager:
                stack.enter_context(minscan.eager_only())
            if precision == "bf16":
                stack.enter_context(torch.autocast(x.device.type, dtype=torch.bfloat16))
            output, _ = module(x)
            loss = output.float().sum()
        loss.backward()

    return step


def _contenders(hidden: int, length: int, args) -> dict:
    """name -> (module, precision, eager)."""
    torch.manual_seed(0)
    layers = {
        "nn.GRU": (torch.nn.GRU(hidden, hidden, batch_first=True), False),
        "nn.LSTM": (torch.nn.LSTM(hidden, hidden, batch_first=True), False),
        "MinGRU": (rnnkit.MinGRU(hidden, hidden, impl="scan"), False),
        "MinLSTM": (rnnkit.MinLSTM(hidden, hidden, impl="scan"), False),
        "MinGRU eager scan": (rnnkit.MinGRU(hidden, hidden, impl="scan"), True),
        "MinLSTM eager scan": (rnnkit.MinLSTM(hidden, hidden, impl="scan"), True),
    }
    if length <= args.reference_up_to:
        layers["MinGRU step loop"] = (rnnkit.MinGRU(hidden, hidden, impl="reference"), True)
    return {
        (name, precision): (module.to(args.device), precision, eager)
        for name, (module, eager) in layers.items()
        for precision in args.precisions
    }


def _rows(length: int, seconds: dict) -> list[dict]:
    baseline = seconds[("nn.GRU", "fp32")] if ("nn.GRU", "fp32") in seconds else None
    best_gru = min(v for (name, _), v in seconds.items() if name == "nn.GRU")
    rows = []
    for (name, precision), value in seconds.items():
        best_own = min(v for (n, _), v in seconds.items() if n == name)
        rows.append(
            {
                "T": length,
                "layer": name,
                "precision": precision,
                "fwd+bwd s": round(value, 4),
                "vs nn.GRU fp32": round(baseline / value, 2) if baseline else None,
                "best vs best nn.GRU": round(best_gru / best_own, 2) if value == best_own else "",
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lengths", nargs="+", type=int, default=[256, 1024, 4096])
    parser.add_argument(
        "--precisions", nargs="+", choices=["fp32", "bf16"], default=["fp32", "bf16"]
    )
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--reference-up-to", type=int, default=1024, help="time the step loop up to this length"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/minrnn.json"))
    args = parser.parse_args(argv)
    print("compiled kernel:", minscan.why_not(torch.zeros(1)) or minscan.availability()[1])
    sync = torch.cuda.synchronize if args.device == "cuda" else None
    rows = []
    for length in args.lengths:
        x = torch.randn(args.batch, length, args.hidden, device=args.device, requires_grad=True)
        contenders = {
            key: _run(module, x, precision, eager)
            for key, (module, precision, eager) in _contenders(args.hidden, length, args).items()
        }
        seconds = time_interleaved(contenders, args.repeats, warmup=1, sync=sync)
        rows += _rows(length, seconds)
        print(markdown_table(rows[-len(seconds) :]), flush=True)
    print()
    print(markdown_table(rows))
    write_json(
        args.out,
        {
            "benchmark": "minrnn",
            "machine": machine(),
            "compiled_kernel": minscan.availability()[1],
            "args": {k: str(v) for k, v in vars(args).items()},
            "rows": rows,
        },
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
