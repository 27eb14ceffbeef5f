"""Request batching (rnnkit.serve.batching) and its switch, and the server's flags as the
command line passes them: the limits, --no-batching and --host."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra: pip install 'rnnkit[serve]'")
httpx = pytest.importorskip("httpx", reason="the dev extra")

from rnnkit.serve import ServeLimits, create_app  # noqa: E402
from rnnkit.serve.batching import Batcher  # noqa: E402
from rnnkit.serve.models import Served  # noqa: E402
from tests.serve.conftest import start_server, stop_server  # noqa: E402


def _in_thread(function, *args):
    return asyncio.get_running_loop().run_in_executor(None, function, *args)


def test_requests_that_queue_while_the_model_is_busy_share_one_call():
    calls, busy = [], threading.Event()

    def run(inputs):
        calls.append(list(inputs))
        if len(calls) == 1:
            busy.wait(5)  # the first call holds the model while the others queue
        return [f"<{value}>" for value in inputs]

    async def scenario():
        batcher = Batcher(run, 0.0, max_inputs=5, call=_in_thread)
        first = asyncio.ensure_future(batcher.submit(["a"]))
        while not calls:
            await asyncio.sleep(0.001)
        rest = [asyncio.ensure_future(batcher.submit([f"b{i}", f"c{i}"])) for i in range(4)]
        await asyncio.sleep(0.05)
        busy.set()
        answers = await asyncio.gather(first, *rest)
        batcher.close()
        return answers

    answers = asyncio.run(scenario())
    assert answers[0] == ["<a>"]
    assert answers[1:] == [[f"<b{i}>", f"<c{i}>"] for i in range(4)]  # each its own slice
    # the four waiting requests (8 inputs) in calls of at most 5 inputs, whole requests only
    assert calls == [["a"], ["b0", "c0", "b1", "c1", "b2", "c2"], ["b3", "c3"]]


def test_an_error_reaches_every_request_of_its_batch_and_the_batcher_goes_on():
    def run(inputs):
        if "bad" in inputs:
            raise ValueError("bad input")
        return inputs

    async def scenario():
        batcher = Batcher(run, 0.0, max_inputs=10, call=_in_thread)
        results = await asyncio.gather(
            batcher.submit(["bad"]), batcher.submit(["x"]), return_exceptions=True
        )
        after = await batcher.submit(["fine"])
        batcher.close()
        return results, after

    results, after = asyncio.run(scenario())
    assert isinstance(results[0], ValueError) and after == ["fine"]


class _CountingClassifier:
    """A text classifier that records the size of each call and takes 30 ms per call."""

    config = {"data": {"text_encoder": {}}}

    def __init__(self):
        self.calls = []

    def predict(self, texts):
        self.calls.append(len(texts))
        time.sleep(0.03)
        return [{"label": "a", "probabilities": {"a": 1.0}} for _ in texts]


@pytest.mark.parametrize("batching", [True, False])
def test_concurrent_predict_requests_are_batched_unless_switched_off(batching):
    model = _CountingClassifier()
    served = {"cls": Served("cls", "classify", "torch", model, Path("."))}
    app = create_app(served, ServeLimits(batching=batching))

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            requests = [
                client.post("/v1/predict", json={"inputs": [f"text {i}"]}) for i in range(12)
            ]
            return await asyncio.gather(*requests)

    answers = asyncio.run(scenario())
    assert all(a.status_code == 200 for a in answers)
    assert [a.json()["predictions"][0]["label"] for a in answers] == ["a"] * 12
    assert sum(model.calls) == 12
    if batching:
        assert len(model.calls) < 12 and max(model.calls) > 1, model.calls
    else:
        assert model.calls == [1] * 12


def test_the_command_line_sets_the_limits_the_switch_and_the_host(exports):
    process, url = start_server(
        [exports["classify"]],
        "--host",
        "127.0.0.2",  # loopback, but not the default: the flag reached the socket
        "--max-inputs",
        "3",
        "--max-input-chars",
        "50",
        "--no-batching",
    )
    try:
        assert url.startswith("http://127.0.0.2:")
        with urllib.request.urlopen(url + "/openapi.json", timeout=30) as answer:
            schema = json.loads(answer.read())
        body = schema["paths"]["/v1/predict"]["post"]["requestBody"]["content"]
        inputs = body["application/json"]["schema"]["properties"]["inputs"]
        assert inputs["maxItems"] == 3 and inputs["items"]["maxLength"] == 50
        request = urllib.request.Request(
            url + "/v1/predict",
            data=json.dumps({"inputs": ["a", "b", "c", "d"]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 422
        assert json.loads(refused.value.read()) == {
            "error": "4 inputs; the limit is 3 (--max-inputs)",
            "limit": "max_inputs",
        }
    finally:
        stop_server(process)
