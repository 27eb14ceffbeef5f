"""``rnnkit compare`` and ``rnnkit diagnose``: the RNN vs LSTM vs GRU lab."""

from __future__ import annotations

from rnnkit.cli.arguments import FORMATTER, add_config_arguments, build_config
from rnnkit.lab.compare import CompareConfig, compare
from rnnkit.lab.diagnose import DiagnoseConfig, diagnose_cells, diagnose_run

EXAMPLES = """examples:
  rnnkit compare --task adding          # rnn, lstm, gru at T = 100, 200, 400 -> runs/compare-adding
  rnnkit compare --task copy --cells rnn,lstm,gru,mingru,minlstm --lengths 50,100 --seeds 0,1 \\
      --out runs/copy
  rnnkit compare --task lm --cells lstm,gru,mingru --time-budget 120
  rnnkit compare --task music --data JSB_Chorales.mat --hidden-size 36 --time-budget 120
  rnnkit diagnose runs/compare-adding/runs/adding-T200-lstm-seed0
  rnnkit diagnose --cells rnn,lstm,gru --length 200                 # fresh cells -> runs/diagnose
"""


def add_parsers(commands) -> None:
    compare_parser = commands.add_parser(
        "compare",
        help="train cells side by side on long-range problems or an LM",
        epilog=EXAMPLES,
        formatter_class=FORMATTER,
    )
    compare_parser.add_argument(
        "--out", help="folder for the tables, plots and run folders (default: runs/compare-TASK)"
    )
    add_config_arguments(compare_parser, CompareConfig, title="comparison")
    compare_parser.set_defaults(handler=run_compare)

    diagnose = commands.add_parser(
        "diagnose",
        help="gradient diagnostics: dloss/dh_t by distance, norms over training",
        epilog=EXAMPLES,
        formatter_class=FORMATTER,
    )
    diagnose.add_argument(
        "run", nargs="?", help="a run folder written by 'rnnkit compare' (runs/...)"
    )
    diagnose.add_argument(
        "--out", help="folder for the plots (default: the run folder, or runs/diagnose)"
    )
    add_config_arguments(diagnose, DiagnoseConfig, title="fresh cells (without a run folder)")
    diagnose.add_argument("--device", default="auto", help="cpu, cuda or auto")
    diagnose.set_defaults(handler=run_diagnose)


def _log(message: str) -> None:
    print(message, flush=True)


def run_compare(args) -> int:
    config = build_config(CompareConfig, args)
    out = args.out or f"runs/compare-{config.task}"
    compare(config, out, log=_log)
    print(f"wrote the comparison to {out}", flush=True)
    return 0


def run_diagnose(args) -> int:
    if args.run:
        out = args.out or args.run
        diagnose_run(args.run, args.out, log=_log)
    else:
        out = args.out or "runs/diagnose"
        diagnose_cells(build_config(DiagnoseConfig, args), out, log=_log, device=args.device)
    print(f"wrote the diagnostics to {out}", flush=True)
    return 0
