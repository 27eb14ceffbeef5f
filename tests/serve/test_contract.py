"""The API keeps its OpenAPI contract: schemathesis generates requests from /openapi.json
(bodies that fit it, and bodies that break it) and runs all of its checks on every answer:
no 5xx, only documented statuses and media types, answers that fit their schemas, every
request the schema allows served and every one it rules out refused."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="the contract test needs schemathesis")
pytest.importorskip("fastapi", reason="the serve extra: pip install 'rnnkit[serve]'")

from hypothesis import HealthCheck, settings  # noqa: E402

from rnnkit.serve import ServeLimits, create_app, load_models  # noqa: E402
from tests.serve import schemathesis_hooks  # noqa: E402, F401  (registers the file strategies)

LIMITS = ServeLimits(
    max_length=40,
    max_inputs=8,
    max_input_chars=300,
    max_prompt_chars=200,
    max_top_k=20,
    max_wav_seconds=5,
    max_upload_bytes=400_000,
    max_body_bytes=200_000,
)


@pytest.fixture(scope="module")
def api_schema(runs, exports):
    """The app holding a char LM, a text classifier, a speech classifier, a transcriber (all
    exports) and a forecaster (a run folder), as schemathesis sees it."""
    folders = [exports["lm"], exports["classify"], exports["speech"], exports["transcribe"]]
    models = load_models([*folders, runs["forecast"]], device="cpu")
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(models, LIMITS))


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_the_api_keeps_its_schema(api_schema, mode):
    """Every operation, with bodies that fit the schema (positive) or break it (negative).
    The strategies are driven by hypothesis directly (schemathesis' pytest plugin does not
    run under pytest 9)."""
    from hypothesis import given

    generation = schemathesis.GenerationMode(mode)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/generate", "/v1/predict", "/v1/forecast"}
    for operation in operations:
        if generation.is_negative and not _media_types(operation)[0]:
            continue  # GET /health and /v1/models take nothing that could be wrong
        for media_type in _media_types(operation):

            @given(case=operation.as_strategy(generation, media_type=media_type))
            @settings(
                max_examples=25,  # per operation, media type and mode: about a minute in all
                deadline=None,
                derandomize=True,  # the same requests on every run: CI does not rest on luck
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case):
                case.call_and_validate()

            call()


def _media_types(operation) -> list:
    body = operation.definition.raw.get("requestBody")
    return list(body["content"]) if body else [None]
