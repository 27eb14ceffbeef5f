"""The HTTP API and its page: ``create_app(models, limits) -> FastAPI``.

Safe by default: every size has a limit (:class:`~rnnkit.serve.limits.ServeLimits`); a bad
request gets a 4xx with ``{"error": ...}`` (and ``"limit"`` when a limit was passed), never a
500 with a traceback; models run in worker threads, so a long generation or a slow client
holds up no one else; the server keeps serving after any bad request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from rnnkit.errors import RnnkitError
from rnnkit.serve.batching import Batcher
from rnnkit.serve.endpoints import BEAM_WIDTH, Contract, describe_errors, published_schema
from rnnkit.serve.limits import LimitExceeded, ServeLimits
from rnnkit.serve.models import (
    Served,
    UploadedFile,
    check_wav_length,
    finite_forecast,
    forecast_json,
    is_numeric_classifier,
    numeric_inputs,
    predict_inputs,
)
from rnnkit.serve.sizes import BodyLimit
from rnnkit.serve.streaming import stream_generation

PAGE = Path(__file__).parent / "page"
logger = logging.getLogger("rnnkit.serve")


def _error(status: int, message: str, limit: str | None = None) -> JSONResponse:
    content = {"error": message} if limit is None else {"error": message, "limit": limit}
    return JSONResponse(content, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LimitExceeded)
    async def over_limit(request, error: LimitExceeded):
        return _error(error.status, str(error), error.limit)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, error: StarletteHTTPException):  # malformed multipart, 404
        answer = _error(error.status_code, str(error.detail).splitlines()[0])
        answer.headers.update(error.headers or {})  # a 405 keeps its Allow header
        return answer

    @app.exception_handler(RnnkitError)
    async def bad_input(request, error: RnnkitError):
        return _error(422, str(error))

    @app.exception_handler(ValueError)
    async def bad_value(request, error: ValueError):
        return _error(422, str(error).splitlines()[0] if str(error) else "invalid value")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request, error: RequestValidationError):
        return _error(422, describe_errors(error.errors()))

    @app.exception_handler(Exception)
    async def internal(request, error: Exception):  # logged here, never sent to the client
        logger.exception("unexpected error on %s", request.url.path)
        return _error(500, "internal error; the server logged it")


class Server:
    """The state behind the routes: the models, the limits, the workers and batchers."""

    def __init__(self, models: dict[str, Served], limits: ServeLimits):
        if not models:
            raise RnnkitError("rnnkit serve needs at least one run or export folder")
        self.models, self.limits = models, limits
        self.contract = Contract(self, limits)
        self.executor = ThreadPoolExecutor(limits.workers, thread_name_prefix="rnnkit-model")
        self.batchers: dict[str, Batcher] = {}
        self.arriving = 0
        """/v1/predict requests received and not yet submitted to a batcher."""

    async def call(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, partial(function, *args)
        )

    def batcher(self, served: Served) -> Batcher:
        if served.name not in self.batchers:
            self.batchers[served.name] = Batcher(
                partial(predict_inputs, served),
                self.limits.batch_window_ms / 1000,
                self.limits.max_batch_inputs,
                self.call,
                lambda: self.arriving,
            )
        return self.batchers[served.name]

    async def classify(self, served: Served, inputs: list) -> list[dict]:
        if self.limits.batching:
            return await self.batcher(served).submit(inputs)
        return await self.call(predict_inputs, served, inputs)

    def close(self) -> None:
        for batcher in self.batchers.values():
            batcher.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


async def read_json(request: Request) -> object:
    """The body parsed as JSON, or a 422 naming what is wrong."""
    body = await request.body()
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RnnkitError(f"the body is not valid JSON ({error})") from None


async def read_upload(request: Request, limits: ServeLimits) -> tuple[bytes, tuple, dict]:
    """``(file bytes, (file name, media type), other form fields)`` of a multipart upload
    (field ``file``)."""
    form = await request.form(max_files=1, max_fields=16, max_part_size=limits.max_upload_bytes)
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise RnnkitError("upload the file as the multipart field 'file'")
    data = await upload.read()
    fields = {key: value for key, value in form.items() if key != "file"}
    for key, value in fields.items():
        if not isinstance(value, str):
            raise RnnkitError(f"{key}: expected a form field, not a file")
    return data, (upload.filename or "upload", upload.content_type or ""), fields


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


def create_app(models: dict[str, Served], limits: ServeLimits | None = None) -> FastAPI:
    """The app serving ``models`` (name -> :class:`Served`) within ``limits``."""
    server = Server(models, limits or ServeLimits())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        server.close()

    app = FastAPI(
        title="rnnkit",
        description="Recurrent models over HTTP: generate, predict, forecast and transcribe.",
        version="1",
        lifespan=lifespan,
    )
    app.state.server = server
    app.add_middleware(BodyLimit, limits=server.limits)
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=PAGE), name="static")
    app.openapi = partial(published_schema, app, server.contract)
    add_routes(app, server)
    return app


def add_routes(app: FastAPI, server: Server) -> None:
    """The page, /health, /v1/models and the four model endpoints."""

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(PAGE / "index.html")

    @app.get("/health")
    async def health():
        return {"status": "ok", "models": len(server.models)}

    @app.get("/v1/models")
    async def list_models():
        return {"models": [served.describe() for served in server.models.values()]}

    @app.post("/v1/generate")
    async def generate(request: Request):
        served, body = server.contract.checked("/v1/generate", await read_json(request))
        prompt = body.get("prompt", "\n")
        served.model.codec.prompt_ids(prompt)  # a bad prompt is a 422 before any stream
        options = (
            prompt,
            int(body.get("length", 200)),
            float(body.get("temperature", 1.0)),
            _whole_or_none(body.get("top_k")),
            body.get("top_p"),
            _whole_or_none(body.get("seed")),
        )
        if body.get("stream", False):
            events = stream_generation(served.model, options, server.executor)
            return StreamingResponse(events, media_type="text/event-stream")
        text = await server.call(served.model.generate, *options)
        return {"model": served.name, "text": text}

    @app.post("/v1/predict")
    async def predict(request: Request):
        if is_multipart(request):
            return await _predict_recording(request)
        server.arriving += 1
        try:
            body = await read_json(request)
        finally:
            server.arriving -= 1
        served, body = server.contract.checked("/v1/predict", body)
        inputs = body["inputs"]
        if served.task == "lm":
            top_k = _whole_or_none(body.get("top_k")) or 5
            ranked = await server.call(lambda: [served.model.next_tokens(t, top_k) for t in inputs])
            predictions = [
                {"input": text, "next": [{"token": t, "probability": p} for t, p in row]}
                for text, row in zip(inputs, ranked)
            ]
            return {"model": served.name, "predictions": predictions}
        if is_numeric_classifier(served):
            inputs = numeric_inputs(served, inputs)
        return {"model": served.name, "predictions": await server.classify(served, inputs)}

    async def _predict_recording(request: Request):
        data, (filename, media), fields = await read_upload(request, server.limits)
        served, _ = server.contract.checked_upload("/v1/predict", fields)
        with UploadedFile(data, filename, (".wav", ".wave"), media) as upload:
            try:
                check_wav_length(upload.path, filename, server.limits)
                (result,) = await server.call(served.model.predict, [upload.path])
            except RnnkitError as error:
                raise upload.rename_in(error) from None
        return {"model": served.name, "predictions": [{**result, "file": filename}]}

    @app.post("/v1/transcribe")
    async def transcribe(request: Request):
        data, (filename, media), fields = await read_upload(request, server.limits)
        served, fields = server.contract.checked_upload("/v1/transcribe", fields)
        width = fields.get("beam_width", BEAM_WIDTH["default"])
        with UploadedFile(data, filename, (".wav", ".wave"), media) as upload:
            try:
                check_wav_length(upload.path, filename, server.limits)
                (result,) = await server.call(served.model.transcribe, [upload.path], width)
            except RnnkitError as error:
                raise upload.rename_in(error) from None
        return {"model": served.name, **result, "file": filename}

    @app.post("/v1/forecast")
    async def forecast(request: Request):
        if not is_multipart(request):
            served, body = server.contract.checked("/v1/forecast", await read_json(request))
            answer = await server.call(forecast_json, served, body["history"])
            return {"model": served.name, **answer}
        data, (filename, media), fields = await read_upload(request, server.limits)
        served, _ = server.contract.checked_upload("/v1/forecast", fields)
        with UploadedFile(data, filename, (".csv", ".tsv", ".txt"), media) as upload:
            try:
                table, history = await server.call(_forecast_with_history, served, upload.path)
            except RnnkitError as error:
                raise upload.rename_in(error) from None
        return {"model": served.name, "forecast": finite_forecast(table), "history": history}


def _whole_or_none(value) -> int | None:
    return None if value is None else int(value)


def _forecast_with_history(served: Served, path: Path):
    """The forecast table and the history it follows (the last lookback rows), for drawing."""
    table = served.model.forecast(path)
    frame = served.model.frame
    series = frame.read(path)
    history = {
        name: series.targets[-frame.lookback :, j].astype(float).tolist()
        for j, name in enumerate(series.target_names)
    }
    if series.time is not None:
        history["time"] = [stamp.isoformat() for stamp in series.time[-frame.lookback :]]
    return table, history
