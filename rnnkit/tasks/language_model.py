"""Language modelling over characters, words or subwords: text file -> tokenizer -> streams ->
language model -> trainer -> run folder; and back: evaluate, predict the next token and
generate."""

from __future__ import annotations

import math
import sys

import torch

from rnnkit.data import StreamBatches
from rnnkit.data.prompts import PromptCodec
from rnnkit.errors import ConfigError, DataError
from rnnkit.generate import sample
from rnnkit.io import write_json
from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks.common import Recipe, Run, fit, start_run
from rnnkit.tasks.lm_data import TextDataConfig, load_data
from rnnkit.tasks.lm_scoring import CacheConfig, DynamicConfig, cache_losses, dynamic_losses
from rnnkit.train import TrainConfig
from rnnkit.train.distributed import processes


class LanguageModelTask:
    """LM training, as the trainer sees it (:class:`rnnkit.train.TrainingTask`)."""

    carry_batch_dim = 1  # the state is (layers, streams, hidden): streams split across processes

    def __init__(
        self, train_ids, valid_ids, config: TextDataConfig, seed: int, device, source: str = "data"
    ):
        self.config, self.seed, self.device = config, seed, device
        self.unit = "chars" if config.tokenizer == "char" else "tokens"
        self.train_ids, self.valid_ids = train_ids.to(device), valid_ids.to(device)
        StreamBatches(
            self.train_ids, config.batch_size, config.seq_len, name=f"{source}: the training split"
        )
        self._epoch_batches = (None, None)

    def batches(self, epoch: int) -> StreamBatches:
        # A different, seed-determined cut per epoch, so windows do not always start at the same
        # places.
        if self._epoch_batches[0] != epoch:
            config = self.config
            offset = 0 if epoch == 0 else (self.seed * 7919 + epoch * 104729) % config.seq_len
            windows = None
            if config.variable_seq_len:
                windows = variable_windows(
                    self.train_ids.numel() // config.batch_size,
                    config.seq_len,
                    self.seed * 1_000_003 + epoch,
                )
            batches = StreamBatches(
                self.train_ids, config.batch_size, config.seq_len, offset, windows=windows
            )
            self._epoch_batches = (epoch, batches)
        return self._epoch_batches[1]

    def loss(self, model, batch, carry):
        inputs, targets = batch
        (token_loss, penalty), carry = model(inputs, carry, targets)
        return token_loss.mean() + penalty, carry, targets.numel()

    def evaluate(self, model) -> dict:
        return evaluate_ids(model, self.valid_ids, unit=self.unit)


def evaluate_ids(
    model,
    ids: torch.Tensor,
    streams: int = 16,
    seq_len: int = 512,
    min_context: int = 1024,
    unit: str = "chars",
) -> dict:
    """Mean next-token loss over ``ids`` in nats, bits per token and perplexity
    (``chars``/``tokens`` counts the scored targets; unknown characters, id 0, are not
    scored).

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
        (token_loss, _), state = model(inputs, state, targets)
        # Id 0 (an unknown character, or <pad>) is read but not scored: the model cannot
        # predict it.
        scored = targets != 0
        total += token_loss[scored].sum().item()
        count += int(scored.sum())
    total, count = ranks.reduce([total, count], ids.device)
    return loss_metrics(total, int(count), unit)


def loss_metrics(total: float, count: int, unit: str) -> dict:
    """``{loss (nats per token), bits_per_<unit>, perplexity, <unit>}`` of a summed loss."""
    loss = total / max(count, 1)
    singular = unit.rstrip("s")
    return {
        "loss": loss,
        f"bits_per_{singular}": loss / math.log(2),
        "perplexity": math.exp(min(loss, 700.0)),
        unit: count,
    }


def variable_windows(per_stream: int, seq_len: int, seed: int) -> list[int]:
    """Window lengths that cover ``per_stream`` steps, drawn as in AWD-LSTM: N(seq_len, 5),
    or N(seq_len / 2, 5) with probability 0.05, at least 5 and at most seq_len + 20."""
    generator = torch.Generator().manual_seed(seed)
    windows, covered = [], 0
    while covered < per_stream:
        mean = seq_len if torch.rand((), generator=generator) < 0.95 else seq_len / 2
        length = int(mean + 5 * torch.randn((), generator=generator))
        length = min(max(5, length), seq_len + 20, per_stream - covered)
        windows.append(length)
        covered += length
    return windows


RECIPE = Recipe(
    "lm",
    TextDataConfig,
    LanguageModelConfig,
    # The demo: 110 s of training (BENCHMARKS.md: 1.546 nats/char on an AVX-512 BF16 CPU).
    train_defaults={"time_budget": 110.0},
)

WORD_RECIPE = Recipe(
    "lm",
    TextDataConfig,
    LanguageModelConfig,
    # PTB in 30 minutes of CPU (BENCHMARKS.md, "Word-level language models").
    model_defaults={
        "embedding_size": 256,
        "hidden_size": 512,
        "num_layers": 1,
        "tie_weights": True,
        "input_dropout": 0.1,
        "output_dropout": 0.2,
        "weight_drop": 0.1,
        "activation_penalty": 2.0,
        "temporal_penalty": 1.0,
    },
    train_defaults={"time_budget": 1800.0, "eval_every": 500},
)


def recipe_for(tokenizer: str) -> Recipe:
    """The measured recipe of a tokenizer: characters (the demo) or words and subwords."""
    return RECIPE if tokenizer == "char" else WORD_RECIPE


class LanguageModelRun(Run):
    """A trained language model with its tokenizer: evaluate, predict and generate from Python.

    >>> run = rnnkit.load_language_model("runs/shakespeare")
    >>> print(run.generate("ROMEO:", length=200, temperature=0.8, seed=1))
    """

    recipe, network = RECIPE, LanguageModel

    def __init__(self, model, config, folder, device):
        super().__init__(model, config, folder, device)
        self.codec = PromptCodec(config["data"]["vocabulary"])
        self.tokenizer, self.unit = self.codec.tokenizer, self.codec.unit

    def evaluate(
        self, path, cache: CacheConfig | None = None, dynamic: DynamicConfig | None = None
    ) -> dict:
        """Perplexity and nats/bits per token over the whole file, the state carried across
        batches (as Zaremba et al. 2014 and Merity et al. 2017 report). ``cache`` and
        ``dynamic`` add the same numbers with the neural cache and with dynamic evaluation
        (under those keys); see :mod:`rnnkit.tasks.lm_scoring`."""
        ids = self.tokenizer.encode_file(path)
        unknown = self.tokenizer.unknown_count
        if ids.numel() < 3:
            raise DataError(f"{path}: has {ids.numel()} {self.unit}; evaluation needs at least 3")
        ids = ids.to(self.device)
        with self.inference():
            metrics = evaluate_ids(self.model, ids, unit=self.unit)
            if cache is not None:
                metrics["cache"] = loss_metrics(*cache_losses(self.model, ids, cache), self.unit)
            if dynamic is not None:
                scored = dynamic_losses(self.model, ids, dynamic)
                metrics["dynamic"] = loss_metrics(*scored, self.unit)
        return {**metrics, f"unknown_{self.unit}": unknown}

    def encode_prompt(self, prompt: str) -> torch.Tensor:
        """The prompt's ids (see :meth:`rnnkit.data.prompts.PromptCodec.prompt_ids`)."""
        return torch.tensor(self.codec.prompt_ids(prompt), dtype=torch.long)

    def unknown_words(self, prompt: str) -> list[str]:
        """The prompt's words outside the vocabulary (read as <unk>)."""
        return self.codec.unknown(prompt)

    def next_tokens(self, prompt: str, top_k: int = 5) -> list[tuple[str, float]]:
        """The ``top_k`` most likely next tokens after ``prompt``, with their probabilities."""
        ids = torch.tensor(self.codec.context_ids(prompt), dtype=torch.long, device=self.device)
        with self.inference():
            logits, _ = self.model(ids.unsqueeze(0))
        probabilities = torch.softmax(logits[0, -1].float(), dim=-1)
        return self.codec.ranked(probabilities.cpu().numpy(), top_k)

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
        """Text continuing ``prompt`` (``length`` tokens); a list when ``num_samples > 1``.
        ``stream`` (a file) receives the first sample's text as it is made; it is flushed
        at each line's end, and the caller flushes it at the end."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ConfigError("length", f"must be a positive whole number; got {length!r}")
        ids = self.encode_prompt(prompt).to(self.device)
        on_token = None if stream is None else self._streamer(stream)
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
        texts = [self.codec.continuation(row.tolist()) for row in out]
        return texts if num_samples > 1 else texts[0]

    def _streamer(self, stream):
        def on_token(tokens):
            text = self.codec.token_piece(int(tokens[0]))
            stream.write(text)
            if text.endswith("\n"):  # a line at a time: a flush per token halves the speed
                stream.flush()

        return on_token


def train_language_model(
    out,
    data: TextDataConfig | None = None,
    model: LanguageModelConfig | None = None,
    train: TrainConfig | None = None,
    resume: bool = False,
    on_step=None,
):
    """Trains a language model (characters, words or subwords) into the run folder ``out``.

    A config not given is the measured recipe of ``data.tokenizer``. With
    ``resume=True`` the configs saved in ``out`` are used (only the limits of
    ``train`` may be changed) and training continues exactly where it stopped. With
    ``data.test`` the test file is scored once at the end (``test_metrics.json``).
    Returns ``(LanguageModelRun, Counters)``.
    """
    recipe = recipe_for((data or TextDataConfig()).tokenizer)
    start = start_run(recipe, out, data, model, train, resume)
    path, tokenizer, train_ids, valid_ids = load_data(start.data)
    start.model.vocab_size = tokenizer.vocab_size
    start.model.cutoffs()  # the cutoffs fit the vocabulary
    task = LanguageModelTask(
        train_ids, valid_ids, start.data, start.train.seed, start.device, str(path)
    )
    counters = fit(
        start,
        lambda: LanguageModel(start.model),
        task,
        files={"data": path, "valid": start.data.valid},
        derived={"vocabulary": tokenizer.to_dict()},
        on_step=on_step,
    )
    run = LanguageModelRun.load(out, device=start.train.device)
    if start.data.test and counters.stopped_because != "interrupted" and processes().is_main:
        write_json(run.folder.path / "test_metrics.json", run.evaluate(start.data.test))
    return run, counters


def load_language_model(folder, device: str = "auto") -> LanguageModelRun:
    """Loads the best weights of a run folder (``model.safetensors``) with its tokenizer."""
    return LanguageModelRun.load(folder, device)


def print_sample(run: LanguageModelRun, length: int, seed: int) -> None:
    prompt = "\n" if run.tokenizer.kind == "char" else ""
    print(f"\n--- {length} {run.unit} sampled from {run.folder.path} (temperature 0.8) ---")
    run.generate(prompt, length, temperature=0.8, seed=seed, stream=sys.stdout)
    print(flush=True)
