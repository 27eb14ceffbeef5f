"""Builds seeded random layer problems shared by the layer tests."""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit
from tests.conftest import DEVICE

KINDS = {
    "rnn_tanh": (rnnkit.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (rnnkit.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (rnnkit.LSTM, torch.nn.LSTM, {}),
    "gru": (rnnkit.GRU, torch.nn.GRU, {}),
}


def make_layers(
    kind, num_layers, bidirectional, batch_first, dtype, seed, input_size=None, hidden_size=None
):
    """A torch.nn layer with seeded weights and rnnkit layers (auto, reference) loaded from it."""
    generator = torch.Generator().manual_seed(1000 + seed)
    input_size = input_size or int(torch.randint(1, 7, (1,), generator=generator))
    hidden_size = hidden_size or int(torch.randint(1, 7, (1,), generator=generator))
    ours_class, torch_class, options = KINDS[kind]
    arguments = dict(
        num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, **options
    )
    torch.manual_seed(seed)
    reference = torch_class(input_size, hidden_size, **arguments).to(DEVICE, dtype)
    auto = ours_class(input_size, hidden_size, **arguments).to(DEVICE, dtype)
    slow = ours_class(input_size, hidden_size, impl="reference", **arguments).to(DEVICE, dtype)
    for layer in (auto, slow):
        layer.load_state_dict(reference.state_dict(), strict=True)
    return reference, auto, slow


def random_inputs(layer, batch, time, dtype, seed, with_lengths, with_state):
    generator = torch.Generator().manual_seed(seed)
    shape = (
        (batch, time, layer.input_size) if layer.batch_first else (time, batch, layer.input_size)
    )
    x = torch.randn(shape, dtype=dtype, generator=generator).to(DEVICE)
    lengths = None
    if with_lengths:
        lengths = torch.randint(1, time + 1, (batch,), generator=generator)
        lengths[0], lengths[-1] = time, 1  # always include a full row and a row of length 1
    state = None
    if with_state:
        directions = 2 if layer.bidirectional else 1
        state_shape = (layer.num_layers * directions, batch, layer.hidden_size)
        h = torch.randn(state_shape, dtype=dtype, generator=generator).to(DEVICE)
        state = (
            (h, torch.randn(state_shape, dtype=dtype, generator=generator).to(DEVICE))
            if layer.kind.paired
            else h
        )
    return x, lengths, state


def torch_forward(reference, x, state, lengths):
    """torch.nn on padded input, or on a packed sequence when there are lengths."""
    if lengths is None:
        return reference(x, state)
    packed = pack_padded_sequence(
        x, lengths, batch_first=reference.batch_first, enforce_sorted=False
    )
    output, final = reference(packed, state)
    time = x.shape[1] if reference.batch_first else x.shape[0]
    output, _ = pad_packed_sequence(output, batch_first=reference.batch_first, total_length=time)
    return output, final


def flatten(final):
    return list(final) if isinstance(final, tuple) else [final]
