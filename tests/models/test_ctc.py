"""The CTC recogniser's shapes and padding, and its decoders against brute force
and torch's CTC loss."""

import itertools
import math

import pytest
import torch
from torch.nn import functional as F

from rnnkit.models.ctc import CTCConfig, CTCRecognizer, beam_decode, greedy_decode


def collapse(path):
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return tuple(c for c in merged if c != 0)


def brute_force(log_probs):
    """Every labelling's total probability, summed over all its alignments."""
    totals = {}
    steps, classes = log_probs.shape
    for path in itertools.product(range(classes), repeat=steps):
        p = math.exp(sum(log_probs[t, c].item() for t, c in enumerate(path)))
        totals[collapse(path)] = totals.get(collapse(path), 0.0) + p
    return totals


def test_greedy_decoding_merges_repeats_then_drops_blanks():
    path = torch.tensor([[1, 1, 0, 1, 2, 2, 0, 0, 3, 0], [0, 2, 0, 2, 2, 1, 1, 1, 1, 1]])
    log_probs = F.one_hot(path, 4).float().log_softmax(-1)
    assert greedy_decode(log_probs) == [[1, 1, 2, 3], [2, 2, 1]]
    assert greedy_decode(log_probs, torch.tensor([10, 4])) == [[1, 1, 2, 3], [2, 2]]


@pytest.mark.parametrize("seed", range(4))
def test_beam_search_finds_the_likeliest_labelling_over_all_alignments(seed):
    torch.manual_seed(seed)
    log_probs = (torch.randn(6, 3, dtype=torch.float64) * 1.5).log_softmax(-1)
    totals = brute_force(log_probs)
    best = max(totals, key=totals.get)
    tokens, log_probability = beam_decode(log_probs, beam_width=1000, prune=-math.inf)
    assert tuple(tokens) == best
    assert log_probability == pytest.approx(math.log(totals[best]), rel=1e-5)
    if tokens:  # torch's CTC loss is the same quantity, negated
        loss = F.ctc_loss(
            log_probs[:, None].float(),
            torch.tensor([tokens]),
            torch.tensor([6]),
            torch.tensor([len(tokens)]),
            reduction="sum",
        )
        assert -loss.item() == pytest.approx(log_probability, rel=1e-4)


def test_beam_search_beats_the_best_path_where_alignments_add_up():
    # The best single path is "blank blank" (0.36), but "1" has 0.64 over its three alignments.
    probs = torch.tensor([[0.6, 0.4], [0.6, 0.4]])
    assert greedy_decode(probs.log()[None]) == [[]]
    tokens, log_probability = beam_decode(probs.log(), beam_width=4)
    assert tokens == [1] and log_probability == pytest.approx(math.log(0.64))


def test_recogniser_shapes_stacking_and_padding():
    torch.manual_seed(0)
    model = CTCRecognizer(
        CTCConfig(input_size=5, num_tokens=3, hidden_size=8, frame_stacking=3)
    ).eval()
    features = torch.randn(2, 10, 5)
    lengths = torch.tensor([10, 7])
    log_probs, steps = model(features, lengths)
    assert log_probs.shape == (2, 4, 4) and steps.tolist() == [4, 3]
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(2, 4))
    alone, _ = model(features[1:, :7])
    assert torch.allclose(alone[0], log_probs[1, :3], atol=1e-6)
    with pytest.raises(ValueError, match="set input_size and num_tokens; got 0 and 3"):
        CTCRecognizer(CTCConfig(num_tokens=3))
