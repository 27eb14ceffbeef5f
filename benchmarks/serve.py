"""Load on ``rnnkit serve``, bounded and on 127.0.0.1 only: ``/v1/predict`` with one SST-2
sentence per request, from 1, 8 and 64 concurrent clients, with the server batching
concurrent requests and without (``--no-batching``). Reports requests/s, p50 and p99
latency, errors and 500s.

    python benchmarks/serve.py                 # about three minutes; run it alone
    python benchmarks/serve.py --model run     # the torch run folder instead of the export

The clients share the machine with the server (2 cores here), as a sidecar would; each is
one keep-alive connection sending its requests one after another.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, markdown_table, write_json  # noqa: E402
from benchmarks.runtime import train_and_export  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
HOST = "127.0.0.1"  # the load never leaves this machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _start(folder: Path, batching: bool, window_ms: float) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    window = ["--batch-window-ms", str(window_ms)] if batching else ["--no-batching"]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rnnkit",
            "serve",
            str(folder),
            "--host",
            HOST,
            "--port",
            str(port),
            *window,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{HOST}:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


async def _client(port: int, indices, sentences, latencies: list, statuses: list) -> None:
    """One client on one keep-alive HTTP/1.1 connection, sending its share of the requests one
    after another (a lean client, as wrk's: the 2 cores go to the server, not to parsing)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for index in indices:
            body = json.dumps({"inputs": [sentences[index % len(sentences)]]}).encode()
            request = (
                f"POST /v1/predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json"
                f"\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            start = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            statuses.append(status)
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        statuses.append(0)  # a dropped connection counts as an error
    finally:
        writer.close()


async def _load(port: int, clients: int, requests: int, sentences: list[str]) -> dict:
    """``requests`` POSTs from ``clients`` concurrent clients; latency of each."""
    latencies, statuses = [], []
    indices = iter(range(requests))
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(port, indices, sentences, latencies, statuses) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "requests/s": round(len(latencies) / elapsed, 1),
        "p50 ms": round(1000 * statistics.median(ordered), 2),
        "p99 ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "errors": sum(status != 200 for status in statuses),
        "500s": sum(status >= 500 for status in statuses),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=("export", "run"), default="export")
    parser.add_argument("--requests", type=int, default=1500, help="per configuration")
    parser.add_argument("--clients", default="1,8,64")
    parser.add_argument(
        "--batch-window-ms",
        type=float,
        default=2.0,
        help="the server's --batch-window-ms (its default: 2)",
    )
    args = parser.parse_args(argv)
    sentences = [
        line.split("\t")[0] for line in (DATA / "sst2" / "dev.tsv").read_text().splitlines()[1:]
    ]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        run, export = train_and_export(Path(scratch), ("classify",))["classify"]
        folder = export if args.model == "export" else run
        for batching in (False, True):
            process, port = _start(folder, batching, args.batch_window_ms)
            try:
                for clients in map(int, args.clients.split(",")):
                    asyncio.run(_load(port, clients, 100, sentences))  # warm up
                    result = asyncio.run(_load(port, clients, args.requests, sentences))
                    rows.append({"batching": batching, "clients": clients, **result})
                    print(rows[-1], file=sys.stderr)
            finally:
                process.terminate()
                process.wait(timeout=30)
    speedups = {}
    for clients in map(int, args.clients.split(",")):
        plain, batched = (
            next(r for r in rows if r["clients"] == clients and r["batching"] == b)
            for b in (False, True)
        )
        speedups[clients] = round(batched["requests/s"] / plain["requests/s"], 2)
    print(markdown_table(rows))
    print(
        "batched / unbatched requests/s: "
        + ", ".join(f"{c} clients {s}x" for c, s in speedups.items())
    )
    write_json(
        RESULTS / f"serve-{args.model}.json",
        {"machine": machine(), "args": vars(args), "rows": rows, "speedups": speedups},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
