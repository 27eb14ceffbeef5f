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


def _chunked(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """``a``, ``b``: ``(batch, time, hidden)``; ``h0``: ``(batch, hidden)``. Returns ``h`` like ``b``."""
    batch, time, hidden = b.shape
    size = max(1, math.isqrt(time - 1) + 1 if time > 1 else 1)
    count = -(-time // size)
    pad = count * size - time
    if pad:  # identity steps (a=1, b=0) at the end change nothing
        a = torch.cat([a, a.new_ones(batch, pad, hidden)], dim=1)
        b = torch.cat([b, b.new_zeros(batch, pad, hidden)], dim=1)
    # (size, batch, count, hidden): step c of every chunk is one contiguous slice.
    a = a.view(batch, count, size, hidden).permute(2, 0, 1, 3).contiguous()
    b = b.view(batch, count, size, hidden).permute(2, 0, 1, 3).contiguous()
    local, product = torch.empty_like(b), torch.empty_like(a)
    local[0], product[0] = b[0], a[0]
    for c in range(1, size):
        torch.addcmul(b[c], a[c], local[c - 1], out=local[c])
        torch.mul(a[c], product[c - 1], out=product[c])
    entering = torch.empty(count, batch, hidden, dtype=b.dtype, device=b.device)
    entering[0] = h0
    for n in range(1, count):
        torch.addcmul(local[-1, :, n - 1], product[-1, :, n - 1], entering[n - 1], out=entering[n])
    h = torch.addcmul(local, product, entering.permute(1, 0, 2).unsqueeze(0))
    return h.permute(1, 2, 0, 3).reshape(batch, count * size, hidden)[:, :time]


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
        a_next = torch.cat([a[:, 1:], a.new_zeros(a.shape[0], 1, a.shape[2])], dim=1)
        total = _chunked(a_next.flip(1), grad_h.flip(1), torch.zeros_like(h0)).flip(1)
        previous = torch.cat([h0.unsqueeze(1), h[:, :-1]], dim=1)
        return total * previous, total, a[:, 0] * total[:, 0]


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
