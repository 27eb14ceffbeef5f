"""The API's contract: the request bodies each endpoint takes from the models a server holds,
with the server's configured limits, as JSON Schema; the server checks every body against the
very schema that ``/openapi.json`` publishes, so the two cannot disagree.

A body names its model (``"model"``), or may leave it out when one model fits the endpoint.
Each fitting model contributes one variant of the body (``anyOf``), whose ``model`` is that
model's name (``const``) and whose fields say what that model takes: a character model's
alphabet, a numeric classifier's features, a forecaster's columns and lookback.
"""

from __future__ import annotations

import re

from rnnkit.errors import RnnkitError
from rnnkit.serve.limits import LimitExceeded, ServeLimits

NUMBER_BOUND = 1e9
"""Largest magnitude of a number in a numeric input: standardised and run in float32, numbers
far beyond it overflow to infinity inside the model (and JSON has no infinity to answer)."""

NOT_BLANK = (
    "[^\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029"
    "\\u202f\\u205f\\u3000]"
)
"""One character that is not blank: not one that ``str.isspace`` (so ``str.strip``) takes for
white space. Spelled out rather than ``\\S``, which ECMA-262 regular expressions (what other
clients read a schema with) and Python's disagree on."""

ERROR_BODY = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "what is wrong, in one line"},
        "limit": {"type": "string", "description": "the limit passed (the flag's field name)"},
    },
    "additionalProperties": False,
}

ERRORS = {
    "400": "The request is malformed: a multipart body that cannot be parsed, or a "
    "Content-Length that is not a number.",
    "413": "The body, an upload or a recording is over its limit ('limit' names it).",
    "422": "The body does not fit this schema or the model it names ('limit' names a field's "
    "limit that it passes).",
}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _model_field(name: str) -> dict:
    return {"const": name, "description": "the model's name (GET /v1/models lists them)"}


def _object(name: str, properties: dict, required: list[str], several: bool) -> dict:
    """One variant of a body: ``model`` is required when several models fit the endpoint."""
    return {
        "type": "object",
        "title": name,
        "properties": {"model": _model_field(name), **properties},
        "required": (["model"] if several else []) + required,
        "additionalProperties": False,
    }


def _text(limits: ServeLimits, alphabet: list[str] | None) -> dict:
    """A text of at least one non-blank character; a character model's alphabet besides."""
    text = {"type": "string", "minLength": 1, "maxLength": limits.max_input_chars}
    checks = [{"pattern": NOT_BLANK}]
    if alphabet is not None:
        checks.append(_alphabet_pattern(alphabet))
    return {**text, "allOf": checks}


def _alphabet_pattern(alphabet: list[str]) -> dict:
    """Every character in ``alphabet``. A line end outside it is ruled out on its own: ``$``
    also matches before a final line end."""
    pattern = {"pattern": "^[" + "".join(re.escape(c) for c in alphabet) + "]*$"}
    if "\n" in alphabet:
        return pattern
    return {"allOf": [pattern, {"not": {"pattern": "\n"}}]}


def _numbers(width: int, rows: int | None = None) -> dict:
    row = {
        "type": "array",
        "minItems": width,
        "maxItems": width,
        "items": {"type": "number", "minimum": -NUMBER_BOUND, "maximum": NUMBER_BOUND},
    }
    return {"type": "array", "minItems": rows or 1, "items": row}


def generate_variant(name: str, alphabet, limits: ServeLimits, several: bool) -> dict:
    prompt = {"type": "string", "maxLength": limits.max_prompt_chars, "default": "\n"}
    if alphabet is not None:  # a character model reads only the characters it was trained on
        prompt = {**prompt, "minLength": 1, **_alphabet_pattern(alphabet)}
    properties = {
        "prompt": prompt,
        "length": {"type": "integer", "minimum": 1, "maximum": limits.max_length, "default": 200},
        "temperature": {"type": "number", "minimum": 0, "maximum": 100, "default": 1.0},
        "top_k": _nullable({"type": "integer", "minimum": 1}),
        "top_p": _nullable({"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
        "seed": _nullable({"type": "integer", "minimum": 0, "maximum": 2**32 - 1}),
        "stream": {"type": "boolean", "default": False},
    }
    return _object(name, properties, [], several)


def predict_variant(name: str, kind: dict, limits: ServeLimits, several: bool) -> dict:
    """``kind``: ``{"texts": alphabet or None, "top_k": bool}`` or ``{"features": F}``."""
    inputs = {"type": "array", "minItems": 1, "maxItems": limits.max_inputs}
    if "features" in kind:
        inputs["items"] = _numbers(kind["features"])
    else:
        inputs["items"] = _text(limits, kind["texts"])
    properties = {"inputs": inputs}
    if kind.get("top_k"):
        properties["top_k"] = _nullable(
            {"type": "integer", "minimum": 1, "maximum": limits.max_top_k}
        )
    return _object(name, properties, ["inputs"], several)


def forecast_variant(name: str, columns: list[str], lookback: int, several: bool) -> dict:
    history = _numbers(len(columns), lookback)
    history["description"] = (
        f"the last {lookback} or more time steps, oldest first; each row holds "
        f"{', '.join(columns)} in that order"
    )
    return _object(name, {"history": history}, ["history"], several)


def upload_variant(names: list[str], media: str, fields: dict | None = None) -> dict:
    """A multipart body: the file (of ``media``), the model's name and ``fields``."""
    properties = {
        "file": {"type": "string", "format": "binary", "contentMediaType": media},
        "model": {"enum": names, "description": "the model's name (GET /v1/models lists them)"},
        **(fields or {}),
    }
    required = ["file"] + (["model"] if len(names) > 1 else [])
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def one_of(variants: dict[str, dict]) -> dict:
    """The published schema of a JSON body: one variant per model."""
    schemas = list(variants.values())
    return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}


def check_body(body, schema: dict) -> None:
    """``body`` against ``schema`` (one model's variant): the first problem in one line,
    ``prompt: 'x' is too long``, naming where it is."""
    from jsonschema import Draft202012Validator

    error = next(iter(Draft202012Validator(schema).iter_errors(body)), None)
    if error is None:
        return
    where = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in error.path)
    message = _alphabet_message(error) or _size_message(error) or error.message
    message = message if len(message) <= 200 else message[:200] + "..."
    raise RnnkitError(f"{where.lstrip('.') or 'body'}: {message}")


SIZES = {
    "minItems": ("items", "at least"),
    "maxItems": ("items", "at most"),
    "minLength": ("characters", "at least"),
    "maxLength": ("characters", "at most"),
}


def _size_message(error) -> str | None:
    """Sizes said as counts, without repeating a long value."""
    if error.validator not in SIZES or not isinstance(error.instance, (list, str)):
        return None
    unit, bound = SIZES[error.validator]
    return f"has {len(error.instance)} {unit}; expected {bound} {error.validator_value}"


def _alphabet_message(error) -> str | None:
    """A text outside a character model's alphabet, said as the model would say it."""
    text = error.instance
    if not isinstance(text, str):
        return None
    if error.validator == "not" and "\n" in text:
        return "has a line end, which the model never saw in training"
    pattern = error.validator_value if error.validator == "pattern" else ""
    if not (pattern.startswith("^[") and pattern.endswith("]*$")):
        return None
    known = re.compile(pattern[1:-2])
    unknown = [c for c in dict.fromkeys(text) if not known.fullmatch(c)]
    return f"has characters the model never saw in training: {''.join(unknown)!r}"


def check_limits(body: dict, limits: ServeLimits) -> None:
    """The limits a body's fields pass, named as their flags say, before the schema's own
    check, which would only say 'too long'. All are 422, as for any field the schema rules
    out; 413 is for sizes in bytes (the body, an upload) and seconds of audio."""
    prompt, length = body.get("prompt"), body.get("length")
    if isinstance(prompt, str) and len(prompt) > limits.max_prompt_chars:
        raise LimitExceeded(
            "max_prompt_chars",
            f"prompt has {len(prompt)} characters; the limit is {limits.max_prompt_chars} "
            "(--max-prompt-chars)",
        )
    if _whole(length) and length > limits.max_length:
        raise LimitExceeded(
            "max_length", f"length {length} is over the limit of {limits.max_length} (--max-length)"
        )
    inputs, top_k = body.get("inputs"), body.get("top_k")
    if isinstance(inputs, list):
        if len(inputs) > limits.max_inputs:
            raise LimitExceeded(
                "max_inputs",
                f"{len(inputs)} inputs; the limit is {limits.max_inputs} (--max-inputs)",
            )
        for index, value in enumerate(inputs):
            if isinstance(value, str) and len(value) > limits.max_input_chars:
                raise LimitExceeded(
                    "max_input_chars",
                    f"inputs[{index}] has {len(value)} characters; the limit is "
                    f"{limits.max_input_chars} (--max-input-chars)",
                )
    if _whole(top_k) and "inputs" in body and top_k > limits.max_top_k:
        raise LimitExceeded(
            "max_top_k", f"top_k {top_k} is over the limit of {limits.max_top_k} (--max-top-k)"
        )


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
