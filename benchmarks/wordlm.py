"""Word-level language model benchmarks on Penn Treebank (../shared/data/ptb).

    python benchmarks/wordlm.py throughput   # rnnkit's trainer vs a plain PyTorch word LM
    python benchmarks/wordlm.py softmax      # adaptive vs full softmax, ms/step at 10k and 33k
    python benchmarks/wordlm.py recipe       # the --tokenizer word defaults (30 min), then
                                             # test perplexity plain, with the cache, dynamic
    python benchmarks/wordlm.py scoring --run runs/bench/recipe  # cache and dynamic eval only
    python benchmarks/wordlm.py transfer --seeds 0 1 2   # SST-2 dev: from scratch vs from a
                                             # word LM trained on PTB + SST-2's sentences

Every mode prints a table and writes benchmarks/results/wordlm_<mode>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    machine,
    markdown_table,
    plain_lm_steps,
    time_interleaved,
    write_json,
)

from rnnkit.data import StreamBatches, WordTokenizer, read_lines  # noqa: E402
from rnnkit.models import LanguageModel, LanguageModelConfig  # noqa: E402
from rnnkit.tasks.classifier import ClassifyDataConfig, recipe_for, train_classifier  # noqa: E402
from rnnkit.tasks.language_model import (  # noqa: E402
    WORD_RECIPE,
    TextDataConfig,
    load_language_model,
    train_language_model,
)
from rnnkit.tasks.lm_scoring import CacheConfig, DynamicConfig  # noqa: E402
from rnnkit.train import TrainConfig  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PTB = Path(__file__).resolve().parents[2] / "shared" / "data" / "ptb"
SST2 = PTB.parent / "sst2"
FILES = {
    "data": str(PTB / "ptb.train.txt.gz"),
    "valid": str(PTB / "ptb.valid.txt"),
    "test": str(PTB / "ptb.test.txt"),
}
SHAPE = {k: WORD_RECIPE.model_defaults[k] for k in ("embedding_size", "hidden_size")}
WORD_DATA = TextDataConfig(tokenizer="word")
BATCH = WORD_DATA.batch_size, WORD_DATA.seq_len


class PlainWordLM(torch.nn.Module):
    """The recipe's shape on torch.nn, as a user would write it: Embedding -> LSTM ->
    Linear down to the embedding width -> the tied output layer."""

    def __init__(self, vocab, embedding, hidden):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, embedding)
        self.lstm = torch.nn.LSTM(embedding, hidden, batch_first=True)
        self.down = torch.nn.Linear(hidden, embedding, bias=False)
        self.head = torch.nn.Linear(embedding, vocab)
        self.head.weight = self.embedding.weight

    def forward(self, x, state=None):
        output, state = self.lstm(self.embedding(x), state)
        return self.head(self.down(output)), state


def child(kind: str, steps: int) -> None:
    """Trains for ``steps`` in this process and prints the median seconds/step as JSON."""
    torch.manual_seed(0)
    stamps = []
    if kind.startswith("rnnkit"):
        model = dict(WORD_RECIPE.model_defaults)
        if kind == "rnnkit":  # the same network and work as the plain loop: no regularisers
            model = {"tie_weights": True, **SHAPE}
        with tempfile.TemporaryDirectory() as folder:
            train_language_model(
                folder,
                TextDataConfig(**FILES, tokenizer="word", batch_size=BATCH[0], seq_len=BATCH[1]),
                LanguageModelConfig(**model),
                TrainConfig(max_steps=steps, eval_every=10**9, progress=False, precision="fp32"),
                on_step=lambda trainer, loss: stamps.append(time.perf_counter()),
            )
    else:
        tokenizer = WordTokenizer.from_lines(read_lines(FILES["data"]))
        batches = StreamBatches(tokenizer.encode_file(FILES["data"]), *BATCH)
        model = PlainWordLM(tokenizer.vocab_size, SHAPE["embedding_size"], SHAPE["hidden_size"])
        stamps = plain_lm_steps(model, batches, steps, 3e-3)
    intervals = sorted(b - a for a, b in zip(stamps[5:], stamps[6:]))
    print(json.dumps({"seconds_per_step": intervals[len(intervals) // 2]}))


def throughput(args) -> list[dict]:
    kinds = ("rnnkit", "plain", "rnnkit-awd")
    runs = {kind: [] for kind in kinds}
    for _ in range(args.rounds):  # alternating child processes, so drift hits all alike
        for kind in kinds:
            out = subprocess.run(
                [sys.executable, __file__, "child", kind, str(args.steps)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1])["seconds_per_step"])
    tokens = BATCH[0] * BATCH[1]
    medians = {kind: sorted(values)[len(values) // 2] for kind, values in runs.items()}
    labels = {
        "rnnkit": "rnnkit trainer, same network",
        "plain": "plain PyTorch loop",
        "rnnkit-awd": "rnnkit trainer, the recipe's regularisers on",
    }
    rows = [
        {
            "loop": labels[kind],
            "ms/step": medians[kind] * 1e3,
            "tokens/s": tokens / medians[kind],
            "ratio to plain": medians["plain"] / medians[kind],
        }
        for kind in kinds
    ]
    return rows


def softmax(args) -> list[dict]:
    rows = []
    for vocab, cutoffs in ((10_001, "2000,6000"), (33_278, "2000,10000")):
        tokens = torch.randint(0, vocab, (BATCH[0], BATCH[1] + 1))
        models = {}
        for name, options in (("full", {"tie_weights": True}), ("adaptive", {})):
            torch.manual_seed(0)
            extra = {"adaptive_cutoffs": cutoffs} if name == "adaptive" else {}
            models[name] = LanguageModel(
                LanguageModelConfig(vocab_size=vocab, **SHAPE, **options, **extra)
            ).train()
        optimizers = {n: torch.optim.AdamW(m.parameters()) for n, m in models.items()}

        def step(name):
            (loss, _), _ = models[name](tokens[:, :-1], None, tokens[:, 1:])
            loss.mean().backward()
            optimizers[name].step()
            optimizers[name].zero_grad()

        times = time_interleaved(
            {name: (lambda n=name: step(n)) for name in models}, repeats=args.repeats
        )
        for name, seconds in times.items():
            rows.append(
                {
                    "vocabulary": vocab,
                    "output layer": name + (f" ({cutoffs})" if name == "adaptive" else ""),
                    "ms/step": seconds * 1e3,
                    "speed-up": times["full"] / seconds,
                }
            )
    return rows


def _scoring_rows(run, split: str, cache: CacheConfig, dynamic: DynamicConfig) -> list[dict]:
    started = time.perf_counter()
    metrics = run.evaluate(FILES[split], cache=cache, dynamic=dynamic)
    seconds = time.perf_counter() - started
    rows = [{"split": split, "scoring": "plain", "perplexity": metrics["perplexity"]}]
    for key, label in (("cache", "neural cache"), ("dynamic", "dynamic evaluation")):
        rows.append({"split": split, "scoring": label, "perplexity": metrics[key]["perplexity"]})
    for row in rows:
        row["seconds (all three)"] = seconds
    return rows


def recipe(args) -> list[dict]:
    out = Path(args.runs) / "recipe"
    train = TrainConfig(**WORD_RECIPE.train_defaults)
    started = time.perf_counter()
    run, counters = train_language_model(
        out, TextDataConfig(**FILES, tokenizer="word"), None, train
    )
    minutes = (time.perf_counter() - started) / 60
    test = json.loads((out / "test_metrics.json").read_text())
    rows = [
        {
            "recipe": "--tokenizer word defaults",
            "minutes (with evaluation)": minutes,
            "steps": counters.step,
            "valid perplexity": float(torch.tensor(counters.best_score).exp()),
            "test perplexity": test["perplexity"],
        }
    ]
    return rows


def _lm_corpus(path: Path) -> Path:
    """PTB's training text and SST-2's training sentences (no labels), one per line."""
    import pandas as pd

    sentences = pd.read_csv(SST2 / "train.tsv", sep="\t", quoting=3)["sentence"]
    lines = [*read_lines(FILES["data"]), *(s.strip() for s in sentences)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def transfer(args) -> list[dict]:
    folder = Path(args.runs) / "transfer"
    corpus = _lm_corpus(folder / "lm_corpus.txt")
    lm_folder = folder / "lm"
    if not (lm_folder / "model.safetensors").is_file():
        train_language_model(
            lm_folder,
            TextDataConfig(data=str(corpus), valid=FILES["valid"], tokenizer="word"),
            None,
            TrainConfig(**{**WORD_RECIPE.train_defaults, "time_budget": args.lm_minutes * 60}),
        )
    rows = []
    for seed in args.seeds:
        row = {"seed": seed}
        arms = {"scratch": ("from scratch", None), "ulmfit": ("from the word LM", str(lm_folder))}
        for name, encoder in (arms[arm] for arm in args.arms):
            data = ClassifyDataConfig(
                train=str(SST2 / "train.tsv"), dev=str(SST2 / "dev.tsv"), encoder=encoder
            )
            started = time.perf_counter()
            _, _, report = train_classifier(
                folder / f"{'ulmfit' if encoder else 'scratch'}-{seed}",
                data,
                None,
                TrainConfig(**{**recipe_for(data).train_defaults, "seed": seed}),
                log=lambda message: print(message, file=sys.stderr),
            )
            row[f"{name}: dev accuracy"] = report["accuracy"]
            row[f"{name}: minutes"] = (time.perf_counter() - started) / 60
        rows.append(row)
    mean = {"seed": "mean"}
    for key in rows[0]:
        if key != "seed":
            mean[key] = sum(row[key] for row in rows) / len(rows)
    return [*rows, mean]


def scoring(args) -> list[dict]:
    run = load_language_model(args.run)
    cache = CacheConfig(args.cache_window, args.cache_theta, args.cache_lambda)
    dynamic = DynamicConfig(args.dynamic_lr, args.dynamic_decay)
    rows = []
    for split in args.splits:
        rows += _scoring_rows(run, split, cache, dynamic)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "mode", choices=["throughput", "softmax", "recipe", "scoring", "transfer", "child"]
    )
    parser.add_argument("child_args", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=40, help="throughput: steps per child")
    parser.add_argument("--rounds", type=int, default=3, help="throughput: runs per loop")
    parser.add_argument("--repeats", type=int, default=10, help="softmax: timed steps")
    parser.add_argument("--runs", default="runs/bench")
    parser.add_argument("--run", default="runs/bench/recipe", help="scoring: the run folder")
    parser.add_argument("--splits", nargs="+", default=["valid", "test"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="transfer")
    parser.add_argument(
        "--arms",
        nargs="+",
        choices=["scratch", "ulmfit"],
        default=["scratch", "ulmfit"],
        help="transfer: which classifiers to train per seed",
    )
    parser.add_argument("--lm-minutes", type=float, default=30, help="transfer: LM training")
    parser.add_argument("--cache-window", type=int, default=CacheConfig.window)
    parser.add_argument("--cache-theta", type=float, default=CacheConfig.theta)
    parser.add_argument("--cache-lambda", type=float, default=CacheConfig.weight)
    parser.add_argument("--dynamic-lr", type=float, default=DynamicConfig.learning_rate)
    parser.add_argument("--dynamic-decay", type=float, default=DynamicConfig.decay)
    args = parser.parse_args(argv)
    if args.mode == "child":
        return child(args.child_args[0], int(args.child_args[1]))
    modes = {
        "throughput": throughput,
        "softmax": softmax,
        "recipe": recipe,
        "scoring": scoring,
        "transfer": transfer,
    }
    rows = modes[args.mode](args)
    print(markdown_table(rows))
    write_json(
        RESULTS / f"wordlm_{args.mode}.json",
        {"machine": machine(), "args": {k: v for k, v in vars(args).items()}, "rows": rows},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
