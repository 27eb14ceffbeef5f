"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t``, computed by a two-level scan.

minGRU and minLSTM (Feng et al. 2024) reduce to this recurrence because their
gates do not read the previous state. A long log-space cumsum (the paper's
reference code) loses float32 accuracy over thousands of steps; a step loop in
Python is exact but pays per-step overhead T times. Here the time axis is cut
into ``n`` chunks of ``c`` steps (``n*c >= T``, both about sqrt(T)):

1. every chunk runs the recurrence from a zero state, all chunks at once (``c`` steps);
2. the state entering each chunk is carried across chunks (``n`` steps), using
   each chunk's product of ``a``;
3. each step adds its chunk's incoming state times the running product of ``a``.

Every number is a sum of products of ``a`` and ``b`` with no division, exp or
log, so the result is as accurate as the sequential loop, in ``c + n`` rather
than ``T`` sequential operations. The backward pass is the same recurrence run
backwards in time (a custom autograd function), so it is just as cheap.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _chunked(a: Tensor, b: Tensor, h0: Tensor, reverse: bool = False) -> Tensor:
    """``a``, ``b``: ``(batch, time, hidden)``; ``h0``: ``(batch, hidden)``. Returns ``h`` like
    ``b``.

    With ``reverse`` the recurrence runs from the last step to the first. The
    work is done in place in a ``(batch, chunks, chunk, hidden)`` view, without
    transposed copies: on a CPU these sweeps are memory-bound."""
    batch, time, hidden = b.shape
    size = math.isqrt(time - 1) + 1 if time > 1 else 1
    count = -(-time // size)
    pad = count * size - time
    if pad:  # identity steps (a=1, b=0) at the end change nothing, in either direction
        a = torch.cat([a, a.new_ones(batch, pad, hidden)], dim=1)
        b = torch.cat([b, b.new_zeros(batch, pad, hidden)], dim=1)
    a, b = a.reshape(batch, count, size, hidden), b.reshape(batch, count, size, hidden)
    local, product = torch.empty_like(b), torch.empty_like(a)
    steps = list(range(size))[::-1] if reverse else list(range(size))
    local[:, :, steps[0]], product[:, :, steps[0]] = b[:, :, steps[0]], a[:, :, steps[0]]
    for previous, c in zip(steps, steps[1:]):
        torch.addcmul(b[:, :, c], a[:, :, c], local[:, :, previous], out=local[:, :, c])
        torch.mul(a[:, :, c], product[:, :, previous], out=product[:, :, c])
    entering = torch.empty(batch, count, hidden, dtype=b.dtype, device=b.device)
    chunks, last = (
        (list(range(count))[::-1], steps[-1]) if reverse else (list(range(count)), steps[-1])
    )
    entering[:, chunks[0]] = h0
    for previous, n in zip(chunks, chunks[1:]):
        torch.addcmul(
            local[:, previous, last],
            product[:, previous, last],
            entering[:, previous],
            out=entering[:, n],
        )
    h = torch.addcmul(local, product, entering.unsqueeze(2), out=local)
    return h.view(batch, count * size, hidden)[:, :time]


class _LinearScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0):
        h = _chunked(a, b, h0)
        ctx.save_for_backward(a, h, h0)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        a, h, h0 = ctx.saved_tensors
        # dL/dh_t = grad_h_t + a_{t+1} dL/dh_{t+1}: the same recurrence, backwards in time.
        a_next = torch.empty_like(a)
        a_next[:, :-1], a_next[:, -1] = a[:, 1:], 0
        total = _chunked(a_next, grad_h, torch.zeros_like(h0), reverse=True)
        grad_a = torch.empty_like(a)
        torch.mul(total[:, 1:], h[:, :-1], out=grad_a[:, 1:])
        torch.mul(total[:, 0], h0, out=grad_a[:, 0])
        return grad_a, total, a[:, 0] * total[:, 0]


def linear_scan(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """``h_t = a_t * h_{t-1} + b_t`` for t = 1..T: ``a``, ``b`` ``(batch, time, hidden)``,
    ``h0`` ``(batch, hidden)``; returns all ``h_t`` as ``(batch, time, hidden)``."""
    return _LinearScan.apply(a, b, h0)


def sequential_scan(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """The same recurrence as a plain loop over time (the reference)."""
    outputs, h = [], h0
    for t in range(b.shape[1]):
        h = a[:, t] * h + b[:, t]
        outputs.append(h)
    return torch.stack(outputs, dim=1)
