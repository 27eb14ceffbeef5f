"""``rnnkit train lm``, ``generate`` and the language model's ``evaluate``."""

from __future__ import annotations

import argparse
import json
import sys

from rnnkit.cli.arguments import add_train_task, build_config, interrupted, train_config

EXAMPLES = """examples:
  rnnkit train lm --out runs/shakespeare                 # bundled tiny Shakespeare, 110 s
  rnnkit train lm --data my.txt --out runs/mine --hidden-size 512 --num-layers 2 --dropout 0.2 --epochs 10
  rnnkit train lm --out runs/shakespeare --resume --max-steps 5000
  rnnkit generate runs/shakespeare --prompt "ROMEO:" --length 300 --temperature 0.8 --seed 1
  rnnkit evaluate runs/shakespeare --data other.txt --json
"""

DEFAULT_TIME_BUDGET = 110.0
FORMATTER = argparse.RawDescriptionHelpFormatter


def add_train_parser(tasks) -> None:
    from rnnkit.models import LanguageModelConfig
    from rnnkit.tasks.language_model import TextDataConfig
    from rnnkit.train import TrainConfig

    lm = add_train_task(tasks, "lm", "character-level language model", EXAMPLES,
                        [("data", TextDataConfig, ()), ("model", LanguageModelConfig, ("vocab_size",)),
                         ("training", TrainConfig, ())], train)
    lm.add_argument("--sample-length", type=int, default=500, help="characters to print after training (0: none)")

def add_generate_parser(commands):
    generate = commands.add_parser("generate", help="sample text (language models) or MIDI (music models)",
                                   epilog=EXAMPLES, formatter_class=FORMATTER)
    generate.add_argument("run", help="run folder written by 'rnnkit train lm' or 'rnnkit train music'")
    generate.add_argument("--prompt", default="\n", help="text to start from (default: a newline)")
    generate.add_argument("--length", type=int, default=500, help="characters (or music steps) to generate")
    generate.add_argument("--temperature", type=float, default=1.0, help="<1 is more conservative; 0 is greedy")
    generate.add_argument("--top-k", type=int, default=None, help="sample only among the k most likely")
    generate.add_argument("--top-p", type=float, default=None, help="sample only within probability mass p")
    generate.add_argument("--seed", type=int, default=None, help="seed for reproducible samples")
    generate.add_argument("--num-samples", type=int, default=1, help="independent samples, generated as a batch")
    generate.add_argument("--device", default="auto", help="cpu, cuda or auto")
    generate.set_defaults(handler=generate_text)
    return generate


def train(args) -> int:
    from rnnkit.models import LanguageModelConfig
    from rnnkit.tasks import language_model as task

    config = train_config(args, "time_budget", DEFAULT_TIME_BUDGET)
    data = build_config(task.TextDataConfig, args)
    model = build_config(LanguageModelConfig, args)
    run, counters = task.train_language_model(args.out, data, model, config, resume=args.resume)
    if interrupted(counters, "lm", args.out):
        return 130
    if args.sample_length > 0:
        task.print_sample(run, args.sample_length, seed=config.seed)
    return 0


def generate_text(args) -> int:
    from rnnkit.tasks.language_model import load_language_model

    run = load_language_model(args.run, device=args.device)
    stream = sys.stdout if args.num_samples == 1 else None
    texts = run.generate(args.prompt, args.length, args.temperature, args.top_k, args.top_p, args.seed,
                         args.num_samples, stream=stream)
    if stream is None:
        for index, text in enumerate(texts):
            print(f"--- sample {index + 1} ---\n{args.prompt}{text}")
    else:
        print()
    return 0


def evaluate(args) -> int:
    from rnnkit.tasks.language_model import load_language_model

    metrics = load_language_model(args.run, device=args.device).evaluate(args.data)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(f"{args.data}: {metrics['loss']:.4f} nats/char | {metrics['bits_per_char']:.4f} bits/char | "
              f"perplexity {metrics['perplexity']:.3f} | {metrics['chars']} chars scored, "
              f"{metrics['unknown_chars']} not in the vocabulary")
    return 0
