"""What ``--precision auto`` means, under mocked CPU capabilities: bf16 where the CPU computes
bfloat16 natively (AVX-512 BF16 or AMX), fp32 elsewhere (AVX2 only, where bf16 is emulated
and slower), and what RNNKIT_PRECISION makes of it."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import RnnkitError
from rnnkit.train.config import native_bf16, resolve_precision

CPU = torch.device("cpu")


@pytest.fixture
def cpu_with(monkeypatch):
    """Makes the CPU report the given capabilities to torch."""

    def report(avx512_bf16: bool, amx: bool) -> None:
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)

    monkeypatch.delenv("RNNKIT_PRECISION", raising=False)
    return report


@pytest.mark.parametrize(
    "avx512_bf16,amx,expected",
    [(False, False, "fp32"), (True, False, "bf16"), (False, True, "bf16"), (True, True, "bf16")],
)
def test_auto_follows_the_cpu(cpu_with, avx512_bf16, amx, expected):
    cpu_with(avx512_bf16, amx)
    assert native_bf16(CPU) is (expected == "bf16")
    assert resolve_precision("auto", CPU) == expected
    assert resolve_precision("fp32", CPU) == "fp32" and resolve_precision("bf16", CPU) == "bf16"


def test_the_variable_decides_auto_and_an_explicit_precision_still_wins(cpu_with, monkeypatch):
    cpu_with(True, False)
    monkeypatch.setenv("RNNKIT_PRECISION", "fp32")
    assert resolve_precision("auto", CPU) == "fp32"
    assert resolve_precision("bf16", CPU) == "bf16"
    cpu_with(False, False)
    monkeypatch.setenv("RNNKIT_PRECISION", " BF16 ")
    assert resolve_precision("auto", CPU) == "bf16"
    monkeypatch.setenv("RNNKIT_PRECISION", "fp16")
    with pytest.raises(RnnkitError, match=r"^RNNKIT_PRECISION must be fp32 or bf16 when set; "):
        resolve_precision("auto", CPU)


def test_a_training_run_says_the_precision_it_chose(cpu_with, tmp_path, capsys):
    from rnnkit.cli import main
    from rnnkit.data import BUNDLED_CORPUS

    text = tmp_path / "t.txt"
    text.write_text(BUNDLED_CORPUS.read_text()[:3000])
    small = ["--hidden-size", "16", "--embedding-size", "8", "--batch-size", "4", "--seq-len", "16"]
    for avx512_bf16, expected in ((False, "fp32"), (True, "bf16")):
        cpu_with(avx512_bf16, False)
        argv = ["train", "lm", "--data", str(text), "--out", str(tmp_path / expected)]
        argv += [*small, "--max-steps", "2", "--sample-length", "0"]
        assert main(argv) == 0
        out = capsys.readouterr()
        assert f"training on cpu in {expected}," in out.out + out.err
