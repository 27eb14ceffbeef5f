"""What every task shares: run-folder configs, resume and data fingerprints."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from rnnkit.errors import RunFolderError
from rnnkit.train import RunFolder, TrainConfig, resolve_device
from rnnkit.train.config import autocast, resolve_precision


def sha256(path) -> str:
    """The file's SHA-256, saved with a run so that resuming can check the data is unchanged."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def from_saved(cls, saved: dict):
    """A config dataclass from its saved dict, ignoring keys that are not its fields
    (derived values stored next to it, such as the vocabulary)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in saved.items() if k in names})


def resume_configs(folder: RunFolder, task: str, data_cls, model_cls, train: TrainConfig | None):
    """The data, model and training configs saved in ``folder``; of ``train``,
    only the limits and the progress display may change on resume."""
    saved = folder.read_config(task)
    if not folder.has_training_state():
        raise RunFolderError(f"{folder.path}: has no training state to resume (state.json is missing)")
    resumed = TrainConfig(**saved["train"])
    if train is not None:
        resumed.max_steps, resumed.epochs, resumed.time_budget = train.max_steps, train.epochs, train.time_budget
        resumed.progress = train.progress
    return from_saved(data_cls, saved["data"]), from_saved(model_cls, saved["model"]), resumed


def starting_configs(folder: RunFolder, task: str, data_cls, model_cls, data, model, train, resume: bool):
    """The configs a run starts from: the saved ones when resuming (see
    :func:`resume_configs`), else the given ones, with the defaults for any not given."""
    if resume:
        return resume_configs(folder, task, data_cls, model_cls, train)
    return data or data_cls(), model or model_cls(), train or TrainConfig()


def check_unchanged(folder: RunFolder, task: str, files: dict) -> None:
    """Resuming needs the data the run was trained on: compares each file's hash."""
    saved = folder.read_config(task)["data"].get("sha256", {})
    saved = saved if isinstance(saved, dict) else {"data": saved}
    for role, path in files.items():
        if path is not None and role in saved and sha256(Path(path)) != saved[role]:
            raise RunFolderError(f"{path}: changed since {folder.path} was trained; resuming needs the same data")


def load_best(folder, task: str, model_cls, config_cls, device: str = "auto"):
    """The best weights of a ``task`` run folder in eval mode on ``device``:
    returns ``(model, saved config, RunFolder, torch.device)``."""
    folder = RunFolder(folder)
    config = folder.read_config(task)
    model = model_cls(from_saved(config_cls, config["model"]))
    folder.load_model(model)
    device = resolve_device(device)
    model.to(device).eval()
    return model, config, folder, device


def training_autocast(config: dict, device):
    """The autocast context of the run's training precision, for scoring and predicting."""
    return autocast(resolve_precision(config["train"]["precision"], device), device)
