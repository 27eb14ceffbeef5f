"""Forward+backward throughput of rnnkit layers against torch.nn.

    python benchmarks/layers.py [--hidden 256 512] [--repeats 7]
        [--out benchmarks/results/layers.json]

For each cell and hidden size (batch 64, time 100, input = hidden) it times
one forward and backward pass of torch.nn, rnnkit ``impl="auto"`` and rnnkit
``impl="reference"``; then the same with random lengths in [time/2, time]
against torch.nn on a packed sequence. Ratios are throughput relative to
torch.nn (higher is better; 1.0 = the same speed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rnnkit  # noqa: E402
from common import machine, markdown_table, time_interleaved, write_json  # noqa: E402

CELLS = {
    "LSTM": (rnnkit.LSTM, torch.nn.LSTM),
    "GRU": (rnnkit.GRU, torch.nn.GRU),
    "RNN": (rnnkit.RNN, torch.nn.RNN),
}


def _step(module, x, lengths=None, packed=False):
    def run():
        module.zero_grad(set_to_none=True)
        if packed:
            sequence = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            output, _ = module(sequence)
            output, _ = pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
        elif lengths is not None:
            output, _ = module(x, lengths=lengths)
        else:
            output, _ = module(x)
        output.sum().backward()

    return run


def bench_one(cell, hidden, batch, time, repeats, with_lengths, device):
    ours_class, torch_class = CELLS[cell]
    torch.manual_seed(0)
    theirs = torch_class(hidden, hidden, batch_first=True).to(device)
    auto = ours_class(hidden, hidden).to(device)
    reference = ours_class(hidden, hidden, impl="reference").to(device)
    for module in (auto, reference):
        module.load_state_dict(theirs.state_dict())
    x = torch.randn(batch, time, hidden, device=device, requires_grad=True)
    lengths = torch.randint(time // 2, time + 1, (batch,)) if with_lengths else None
    contenders = {
        "torch": _step(theirs, x, lengths, packed=with_lengths),
        "auto": _step(auto, x, lengths),
        "reference": _step(reference, x, lengths),
    }
    sync = torch.cuda.synchronize if device == "cuda" else None
    seconds = time_interleaved(contenders, repeats, sync=sync)
    tokens = batch * time if lengths is None else int(lengths.sum())
    return {
        "cell": cell,
        "hidden": hidden,
        "lengths": f"{time // 2}-{time}" if with_lengths else "none",
        "torch.nn": "packed" if with_lengths else "padded",
        "torch ms": seconds["torch"] * 1e3,
        "auto ms": seconds["auto"] * 1e3,
        "reference ms": seconds["reference"] * 1e3,
        "auto ratio": seconds["torch"] / seconds["auto"],
        "reference ratio": seconds["torch"] / seconds["reference"],
        "auto tokens/s": tokens / seconds["auto"],
        "auto path": auto.last_path_reason,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--hidden", nargs="+", type=int, default=[256, 512])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/layers.json"))
    args = parser.parse_args(argv)
    rows = []
    for with_lengths in (False, True):
        for cell in args.cells:
            for hidden in args.hidden:
                rows.append(
                    bench_one(
                        cell, hidden, args.batch, args.time, args.repeats, with_lengths, args.device
                    )
                )
                print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    write_json(
        args.out,
        {
            "benchmark": "layers",
            "machine": machine(),
            "args": {k: str(v) for k, v in vars(args).items()},
            "rows": rows,
        },
    )
    print(f"\nwrote {args.out}")
    return rows


if __name__ == "__main__":
    main()
