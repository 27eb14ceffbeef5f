"""Reference loop, fused path and torch.nn agree on outputs, states and gradients."""

import itertools
import zlib

import pytest
import torch

import rnnkit
from tests.conftest import DEVICE, assert_close
from tests.nn.helpers import KINDS, flatten, make_layers, random_inputs, torch_forward

CASES = list(itertools.product(KINDS, [1, 2, 3], [False, True], [True, False], [False, True]))


def _losses(outputs_and_finals, weights):
    output, final = outputs_and_finals
    tensors = [output, *flatten(final)]
    return sum((t * w).sum() for t, w in zip(tensors, weights))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,with_lengths", CASES)
def test_paths_agree_with_torch(kind, num_layers, bidirectional, batch_first, with_lengths, dtype):
    seed = (
        zlib.crc32(repr((kind, num_layers, bidirectional, batch_first, with_lengths)).encode())
        % 1000
    )
    reference, auto, slow = make_layers(kind, num_layers, bidirectional, batch_first, dtype, seed)
    x, lengths, state = random_inputs(
        auto,
        batch=5,
        time=6,
        dtype=dtype,
        seed=seed,
        with_lengths=with_lengths,
        with_state=seed % 2 == 0,
    )
    results = {}
    for name, layer in (("torch", reference), ("auto", auto), ("reference", slow)):
        inputs = x.clone().requires_grad_()
        result = (
            torch_forward(layer, inputs, state, lengths)
            if name == "torch"
            else layer(inputs, state, lengths)
        )
        if name == "torch":
            weights = [torch.randn_like(t) for t in [result[0], *flatten(result[1])]]
        gradients = torch.autograd.grad(_losses(result, weights), [inputs, *layer.parameters()])
        results[name] = ([result[0], *flatten(result[1])], gradients)
    assert auto.last_path == "fused" and slow.last_path == "reference"
    for name in ("auto", "reference"):
        for got, want, what in zip(results[name][0], results["torch"][0], ["output", "h_n", "c_n"]):
            assert_close(got, want, dtype, f"{name} {what}")
        for got, want in zip(results[name][1], results["torch"][1]):
            assert_close(got, want, dtype, f"{name} gradient")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lengths_equal_running_each_row_alone(kind, bidirectional):
    _, auto, slow = make_layers(
        kind, 2, bidirectional, True, torch.float64, seed=7, input_size=3, hidden_size=4
    )
    x, lengths, _ = random_inputs(
        auto, batch=6, time=9, dtype=torch.float64, seed=7, with_lengths=True, with_state=False
    )
    for layer in (auto, slow):
        output, final = layer(x, lengths=lengths)
        for row, length in enumerate(lengths.tolist()):
            alone_output, alone_final = layer(x[row : row + 1, :length])
            assert_close(output[row, :length], alone_output[0], torch.float64, "output")
            assert torch.all(output[row, length:] == 0), "outputs past a row's length must be zero"
            for got, want in zip(flatten(final), flatten(alone_final)):
                assert_close(got[:, row], want[:, 0], torch.float64, "final state")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("impl", ["auto", "reference"])
def test_state_carries_across_calls(kind, impl):
    _, auto, slow = make_layers(kind, 2, False, True, torch.float64, seed=3)
    layer = auto if impl == "auto" else slow
    x, _, state = random_inputs(
        layer, batch=3, time=10, dtype=torch.float64, seed=3, with_lengths=False, with_state=True
    )
    whole, whole_final = layer(x, state)
    first, carried = layer(x[:, :4], state)
    second, final = layer(x[:, 4:], carried)
    assert_close(torch.cat([first, second], 1), whole, torch.float64, "output")
    for got, want in zip(flatten(final), flatten(whole_final)):
        assert_close(got, want, torch.float64, "state")


def test_dropout_between_layers_only_in_training():
    _, auto, slow = make_layers("lstm", 3, True, True, torch.float64, seed=4)
    x, lengths, _ = random_inputs(
        auto, batch=4, time=5, dtype=torch.float64, seed=4, with_lengths=True, with_state=False
    )
    for layer in (auto, slow):
        layer.dropout = 0.5
        layer.eval()
        eval_output = layer(x, lengths=lengths)[0]
        layer.dropout = 0.0
        assert torch.equal(eval_output, layer(x, lengths=lengths)[0])
        layer.dropout = 0.5
        layer.train()
        torch.manual_seed(0)
        train_output = layer(x)[0]
        assert not torch.allclose(train_output, layer.eval()(x)[0])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_relu_rnn_without_bias(dtype):
    reference = torch.nn.RNN(
        3, 5, num_layers=2, nonlinearity="relu", bias=False, batch_first=True
    ).to(dtype)
    import rnnkit

    for impl in ("auto", "reference"):
        ours = rnnkit.RNN(3, 5, num_layers=2, nonlinearity="relu", bias=False, impl=impl).to(dtype)
        ours.load_state_dict(reference.state_dict(), strict=True)
        x = torch.randn(2, 7, 3, dtype=dtype)
        assert_close(ours(x)[0], reference(x)[0], dtype, impl)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("with_state", [False, True])
def test_frozen_padding_path_is_exact_on_outputs_states_and_gradients(kind, with_state):
    # The CPU lengths path that freezes padded steps with saturated gates (rnnkit.nn.padding),
    # checked in float64 against torch.nn on packed input, for 2 bidirectional layers.
    reference, auto, _ = make_layers(
        kind, 2, True, True, torch.float64, seed=11, input_size=5, hidden_size=6
    )
    x, lengths, state = random_inputs(
        auto,
        batch=7,
        time=9,
        dtype=torch.float64,
        seed=11,
        with_lengths=True,
        with_state=with_state,
    )
    results = []
    for layer in (reference, auto):
        inputs = x.clone().requires_grad_()
        output, final = (
            torch_forward(layer, inputs, state, lengths)
            if layer is reference
            else layer(inputs, state, lengths)
        )
        tensors = [output, *flatten(final)]
        weights = [
            torch.randn(t.shape, dtype=t.dtype, generator=torch.Generator().manual_seed(i)).to(
                t.device
            )
            for i, t in enumerate(tensors)
        ]
        loss = sum((t * w).sum() for t, w in zip(tensors, weights))
        results.append((tensors, torch.autograd.grad(loss, [inputs, *layer.parameters()])))
    frozen_everywhere = kind == "gru" or not with_state
    expected = (
        "lengths: one padded call per layer"
        if frozen_everywhere
        else "lengths: per layer and direction"
    )
    if DEVICE.type == "cpu":
        assert auto.last_path_reason.startswith(expected)
    for got, want in zip(results[1][0] + list(results[1][1]), results[0][0] + list(results[0][1])):
        assert_close(got, want, torch.float64, f"{kind} with_state={with_state}")


def test_frozen_padding_under_bfloat16_autocast():
    torch.manual_seed(0)
    layer = rnnkit.LSTM(8, 16, num_layers=2, bidirectional=True)
    x = torch.randn(4, 12, 8)
    lengths = torch.tensor([12, 3, 7, 1])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output, (h, c) = layer(x, lengths=lengths)
        for row, length in enumerate(lengths.tolist()):
            alone, (h_alone, c_alone) = layer(x[row : row + 1, :length])
            assert (output[row, :length].float() - alone[0].float()).abs().max() < 0.05
            assert (c[:, row].float() - c_alone[:, 0].float()).abs().max() < 0.05
            assert output[row, length:].abs().sum() == 0


def test_lstm_runs_under_bfloat16_autocast_on_every_cpu():
    """oneDNN builds no bfloat16 LSTM without AVX-512 (torch.nn.LSTM fails there);
    the layer then runs the kernel in float32, and says so."""
    from rnnkit.nn.paths import cpu_lstm_runs_bfloat16

    torch.manual_seed(0)
    layer, x = rnnkit.LSTM(8, 16), torch.randn(3, 10, 8)
    reference, _ = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output, _ = layer(x)
        try:
            torch.nn.LSTM(8, 16, batch_first=True)(x)
            torch_runs = True
        except RuntimeError:
            torch_runs = False
    assert torch_runs == cpu_lstm_runs_bfloat16()
    assert ("in float32" in layer.last_path_reason) == (not torch_runs)
    assert (output.float() - reference).abs().max() < 0.05


def test_locked_dropout_between_layers_runs_one_fused_call_per_layer_and_one_mask():
    torch.manual_seed(0)
    layer = rnnkit.LSTM(3, 16, num_layers=2, dropout=0.5, locked_dropout=True).train()
    x = torch.randn(4, 12, 3)
    torch.manual_seed(3)
    output, _ = layer(x)
    assert layer.last_path == "fused" and "locked dropout" in layer.last_path_reason
    # By hand: layer 0, one (batch, 1, features) mask, layer 1.
    weights = [getattr(layer, n) for n in layer._weight_names]
    first = torch.nn.LSTM(3, 16, batch_first=True)
    second = torch.nn.LSTM(16, 16, batch_first=True)
    with torch.no_grad():
        for module, chunk in ((first, weights[:4]), (second, weights[4:])):
            for parameter, value in zip(module.parameters(), chunk):
                parameter.copy_(value)
    torch.manual_seed(3)
    hidden, _ = first(x)
    mask = hidden.new_empty(4, 1, 16).bernoulli_(0.5) / 0.5
    expected, _ = second(hidden * mask)
    torch.testing.assert_close(output, expected)
    layer.eval()
    assert layer(x)[0].shape == (4, 12, 16) and layer.last_path_reason.startswith("one torch")
