"""MinGRU and MinLSTM: parallel scan against sequential against float64, lengths, state,
stepping."""

import contextlib

import pytest
import torch

import rnnkit
from rnnkit.nn import minscan
from rnnkit.nn.minimal import positive
from rnnkit.nn.scan import linear_scan, sequential_scan

LAYERS = {"mingru": rnnkit.MinGRU, "minlstm": rnnkit.MinLSTM}


def test_positive_is_the_papers_g():
    x = torch.tensor([-3.0, -0.1, 0.0, 0.2, 4.0])
    expected = torch.tensor(
        [
            torch.sigmoid(torch.tensor(-3.0)).item(),
            torch.sigmoid(torch.tensor(-0.1)).item(),
            0.5,
            0.7,
            4.5,
        ]
    )
    torch.testing.assert_close(positive(x), expected)


@pytest.mark.parametrize("time", [1, 2, 3, 17, 100, 257])
def test_linear_scan_matches_the_loop_with_gradients(time):
    generator = torch.Generator().manual_seed(time)
    a = torch.rand(2, time, 3, dtype=torch.float64, generator=generator).requires_grad_()
    b = torch.randn(2, time, 3, dtype=torch.float64, generator=generator).requires_grad_()
    h0 = torch.randn(2, 3, dtype=torch.float64, generator=generator).requires_grad_()
    weights = torch.randn(2, time, 3, dtype=torch.float64, generator=generator)
    scanned, looped = linear_scan(a, b, h0), sequential_scan(a, b, h0)
    torch.testing.assert_close(scanned, looped, rtol=0, atol=1e-13)
    for got, want in zip(
        torch.autograd.grad((scanned * weights).sum(), [a, b, h0]),
        torch.autograd.grad((looped * weights).sum(), [a, b, h0]),
    ):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    assert torch.autograd.gradcheck(
        linear_scan, (a[:, :5].detach().requires_grad_(), b[:, :5].detach().requires_grad_(), h0)
    )


def _float64_sequential(layer, x, h0):
    """The float64 reference: the layer's equations, then the recurrence as a plain loop."""
    a, b = layer.kind.coefficients(
        torch.nn.functional.linear(x, layer.weight_ih_l0, layer.bias_ih_l0)
    )
    output = sequential_scan(a, b, h0[0])
    return output, output[:, -1:].transpose(0, 1)


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("time", [64, 4096])
def test_float32_scan_and_loop_against_float64(name, time):
    """The issue's bounds: <= 1e-5 on outputs and <= 1e-4 on gradients against float64
    sequential."""
    torch.manual_seed(0)
    reference = LAYERS[name](16, 32).double()
    x64 = torch.randn(4, time, 16, dtype=torch.float64)
    h64 = torch.randn(1, 4, 32, dtype=torch.float64) * 0.5
    seeds = torch.randn(4, time, 32, dtype=torch.float64) / time  # a loss of order 1
    contenders = {
        "float64 sequential": (reference, torch.float64),
        "float32 scan": (LAYERS[name](16, 32, impl="scan"), torch.float32),
        "float32 eager scan": (LAYERS[name](16, 32, impl="scan"), torch.float32),
    }
    if time <= 64:  # the float32 step loop is slow at 4096 steps; the loop's maths is checked above
        contenders["float32 loop"] = (LAYERS[name](16, 32, impl="reference"), torch.float32)
    results = {}
    for label, (layer, dtype) in contenders.items():
        layer = layer.to(dtype)
        layer.load_state_dict(reference.state_dict())
        x, h0 = x64.to(dtype).requires_grad_(), h64.to(dtype).requires_grad_()
        with minscan.eager_only() if "eager" in label else contextlib.nullcontext():
            output, final = (
                _float64_sequential(layer, x, h0) if dtype == torch.float64 else layer(x, h0)
            )
        gradients = torch.autograd.grad(
            (output * seeds.to(dtype)).sum(), [x, h0, *layer.parameters()]
        )
        results[label] = (output, final, gradients)
    want_output, want_final, want_gradients = results.pop("float64 sequential")
    for label, (output, final, gradients) in results.items():
        assert (output.double() - want_output).abs().max() <= 1e-5, label
        assert (final.double() - want_final).abs().max() <= 1e-5, label
        for got, want in zip(gradients, want_gradients):
            assert (got.double() - want).abs().max() <= 1e-4, label


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lengths_and_initial_state(name, bidirectional):
    torch.manual_seed(1)
    layer = LAYERS[name](3, 5, num_layers=2, bidirectional=bidirectional).double()
    x = torch.randn(4, 30, 3, dtype=torch.float64)
    state = torch.randn(2 * (2 if bidirectional else 1), 4, 5, dtype=torch.float64)
    lengths = torch.tensor([30, 1, 12, 29])
    output, final = layer(x, state, lengths)
    assert layer.last_path == "scan"
    for row, length in enumerate(lengths.tolist()):
        alone, alone_final = layer(x[row : row + 1, :length], state[:, row : row + 1])
        torch.testing.assert_close(output[row, :length], alone[0], rtol=0, atol=1e-12)
        assert torch.all(output[row, length:] == 0)
        torch.testing.assert_close(final[:, row], alone_final[:, 0], rtol=0, atol=1e-12)
    layer.impl = "reference"
    torch.testing.assert_close(layer(x, state, lengths)[0], output, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(LAYERS))
def test_step_by_step_equals_one_shot(name):
    torch.manual_seed(2)
    layer = LAYERS[name](4, 6, num_layers=3).double().eval()
    x = torch.randn(2, 25, 4, dtype=torch.float64)
    output, final = layer(x)
    for run in (layer.step, layer.stepper()):
        state, steps = None, []
        for t in range(x.shape[1]):
            out, state = run(x[:, t], state)
            steps.append(out)
        torch.testing.assert_close(torch.stack(steps, 1), output, rtol=0, atol=1e-12)
        torch.testing.assert_close(state, final, rtol=0, atol=1e-12)


def test_auto_choice_and_errors():
    layer = rnnkit.MinGRU(3, 4)
    layer(torch.randn(2, 5, 3))
    assert (layer.last_path, layer.last_path_reason) == (
        "reference",
        "5 steps < 8: the step loop is as fast",
    )
    layer(torch.randn(2, 50, 3))
    assert layer.last_path == "scan"
    with pytest.raises(
        ValueError, match="^impl must be one of 'auto', 'reference', 'scan'; got 'fused'$"
    ):
        rnnkit.MinGRU(3, 4, impl="fused")


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_language_model_with_a_min_cell(cell):
    from rnnkit.models import LanguageModel, LanguageModelConfig

    torch.manual_seed(3)
    model = (
        LanguageModel(
            LanguageModelConfig(
                vocab_size=9, cell=cell, embedding_size=5, hidden_size=7, num_layers=2
            )
        )
        .double()
        .eval()
    )
    tokens = torch.randint(0, 9, (2, 30))
    logits, _ = model(tokens)
    run, state, steps = model.stepper(), None, []
    for t in range(tokens.shape[1]):
        step_logits, state = run(tokens[:, t], state)
        steps.append(step_logits)
    torch.testing.assert_close(torch.stack(steps, 1), logits, rtol=0, atol=1e-12)


def test_mingru_gate_backward_matches_autograd():
    from rnnkit.nn.minimal import mingru_coefficients

    generator = torch.Generator().manual_seed(4)
    projected = (
        torch.randn(3, 7, 10, dtype=torch.float64, generator=generator) * 3
    ).requires_grad_()
    assert torch.autograd.gradcheck(mingru_coefficients, (projected,))
    seeds = [torch.randn(3, 7, 5, dtype=torch.float64, generator=generator) for _ in range(2)]
    a, b = mingru_coefficients(projected)
    custom = torch.autograd.grad((a * seeds[0] + b * seeds[1]).sum(), projected)[0]
    gate, candidate = projected.chunk(2, dim=-1)
    z = torch.sigmoid(gate)
    plain = torch.autograd.grad(
        ((1 - z) * seeds[0] + z * positive(candidate) * seeds[1]).sum(), projected
    )[0]
    torch.testing.assert_close(custom, plain, rtol=0, atol=1e-12)
