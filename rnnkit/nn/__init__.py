"""Floor 1: cells written as their equations and the generic recurrent layer.

Imports torch and nothing else of rnnkit.
"""

from rnnkit.nn.cells import GRUCell, LSTMCell, RNNCell, gru_step, lstm_step, rnn_step
from rnnkit.nn.minimal import MinGRU, MinLSTM
from rnnkit.nn.layers import GRU, LSTM, RNN
from rnnkit.nn.recurrent import Recurrent, locked_dropout
from rnnkit.nn.registry import CELLS, make_recurrent
from rnnkit.nn.reset_before import GRUResetBefore
from rnnkit.nn.scan import linear_scan
from rnnkit.nn.stepping import detach_state

__all__ = [
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "rnn_step",
    "lstm_step",
    "gru_step",
    "Recurrent",
    "RNN",
    "LSTM",
    "GRU",
    "GRUResetBefore",
    "MinGRU",
    "MinLSTM",
    "detach_state",
    "locked_dropout",
    "make_recurrent",
    "CELLS",
    "linear_scan",
]
