"""minGRU and minLSTM gates and scan in one compiled pass (``kernels/minscan.c``).

On a CPU the eager path spends most of its time in memory-bound elementwise
passes around the scan (about fifteen over ``(batch, time, hidden)`` tensors,
forward and backward). The kernel reads each pre-activation once per direction
of autograd, so a layer costs little more than its one matrix product. It
computes the same function as :func:`rnnkit.nn.minimal.scan_direction`'s eager
path (tested against it and against a float64 loop), and is used only where it
can run: a CPU tensor, a kernel that compiled (see :mod:`rnnkit.nn.native`) and
passed its first check.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging

import torch
from torch import Tensor

from rnnkit.nn import native
from rnnkit.nn.gates import mingru_coefficients, minlstm_coefficients
from rnnkit.nn.scan import sequential_scan

logger = logging.getLogger(__name__)

GATES = {"MinGRU": 2, "MinLSTM": 3}

_switched_off = []


@contextlib.contextmanager
def eager_only():
    """Runs minGRU/minLSTM layers on the eager path inside the block (to compare the two)."""
    _switched_off.append(True)
    try:
        yield
    finally:
        _switched_off.pop()


def _pointer(tensor: Tensor | None):
    return None if tensor is None else ctypes.c_void_p(tensor.data_ptr())


class _FusedScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, projected, bias, h0, lengths, gates, library):
        batch, time, _ = projected.shape
        hidden = h0.shape[-1]
        out = projected.new_empty(batch, time, hidden)
        final = h0.new_empty(batch, hidden)
        half = int(projected.dtype == torch.bfloat16)
        tensors = (projected, bias, h0, lengths, out, final)
        library.minscan_forward(
            gates, half, *map(_pointer, tensors), batch, time, hidden, torch.get_num_threads()
        )
        ctx.gates, ctx.lengths, ctx.library = gates, lengths, library
        ctx.save_for_backward(projected, bias, h0, out)
        return out, final

    @staticmethod
    def backward(ctx, grad_out, grad_final):
        projected, bias, h0, out = ctx.saved_tensors
        batch, time, _ = projected.shape
        hidden = h0.shape[-1]
        grad_out = grad_out.to(projected.dtype).contiguous()
        grad_final = grad_final.float().contiguous()
        grad_projected = torch.empty_like(projected)
        grad_bias_rows = h0.new_empty(batch, projected.shape[-1])
        grad_h0 = torch.empty_like(h0)
        half = int(projected.dtype == torch.bfloat16)
        tensors = (projected, bias, h0, ctx.lengths, out, grad_out, grad_final)
        tensors += (grad_projected, grad_bias_rows, grad_h0)
        ctx.library.minscan_backward(
            ctx.gates, half, *map(_pointer, tensors), batch, time, hidden, torch.get_num_threads()
        )
        grad_bias = grad_bias_rows.sum(0) if bias is not None else None
        return grad_projected, grad_bias, grad_h0, None, None, None


def fused_scan(
    kind_name: str,
    projected: Tensor,
    bias: Tensor | None,
    h0: Tensor,
    lengths: Tensor | None,
    library: ctypes.CDLL | None = None,
):
    """``projected = x W^T`` ``(batch, time, G*hidden)``, without the bias, and ``bias``
    ``(G*hidden,)`` or None -> ``(h (batch, time, hidden), h_n (batch, hidden))`` for a minGRU
    (G = 2) or minLSTM (G = 3) layer and direction. The kernel adds the bias itself, which
    saves a pass over ``projected`` each way.

    Computes in float32. Under bfloat16 autocast ``projected``, the outputs and their
    gradients stay bfloat16 in memory (the kernel widens and rounds as it reads and writes),
    and the small state and bias tensors are float32."""
    dtype = projected.dtype
    if dtype not in (torch.float32, torch.bfloat16):
        projected = projected.float()
    projected = projected.contiguous()
    h0 = h0.float().contiguous()
    if bias is not None:
        bias = bias.float().contiguous()
    if lengths is not None:
        lengths = lengths.to(device="cpu", dtype=torch.int64).contiguous()
    library = library or _library()
    out, final = _FusedScan.apply(projected, bias, h0, lengths, GATES[kind_name], library)
    return out.to(dtype), final.to(dtype)


def _library() -> ctypes.CDLL:
    return _loaded()[0]


def _declare(library: ctypes.CDLL) -> None:
    size, pointer = ctypes.c_int64, ctypes.c_void_p
    library.minscan_forward.restype = None
    library.minscan_forward.argtypes = (
        [ctypes.c_int] * 2 + [pointer] * 6 + [size] * 3 + [ctypes.c_int]
    )
    library.minscan_backward.restype = None
    library.minscan_backward.argtypes = (
        [ctypes.c_int] * 2 + [pointer] * 10 + [size] * 3 + [ctypes.c_int]
    )


@functools.lru_cache(maxsize=None)
def _loaded() -> tuple[ctypes.CDLL | None, str]:
    """The library with its argument types declared, or None, and why; decided once per
    process, so every call goes through the same declared handle."""
    library, how = native.load("minscan")
    if library is None:
        return None, how
    _declare(library)
    why = _first_check(library)
    if why is not None:
        logger.warning("rnnkit: the minscan kernel is not used: %s; the eager path runs", why)
        return None, why
    return library, how


def availability() -> tuple[bool, str]:
    """``(usable, reason)``: the kernel compiled, loaded, and its outputs agree with a float64
    step loop on a small random case."""
    library, reason = _loaded()
    return library is not None, reason


def _first_check(library: ctypes.CDLL) -> str | None:
    generator = torch.Generator().manual_seed(0)
    for name, gates in GATES.items():
        projected = torch.randn(3, 11, gates * 5, generator=generator, dtype=torch.float64)
        h0 = torch.randn(3, 5, generator=generator, dtype=torch.float64)
        lengths = torch.tensor([11, 4, 1])
        bias = torch.randn(gates * 5, generator=generator, dtype=torch.float64)
        wanted = _loop(name, projected + bias, h0, lengths)
        got = fused_scan(name, projected.float(), bias.float(), h0.float(), lengths, library)
        if not torch.allclose(got[0].double(), wanted, atol=1e-5):
            return f"its {name} outputs differ from a float64 loop by {_gap(got[0], wanted):.3g}"
    return None


def _gap(got: Tensor, wanted: Tensor) -> float:
    return (got.double() - wanted).abs().max().item()


def _loop(name: str, projected: Tensor, h0: Tensor, lengths: Tensor) -> Tensor:
    """The layer's equations with the recurrence one step at a time, for the first check."""
    coefficients = mingru_coefficients if name == "MinGRU" else minlstm_coefficients
    a, b = coefficients(projected)
    active = (torch.arange(projected.shape[1]) < lengths[:, None]).unsqueeze(-1)
    # past a row's length: keep the state (a = 1, b = 0), output zero
    h = sequential_scan(torch.where(active, a, torch.ones_like(a)), b * active, h0)
    return h * active


def why_not(x: Tensor) -> str | None:
    """None when the compiled kernel can run a layer on ``x``; else why not."""
    if _switched_off:
        return "inside minscan.eager_only()"
    if x.device.type != "cpu":
        return f"the compiled kernel is for CPUs; this input is on {x.device.type}"
    if x.dtype not in (torch.float32, torch.bfloat16):
        return f"the compiled kernel computes float32; the input is {x.dtype}"
    usable, reason = availability()
    return None if usable else reason
