"""The run scaffold every task shares.

Training a task is always the same five moves, done here once:

1. :func:`start_run` resolves the configs: the saved ones when resuming (only
   the limits may change), else the given ones, else the task's measured
   recipe (:class:`Recipe`);
2. the task reads its data and sizes the model to it (its own code);
3. :func:`fit` checks that a resumed run reads the same data, writes
   ``config.json``, seeds, builds the network and runs the one
   :class:`~rnnkit.train.Trainer`;
4. :meth:`Run.load` reloads the best weights as the task's :class:`Run`;
5. the run predicts and evaluates in the precision it was trained in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import torch

from rnnkit.cards import best_validation, write_model_card
from rnnkit.errors import ResumeMismatch, RunFolderError
from rnnkit.fields import COUNT
from rnnkit.train import (
    Counters,
    RunFolder,
    TrainConfig,
    Trainer,
    TrainingTask,
    resolve_device,
)
from rnnkit.train.config import autocast, resolve_precision
from rnnkit.train.distributed import processes
from rnnkit.version import __version__

LIMITS = ("max_steps", "epochs", "time_budget")


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


@dataclass(frozen=True)
class Recipe:
    """A task's name, its config classes and its defaults: the recipe BENCHMARKS.md measured.

    ``train_defaults`` are :class:`TrainConfig` fields; the limits among them
    (``max_steps``, ``epochs``, ``time_budget``) apply only when no limit is given.
    """

    task: str
    data_config: type
    model_config: type
    model_defaults: dict = field(default_factory=dict)
    train_defaults: dict = field(default_factory=dict)
    extra_configs: dict = field(default_factory=dict)
    """Further configs saved beside the model's, by name (the audio features of speech tasks)."""

    def default_model(self):
        return self.model_config(**self.model_defaults)

    def default_train(self) -> TrainConfig:
        return TrainConfig(**self.train_defaults)

    def default_limits(self) -> dict:
        return {name: value for name, value in self.train_defaults.items() if name in LIMITS}


@dataclass
class RunStart:
    """The resolved configs of a run that is about to train."""

    recipe: Recipe
    folder: RunFolder
    data: Any
    model: Any
    train: TrainConfig
    extras: dict
    resume: bool

    @property
    def device(self) -> torch.device:
        return resolve_device(self.train.device)


def start_run(
    recipe: Recipe,
    out,
    data=None,
    model=None,
    train: TrainConfig | None = None,
    resume: bool = False,
    **extras,
) -> RunStart:
    """The configs a run starts from. Resuming takes those saved in ``out``: a config
    given beside ``resume`` must agree with them, except the fields of
    :data:`MAY_CHANGE_ON_RESUME` (each change is reported) and data paths that moved to a
    file with the same content. Otherwise a config not given is the recipe's."""
    folder = RunFolder(out)
    if not resume:
        configs = {name: extras.get(name) or cls() for name, cls in recipe.extra_configs.items()}
        return RunStart(
            recipe,
            folder,
            data or recipe.data_config(),
            model or recipe.default_model(),
            train or recipe.default_train(),
            configs,
            False,
        )
    if folder.path.is_dir() and not folder.file("config.json").exists():
        raise RunFolderError(
            f"{folder.path}: has no saved run to resume (training stopped before its first "
            "checkpoint); train again without --resume"
        )
    saved = folder.read_config(recipe.task)
    if not folder.has_training_state():
        raise RunFolderError(
            f"{folder.path}: has no training state to resume (state.json is missing)"
        )
    classes = {
        "data": recipe.data_config,
        "model": recipe.model_config,
        "train": TrainConfig,
        **recipe.extra_configs,
    }
    given = {"data": data, "model": model, "train": train, **extras}
    resumed, refused, changed = {}, [], []
    for role, cls in classes.items():
        config = from_saved(cls, saved[role])
        for name in given_fields(given.get(role)):
            value, old = getattr(given[role], name), getattr(config, name)
            if getattr(cls, "BOUNDS", {}).get(name) is COUNT:
                continue  # a size the task sets from the data, not the user's to change
            if _same(value, old, saved[role].get("sha256")):
                setattr(config, name, value)  # a moved data file with the same content
            elif role == "train" and name in MAY_CHANGE_ON_RESUME:
                changed.append((name, old, value))
                setattr(config, name, value)
            else:
                refused.append((name, value, old))
        resumed[role] = config
    if refused:
        raise ResumeMismatch(folder.path, refused)
    _replace_limits(resumed["train"], given.get("train"))
    for name, old, new in changed:
        if name != "progress":
            print(f"resuming with {name} {new!r} (the run had {old!r})", file=sys.stderr)
    extras = {name: resumed[name] for name in recipe.extra_configs}
    return RunStart(
        recipe, folder, resumed["data"], resumed["model"], resumed["train"], extras, True
    )


MAY_CHANGE_ON_RESUME = (*LIMITS, "learning_rate", "eval_every", "early_stopping", "progress")
"""TrainConfig fields a resumed run may change (each change is reported); a difference in
any other field of any config is refused."""


def given_fields(config) -> list[str]:
    """The fields of ``config`` its user set: those the command line's flags gave (recorded
    by the CLI as ``config.given_fields``), else those that differ from the defaults."""
    if config is None:
        return []
    recorded = config.__dict__.get("given_fields")
    if recorded is not None:
        return list(recorded)
    return [
        f.name
        for f in dataclasses.fields(config)
        if f.default is dataclasses.MISSING or getattr(config, f.name) != f.default
    ]


def _same(value, old, hashes) -> bool:
    """Equal values, or two paths to files with the same content (a data file that moved;
    when the original is gone, its hash recorded in the run)."""
    if value == old:
        return True
    if not (isinstance(value, str) and isinstance(old, str) and Path(value).is_file()):
        return False
    if Path(old).is_file():
        return sha256(value) == sha256(old)
    known = hashes.values() if isinstance(hashes, dict) else [hashes]
    return sha256(value) in known


def _replace_limits(resumed: TrainConfig, given: TrainConfig | None) -> None:
    """Limits given on resume replace the run's, as they would for a new run."""
    named = set(given_fields(given))
    if named & set(LIMITS):
        for name in LIMITS:
            setattr(resumed, name, getattr(given, name) if name in named else None)


def _check_unchanged(start: RunStart, files: dict, fingerprint: dict) -> None:
    """Resuming needs the data the run was trained on: each file's hash and each fingerprint."""
    saved = start.folder.read_config(start.recipe.task)["data"]
    hashes = saved.get("sha256", {})
    hashes = hashes if isinstance(hashes, dict) else {"data": hashes}
    for role, path in files.items():
        if role in hashes and sha256(path) != hashes[role]:
            raise RunFolderError(
                f"{path}: changed since {start.folder.path} was trained; "
                "resuming needs the same data"
            )
    # What the data is called: a task's data config names it ``data`` (speech, music) or
    # ``train`` (the classifier); else the first file checked above.
    where = getattr(start.data, "data", None) or getattr(start.data, "train", None)
    where = where or next(iter(files.values()), "the data")
    for name, value in fingerprint.items():
        if saved.get(name) != value:
            raise RunFolderError(
                f"{where}: the data changed since {start.folder.path} was trained "
                f"({name} {value}, was {saved.get(name)}); resuming needs the same data"
            )


def fit(
    start: RunStart,
    build_network: Callable[[], torch.nn.Module],
    task: TrainingTask,
    files: dict | None = None,
    derived: dict | None = None,
    fingerprint: dict | None = None,
    on_step=None,
) -> Counters:
    """Writes ``config.json``, seeds, builds the network and trains it into the run folder.

    ``files``: role -> data file whose hash is saved (and, on resume, compared);
    ``derived``: what the task learnt from the data (vocabulary, labels,
    scalers), saved beside the data config; ``fingerprint``: values that must
    not change between a run and its resumption (e.g. split sizes).
    """
    files = {
        role: Path(path) for role, path in (files or {}).items() if path and Path(path).is_file()
    }
    fingerprint = fingerprint or {}
    if start.resume:
        _check_unchanged(start, files, fingerprint)
    hashes = {role: sha256(path) for role, path in files.items()}
    config = {
        "task": start.recipe.task,
        "rnnkit_version": __version__,
        "model": asdict(start.model),
        **{name: asdict(config) for name, config in start.extras.items()},
        "data": {**asdict(start.data), **(derived or {}), **fingerprint, "sha256": hashes},
        "train": asdict(start.train),
    }
    torch.manual_seed(start.train.seed)
    network = build_network()
    rank = processes().rank
    if rank > 0:  # under torchrun: the same weights (drawn above), but each rank its own dropout
        torch.manual_seed(start.train.seed + 1_000_003 * rank)
    trainer = Trainer(
        network,
        task,
        start.folder,
        start.train,
        on_step=on_step,
        on_start=lambda: start.folder.write_config(config),  # rank 0, after a checkpoint
    )
    counters = trainer.fit(resume=start.resume)
    if rank == 0:
        metrics = best_validation(start.folder.file("metrics.jsonl"), start.train.select_by)
        write_model_card(start.folder.path, config, metrics)
    return counters


class Run:
    """A trained run folder, loaded for use: ``model`` (best weights, eval mode),
    ``config`` (the saved ``config.json``), ``folder`` and ``device``.

    Each task subclasses it with its ``recipe`` and ``network`` (the model class)
    and reads what it needs from ``config`` in :meth:`__init__`.
    """

    recipe: ClassVar[Recipe]
    network: ClassVar[type]

    def __init__(
        self, model: torch.nn.Module, config: dict, folder: RunFolder, device: torch.device
    ):
        self.model, self.config, self.folder, self.device = model, config, folder, device

    @classmethod
    def load(cls, folder, device: str = "auto"):
        """The best weights of a run folder (``model.safetensors``) on ``device``, in eval mode."""
        folder = RunFolder(folder)
        config = folder.read_config(cls.recipe.task)
        model = cls.network(from_saved(cls.recipe.model_config, config["model"]))
        folder.load_model(model)
        device = resolve_device(device)
        model.to(device).eval()
        return cls(model, config, folder, device)

    def config_of(self, name: str):
        """A saved config as its dataclass: ``"data"``, ``"model"``, ``"train"`` or an extra."""
        classes = {
            "data": self.recipe.data_config,
            "model": self.recipe.model_config,
            "train": TrainConfig,
            **self.recipe.extra_configs,
        }
        return from_saved(classes[name], self.config[name])

    @contextlib.contextmanager
    def inference(self):
        """No gradients, in the run's training precision: a model trained in bf16
        can score differently in float32, so every task predicts as it trained."""
        precision = resolve_precision(self.config["train"]["precision"], self.device)
        with torch.no_grad(), autocast(precision, self.device):
            yield
