"""Char-level language model benchmarks on tiny Shakespeare.

    python benchmarks/charlm.py throughput   # rnnkit's trainer vs a plain PyTorch loop
    python benchmarks/charlm.py throughput --size tiny   # the same on a tiny model: per-step cost
    python benchmarks/charlm.py generation   # chars/s: rnnkit, re-running the prefix, nn.LSTM
    python benchmarks/charlm.py generate-cli --length 20000   # the command against the library
    python benchmarks/charlm.py quality      # the demo's val loss (90/10 split), fp32 and bf16
    python benchmarks/charlm.py precision --steps 1500   # bf16 vs fp32 final loss at equal steps
    python benchmarks/charlm.py recipe       # the documented 30-minute CPU recipe (90/10 split)
    python benchmarks/charlm.py recipe-mingru  # the same time budget with a 3-layer MinGRU

Every mode prints a table and writes benchmarks/results/charlm_<mode>.json.
The model is the demo's: Embedding 64 -> LSTM 256 -> Linear, batch 64 x 100.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
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

from rnnkit.data import BUNDLED_CORPUS, CharTokenizer, StreamBatches, read_text  # noqa: E402
from rnnkit.models import LanguageModel, LanguageModelConfig  # noqa: E402
from rnnkit.train.config import native_bf16  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
RECIPE = dict(
    hidden_size=512,
    num_layers=2,
    embedding_size=128,
    dropout=0.3,
    batch_size=64,
    seq_len=128,
    learning_rate=3e-3,
    warmup_steps=200,
    weight_decay=0.1,
    precision="bf16",
    time_budget=1740,
    eval_every=500,
)
# The minGRU paper stacks more layers: its gates see only the layer below, not the layer's own past.
MINGRU_RECIPE = dict(RECIPE, cell="mingru", num_layers=3)


class PlainLM(torch.nn.Module):
    """The same model written directly on torch.nn, as a user would."""

    def __init__(self, vocab, embedding=64, hidden=256):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, embedding)
        self.lstm = torch.nn.LSTM(embedding, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        output, state = self.lstm(self.embedding(x), state)
        return self.head(output), state


SIZES = {
    # (embedding, hidden, batch, sequence length): the demo model (LanguageModelConfig's and
    # TextDataConfig's defaults), and a tiny one whose steps cost little, so that what the
    # trainer adds per step shows as the difference in ms/step.
    "demo": (64, 256, 64, 100),
    "tiny": (8, 16, 4, 8),
}


def _seconds_per_step(kind: str, steps: int, precision: str, size: str) -> float:
    """Trains ``kind`` ("rnnkit" or "plain") for ``steps``; the median step time after 10."""
    torch.manual_seed(0)
    text = read_text(BUNDLED_CORPUS)
    stamps = []
    embedding, hidden, batch, length = SIZES[size]
    if kind == "rnnkit":
        import tempfile

        from rnnkit.tasks.language_model import TextDataConfig, train_language_model
        from rnnkit.train import TrainConfig

        with tempfile.TemporaryDirectory() as folder:
            train_language_model(
                folder,
                TextDataConfig(split="0.9,0.1", batch_size=batch, seq_len=length),
                LanguageModelConfig(embedding_size=embedding, hidden_size=hidden),
                TrainConfig(max_steps=steps, eval_every=10**9, progress=False, precision=precision),
                on_step=lambda trainer, loss: stamps.append(time.perf_counter()),
            )
    else:
        tokenizer = CharTokenizer.from_text(text[: int(len(text) * 0.9)])
        batches = StreamBatches(tokenizer.encode(text[: int(len(text) * 0.9)]), batch, length)
        model = PlainLM(tokenizer.vocab_size, embedding, hidden)
        stamps = plain_lm_steps(model, batches, steps, 2e-3, precision)
    intervals = sorted(b - a for a, b in zip(stamps[10:], stamps[11:]))
    return intervals[len(intervals) // 2]


def child(kind: str, steps: int, precision: str, size: str = "demo") -> None:
    """Prints seconds/step and peak RSS as JSON for one loop in this process; for ``pair``,
    both loops in this process after a warm-up run of each, in the order plain, rnnkit,
    rnnkit, plain (a drift in the machine's speed cancels), and the seconds/step of each."""
    if kind == "pair":
        seconds = {"plain": [], "rnnkit": []}
        # A first, discarded run of each: the first loop in a process also pays one-time costs
        # (oneDNN's kernels are compiled at first use, the allocator's pools grow) for more
        # than the 10 steps each measurement skips, which once made the pair's ratio 0.91.
        for name in ("plain", "rnnkit"):
            _seconds_per_step(name, 30, precision, size)
        for name in ("plain", "rnnkit", "rnnkit", "plain"):
            seconds[name].append(_seconds_per_step(name, steps, precision, size))
        print(json.dumps({name: sum(v) / len(v) for name, v in seconds.items()}))
        return
    print(
        json.dumps(
            {
                "seconds_per_step": _seconds_per_step(kind, steps, precision, size),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def throughput(args) -> list[dict]:
    if "bf16" in args.precisions and not native_bf16(torch.device("cpu")):
        # Without native bf16 torch.nn.LSTM fails under autocast (oneDNN has no bf16 LSTM
        # there) and emulated bf16 is slower than fp32 anyway: --precision auto trains in fp32.
        print("this CPU has no native bfloat16: measuring fp32 only", file=sys.stderr)
        args.precisions = [p for p in args.precisions if p != "bf16"]
    kinds = ("rnnkit", "plain", "pair")
    runs = {(kind, precision): [] for precision in args.precisions for kind in kinds}
    for _ in range(args.rounds):
        for kind, precision in runs:
            out = subprocess.run(
                [sys.executable, __file__, "child", kind, str(args.steps), precision, args.size],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[kind, precision].append(json.loads(out.stdout.strip().splitlines()[-1]))
    rows = []
    for precision in args.precisions:
        measured, milliseconds = {}, {}
        for kind in ("rnnkit", "plain"):  # each loop in its own processes
            results = runs[kind, precision]
            seconds = sorted(r["seconds_per_step"] for r in results)[len(results) // 2]
            milliseconds[kind] = seconds * 1e3
            chars = SIZES[args.size][2] * SIZES[args.size][3]
            measured[kind] = (chars / seconds, max(r["peak_rss_mb"] for r in results))
            rows.append(
                {
                    "precision": precision,
                    "loop": kind,
                    "ms/step": seconds * 1e3,
                    "chars/s": measured[kind][0],
                    "peak RSS MB": measured[kind][1],
                }
            )
        rows.append(
            {
                "precision": precision,
                "loop": "ratio rnnkit/plain (ms/step: the difference)",
                "ms/step": milliseconds["rnnkit"] - milliseconds["plain"],
                "chars/s": measured["rnnkit"][0] / measured["plain"][0],
                "peak RSS MB": measured["rnnkit"][1] / measured["plain"][1],
            }
        )
        # Separate processes differ by up to +-15% in speed here (the same loop, run after
        # run); in one process the two loops share whatever made it fast or slow.
        pairs = runs["pair", precision]
        ratios = sorted(pair["plain"] / pair["rnnkit"] for pair in pairs)
        rows.append(
            {
                "precision": precision,
                "loop": "ratio rnnkit/plain, both in one process (median of rounds)",
                "ms/step": statistics.median((p["rnnkit"] - p["plain"]) * 1e3 for p in pairs),
                "chars/s": statistics.median(ratios),
                "peak RSS MB": float("nan"),
            }
        )
    return rows


def _generation_models():
    torch.manual_seed(0)
    text = read_text(BUNDLED_CORPUS)
    tokenizer = CharTokenizer.from_text(text)
    ours = LanguageModel(LanguageModelConfig(vocab_size=tokenizer.vocab_size)).eval()
    plain = PlainLM(tokenizer.vocab_size).eval()
    plain.load_state_dict(
        {k.replace("recurrent.", "lstm."): v for k, v in ours.state_dict().items()}
    )
    return ours, plain


@torch.no_grad()
def plain_step_loop(model, prompt, length):
    logits, state = model(prompt)
    token = torch.multinomial(torch.softmax(logits[:, -1], -1), 1)
    for _ in range(length - 1):
        logits, state = model(token, state)
        token = torch.multinomial(torch.softmax(logits[:, -1], -1), 1)


@torch.no_grad()
def naive_rerun_prefix(model, prompt, length):
    sequence = prompt
    for _ in range(length):
        logits, _ = model(sequence)
        token = torch.multinomial(torch.softmax(logits[:, -1], -1), 1)
        sequence = torch.cat([sequence, token], dim=1)


def generation(args) -> list[dict]:
    from rnnkit.generate import sample

    ours, plain = _generation_models()
    rows = []
    for streams in (1, 16):
        prompt = torch.ones(streams, 1, dtype=torch.long)
        contenders = {
            "rnnkit sample()": lambda: sample(ours, prompt, args.length, seed=0),
            "plain nn.LSTM step loop": lambda: plain_step_loop(plain, prompt, args.length),
            f"naive re-run prefix ({args.naive_length} chars)": lambda: naive_rerun_prefix(
                plain, prompt, args.naive_length
            ),
        }
        seconds = time_interleaved(contenders, args.repeats, warmup=1)
        lengths = {
            name: args.naive_length if "naive" in name else args.length for name in contenders
        }
        rates = {name: streams * lengths[name] / seconds[name] for name in contenders}
        for name in contenders:
            rows.append(
                {
                    "streams": streams,
                    "generator": name,
                    "chars/s": rates[name],
                    "rnnkit speed-up": rates["rnnkit sample()"] / rates[name],
                }
            )
    return rows


def generate_cli(args) -> list[dict]:
    """``rnnkit generate`` (a process writing to a pipe) against ``run.generate`` in
    Python (the same sampler, no stream), on one run folder with the demo's model."""
    import tempfile

    from rnnkit.tasks.language_model import (
        TextDataConfig,
        load_language_model,
        train_language_model,
    )
    from rnnkit.train import TrainConfig

    folder = Path(tempfile.mkdtemp()) / "run"
    train_language_model(folder, TextDataConfig(), None, TrainConfig(max_steps=20, progress=False))
    run = load_language_model(folder, device="cpu")
    command = [
        sys.executable,
        "-m",
        "rnnkit",
        "generate",
        str(folder),
        "--length",
        str(args.length),
        "--seed",
        "1",
        "--device",
        "cpu",
    ]
    library, cli = [], []
    for _ in range(args.repeats):  # interleaved rounds: the machine's noise hits both alike
        started = time.perf_counter()
        run.generate("\n", args.length, seed=1)
        library.append(time.perf_counter() - started)
        # The command's own clock: the time from its first to its last generated character
        # is what the stream costs; process start-up (imports, loading) is timed apart.
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.PIPE)
        cli.append(time.perf_counter() - started)
    started = time.perf_counter()
    subprocess.run(
        [*command[:-6], "--length", "1", "--seed", "1", "--device", "cpu"],
        check=True,
        stdout=subprocess.PIPE,
    )
    start_up = time.perf_counter() - started
    library_s, cli_s = sorted(library)[len(library) // 2], sorted(cli)[len(cli) // 2] - start_up
    return [
        {"generator": "run.generate() in Python", "chars/s": args.length / library_s},
        {
            "generator": "rnnkit generate (stdout to a pipe, start-up excluded)",
            "chars/s": args.length / cli_s,
        },
        {"generator": "ratio command/library", "chars/s": library_s / cli_s},
        {"generator": f"start-up of the command (s): {start_up:.2f}", "chars/s": float("nan")},
    ]


def _train_and_score(
    out: Path, time_budget: float, precision: str, recipe: dict | None = None
) -> dict:
    from rnnkit.tasks.language_model import TextDataConfig, train_language_model
    from rnnkit.train import TrainConfig

    recipe = dict(recipe or {})
    data = TextDataConfig(
        split="0.9,0.1", batch_size=recipe.pop("batch_size", 64), seq_len=recipe.pop("seq_len", 100)
    )
    model = LanguageModelConfig(
        **{k: recipe.pop(k) for k in list(recipe) if k in LanguageModelConfig.__dataclass_fields__}
    )
    train = TrainConfig(
        **{"time_budget": time_budget, "precision": precision, "eval_every": 500, **recipe}
    )
    started = time.monotonic()
    _, counters = train_language_model(out, data, model, train)
    return {
        "precision": precision,
        "time budget s": train.time_budget,
        "steps": counters.step,
        "wall s": time.monotonic() - started,
        "val nats/char (90/10)": counters.best_score,
        "val bits/char": counters.best_score / 0.6931471805599453,
        "folder": str(out),
    }


def quality(args) -> list[dict]:
    return [
        _train_and_score(Path(args.runs) / f"demo_{p}", args.time_budget, p)
        for p in args.precisions
    ]


def precision_check(args) -> list[dict]:
    """bf16 against fp32 at the same number of steps: the final loss should barely move."""
    rows = [
        _train_and_score(Path(args.runs) / f"steps_{p}", None, p, {"max_steps": args.steps})
        for p in args.precisions
    ]
    return rows + [
        {
            "precision": "bf16 - fp32",
            "val nats/char (90/10)": rows[-1]["val nats/char (90/10)"]
            - rows[0]["val nats/char (90/10)"],
        }
    ]


def recipe(args) -> list[dict]:
    chosen = MINGRU_RECIPE if args.mode == "recipe-mingru" else RECIPE
    row = _train_and_score(
        Path(args.runs) / args.mode, chosen["time_budget"], chosen["precision"], chosen
    )
    return [{**row, "recipe": " ".join(f"--{k.replace('_', '-')} {v}" for k, v in chosen.items())}]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "mode",
        choices=[
            "throughput",
            "generation",
            "generate-cli",
            "quality",
            "precision",
            "recipe",
            "recipe-mingru",
            "child",
        ],
    )
    parser.add_argument("child_args", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument(
        "--steps", type=int, default=80, help="throughput: steps per child run; precision: steps"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="throughput: alternating child runs per loop"
    )
    parser.add_argument("--length", type=int, default=1000, help="generation: chars per stream")
    parser.add_argument(
        "--naive-length", type=int, default=200, help="generation: chars for the naive loop"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--time-budget", type=float, default=150)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument(
        "--size",
        choices=list(SIZES),
        default="demo",
        help="throughput: the demo model, or a tiny one that shows the trainer's per-step cost",
    )
    parser.add_argument("--runs", default="runs/bench")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.mode == "child":
        return child(
            args.child_args[0], int(args.child_args[1]), args.child_args[2], args.child_args[3]
        )
    modes = {
        "throughput": throughput,
        "generation": generation,
        "generate-cli": generate_cli,
        "quality": quality,
        "precision": precision_check,
        "recipe": recipe,
        "recipe-mingru": recipe,
    }
    rows = modes[args.mode](args)
    print(markdown_table(rows))
    tiny = "_tiny" if args.mode == "throughput" and args.size == "tiny" else ""
    out = args.out or RESULTS / f"charlm_{args.mode}{tiny}.json"
    write_json(
        out,
        {
            "benchmark": f"charlm {args.mode}",
            "machine": machine(),
            "args": {k: str(v) for k, v in vars(args).items()},
            "rows": rows,
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
