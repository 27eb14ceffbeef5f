"""Training on several processes: ``torchrun`` and DistributedDataParallel.

``torchrun --nproc-per-node N -m rnnkit train ...`` starts N processes and
sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; :func:`processes` joins them
into one process group (nccl on CUDA, gloo on CPU), once per process.

The global batch does not change with N. Every rank builds the same global
batch and takes its share of the rows (:meth:`Processes.shard`); its loss is
weighted by its share of the items, so DDP's mean of the ranks' gradients is
the gradient of the global batch's mean loss, and N processes follow the loss
curve of one, up to the order of floating-point sums.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import distributed as dist
from torch.nn.parallel import DistributedDataParallel

TIMEOUT = datetime.timedelta(minutes=5)
"""How long a rank waits for the others before the run ends with an error (a dead rank)."""


@dataclass
class Processes:
    """This process's place among the training processes (rank 0 of 1 when alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes checkpoints, metrics, plots and the progress bar."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def device(self, name: str) -> torch.device:
        """``auto`` or ``cuda`` becomes this rank's own GPU (``LOCAL_RANK``)."""
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        if name == "cuda" and self.active:
            return torch.device("cuda", self.local_rank)
        return torch.device(name)

    def shard(self, batch):
        """This rank's share of a global batch: every tensor, array and list in it cut
        along its first axis into ``world_size`` near-equal contiguous parts (:meth:`rows`)."""
        if not self.active:
            return batch
        if isinstance(batch, tuple):
            return tuple(self.shard(part) for part in batch)
        if isinstance(batch, (torch.Tensor, np.ndarray, list)):
            return batch[self.rows(len(batch))]
        return batch

    def rows(self, count: int) -> slice:
        """This rank's contiguous share of ``count`` rows (as :meth:`shard` splits them)."""
        if not self.active:
            return slice(0, count)
        size, extra = divmod(count, self.world_size)
        start = self.rank * size + min(self.rank, extra)
        return slice(start, start + size + (1 if self.rank < extra else 0))

    def gather_rows(self, tensor: torch.Tensor) -> torch.Tensor:
        """The ranks' row shares put back together, in rank order (on the CPU)."""
        if not self.active:
            return tensor
        return torch.cat(self.gather(tensor.cpu()))

    def shard_along(self, tensor: torch.Tensor, dim: int) -> torch.Tensor:
        """This rank's part of ``tensor`` along ``dim`` (a saved carried state, say)."""
        rows = self.rows(tensor.shape[dim])
        return tensor.narrow(dim, rows.start, rows.stop - rows.start)

    def reduce(self, values: list[float], device, op=None) -> list[float]:
        """Sums (or ``op``) ``values`` over the ranks, in one float64 all-reduce."""
        if not self.active:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor, op=op or dist.ReduceOp.SUM)
        return tensor.tolist()

    def gather(self, value) -> list:
        """Every rank's ``value`` (tensors travel as CPU tensors), in rank order."""
        if not self.active:
            return [value]
        gathered = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """The model DDP trains: gradients are averaged over the ranks in backward. Other
        attributes (a forecaster's ``loss``, a model's ``config``) read through to the model."""
        if not self.active:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return _ReadThrough(model, device_ids=ids)


class _ReadThrough(DistributedDataParallel):
    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


_CURRENT: Processes | None = None


def processes() -> Processes:
    """This process's :class:`Processes`; joins the process group on the first call
    when started by torchrun (``WORLD_SIZE`` > 1)."""
    global _CURRENT
    if _CURRENT is None:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        _CURRENT = Processes(
            int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))
        )
        if world > 1 and not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            if backend == "nccl":
                torch.cuda.set_device(_CURRENT.local_rank)
            dist.init_process_group(backend, timeout=TIMEOUT)
    return _CURRENT
