"""The Elman RNN, the LSTM and the GRU: the generic :class:`~rnnkit.nn.recurrent.Recurrent`
layer with each cell's kind (:mod:`rnnkit.nn.cells`)."""

from __future__ import annotations

from rnnkit.nn.cells import GRU_KIND, LSTM_KIND, NONLINEARITIES, RNN_KINDS
from rnnkit.nn.checks import check_choice
from rnnkit.nn.recurrent import Recurrent


class LSTM(Recurrent):
    """Multi-layer LSTM; each step is :func:`rnnkit.nn.cells.lstm_step`.

    State is ``(h, c)``, each ``(num_layers*directions, batch, hidden_size)``.
    See :class:`Recurrent` for the call and the shapes.
    """

    kind = LSTM_KIND


class GRU(Recurrent):
    """Multi-layer GRU; each step is :func:`rnnkit.nn.cells.gru_step`.

    State is ``h`` of shape ``(num_layers*directions, batch, hidden_size)``.
    See :class:`Recurrent` for the call and the shapes.
    """

    kind = GRU_KIND


class RNN(Recurrent):
    """Multi-layer Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``,
    with ``act`` = tanh or relu (``nonlinearity``).

    State is ``h`` of shape ``(num_layers*directions, batch, hidden_size)``.
    See :class:`Recurrent` for the call and the shapes.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: str = "auto",
        locked_dropout: bool = False,
    ):
        check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        self.nonlinearity = nonlinearity
        self.kind = RNN_KINDS[nonlinearity]
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            impl,
            locked_dropout,
        )

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"
