"""``rnnkit train lm`` and the language model's part of ``generate`` and ``evaluate``."""

from __future__ import annotations

import json
import sys

from rnnkit.cli.arguments import add_train_task, build_config, interrupted, train_config
from rnnkit.tasks import language_model as task
from rnnkit.train import TrainConfig

EXAMPLES = """examples:
  rnnkit train lm --out runs/shakespeare                 # bundled tiny Shakespeare, 110 s
  rnnkit train lm --data my.txt --out runs/mine --hidden-size 512 --num-layers 2 --dropout 0.2 \\
      --epochs 10
  rnnkit train lm --out runs/shakespeare --resume --max-steps 5000
  rnnkit generate runs/shakespeare --prompt "ROMEO:" --length 300 --temperature 0.8 --seed 1
  rnnkit evaluate runs/shakespeare --data other.txt --json
"""


def add_train_parser(tasks) -> None:
    parser = add_train_task(
        tasks,
        task.RECIPE,
        "character-level language model",
        EXAMPLES,
        [
            ("data", task.TextDataConfig, ()),
            ("model", task.LanguageModelConfig, ("vocab_size",)),
            ("training", TrainConfig, ()),
        ],
        train,
    )
    parser.add_argument(
        "--sample-length",
        type=int,
        default=500,
        help="characters to print after training (0: none)",
    )


def add_shared_arguments(command: str, parser) -> None:
    """The language model's flags of the shared commands."""
    if command == "generate":
        group = parser.add_argument_group("language models")
        group.add_argument("--prompt", default="\n", help="text to start from (default: a newline)")
        group.add_argument(
            "--top-k", type=int, default=None, help="sample only among the k most likely"
        )
        group.add_argument(
            "--top-p", type=float, default=None, help="sample only within probability mass p"
        )
        group.add_argument(
            "--num-samples", type=int, default=1, help="independent samples, generated as a batch"
        )


def train(args) -> int:
    config = train_config(args, task.RECIPE)
    data = build_config(task.TextDataConfig, args)
    model = build_config(task.LanguageModelConfig, args, task.RECIPE.model_defaults)
    run, counters = task.train_language_model(args.out, data, model, config, resume=args.resume)
    if interrupted(counters, "lm", args.out):
        return 130
    if args.sample_length > 0:
        task.print_sample(run, args.sample_length, seed=config.seed)
    return 0


def generate(args) -> int:
    run = task.load_language_model(args.run, device=args.device)
    stream = sys.stdout if args.num_samples == 1 else None
    texts = run.generate(
        args.prompt,
        args.length,
        args.temperature,
        args.top_k,
        args.top_p,
        args.seed,
        args.num_samples,
        stream=stream,
    )
    if stream is None:
        for index, text in enumerate(texts):
            print(f"--- sample {index + 1} ---\n{args.prompt}{text}")
    else:
        print(flush=True)
    return 0


def evaluate(args) -> int:
    metrics = task.load_language_model(args.run, device=args.device).evaluate(args.data)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(
            f"{args.data}: {metrics['loss']:.4f} nats/char | {metrics['bits_per_char']:.4f} "
            "bits/char | "
            f"perplexity {metrics['perplexity']:.3f} | {metrics['chars']} chars scored, "
            f"{metrics['unknown_chars']} not in the vocabulary"
        )
    return 0


HANDLERS = {("lm", "generate"): generate, ("lm", "evaluate"): evaluate}
"""(task, shared command) -> handler."""
