"""Model cards: the ``README.md`` of every run folder and export folder (Mitchell et al.
2019, "Model Cards for Model Reporting", cut to what a run knows): the task, the data and its
hashes, the model, the validation metrics at the kept checkpoint, and how to use it."""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit.io import write_text

TASK_NAMES = {
    "lm": "language model",
    "classify": "sequence classifier",
    "forecast": "forecaster",
    "music": "polyphonic music model",
    "speech": "spoken-word classifier",
    "transcribe": "CTC transcriber",
}
USAGE = {
    "lm": [
        'rnnkit generate {path} --prompt "..." --length 200 --seed 1',
        'rnnkit predict {path} "the new york stock" --top-k 5',
    ],
    "classify": ['rnnkit predict {path} "a gorgeous, witty film"'],
    "forecast": ["rnnkit forecast {path} --data history.csv --out next.csv"],
    "music": ["rnnkit generate {path} --length 64 --out piece.mid --seed 1"],
    "speech": ["rnnkit predict {path} recording.wav"],
    "transcribe": ["rnnkit transcribe {path} recording.wav --beam-width 8"],
}
MODEL_FIELDS = (
    "cell",
    "num_layers",
    "hidden_size",
    "embedding_size",
    "bidirectional",
    "pooling",
    "architecture",
    "lookback",
    "horizon",
    "quantiles",
    "frame_stacking",
)


def best_validation(metrics_path: Path, select_by: str) -> dict:
    """The validation metrics (``val_*``) at the evaluation the run kept: the best by
    ``select_by`` (lowest loss, else highest), as the trainer chose ``model.safetensors``."""
    rows = []
    if metrics_path.is_file():
        for line in metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a crash
                continue
            if isinstance(row, dict) and any(key.startswith("val_") for key in row):
                rows.append(row)
    key = f"val_{select_by}"
    rows = [row for row in rows if isinstance(row.get(key), (int, float))]
    if not rows:
        return {}
    lowest = select_by == "loss" or select_by.endswith(("error", "mse", "mae", "nll"))
    best = (min if lowest else max)(rows, key=lambda row: row[key])
    return {
        name: value for name, value in best.items() if name.startswith("val_") or name == "step"
    }


def model_card(config: dict, metrics: dict, path: str, kind: str) -> str:
    """The card's Markdown. ``kind``: "run folder" or "export folder"."""
    task = config.get("task", "?")
    lines = [
        f"# {Path(path).name}: {TASK_NAMES.get(task, task)}",
        "",
        f"An rnnkit {config.get('rnnkit_version', '')} {kind}.",
        "",
        "## Data",
        "",
    ]
    hashes = config.get("data", {}).get("sha256", {})
    for role, digest in hashes.items():
        source = config["data"].get(role, "")
        lines.append(f"- {role}: `{source}` (sha256 `{digest[:16]}...`)")
    if not hashes:
        lines.append("- the data is named in config.json")
    model = config.get("model", {})
    lines += ["", "## Model", ""]
    lines += [
        f"- {name}: {model[name]}" for name in MODEL_FIELDS if model.get(name) not in (None, "")
    ]
    train = config.get("train", {})
    lines += [
        "",
        "## Training",
        "",
        f"- {train.get('optimizer', '?')}, learning rate {train.get('learning_rate', '?')}, "
        f"seed {train.get('seed', '?')}, precision {train.get('precision', '?')}",
        f"- the kept weights are the best by validation {train.get('select_by', 'loss')}",
        "",
        "## Validation metrics (at the kept checkpoint)",
        "",
    ]
    if metrics:
        lines += ["| metric | value |", "|---|---|"]
        lines += [
            f"| {name} | {value:.6g} |" if isinstance(value, float) else f"| {name} | {value} |"
            for name, value in metrics.items()
        ]
    else:
        lines.append("No validation metrics were recorded.")
    lines += ["", "## Use", "", "```"]
    lines += [command.format(path=path) for command in USAGE.get(task, [])]
    lines += ["```", ""]
    if kind == "run folder":
        lines += [
            f"Ship it: `rnnkit export {path} --out EXPORT` writes ONNX that runs without torch; "
            f"`rnnkit serve {path}` answers HTTP on 127.0.0.1:8000.",
            "",
        ]
    else:
        lines += [
            "These commands run on onnxruntime and never import torch. In Python: "
            f"`rnnkit.load('{path}')`.",
            "",
        ]
    return "\n".join(lines)


def write_model_card(folder, config: dict, metrics: dict, kind: str = "run folder") -> Path:
    """Writes ``folder/README.md``."""
    folder = Path(folder)
    return write_text(folder / "README.md", model_card(config, metrics, str(folder), kind))
