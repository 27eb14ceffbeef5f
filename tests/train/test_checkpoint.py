"""The checkpoint format: safetensors + JSON, atomic, exact round trips."""

import errno
import hashlib
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnkit.errors import OutputError, RunFolderError
from rnnkit.train.checkpoint import RunFolder, load_tensors, save_tensors


def test_tensors_round_trip_and_no_pickle(tmp_path):
    path = tmp_path / "t.safetensors"
    shared = torch.randn(3, 4)
    save_tensors(path, {"a": shared, "b": shared, "c": torch.arange(5)}, metadata={"step": 3})
    loaded = load_tensors(path)
    assert torch.equal(loaded["a"], shared) and torch.equal(loaded["b"], shared)
    header_length = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_length])
    assert header["__metadata__"]["step"] == "3"
    payload = path.read_bytes()[8 + header_length :]
    assert header["__metadata__"]["sha256"] == hashlib.sha256(payload).hexdigest()
    assert not list(tmp_path.glob(".*tmp")), "the temporary file must be renamed away"


def test_training_state_round_trip(tmp_path):
    folder = RunFolder(tmp_path)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    random.seed(5)
    np.random.seed(6)
    folder.save_training_state(
        model, optimizer, {"step": 1, "note": "x"}, {"carry.0": torch.ones(2)}
    )
    expected = (torch.rand(3), random.random(), np.random.rand())
    restored_model = torch.nn.Linear(3, 2)
    restored_optimizer = torch.optim.AdamW(restored_model.parameters(), lr=0.1)
    torch.manual_seed(99)
    counters, extra = folder.load_training_state(restored_model, restored_optimizer)
    assert counters == {"step": 1, "note": "x"} and torch.equal(extra["carry.0"], torch.ones(2))
    assert (
        torch.equal(torch.rand(3), expected[0])
        and random.random() == expected[1]
        and np.random.rand() == expected[2]
    )
    for a, b in zip(model.parameters(), restored_model.parameters()):
        assert torch.equal(a, b)
    state, restored = optimizer.state_dict()["state"], restored_optimizer.state_dict()["state"]
    for index in state:
        for name in state[index]:
            assert torch.equal(
                torch.as_tensor(state[index][name]), torch.as_tensor(restored[index][name])
            )


def test_half_written_state_is_detected(tmp_path):
    folder = RunFolder(tmp_path)
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    folder.save_training_state(model, optimizer, {"step": 4}, {})
    state = json.loads((tmp_path / "state.json").read_text())
    state["counters"]["step"] = 5
    (tmp_path / "state.json").write_text(json.dumps(state))
    name = state["files"]["state"]
    with pytest.raises(RunFolderError, match=f"state.json is at step 5 but {name} at step 4"):
        folder.load_training_state(model, optimizer)


def test_run_folder_errors(tmp_path):
    with pytest.raises(RunFolderError, match=f"^{tmp_path / 'nope'}: no such run folder$"):
        RunFolder(tmp_path / "nope").read_config()
    (tmp_path / "config.json").write_text('{"task": "classify"}')
    with pytest.raises(RunFolderError, match="holds a 'classify' model; expected a 'lm' model$"):
        RunFolder(tmp_path).read_config("lm")
    (tmp_path / "config.json").write_text("{oops")
    with pytest.raises(RunFolderError, match="config.json: line 1, column 2: not valid JSON"):
        RunFolder(tmp_path).read_config()


def _saved_pair(tmp_path, step=1):
    folder = RunFolder(tmp_path)
    torch.manual_seed(step)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    folder.save_training_state(model, optimizer, {"step": step}, {})
    return folder, model, optimizer


def test_a_changed_byte_or_a_cut_file_is_named(tmp_path):
    folder, model, _ = _saved_pair(tmp_path)
    folder.save_model(model)
    path = tmp_path / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(RunFolderError, match=r"model.safetensors: checksum mismatch .* damaged"):
        folder.load_model(torch.nn.Linear(3, 2))
    path.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(RunFolderError, match=r"model.safetensors: not a readable safetensors"):
        folder.load_model(torch.nn.Linear(3, 2))


def test_weights_that_do_not_fit_the_config_are_named(tmp_path):
    folder, model, _ = _saved_pair(tmp_path)
    folder.save_model(model)
    with pytest.raises(
        RunFolderError,
        match=r"do not fit the model config.json describes: weight is \[2, 3\] in the file, "
        r"\[4, 3\] in the model$",
    ):
        folder.load_model(torch.nn.Linear(3, 4))


def test_a_save_moves_from_one_complete_pair_to_the_next(tmp_path, monkeypatch):
    folder, model, optimizer = _saved_pair(tmp_path, step=1)
    first = json.loads((tmp_path / "state.json").read_text())["files"]
    # The next save dies after its pair is written, before state.json names it.
    from rnnkit.train import checkpoint

    def dying_write_json(path, payload):
        raise OutputError(f"{path}: could not be written (No space left on device)")

    monkeypatch.setattr(checkpoint, "write_json", dying_write_json)
    saved_weight = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    with pytest.raises(OutputError):
        folder.save_training_state(model, optimizer, {"step": 2}, {})
    monkeypatch.undo()
    restored = torch.nn.Linear(3, 2)
    counters, _ = folder.load_training_state(restored, torch.optim.AdamW(restored.parameters()))
    assert counters["step"] == 1
    assert torch.equal(restored.weight, saved_weight)
    folder.save_training_state(model, optimizer, {"step": 3}, {})
    kept = {p.name for p in tmp_path.glob("*.safetensors")}
    latest = json.loads((tmp_path / "state.json").read_text())["files"]
    assert kept == set(latest.values()), "older and half-written pairs are removed"
    assert not kept & set(first.values())


def test_a_full_disk_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    from rnnkit import io

    path = tmp_path / "x.json"
    io.write_json(path, {"a": 1})

    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(io.os, "fsync", full)
    with pytest.raises(OutputError, match=r"x.json: could not be written \(No space left on "):
        io.write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"], "no temporary file is left"


def test_the_lock_refuses_a_second_writer_and_takes_over_a_stale_one(tmp_path):
    folder = RunFolder(tmp_path / "run")
    with folder.lock():
        holder = json.loads((tmp_path / "run" / ".lock").read_text())
        assert holder["pid"] == os.getpid()
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "from rnnkit.train import RunFolder\n"
                f"with RunFolder({str(tmp_path / 'run')!r}).lock(): pass",
            ],
            capture_output=True,
            text=True,
        )
        assert other.returncode != 0
        assert f"another training (process {os.getpid()}) is writing this folder" in other.stderr
    assert not (tmp_path / "run" / ".lock").exists()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / "run" / ".lock").write_text(json.dumps({"pid": int(dead.stdout), "host": ""}))
    (tmp_path / "run" / ".lock").write_text(
        json.dumps({"pid": int(dead.stdout), "host": __import__("socket").gethostname()})
    )
    with folder.lock():  # the process that held it is gone: taken over
        assert json.loads((tmp_path / "run" / ".lock").read_text())["pid"] == os.getpid()


def test_out_that_is_a_file_or_not_writable(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"file: is a file, not a folder; give --out a new"):
        RunFolder(tmp_path / "file").prepare()
    locked = tmp_path / "readonly"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(OutputError, match=r"readonly: not writable \(Permission denied\)"):
            with RunFolder(locked).lock():
                pass
    finally:
        locked.chmod(0o700)
