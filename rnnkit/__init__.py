"""rnnkit: recurrent neural networks on sequential data, readable and fast.

This module re-exports the public names and defines nothing itself.
"""

from rnnkit.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, Recurrent, RNNCell, detach_state

__version__ = "0.1.0"

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "Recurrent", "detach_state", "__version__"]
