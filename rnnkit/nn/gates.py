"""The minGRU and minLSTM gates (Feng et al. 2024): pre-activations -> the coefficients
``(a, b)`` of ``h_t = a_t * h_{t-1} + b_t``. Shared by the eager scan
(:mod:`rnnkit.nn.minimal`) and the compiled kernel's first check (:mod:`rnnkit.nn.minscan`).
"""

from __future__ import annotations

import torch
from torch import Tensor


def positive(x: Tensor) -> Tensor:
    """The paper's g: ``x + 0.5`` for ``x >= 0``, else ``sigmoid(x)``; continuous and > 0.

    The paper runs its scan in log space, which needs positive candidate states;
    g keeps that variant's numbers, so a model trained here matches the paper's."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


class _MinGRUCoefficients(torch.autograd.Function):
    """The minGRU gates with a hand-written backward: on a CPU these passes over
    (batch, time, hidden) tensors cost as much as the matrix product, and autograd's
    version makes about half again as many of them."""

    @staticmethod
    def forward(ctx, projected):
        gate, candidate = projected.chunk(2, dim=-1)
        z = torch.sigmoid(gate)
        g = positive(candidate)
        ctx.save_for_backward(z, g, candidate)
        return 1 - z, z * g

    @staticmethod
    def backward(ctx, grad_a, grad_b):
        z, g, candidate = ctx.saved_tensors
        grad = torch.empty(*z.shape[:-1], 2 * z.shape[-1], dtype=z.dtype, device=z.device)
        grad_gate, grad_candidate = grad.chunk(2, dim=-1)
        slope_z = z - z * z  # dz/dgate = z (1 - z); da = -dz, db = g dz
        torch.mul(grad_b * g - grad_a, slope_z, out=grad_gate)
        # g' = 1 where candidate >= 0, else sigmoid' = g (1 - g)
        slope_g = torch.where(candidate >= 0, torch.ones_like(g), g - g * g)
        torch.mul(grad_b * z, slope_g, out=grad_candidate)
        return grad


def mingru_coefficients(projected: Tensor):
    """``projected = W x + b`` stacks (gate, candidate) -> (a, b) of ``h_t = a h_{t-1} + b``::

    z_t  = sigmoid(W_z x_t + b_z)
    h~_t = g(W_h x_t + b_h)
    h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t
    """
    if projected.requires_grad:
        return _MinGRUCoefficients.apply(projected)
    gate, candidate = projected.chunk(2, dim=-1)
    z = torch.sigmoid(gate)
    return 1 - z, z * positive(candidate)


def minlstm_coefficients(projected: Tensor):
    """``projected = W x + b`` stacks (forget, input, candidate) -> (a, b)::

        f_t  = sigmoid(W_f x_t + b_f),  i_t = sigmoid(W_i x_t + b_i)
        f'_t = f_t / (f_t + i_t),        i'_t = i_t / (f_t + i_t)
        h~_t = g(W_h x_t + b_h)
        h_t  = f'_t * h_{t-1} + i'_t * h~_t

    The normalised gates make the state's scale independent of the sequence
    length (the paper's section 3.2.3)."""
    forget, input_gate, candidate = projected.chunk(3, dim=-1)
    f, i = torch.sigmoid(forget), torch.sigmoid(input_gate)
    total = f + i
    return f / total, i / total * positive(candidate)
