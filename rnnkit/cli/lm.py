"""``rnnkit train lm`` and the language model's part of ``generate``, ``predict`` and
``evaluate``."""

from __future__ import annotations

import json

from rnnkit.cli.arguments import (
    add_train_task,
    build_config,
    interrupted,
    number,
    train_config,
)
from rnnkit.cli import using
from rnnkit.cli.flags import add_next_words_flag, add_text_generate_flags
from rnnkit.fields import Range
from rnnkit.tasks import language_model as task
from rnnkit.tasks.lm_scoring import CacheConfig, DynamicConfig
from rnnkit.train import TrainConfig

EXAMPLES = """examples:
  rnnkit train lm --out runs/shakespeare                 # bundled tiny Shakespeare, 110 s
  rnnkit train lm --data my.txt --out runs/mine --hidden-size 512 --num-layers 2 --dropout 0.2 \\
      --epochs 10
  rnnkit train lm --out runs/shakespeare --resume --max-steps 5000
  rnnkit generate runs/shakespeare --prompt "ROMEO:" --length 300 --temperature 0.8 --seed 1
  rnnkit evaluate runs/shakespeare --data other.txt --json
  rnnkit train lm --tokenizer word --data ptb.train.txt.gz --valid ptb.valid.txt \\
      --test ptb.test.txt --out runs/ptb            # next-word model, the 30-minute recipe
  rnnkit predict runs/ptb "the new york stock" --top-k 5
  rnnkit generate runs/ptb --prompt "the market" --length 40 --seed 1
  rnnkit evaluate runs/ptb --data ptb.test.txt
"""


def add_train_parser(tasks) -> None:
    parser = add_train_task(
        tasks,
        task.RECIPE,
        "language model over characters, words or subwords (--tokenizer)",
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
        type=number(int, Range(0, 10_000_000)),
        default=500,
        help="tokens to print after training (0: none)",
    )
    parser.epilog += (
        "\n--tokenizer word and bpe have their own recipe (its defaults differ from those "
        "shown):\n  "
        + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in _word_defaults())
        + "\n"
    )


def _word_defaults():
    recipe = task.WORD_RECIPE
    for defaults in (recipe.model_defaults, recipe.train_defaults):
        yield from defaults.items()


def add_shared_arguments(command: str, parser) -> None:
    """The language model's flags of the shared commands."""
    if command == "generate":
        add_text_generate_flags(parser.add_argument_group("language models"))
    elif command == "evaluate":
        group = parser.add_argument_group("language models")
        group.add_argument(
            "--cache", action="store_true", help="also score with the neural cache (Grave 2017)"
        )
        for flag, config, name, text in (
            ("--cache-window", CacheConfig, "window", "previous states the cache holds"),
            ("--cache-theta", CacheConfig, "theta", "the similarity's inverse temperature"),
            ("--cache-lambda", CacheConfig, "weight", "the cache's share of the mixture"),
            ("--dynamic-lr", DynamicConfig, "learning_rate", "dynamic evaluation's SGD step"),
            ("--dynamic-decay", DynamicConfig, "decay", "pull back to the trained weights"),
        ):
            default = getattr(config, name)
            group.add_argument(
                flag,
                type=number(type(default), config.BOUNDS[name]),
                default=default,
                help=f"{text} (default: {default})",
            )
        group.add_argument(
            "--dynamic-eval",
            action="store_true",
            help="also score with dynamic evaluation (Krause et al. 2018)",
        )
    elif command == "predict":
        add_next_words_flag(parser.add_argument_group("language models"))


def train(args) -> int:
    recipe = task.recipe_for(args.tokenizer or "char")
    config = train_config(args, recipe)
    data = build_config(task.TextDataConfig, args, role="data")
    model = build_config(task.LanguageModelConfig, args, recipe.model_defaults, "model")
    run, counters = task.train_language_model(args.out, data, model, config, resume=args.resume)
    if interrupted(counters, "lm", args.out):
        return 130
    test = run.folder.file("test_metrics.json")
    if data.test and test.is_file():
        print(f"test ({data.test}): {_describe(json.loads(test.read_text()), run.unit)}")
    if args.sample_length > 0:
        task.print_sample(run, args.sample_length, seed=config.seed)
    return 0


def _describe(metrics: dict, unit: str) -> str:
    one = unit.rstrip("s")
    return (
        f"{metrics['loss']:.4f} nats/{one} | {metrics[f'bits_per_{one}']:.4f} bits/{one} | "
        f"perplexity {metrics['perplexity']:.3f} | {metrics[unit]} {unit} scored, "
        f"{metrics[f'unknown_{unit}']} not in the vocabulary"
    )


def generate(args) -> int:
    return using.generate_text(task.load_language_model(args.run, device=args.device), args)


def evaluate(args) -> int:
    run = task.load_language_model(args.run, device=args.device)
    cache = dynamic = None
    if args.cache:
        cache = CacheConfig(args.cache_window, args.cache_theta, args.cache_lambda)
    if args.dynamic_eval:
        dynamic = DynamicConfig(args.dynamic_lr, args.dynamic_decay)
    metrics = run.evaluate(args.data, cache=cache, dynamic=dynamic)
    if args.json:
        print(json.dumps(metrics))
        return 0
    unknown = {f"unknown_{run.unit}": metrics[f"unknown_{run.unit}"]}
    print(f"{args.data}: {_describe(metrics, run.unit)}")
    for name, label in (("cache", "neural cache"), ("dynamic", "dynamic evaluation")):
        if name in metrics:
            print(f"  with the {label}: {_describe({**metrics[name], **unknown}, run.unit)}")
    return 0


def predict(args) -> int:
    """The most likely next tokens after each input text."""
    return using.next_words(task.load_language_model(args.run, device=args.device), args)


HANDLERS = {
    ("lm", "generate"): generate,
    ("lm", "evaluate"): evaluate,
    ("lm", "predict"): predict,
}
"""(task, shared command) -> handler."""
