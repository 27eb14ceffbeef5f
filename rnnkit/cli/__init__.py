"""``rnnkit <command>``: the one argument parser. It turns flags into typed
configs and calls a task; nothing else in rnnkit parses arguments."""

from __future__ import annotations

import argparse
import json
import sys

from rnnkit.cli.arguments import add_config_arguments, build_config
from rnnkit.errors import RnnkitError

EXAMPLES = """examples:
  rnnkit train lm --out runs/shakespeare                 # bundled tiny Shakespeare, 110 s
  rnnkit train lm --data my.txt --out runs/mine --hidden-size 512 --num-layers 2 --dropout 0.2 --epochs 10
  rnnkit train lm --out runs/shakespeare --resume --max-steps 5000
  rnnkit generate runs/shakespeare --prompt "ROMEO:" --length 300 --temperature 0.8 --seed 1
  rnnkit evaluate runs/shakespeare --data other.txt --json
"""

DEFAULT_TIME_BUDGET = 110.0


def _parser() -> argparse.ArgumentParser:
    from rnnkit.models import LanguageModelConfig
    from rnnkit.tasks.language_model import TextDataConfig
    from rnnkit.train import TrainConfig

    parser = argparse.ArgumentParser(prog="rnnkit", description="Recurrent networks on sequential data.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser("train", help="train a model", epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    tasks = train.add_subparsers(dest="task", required=True, metavar="TASK")
    lm = tasks.add_parser("lm", help="character-level language model", epilog=EXAMPLES,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    lm.add_argument("--out", required=True, help="run folder to write (config, weights, metrics, plots)")
    lm.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    lm.add_argument("--sample-length", type=int, default=500, help="characters to print after training (0: none)")
    add_config_arguments(lm, TextDataConfig, title="data")
    add_config_arguments(lm, LanguageModelConfig, skip=("vocab_size",), title="model")
    add_config_arguments(lm, TrainConfig, title="training")

    generate = commands.add_parser("generate", help="sample text from a trained language model", epilog=EXAMPLES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    generate.add_argument("run", help="run folder written by 'rnnkit train'")
    generate.add_argument("--prompt", default="\n", help="text to start from (default: a newline)")
    generate.add_argument("--length", type=int, default=500, help="characters to generate")
    generate.add_argument("--temperature", type=float, default=1.0, help="<1 is more conservative; 0 is greedy")
    generate.add_argument("--top-k", type=int, default=None, help="sample only among the k most likely")
    generate.add_argument("--top-p", type=float, default=None, help="sample only within probability mass p")
    generate.add_argument("--seed", type=int, default=None, help="seed for reproducible samples")
    generate.add_argument("--num-samples", type=int, default=1, help="independent samples, generated as a batch")
    generate.add_argument("--device", default="auto", help="cpu, cuda or auto")

    evaluate = commands.add_parser("evaluate", help="loss of a trained model on a file", epilog=EXAMPLES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    evaluate.add_argument("run", help="run folder written by 'rnnkit train'")
    evaluate.add_argument("--data", required=True, help="UTF-8 text file to score")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--device", default="auto", help="cpu, cuda or auto")
    return parser


def _train_lm(args) -> int:
    from rnnkit.models import LanguageModelConfig
    from rnnkit.tasks import language_model as task
    from rnnkit.train import TrainConfig

    train = build_config(TrainConfig, args)
    if not (train.max_steps or train.epochs or train.time_budget):
        train.time_budget = DEFAULT_TIME_BUDGET
        if not args.resume:
            print(f"no limit given: training for {DEFAULT_TIME_BUDGET:g} s "
                  "(set --time-budget, --epochs or --max-steps)", file=sys.stderr)
    data = build_config(task.TextDataConfig, args)
    model = build_config(LanguageModelConfig, args)
    run, counters = task.train_language_model(args.out, data, model, train, resume=args.resume)
    if counters.stopped_because == "interrupted":
        print(f"interrupted at step {counters.step}; saved {args.out}. "
              f"Continue with: rnnkit train lm --out {args.out} --resume", file=sys.stderr)
        return 130
    if args.sample_length > 0:
        task.print_sample(run, args.sample_length, seed=train.seed)
    return 0


def _generate(args) -> int:
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


def _evaluate(args) -> int:
    from rnnkit.tasks.language_model import load_language_model

    metrics = load_language_model(args.run, device=args.device).evaluate(args.data)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(f"{args.data}: {metrics['loss']:.4f} nats/char | {metrics['bits_per_char']:.4f} bits/char | "
              f"perplexity {metrics['perplexity']:.3f} | {metrics['chars']} chars scored, "
              f"{metrics['unknown_chars']} not in the vocabulary")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"train": _train_lm, "generate": _generate, "evaluate": _evaluate}
    try:
        return handlers[args.command](args)
    except (RnnkitError, ValueError) as error:
        print(f"rnnkit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnkit: aborted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
