"""The one checkpoint format: safetensors for tensors, JSON for everything else.

A run folder holds:

- ``config.json``: the task, the model and data configs (vocabulary, labels,
  scalers...) and the rnnkit version;
- ``model.safetensors``: the weights to ship (the best ones seen in validation);
- ``last.safetensors``, ``state.safetensors`` and ``state.json``: the latest
  weights, the optimizer's tensors, the RNG states and the trainer's counters,
  for exact resume;
- ``metrics.jsonl``, TensorBoard events and PNG plots.

Nothing is ever pickled, and every file is written to a temporary name and then
renamed, so a crash or Ctrl-C never leaves half a file behind.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from rnnkit.errors import RunFolderError
from rnnkit.io import atomic_write, write_json


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(
            f"{path}: no such file; is {Path(path).parent} a rnnkit run folder?"
        ) from None
    except json.JSONDecodeError as error:
        raise RunFolderError(
            f"{path}: line {error.lineno}, column {error.colno}: not valid JSON ({error.msg})"
        ) from None


def save_tensors(path: Path, tensors: dict, metadata: dict | None = None) -> None:
    # safetensors refuses tensors that share memory (tied weights): store copies.
    plain = {name: t.detach().cpu().contiguous().clone() for name, t in tensors.items()}
    atomic_write(
        path,
        save_safetensors_bytes(plain, metadata={k: str(v) for k, v in (metadata or {}).items()}),
    )


def load_tensors(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise RunFolderError(f"{path}: no such file; is {path.parent} a rnnkit run folder?")
    try:
        return load_safetensors_bytes(path.read_bytes())
    except Exception as error:  # safetensors raises its own error types
        raise RunFolderError(f"{path}: not a readable safetensors file ({error})") from None


def tensors_metadata(path: Path) -> dict:
    """The ``__metadata__`` of a safetensors file (its header is 8 bytes of length, then JSON)."""
    with open(path, "rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        return json.loads(handle.read(length)).get("__metadata__", {})


def load_weights(path: Path, model: torch.nn.Module) -> None:
    tensors = load_tensors(path)
    missing = sorted(set(model.state_dict()) - set(tensors))
    unexpected = sorted(set(tensors) - set(model.state_dict()))
    if missing or unexpected:
        raise RunFolderError(
            f"{path}: weights do not fit the model: missing {missing[:5]}, unexpected "
            f"{unexpected[:5]}"
        )
    model.load_state_dict(tensors, strict=True)


def optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Splits ``optimizer.state_dict()`` into tensors (for safetensors) and the rest (for JSON)."""
    state_dict = optimizer.state_dict()
    tensors, plain = {}, {}
    for index, values in state_dict["state"].items():
        for name, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{index}.{name}"] = value
            else:
                plain.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": state_dict["param_groups"], "state": plain}


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict, plain: dict) -> None:
    state: dict[int, dict] = {int(k): dict(v) for k, v in plain["state"].items()}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": plain["param_groups"]})


def rng_state() -> tuple[dict, dict]:
    """Every random generator training touches: torch (CPU and CUDA), Python and NumPy."""
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, value in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = value
    version, internal, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()
    plain = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, keys.tolist(), int(position), int(has_gauss), float(cached)],
    }
    return tensors, plain


def restore_rng(tensors: dict, plain: dict) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    version, internal, gauss = plain["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, position, has_gauss, cached = plain["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), position, has_gauss, cached))


class RunFolder:
    """Reads and writes one run folder (see the module docstring for its files)."""

    def __init__(self, path):
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def write_config(self, config: dict) -> None:
        write_json(self.file("config.json"), config)

    def read_config(self, task: str | None = None) -> dict:
        if not self.path.is_dir():
            raise RunFolderError(f"{self.path}: no such run folder")
        config = read_json(self.file("config.json"))
        if task is not None and config.get("task") != task:
            raise RunFolderError(
                f"{self.path}: holds a {config.get('task')!r} model; expected a {task!r} model"
            )
        return config

    def save_model(self, model: torch.nn.Module, name: str = "model.safetensors") -> None:
        save_tensors(self.file(name), model.state_dict())

    def load_model(self, model: torch.nn.Module, name: str = "model.safetensors") -> None:
        load_weights(self.file(name), model)

    def has_training_state(self) -> bool:
        return self.file("state.json").is_file()

    def save_training_state(self, model, optimizer, counters: dict, extra_tensors: dict) -> None:
        """Latest weights, optimizer, RNG, counters and any extra tensors (e.g. a carried state).

        ``state.json`` is written last and names the step, so a half-finished
        save is detected on load instead of silently mixing two steps."""
        step = counters["step"]
        self.save_model(model, "last.safetensors")
        optimizer_tensors, optimizer_plain = optimizer_state(optimizer)
        rng_tensors, rng_plain = rng_state()
        tensors = {
            **optimizer_tensors,
            **rng_tensors,
            **{f"extra.{k}": v for k, v in extra_tensors.items()},
        }
        save_tensors(self.file("state.safetensors"), tensors, metadata={"step": step})
        write_json(
            self.file("state.json"),
            {"counters": counters, "optimizer": optimizer_plain, "rng": rng_plain},
        )

    def load_training_state(self, model, optimizer) -> tuple[dict, dict]:
        """Restores what :meth:`save_training_state` wrote; returns ``(counters,
        extra_tensors)``."""
        plain = read_json(self.file("state.json"))
        tensors = load_tensors(self.file("state.safetensors"))
        saved_step = tensors_metadata(self.file("state.safetensors")).get("step")
        if saved_step != str(plain["counters"]["step"]):
            raise RunFolderError(
                f"{self.path}: state.json is at step {plain['counters']['step']} but "
                f"state.safetensors at step {saved_step}; the last save was cut short"
            )
        self.load_model(model, "last.safetensors")
        restore_optimizer(optimizer, tensors, plain["optimizer"])
        restore_rng(tensors, plain["rng"])
        extra = {k[len("extra.") :]: v for k, v in tensors.items() if k.startswith("extra.")}
        return plain["counters"], extra
