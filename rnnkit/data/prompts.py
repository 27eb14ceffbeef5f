"""A language model's text side, without torch: prompts to ids, ids back to text.

The torch run (:class:`rnnkit.tasks.language_model.LanguageModelRun`) and the onnxruntime
export (:mod:`rnnkit.runtime.text`) both read prompts and write text through it, so that
they agree token for token.
"""

from __future__ import annotations

import numpy as np

from rnnkit.data.tokens import EOS_ID, tokenizer_from_dict
from rnnkit.errors import DataError


class PromptCodec:
    """``prompt_ids(prompt)``, ``token_text(id)``, ``token_piece(id)`` for the tokenizer a
    run saved (``config["data"]["vocabulary"]``)."""

    def __init__(self, saved_vocabulary: dict):
        self.tokenizer = tokenizer_from_dict(saved_vocabulary)
        self.kind = self.tokenizer.kind
        self.unit = "chars" if self.kind == "char" else "tokens"

    def prompt_ids(self, prompt: str) -> list[int]:
        """The prompt's ids. Characters the model never saw are an error; unknown words
        become <unk> (``unknown`` lists them). A word prompt starts a line, as every training
        line did after the previous <eos>."""
        if self.kind == "char":
            unknown = self.tokenizer.unknown_characters(prompt)
            if unknown:
                raise DataError(
                    "the prompt has characters the model never saw in training: "
                    f"{''.join(unknown)!r}"
                )
            if not prompt:
                raise DataError("the prompt is empty; give at least one character (e.g. a newline)")
            return self.tokenizer.ids(prompt)
        return [EOS_ID, *self.tokenizer.ids(prompt)]

    def context_ids(self, text: str) -> list[int]:
        """The ids of a text whose next tokens are asked for (``predict``): as a prompt, but an
        empty or blank text is an error, for a word model too (there is nothing to continue)."""
        if not text.strip():
            raise DataError(f"the text is empty ({text!r}); give a text to continue")
        return self.prompt_ids(text)

    def unknown(self, prompt: str) -> list[str]:
        """The prompt's characters or words outside the vocabulary."""
        if self.kind == "char":
            return self.tokenizer.unknown_characters(prompt)
        return self.tokenizer.unknown_words(prompt)

    def ranked(self, probabilities, top_k: int) -> list[tuple[str, float]]:
        """The ``top_k`` likeliest next tokens of ``probabilities (vocab,)`` (an array), with
        their probabilities; id 0 (<pad>, or an unknown character) is never one of them."""
        if top_k < 1:
            raise DataError(f"--top-k must be a positive integer; got {top_k}")
        probabilities = np.array(probabilities, dtype=np.float64)
        probabilities[0] = 0.0
        best = np.argsort(-probabilities, kind="stable")[: min(top_k, probabilities.size - 1)]
        return [(self.token_text(int(i)), float(probabilities[i])) for i in best]

    def token_text(self, index: int) -> str:
        if self.kind == "char":
            return self.tokenizer.characters[index]
        if self.kind == "word":
            return self.tokenizer.tokens[index]
        return self.tokenizer.tokenizer.id_to_token(index)

    def token_piece(self, index: int) -> str:
        """The text one generated token adds: a character, a space and a word, or a subword
        with its own leading space; ``<eos>`` adds a line end."""
        if self.kind == "char":
            return self.tokenizer.characters[index]
        if index == EOS_ID:
            return "\n"
        token = self.token_text(index)
        return " " + token if self.kind == "word" else token.replace("\u2581", " ")

    def continuation(self, ids) -> str:
        return "".join(self.token_piece(int(i)) for i in ids)
