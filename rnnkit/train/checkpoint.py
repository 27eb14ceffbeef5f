"""The one checkpoint format: safetensors for tensors, JSON for everything else.

A run folder holds:

- ``config.json``: the task, the model and data configs (vocabulary, labels,
  scalers...) and the rnnkit version;
- ``model.safetensors``: the weights to ship (the best ones seen in validation);
- ``last-<step>.safetensors``, ``state-<step>.safetensors`` and ``state.json``: the
  latest weights, the optimizer's tensors, the RNG states and the trainer's counters,
  for exact resume;
- ``metrics.jsonl``, TensorBoard events and PNG plots.

Nothing is ever pickled, and every file is written to a temporary name and then
renamed, so a crash or Ctrl-C never leaves half a file behind. Each safetensors file
carries the SHA-256 of its tensor bytes in its own header, so a damaged or edited file
is named on load instead of loading garbage.

A checkpoint is a pair of files: the new pair is written beside the old one under new
names, ``state.json`` (which names the pair and records its checksums) is then replaced
in one atomic rename, and only then is the old pair removed. A kill at any instant
leaves ``state.json`` naming one complete pair.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import secrets
import socket
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from rnnkit.errors import OutputError, RunFolderError
from rnnkit.io import atomic_write, write_json


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(
            f"{path}: no such file; is {Path(path).parent} a rnnkit run folder?"
        ) from None
    except OSError as error:  # a name too long for the file system, a folder, no permission
        shown = str(path) if len(str(path)) <= 80 else str(path)[:77] + "..."
        raise RunFolderError(f"{shown}: cannot be read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise RunFolderError(
            f"{path}: line {error.lineno}, column {error.colno}: not valid JSON ({error.msg})"
        ) from None


def _payload(data: bytes) -> bytes:
    """The tensor bytes of a serialised safetensors file (after its length and header)."""
    return data[8 + int.from_bytes(data[:8], "little") :]


def save_tensors(path: Path, tensors: dict, metadata: dict | None = None) -> str:
    """Writes ``tensors`` atomically, with the SHA-256 of their bytes in the header's
    metadata; returns that checksum."""
    # safetensors refuses tensors that share memory (tied weights): store copies.
    plain = {name: t.detach().cpu().contiguous().clone() for name, t in tensors.items()}
    metadata = {k: str(v) for k, v in (metadata or {}).items()}
    # The header does not move the tensor bytes, so the checksum of a first serialisation
    # is that of the file written with it.
    checksum = hashlib.sha256(_payload(save_safetensors_bytes(plain, metadata))).hexdigest()
    atomic_write(path, save_safetensors_bytes(plain, metadata={**metadata, "sha256": checksum}))
    return checksum


def load_tensors(path: Path, expected_sha256: str | None = None) -> dict:
    """The tensors of ``path``, after checking its own checksum (and ``expected_sha256``)."""
    path = Path(path)
    if not path.is_file():
        raise RunFolderError(f"{path}: no such file; is {path.parent} a rnnkit run folder?")
    data = path.read_bytes()
    try:
        tensors = load_safetensors_bytes(data)
        metadata = _header(data).get("__metadata__") or {}
    except Exception as error:  # safetensors raises its own error types
        raise RunFolderError(
            f"{path}: not a readable safetensors file ({str(error).splitlines()[0]}); it was "
            "cut short or is not a weights file"
        ) from None
    recorded = metadata.get("sha256")
    if recorded is not None or expected_sha256 is not None:
        found = hashlib.sha256(_payload(data)).hexdigest()
        for wanted in (recorded, expected_sha256):
            if wanted is not None and wanted != found:
                raise RunFolderError(
                    f"{path}: checksum mismatch (sha256 {found[:12]}..., expected "
                    f"{wanted[:12]}...); the file was damaged or changed after it was saved"
                )
    return tensors


def _header(data: bytes) -> dict:
    length = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + length])


def tensors_metadata(path: Path) -> dict:
    """The ``__metadata__`` of a safetensors file (its header is 8 bytes of length, then JSON)."""
    with open(path, "rb") as handle:
        length = handle.read(8)
        return (
            _header(length + handle.read(int.from_bytes(length, "little"))).get("__metadata__")
            or {}
        )


def load_weights(path: Path, model: torch.nn.Module, expected_sha256: str | None = None) -> None:
    """Loads ``path`` into ``model`` after checking that every tensor is there with the shape
    the model (built from ``config.json``) expects."""
    tensors = load_tensors(path, expected_sha256)
    wanted = model.state_dict()
    missing = sorted(set(wanted) - set(tensors))
    unexpected = sorted(set(tensors) - set(wanted))
    if missing or unexpected:
        raise RunFolderError(
            f"{path}: the weights do not fit the model config.json describes: missing "
            f"{missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, tensor in wanted.items():
        if tuple(tensors[name].shape) != tuple(tensor.shape):
            raise RunFolderError(
                f"{path}: the weights do not fit the model config.json describes: {name} is "
                f"{list(tensors[name].shape)} in the file, {list(tensor.shape)} in the model"
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
        if str(path) == "":
            raise RunFolderError("an empty folder name; give a run folder")
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def prepare(self) -> None:
        """Creates the folder, with a one-line error when it cannot be one."""
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(
                f"{self.path}: is a file, not a folder; give --out a new folder or a run folder"
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(
                f"{self.path}: cannot create the run folder ({error.strerror})"
            ) from None

    @contextlib.contextmanager
    def lock(self):
        """Holds ``.lock`` (naming this process) while a training writes the folder: a second
        training into the same folder refuses; a lock whose process is gone is taken over."""
        self.prepare()
        path = self.file(".lock")
        for _ in range(3):
            try:
                descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_or_refuse(path)
                continue
            except OSError as error:
                raise OutputError(f"{self.path}: not writable ({error.strerror})") from None
            with os.fdopen(descriptor, "w") as handle:
                json.dump({"pid": os.getpid(), "host": socket.gethostname()}, handle)
            break
        else:
            raise RunFolderError(f"{path}: could not take the lock; another training holds it")
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    def _take_over_or_refuse(self, path: Path) -> None:
        try:
            holder = json.loads(path.read_text())
            pid, host = int(holder["pid"]), holder.get("host")
        except (OSError, ValueError, KeyError, TypeError):
            pid, host = None, None  # a lock cut short by a kill: nobody holds it
        if pid is not None and (host != socket.gethostname() or process_alive(pid)):
            where = "" if host == socket.gethostname() else f" on {host}"
            raise RunFolderError(
                f"{self.path}: another training (process {pid}{where}) is writing this folder; "
                "wait for it to stop or choose another --out"
            )
        # Stale: moved aside in one rename, so of two processes taking it over one wins.
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, self.file(f".lock.stale.{os.getpid()}"))
            self.file(f".lock.stale.{os.getpid()}").unlink()

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

    def start_fresh(self) -> None:
        """A new run in this folder: the previous run's config and checkpoint are forgotten
        first, so that no instant mixes the old config with the new weights."""
        for name in ("config.json", "state.json"):
            self.file(name).unlink(missing_ok=True)

    def has_training_state(self) -> bool:
        return self.file("state.json").is_file()

    def save_training_state(self, model, optimizer, counters: dict, extra_tensors: dict) -> None:
        """Latest weights, optimizer, RNG, counters and any extra tensors (e.g. a carried state),
        as a new pair of files that ``state.json`` then names (see the module docstring)."""
        step = counters["step"]
        tag = f"{step}-{secrets.token_hex(3)}"  # a fresh name even when the step is the same
        names = {"weights": f"last-{tag}.safetensors", "state": f"state-{tag}.safetensors"}
        optimizer_tensors, optimizer_plain = optimizer_state(optimizer)
        rng_tensors, rng_plain = rng_state()
        tensors = {
            **optimizer_tensors,
            **rng_tensors,
            **{f"extra.{k}": v for k, v in extra_tensors.items()},
        }
        checksums = {
            names["weights"]: save_tensors(self.file(names["weights"]), model.state_dict()),
            names["state"]: save_tensors(self.file(names["state"]), tensors, {"step": step}),
        }
        write_json(
            self.file("state.json"),
            {
                "files": names,
                "sha256": checksums,
                "counters": counters,
                "optimizer": optimizer_plain,
                "rng": rng_plain,
            },
        )
        self._remove_stale(set(names.values()))

    def _pair(self) -> dict:
        """The file names ``state.json`` points to (older folders: the fixed names)."""
        plain = read_json(self.file("state.json"))
        return plain.get("files", {"weights": "last.safetensors", "state": "state.safetensors"})

    def _remove_stale(self, keep: set) -> None:
        """Every checkpoint file ``state.json`` does not name: older pairs, and pairs a kill
        left half-written (and their temporary files)."""
        patterns = ("last-*.safetensors", "state-*.safetensors", ".last-*", ".state-*")
        # and the fixed names of folders written before pairs had their own names
        for pattern in (*patterns, "last.safetensors", "state.safetensors"):
            for path in self.path.glob(pattern):
                if path.name not in keep and _not_ours_in_flight(path):
                    path.unlink(missing_ok=True)

    def load_training_state(self, model, optimizer) -> tuple[dict, dict]:
        """Restores what :meth:`save_training_state` wrote; returns ``(counters,
        extra_tensors)``."""
        plain = read_json(self.file("state.json"))
        names = self._pair()
        checksums = plain.get("sha256", {})
        state_path = self.file(names["state"])
        tensors = load_tensors(state_path, checksums.get(names["state"]))
        saved_step = tensors_metadata(state_path).get("step")
        if saved_step != str(plain["counters"]["step"]):
            raise RunFolderError(
                f"{self.path}: state.json is at step {plain['counters']['step']} but "
                f"{names['state']} at step {saved_step}; the last save was cut short"
            )
        load_weights(self.file(names["weights"]), model, checksums.get(names["weights"]))
        restore_optimizer(optimizer, tensors, plain["optimizer"])
        restore_rng(tensors, plain["rng"])
        extra = {k[len("extra.") :]: v for k, v in tensors.items() if k.startswith("extra.")}
        return plain["counters"], extra


def _not_ours_in_flight(path: Path) -> bool:
    """False for a temporary file another live process is writing (its name holds the PID)."""
    parts = path.name.split(".")
    if path.name.startswith(".") and len(parts) > 2 and parts[-2].isdigit():
        pid = int(parts[-2])
        return pid == os.getpid() or not process_alive(pid)
    return True


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True
