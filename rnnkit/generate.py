"""Floor 1: sampling from a recurrent model one token at a time, carrying the state.

The prompt runs once through the fused kernel; every generated token then costs
one step of the model (O(1) in the length so far), never a re-run of the prefix.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.sampling import GumbelNoise, check_sampling


def filter_logits(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    banned=(),
) -> Tensor:
    """Logits ``(batch, vocab)`` -> scaled, with excluded tokens at -inf.

    ``top_k`` keeps the k most likely tokens; ``top_p`` keeps the smallest set
    whose probability reaches p (nucleus sampling, Holtzman et al. 2020).
    """
    logits = logits.float() / max(temperature, 1e-8)
    if banned:
        logits[:, list(banned)] = -float("inf")
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, -float("inf"))
    if top_p is not None and 0 < top_p < 1:
        ordered, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
        # Drop a token when the tokens before it already reach p; the first always stays.
        drop = (cumulative - torch.softmax(ordered, dim=-1)) >= top_p
        logits = logits.scatter(-1, order, ordered.masked_fill(drop, -float("inf")))
    return logits


def noise_on(noise, device):
    """``step -> tensor``: :mod:`rnnkit.sampling`'s numpy noise on ``device``, copied there
    once per chunk of steps rather than once per step (a host-to-device copy per token
    would stall a GPU's generation loop)."""
    cached = {"start": None, "tensor": None}

    def at(step: int) -> Tensor:
        noise[step]  # draws the chunk holding this step
        if cached["start"] != noise.start:
            cached["start"] = noise.start
            cached["tensor"] = torch.from_numpy(noise.noise).to(device)
        return cached["tensor"][step - noise.start]

    return at


@torch.no_grad()
def sample(
    model,
    prompt: Tensor,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    banned=(),
    on_token=None,
) -> Tensor:
    """Continues ``prompt`` (int64 ``(batch, prompt_len)``, prompt_len >= 1) by ``length`` tokens.

    Returns int64 ``(batch, length)``. ``on_token(tokens (batch,))`` is called as
    each token is chosen, for streaming. ``temperature=0`` is greedy decoding.
    """
    check_sampling(temperature, top_k, top_p)
    model.eval()
    logits, state = model(prompt)
    # Banned tokens get -inf through an additive mask, folded into the model's
    # output bias where the model offers a stepper.
    mask = torch.zeros(logits.shape[-1], device=logits.device)
    mask[list(banned)] = -float("inf")
    logits = logits[:, -1].float() + mask
    if hasattr(model, "stepper"):
        step = model.stepper(logit_bias=mask)
    else:

        def step(tokens, state):
            step_logits, state = model.step(tokens, state)
            return step_logits + mask, state

    # numpy's generator, not torch's: an export folder run on onnxruntime draws the same
    # noise from the same seed, so both write the same text.
    noise = noise_on(GumbelNoise(seed, logits.shape), logits.device)
    filtered = top_k is not None or top_p is not None
    tokens = []
    for index in range(length):
        scores = logits if temperature in (0, 1) else logits / temperature
        if filtered and temperature != 0:
            scores = filter_logits(scores, 1.0, top_k, top_p)
        token = scores.argmax(-1) if temperature == 0 else (scores + noise(index)).argmax(-1)
        tokens.append(token)
        if on_token is not None:
            on_token(token)
        if index + 1 < length:
            logits, state = step(token, state)
    return torch.stack(tokens, dim=1) if tokens else prompt.new_empty(prompt.shape[0], 0)
