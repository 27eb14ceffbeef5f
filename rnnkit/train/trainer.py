"""The one trainer: it knows nothing about any task.

A task is anything that fits :class:`TrainingTask`; callbacks go in at
construction. Minimal use::

    trainer = Trainer(model, task, RunFolder("runs/x"), TrainConfig(max_steps=100),
                      on_step=print_loss)
    counters = trainer.fit()

Under ``torchrun`` the same trainer runs on every process with DDP
(:mod:`rnnkit.train.distributed`): each rank trains on its share of the global
batch, and rank 0 alone writes.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from collections.abc import Callable

import torch

from rnnkit.errors import TrainingDiverged
from rnnkit.nn import detach_state
from rnnkit.train.averaging import IterateAverage
from rnnkit.train.checkpoint import RunFolder
from rnnkit.train.config import TrainConfig, autocast, learning_rate_factor, resolve_precision
from rnnkit.train.distributed import processes
from rnnkit.train.progress import MetricsLog, Progress, plot_learning_curve
from rnnkit.train.protocol import Counters, TrainingTask, best_metric, make_optimizer


class Trainer:
    """Trains ``model`` on ``task`` into ``folder`` under ``config``. Call :meth:`fit`."""

    def __init__(
        self,
        model: torch.nn.Module,
        task: TrainingTask,
        folder: RunFolder,
        config: TrainConfig,
        on_step: Callable[[Trainer, float], None] | None = None,
        on_start: Callable[[], None] | None = None,
    ):
        """``on_step(trainer, loss)`` runs after every optimizer step (tests and tools hook
        in). ``on_start()`` runs on rank 0 once the folder holds a complete checkpoint (the
        step-0 one of a new run, or the restored one): the run scaffold writes
        ``config.json`` there, so a folder that has ``config.json`` always loads."""
        self.model, self.task, self.folder, self.config = model, task, folder, config
        self.on_step, self.on_start = on_step, on_start
        self.processes = processes()
        self.device = self.processes.device(config.device)
        self.precision = resolve_precision(config.precision, self.device)
        self.optimizer, self.averaging = make_optimizer(model, config), None
        if config.optimizer == "ntasgd":
            self.averaging = IterateAverage(config.nonmonotone)
        allowed = ("loss", *getattr(task, "higher_is_better", ()))
        if config.select_by not in allowed:
            raise ValueError(
                f"select_by must be one of {', '.join(allowed)} for this task; "
                f"got {config.select_by!r}"
            )
        self.counters = Counters()
        self.carry = None
        self.stop_requested = False
        self._steps_per_epoch: int | None = None
        self.metrics = None  # opened by fit(), which knows whether the run is new
        self.progress = Progress(
            getattr(task, "unit", "items"), enabled=config.progress and self.processes.is_main
        )
        self.network = model  # what trains: the model, or DDP around it (fit sets it)
        self._stop_agreed = False

    # -- limits and schedule -------------------------------------------------
    def _total_steps(self) -> int | None:
        totals = [self.config.max_steps] if self.config.max_steps else []
        if self.config.epochs:
            if self._steps_per_epoch is None:  # epoch 0's; later epochs' may differ by one
                self._steps_per_epoch = len(self.task.batches(0))
            totals.append(math.ceil(self.config.epochs * self._steps_per_epoch))
        return min(totals) if totals else None

    def _progress_fraction(self) -> float:
        fractions = [0.0]
        total = self._total_steps()
        if total:
            fractions.append(self.counters.step / total)
        if self.config.time_budget:
            fractions.append(self.counters.elapsed / self.config.time_budget)
        return max(fractions)

    def _limit_reached(self) -> str:
        total = self._total_steps()
        if total is not None and self.counters.step >= total:
            return f"reached {total} steps"
        if self.config.time_budget and self.counters.elapsed >= self.config.time_budget:
            return f"reached the time budget of {self.config.time_budget:g} s"
        return ""

    def _eta(self, seconds_per_step: float) -> float | None:
        etas = []
        total = self._total_steps()
        if total:
            etas.append((total - self.counters.step) * seconds_per_step)
        if self.config.time_budget:
            etas.append(self.config.time_budget - self.counters.elapsed)
        return min(etas) if etas else None

    # -- one step ------------------------------------------------------------
    def autocast(self):
        """The training precision's autocast context (see :func:`rnnkit.train.config.autocast`)."""
        return autocast(self.precision, self.device)

    def _train_step(self, batch, elapsed: float) -> tuple[float, int, float]:
        factor = learning_rate_factor(self.config, self.counters.step, self._progress_fraction())
        for group in self.optimizer.param_groups:
            # A group still frozen (gradual unfreezing) has lr 0: it neither learns nor decays.
            thawed = self.counters.step >= group.get("start_step", 0)
            group["lr"] = self.config.learning_rate * factor * group.get("lr_scale", 1.0) * thawed
        self.network.train()
        if self.processes.active:  # this rank's rows; a task may say how to split its batches
            shard = getattr(self.task, "shard", None)
            batch = shard(batch, self.processes) if shard else self.processes.shard(batch)
        with self.autocast():
            loss, carry, items = self.task.loss(self.network, batch, self.carry)
        value, total, weight = self._agree(loss, items, elapsed)
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"the training loss became {value} at step {self.counters.step + 1}; stopped "
                f"without saving, so the last good checkpoint in {self.folder.path} is intact "
                "(try a lower --learning-rate)"
            )
        (loss * weight if weight != 1 else loss).backward()
        # The norm before clipping is logged either way (train_grad_norm): it is how
        # exploding gradients show (Pascanu et al. 2013). With clipping off, the
        # factor is exactly 1.
        limit = self.config.clip_norm if self.config.clip_norm > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), limit).item()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.averaging is not None:
            self.averaging.update(self.model)
        self.carry = detach_state(carry)
        return value, total, norm

    def _agree(self, loss: torch.Tensor, items: int, elapsed: float) -> tuple[float, int, float]:
        """``(global mean loss, global items, this rank's loss weight)``. Across processes,
        one all-reduce also makes every rank agree on Ctrl-C and on rank 0's clock, so all
        stop at the same step; a NaN on any rank makes the global loss NaN."""
        if not self.processes.active:
            return loss.item(), items, 1.0
        clock = elapsed if self.processes.is_main else 0.0
        total, loss_sum, stops, clock = self.processes.reduce(
            [items, loss.item() * items, float(self.stop_requested), clock], self.device
        )
        self.stop_requested = self._stop_agreed = stops > 0
        self.counters.elapsed = clock
        # DDP averages the ranks' gradients; this weight makes that average the gradient of
        # the global batch's mean loss when the ranks' shares differ in size.
        return loss_sum / total, int(total), items * self.processes.world_size / total

    # -- validation and saving -------------------------------------------------
    def _evaluate(self) -> None:
        """Every rank scores the whole validation set with the same weights, so every rank
        makes the same choice; rank 0 writes."""
        self.model.eval()
        with self._averaged():
            self._evaluate_and_keep()

    def _averaged(self):
        """NT-ASGD validates and saves the averaged weights once averaging has started."""
        return self.averaging.swapped_in(self.model) if self.averaging else contextlib.nullcontext()

    def _evaluate_and_keep(self) -> None:
        with torch.no_grad(), self.autocast():
            metrics = self.task.evaluate(self.model)
        counters = self.counters
        counters.last_eval = {"step": counters.step, **metrics}
        numbers = {f"val_{k}": v for k, v in metrics.items() if isinstance(v, (int, float))}
        self.metrics.log(counters.step, **numbers)
        score = self._selection_score(metrics)
        improved = score < counters.best_score
        if improved:
            counters.best_score, counters.best_step = score, counters.step
            counters.evals_without_improvement = 0
            if self.processes.is_main:
                self.folder.save_model(self.model)
        else:
            counters.evals_without_improvement += 1
        shown = " | ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
        self.progress.message(
            f"step {counters.step}: validation {shown}{' (best)' if improved else ''}"
        )
        if self.averaging is not None and self.averaging.observe(metrics["loss"], counters.step):
            self.progress.message(
                f"step {counters.step}: validation stopped improving; averaging the weights "
                "from here (NT-ASGD)"
            )

    def _selection_score(self, metrics: dict) -> float:
        """The ``select_by`` metric as a number where lower is better (so ``best_score``
        holds minus the accuracy when selecting by accuracy)."""
        name = self.config.select_by
        return metrics[name] if name == "loss" else -metrics[name]

    def _save_state(self) -> None:
        """Rank 0 saves the whole state: a carried state is gathered from every rank along
        the task's ``carry_batch_dim``, and each rank's torch RNG is kept."""
        parts = _parts(self.carry)
        gathered = self.processes.gather(([p.cpu() for p in parts], torch.get_rng_state()))
        if not self.processes.is_main:
            return
        # The records up to this step are on disk before the checkpoint that names the step:
        # a kill right after it (torchrun ends a slow worker) must not lose them.
        if self.metrics is not None:
            self.metrics.flush()
        dim = getattr(self.task, "carry_batch_dim", 0)
        extra = {
            f"carry.{i}": torch.cat([carries[i] for carries, _ in gathered], dim)
            for i in range(len(parts))
        }
        extra.update({f"rng.rank{rank}": rng for rank, (_, rng) in enumerate(gathered)})
        averaging = {}
        if self.averaging is not None:
            averaging, tensors = self.averaging.state()
            extra.update({name: value.cpu() for name, value in tensors.items()})
        counters = dict(
            vars(self.counters),
            averaging=averaging,
            carry_parts=len(parts),
            carry_is_tuple=isinstance(self.carry, tuple),
            world_size=self.processes.world_size,
        )
        self.folder.save_training_state(self.model, self.optimizer, counters, extra)

    def _resume(self) -> None:
        saved, extra = self.folder.load_training_state(self.model, self.optimizer)
        parts, is_tuple = saved.pop("carry_parts"), saved.pop("carry_is_tuple")
        world = saved.pop("world_size", 1)
        averaging = saved.pop("averaging", {})
        if self.averaging is not None and averaging:
            self.averaging.load(averaging, extra, self.model)
        if "best_loss" in saved:  # run folders written before the field was renamed
            saved["best_score"] = saved.pop("best_loss")
        self.counters = Counters(**saved)
        self.counters.stopped_because = ""  # a resumed run goes on, whatever stopped it before
        dim = getattr(self.task, "carry_batch_dim", 0)
        carry = [
            self.processes.shard_along(extra[f"carry.{i}"], dim).to(self.device)
            for i in range(parts)
        ]
        self.carry = tuple(carry) if is_tuple else (carry[0] if carry else None)
        own = extra.get(f"rng.rank{self.processes.rank}")
        if own is not None and world == self.processes.world_size:
            torch.set_rng_state(own)  # each rank's dropout goes on where it stopped
        self.metrics.truncate_after(self.counters.step)
        self.progress.message(f"resumed {self.folder.path} at step {self.counters.step}")

    # -- the loop ----------------------------------------------------------------
    def fit(self, resume: bool = False) -> Counters:
        """Trains until a limit, early stopping or Ctrl-C; returns the final counters.

        Ctrl-C finishes the current step, saves, and returns with
        ``stopped_because == "interrupted"``; a second Ctrl-C aborts at once.
        """
        with self.folder.lock() if self.processes.is_main else contextlib.nullcontext():
            return self._fit(resume)

    def _fit(self, resume: bool) -> Counters:
        self.model.to(self.device)
        self.network = self.processes.wrap(self.model, self.device)
        if not resume and self.processes.is_main:
            self.folder.start_fresh()
        self.metrics = MetricsLog(
            self.folder.path, fresh=not resume, enabled=self.processes.is_main
        )
        self.progress.message(self.metrics.where)
        self.progress.message(
            f"training on {self.device.type} in {self.precision}, "
            f"{sum(p.numel() for p in self.model.parameters()):,} parameters"
            + (f", {self.processes.world_size} processes" if self.processes.active else "")
        )
        if resume:
            self._resume()
        else:
            self._save_state()  # step 0: from here on the folder always resumes
            if self.processes.is_main:
                self.folder.save_model(self.model)
        if self.on_start is not None and self.processes.is_main:
            self.on_start()
        # torchrun stops its workers with SIGTERM or SIGINT: both save and stop there.
        stops = (signal.SIGINT, signal.SIGTERM) if self.processes.active else (signal.SIGINT,)
        previous = {number: signal.getsignal(number) for number in stops}
        with contextlib.suppress(ValueError):  # not in the main thread: no handler
            for number in stops:
                signal.signal(number, self._request_stop)
        try:
            self._loop()
        finally:
            with contextlib.suppress(ValueError):
                for number, handler in previous.items():
                    signal.signal(number, handler)
            self.progress.close()
            self.metrics.close()
        self.processes.barrier()  # the others read the weights rank 0 has just written
        return self.counters

    def _request_stop(self, signum, frame) -> None:
        # Under torchrun a Ctrl-C reaches a worker both from the terminal and from torchrun,
        # which passes it on: there every further signal is the same request, and torchrun
        # itself ends a worker that does not stop in time.
        if self.stop_requested and not self.processes.active:
            raise KeyboardInterrupt
        if not self.stop_requested:
            self.progress.message("stopping after this step and saving (Ctrl-C again to abort)")
        self.stop_requested = True

    def _loop(self) -> None:
        counters, config = self.counters, self.config
        start = time.monotonic() - counters.elapsed
        step_times: list[float] = []
        while not counters.stopped_because:
            batches = self.task.batches(counters.epoch)
            while counters.batch_index < len(batches) and not counters.stopped_because:
                counters.stopped_because = self._limit_reached()
                if counters.stopped_because:
                    break
                begun = time.monotonic()
                loss, items, norm = self._train_step(batches[counters.batch_index], begun - start)
                counters.step += 1
                counters.batch_index += 1
                if not self.processes.active:
                    counters.elapsed = time.monotonic() - start
                step_times = (step_times + [time.monotonic() - begun])[-50:]
                seconds = sum(step_times) / len(step_times)
                self.metrics.log(
                    counters.step,
                    train_loss=loss,
                    train_lr=self.optimizer.param_groups[0]["lr"],
                    train_rate=items / seconds,
                    train_grad_norm=norm,
                )
                self.progress.update(
                    counters.step, self._total_steps(), loss, items / seconds, self._eta(seconds)
                )
                if self.on_step is not None:
                    self.on_step(self, loss)
                if counters.step % config.eval_every == 0:
                    self._evaluate()
                    self._save_state()
                    patience = config.early_stopping
                    if patience and counters.evals_without_improvement >= patience:
                        counters.stopped_because = f"no improvement in {patience} validations"
                # Across processes, only what all ranks agreed on in this step's all-reduce
                # counts: a signal that reaches one rank later is acted on at the next step.
                if self._stop_agreed if self.processes.active else self.stop_requested:
                    counters.stopped_because = "interrupted"
            if counters.batch_index >= len(batches):
                counters.epoch, counters.batch_index, self.carry = counters.epoch + 1, 0, None
                if config.epochs and counters.epoch >= config.epochs:
                    counters.stopped_because = (
                        counters.stopped_because or f"reached {config.epochs:g} epochs"
                    )
        self._finish()

    def _finish(self) -> None:
        counters = self.counters
        if (
            counters.last_eval.get("step") != counters.step
            and counters.stopped_because != "interrupted"
        ):
            self._evaluate()
        if counters.best_step < 0 and self.processes.is_main:
            with self._averaged():  # interrupted before any validation: ship it
                self.folder.save_model(self.model)
        self._save_state()
        records = self.metrics.read() if self.processes.is_main else []
        if records:
            plot_learning_curve(
                records, self.folder.file("learning_curve.png"), str(self.folder.path.name)
            )
        self.progress.message(
            f"stopped: {counters.stopped_because}; best validation "
            f"{self.config.select_by} {best_metric(counters, self.config):.4f} "
            f"at step {counters.best_step}"
        )


def _parts(carry) -> list[torch.Tensor]:
    if isinstance(carry, (tuple, list)):
        return list(carry)
    return [] if carry is None else [carry]
