"""Shared benchmark helpers: interleaved timing, machine facts, and table/JSON output.

Contenders are timed in interleaved rounds (A, B, C, A, B, C, ...) and the
median is kept, because this machine is noisy and a ratio measured side by
side is more trustworthy than two absolute numbers taken minutes apart.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_flags": cpu_kind(),
        "limited_to": limited_isa(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def cpu_kind() -> str:
    """The machine named by the CPU flags that decide our numbers: AMX, AVX-512 BF16 (native
    bfloat16), AVX-512 without BF16, or AVX2 only (bf16 emulated and slow, no oneDNN bf16
    LSTM)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = set(next((line for line in text.splitlines() if line.startswith("flags")), "").split())
    for flag, kind in (
        ("amx_tile", "AMX"),
        ("avx512_bf16", "AVX-512 BF16"),
        ("avx512f", "AVX-512 (no BF16)"),
        ("avx2", "AVX2 only"),
    ):
        if flag in flags:
            return kind
    return "no AVX2"


def limited_isa() -> str | None:
    """The instruction sets a run was held to, when it emulated a smaller CPU: ATen's
    ATEN_CPU_CAPABILITY, oneDNN's ONEDNN_MAX_CPU_ISA and RNNKIT_PRECISION."""
    names = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "RNNKIT_PRECISION", "CC")
    held = [f"{name}={os.environ[name]}" for name in names if os.environ.get(name)]
    return " ".join(held) or None


def time_interleaved(contenders: dict, repeats: int, warmup: int = 2, sync=None) -> dict:
    """Median seconds per call of each zero-argument callable, timed in interleaved rounds."""
    for function in contenders.values():
        for _ in range(warmup):
            function()
    samples = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, function in contenders.items():
            if sync:
                sync()
            start = time.perf_counter()
            function()
            if sync:
                sync()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def markdown_table(rows: list[dict]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_json(path: Path, payload: dict) -> None:
    """Writes to a temporary file, then renames, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(payload, indent=2))
    os.replace(temporary, path)


def plain_lm_steps(model, batches, steps: int, learning_rate: float, precision: str = "fp32"):
    """A plain PyTorch truncated-BPTT loop, as a user would write it; returns the time stamp
    after each step. ``model(x, state) -> (logits, (h, c))``."""
    import torch.nn.functional as F

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    state, stamps = None, []
    for index in range(steps):
        x, y = batches[index % len(batches)]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        state = tuple(s.detach() for s in state)
        loss.item()
        stamps.append(time.perf_counter())
    return stamps
