"""Layers by cell name, for configs and the command line."""

from __future__ import annotations

from rnnkit.nn.checks import check_choice
from rnnkit.nn.minimal import MinGRU, MinLSTM
from rnnkit.nn.layers import GRU, LSTM, RNN
from rnnkit.nn.recurrent import Recurrent

LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU, "mingru": MinGRU, "minlstm": MinLSTM}
CELLS = (*LAYERS, "rnn_relu")


def make_recurrent(cell: str, input_size: int, hidden_size: int, **options) -> Recurrent:
    """Builds a layer by cell name: rnn (tanh), rnn_relu, lstm, gru, mingru or minlstm."""
    if cell == "rnn_relu":
        return RNN(input_size, hidden_size, nonlinearity="relu", **options)
    check_choice("cell", cell, CELLS)
    return LAYERS[cell](input_size, hidden_size, **options)
