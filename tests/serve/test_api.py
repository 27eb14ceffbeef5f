"""The HTTP API on a live app (FastAPI's test client): each endpoint's answers against the
models' own, the limits, and bad requests answered with 4xx JSON while the server goes on."""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import SHARED_DATA

pytest.importorskip("fastapi", reason="the serve extra: pip install 'rnnkit[serve]'")
pytest.importorskip("httpx", reason="FastAPI's test client needs httpx (the dev extra)")

from fastapi.testclient import TestClient  # noqa: E402

from rnnkit.serve import ServeLimits, create_app, load_models  # noqa: E402


@pytest.fixture(scope="module")
def models(runs, exports):
    """A run folder and export folders of every task, as a server would hold them."""
    folders = [
        exports["lm"],
        runs["word_lm"],
        exports["classify"],
        runs["forecast"],
        exports["speech"],
        exports["transcribe"],
    ]
    return load_models(folders, device="cpu")


@pytest.fixture(scope="module")
def client(models):
    limits = ServeLimits(
        max_length=300,
        max_inputs=8,
        max_body_bytes=65_536,
        max_upload_bytes=200_000,
        max_wav_seconds=5,
    )
    with TestClient(create_app(models, limits), raise_server_exceptions=False) as client:
        yield client


def test_health_models_and_docs(client):
    assert client.get("/health").json() == {"status": "ok", "models": 6}
    listed = {
        m["name"]: (m["task"], m["runtime"]) for m in client.get("/v1/models").json()["models"]
    }
    assert listed == {
        "lm": ("lm", "onnxruntime"),
        "word_lm": ("lm", "torch"),
        "classify": ("classify", "onnxruntime"),
        "forecast": ("forecast", "torch"),
        "speech": ("speech", "onnxruntime"),
        "transcribe": ("transcribe", "onnxruntime"),
    }
    schema = client.get("/openapi.json").json()
    assert {"/v1/generate", "/v1/predict", "/v1/forecast", "/v1/transcribe"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and 'id="generate-prompt"' in page.text
    assert client.get("/static/app.js").status_code == 200


def test_generate_answers_what_the_model_writes(client, models):
    request = {"model": "lm", "prompt": "ROMEO:", "length": 40, "temperature": 0.8, "seed": 3}
    answer = client.post("/v1/generate", json=request).json()
    assert answer == {
        "model": "lm",
        "text": models["lm"].model.generate("ROMEO:", 40, 0.8, None, None, 3),
    }


def test_generate_streams_server_sent_events(client):
    request = {"model": "lm", "prompt": "KING:", "length": 30, "seed": 5}
    whole = client.post("/v1/generate", json=request).json()["text"]
    with client.stream("POST", "/v1/generate", json={**request, "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [e for e in response.read().decode().split("\n\n") if e]
    pieces = [json.loads(e.removeprefix("data: "))["text"] for e in events if e.startswith("data:")]
    assert len(pieces) == 30 and "".join(pieces) == whole
    assert events[-1] == f"event: done\ndata: {json.dumps({'text': whole})}"


def test_predict_classifies_and_lists_next_words(client, models):
    texts = ["a gorgeous , witty film", "dull and lifeless"]
    answer = client.post("/v1/predict", json={"model": "classify", "inputs": texts}).json()
    assert answer["predictions"] == models["classify"].model.predict(texts)
    words = client.post(
        "/v1/predict", json={"model": "word_lm", "inputs": ["the company"], "top_k": 3}
    ).json()
    expected = models["word_lm"].model.next_tokens("the company", 3)
    assert [n["token"] for n in words["predictions"][0]["next"]] == [t for t, _ in expected]


def test_forecast_from_an_upload_and_from_json(client, models):
    data = SHARED_DATA / "ett" / "ETTh1.csv"
    lines = data.read_text().splitlines()[:400]
    upload = "\n".join(lines).encode()
    answer = client.post(
        "/v1/forecast",
        files={"file": ("recent.csv", upload, "text/csv")},
        data={"model": "forecast"},
    ).json()
    assert len(answer["forecast"]["OT"]) == 12 and len(answer["history"]["OT"]) == 48
    # As JSON: the history's rows, each the model's columns (here OT alone), oldest first.
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    history = [[float(row[header.index("OT")])] for row in rows]
    as_json = client.post("/v1/forecast", json={"model": "forecast", "history": history})
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["history"]["OT"] == pytest.approx(answer["history"]["OT"], rel=1e-6)
    assert all(
        math.isclose(a, b, rel_tol=1e-6)
        for a, b in zip(as_json.json()["forecast"]["OT"], answer["forecast"]["OT"])
    )
    short = client.post("/v1/forecast", json={"model": "forecast", "history": history[:47]})
    assert short.status_code == 422
    assert short.json() == {"error": "history: has 47 items; expected at least 48"}


def test_recordings_are_classified_and_transcribed(client, models):
    wav = next((SHARED_DATA / "fsdd" / "recordings").glob("5_theo_4*.wav"))
    files = {"file": (wav.name, wav.read_bytes(), "audio/wav")}
    label = client.post("/v1/predict", files=files, data={"model": "speech"}).json()
    assert label["predictions"][0]["label"] == models["speech"].model.predict([wav])[0]["label"]
    text = client.post("/v1/transcribe", files=files, data={"model": "transcribe"}).json()
    assert text["text"] == models["transcribe"].model.transcribe([wav])[0]["text"]


@pytest.mark.parametrize(
    "path,kwargs,status,expected",
    [
        (
            "/v1/generate",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            422,
            "the body is not valid JSON",
        ),
        (
            "/v1/generate",
            {"json": {"model": "lm", "length": "many"}},
            422,
            "length: 'many' is not of type 'integer'",
        ),
        (
            "/v1/generate",
            {"json": {"model": "lm", "length": 301}},
            422,
            "length 301 is over the limit of 300 (--max-length)",
        ),
        (
            "/v1/generate",
            {"json": {"model": "lm", "prompt": "\u2603"}},
            422,
            "prompt: has characters the model never saw in training: '\u2603'",
        ),
        (
            "/v1/generate",
            {"json": {"model": "lm", "temperature": -1}},
            422,
            "temperature: -1 is less than the minimum of 0",
        ),
        ("/v1/generate", {"json": {"model": "nope"}}, 422, "no model 'nope'"),
        (
            "/v1/generate",
            {"json": {"model": "classify"}},
            422,
            "classify is a classify model; /v1/generate takes lm",
        ),
        (
            "/v1/generate",
            {"json": {"model": "lm", "extra": 1}},
            422,
            "body: Additional properties are not allowed ('extra' was unexpected)",
        ),
        ("/v1/generate", {"json": ["a list"]}, 422, "body: expected a JSON object; got list"),
        (
            "/v1/generate",
            {"json": {"model": "lm", "prompt": "x" * 70_000}},
            413,
            "the request body is over 65536 bytes",
        ),
        (
            "/v1/generate",
            {"json": {"model": "lm", "prompt": "x" * 4001}},
            422,
            "prompt has 4001 characters; the limit is 4000 (--max-prompt-chars)",
        ),
        (
            "/v1/predict",
            {"json": {"model": "classify", "inputs": ["word " * 2001]}},
            422,
            "inputs[0] has 10005 characters; the limit is 10000 (--max-input-chars)",
        ),
        (
            "/v1/predict",
            {"json": {"model": "word_lm", "inputs": ["the"], "top_k": 101}},
            422,
            "top_k 101 is over the limit of 100 (--max-top-k)",
        ),
        (
            "/v1/predict",
            {"json": {"model": "classify", "inputs": ["a"] * 9}},
            422,
            "9 inputs; the limit is 8 (--max-inputs)",
        ),
        (
            "/v1/predict",
            {"json": {"model": "classify", "inputs": []}},
            422,
            "inputs: has 0 items; expected at least 1",
        ),
        (
            "/v1/predict",
            {"json": {"model": "classify", "inputs": [[[1.0]]]}},
            422,
            "inputs[0]: [[1.0]] is not of type 'string'",
        ),
        (
            "/v1/predict",
            {"json": {"model": "speech", "inputs": ["x"]}},
            422,
            "speech takes an upload as 'file' at /v1/predict",
        ),
        (
            "/v1/predict",
            {
                "files": {"file": ("a.wav", b"RIFF1234WAVEjunk", "audio/wav")},
                "data": {"model": "speech"},
            },
            422,
            "a.wav: corrupt or truncated WAV",
        ),
        (
            "/v1/predict",
            {"files": {"file": ("a.mp3", b"ID3", "audio/mpeg")}, "data": {"model": "speech"}},
            422,
            "a.mp3: expected a .wav or .wave file",
        ),
        (
            "/v1/transcribe",
            {"files": {"file": ("big.wav", b"0" * 300_000, "audio/wav")}},
            413,
            # an upload's limit (200,000 bytes and room for the multipart framing), not the
            # JSON body's (65,536): the message and the limit name which
            "the request body is over 265536 bytes (--max-upload-bytes)",
        ),
        (
            "/v1/transcribe",
            {"data": {"model": "transcribe"}},
            422,
            "upload the file as the multipart field 'file'",
        ),
        (
            "/v1/transcribe",
            {
                "files": {"file": ("a.wav", b"RIFF", "audio/wav")},
                "data": {"model": "transcribe", "beam_width": "0"},
            },
            422,
            "beam_width: 0 is less than the minimum of 1",
        ),
        (
            "/v1/forecast",
            {"files": {"file": ("s.csv", b"date,OT\n2020-01-01,1\n", "text/csv")}},
            422,
            "s.csv: ",
        ),
        (
            "/v1/forecast",
            {"json": {"model": "forecast", "history": [[1.0, 2.0]] * 48}},
            422,
            "history[0]: has 2 items; expected at most 1",
        ),
    ],
)
def test_bad_requests_get_a_4xx_json_error_and_the_server_goes_on(
    client, path, kwargs, status, expected
):
    response = client.post(path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"].startswith(expected), response.json()
    if status == 413:  # every size refusal names its limit
        assert response.json().get("limit", "").startswith("max_"), response.json()
    assert client.get("/health").status_code == 200


def test_a_long_recording_is_refused_by_its_limit(client, tmp_path):
    from rnnkit.data.wav import write_wav
    import numpy as np

    path = tmp_path / "long.wav"
    write_wav(path, np.zeros(8000 * 6, np.float32), 8000)  # 6 s, the limit is 5 s
    response = client.post(
        "/v1/transcribe",
        files={"file": ("long.wav", path.read_bytes())},
        data={"model": "transcribe"},
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "long.wav: 6.0 s of audio; the limit is 5 s (--max-wav-seconds)",
        "limit": "max_wav_seconds",
    }


def test_a_slow_client_does_not_stall_the_others(live_server):
    """One client sends its headers and half its body, then stalls; the others are answered
    meanwhile, and the server still answers after the slow client gives up."""
    import socket
    import urllib.request

    host, port = live_server.removeprefix("http://").split(":")
    slow = socket.create_connection((host, int(port)))
    body = json.dumps({"model": "classify", "inputs": ["a fine film"]}).encode()
    slow.sendall(
        b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[: len(body) // 2]
    )
    try:
        # Answered while the slow client holds its request open: a server that waited for it
        # would answer none of them (the timeout only ends the test; no speed is asked for).
        for _ in range(5):
            request = urllib.request.Request(
                live_server + "/v1/predict", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                assert json.loads(response.read())["predictions"][0]["label"] in ("0", "1")
        assert slow.fileno() != -1  # still open: the answers did not wait for it to go
    finally:
        slow.close()
    with urllib.request.urlopen(live_server + "/health", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"
