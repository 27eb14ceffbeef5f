"""Each graph on onnxruntime against its torch model, with seeded random weights: the step
graphs against the whole-sequence forward, the sequence graphs across batch sizes, lengths
and padded rows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from rnnkit.errors import RunFolderError
from rnnkit.export.writer import write_graph
from rnnkit.models import (
    ClassifierConfig,
    CTCConfig,
    CTCRecognizer,
    Forecaster,
    ForecasterConfig,
    LanguageModel,
    LanguageModelConfig,
    PianoRollModel,
    PianoRollModelConfig,
    SequenceClassifier,
)
from rnnkit.runtime.transcribe import stack_frames

ort = pytest.importorskip("onnxruntime", reason="the onnx extra: pip install 'rnnkit[onnx]'")

TOLERANCE = 1e-5
"""float32 sums in a different order (onnxruntime's LSTM/GRU kernels against oneDNN's): the
measured worst case here is 5e-7; 1e-5 leaves 20 times that. A wrong gate order, a missing
bias or a mask off by one step moves the outputs by 1e-2 or more."""
SHAPES = ((1, 1), (1, 9), (4, 13))
"""(batch, time): one step, one row, and a padded batch whose first row is full length."""


def _session(model, task, tmp_path):
    path = tmp_path / "graph.onnx"
    description = write_graph(model, task, path)
    return ort.InferenceSession(str(path)), description


def _lengths(batch: int, time: int, generator) -> torch.Tensor:
    lengths = torch.randint(1, time + 1, (batch,), generator=generator)
    lengths[0] = time
    return lengths


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "rnn_relu", "mingru", "minlstm"])
def test_language_model_step_graph_equals_the_whole_sequence_forward(cell, tmp_path):
    torch.manual_seed(0)
    config = LanguageModelConfig(
        vocab_size=30, cell=cell, hidden_size=24, embedding_size=8, num_layers=2
    )
    model = LanguageModel(config).eval()
    session, description = _session(model, "lm", tmp_path)
    names = [entry["name"] for entry in description["inputs"]]
    for batch in (1, 3):
        tokens = torch.randint(0, 30, (batch, 12))
        with torch.no_grad():
            expected, final = model(tokens)
        state = [np.zeros((2, batch, 24), np.float32) for _ in names[1:]]
        for step in range(tokens.shape[1]):
            logits, *state = session.run(None, dict(zip(names, [tokens[:, step].numpy(), *state])))
            assert np.abs(logits - expected[:, step].numpy()).max() < TOLERANCE
        finals = final if isinstance(final, tuple) else (final,)
        for ours, theirs in zip(state, finals):
            assert np.abs(ours - theirs.numpy()).max() < TOLERANCE


def test_music_step_graph_equals_the_whole_sequence_forward(tmp_path):
    torch.manual_seed(1)
    config = PianoRollModelConfig(keys=20, hidden_size=16, num_layers=2, output="independent")
    model = PianoRollModel(config).eval()
    session, description = _session(model, "music", tmp_path)
    rolls = (torch.rand(3, 10, 20) < 0.2).float()
    with torch.no_grad():
        expected, _ = model(rolls)
    state = [np.zeros((2, 3, 16), np.float32)] * 2
    for step in range(10):
        logits, *state = session.run(
            None, {"inputs": rolls[:, step].numpy(), "h0": state[0], "c0": state[1]}
        )
        assert np.abs(logits - expected[:, step].numpy()).max() < TOLERANCE


@pytest.mark.parametrize("output", ["made", "nade"])
def test_conditional_music_step_graph_scores_each_key_given_the_keys_below(output, tmp_path):
    """The graph's extra input ``frame`` carries the next step's keys; its logits are each
    key's conditional logit, as the model's one-shot forward scores them."""
    torch.manual_seed(2)
    config = PianoRollModelConfig(keys=20, hidden_size=16, output=output, output_size=24)
    model = PianoRollModel(config).eval()
    session, description = _session(model, "music", tmp_path)
    assert [entry["name"] for entry in description["inputs"]] == ["inputs", "h0", "c0", "frame"]
    rolls = (torch.rand(3, 10, 20) < 0.2).float()
    inputs = torch.cat([torch.zeros(3, 1, 20), rolls[:, :-1]], dim=1)
    with torch.no_grad():
        expected, _ = model(inputs, targets=rolls)
    state = [np.zeros((1, 3, 16), np.float32)] * 2
    for step in range(10):
        feeds = {"inputs": inputs[:, step].numpy(), "h0": state[0], "c0": state[1]}
        logits, *state = session.run(None, {**feeds, "frame": rolls[:, step].numpy()})
        assert np.abs(logits - expected[:, step].numpy()).max() < TOLERANCE


@pytest.mark.parametrize(
    "cell,bidirectional,pooling,num_layers",
    [
        *itertools.product(
            ["lstm", "gru", "rnn"], [True, False], ["max", "mean", "last", "attention"], [2]
        ),
        # one layer and its final state: torch.onnx failed on these (the packed RNN op's own
        # state output), so the graph reads the state from the output
        *itertools.product(["lstm", "gru", "rnn"], [True, False], ["last"], [1]),
    ],
)
def test_classifier_graph_matches_across_batches_lengths_and_padding(
    cell, bidirectional, pooling, num_layers, tmp_path
):
    torch.manual_seed(2)
    generator = torch.Generator().manual_seed(3)
    config = ClassifierConfig(
        num_classes=3,
        vocab_size=40,
        cell=cell,
        hidden_size=16,
        embedding_size=8,
        num_layers=num_layers,
        bidirectional=bidirectional,
        pooling=pooling,
    )
    model = SequenceClassifier(config).eval()
    session, _ = _session(model, "classify", tmp_path)
    for batch, time in SHAPES:
        inputs = torch.randint(1, 40, (batch, time), generator=generator)
        lengths = _lengths(batch, time, generator)
        with torch.no_grad():
            expected = torch.softmax(model(inputs, lengths), -1).numpy()
        (probabilities,) = session.run(None, {"inputs": inputs.numpy(), "lengths": lengths.numpy()})
        assert np.abs(probabilities - expected).max() < TOLERANCE
        # Padding never changes a row: the last row alone gives the same answer.
        row = batch - 1
        alone = inputs[row : row + 1, : lengths[row]].numpy()
        (single,) = session.run(None, {"inputs": alone, "lengths": lengths[row : row + 1].numpy()})
        assert np.abs(single[0] - probabilities[row]).max() < TOLERANCE


def test_numeric_sequence_classifier_graph(tmp_path):
    torch.manual_seed(4)
    config = ClassifierConfig(num_classes=4, input_size=6, hidden_size=16, pooling="mean")
    model = SequenceClassifier(config).eval()
    session, _ = _session(model, "classify", tmp_path)
    generator = torch.Generator().manual_seed(5)
    for batch, time in SHAPES:
        inputs = torch.randn(batch, time, 6, generator=generator)
        lengths = _lengths(batch, time, generator)
        with torch.no_grad():
            expected = torch.softmax(model(inputs, lengths), -1).numpy()
        (probabilities,) = session.run(None, {"inputs": inputs.numpy(), "lengths": lengths.numpy()})
        assert np.abs(probabilities - expected).max() < TOLERANCE


@pytest.mark.parametrize(
    "architecture,quantiles,covariates",
    list(
        itertools.product(
            ["segment", "direct", "autoregressive"], ["", "0.1,0.5,0.9"], [False, True]
        )
    ),
)
def test_forecaster_graph(architecture, quantiles, covariates, tmp_path):
    torch.manual_seed(6)
    options = dict(
        lookback=24,
        horizon=12,
        targets=2,
        hidden_size=16,
        architecture=architecture,
        segment_length=12,
        quantiles=quantiles,
    )
    if covariates:
        options.update(past_covariates=1, future_covariates=2)
    model = Forecaster(ForecasterConfig(**options)).eval()
    session, description = _session(model, "forecast", tmp_path)
    names = [entry["name"] for entry in description["inputs"]]
    for batch in (1, 5):
        inputs = [torch.randn(batch, 24, 2)]
        if covariates:
            inputs += [torch.randn(batch, 24, 1), torch.randn(batch, 36, 2)]
        with torch.no_grad():
            expected = model(*inputs).numpy()
        (forecast,) = session.run(None, dict(zip(names, [x.numpy() for x in inputs])))
        assert forecast.shape == expected.shape
        assert np.abs(forecast - expected).max() < TOLERANCE


@pytest.mark.parametrize("bidirectional,stacking", [(True, 3), (False, 1), (True, 1)])
def test_transcriber_graph_on_stacked_frames(bidirectional, stacking, tmp_path):
    torch.manual_seed(7)
    config = CTCConfig(
        input_size=13,
        num_tokens=10,
        hidden_size=16,
        num_layers=2,
        bidirectional=bidirectional,
        frame_stacking=stacking,
    )
    model = CTCRecognizer(config).eval()
    session, _ = _session(model, "transcribe", tmp_path)
    generator = torch.Generator().manual_seed(8)
    for batch, frames in ((1, 7), (3, 20)):
        features = torch.randn(batch, frames, 13, generator=generator)
        lengths = _lengths(batch, frames, generator)
        with torch.no_grad():
            expected, steps = model(features, lengths)
        stacked = [stack_frames(features[i, : lengths[i]].numpy(), stacking) for i in range(batch)]
        padded = np.zeros((batch, max(len(s) for s in stacked), 13 * stacking), np.float32)
        for i, rows in enumerate(stacked):
            padded[i, : len(rows)] = rows
        assert [len(s) for s in stacked] == steps.tolist()
        (log_probs,) = session.run(None, {"stacked": padded, "lengths": steps.numpy()})
        for i, count in enumerate(steps.tolist()):
            assert np.abs(log_probs[i, :count] - expected[i, :count].numpy()).max() < TOLERANCE


def test_a_scan_cell_in_a_sequence_graph_is_refused_by_name(tmp_path):
    config = ClassifierConfig(num_classes=2, vocab_size=10, cell="mingru", hidden_size=8)
    with pytest.raises(RunFolderError) as error:
        write_graph(SequenceClassifier(config), "classify", tmp_path / "graph.onnx")
    assert str(error.value) == (
        "a mingru classify model cannot be exported yet: ONNX has no operator for its parallel "
        "scan (language and music models export it as a step graph); train with --cell lstm, "
        "gru or rnn to export"
    )


@pytest.mark.parametrize(
    "options",
    [
        {"tie_weights": True, "embedding_size": 8, "hidden_size": 24},  # with the projection
        {"adaptive_cutoffs": "10,20", "embedding_size": 8, "hidden_size": 32},
        {"dropout": 0.3, "num_layers": 2, "embedding_size": 8, "hidden_size": 16},
    ],
)
def test_language_model_heads_export_their_step(options, tmp_path):
    """Tied weights with a projection, the adaptive softmax (log-probabilities) and dropout
    (off in the graph) give the step the torch model takes."""
    torch.manual_seed(9)
    model = LanguageModel(LanguageModelConfig(vocab_size=40, **options)).eval()
    session, description = _session(model, "lm", tmp_path)
    names = [entry["name"] for entry in description["inputs"]]
    tokens = torch.randint(0, 40, (2, 6))
    with torch.no_grad():
        expected, _ = model(tokens)
    layers = model.config.num_layers
    state = [np.zeros((layers, 2, model.config.hidden_size), np.float32) for _ in names[1:]]
    for step in range(6):
        logits, *state = session.run(None, dict(zip(names, [tokens[:, step].numpy(), *state])))
        assert np.abs(logits - expected[:, step].numpy()).max() < TOLERANCE


def test_an_export_failure_is_one_line(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Unsupported: ONNX export of operator foo\nmore detail")

    monkeypatch.setattr(torch.onnx, "export", broken)
    model = LanguageModel(LanguageModelConfig(vocab_size=5))
    with pytest.raises(RunFolderError) as error:
        write_graph(model, "lm", tmp_path / "graph.onnx")
    assert str(error.value) == (
        "the lm model could not be exported to ONNX: Unsupported: ONNX export of operator foo"
    )
