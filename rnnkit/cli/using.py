"""What the commands that use a trained model print, for a run folder (torch) and an export
folder (onnxruntime) alike: each function takes the loaded model, whichever it is, and the
parsed flags. Nothing here imports torch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rnnkit.data.music import plot_piano_roll, read_piano_rolls, write_midi
from rnnkit.errors import DataError
from rnnkit.io import write_text


def report_unknown(model, prompt: str) -> None:
    unknown = model.unknown_words(prompt)
    if unknown and model.codec.kind != "char":
        print(f"note: read as <unk>, not in the vocabulary: {' '.join(unknown)}", file=sys.stderr)


def generate_text(model, args) -> int:
    """``rnnkit generate`` of a language model: the text streams when there is one sample."""
    report_unknown(model, args.prompt)
    stream = sys.stdout if args.num_samples == 1 else None
    texts = model.generate(
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


def next_words(model, args) -> int:
    """``rnnkit predict`` of a language model: the most likely next tokens of each text."""
    if not args.inputs:
        raise ValueError("give a text to continue, e.g.: rnnkit predict RUN \"the new york\"")
    for text in args.inputs:
        report_unknown(model, text)
        ranked = model.next_tokens(text, args.top_k)
        if args.json:
            next_tokens = [{"token": token, "probability": p} for token, p in ranked]
            print(json.dumps({"input": text, "next": next_tokens}))
        else:
            shown = "  ".join(f"{token!r} {p:.3f}" for token, p in ranked)
            print(f"{text} -> {shown}")
    return 0


def print_labels(results, shown, as_json: bool) -> None:
    """One line per input: label, its probability and the input (or a JSON object)."""
    for text, result in zip(shown, results):
        if as_json:
            print(json.dumps({"input": text, **result}, ensure_ascii=False))
        else:
            probability = result["probabilities"][result["label"]]
            print(f"{result['label']}\t{probability:.4f}\t{text}")


def classify_recordings(model, args) -> int:
    """``rnnkit predict`` of a speech classifier: one line per WAV file."""
    if getattr(args, "input", None) or not args.inputs:
        raise DataError(
            f"{args.run}: classifies recordings; give WAV files as arguments (no --input)"
        )
    for result in model.predict(args.inputs):
        if args.json:
            print(json.dumps(result))
        else:
            probability = result["probabilities"][result["label"]]
            print(f"{result['label']}\t{probability:.4f}\t{result['file']}")
    return 0


def transcribe_recordings(model, args) -> int:
    """``rnnkit transcribe``: one transcript per WAV file."""
    for result in model.transcribe(args.files, beam_width=args.beam_width):
        print(json.dumps(result) if args.json else f"{result['text']}\t{result['file']}")
    return 0


def forecast_series(model, args) -> int:
    """``rnnkit forecast``: the steps after the end of ``--data``, printed or written."""
    table = model.forecast(args.data, future_path=args.future)
    if args.out:
        write_text(args.out, table.to_csv(index=False))
        print(f"wrote {len(table)} forecast rows to {args.out}")
    else:
        print(table.to_string(index=False))
    if args.plot:
        model.plot_forecast(args.data, table, args.plot)
        print(f"plot: {args.plot}")
    return 0


def _prime(args):
    """The opening of ``--prime``'s piece, or None."""
    if not args.prime:
        return None
    pieces = read_piano_rolls(args.prime)
    split, _, index = args.prime_piece.partition(":")
    if Path(args.prime).suffix.lower() in (".mid", ".midi"):
        split, index = "train", "0"
    if split not in pieces or not index.isdigit() or int(index) >= len(pieces[split]):
        raise DataError(
            f"{args.prime}: has no piece {args.prime_piece!r} (splits: "
            f"{', '.join(f'{k} ({len(v)} pieces)' for k, v in pieces.items())})"
        )
    return pieces[split][int(index)][: args.prime_steps]


def generate_music(model, args) -> int:
    """``rnnkit generate`` of a music model: a MIDI file and a PNG of its piano roll."""
    if not args.out:
        raise DataError("a music model writes MIDI: give --out piece.mid")
    prime = _prime(args)
    roll = model.generate(args.length, prime, args.temperature, args.seed)
    # MIDI-trained models keep their resolution; the benchmark rolls are one step per quarter note.
    data = model.config["data"]
    benchmark = Path(data["data"]).suffix.lower() in (".mat", ".json")
    write_midi(roll, args.out, 1 if benchmark else data["steps_per_quarter"], args.tempo)
    picture = Path(args.out).with_suffix(".png")
    plot_piano_roll(
        roll,
        picture,
        f"{Path(args.run).name}: {args.length} steps",
        0 if prime is None else len(prime),
    )
    notes = int(roll.sum())
    print(f"wrote {args.out} ({len(roll)} steps, {notes} key-steps) and {picture}")
    return 0
