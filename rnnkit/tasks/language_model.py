"""Character-level language modelling: text file -> char tokenizer -> streams ->
language model -> trainer -> run folder; and back: evaluate and generate."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from rnnkit.data import (
    BUNDLED_CORPUS,
    CharTokenizer,
    StreamBatches,
    read_text,
    split_text,
)
from rnnkit.errors import DataError
from rnnkit.generate import sample
from rnnkit.io import parse_list
from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks.common import Recipe, Run, fit, start_run
from rnnkit.train import TrainConfig
from rnnkit.train.distributed import processes


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
        return tuple(parse_list(text, float, "split", "0.9,0.05,0.05"))
    except ValueError as error:
        raise DataError(str(error)) from None


class LanguageModelTask:
    """LM training, as the trainer sees it (:class:`rnnkit.train.TrainingTask`)."""

    unit = "chars"
    carry_batch_dim = 1  # the state is (layers, streams, hidden): streams split across processes

    def __init__(
        self, train_ids, valid_ids, config: TextDataConfig, seed: int, device, source: str = "data"
    ):
        self.config, self.seed, self.device = config, seed, device
        self.train_ids, self.valid_ids = train_ids.to(device), valid_ids.to(device)
        StreamBatches(
            self.train_ids, config.batch_size, config.seq_len, name=f"{source}: the training split"
        )
        self._epoch_batches = (None, None)

    def batches(self, epoch: int) -> StreamBatches:
        # A different, seed-determined cut per epoch, so windows do not always start at the same
        # places.
        if self._epoch_batches[0] != epoch:
            offset = 0 if epoch == 0 else (self.seed * 7919 + epoch * 104729) % self.config.seq_len
            batches = StreamBatches(
                self.train_ids, self.config.batch_size, self.config.seq_len, offset
            )
            self._epoch_batches = (epoch, batches)
        return self._epoch_batches[1]

    def loss(self, model, batch, carry):
        inputs, targets = batch
        logits, carry = model(inputs, carry)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))
        return loss, carry, targets.numel()

    def evaluate(self, model) -> dict:
        return evaluate_ids(model, self.valid_ids)


def evaluate_ids(
    model, ids: torch.Tensor, streams: int = 16, seq_len: int = 512, min_context: int = 1024
) -> dict:
    """Mean next-token loss over ``ids`` in nats, bits per token and perplexity
    (``chars`` counts the scored targets; unknown characters are not scored).

    The text is read as ``streams`` contiguous streams with the state carried,
    so only the first token of each stream lacks context; short texts use fewer
    streams, so that each keeps at least ``min_context`` tokens of history."""
    streams = max(1, min(streams, (ids.numel() - 1) // min_context))
    seq_len = max(1, min(seq_len, ids.numel() // streams - 1))
    batches = StreamBatches(ids, streams, seq_len, name="the evaluation text", keep_short_last=True)
    ranks = processes()  # under torchrun each rank scores its share of the streams
    mine = ranks.rows(streams)
    total, count, state = 0.0, 0, None
    for inputs, targets in (
        batches[i] for i in range(len(batches) if mine.stop > mine.start else 0)
    ):
        inputs, targets = inputs[mine], targets[mine]
        logits, state = model(inputs, state)
        # Characters outside the vocabulary (id 0) are read but not scored: the model cannot predict
        # them.
        total += F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(),
            targets.reshape(-1),
            reduction="sum",
            ignore_index=0,
        ).item()
        count += int((targets != 0).sum())
    total, count = ranks.reduce([total, count], ids.device)
    count = int(count)
    loss = total / max(count, 1)
    return {
        "loss": loss,
        "bits_per_char": loss / math.log(2),
        "perplexity": math.exp(loss),
        "chars": count,
    }


RECIPE = Recipe(
    "lm",
    TextDataConfig,
    LanguageModelConfig,
    # The demo: 110 s of training (BENCHMARKS.md: 1.546 nats/char on an AVX-512 BF16 CPU).
    train_defaults={"time_budget": 110.0},
)


class LanguageModelRun(Run):
    """A trained language model with its tokenizer: evaluate and generate from Python.

    >>> run = rnnkit.load_language_model("runs/shakespeare")
    >>> print(run.generate("ROMEO:", length=200, temperature=0.8, seed=1))
    """

    recipe, network = RECIPE, LanguageModel

    def __init__(self, model, config, folder, device):
        super().__init__(model, config, folder, device)
        self.tokenizer = CharTokenizer.from_dict(config["data"]["vocabulary"])

    def evaluate(self, path) -> dict:
        text = read_text(path)
        ids = self.tokenizer.encode(text)
        if ids.numel() < 3:
            raise DataError(f"{path}: has {ids.numel()} characters; evaluation needs at least 3")
        with self.inference():
            metrics = evaluate_ids(self.model, ids.to(self.device))
        return {**metrics, "unknown_chars": self.tokenizer.unknown_count}

    def encode_prompt(self, prompt: str) -> torch.Tensor:
        unknown = self.tokenizer.unknown_characters(prompt)
        if unknown:
            raise DataError(
                f"the prompt has characters the model never saw in training: {''.join(unknown)!r}"
            )
        if not prompt:
            raise DataError("the prompt is empty; give at least one character (e.g. a newline)")
        return self.tokenizer.encode(prompt)

    def generate(
        self,
        prompt: str = "\n",
        length: int = 500,
        temperature: float = 1.0,
        top_k=None,
        top_p=None,
        seed=None,
        num_samples: int = 1,
        stream=None,
    ) -> list[str] | str:
        """Text continuing ``prompt``; a list when ``num_samples > 1``. ``stream`` (a file)
        receives the characters of the first sample as they are made; it is flushed
        at each line's end, and the caller flushes it at the end."""
        ids = self.encode_prompt(prompt).to(self.device)
        on_token = None
        if stream is not None:
            characters = self.tokenizer.characters

            def on_token(tokens):
                character = characters[int(tokens[0])]
                stream.write(character)
                if character == "\n":  # a line at a time: a flush per character halves the speed
                    stream.flush()

        with self.inference():
            out = sample(
                self.model,
                ids.unsqueeze(0).expand(num_samples, -1),
                length,
                temperature,
                top_k,
                top_p,
                seed,
                banned=(0,),
                on_token=on_token,
            )
        texts = [self.tokenizer.decode(row) for row in out]
        return texts if num_samples > 1 else texts[0]


def _load_data(data: TextDataConfig):
    path = Path(data.data) if data.data else BUNDLED_CORPUS
    text = read_text(path)
    train_text, valid_text, _ = split_text(text, parse_split(data.split))
    if len(valid_text) < 3:
        raise DataError(
            f"{path}: the validation split has {len(valid_text)} characters; "
            f"use a longer file or a larger validation fraction in --split"
        )
    tokenizer = CharTokenizer.from_text(train_text)
    return path, tokenizer, tokenizer.encode(train_text), tokenizer.encode(valid_text)


def train_language_model(
    out,
    data: TextDataConfig | None = None,
    model: LanguageModelConfig | None = None,
    train: TrainConfig | None = None,
    resume: bool = False,
    on_step=None,
):
    """Trains a char-level language model into the run folder ``out``.

    With ``resume=True`` the configs saved in ``out`` are used (only the limits
    of ``train`` may be changed) and training continues exactly where it stopped.
    Returns ``(LanguageModelRun, Counters)``.
    """
    start = start_run(RECIPE, out, data, model, train, resume)
    path, tokenizer, train_ids, valid_ids = _load_data(start.data)
    start.model.vocab_size = tokenizer.vocab_size
    task = LanguageModelTask(
        train_ids, valid_ids, start.data, start.train.seed, start.device, str(path)
    )
    counters = fit(
        start,
        lambda: LanguageModel(start.model),
        task,
        files={"data": path},
        derived={"vocabulary": tokenizer.to_dict()},
        on_step=on_step,
    )
    return LanguageModelRun.load(out, device=start.train.device), counters


def load_language_model(folder, device: str = "auto") -> LanguageModelRun:
    """Loads the best weights of a run folder (``model.safetensors``) with its vocabulary."""
    return LanguageModelRun.load(folder, device)


def print_sample(run: LanguageModelRun, length: int, seed: int) -> None:
    print(f"\n--- {length} characters sampled from {run.folder.path} (temperature 0.8) ---")
    run.generate("\n", length, temperature=0.8, seed=seed, stream=sys.stdout)
    print(flush=True)
