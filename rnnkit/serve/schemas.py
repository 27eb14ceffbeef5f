"""The JSON bodies of the API (field names as the issue and the page use them), their
checks against the limits, and one-line descriptions of what is wrong with a body."""

from __future__ import annotations

import io
import math
from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from rnnkit.errors import RnnkitError
from rnnkit.serve.limits import LimitExceeded, ServeLimits

Number = Union[StrictInt, StrictFloat]


class GenerateRequest(BaseModel):
    """``POST /v1/generate``: text after ``prompt``; with ``stream``, as server-sent events."""

    model_config = ConfigDict(extra="forbid")
    model: Optional[StrictStr] = None
    prompt: StrictStr = "\n"
    length: StrictInt = Field(200, ge=1)
    temperature: Number = Field(1.0, ge=0, le=100)
    top_k: Optional[StrictInt] = Field(None, ge=1)
    top_p: Optional[Number] = Field(None, gt=0, le=1)
    seed: Optional[StrictInt] = Field(None, ge=0, le=2**32 - 1)
    stream: StrictBool = False


class PredictRequest(BaseModel):
    """``POST /v1/predict``: texts (or numeric sequences ``[[...], ...]``) to classify, or
    texts whose next words a language model lists (``top_k`` of them)."""

    model_config = ConfigDict(extra="forbid")
    model: Optional[StrictStr] = None
    inputs: list[Union[StrictStr, list[list[Number]]]] = Field(min_length=1)
    top_k: Optional[StrictInt] = Field(None, ge=1)


class ForecastRequest(BaseModel):
    """``POST /v1/forecast`` as JSON: the history as columns (the training file's names; a
    missing value is null), with ``timestamps`` when the model was trained with times."""

    model_config = ConfigDict(extra="forbid")
    model: Optional[StrictStr] = None
    series: dict[StrictStr, list[Optional[Number]]]
    timestamps: Optional[list[StrictStr]] = None


def json_body(model_class) -> dict:
    """OpenAPI's description of a JSON body, for routes that read the body themselves."""
    schema = model_class.model_json_schema()
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


def describe_errors(errors) -> str:
    """pydantic's errors as one line: ``length: Input should be greater than or equal to 1``."""
    parts = []
    for error in list(errors)[:3]:
        where = ".".join(str(step) for step in error.get("loc", ()) if step != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def check_generate(body: GenerateRequest, limits: ServeLimits) -> None:
    if len(body.prompt) > limits.max_prompt_chars:
        raise LimitExceeded(
            "max_prompt_chars",
            f"prompt has {len(body.prompt)} characters; the limit is {limits.max_prompt_chars} "
            "(--max-prompt-chars)",
            413,
        )
    if body.length > limits.max_length:
        raise LimitExceeded(
            "max_length",
            f"length {body.length} is over the limit of {limits.max_length} (--max-length)",
        )


def check_predict(body: PredictRequest, limits: ServeLimits) -> None:
    if len(body.inputs) > limits.max_inputs:
        raise LimitExceeded(
            "max_inputs",
            f"{len(body.inputs)} inputs; the limit is {limits.max_inputs} (--max-inputs)",
        )
    if body.top_k is not None and body.top_k > limits.max_top_k:
        raise LimitExceeded(
            "max_top_k", f"top_k {body.top_k} is over the limit of {limits.max_top_k} (--max-top-k)"
        )


def texts_of(inputs: list, limits: ServeLimits) -> list[str]:
    for index, value in enumerate(inputs):
        if not isinstance(value, str):
            raise RnnkitError(f"inputs[{index}]: expected a text")
        if len(value) > limits.max_input_chars:
            raise LimitExceeded(
                "max_input_chars",
                f"inputs[{index}] has {len(value)} characters; the limit is "
                f"{limits.max_input_chars} (--max-input-chars)",
                413,
            )
    return list(inputs)


def beam_width(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1024:
        raise RnnkitError(f"beam_width must be a whole number from 1 to 1024; got {text!r}")
    return int(text)


def series_csv(body: ForecastRequest, data: dict, limits: ServeLimits) -> bytes:
    """The JSON series as the CSV the model's reader takes (its own checks then apply)."""
    import pandas as pd

    lengths = {name: len(values) for name, values in body.series.items()}
    if not lengths:
        raise RnnkitError("series: give at least one column")
    if len(set(lengths.values())) > 1:
        raise RnnkitError(f"series: the columns differ in length: {lengths}")
    columns = {
        name: [math.nan if value is None else float(value) for value in values]
        for name, values in body.series.items()
    }
    time_column = data.get("time_column", "auto")
    if body.timestamps is not None:
        if len(body.timestamps) != next(iter(lengths.values())):
            raise RnnkitError(
                f"timestamps: {len(body.timestamps)} values for {next(iter(lengths.values()))} rows"
            )
        name = "time" if time_column in ("auto", "none") else time_column
        columns = {name: body.timestamps, **columns}
    text = io.StringIO()
    pd.DataFrame(columns).to_csv(text, index=False)
    data_bytes = text.getvalue().encode("utf-8")
    if len(data_bytes) > limits.max_upload_bytes:
        raise LimitExceeded("max_upload_bytes", "series: over --max-upload-bytes", 413)
    return data_bytes
