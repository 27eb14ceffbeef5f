"""``rnnkit generate|predict|transcribe|forecast EXPORT ...`` (an export folder on onnxruntime)
and ``rnnkit serve``.

This parser and everything it loads import no torch (a test runs it with a ``torch`` that
raises on import). Its commands take the same flags as on a run folder (from
:mod:`rnnkit.cli.flags`) and print the same lines (through :mod:`rnnkit.cli.using`).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from rnnkit.cli import using
from rnnkit.cli.flags import (
    FORMATTER,
    add_forecast_flags,
    add_generate_flags,
    add_music_generate_flags,
    add_next_words_flag,
    add_predict_inputs,
    add_serve_flags,
    add_text_generate_flags,
    add_transcribe_flags,
)
from rnnkit.errors import DataError, RnnkitError, require
from rnnkit.runtime import is_export_folder, open_export

COMMANDS = ("generate", "predict", "transcribe", "forecast")
EXAMPLES = """examples (EXPORT is a folder written by 'rnnkit export RUN --out EXPORT'):
  rnnkit generate EXPORT --prompt "ROMEO:" --length 200 --seed 1
  rnnkit predict EXPORT "the new york stock" --top-k 5 --json
  rnnkit predict EXPORT "a gorgeous, witty film"
  rnnkit transcribe EXPORT recording.wav --beam-width 8
  rnnkit forecast EXPORT --data ETTh1.csv --out next.csv
"""


def wants(argv: list[str]) -> bool:
    """True for ``serve``, and for a command of :data:`COMMANDS` whose run argument is an
    export folder."""
    if argv[:1] == ["serve"]:
        return True
    if not argv or argv[0] not in COMMANDS:
        return False
    # The folder is the first positional argument that names a folder (a flag's value may
    # come before it); the texts after it are inputs, never opened.
    folder = next((word for word in argv[1:] if not word.startswith("-") and _is_dir(word)), None)
    return folder is not None and is_export_folder(folder)


def _is_dir(word: str) -> bool:
    try:
        return Path(word).is_dir()
    except (OSError, ValueError):  # too long for a path, or a NUL in it: a text, not a folder
        return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnkit", epilog=EXAMPLES, formatter_class=FORMATTER)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command, epilog=EXAMPLES, formatter_class=FORMATTER)
        sub.add_argument("run", metavar="EXPORT", help="export folder written by 'rnnkit export'")
        if command == "generate":
            add_generate_flags(sub)
            add_text_generate_flags(sub.add_argument_group("language models"))
            add_music_generate_flags(sub.add_argument_group("music models"))
        elif command == "predict":
            add_predict_inputs(sub)
            add_next_words_flag(sub.add_argument_group("language models"))
        elif command == "forecast":
            add_forecast_flags(sub)
        else:
            add_transcribe_flags(sub)
        sub.add_argument(
            "--threads",
            type=int,
            default=0,
            help="onnxruntime's threads (default 0: one per core)",
        )
    serve = commands.add_parser(
        "serve",
        help="answer HTTP requests (and show a web page) for run or export folders",
        epilog=SERVE_EXAMPLES,
        formatter_class=FORMATTER,
    )
    add_serve_flags(serve, _limits_class())
    return parser


SERVE_EXAMPLES = """examples:
  rnnkit serve runs/shakespeare exports/sst2          # http://127.0.0.1:8000 (page at /)
  rnnkit serve exports/etth1 --port 9000 --max-length 500
  curl -s 127.0.0.1:8000/v1/generate -d '{"prompt": "ROMEO:", "length": 100, "seed": 1}'
  curl -s 127.0.0.1:8000/v1/predict -d '{"inputs": ["a gorgeous, witty film"]}'
  curl -s 127.0.0.1:8000/v1/forecast -F file=@ETTh1.csv
  curl -s 127.0.0.1:8000/v1/transcribe -F file=@recording.wav
"""


def _limits_class():
    from rnnkit.serve.limits import ServeLimits  # imports no web framework

    return ServeLimits


def serve(args) -> int:
    """``rnnkit serve``: loads every folder, then runs uvicorn until Ctrl-C."""
    require("fastapi", "rnnkit serve")
    uvicorn = require("uvicorn", "rnnkit serve")
    from rnnkit.serve import ServeLimits, create_app, load_models

    names = [field.name for field in dataclasses.fields(ServeLimits)]
    limits = ServeLimits(**{name: getattr(args, name) for name in names})
    models = load_models(args.folders, device=args.device)
    app = create_app(models, limits)
    held = ", ".join(f"{name} ({served.task}, {served.runtime})" for name, served in models.items())
    # Bound here, then handed to uvicorn: with --port 0 the first line names the port the
    # system chose, so a script (or a test) never races another process for a free port.
    listening = _bind(args.host, args.port)
    host, port = listening.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {held} on http://{shown}:{port} (page at /, API docs at /docs)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[listening])
    return 0


def _bind(host: str, port: int):
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(2048)
    except OSError as error:
        raise RnnkitError(f"--host {host} --port {port}: cannot listen there ({error})") from None
    return listening


def _classify_texts(model, args) -> int:
    if model.encoder is None:
        raise DataError(
            f"{args.run}: classifies numeric sequences; from an export folder, pass them "
            "through the Python API (rnnkit.load(EXPORT).predict) or 'rnnkit serve'"
        )
    if not args.inputs:
        raise DataError("give texts to classify, e.g.: rnnkit predict EXPORT \"a fine film\"")
    using.print_labels(model.predict(args.inputs), args.inputs, args.json)
    return 0


HANDLERS = {
    ("lm", "generate"): using.generate_text,
    ("lm", "predict"): using.next_words,
    ("music", "generate"): using.generate_music,
    ("classify", "predict"): _classify_texts,
    ("speech", "predict"): using.classify_recordings,
    ("transcribe", "transcribe"): using.transcribe_recordings,
    ("forecast", "forecast"): using.forecast_series,
}


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    model = open_export(Path(args.run), threads=args.threads)
    handler = HANDLERS.get((model.task, args.command))
    if handler is None:
        raise RnnkitError(
            f"{args.run}: holds a {model.task!r} export, which 'rnnkit {args.command}' "
            "does not know"
        )
    return handler(model, args)
