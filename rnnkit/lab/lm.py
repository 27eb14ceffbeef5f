"""``rnnkit compare --task lm``: the char LM with each cell, one parameter budget,
the same time budget each."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from rnnkit.data import BUNDLED_CORPUS, read_text, split_text
from rnnkit.lab.budget import budgeted_row, budgeted_training, matched_width, parameter_count
from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks.language_model import train_language_model
from rnnkit.tasks.lm_data import TextDataConfig, parse_split


def unigram_baseline(text: str, split: str) -> float:
    """Nats per char of predicting the validation text from the training text's character
    frequencies alone (the loss of a model that ignores context)."""
    train, valid, _ = split_text(text, parse_split(split))
    counts, total = Counter(train), len(train)
    scored = [c for c in valid if c in counts]
    return -sum(math.log(counts[c] / total) for c in scored) / max(len(scored), 1)


def compare_language_models(config, cells, seeds, out: Path, log) -> list[dict]:
    path = Path(config.data) if config.data else BUNDLED_CORPUS
    data = TextDataConfig(data=str(path), batch_size=config.batch_size)
    vocabulary = len(set(read_text(path))) + 1
    baseline = unigram_baseline(read_text(path), data.split)

    def build(cell, width):
        return LanguageModel(
            LanguageModelConfig(vocab_size=vocabulary, cell=cell, hidden_size=width)
        )

    budget = parameter_count(build("lstm", config.hidden_size))
    rows = []
    for cell in cells:
        width = matched_width(lambda w: build(cell, w), budget)
        for seed in seeds:
            train = budgeted_training(config, seed, eval_every=500)
            folder = out / "runs" / f"lm-{cell}-seed{seed}"
            run, counters = train_language_model(
                folder, data, LanguageModelConfig(cell=cell, hidden_size=width), train
            )
            log(
                f"lm {cell} seed {seed}: {counters.best_score:.4f} nats/char after "
                f"{counters.step} steps"
            )
            rows.append(
                budgeted_row(
                    data.seq_len,
                    cell,
                    seed,
                    run.model,
                    counters,
                    counters.best_score,
                    baseline,
                    folder,
                )
            )
    return rows
