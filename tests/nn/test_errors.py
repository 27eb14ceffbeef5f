"""Each argument error has one clear message raised by rnnkit."""

import re

import pytest
import torch

import rnnkit


def _raises(error_type, message, function, *args, **kwargs):
    with pytest.raises(error_type, match="^" + re.escape(message) + "$"):
        function(*args, **kwargs)


def test_input_rank():
    _raises(
        ValueError,
        "LSTM input must be 3-D (batch, time, features) with batch_first=True; "
        "got a 2-D tensor of shape (5, 3)",
        rnnkit.LSTM(3, 4),
        torch.randn(5, 3),
    )
    _raises(
        ValueError,
        "GRU input must be 3-D (time, batch, features) with batch_first=False; "
        "got a 4-D tensor of shape (1, 2, 3, 3)",
        rnnkit.GRU(3, 4, batch_first=False),
        torch.randn(1, 2, 3, 3),
    )


def test_feature_size():
    _raises(
        ValueError,
        "RNN input must have input_size=3 features in its last dimension; got 5 "
        "(input shape (2, 7, 5))",
        rnnkit.RNN(3, 4),
        torch.randn(2, 7, 5),
    )


def test_input_type_and_dtype():
    _raises(TypeError, "LSTM input must be a torch.Tensor; got list", rnnkit.LSTM(3, 4), [[1.0]])
    _raises(
        TypeError,
        "LSTM input must be a floating-point tensor; got dtype torch.int64",
        rnnkit.LSTM(3, 4),
        torch.ones(2, 3, 3, dtype=torch.long),
    )


def test_lengths_errors():
    layer, x = rnnkit.GRU(3, 4), torch.randn(2, 5, 3)
    _raises(
        ValueError,
        "GRU lengths must have shape (2,), one entry per batch row; got (3,)",
        layer,
        x,
        lengths=torch.tensor([1, 2, 3]),
    )
    _raises(
        ValueError,
        "GRU lengths must have shape (2,), one entry per batch row; got (2, 1)",
        layer,
        x,
        lengths=torch.tensor([[1], [2]]),
    )
    _raises(
        TypeError,
        "GRU lengths must have an integer dtype; got torch.float32",
        layer,
        x,
        lengths=torch.tensor([1.0, 2.0]),
    )
    _raises(
        ValueError,
        "GRU lengths must lie in [1, 5] (the input's time steps); got values from 0 to 5",
        layer,
        x,
        lengths=torch.tensor([0, 5]),
    )
    _raises(
        ValueError,
        "GRU lengths must lie in [1, 5] (the input's time steps); got values from 2 to 6",
        layer,
        x,
        lengths=torch.tensor([6, 2]),
    )
    _raises(TypeError, "GRU lengths must be a 1-D integer tensor; got str", layer, x, lengths="5")
    assert layer(x, lengths=[5, 2])[0].shape == (2, 5, 4)


def test_state_errors():
    x = torch.randn(2, 5, 3)
    _raises(
        ValueError,
        "LSTM state h_0 must have shape (num_layers*directions, batch, hidden) = (4, 2, 4); "
        "got (2, 2, 4)",
        rnnkit.LSTM(3, 4, num_layers=2, bidirectional=True),
        x,
        (torch.zeros(2, 2, 4), torch.zeros(4, 2, 4)),
    )
    _raises(
        ValueError,
        "LSTM state c_0 must have shape (num_layers*directions, batch, hidden) = (1, 2, 4); "
        "got (1, 2, 5)",
        rnnkit.LSTM(3, 4),
        x,
        (torch.zeros(1, 2, 4), torch.zeros(1, 2, 5)),
    )
    _raises(
        TypeError,
        "LSTM state must be a pair (h_0, c_0); got Tensor",
        rnnkit.LSTM(3, 4),
        x,
        torch.zeros(1, 2, 4),
    )
    _raises(
        ValueError,
        "GRU state h_0 must have shape (num_layers*directions, batch, hidden) = (1, 2, 4); "
        "got (2, 4)",
        rnnkit.GRU(3, 4),
        x,
        torch.zeros(2, 4),
    )


def test_constructor_errors():
    _raises(
        ValueError,
        "impl must be one of 'auto', 'fused', 'reference'; got 'cudnn'",
        rnnkit.LSTM,
        3,
        4,
        impl="cudnn",
    )
    _raises(
        ValueError,
        "nonlinearity must be one of 'tanh', 'relu'; got 'sigmoid'",
        rnnkit.RNN,
        3,
        4,
        nonlinearity="sigmoid",
    )
    _raises(
        ValueError,
        "nonlinearity must be one of 'tanh', 'relu'; got 'gelu'",
        rnnkit.RNNCell,
        3,
        4,
        nonlinearity="gelu",
    )
    _raises(ValueError, "hidden_size must be a positive int; got 0", rnnkit.GRU, 3, 0)
    _raises(
        ValueError, "num_layers must be a positive int; got 1.5", rnnkit.GRU, 3, 4, num_layers=1.5
    )
    _raises(
        ValueError,
        "dropout must be a probability in [0, 1); got 1.0",
        rnnkit.GRU,
        3,
        4,
        dropout=1.0,
    )


def test_cell_errors():
    _raises(
        ValueError,
        "LSTMCell input must have shape (batch, 3); got (2, 5)",
        rnnkit.LSTMCell(3, 4),
        torch.randn(2, 5),
    )
    _raises(
        ValueError,
        "GRUCell state must have shape (2, 4); got (2, 5)",
        rnnkit.GRUCell(3, 4),
        torch.randn(2, 3),
        torch.randn(2, 5),
    )
    _raises(
        TypeError,
        "LSTMCell state must be a pair (h, c); got Tensor",
        rnnkit.LSTMCell(3, 4),
        torch.randn(2, 3),
        torch.randn(2, 4),
    )
