"""Batches for truncated backpropagation through time (BPTT)."""

from __future__ import annotations

import torch

from rnnkit.errors import DataError


class StreamBatches:
    """Cuts a token sequence into ``batch_size`` parallel contiguous streams of
    ``seq_len`` steps, as in Zaremba et al. 2014 and char-rnn.

    Row ``b`` of batch ``i+1`` continues row ``b`` of batch ``i``, so a model may
    carry its hidden state from one batch to the next (detached between them).
    ``keep_short_last`` keeps a last window of any length. ``offset`` shifts where the streams
    start (the trainer changes it per epoch,
    so that windows are not cut at the same places every time).

    ``windows`` gives each batch's own length instead (variable BPTT); they cover the
    streams from the start, and batches past the streams' end are dropped.

    ``batches[i]`` is ``(inputs, targets)``, each int64 ``(batch_size, seq_len)``;
    the last batch may be shorter in time.
    """

    def __init__(
        self,
        ids: torch.Tensor,
        batch_size: int,
        seq_len: int,
        offset: int = 0,
        name: str = "data",
        keep_short_last: bool = False,
        windows: list[int] | None = None,
    ):
        needed = batch_size * (seq_len + 1)
        if ids.numel() - offset < needed:
            raise DataError(
                f"{name} has {ids.numel()} tokens; one batch of {batch_size} streams x {seq_len} "
                "steps "
                f"needs at least {needed}: use a longer file or a smaller --batch-size/--seq-len"
            )
        per_stream = (ids.numel() - offset - 1) // batch_size
        usable = ids[offset : offset + batch_size * per_stream + 1]
        self.inputs = usable[:-1].view(batch_size, per_stream)
        self.targets = usable[1:].view(batch_size, per_stream)
        self.seq_len = seq_len
        self.starts = None
        if windows is not None:
            starts = [0]
            for length in windows:
                if starts[-1] + length > per_stream:
                    break
                starts.append(starts[-1] + length)
            self.starts, self.length = starts, len(starts) - 1
            return
        # In training a last window shorter than 1/4 of seq_len is dropped: it costs
        # a full step for little data. Evaluation keeps it, so every token is scored.
        full, rest = divmod(per_stream, seq_len)
        self.length = full + (
            1 if rest and (keep_short_last or rest >= max(1, seq_len // 4)) else 0
        )

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        if not 0 <= index < self.length:
            raise IndexError(index)
        if self.starts is not None:
            window = slice(self.starts[index], self.starts[index + 1])
        else:
            window = slice(index * self.seq_len, (index + 1) * self.seq_len)
        return self.inputs[:, window], self.targets[:, window]

    @property
    def tokens_per_epoch(self) -> int:
        return sum(self[i][1].numel() for i in range(self.length))
