"""How a recurrent layer runs over time: the reference loop and the fused kernels.

All functions here work batch-first, on one layer and one direction unless
their name says otherwise. ``state`` is ``h (batch, hidden)`` or, for cells
with a cell state, ``(h, c)``.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.nn.lengths import length_mask
from rnnkit.nn.padding import frozen_direction


def output_of(state, paired: bool) -> Tensor:
    return state[0] if paired else state


def stack_states(states: list, paired: bool):
    """Per-layer states -> ``(layers, batch, hidden)`` (a pair for paired cells)."""
    if len(states) == 1:
        return tuple(s.unsqueeze(0) for s in states[0]) if paired else states[0].unsqueeze(0)
    if paired:
        return torch.stack([s[0] for s in states]), torch.stack([s[1] for s in states])
    return torch.stack(states)


def where_state(mask: Tensor, new, old, paired: bool):
    if paired:
        return tuple(torch.where(mask, n, o) for n, o in zip(new, old))
    return torch.where(mask, new, old)


def reverse_rows(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverses each row of ``x (batch, time, features)`` within its own length.

    Steps past a row's length stay where they are, so a right-padded batch
    stays right-padded; applying it twice gives back ``x``.
    """
    if lengths is None:
        return x.flip(1)
    steps = torch.arange(x.shape[1], device=x.device)
    index = lengths.to(x.device).unsqueeze(1) - 1 - steps
    index = torch.where(index >= 0, index, steps)
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def reference_direction(step, paired, x, state, weights, lengths):
    """The reference path: the cell's equation in a Python loop over time.

    Rows that have ended keep their state (so the final state is the state at
    each row's own last step) and output zeros.
    """
    outputs = []
    active_at = None
    if lengths is not None:
        active_at = length_mask(lengths, x.shape[1], x.device)
    for t in range(x.shape[1]):
        new_state = step(x[:, t], state, *weights)
        if active_at is None:
            state = new_state
            outputs.append(output_of(state, paired))
        else:
            active = active_at[:, t : t + 1]
            state = where_state(active, new_state, state, paired)
            outputs.append(output_of(new_state, paired) * active)
    return torch.stack(outputs, dim=1), state


def _call_fused(kind, x, state, weights, has_bias, batch_sizes=None):
    """One fused call on one layer and direction; returns ``(output, state)``."""
    hx = tuple(s.unsqueeze(0) for s in state) if kind.paired else state.unsqueeze(0)
    if batch_sizes is None:
        result = kind.fused(x, hx, weights, has_bias, 1, 0.0, torch.is_grad_enabled(), False, True)
    else:
        result = kind.fused(
            x, batch_sizes, hx, weights, has_bias, 1, 0.0, torch.is_grad_enabled(), False
        )
    final = tuple(s.squeeze(0) for s in result[1:])
    return result[0], (final if kind.paired else final[0])


def fused_direction(kind, x, state, weights, has_bias, lengths):
    """One layer and direction on the fused kernel, honouring ``lengths`` (CPU path).

    On CPU the padded kernel (oneDNN) is about 2-3x faster than the packed one,
    so every row runs through the padded kernel over the whole batch; outputs
    before each row's end do not depend on what follows, so they are exact,
    and the steps past the end are zeroed:
    - cells whose state is their output (RNN, GRU) read each row's final state
      from its output at its last step;
    - the LSTM's cell state c is not in its output, so the padded steps are
      made to keep it (see :mod:`rnnkit.nn.padding`).
    """
    weights = [w for w in weights if w is not None]
    if lengths is None:
        return _call_fused(kind, x, state, weights, has_bias)
    last = (lengths - 1).to(x.device)
    active = length_mask(lengths, x.shape[1], x.device)
    if kind.paired:
        output, (_, cell) = frozen_direction(kind, x, state, weights, has_bias, active)
    else:
        output, _ = _call_fused(kind, x, state, weights, has_bias)
    final = output[torch.arange(x.shape[0], device=x.device), last]
    return output * active.unsqueeze(-1), ((final, cell) if kind.paired else final)


def packed_stack(kind, x, hx, weights, has_bias, lengths, layers, dropout, training, bidirectional):
    """All layers and directions in one packed fused call (the cuDNN path for lengths).

    ``hx`` and the returned state are ``(layers*directions, batch, hidden)``
    (a pair for the LSTM); the output is zero past each row's length.
    """
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    order = packed.sorted_indices.to(x.device)
    unsort = packed.unsorted_indices.to(x.device)
    hx = tuple(s[:, order] for s in hx) if kind.paired else hx[:, order]
    result = kind.fused(
        packed.data,
        packed.batch_sizes,
        hx,
        weights,
        has_bias,
        layers,
        dropout,
        training,
        bidirectional,
    )
    output, _ = pad_packed_sequence(
        PackedSequence(
            result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
        ),
        batch_first=True,
        total_length=x.shape[1],
    )
    final = tuple(s[:, unsort] for s in result[1:])
    return output, (final if kind.paired else final[0])


def flatten_for_cudnn(kind, weights, module) -> None:
    """Puts the weights into one contiguous buffer in cuDNN's layout, as
    ``torch.nn.RNNBase.flatten_parameters`` does, so that cuDNN need not copy
    them on every call. A no-op unless every weight is a CUDA tensor cuDNN accepts."""
    if not weights or not all(isinstance(w, Tensor) and w.is_cuda for w in weights):
        return
    if len({w.dtype for w in weights}) != 1 or not all(
        torch.backends.cudnn.is_acceptable(w) for w in weights
    ):
        return
    if len({w.data_ptr() for w in weights}) != len(weights):
        return
    import torch.backends.cudnn.rnn as cudnn_rnn

    with torch.cuda.device_of(weights[0]), torch.no_grad():
        if torch._use_cudnn_rnn_flatten_weight():
            torch._cudnn_rnn_flatten_weight(
                weights,
                4 if module.bias else 2,
                module.input_size,
                cudnn_rnn.get_cudnn_mode(kind.cudnn_mode),
                module.hidden_size,
                0,
                module.num_layers,
                True,
                module.bidirectional,
            )


@functools.cache
def cpu_lstm_runs_bfloat16() -> bool:
    """Whether this CPU's oneDNN builds a bfloat16 LSTM. Without AVX-512 it cannot
    ("could not create a primitive descriptor"), and torch.nn.LSTM fails under bf16
    autocast there; the layer then runs the LSTM kernel in float32 instead."""
    zeros = torch.zeros(1, 1, 1)
    try:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            torch.lstm(
                zeros,
                (zeros, zeros),
                [torch.zeros(4, 1), torch.zeros(4, 1)],
                False,
                1,
                0.0,
                False,
                False,
                True,
            )
    except RuntimeError:
        return False
    return True


def bfloat16_autocast_on_cpu(x: Tensor) -> bool:
    return (
        x.device.type == "cpu"
        and torch.is_autocast_enabled("cpu")
        and torch.get_autocast_dtype("cpu") == torch.bfloat16
    )


def in_float32(run):
    """``run(x, state, lengths)`` with autocast off and float32 inputs (see
    :func:`cpu_lstm_runs_bfloat16`)."""

    def run_in_float32(x, state, lengths):
        with torch.autocast("cpu", enabled=False):
            state = tuple(s.float() for s in state) if isinstance(state, tuple) else state.float()
            return run(x.float(), state, lengths)

    return run_in_float32
