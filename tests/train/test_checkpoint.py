"""The checkpoint format: safetensors + JSON, atomic, exact round trips."""

import json
import random

import numpy as np
import pytest
import torch

from rnnkit.errors import RunFolderError
from rnnkit.train.checkpoint import RunFolder, load_tensors, save_tensors


def test_tensors_round_trip_and_no_pickle(tmp_path):
    path = tmp_path / "t.safetensors"
    shared = torch.randn(3, 4)
    save_tensors(path, {"a": shared, "b": shared, "c": torch.arange(5)}, metadata={"step": 3})
    loaded = load_tensors(path)
    assert torch.equal(loaded["a"], shared) and torch.equal(loaded["b"], shared)
    header_length = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_length])
    assert header["__metadata__"] == {"step": "3"}
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
    with pytest.raises(
        RunFolderError, match="state.json is at step 5 but state.safetensors at step 4"
    ):
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
