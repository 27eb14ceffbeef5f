"""The trainer's typed config; the CLI builds its flags from these fields."""

from __future__ import annotations

import contextlib
import math
import os
import re
from dataclasses import dataclass

import torch

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.fields import AT_LEAST_ONE, FRACTION, NON_NEGATIVE, POSITIVE, Range, check_fields


@dataclass
class TrainConfig:
    """How to train: optimizer, schedule, limits, precision and bookkeeping."""

    optimizer: str = "adamw"
    """adamw; or ntasgd: SGD that switches to averaging its iterates once validation stops
    improving (non-monotonically triggered averaged SGD, Merity et al. 2017)."""
    learning_rate: float = 2e-3
    """Peak learning rate of the optimizer (NT-ASGD wants a large one, e.g. 30 with
    --clip-norm 0.25)."""
    weight_decay: float = 0.01
    """AdamW's decoupled weight decay (Loshchilov & Hutter 2019); SGD's L2 penalty."""
    layer_lr_decay: float = 1.0
    """Discriminative learning rates (Howard & Ruder 2018): each layer group below the top
    trains this many times slower than the one above (ULMFiT: 2.6); for models that name
    their layer groups (the classifier)."""
    unfreeze_every: int = 0
    """Gradual unfreezing (Howard & Ruder 2018): the top layer group trains from the start
    and one more group below it every this many steps; 0: every group from the start."""
    nonmonotone: int = 5
    """ntasgd: start averaging when validation is worse than the best of the validations
    more than this many evaluations ago."""
    warmup_steps: int = 100
    """Steps of linear learning-rate warm-up from 0."""
    decay: str = "cosine"
    """Learning-rate decay after warm-up over the run: cosine, linear or none."""
    min_lr_ratio: float = 0.1
    """Final learning rate as a fraction of the peak."""
    clip_norm: float = 1.0
    """Clip the gradient's global norm to this (Pascanu et al. 2013); 0 turns clipping off."""
    max_steps: int | None = None
    """Stop after this many optimizer steps."""
    epochs: float | None = None
    """Stop after this many passes over the training data."""
    time_budget: float | None = None
    """Stop after this many seconds of training (the schedule then follows time, so runs are not
    bit-reproducible)."""
    eval_every: int = 250
    """Validate every this many steps (and at the end), keeping the best weights."""
    early_stopping: int = 0
    """Stop after this many validations without improvement; 0 turns it off."""
    select_by: str = "loss"
    """Validation metric that picks the best weights and drives early stopping: loss (lower is
    better) or one the task reports where higher is better (accuracy, macro_f1,
    macro_recall)."""
    seed: int = 0
    """Seed for weights, dropout and data order: the same seed gives the same run."""
    precision: str = "auto"
    """fp32; bf16 autocast (bfloat16 matrix maths, float32 weights); or auto: bf16 where the
    hardware has native bfloat16 (AVX-512 BF16/AMX CPUs, CUDA GPUs), else fp32."""
    device: str = "auto"
    """cpu, cuda, or auto (cuda when available)."""
    progress: bool = True
    """Show a progress bar (a line every 10 s when not on a terminal)."""

    BOUNDS = {
        "optimizer": ("adamw", "ntasgd"),
        "learning_rate": POSITIVE,
        "weight_decay": NON_NEGATIVE,
        "layer_lr_decay": Range(1),
        "unfreeze_every": NON_NEGATIVE,
        "nonmonotone": AT_LEAST_ONE,
        "warmup_steps": NON_NEGATIVE,
        "decay": ("cosine", "linear", "none"),
        "min_lr_ratio": FRACTION,
        "clip_norm": NON_NEGATIVE,
        "max_steps": AT_LEAST_ONE,
        "epochs": POSITIVE,
        "time_budget": POSITIVE,
        "eval_every": AT_LEAST_ONE,
        "early_stopping": NON_NEGATIVE,
        "seed": Range(0, 2**32 - 1),
        "precision": ("auto", "fp32", "bf16"),
    }

    def __post_init__(self):
        if isinstance(self.epochs, int) and not isinstance(self.epochs, bool):
            self.epochs = float(self.epochs)  # epochs=3 from Python means 3.0
        if isinstance(self.time_budget, int) and not isinstance(self.time_budget, bool):
            self.time_budget = float(self.time_budget)
        check_fields(self)
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", self.device):
            raise ConfigError(
                "device", f"must be cpu, cuda, cuda:N, mps or auto; got {self.device!r}"
            )


def learning_rate_factor(config: TrainConfig, step: int, progress: float) -> float:
    """Multiplier of the peak learning rate: linear warm-up, then decay over ``progress`` in [0,
    1]."""
    warmup = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps > 0 else 1.0
    progress = min(max(progress, 0.0), 1.0)
    low = config.min_lr_ratio
    if config.decay == "cosine":
        decay = low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))
    elif config.decay == "linear":
        decay = 1 - (1 - low) * progress
    else:
        decay = 1.0
    return warmup * decay


def native_bf16(device) -> bool:
    """Whether ``device`` computes bfloat16 natively; emulated bf16 is slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    checks = [
        getattr(torch.cpu, name, None)
        for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    ]
    return any(check() for check in checks if check is not None)


def autocast(precision: str, device):
    """The autocast context of a resolved precision (bf16) or none (fp32). Evaluate and
    predict in the training precision too: a model trained in bf16 can score differently in
    float32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


PRECISION_VARIABLE = "RNNKIT_PRECISION"
"""Set to fp32 or bf16, it decides what ``--precision auto`` means on this machine (to run
the fp32 arithmetic of an AVX2-only CPU on one with AVX-512 BF16, say); a precision given
explicitly still wins."""


def resolve_precision(precision: str, device) -> str:
    if precision != "auto":
        return precision
    chosen = os.environ.get(PRECISION_VARIABLE, "").strip().lower()
    if chosen in ("fp32", "bf16"):
        return chosen
    if chosen:
        raise RnnkitError(f"{PRECISION_VARIABLE} must be fp32 or bf16 when set; got {chosen!r}")
    return "bf16" if native_bf16(device) else "fp32"
