"""What the commands that use a trained model print, for a run folder (torch) and an export
folder (onnxruntime) alike: each function takes the loaded model, whichever it is, and the
parsed flags. Nothing here imports torch."""

from __future__ import annotations

import json
import sys

from rnnkit.errors import DataError


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
