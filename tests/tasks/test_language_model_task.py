"""Evaluation: every token scored once, unknown characters read but not scored."""

import math

import torch
from torch.nn import functional as F

from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks.language_model import evaluate_ids


def test_evaluation_matches_one_pass_and_skips_unknown_targets():
    torch.manual_seed(0)
    model = (
        LanguageModel(LanguageModelConfig(vocab_size=7, embedding_size=4, hidden_size=8))
        .double()
        .eval()
    )
    ids = torch.randint(1, 7, (300,))
    ids[[10, 50, 51]] = 0  # three unknown characters
    with torch.no_grad():
        metrics = evaluate_ids(model, ids, min_context=1024)  # short text: one stream, full context
        logits, _ = model(ids[:-1].unsqueeze(0))
        losses = F.cross_entropy(logits[0], ids[1:], reduction="none")
    scored = ids[1:] != 0
    assert metrics["chars"] == int(scored.sum()) == 296
    assert math.isclose(
        metrics["loss"], losses[scored].mean().item(), rel_tol=1e-6
    )  # scored in float32
    assert math.isclose(metrics["bits_per_char"], metrics["loss"] / math.log(2), rel_tol=1e-12)
