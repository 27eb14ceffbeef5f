"""What a run shows and leaves behind: a progress bar, TensorBoard scalars,
``metrics.jsonl`` and a learning-curve PNG."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

from rnnkit.errors import MissingExtra, OutputError, require
from rnnkit.io import new_figure, save_figure, write_text


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Training progress: a tqdm bar on a terminal, a line every ``every`` seconds otherwise.

    ``update(step, total, loss, rate, eta)`` with ``total``/``eta`` None when unknown.
    """

    def __init__(self, unit: str, stream=None, every: float = 10.0, enabled: bool = True):
        self.unit, self.every, self.enabled = unit, every, enabled
        self.stream = stream or sys.stderr
        self.bar = None
        self.last_print = 0.0
        if enabled and self.stream.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(unit="step", file=self.stream, dynamic_ncols=True)

    def update(
        self, step: int, total: int | None, loss: float, rate: float, eta: float | None
    ) -> None:
        if not self.enabled:
            return
        shown_eta = "?" if eta is None else _clock(eta)
        text = f"loss {loss:.4f} | {rate:,.0f} {self.unit}/s | ETA {shown_eta}"
        if self.bar is not None:
            self.bar.total = total
            self.bar.n = step
            self.bar.set_postfix_str(text, refresh=True)
        elif time.monotonic() - self.last_print >= self.every:
            self.last_print = time.monotonic()
            of = f"/{total}" if total else ""
            print(f"step {step}{of} | {text}", file=self.stream, flush=True)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


QUEUED_EVENTS = 4096
"""TensorBoard events the writer thread may hold (about a second of per-step scalars)."""


class MetricsLog:
    """Appends one JSON object per event to ``metrics.jsonl`` and mirrors scalars to TensorBoard.

    Per-step training records are held and written together about once a second (and at
    once with any other record, such as a validation, on :meth:`read` and on :meth:`close`):
    TensorBoard hands every scalar to a writer thread, and waking it four times a step cost
    a fast bf16 step a few percent, as did opening the file each step. A hard kill can lose
    at most the last second of training records; a checkpoint never lacks its own."""

    FLUSH_SECONDS = 1.0

    def __init__(
        self, folder: Path, tensorboard: bool = True, fresh: bool = False, enabled: bool = True
    ):
        """``fresh``: a new run in this folder; the previous run's metrics and
        TensorBoard events are removed, so plots never mix two runs. ``enabled``:
        False on every process but rank 0, which alone writes."""
        self.path = Path(folder) / "metrics.jsonl"
        self.writer, self.enabled = None, enabled
        self._pending: list[tuple[int, dict]] = []
        self._flushed_at = time.monotonic()
        self.where = f"metrics go to {self.path}"
        """One line that says where the metrics go, for the start of training."""
        if not enabled:
            return
        if fresh:
            self.path.unlink(missing_ok=True)
            for events in (Path(folder) / "tensorboard").glob("events.out.tfevents.*"):
                events.unlink()
        if tensorboard:
            try:
                require("tensorboard")
                from torch.utils.tensorboard import SummaryWriter
            except MissingExtra as missing:
                self.where += f" (TensorBoard is off: {missing})"
            else:
                # A queue that holds a whole flush: with the default (10 events) the training
                # thread waits on the writer thread for most of the scalars it hands over.
                self.writer = SummaryWriter(
                    log_dir=str(Path(folder) / "tensorboard"), max_queue=QUEUED_EVENTS
                )
                self.where += f" and TensorBoard events to {Path(folder) / 'tensorboard'}"

    def log(self, step: int, **values) -> None:
        if not self.enabled:
            return
        self._pending.append((step, values))
        training_only = all(name.startswith("train_") for name in values)
        if not training_only or time.monotonic() - self._flushed_at >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Writes the held records to ``metrics.jsonl`` and TensorBoard."""
        pending, self._pending = self._pending, []
        self._flushed_at = time.monotonic()
        if not pending:
            return
        lines = "".join(json.dumps({"step": step, **values}) + "\n" for step, values in pending)
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(lines)
        except OSError as error:
            raise OutputError(f"{self.path}: could not be written ({error.strerror})") from None
        if self.writer is not None:
            for step, values in pending:
                for name, value in values.items():
                    if isinstance(value, (int, float)):
                        self.writer.add_scalar(name.replace("_", "/", 1), value, step)

    def read(self) -> list[dict]:
        if self._pending:
            self.flush()
        if not self.path.is_file():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a line a kill cut short
                records.append(json.loads(line))
        return [record for record in records if isinstance(record, dict) and "step" in record]

    def truncate_after(self, step: int) -> None:
        """Drops events after ``step`` (a resumed run rewrites what followed its checkpoint)."""
        if not self.enabled:
            return
        kept = [r for r in self.read() if r["step"] <= step]
        write_text(self.path, "".join(json.dumps(r) + "\n" for r in kept))

    def close(self) -> None:
        if self.enabled:
            self.flush()
        if self.writer is not None:
            self.writer.close()


def plot_learning_curve(records: list[dict], path: Path, title: str) -> None:
    """Train and validation loss against step, as a PNG."""
    train = [(r["step"], r["train_loss"]) for r in records if "train_loss" in r]
    valid = [(r["step"], r["val_loss"]) for r in records if "val_loss" in r]
    figure, axis = new_figure(figsize=(7, 4))
    if train:
        axis.plot(*zip(*train), label="train", alpha=0.7)
    if valid:
        axis.plot(*zip(*valid), "o-", label="validation")
    axis.set_xlabel("step")
    axis.set_ylabel("loss (nats per token)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)
