"""Argument checks with one-line messages that name the argument, what was
expected and what was received, so that mistakes surface here rather than
deep inside a torch kernel."""

from __future__ import annotations

import torch
from torch import Tensor


def _shape(t: Tensor) -> str:
    return str(tuple(t.shape))


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")


def check_size(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")


def check_tensor(name: str, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(value).__name__}")


def check_cell_input(cell, x, state, pair: bool) -> None:
    """Checks a cell's ``x (batch, input_size)`` and its optional state."""
    name = type(cell).__name__
    check_tensor(f"{name} input", x)
    if x.dim() != 2 or x.shape[1] != cell.input_size:
        raise ValueError(
            f"{name} input must have shape (batch, {cell.input_size}); got {_shape(x)}"
        )
    if state is None:
        return
    parts = state if pair else (state,)
    if pair and (not isinstance(state, (tuple, list)) or len(state) != 2):
        raise TypeError(f"{name} state must be a pair (h, c); got {type(state).__name__}")
    expected = (x.shape[0], cell.hidden_size)
    for part in parts:
        check_tensor(f"{name} state", part)
        if tuple(part.shape) != expected:
            raise ValueError(
                f"{name} state must have shape ({expected[0]}, {expected[1]}); got {_shape(part)}"
            )


def check_layer_input(name: str, x, input_size: int, batch_first: bool) -> None:
    """Checks a layer's input: 3-D with ``input_size`` features."""
    check_tensor(f"{name} input", x)
    layout = "(batch, time, features)" if batch_first else "(time, batch, features)"
    if x.dim() != 3:
        raise ValueError(
            f"{name} input must be 3-D {layout} with batch_first={batch_first}; "
            f"got a {x.dim()}-D tensor of shape {_shape(x)}"
        )
    if x.shape[-1] != input_size:
        raise ValueError(
            f"{name} input must have input_size={input_size} features in its last dimension; "
            f"got {x.shape[-1]} (input shape {_shape(x)})"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} input must be a floating-point tensor; got dtype {x.dtype}")


def check_lengths(name: str, lengths, batch: int, time: int) -> Tensor:
    """Returns ``lengths`` as a 1-D int64 tensor after checking shape, dtype and range."""
    if not isinstance(lengths, Tensor):
        if isinstance(lengths, (list, tuple)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in lengths
        ):
            lengths = torch.tensor(lengths, dtype=torch.long)
        else:
            raise TypeError(
                f"{name} lengths must be a 1-D integer tensor; got {type(lengths).__name__}"
            )
    if lengths.dtype == torch.bool or lengths.is_floating_point() or lengths.is_complex():
        raise TypeError(f"{name} lengths must have an integer dtype; got {lengths.dtype}")
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise ValueError(
            f"{name} lengths must have shape ({batch},), one entry per batch row; "
            f"got {_shape(lengths)}"
        )
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > time:
        raise ValueError(
            f"{name} lengths must lie in [1, {time}] (the input's time steps); "
            f"got values from {low} to {high}"
        )
    return lengths.long()


def check_state(name: str, state, expected: tuple[int, int, int], pair: bool) -> None:
    """Checks a layer's initial state: ``h`` or ``(h, c)``, each of shape ``expected``."""
    if pair:
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"{name} state must be a pair (h_0, c_0); got {type(state).__name__}")
        parts = zip(("h_0", "c_0"), state)
    else:
        parts = [("h_0", state)]
    for label, part in parts:
        check_tensor(f"{name} state {label}", part)
        if tuple(part.shape) != expected:
            raise ValueError(
                f"{name} state {label} must have shape (num_layers*directions, batch, hidden) = "
                f"({expected[0]}, {expected[1]}, {expected[2]}); got {_shape(part)}"
            )
