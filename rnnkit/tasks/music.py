"""Polyphonic music: piano rolls -> length buckets -> RNN with a Bernoulli head ->
trainer -> run folder; and back: NLL per step, and sampling new pieces as MIDI.

The metric follows the TCN paper's code (Bai et al. 2018, ``poly_music``): step
``t`` is predicted from steps ``1..t-1`` for ``t >= 2``; its negative
log-likelihood is summed over the 88 keys, and a split's number is the mean over
all its predicted steps (every step weighs the same, whatever its piece). The
model also reads a silent frame before step 1 and learns to predict step 1 from
it (trained, not scored), which is how a fresh piece starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnkit.data.buckets import bucket_batches, pad_sequences
from rnnkit.data.music import read_piano_rolls
from rnnkit.errors import DataError
from rnnkit.fields import AT_LEAST_ONE, Range, check_fields
from rnnkit.models.music import (
    PianoRollModel,
    PianoRollModelConfig,
    nll_per_step,
)
from rnnkit.nn.lengths import length_mask
from rnnkit.tasks.common import Recipe, Run, fit, start_run
from rnnkit.generate import noise_on
from rnnkit.sampling import UniformNoise
from rnnkit.train import TrainConfig
from rnnkit.train.distributed import processes


@dataclass
class MusicDataConfig:
    """Where the pieces come from and how they are batched."""

    data: str | None = None
    """Piano rolls: a benchmark .mat or .json (with train/valid/test), a MIDI file, or a folder of
    MIDI files."""
    steps_per_quarter: int = 4
    """Time steps per quarter note when reading MIDI files."""
    valid_fraction: float = 0.1
    """Share of a MIDI folder's pieces held out for validation (seeded)."""
    test_fraction: float = 0.1
    """Share of a MIDI folder's pieces held out for testing (seeded)."""
    batch_size: int = 8
    """Pieces per batch (batches group pieces of similar length)."""
    transpose: int = 0
    """Training augmentation: each piece in each batch is shifted by a random whole number of
    semitones in [-N, N] (notes pushed past the lowest or highest key are dropped); 0 is off."""

    BOUNDS = {
        "transpose": Range(0, 24),
        "steps_per_quarter": Range(1, 96),
        "valid_fraction": Range(0, 1, low_open=True, high_open=True),
        "test_fraction": Range(0, 1, low_open=True, high_open=True),
        "batch_size": AT_LEAST_ONE,
    }

    def __post_init__(self):
        check_fields(self)


def to_tensors(pieces: list[np.ndarray]) -> list[torch.Tensor]:
    return [
        torch.from_numpy(np.ascontiguousarray(p, dtype=np.float32)) for p in pieces if len(p) >= 2
    ]


def transposed(rolls: torch.Tensor, shifts: list[int]) -> torch.Tensor:
    """``rolls (batch, time, keys)`` with row ``i`` moved up ``shifts[i]`` keys (down when
    negative); keys moved past either end are dropped, the keys left empty are silent."""
    moved = torch.zeros_like(rolls)
    keys = rolls.shape[-1]
    for row, shift in enumerate(shifts):
        if abs(shift) >= keys:
            continue
        if shift >= 0:
            moved[row, :, shift:] = rolls[row, :, : keys - shift]
        else:
            moved[row, :, :shift] = rolls[row, :, -shift:]
    return moved


def batch_of(pieces: list[torch.Tensor], rows, device, score_first: bool, shifts=None):
    """Inputs (a silent start frame, then steps 1..T-1), targets (steps 1..T) and the
    mask of the steps to score: all real steps in training (so that a fresh piece
    can start from silence), steps 2..T for the benchmark's NLL."""
    padded, lengths = pad_sequences([pieces[i] for i in rows])
    if shifts is not None:
        padded = transposed(padded, shifts)
    inputs = torch.cat([torch.zeros_like(padded[:, :1]), padded[:, :-1]], 1)
    mask = length_mask(lengths, padded.shape[1])
    if not score_first:
        mask[:, 0] = False
    mask = mask.float()
    return inputs.to(device), lengths, padded.to(device), mask.to(device)


def nll_sums(model, pieces: list[torch.Tensor], device, batch_size: int = 16) -> tuple:
    """``(summed NLL, scored steps)`` of ``pieces`` (see the module docstring)."""
    total, steps = 0.0, 0.0
    for rows in bucket_batches([len(p) for p in pieces], batch_size, shuffle=False):
        inputs, lengths, targets, mask = batch_of(pieces, rows, device, score_first=False)
        logits, _ = model(inputs, lengths=lengths, targets=targets)
        batch_total, batch_steps = nll_per_step(logits, targets, mask)
        total, steps = total + batch_total.item(), steps + batch_steps.item()
    return total, steps


def split_nll(model, pieces: list[torch.Tensor], device, batch_size: int = 16) -> dict:
    """NLL per step of a split (see the module docstring), and its step count."""
    total, steps = nll_sums(model, pieces, device, batch_size)
    return {"loss": total / steps, "steps": int(steps), "pieces": len(pieces)}


class MusicTask:
    """Music as the trainer sees it (:class:`rnnkit.train.TrainingTask`). Its items
    are time steps of music (piano-roll frames), not training steps."""

    unit = "frames"

    def __init__(self, train, valid, batch_size: int, seed: int, device, transpose: int = 0):
        self.train, self.valid, self.batch_size, self.seed, self.device = (
            train,
            valid,
            batch_size,
            seed,
            device,
        )
        self.transpose = transpose
        self._lengths = [len(p) for p in train]

    def batches(self, epoch: int) -> list[tuple]:
        """``(rows, shifts)`` per batch; the shifts are drawn from the seed and the epoch, so a
        resumed run sees the same ones."""
        batches = bucket_batches(
            self._lengths, self.batch_size, shuffle=True, seed=self.seed, epoch=epoch
        )
        if not self.transpose:
            return [(rows, None) for rows in batches]
        draw = np.random.default_rng([self.seed, epoch, 12])
        span = self.transpose
        return [(rows, draw.integers(-span, span + 1, len(rows)).tolist()) for rows in batches]

    def loss(self, model, batch, carry):
        rows, shifts = batch
        inputs, lengths, targets, mask = batch_of(
            self.train, rows, self.device, score_first=True, shifts=shifts
        )
        logits, _ = model(inputs, lengths=lengths, targets=targets)
        total, steps = nll_per_step(logits, targets, mask)
        return total / steps, None, int(steps.item())

    def evaluate(self, model) -> dict:
        ranks = processes()  # under torchrun each rank scores its share of the pieces
        sums = nll_sums(model, self.valid[ranks.rows(len(self.valid))], self.device)
        total, steps = ranks.reduce(list(sums), self.device)
        return {"loss": total / steps}


RECIPE = Recipe(
    "music",
    MusicDataConfig,
    PianoRollModelConfig,
    # The JSB recipe (BENCHMARKS.md: LSTM 256 with the MADE output, test NLL 5.44 per step).
    # 12,000 steps of JSB's short chorales with the cosine schedule over them; the best
    # validation comes near step 1,800 and the model overfits after it, so training stops
    # after 20 validations (2,000 steps) without improvement, with the same best weights. A
    # corpus of longer pieces stops at the 15-minute budget instead, with the learning-rate
    # schedule following the time.
    train_defaults={
        "max_steps": 12000,
        "time_budget": 900.0,
        "eval_every": 100,
        "warmup_steps": 50,
        "early_stopping": 20,
    },
)


class MusicRun(Run):
    """A trained piano-roll model: score files and compose.

    >>> run = rnnkit.load_music_model("runs/jsb")
    >>> run.evaluate("JSB_Chorales.mat", split="test")["loss"]     # NLL per step
    >>> roll = run.generate(length=64, temperature=1.0, seed=0)    # (64, 88) of 0/1
    """

    recipe, network = RECIPE, PianoRollModel

    def evaluate(self, path, split: str = "test") -> dict:
        """``{"loss": NLL per step, "steps", "pieces", "split"}`` of ``split`` in ``path``."""
        data = self.config["data"]
        splits = read_piano_rolls(
            path,
            data["steps_per_quarter"],
            data["valid_fraction"],
            data["test_fraction"],
            self.config["train"]["seed"],
        )
        if split not in splits:
            raise DataError(f"{path}: has no {split!r} split; it has {', '.join(splits)}")
        with self.inference():
            return {**split_nll(self.model, to_tensors(splits[split]), self.device), "split": split}

    def generate(
        self,
        length: int,
        prime: np.ndarray | None = None,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> np.ndarray:
        """``length`` new steps after ``prime`` (a piano roll, or None for a fresh start
        from silence); returns the prime followed by the new steps. O(1) work per step."""
        if temperature <= 0:
            raise ValueError(f"temperature must be positive; got {temperature}")
        # numpy's generator, as the export's: the same seed writes the same piece.
        noise = noise_on(UniformNoise(seed, (1, self.model.config.keys)), self.device)
        silence = torch.zeros(1, self.model.config.keys, device=self.device)
        steps = (
            [torch.as_tensor(prime, dtype=torch.float32, device=self.device)]
            if prime is not None
            else []
        )
        with self.inference():
            # The silent start frame, then the prime in one call; only the state is kept.
            features, state = self.model.features(torch.cat([silence] + steps)[None], None)
            features = features[:, -1]
            new = []
            for index in range(length):
                current = self.model.sample_next(features, temperature, noise(index))
                new.append(current)
                features, state = self.model.step_features(current, state)
        return torch.cat(steps + [torch.cat(new)] if new else steps).cpu().numpy()


def train_music(
    out,
    data: MusicDataConfig | None = None,
    model: PianoRollModelConfig | None = None,
    train: TrainConfig | None = None,
    resume: bool = False,
    on_step=None,
):
    """Trains a piano-roll model into ``out``; returns ``(MusicRun, Counters)``."""
    start = start_run(RECIPE, out, data, model, train, resume)
    data = start.data
    if not data.data:
        raise DataError("no data file: set MusicDataConfig.data (--data)")
    splits = read_piano_rolls(
        data.data, data.steps_per_quarter, data.valid_fraction, data.test_fraction, start.train.seed
    )
    train_set, valid_set = to_tensors(splits.get("train", [])), to_tensors(splits.get("valid", []))
    if not train_set or not valid_set:
        raise DataError(
            f"{data.data}: needs training and validation pieces of at least 2 steps; found "
            f"{len(train_set)} and {len(valid_set)}"
        )
    task = MusicTask(
        train_set, valid_set, data.batch_size, start.train.seed, start.device, data.transpose
    )
    counters = fit(
        start, lambda: PianoRollModel(start.model), task, files={"data": data.data}, on_step=on_step
    )
    return MusicRun.load(out, device=start.train.device), counters


def load_music_model(folder, device: str = "auto") -> MusicRun:
    """Loads the best weights of a music run folder."""
    return MusicRun.load(folder, device)
