"""The averaging half of NT-ASGD (Merity et al. 2017, section 3).

SGD runs until the validation loss fails to beat the best of the validations more than
``nonmonotone`` evaluations ago; from then on the iterates are averaged (Polyak & Juditsky
1992), and validation, the saved weights and the final model use the average.
"""

from __future__ import annotations

import contextlib

import torch


class IterateAverage:
    """The non-monotonic trigger and the running average of the weights.

    ``observe(loss)`` after each validation says whether averaging starts now;
    ``update(model)`` after each optimizer step adds the iterate once it has started;
    ``with swapped_in(model):`` puts the average into the model for the duration.
    """

    def __init__(self, nonmonotone: int):
        if nonmonotone < 1:
            raise ValueError(f"nonmonotone must be a positive integer; got {nonmonotone}")
        self.nonmonotone = nonmonotone
        self.history: list[float] = []
        self.started_at: int | None = None
        self.count = 0
        self.average: dict[str, torch.Tensor] = {}

    def observe(self, loss: float, step: int) -> bool:
        started = (
            self.started_at is None
            and len(self.history) > self.nonmonotone
            and loss > min(self.history[: -self.nonmonotone])
        )
        if started:
            self.started_at = step
        self.history.append(loss)
        return started

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        if self.started_at is None:
            return
        self.count += 1
        for name, parameter in model.named_parameters():
            if name not in self.average:
                self.average[name] = parameter.detach().clone()
            else:
                self.average[name].lerp_(parameter.detach(), 1.0 / self.count)

    @contextlib.contextmanager
    def swapped_in(self, model: torch.nn.Module):
        if not self.count:
            yield
            return
        parameters = dict(model.named_parameters())
        current = {name: parameters[name].detach().clone() for name in self.average}
        with torch.no_grad():
            for name, value in self.average.items():
                parameters[name].copy_(value)
        try:
            yield
        finally:
            with torch.no_grad():
                for name, value in current.items():
                    parameters[name].copy_(value)

    def state(self) -> tuple[dict, dict]:
        """``(numbers for state.json, tensors for state.safetensors)``."""
        numbers = {"history": self.history, "started_at": self.started_at, "count": self.count}
        return numbers, {f"average.{name}": value for name, value in self.average.items()}

    def load(self, numbers: dict, tensors: dict, model: torch.nn.Module) -> None:
        self.history = list(numbers["history"])
        self.started_at, self.count = numbers["started_at"], numbers["count"]
        parameters, prefix = dict(model.named_parameters()), "average."
        self.average = {
            k[len(prefix) :]: v.to(parameters[k[len(prefix) :]].device)
            for k, v in tensors.items()
            if k.startswith(prefix)
        }
