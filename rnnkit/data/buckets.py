"""Length-bucketed batches of variable-length sequences.

Sorting by length within large random pools puts sequences of nearly equal
length together, so padded batches carry little padding; the ``lengths`` that
go with them let the recurrent layers stop each row at its own end. The pools
are drawn at random per epoch, so the batches still change from epoch to epoch
(the "bucket iterator" of torchtext and AllenNLP).
"""

from __future__ import annotations

import torch
from torch import Tensor


def bucket_batches(
    lengths,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    pool_batches: int = 50,
) -> list[list[int]]:
    """Index lists, one per batch, covering every sequence once.

    With ``shuffle`` the order is a seeded function of ``(seed, epoch)``: random
    pools of ``pool_batches * batch_size`` sequences, each sorted by length and
    cut into batches, then the batches in random order. Without it, all
    sequences are sorted by length (for evaluation).
    """
    count = len(lengths)
    lengths = torch.as_tensor(lengths)
    if not shuffle:
        order = torch.sort(lengths, stable=True).indices.tolist()
        return [order[i : i + batch_size] for i in range(0, count, batch_size)]
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    permutation = torch.randperm(count, generator=generator)
    pool = batch_size * pool_batches
    batches = []
    for start in range(0, count, pool):
        members = permutation[start : start + pool]
        members = members[torch.sort(lengths[members], stable=True).indices].tolist()
        batches += [members[i : i + batch_size] for i in range(0, len(members), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def pad_sequences(sequences: list[Tensor], pad_value=0) -> tuple[Tensor, Tensor]:
    """``(padded (batch, max_time, ...), lengths (batch,))`` from tensors ``(time_i, ...)``."""
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    shape = (len(sequences), int(lengths.max()), *sequences[0].shape[1:])
    padded = torch.full(shape, pad_value, dtype=sequences[0].dtype)
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = sequence
    return padded, lengths


class PaddedBatches:
    """An indexable epoch of batches: ``batches[i] -> (padded, lengths, targets)``.

    ``inputs`` is a list of tensors ``(time_i, ...)``, ``targets`` a tensor with
    one row per input, ``index_lists`` the rows of each batch (from
    :func:`bucket_batches`). Each batch is padded when asked for, so an epoch
    costs no memory up front, and moved to ``device``. ``transform(sequence,
    generator)``, if given, changes each sequence first (data augmentation); its
    generator is seeded by ``(seed, batch index)``, so a resumed epoch repeats it exactly.
    """

    def __init__(
        self,
        inputs,
        targets: Tensor,
        index_lists,
        device=None,
        pad_value=0,
        transform=None,
        seed: int = 0,
    ):
        self.inputs, self.targets, self.index_lists = inputs, targets, index_lists
        self.device, self.pad_value, self.transform, self.seed = device, pad_value, transform, seed

    def __len__(self) -> int:
        return len(self.index_lists)

    def __getitem__(self, index: int):
        rows = self.index_lists[index]
        sequences = [self.inputs[i] for i in rows]
        if self.transform is not None:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
            sequences = [self.transform(s, generator) for s in sequences]
        padded, lengths = pad_sequences(sequences, self.pad_value)
        return padded.to(self.device), lengths, self.targets[rows].to(self.device)


class _Indexed(torch.utils.data.Dataset):
    def __init__(self, batches):
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int):
        return self.batches[index]


def _one_thread(worker: int) -> None:
    torch.set_num_threads(1)  # the workers share the cores with training


def _to(batch, device):
    if isinstance(batch, Tensor):
        return batch.to(device)
    return tuple(_to(part, device) for part in batch) if isinstance(batch, tuple) else batch


class LoadedBatches:
    """An epoch of batches made ahead by ``workers`` DataLoader processes, in order.

    ``batches`` is any indexable epoch whose items depend only on their index (as
    :class:`PaddedBatches` seeds its augmentation by batch index), so the batches are
    the same with any number of workers and a resumed epoch repeats exactly. Asking
    for batch ``i`` out of order (a resumed run) starts the workers from ``i``.
    Batches are made on the CPU and moved to ``device`` here.
    """

    def __init__(self, batches, workers: int, device=None):
        self.batches, self.workers, self.device = batches, workers, device
        self._iterator, self._next = None, None

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self.batches):
            raise IndexError(index)
        if self._next != index:
            loader = torch.utils.data.DataLoader(
                _Indexed(self.batches),
                batch_size=None,
                sampler=range(index, len(self.batches)),
                num_workers=self.workers,
                worker_init_fn=_one_thread,
                # Its own generator: seeding the workers must not draw from the global one,
                # which dropout uses, or the run would change with the number of workers.
                generator=torch.Generator().manual_seed(0),
            )
            self._iterator = iter(loader)
        self._next = index + 1
        return _to(next(self._iterator), self.device)
