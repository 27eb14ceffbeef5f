"""One time step at a time: what generation and other O(1)-per-token loops use."""

from __future__ import annotations

from torch import Tensor
from torch.nn import functional as F

from rnnkit.nn import paths


class Stepping:
    """Step methods of :class:`rnnkit.nn.Recurrent` (a mixin: it uses the layer's
    ``kind``, weights and ``cell_step``)."""

    def step(self, x: Tensor, state=None):
        """One time step through every layer: O(1) work per token.

        ``x`` is ``(batch, input_size)``, ``state`` as in :meth:`forward`.
        Returns ``(output (batch, hidden_size), state)``. For tight generation
        loops, :meth:`stepper` does the same with the per-call work hoisted out.
        """
        if self.bidirectional:
            raise ValueError(
                "step() runs forward in time; a bidirectional layer needs the whole sequence"
            )
        paired = self.kind.paired
        if state is None:
            zeros = x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
            state = (zeros, zeros) if paired else zeros
        finals = []
        for layer in range(self.num_layers):
            start = tuple(s[layer] for s in state) if paired else state[layer]
            new = self.cell_step(x, start, *self._weights_of(layer, 0))
            finals.append(new)
            x = paths.output_of(new, paired)
            if layer < self.num_layers - 1 and self.dropout > 0:
                x = F.dropout(x, self.dropout, self.training)
        return x, paths.stack_states(finals, paired)

    def _input_bias(self, bias_ih, bias_hh):
        if bias_ih is None or bias_hh is None or not self.kind.fold_hidden_bias:
            return bias_ih
        return bias_ih + bias_hh

    def input_projection(self, x: Tensor) -> Tensor | None:
        """The first layer's input term for :meth:`stepper`: ``W_ih_l0 x + b_ih_l0``, plus
        ``b_hh_l0`` where the cell adds it outside every gate. ``x (..., input_size)`` ->
        ``(..., gates*hidden_size)``; None for a cell with an overridden ``cell_step``."""
        if self._why_not_fused() is not None:
            return None
        weight_ih, _, bias_ih, bias_hh = self._weights_of(0, 0)
        return F.linear(x, weight_ih, self._input_bias(bias_ih, bias_hh))

    def stepper(self, projected_input: bool = False):
        """``run(inputs, state) -> (output, state)``: :meth:`step` in eval mode with every
        per-call check and weight lookup done once, for generation loops.

        ``inputs`` is ``(batch, input_size)``, or with ``projected_input`` the first
        layer's term from :meth:`input_projection` (a language model looks it up per
        token). The weights and folded biases are read once: make a new stepper after
        any weight change.
        """
        if self.bidirectional:
            raise ValueError(
                "stepper() runs forward in time; a bidirectional layer needs the whole sequence"
            )
        if self._why_not_fused() is not None:
            if projected_input:
                raise ValueError(
                    "stepper(projected_input=True) needs the built-in equation: "
                    f"{self._why_not_fused()}"
                )
            return self.step
        update, paired, layers = self.kind.update, self.kind.paired, []
        for layer in range(self.num_layers):
            weight_ih, weight_hh, bias_ih, bias_hh = self._weights_of(layer, 0)
            hidden_bias = None if self.kind.fold_hidden_bias else bias_hh
            layers.append((weight_ih, self._input_bias(bias_ih, bias_hh), weight_hh, hidden_bias))

        def run(inputs, state):
            if state is None:
                zeros = inputs.new_zeros(self.num_layers, inputs.shape[0], self.hidden_size)
                state = (zeros, zeros) if paired else zeros
            x, finals = inputs, []
            for index, (weight_ih, input_bias, weight_hh, hidden_bias) in enumerate(layers):
                projected = (
                    x if index == 0 and projected_input else F.linear(x, weight_ih, input_bias)
                )
                new = update(
                    projected,
                    (state[0][index], state[1][index]) if paired else state[index],
                    weight_hh,
                    hidden_bias,
                )
                finals.append(new)
                x = new[0] if paired else new
            return x, paths.stack_states(finals, paired)

        return run


def detach_state(state):
    """Cuts the autograd graph of a carried state (truncated BPTT).

    Accepts ``h``, ``(h, c)`` or any nesting of tuples and lists of tensors,
    and returns the same structure with every tensor detached.
    """
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    if state is None:
        return None
    raise TypeError(
        f"state must be a tensor or a tuple/list of tensors; got {type(state).__name__}"
    )
