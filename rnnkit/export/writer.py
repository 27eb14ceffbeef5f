"""``rnnkit export RUN --out DIR``: a run folder -> ``model.onnx`` + ``export.json``.

``export.json`` holds everything a caller needs without torch: the task, each graph's
input and output names, shapes and types, and the run's whole ``config.json`` (vocabulary
or labels, scalers, audio feature settings, the model's sizes) with the rnnkit version.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

import torch

from rnnkit.cards import best_validation, model_card
from rnnkit.errors import OutputError, RunFolderError, require
from rnnkit.export.graphs import (
    TORCH_LAYERS,
    ClassifierGraph,
    ForecasterGraph,
    StepGraph,
    TranscriberGraph,
    state_names,
)
from rnnkit.io import replace_folder, write_json, write_text
from rnnkit.nn import Recurrent
from rnnkit.runtime.session import FORMAT
from rnnkit.tasks.loading import load_run
from rnnkit.version import __version__

OPSET = 17
"""ONNX opset: 17 is read by every onnxruntime since 1.12 (2022)."""


def _example_inputs(model, task: str) -> tuple[str, torch.nn.Module, dict]:
    """``(graph kind, graph module, {input name: (example tensor, dynamic axes)})``."""
    if task in ("lm", "music"):
        recurrent = model.recurrent
        batch, shape = 2, (recurrent.num_layers, 2, recurrent.hidden_size)
        step_input = (
            torch.zeros(batch, dtype=torch.long)
            if task == "lm"
            else torch.zeros(batch, model.config.keys)
        )
        inputs = {"inputs": (step_input, {0: "batch"})}
        for name in state_names(recurrent.kind.paired)[0]:
            inputs[name] = (torch.zeros(shape), {1: "batch"})
        graph = StepGraph(model)
        if graph.conditional:  # the keys of the next step drawn so far
            inputs["frame"] = (torch.zeros(batch, model.config.keys), {0: "batch"})
        return "step", graph, inputs
    _refuse_scan_layers(model, task)
    if task in ("classify", "speech"):
        config = model.config
        batch, time = 2, 5
        if getattr(config, "vocab_size", 0):
            example = torch.ones(batch, time, dtype=torch.long)
        else:
            example = torch.zeros(batch, time, model.recurrent.input_size)
        lengths = torch.tensor([time, time - 2])
        return (
            "sequence",
            ClassifierGraph(model),
            {"inputs": (example, {0: "batch", 1: "time"}), "lengths": (lengths, {0: "batch"})},
        )
    if task == "transcribe":
        size = model.recurrent.input_size
        lengths = torch.tensor([6, 4])
        return (
            "sequence",
            TranscriberGraph(model),
            {
                "stacked": (torch.zeros(2, 6, size), {0: "batch", 1: "steps"}),
                "lengths": (lengths, {0: "batch"}),
            },
        )
    if task == "forecast":
        config = model.config
        inputs = {"history": (torch.zeros(2, config.lookback, config.targets), {0: "batch"})}
        if config.past_covariates:
            past = torch.zeros(2, config.lookback, config.past_covariates)
            inputs["past"] = (past, {0: "batch"})
        if config.future_covariates:
            steps = config.lookback + config.horizon
            inputs["future"] = (torch.zeros(2, steps, config.future_covariates), {0: "batch"})
        return "sequence", ForecasterGraph(model), inputs
    raise RunFolderError(f"cannot export a {task!r} model")


def _refuse_scan_layers(model, task: str) -> None:
    """A sequence graph needs an ONNX operator for each layer's loop over time; minGRU and
    minLSTM run a chunked scan whose chunk sizes depend on the length, which tracing fixes."""
    for module in model.modules():
        if isinstance(module, Recurrent) and module.kind.cudnn_mode not in TORCH_LAYERS:
            cell = type(module).__name__.lower()
            raise RunFolderError(
                f"a {cell} {task} model cannot be exported yet: ONNX has no operator for its "
                "parallel scan (language and music models export it as a step graph); train "
                "with --cell lstm, gru or rnn to export"
            )


def _output_names(kind: str, task: str, model) -> list[str]:
    if kind == "step":
        return ["logits", *state_names(model.recurrent.kind.paired)[1]]
    return {
        "classify": ["probabilities"],
        "speech": ["probabilities"],
        "transcribe": ["log_probs"],
        "forecast": ["forecast"],
    }[task]


def _describe(values: list, names: list[str], axes: dict) -> list[dict]:
    """Each tensor's name, dtype and shape, with dynamic axes by name."""
    described = []
    for name, value in zip(names, values):
        shape = [axes.get(name, {}).get(i, size) for i, size in enumerate(value.shape)]
        described.append(
            {"name": name, "dtype": str(value.dtype).replace("torch.", ""), "shape": shape}
        )
    return described


@contextlib.contextmanager
def _quiet_native_logs():
    """Silences the exporter's C++ notes on stderr (about its own shape inference of packed
    sequences, which the parity tests cover); Python errors still surface as exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def write_graph(model: torch.nn.Module, task: str, path) -> dict:
    """Exports ``model`` (a ``task`` model) to the ONNX file ``path``; returns the graph's
    description for export.json: its kind (step or sequence) and its inputs and outputs."""
    kind, graph, inputs = _example_inputs(model, task)
    names = list(inputs)
    examples = tuple(value for value, _ in inputs.values())
    outputs = _output_names(kind, task, model)
    axes = {name: dynamic for name, (_, dynamic) in inputs.items()}
    with torch.no_grad():
        results = graph(*examples)
    results = results if isinstance(results, tuple) else (results,)
    for name in outputs:
        axes[name] = _output_axes(kind, name)
    try:
        with warnings.catch_warnings(), _quiet_native_logs():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
            torch.onnx.export(
                graph,
                examples,
                str(path),
                input_names=names,
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
    except Exception as error:  # torch.onnx raises many types; the user gets one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RunFolderError(f"the {task} model could not be exported to ONNX: {first}") from None
    return {
        "file": Path(path).name,
        "kind": kind,
        "inputs": _describe(list(examples), names, axes),
        "outputs": _describe(list(results), outputs, axes),
    }


def export_run(run_folder, out) -> Path:
    """Writes ``out/model.onnx``, ``out/export.json`` and ``out/README.md`` for the run in
    ``run_folder``; returns ``out``. The folder appears complete or not at all."""
    require("onnx", "rnnkit export")
    out = Path(out)
    if out.exists() and not (out / "export.json").is_file():
        if not out.is_dir() or any(out.iterdir()):
            raise OutputError(
                f"{out}: exists and is not an export folder; give --out a new or empty folder"
            )
    run = load_run(run_folder, device="cpu")
    task = run.config["task"]
    if len(getattr(run, "members", ())) > 1:
        raise RunFolderError(
            f"{run_folder}: an ensemble of {len(run.members)} models; a graph holds one: export "
            f"a member's folder ({Path(run_folder) / 'members' / '1'}) or a run trained "
            "without --ensemble"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        staging = Path(scratch) / "export"
        staging.mkdir()
        description = {
            "format": FORMAT,
            "rnnkit_version": __version__,
            "task": task,
            "graph": write_graph(run.model, task, staging / "model.onnx"),
            "run": run.config,
        }
        write_json(staging / "export.json", description, indent=1)
        metrics = best_validation(
            run.folder.file("metrics.jsonl"), run.config["train"]["select_by"]
        )
        write_text(
            staging / "README.md", model_card(run.config, metrics, str(out), "export folder")
        )
        replace_folder(staging, out)
    return out


def _output_axes(kind: str, name: str) -> dict:
    if kind == "step":
        return {1: "batch"} if name in ("hn", "cn") else {0: "batch"}
    return {0: "batch", 1: "steps"} if name == "log_probs" else {0: "batch"}
