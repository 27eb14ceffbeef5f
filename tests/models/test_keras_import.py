"""Keras models opened in rnnkit give Keras' own outputs to 1e-5: seeded random models of every
supported kind, saved by Keras 3 (torch backend, no TensorFlow) as .keras and .h5, with masked
and padded inputs and bidirectional stacks; and one-line refusals of what is not supported."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="the parity tests need Keras 3 (the dev extra)")
pytest.importorskip("h5py", reason="the keras extra: pip install 'rnnkit[keras]'")

from keras import layers  # noqa: E402

from rnnkit import from_keras  # noqa: E402
from rnnkit.errors import DataError  # noqa: E402

if keras.backend.backend() != "torch":
    pytest.skip("these tests run Keras on its torch backend", allow_module_level=True)

VOCAB, TIME = 30, 9
# Keras' torch backend hands numpy an old-style __array__ (its warning, not ours)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _randomise(model, seed: int) -> None:
    """Every weight drawn at random (Keras' initial biases are zeros, which would hide a bias
    put in the wrong place)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.5, tuple(weight.shape)).astype("float32"))


def _ids(seed: int, padded: bool = True) -> np.ndarray:
    """Token ids (batch 5, time 9); with ``padded``, rows end in zeros (right padding), one
    row full, one of a single token."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, (5, TIME))
    if padded:
        for row, length in enumerate([TIME, 6, 1, 4, 8]):
            ids[row, length:] = 0
    return ids


def _floats(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, TIME, 3)).astype("float32")
    x[1, 5:] = 0.0  # padding for a Masking layer
    x[3, 2:] = 0.0
    return x


def _check(model, inputs, tmp_path, seed: int = 0, suffix: str = ".keras"):
    _randomise(model, seed)
    path = tmp_path / f"model{suffix}"
    model.save(path)
    expected = keras.ops.convert_to_numpy(model(inputs, training=False))
    ours = from_keras(path)
    with torch.no_grad():
        got = ours(torch.from_numpy(np.asarray(inputs))).numpy()
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1e-5, np.abs(got - expected).max()
    return ours


def _ids_model(*stack):
    return keras.Sequential([keras.Input((None,), dtype="int32"), *stack])


CASES = {
    "simple_rnn_masked": lambda: _ids_model(
        layers.Embedding(VOCAB, 6, mask_zero=True),
        layers.SimpleRNN(7),
        layers.Dense(3, activation="softmax"),
    ),
    "simple_rnn_relu_sequences_time_distributed": lambda: _ids_model(
        layers.Embedding(VOCAB, 6),
        layers.SimpleRNN(5, activation="relu", return_sequences=True),
        layers.TimeDistributed(layers.Dense(VOCAB, activation="log_softmax")),
    ),
    "stacked_lstm_masked": lambda: _ids_model(
        layers.Embedding(VOCAB, 8, mask_zero=True),
        layers.LSTM(6, return_sequences=True),
        layers.Dropout(0.3),
        layers.LSTM(5),
        layers.Dense(1, activation="sigmoid"),
    ),
    "lstm_sequences_masked_dense": lambda: _ids_model(
        layers.Embedding(VOCAB, 8, mask_zero=True),
        layers.LSTM(6, return_sequences=True),  # masked steps repeat the last output
        layers.Dense(4, activation="tanh"),
    ),
    "gru_reset_after": lambda: _ids_model(
        layers.Embedding(VOCAB, 8, mask_zero=True),
        layers.GRU(6, reset_after=True),
        layers.Dense(3, activation="softmax"),
    ),
    "gru_reset_before": lambda: _ids_model(
        layers.Embedding(VOCAB, 8, mask_zero=True),
        layers.GRU(6, reset_after=False, return_sequences=True),
        layers.GRU(4, reset_after=False),
        layers.Dense(2, activation="elu"),
    ),
    "bidirectional_gru_reset_before_pooled": lambda: _ids_model(
        layers.Embedding(VOCAB, 8, mask_zero=True),
        layers.Bidirectional(layers.GRU(5, reset_after=False, return_sequences=True)),
        layers.GlobalAveragePooling1D(),
        layers.Dense(3, activation="softmax"),
    ),
    "no_bias_max_pooled": lambda: _ids_model(
        layers.Embedding(VOCAB, 8),
        layers.LSTM(6, use_bias=False, return_sequences=True),
        layers.SpatialDropout1D(0.2),
        layers.GlobalMaxPooling1D(),
        layers.Dense(4, activation="relu"),
        layers.Activation("selu"),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sequential_models_equal_keras(name, tmp_path):
    _check(CASES[name](), _ids(1), tmp_path, seed=len(name))


@pytest.mark.parametrize("merge", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("sequences", [True, False])
def test_bidirectional_stacks_equal_keras(merge, sequences, tmp_path):
    model = _ids_model(
        layers.Embedding(VOCAB, 8, mask_zero=True),
        layers.Bidirectional(layers.LSTM(5, return_sequences=True), merge_mode=merge),
        layers.Bidirectional(layers.GRU(4, return_sequences=sequences), merge_mode=merge),
        layers.Dense(3),
    )
    _check(model, _ids(2), tmp_path, seed=3)


def test_a_functional_chain_with_masking_on_numbers_equals_keras(tmp_path):
    inputs = keras.Input((None, 3))
    x = layers.Masking(0.0)(inputs)
    x = layers.GRU(6, return_sequences=True)(x)
    x = layers.TimeDistributed(layers.Dense(2, activation="swish"))(x)
    x = layers.GlobalAveragePooling1D()(x)
    _check(keras.Model(inputs, x), _floats(4), tmp_path, seed=5)


def test_the_legacy_h5_file_equals_keras(tmp_path):
    model = _ids_model(
        layers.Embedding(VOCAB, 8, mask_zero=True),
        layers.Bidirectional(layers.GRU(5)),
        layers.Dense(3, activation="softmax"),
    )
    _check(model, _ids(6), tmp_path, seed=7, suffix=".h5")


def test_what_comes_out_is_a_torch_module_that_trains(tmp_path):
    ours = _check(CASES["stacked_lstm_masked"](), _ids(8), tmp_path)
    assert isinstance(ours, torch.nn.Module) and ours.takes_ids and not ours.training
    parameters = sum(p.numel() for p in ours.parameters())
    assert parameters == 30 * 8 + (8 * 24 + 6 * 24 + 24 * 2) + (6 * 20 + 5 * 20 + 20 * 2) + 6
    loss = ours(torch.from_numpy(_ids(8))).sum()
    loss.backward()
    assert all(p.grad is not None for p in ours.parameters())


def test_unsupported_layers_and_graphs_are_refused_in_one_line(tmp_path):
    model = _ids_model(layers.Embedding(VOCAB, 4), layers.Conv1D(3, 2), layers.Flatten())
    model.save(tmp_path / "conv.keras")
    with pytest.raises(DataError) as error:
        from_keras(tmp_path / "conv.keras")
    assert str(error.value).startswith(
        f"{tmp_path / 'conv.keras'}: layer 1 'conv1d' (Conv1D): this layer is not supported; "
        "supported: Embedding, Masking, SimpleRNN, LSTM, GRU, Bidirectional"
    )
    inputs = keras.Input((None, 3))
    joined = layers.Concatenate()([layers.LSTM(2)(inputs), layers.GRU(2)(inputs)])
    keras.Model(inputs, joined).save(tmp_path / "branches.keras")
    with pytest.raises(DataError, match=r"layer 'concatenate' \(Concatenate\) joins 2 tensors"):
        from_keras(tmp_path / "branches.keras")
    odd = _ids_model(layers.Embedding(VOCAB, 4), layers.LSTM(3, activation="relu"))
    odd.save(tmp_path / "relu_lstm.keras")
    with pytest.raises(DataError, match=r"layer 1 'lstm\w*' \(LSTM\): activations 'relu'/"):
        from_keras(tmp_path / "relu_lstm.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a model")
    with pytest.raises(DataError, match=r"junk.keras: not a Keras model file"):
        from_keras(tmp_path / "junk.keras")


def test_a_mask_with_holes_is_refused_at_the_call(tmp_path):
    ours = _check(CASES["gru_reset_after"](), _ids(9), tmp_path)
    holes = torch.from_numpy(_ids(9))
    holes[1, 2] = 0  # padding in the middle of row 1
    with pytest.raises(DataError, match=r"row 1's mask has a masked step before an unmasked"):
        ours(holes)


def _vocabulary_file(folder, size: int):
    """TextVectorization's vocabulary: id 0 padding (""), id 1 [UNK], then words."""
    words = [f"w{i}" for i in range(size - 2)]
    path = folder / "vocab.txt"
    path.write_text("\n".join(["", "[UNK]", *words]) + "\n", encoding="utf-8")
    return path, words


@pytest.mark.parametrize("stack", ["bilstm_last_sigmoid", "gru_mean_softmax", "rnn_max_softmax"])
def test_import_keras_writes_a_classifier_run_that_answers_as_keras(stack, tmp_path):
    from rnnkit.cli import main
    from rnnkit.tasks.loading import load_run

    recurrent = {
        "bilstm_last_sigmoid": [
            layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
            layers.Bidirectional(layers.LSTM(6)),  # one width: rnnkit stacks equal layers
            layers.Dropout(0.5),
            layers.Dense(1, activation="sigmoid"),
        ],
        "gru_mean_softmax": [
            layers.GRU(6, return_sequences=True),
            layers.GlobalAveragePooling1D(),
            layers.Dense(3, activation="softmax"),
        ],
        "rnn_max_softmax": [
            layers.SimpleRNN(6, activation="relu", return_sequences=True),
            layers.GlobalMaxPooling1D(),
            layers.Dense(3, activation="softmax"),
        ],
    }[stack]
    model = _ids_model(layers.Embedding(VOCAB, 8, mask_zero=True), *recurrent)
    _randomise(model, 11)
    model.save(tmp_path / "model.keras")
    vocabulary, words = _vocabulary_file(tmp_path, VOCAB)
    classes = 2 if stack == "bilstm_last_sigmoid" else 3
    labels = ",".join(f"class{i}" for i in range(classes))
    argv = ["import-keras", str(tmp_path / "model.keras"), "--out", str(tmp_path / "run")]
    assert main([*argv, "--vocabulary", str(vocabulary), "--labels", labels]) == 0
    run = load_run(tmp_path / "run", device="cpu")
    # Keras' standardisation: lower case, punctuation deleted, split at white space
    texts = ["w3 w7 w1 w20", "W5, w9!", "w12 unknownword w4 w4 w4 w2"]
    cleaned = [t.lower().replace(",", "").replace("!", "").split() for t in texts]
    ids = [[words.index(w) + 2 if w in words else 1 for w in row] for row in cleaned]
    answers = run.predict(texts)
    for row, answer in zip(ids, answers):
        expected = keras.ops.convert_to_numpy(model(np.array([row]), training=False))[0]
        if classes == 2:
            expected = np.array([1 - expected[0], expected[0]])
        got = np.array([answer["probabilities"][f"class{i}"] for i in range(classes)])
        assert np.abs(got - expected).max() <= 1e-5
        assert answer["label"] == f"class{int(np.argmax(expected))}"
    # an ordinary run: it exports, and the export answers as the run (onnxruntime, no torch)
    pytest.importorskip("onnxruntime", reason="the onnx extra")
    from rnnkit.runtime import open_export
    from tests.conftest import assert_same_labels

    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "export")]) == 0
    assert_same_labels(open_export(tmp_path / "export").predict(texts), answers, 1e-5)


def test_import_keras_refuses_what_it_cannot_write_in_one_line(tmp_path, capsys):
    from rnnkit.cli import main

    vocabulary, _ = _vocabulary_file(tmp_path, VOCAB)
    per_step = _ids_model(layers.Embedding(VOCAB, 4), layers.LSTM(3, return_sequences=True))
    per_step.save(tmp_path / "steps.keras")
    argv = ["import-keras", str(tmp_path / "steps.keras"), "--out", str(tmp_path / "run")]
    assert main([*argv, "--vocabulary", str(vocabulary)]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: {tmp_path / 'steps.keras'}: not a text classifier or next-character "
        "model of the shapes import-keras writes as a run (Embedding, one cell kind stacked, "
        "then final state or global pooling and Dense, or Dense at every step); "
        "rnnkit.from_keras(path) gives it as a torch module with the same outputs\n"
    )
    assert not (tmp_path / "run").exists()
    classifier = _ids_model(layers.Embedding(VOCAB, 4), layers.GRU(3), layers.Dense(2, "softmax"))
    classifier.save(tmp_path / "cls.keras")
    argv = ["import-keras", str(tmp_path / "cls.keras"), "--out", str(tmp_path / "run")]
    assert main([*argv, "--vocabulary", str(vocabulary), "--labels", "a,b,c"]) == 2
    assert capsys.readouterr().err.startswith(
        "rnnkit: error: --labels: the model of "
    )
    short = tmp_path / "short.txt"
    short.write_text("\n[UNK]\nw0\n")
    assert main([*argv, "--vocabulary", str(short)]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: {short}: 3 tokens; the model's Embedding takes {VOCAB} ids\n"
    )


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_import_keras_writes_a_language_model_run_that_answers_as_keras(cell, tmp_path):
    """A next-character model: the run's next-character probabilities are Keras' softmax, it
    generates, and its export answers the same."""
    from rnnkit.cli import main
    from rnnkit.tasks.loading import load_run

    characters = list("ab c\nde")  # the line end too: the vocabulary is a JSON list
    size = len(characters)
    layer = {"lstm": layers.LSTM, "gru": layers.GRU, "rnn": layers.SimpleRNN}[cell]
    model = _ids_model(
        layers.Embedding(size, 6),
        layer(8, return_sequences=True),
        layers.Dropout(0.1),
        layer(8, return_sequences=True),
        layers.TimeDistributed(layers.Dense(size, activation="softmax")),
    )
    _randomise(model, 13)
    model.save(tmp_path / "chars.keras")
    (tmp_path / "chars.json").write_text(__import__("json").dumps(characters))
    argv = ["import-keras", str(tmp_path / "chars.keras"), "--out", str(tmp_path / "run")]
    assert main([*argv, "--vocabulary", str(tmp_path / "chars.json")]) == 0
    run = load_run(tmp_path / "run", device="cpu")
    for prompt in ("ab", "c\nd", "eeee a"):
        ids = np.array([[characters.index(c) for c in prompt]])
        expected = keras.ops.convert_to_numpy(model(ids, training=False))[0, -1]
        ranked = dict(run.next_tokens(prompt, size))
        assert max(abs(ranked[c] - expected[i]) for i, c in enumerate(characters)) <= 1e-5
    text = run.generate("a", 20, seed=1)
    assert len(text) == 20 and set(text) <= set(characters)
    pytest.importorskip("onnxruntime", reason="the onnx extra")
    from rnnkit.runtime import open_export

    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "export")]) == 0
    exported = dict(open_export(tmp_path / "export").next_tokens("ab", size))
    assert max(abs(exported[c] - p) for c, p in run.next_tokens("ab", size)) <= 1e-5


def test_the_seed_tutorial_runs_end_to_end(tmp_path, capsys):
    """examples/seed_tutorial.py: trains the seed's model in Keras, imports it, predicts the
    same next character, generates "hello world" and exports it."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "seed_tutorial.py"
    spec = importlib.util.spec_from_file_location("seed_tutorial", path)
    tutorial = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tutorial)
    assert tutorial.main(tmp_path) == 0
    out = capsys.readouterr().out
    assert "Keras:  after 'hell' comes 'o'" in out and "rnnkit: after 'hell' comes 'o'" in out
    assert "rnnkit generates from 'h': 'hello world'" in out
