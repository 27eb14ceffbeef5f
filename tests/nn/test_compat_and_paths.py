"""state_dict compatibility with torch.nn, the choice of path, and state helpers."""

import dataclasses

import pytest
import torch

import rnnkit
from rnnkit.nn.recurrent import Recurrent
from tests.nn.helpers import KINDS


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_state_dict_round_trip_both_ways(kind, bidirectional):
    ours_class, torch_class, options = KINDS[kind]
    arguments = dict(num_layers=3, bidirectional=bidirectional, batch_first=True, **options)
    torch.manual_seed(0)
    theirs = torch_class(4, 6, **arguments)
    torch.manual_seed(0)
    ours = ours_class(4, 6, **arguments)
    # Same names, same shapes, same order, and the same seeded initialisation.
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
    torch.manual_seed(1)
    fresh_theirs, fresh_ours = torch_class(4, 6, **arguments), ours_class(4, 6, **arguments)
    fresh_ours.load_state_dict(theirs.state_dict(), strict=True)
    fresh_theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(fresh_ours(x)[0], theirs(x)[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(fresh_theirs(x)[0], ours(x)[0], rtol=0, atol=1e-6)


def _spy_kind(monkeypatch, layer_class, calls):
    kind = layer_class.kind

    def fused(*args):
        calls.append("fused")
        return kind.fused(*args)

    def step(*args):
        calls.append("step")
        return kind.step(*args)

    monkeypatch.setattr(layer_class, "kind", dataclasses.replace(kind, fused=fused, step=step))


@pytest.mark.parametrize("with_lengths", [False, True])
def test_auto_runs_the_fused_kernel(monkeypatch, with_lengths):
    calls = []
    _spy_kind(monkeypatch, rnnkit.LSTM, calls)
    layer = rnnkit.LSTM(3, 4, num_layers=2, bidirectional=True)
    lengths = torch.tensor([5, 2, 3]) if with_lengths else None
    layer(torch.randn(3, 5, 3), lengths=lengths)
    assert calls and set(calls) == {"fused"}, calls
    assert layer.last_path == "fused"
    expected = (
        "lengths: one padded call per layer"
        if with_lengths
        else "one torch.lstm call over all layers"
    )
    assert layer.last_path_reason.startswith(expected)
    if with_lengths:  # an LSTM with a given state cannot freeze its backward padding: per direction
        calls.clear()
        layer(torch.randn(3, 5, 3), (torch.ones(4, 3, 4), torch.ones(4, 3, 4)), lengths)
        assert set(calls) == {"fused"} and layer.last_path_reason.startswith(
            "lengths: per layer and direction"
        )


def test_reference_runs_the_equation_loop(monkeypatch):
    calls = []
    _spy_kind(monkeypatch, rnnkit.GRU, calls)
    layer = rnnkit.GRU(3, 4, impl="reference")
    layer(torch.randn(2, 5, 3))
    assert calls == ["step"] * 5
    assert (layer.last_path, layer.last_path_reason) == (
        "reference",
        "impl='reference' was asked for",
    )


class ScaledInputLSTM(rnnkit.LSTM):
    """A new cell: the LSTM with its input doubled (a stand-in for any custom equation)."""

    def cell_step(self, x, state, *weights):
        return super().cell_step(2 * x, state, *weights)


def test_custom_cell_falls_back_to_reference_and_fused_refuses():
    layer = ScaledInputLSTM(3, 4)
    x = torch.randn(2, 5, 3)
    output = layer(x)[0]
    assert layer.last_path == "reference"
    assert layer.last_path_reason == (
        "ScaledInputLSTM overrides cell_step, so the fused path would compute something else"
    )
    plain = rnnkit.LSTM(3, 4)
    plain.load_state_dict(layer.state_dict())
    torch.testing.assert_close(output, plain(2 * x)[0])
    with pytest.raises(ValueError) as error:
        ScaledInputLSTM(3, 4, impl="fused")
    assert str(error.value) == (
        "impl='fused' is not possible: ScaledInputLSTM overrides cell_step, so the fused path "
        "would compute something else; use impl='auto' or impl='reference'"
    )


def test_detach_state_keeps_structure_and_cuts_graph():
    layer = rnnkit.LSTM(2, 3)
    _, state = layer(torch.randn(1, 4, 2))
    detached = rnnkit.detach_state(state)
    assert isinstance(detached, tuple) and len(detached) == 2
    assert all(not t.requires_grad and torch.equal(t, s) for t, s in zip(detached, state))
    assert rnnkit.detach_state(None) is None
    with pytest.raises(
        TypeError, match="state must be a tensor or a tuple/list of tensors; got str"
    ):
        rnnkit.detach_state("h")


def test_layers_share_one_generic_class():
    assert all(issubclass(cls, Recurrent) for cls in (rnnkit.RNN, rnnkit.LSTM, rnnkit.GRU))


@pytest.mark.parametrize("kind", list(KINDS))
def test_step_by_step_equals_one_shot(kind):
    from tests.nn.helpers import make_layers, random_inputs

    _, layer, _ = make_layers(kind, 3, False, True, torch.float64, seed=11)
    x, _, state = random_inputs(
        layer, batch=3, time=8, dtype=torch.float64, seed=11, with_lengths=False, with_state=True
    )
    output, final = layer(x, state)
    runners = {
        "step": lambda t, carried: layer.step(x[:, t], carried),
        "stepper": lambda t, carried, run=layer.stepper(): run(x[:, t], carried),
        "stepper(projected)": lambda t, carried, run=layer.stepper(projected_input=True): run(
            layer.input_projection(x[:, t]), carried
        ),
    }
    for name, runner in runners.items():
        carried, steps = state, []
        for t in range(x.shape[1]):
            step_output, carried = runner(t, carried)
            steps.append(step_output)
        torch.testing.assert_close(torch.stack(steps, 1), output, rtol=0, atol=1e-12, msg=name)
        for got, want in zip(
            carried if isinstance(carried, tuple) else [carried],
            final if isinstance(final, tuple) else [final],
        ):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12, msg=name)


def test_stepper_of_a_custom_cell_runs_its_equation():
    layer = ScaledInputLSTM(3, 4)
    x = torch.randn(2, 3)
    assert layer.input_projection(x) is None
    torch.testing.assert_close(layer.stepper()(x, None)[0], layer(x.unsqueeze(1))[0][:, 0])


def test_step_refuses_bidirectional():
    with pytest.raises(
        ValueError,
        match="^step\\(\\) runs forward in time; a bidirectional layer needs the whole sequence$",
    ):
        rnnkit.GRU(2, 3, bidirectional=True).step(torch.randn(1, 2))
