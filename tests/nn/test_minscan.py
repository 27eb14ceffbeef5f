"""The compiled minGRU/minLSTM pass against the eager path and a float64 loop, its fallbacks,
and the reasons it gives."""

import pytest
import torch

import rnnkit
from rnnkit.nn import minscan, native

LAYERS = {"mingru": rnnkit.MinGRU, "minlstm": rnnkit.MinLSTM}

compiled = pytest.mark.skipif(
    not minscan.availability()[0], reason=f"no compiled kernel: {minscan.availability()[1]}"
)


def _gradients(layer, x, state, lengths):
    x, state = x.detach().requires_grad_(), state.detach().requires_grad_()
    output, final = layer(x, state, lengths)
    loss = (output.sin() * torch.linspace(-1, 1, output.shape[-1], dtype=x.dtype)).sum()
    loss = loss + final.cos().sum()
    gradients = torch.autograd.grad(loss, [x, state, *layer.parameters()])
    return output, final, gradients


@compiled
@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_compiled_pass_equals_float64_with_lengths_state_and_gradients(name, bidirectional, bias):
    torch.manual_seed(3)
    reference = LAYERS[name](7, 70, num_layers=2, bidirectional=bidirectional, bias=bias)
    reference = reference.double()  # float64 runs the eager path
    layer = LAYERS[name](7, 70, num_layers=2, bidirectional=bidirectional, bias=bias)
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(5, 40, 7, dtype=torch.float64)
    state = torch.randn(2 * (2 if bidirectional else 1), 5, 70, dtype=torch.float64)
    lengths = torch.tensor([40, 1, 17, 39, 8])
    want = _gradients(reference, x, state, lengths)
    got = _gradients(layer, x.float(), state.float(), lengths)
    assert layer.last_path_reason.startswith("compiled gates+scan pass")
    assert reference.last_path_reason.startswith("two-level eager scan")
    assert torch.all(got[0][1, 1:] == 0) and torch.all(got[0][4, 8:] == 0)
    for got_tensor, want_tensor in zip([got[0], got[1], *got[2]], [want[0], want[1], *want[2]]):
        assert (got_tensor.double() - want_tensor).abs().max() <= 2e-5


@compiled
@pytest.mark.parametrize("name", list(LAYERS))
def test_compiled_and_eager_paths_agree_under_bfloat16_autocast(name):
    torch.manual_seed(4)
    layer = LAYERS[name](16, 32)
    x = torch.randn(3, 50, 16)
    results = {}
    for label in ("compiled", "eager"):
        with minscan.eager_only() if label == "eager" else torch.no_grad():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                output, final = layer(x)
        results[label] = output
        assert output.dtype == final.dtype == torch.bfloat16
    # bfloat16 keeps 8 bits: the eager path rounds after every pass, the kernel once at the end
    assert (results["compiled"].float() - results["eager"].float()).abs().max() < 0.05


def test_eager_only_and_unsupported_inputs_say_why():
    layer = rnnkit.MinGRU(3, 4)
    with minscan.eager_only():
        layer(torch.randn(2, 20, 3))
    assert layer.last_path_reason == (
        "two-level eager scan per layer and direction (20 steps); "
        "not compiled: inside minscan.eager_only()"
    )
    assert minscan.why_not(torch.zeros(1, dtype=torch.float64)) == (
        "the compiled kernel computes float32; the input is torch.float64"
    )
    assert minscan.why_not(torch.zeros(1, device="meta")) == (
        "the compiled kernel is for CPUs; this input is on meta"
    )


def test_the_kernel_is_off_without_a_compiler_or_when_asked(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNKIT_CACHE_DIR", str(tmp_path))
    native.load.cache_clear()
    try:
        monkeypatch.setenv("RNNKIT_NATIVE", "0")
        assert native.load("minscan") == (None, "RNNKIT_NATIVE=0 turned the compiled kernels off")
        native.load.cache_clear()
        monkeypatch.setenv("RNNKIT_NATIVE", "1")
        monkeypatch.setenv("CC", "")
        monkeypatch.setenv("PATH", str(tmp_path))
        assert native.load("minscan") == (None, "no C compiler found ($CC, cc or gcc)")
    finally:
        native.load.cache_clear()
    assert not list(tmp_path.glob("kernels/*"))


def _fresh_load(monkeypatch, cache):
    """``native.load("minscan")`` with the kernel cache in ``cache`` and nothing remembered
    from earlier loads (before or after)."""
    monkeypatch.setenv("RNNKIT_CACHE_DIR", str(cache))
    native.load.cache_clear()
    try:
        return native.load("minscan")
    finally:
        native.load.cache_clear()


def test_a_failed_build_is_one_reason_and_leaves_nothing_behind(monkeypatch, tmp_path):
    compiler = tmp_path / "bin" / "cc"
    compiler.parent.mkdir()
    compiler.write_text("#!/bin/sh\necho 'minscan.c:1: error: something broke' >&2\nexit 1\n")
    compiler.chmod(0o755)
    monkeypatch.setenv("CC", str(compiler))
    library, why = _fresh_load(monkeypatch, tmp_path / "cache")
    assert library is None
    assert why == (
        "building the minscan kernel failed: cc failed on minscan.c: "
        "minscan.c:1: error: something broke"
    )
    assert list((tmp_path / "cache" / "kernels").iterdir()) == []


@compiled
def test_the_kernel_is_built_once_into_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNKIT_CACHE_DIR", str(tmp_path))
    native.load.cache_clear()
    try:
        library, how = native.load("minscan")
        built = list((tmp_path / "kernels").iterdir())
        native.load.cache_clear()
        again, how_again = native.load("minscan")
    finally:
        native.load.cache_clear()
    assert library is not None and again is not None
    assert len(built) == 1 and built[0].suffix == ".so" and how == how_again
    assert how == f"compiled minscan kernel ({built[0].name})"


@compiled
@pytest.mark.parametrize("name", list(LAYERS))
def test_bfloat16_storage_computes_in_float32(name):
    """In bfloat16 the kernel reads and writes 8-bit mantissas but computes in float32: against
    float64 on the same rounded inputs, only the rounding of what it stores remains."""
    generator = torch.Generator().manual_seed(5)
    gates, hidden = minscan.GATES[{"mingru": "MinGRU", "minlstm": "MinLSTM"}[name]], 70
    kind = "MinGRU" if name == "mingru" else "MinLSTM"
    projected = torch.randn(3, 60, gates * hidden, generator=generator).bfloat16()
    bias = torch.randn(gates * hidden, generator=generator)
    h0 = torch.randn(3, hidden, generator=generator)
    lengths = torch.tensor([60, 7, 33])
    seeds = torch.randn(3, 60, hidden, generator=generator).bfloat16()
    inputs = [projected.double().requires_grad_(), bias.double().requires_grad_()]
    want = minscan._loop(kind, inputs[0] + inputs[1], h0.double(), lengths)
    (want_projected, want_bias) = torch.autograd.grad((want * seeds.double()).sum(), inputs)
    leaves = [projected.clone().requires_grad_(), bias.clone().requires_grad_()]
    got, final = minscan.fused_scan(kind, leaves[0], leaves[1], h0, lengths)
    assert got.dtype == final.dtype == torch.bfloat16
    got_projected, got_bias = torch.autograd.grad((got * seeds).float().sum(), leaves)
    assert got_projected.dtype == torch.bfloat16 and got_bias.dtype == torch.float32
    assert ((got.double() - want).abs() / want.abs().clamp_min(1)).max() <= 2**-8
    scale = want_projected.abs().max()
    assert (got_projected.double() - want_projected).abs().max() <= 2**-7 * scale
    # the saved states are stored in bfloat16 too, so the summed bias gradient carries their
    # rounding (as the eager bfloat16 path does)
    assert (got_bias.double() - want_bias).abs().max() <= 2**-8 * want_bias.abs().max()


@compiled
def test_loading_the_kernel_keeps_subnormal_numbers(monkeypatch, tmp_path):
    """Linked with -ffast-math, the library would set flush-to-zero for the whole process as
    it loads (gcc's crtfastmath.o), and 5e-324 * 1.0 would become 0 in the user's program.
    Checked in a fresh process, where nothing else has touched the floating-point state."""
    import subprocess
    import sys

    library, _ = _fresh_load(monkeypatch, tmp_path)
    (built,) = (tmp_path / "kernels").iterdir()
    probe = (
        "import ctypes, sys; tiny = float(sys.argv[2]); before = tiny * 1.0; "
        "ctypes.CDLL(sys.argv[1]); print(before > 0, tiny * 1.0 > 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(built), "5e-324"], capture_output=True, text=True
    )
    assert library is not None and done.stdout.split() == ["True", "True"], done.stderr
