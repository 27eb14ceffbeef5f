"""The seed's Keras tutorial, end to end: train its "hello world" next-character model in Keras,
open it in rnnkit, make the same prediction, generate text and export it.

    pip install keras h5py        # Keras 3 on its torch backend; no TensorFlow
    python examples/seed_tutorial.py

As printed, the seed fits a target sequence with ``return_sequences=False``; here the model
returns a prediction at every step, so the shapes agree: a window of 4 characters in, the
next character after each of them out.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.tasks.keras_runs import import_keras  # noqa: E402

TEXT, WINDOW = "hello world", 4


def train_in_keras(characters: list[str]) -> keras.Model:
    """The seed's model: characters in, a softmax over the next character at every step."""
    index = {c: i for i, c in enumerate(characters)}
    ids = [index[c] for c in TEXT]
    inputs = np.array([ids[i : i + WINDOW] for i in range(len(ids) - WINDOW)])
    targets = np.array([ids[i + 1 : i + WINDOW + 1] for i in range(len(ids) - WINDOW)])
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            layers.Embedding(len(characters), 8),
            layers.SimpleRNN(50, return_sequences=True),
            layers.Dense(len(characters), activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(inputs, targets, epochs=300, verbose=0)
    return model


def main(folder: Path) -> int:
    characters = sorted(set(TEXT))
    model = train_in_keras(characters)
    prompt = "hell"
    probabilities = keras.ops.convert_to_numpy(
        model(np.array([[characters.index(c) for c in prompt]]))
    )[0, -1]
    keras_next = characters[int(np.argmax(probabilities))]
    print(f"Keras:  after {prompt!r} comes {keras_next!r} (p = {probabilities.max():.3f})")

    model.save(folder / "hello.keras")
    (folder / "characters.json").write_text(json.dumps(characters))
    run_folder = import_keras(folder / "hello.keras", folder / "run", folder / "characters.json")
    run = rnnkit.load(run_folder, device="cpu")
    token, probability = run.next_tokens(prompt, 1)[0]
    print(f"rnnkit: after {prompt!r} comes {token!r} (p = {probability:.3f})")
    print(f"rnnkit generates from 'h': {'h' + run.generate('h', 10, temperature=0.0)!r}")
    if abs(probability - float(probabilities.max())) > 1e-5 or token != keras_next:
        print("the two disagree", file=sys.stderr)
        return 1
    try:
        from rnnkit.export import export_run
    except ImportError:
        print("(pip install 'rnnkit[onnx]' to export)")
        return 0
    export_run(run_folder, folder / "export")
    exported = rnnkit.load(folder / "export")
    print(f"the export (onnxruntime): {exported.next_tokens(prompt, 1)[0]}")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        sys.exit(main(Path(scratch)))
