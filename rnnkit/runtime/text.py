"""A language model's export folder on onnxruntime: next tokens and generated text.

The step graph takes one token per row and the state, and returns the logits and the new
state, so generation costs one graph call per token whatever the length so far. Sampling
uses :mod:`rnnkit.sampling`, as the torch path does: the same seed writes the same text.
"""

from __future__ import annotations

import numpy as np

from rnnkit.data.prompts import PromptCodec
from rnnkit.errors import ConfigError
from rnnkit.runtime.session import Export
from rnnkit.sampling import GumbelNoise, check_sampling, filter_scores, softmax


class ExportedLanguageModel(Export):
    """``generate(prompt, length, ...)`` and ``next_tokens(prompt, top_k)`` as
    :class:`rnnkit.tasks.language_model.LanguageModelRun` has them."""

    task = "lm"

    def __init__(self, folder, description: dict, threads: int = 0):
        super().__init__(folder, description, threads)
        self.codec = PromptCodec(self.config["data"]["vocabulary"])
        self.unit = self.codec.unit
        self.state_names = [entry["name"] for entry in self.graph["inputs"][1:]]
        layers, _, hidden = self.input_shape("h0")
        self.state_shape = (layers, hidden)

    def initial_state(self, batch: int) -> list[np.ndarray]:
        layers, hidden = self.state_shape
        return [np.zeros((layers, batch, hidden), np.float32) for _ in self.state_names]

    def step(self, tokens: np.ndarray, state: list[np.ndarray]):
        """``tokens (batch,)`` int64 -> ``(logits (batch, vocab), new state)``."""
        outputs = self.session.run(
            self.output_names, {"inputs": tokens, **dict(zip(self.state_names, state))}
        )
        return outputs[0], outputs[1:]

    def read_prompt(self, prompt: str, batch: int = 1):
        """``(logits after the prompt (batch, vocab), state)``: the prompt stepped through."""
        ids, state = self.codec.prompt_ids(prompt), self.initial_state(batch)
        for token in ids:
            logits, state = self.step(np.full(batch, token, np.int64), state)
        return logits, state

    def unknown_words(self, prompt: str) -> list[str]:
        return self.codec.unknown(prompt)

    def next_tokens(self, prompt: str, top_k: int = 5) -> list[tuple[str, float]]:
        """The ``top_k`` most likely next tokens after ``prompt``, with their probabilities."""
        self.codec.context_ids(prompt)  # an empty text is refused as the torch run refuses it
        logits, _ = self.read_prompt(prompt)
        return self.codec.ranked(softmax(logits[0].astype(np.float32)), top_k)

    def generate(
        self,
        prompt: str = "\n",
        length: int = 500,
        temperature: float = 1.0,
        top_k=None,
        top_p=None,
        seed=None,
        num_samples: int = 1,
        stream=None,
    ) -> list[str] | str:
        """Text continuing ``prompt`` (``length`` tokens); a list when ``num_samples > 1``;
        ``stream`` (a file) receives the first sample's text as it is made."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ConfigError("length", f"must be a positive whole number; got {length!r}")
        tokens = []
        for token in self.tokens(prompt, length, temperature, top_k, top_p, seed, num_samples):
            tokens.append(token)
            if stream is not None:
                text = self.codec.token_piece(int(token[0]))
                stream.write(text)
                if text.endswith("\n"):
                    stream.flush()
        texts = [self.codec.continuation(row) for row in np.stack(tokens, 1).tolist()]
        return texts if num_samples > 1 else texts[0]

    def tokens(self, prompt, length, temperature=1.0, top_k=None, top_p=None, seed=None, rows=1):
        """Yields each generated step's tokens ``(rows,)``, as :func:`rnnkit.generate.sample`
        chooses them: Gumbel-max over the filtered logits; token 0 is never chosen."""
        check_sampling(temperature, top_k, top_p)
        logits, state = self.read_prompt(prompt, rows)
        noise = GumbelNoise(seed, logits.shape)
        filtered = top_k is not None or top_p is not None
        for index in range(length):
            scores = logits.astype(np.float32)
            scores[:, 0] = -np.inf
            if temperature not in (0, 1):
                scores = scores / np.float32(temperature)
            if filtered and temperature != 0:
                scores = filter_scores(scores, top_k, top_p)
            token = (scores if temperature == 0 else scores + noise[index]).argmax(-1)
            yield token.astype(np.int64)
            if index + 1 < length:
                logits, state = self.step(token.astype(np.int64), state)
