"""Our cells against torch.nn's cells, and gradcheck on each equation."""

import pytest
import torch

import rnnkit
from tests.conftest import assert_close

CELLS = {
    "rnn_tanh": (rnnkit.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (rnnkit.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (rnnkit.LSTMCell, torch.nn.LSTMCell, {}),
    "gru": (rnnkit.GRUCell, torch.nn.GRUCell, {}),
}


def _random_problem(name, dtype, bias=True, seed=0):
    generator = torch.Generator().manual_seed(seed)
    batch, input_size, hidden_size = (
        int(v) for v in torch.randint(1, 9, (3,), generator=generator)
    )
    ours_class, torch_class, options = CELLS[name]
    torch.manual_seed(seed)
    reference = torch_class(input_size, hidden_size, bias=bias, **options).to(dtype)
    ours = ours_class(input_size, hidden_size, bias=bias, **options).to(dtype)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(batch, input_size, dtype=dtype, generator=generator, requires_grad=True)
    h = torch.randn(batch, hidden_size, dtype=dtype, generator=generator)
    state = (h, torch.randn_like(h)) if name == "lstm" else h
    return ours, reference, x, state


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", list(CELLS))
def test_cell_matches_torch(name, bias, dtype):
    for seed in range(3):
        ours, reference, x, state = _random_problem(name, dtype, bias, seed)
        output, new_state = ours(x, state)
        expected = reference(x, state)
        if name == "lstm":
            assert_close(output, expected[0], dtype, "h")
            assert_close(new_state[1], expected[1], dtype, "c")
            loss, expected_loss = (
                output.sum() + 2 * new_state[1].sum(),
                expected[0].sum() + 2 * expected[1].sum(),
            )
        else:
            assert_close(output, expected, dtype, "h")
            assert new_state is output
            loss, expected_loss = (output**2).sum(), (expected**2).sum()
        ours_grads = torch.autograd.grad(loss, [x, *ours.parameters()])
        torch_grads = torch.autograd.grad(expected_loss, [x, *reference.parameters()])
        for got, want in zip(ours_grads, torch_grads):
            assert_close(got, want, dtype, "gradient")


@pytest.mark.parametrize("name", list(CELLS))
def test_cell_gradcheck(name):
    ours, _, x, state = _random_problem(name, torch.float64, seed=1)
    parameters = tuple(ours.parameters())

    def function(x, *flat):
        return ours(x, (flat[0], flat[1]) if name == "lstm" else flat[0])[0]

    flat_state = state if isinstance(state, tuple) else (state,)
    flat_state = tuple(s.clone().requires_grad_() for s in flat_state)
    assert torch.autograd.gradcheck(function, (x, *flat_state))
    assert all(p.requires_grad for p in parameters)
    assert torch.autograd.gradcheck(
        lambda w: torch.func.functional_call(
            ours, {"weight_hh": w}, (x, flat_state if name == "lstm" else flat_state[0])
        )[0],
        (ours.weight_hh.detach().clone().requires_grad_(),),
    )


@pytest.mark.parametrize("name", list(CELLS))
def test_zero_state_by_default(name):
    ours, _, x, state = _random_problem(name, torch.float64)
    zero = tuple(torch.zeros_like(s) for s in state) if name == "lstm" else torch.zeros_like(state)
    torch.testing.assert_close(ours(x)[0], ours(x, zero)[0], rtol=0, atol=0)


def test_state_dict_loads_into_torch_cell():
    torch.manual_seed(3)
    ours = rnnkit.GRUCell(4, 6)
    theirs = torch.nn.GRUCell(4, 6)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 4)
    torch.testing.assert_close(theirs(x), ours(x)[0])
