"""``rnnkit compare`` and ``rnnkit diagnose``: the RNN vs LSTM vs GRU lab."""

from __future__ import annotations

import argparse

from rnnkit.cli.arguments import add_config_arguments, build_config

EXAMPLES = """examples:
  rnnkit compare --task adding --out runs/compare-adding            # rnn, lstm, gru at T = 100, 200, 400
  rnnkit compare --task copy --cells rnn,lstm,gru,mingru,minlstm --lengths 50,100 --seeds 0,1 --out runs/copy
  rnnkit compare --task lm --cells lstm,gru,mingru --time-budget 120 --out runs/compare-lm
  rnnkit compare --task music --data JSB_Chorales.mat --hidden-size 36 --time-budget 120 --out runs/compare-jsb
  rnnkit diagnose runs/compare-adding/runs/adding-T200-lstm-seed0
  rnnkit diagnose --cells rnn,lstm,gru --length 200 --out runs/diagnose
"""

FORMATTER = argparse.RawDescriptionHelpFormatter


def add_parsers(commands) -> None:
    from rnnkit.lab.compare import CompareConfig
    from rnnkit.lab.diagnose import DiagnoseConfig

    compare = commands.add_parser("compare", help="train cells side by side on long-range problems or an LM",
                                  epilog=EXAMPLES, formatter_class=FORMATTER)
    compare.add_argument("--out", required=True, help="folder for the tables, plots and run folders")
    add_config_arguments(compare, CompareConfig, title="comparison")
    compare.set_defaults(handler=run_compare)

    diagnose = commands.add_parser("diagnose", help="gradient diagnostics: dloss/dh_t by distance, norms over "
                                   "training", epilog=EXAMPLES, formatter_class=FORMATTER)
    diagnose.add_argument("run", nargs="?", help="a run folder written by 'rnnkit compare' (runs/...)")
    diagnose.add_argument("--out", help="folder for the plots (default: the run folder, or runs/diagnose)")
    add_config_arguments(diagnose, DiagnoseConfig, title="fresh cells (without a run folder)")
    diagnose.add_argument("--device", default="auto", help="cpu, cuda or auto")
    diagnose.set_defaults(handler=run_diagnose)


def _log(message: str) -> None:
    print(message, flush=True)


def run_compare(args) -> int:
    from rnnkit.lab.compare import CompareConfig, compare

    compare(build_config(CompareConfig, args), args.out, log=_log)
    return 0


def run_diagnose(args) -> int:
    from rnnkit.lab.diagnose import DiagnoseConfig, diagnose_cells, diagnose_run

    if args.run:
        diagnose_run(args.run, args.out, log=_log)
    else:
        diagnose_cells(build_config(DiagnoseConfig, args), args.out or "runs/diagnose", log=_log, device=args.device)
    return 0
