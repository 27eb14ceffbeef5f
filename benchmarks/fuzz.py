"""Fuzz every reader: thousands of damaged files each; count what loads, what raises rnnkit's
own one-line error, and anything else (a traceback a user would see).

    python benchmarks/fuzz.py --inputs 10000

The seed files, the mutation, the readers and the contract are the suite's
(tests/data/test_readers.py); the suite runs 60 hypothesis examples per reader, this runs
many more from a seeded generator, and keeps going after an unexpected exception to count
them all.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, markdown_table, write_json  # noqa: E402
from tests.data.test_readers import READERS, SEEDS, check_reader, mutate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def fuzz(kind: str, inputs: int, seed: int, folder: Path) -> dict:
    rng = random.Random(f"{seed}-{kind}")
    outcomes, unexpected = Counter(), []
    started = time.perf_counter()
    for _ in range(inputs):
        raw = mutate(SEEDS[kind], rng)
        try:
            check_reader(kind, folder, raw)
            outcomes["loaded or refused"] += 1
        except Exception as error:  # anything but our own error: a defect to count
            outcomes["unexpected"] += 1
            if len(unexpected) < 5:
                unexpected.append(
                    {
                        "input": raw[:200].hex(),
                        "error": repr(error),
                        "where": traceback.format_exc().splitlines()[-3].strip(),
                    }
                )
    return {
        "reader": kind,
        "inputs": inputs,
        "unexpected exceptions": outcomes["unexpected"],
        "seconds": round(time.perf_counter() - started, 1),
        "examples": unexpected,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inputs", type=int, default=10_000, help="damaged files per reader")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readers", nargs="+", default=sorted(READERS), choices=sorted(READERS))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.readers:
            rows.append(fuzz(kind, args.inputs, args.seed, Path(folder)))
            print(f"{kind}: {rows[-1]['unexpected exceptions']} unexpected", file=sys.stderr)
    print(markdown_table([{k: v for k, v in row.items() if k != "examples"} for row in rows]))
    for row in rows:
        for example in row["examples"]:
            print(f"{row['reader']}: {example['error']} at {example['where']}")
    write_json(RESULTS / "fuzz.json", {"machine": machine(), "args": vars(args), "rows": rows})
    return 1 if any(row["unexpected exceptions"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
