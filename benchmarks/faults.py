"""Fault injection at scale: kill a training with SIGKILL many times (at random moments,
often inside a checkpoint save, since it saves at every step) and count the folders that do
not load, generate or resume afterwards.

    python benchmarks/faults.py --kills 100

The kill and the checks are the suite's (tests/train/test_faults.py), which runs six.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, markdown_table, write_json  # noqa: E402
from rnnkit.data import BUNDLED_CORPUS  # noqa: E402
from tests.train.test_faults import kill_once  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument(
        "--startup-every",
        type=int,
        default=10,
        help="every this many kills, one lands during start-up",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    counts = {
        "kills": 0,
        "during start-up": 0,
        "folder held a run": 0,
        "loaded and generated": 0,
        "resumed by the next start": 0,
        "unloadable or not resumable": 0,
    }
    failures = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        text = Path(folder) / "text.txt"
        text.write_text(BUNDLED_CORPUS.read_text()[:20_000])
        out = Path(folder) / "run"
        for index in range(args.kills):
            startup = index % args.startup_every == 0
            try:
                outcome = kill_once(out, text, rng, during_startup=startup)
            except Exception as error:  # the folder did not load, generate or resume
                counts["unloadable or not resumable"] += 1
                failures.append(repr(error)[:300] + traceback.format_exc().splitlines()[-1])
                continue
            finally:
                counts["kills"] += 1
            counts["during start-up"] += startup
            counts["folder held a run"] += outcome["run"]
            counts["loaded and generated"] += outcome.get("generated", False)
            counts["resumed by the next start"] += outcome["resumed"]
            print(f"kill {index + 1}: step {outcome['step']}", file=sys.stderr)
    counts["minutes"] = round((time.perf_counter() - started) / 60, 1)
    print(markdown_table([counts]))
    for failure in failures:
        print(failure)
    write_json(
        RESULTS / "faults.json",
        {"machine": machine(), "args": vars(args), "counts": counts, "failures": failures},
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
