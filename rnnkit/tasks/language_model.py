"""Character-level language modelling: text file -> char tokenizer -> streams ->
language model -> trainer -> run folder; and back: evaluate and generate."""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

import rnnkit
from rnnkit.data import BUNDLED_CORPUS, CharTokenizer, StreamBatches, read_text, split_text
from rnnkit.errors import DataError
from rnnkit.generate import sample
from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks.common import check_unchanged, load_best, sha256, starting_configs
from rnnkit.train import RunFolder, TrainConfig, Trainer, resolve_device

TASK = "lm"


@dataclass
class TextDataConfig:
    """Where the text comes from and how it is cut into batches."""

    data: str | None = None
    """UTF-8 text file to train on; default: the bundled tiny Shakespeare."""
    split: str = "0.9,0.05,0.05"
    """Contiguous train,validation[,test] fractions, in file order."""
    batch_size: int = 64
    """Parallel streams per batch."""
    seq_len: int = 100
    """Time steps per batch: how far back truncated BPTT reaches."""


def parse_split(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in str(text).split(","))
    except ValueError:
        raise DataError(f"split must be comma-separated fractions such as 0.9,0.05,0.05; got {text!r}") from None


class LanguageModelTask:
    """What the trainer needs for LM training (see :mod:`rnnkit.train.trainer`)."""

    unit = "chars"

    def __init__(self, train_ids, valid_ids, config: TextDataConfig, seed: int, device, source: str = "data"):
        self.config, self.seed, self.device = config, seed, device
        self.train_ids, self.valid_ids = train_ids.to(device), valid_ids.to(device)
        StreamBatches(self.train_ids, config.batch_size, config.seq_len, name=f"{source}: the training split")
        self._epoch_batches = (None, None)

    def batches(self, epoch: int) -> StreamBatches:
        # A different, seed-determined cut per epoch, so windows do not always start at the same places.
        if self._epoch_batches[0] != epoch:
            offset = 0 if epoch == 0 else (self.seed * 7919 + epoch * 104729) % self.config.seq_len
            batches = StreamBatches(self.train_ids, self.config.batch_size, self.config.seq_len, offset)
            self._epoch_batches = (epoch, batches)
        return self._epoch_batches[1]

    def loss(self, model, batch, carry):
        inputs, targets = batch
        logits, carry = model(inputs, carry)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))
        return loss, carry, targets.numel()

    def evaluate(self, model) -> dict:
        return evaluate_ids(model, self.valid_ids)


def evaluate_ids(model, ids: torch.Tensor, streams: int = 16, seq_len: int = 512, min_context: int = 1024) -> dict:
    """Mean next-token loss over ``ids`` in nats, bits per token and perplexity
    (``chars`` counts the scored targets; unknown characters are not scored).

    The text is read as ``streams`` contiguous streams with the state carried,
    so only the first token of each stream lacks context; short texts use fewer
    streams, so that each keeps at least ``min_context`` tokens of history."""
    streams = max(1, min(streams, (ids.numel() - 1) // min_context))
    seq_len = max(1, min(seq_len, ids.numel() // streams - 1))
    batches = StreamBatches(ids, streams, seq_len, name="the evaluation text", keep_short_last=True)
    total, count, state = 0.0, 0, None
    for inputs, targets in (batches[i] for i in range(len(batches))):
        logits, state = model(inputs, state)
        # Characters outside the vocabulary (id 0) are read but not scored: the model cannot predict them.
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1),
                                 reduction="sum", ignore_index=0).item()
        count += int((targets != 0).sum())
    loss = total / max(count, 1)
    return {"loss": loss, "bits_per_char": loss / math.log(2), "perplexity": math.exp(loss), "chars": count}


class LanguageModelRun:
    """A trained language model with its tokenizer: evaluate and generate from Python.

    >>> run = rnnkit.load_language_model("runs/shakespeare")
    >>> print(run.generate("ROMEO:", length=200, temperature=0.8, seed=1))
    """

    def __init__(self, model: LanguageModel, tokenizer: CharTokenizer, folder: RunFolder, config: dict):
        self.model, self.tokenizer, self.folder, self.config = model, tokenizer, folder, config

    def evaluate(self, path) -> dict:
        text = read_text(path)
        ids = self.tokenizer.encode(text)
        if ids.numel() < 3:
            raise DataError(f"{path}: has {ids.numel()} characters; evaluation needs at least 3")
        self.model.eval()
        with torch.no_grad():
            metrics = evaluate_ids(self.model, ids.to(next(self.model.parameters()).device))
        return {**metrics, "unknown_chars": self.tokenizer.unknown_count}

    def encode_prompt(self, prompt: str) -> torch.Tensor:
        unknown = self.tokenizer.unknown_characters(prompt)
        if unknown:
            raise DataError(f"the prompt has characters the model never saw in training: {''.join(unknown)!r}")
        if not prompt:
            raise DataError("the prompt is empty; give at least one character (e.g. a newline)")
        return self.tokenizer.encode(prompt)

    def generate(self, prompt: str = "\n", length: int = 500, temperature: float = 1.0, top_k=None, top_p=None,
                 seed=None, num_samples: int = 1, stream=None) -> list[str] | str:
        """Text continuing ``prompt``; a list when ``num_samples > 1``. ``stream`` (a file)
        receives the characters as they are made (the first sample only)."""
        ids = self.encode_prompt(prompt).to(next(self.model.parameters()).device)
        on_token = None
        if stream is not None:
            def on_token(tokens):
                stream.write(self.tokenizer.characters[int(tokens[0])])
                stream.flush()
        out = sample(self.model, ids.unsqueeze(0).expand(num_samples, -1), length, temperature, top_k, top_p,
                     seed, banned=(0,), on_token=on_token)
        texts = [self.tokenizer.decode(row) for row in out]
        return texts if num_samples > 1 else texts[0]


def _load_data(data: TextDataConfig):
    path = Path(data.data) if data.data else BUNDLED_CORPUS
    text = read_text(path)
    train_text, valid_text, _ = split_text(text, parse_split(data.split))
    if len(valid_text) < 3:
        raise DataError(f"{path}: the validation split has {len(valid_text)} characters; "
                        f"use a longer file or a larger validation fraction in --split")
    tokenizer = CharTokenizer.from_text(train_text)
    return path, tokenizer, tokenizer.encode(train_text), tokenizer.encode(valid_text)


def train_language_model(out, data: TextDataConfig | None = None, model: LanguageModelConfig | None = None,
                         train: TrainConfig | None = None, resume: bool = False, on_step=None):
    """Trains a char-level language model into the run folder ``out``.

    With ``resume=True`` the configs saved in ``out`` are used (only the limits
    of ``train`` may be changed) and training continues exactly where it stopped.
    Returns ``(LanguageModelRun, Counters)``.
    """
    folder = RunFolder(out)
    data, model, train = starting_configs(folder, TASK, TextDataConfig, LanguageModelConfig, data, model, train, resume)
    path, tokenizer, train_ids, valid_ids = _load_data(data)
    if resume:
        check_unchanged(folder, TASK, {"data": path})
    model.vocab_size = tokenizer.vocab_size
    torch.manual_seed(train.seed)
    network = LanguageModel(model)
    config = {"task": TASK, "rnnkit_version": rnnkit.__version__, "model": asdict(model),
              "data": {**asdict(data), "sha256": sha256(path), "vocabulary": tokenizer.to_dict()},
              "train": asdict(train)}
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.write_config(config)
    task = LanguageModelTask(train_ids, valid_ids, data, train.seed, resolve_device(train.device), str(path))
    trainer = Trainer(network, task, folder, train)
    trainer.on_step = on_step
    counters = trainer.fit(resume=resume)
    return load_language_model(out, device=train.device), counters


def load_language_model(folder, device: str = "auto") -> LanguageModelRun:
    """Loads the best weights of a run folder (``model.safetensors``) with its vocabulary."""
    model, config, folder, _ = load_best(folder, TASK, LanguageModel, LanguageModelConfig, device)
    tokenizer = CharTokenizer.from_dict(config["data"]["vocabulary"])
    return LanguageModelRun(model, tokenizer, folder, config)


def print_sample(run: LanguageModelRun, length: int, seed: int) -> None:
    print(f"\n--- {length} characters sampled from {run.folder.path} (temperature 0.8) ---")
    run.generate("\n", length, temperature=0.8, seed=seed, stream=sys.stdout)
    print()
