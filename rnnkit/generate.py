"""Floor 1: sampling from a recurrent model one token at a time, carrying the state.

The prompt runs once through the fused kernel; every generated token then costs
one step of the model (O(1) in the length so far), never a re-run of the prefix.
"""

from __future__ import annotations

import torch
from torch import Tensor


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


def check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if temperature < 0:
        raise ValueError(
            f"temperature must be >= 0 (0 = always the most likely token); got {temperature}"
        )
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be a positive int; got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must lie in (0, 1]; got {top_p}")


class _GumbelNoise:
    """Gumbel noise for sampling by ``argmax(logits + g)`` (the Gumbel-max trick):
    the same distribution as softmax sampling, in one add and one argmax instead of
    softmax + multinomial. Drawn in chunks of steps to keep memory bounded."""

    def __init__(self, shape, generator, chunk: int = 256):
        self.shape, self.generator, self.chunk = shape, generator, chunk
        self.noise, self.start = None, 0

    def __getitem__(self, step: int) -> Tensor:
        if self.noise is None or step >= self.start + self.noise.shape[0]:
            uniform = torch.rand(
                (self.chunk, *self.shape), generator=self.generator, device=self.generator.device
            )
            self.noise, self.start = -torch.log(-torch.log(uniform)), step
        return self.noise[step - self.start]


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
    generator = torch.Generator(device=prompt.device)
    generator.manual_seed(seed if seed is not None else torch.seed())
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

    noise = _GumbelNoise(logits.shape, generator)
    filtered = top_k is not None or top_p is not None
    tokens = []
    for index in range(length):
        scores = logits if temperature in (0, 1) else logits / temperature
        if filtered and temperature != 0:
            scores = filter_logits(scores, 1.0, top_k, top_p)
        token = scores.argmax(-1) if temperature == 0 else (scores + noise[index]).argmax(-1)
        tokens.append(token)
        if on_token is not None:
            on_token(token)
        if index + 1 < length:
            logits, state = step(token, state)
    return torch.stack(tokens, dim=1) if tokens else prompt.new_empty(prompt.shape[0], 0)
