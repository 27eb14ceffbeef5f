"""Which model takes which body at each endpoint, checked against the schema that
``/openapi.json`` publishes (:mod:`rnnkit.serve.contract`): a request the schema allows is
served, and one it does not is refused with the one error body."""

from __future__ import annotations

import re

from rnnkit.errors import RnnkitError
from rnnkit.serve import contract
from rnnkit.serve.limits import ServeLimits
from rnnkit.serve.models import Served, alphabet, is_numeric_classifier, takes_json_history

TASKS = {
    "/v1/generate": ("lm",),
    "/v1/predict": ("classify", "lm", "speech"),
    "/v1/transcribe": ("transcribe",),
    "/v1/forecast": ("forecast",),
}
"""The tasks each model endpoint serves."""

WAV, CSV = "audio/wav", "text/csv"
BEAM_WIDTH = {"type": "integer", "minimum": 1, "maximum": 1024, "default": 8}


class Contract:
    """The bodies of one server's endpoints: ``json[path][name]``, one schema per model, and
    ``uploads[path]``, the multipart schema and the media type of its file."""

    def __init__(self, server, limits: ServeLimits):
        self.server, self.limits = server, limits
        self.json: dict[str, dict[str, dict]] = {path: {} for path in TASKS}
        self.uploads: dict[str, tuple[dict, str, list[str]]] = {}
        self._describe(list(server.models.values()))

    def _describe(self, models: list[Served]) -> None:
        limits = self.limits
        for path, tasks in TASKS.items():
            takers = [served for served in models if served.task in tasks]
            json_takers = [s for s in takers if _takes_json(path, s)]
            several = len(json_takers) > 1
            for served in json_takers:
                self.json[path][served.name] = _variant(path, served, limits, several)
            uploaders = [s for s in takers if _upload_media(path, s)]
            if uploaders:
                names, media = [s.name for s in uploaders], _upload_media(path, uploaders[0])
                fields = {"beam_width": BEAM_WIDTH} if path == "/v1/transcribe" else None
                self.uploads[path] = (contract.upload_variant(names, media, fields), media, names)

    def checked(self, path: str, body) -> tuple[Served, dict]:
        """The model a JSON body names (or the one that fits) and the body, checked."""
        if not isinstance(body, dict):
            raise RnnkitError(f"body: expected a JSON object; got {type(body).__name__}")
        variants = self.json[path]
        served = self._pick(path, body.get("model", None), "model" in body, list(variants))
        contract.check_limits(body, self.limits)
        contract.check_body(body, variants[served.name])
        return served, body

    def checked_upload(self, path: str, fields: dict) -> tuple[Served, dict]:
        """The model a multipart upload names (or the one that fits) and its form fields,
        checked and typed as the schema says (``beam_width`` a whole number)."""
        if path not in self.uploads:
            raise RnnkitError(f"{path} takes no upload on this server; send JSON")
        schema, _, names = self.uploads[path]
        properties = schema["properties"]
        typed = {key: _form_value(value, properties.get(key)) for key, value in fields.items()}
        served = self._pick(path, typed.get("model"), "model" in typed, names)
        contract.check_body({**typed, "file": ""}, schema)
        return served, typed

    def _pick(self, path: str, name, given: bool, names: list[str]) -> Served:
        held = ", ".join(sorted(self.server.models))
        if not given:
            if len(names) == 1:
                return self.server.models[names[0]]
            if names:
                listed = ", ".join(names)
                raise RnnkitError(f'give "model": one of {listed} (this server holds {held})')
            raise RnnkitError(f"no model takes this body at {path}; this server holds {held}")
        if not isinstance(name, str) or name not in self.server.models:
            raise RnnkitError(f"no model {name!r}; this server holds {held}")
        served = self.server.models[name]
        if served.task not in TASKS[path]:
            takes = ", ".join(TASKS[path])
            raise RnnkitError(f"{name} is a {served.task} model; {path} takes {takes}")
        if name not in names:
            other = "an upload as 'file'" if _upload_media(path, served) else "JSON"
            raise RnnkitError(f"{name} takes {other} at {path}")
        return served


def _takes_json(path: str, served: Served) -> bool:
    if path == "/v1/generate":
        return True
    if path == "/v1/predict":
        return served.task in ("classify", "lm")
    if path == "/v1/forecast":
        return takes_json_history(served)
    return False


def _upload_media(path: str, served: Served) -> str | None:
    if path == "/v1/forecast":
        return CSV
    if path == "/v1/transcribe" or (path == "/v1/predict" and served.task == "speech"):
        return WAV
    return None


def _variant(path: str, served: Served, limits: ServeLimits, several: bool) -> dict:
    name = served.name
    if path == "/v1/generate":
        return contract.generate_variant(name, alphabet(served), limits, several)
    if path == "/v1/forecast":
        frame = served.model.frame
        return contract.forecast_variant(name, frame.input_columns(), frame.lookback, several)
    if served.task == "lm":
        kind = {"texts": alphabet(served), "top_k": True}
    elif is_numeric_classifier(served):
        kind = {"features": len(served.model.config["data"]["statistics"]["mean"])}
    else:
        kind = {"texts": None}
    return contract.predict_variant(name, kind, limits, several)


def _form_value(text: str, schema: dict | None):
    """A form field as the type its schema names (form fields arrive as text)."""
    integer = schema is not None and schema.get("type") == "integer"
    if integer and re.fullmatch(r"-?\d{1,18}", text):
        return int(text)
    return text


def published_schema(app, rules: Contract) -> dict:
    """``/openapi.json``: FastAPI's description of the routes, with each body, each limit
    and each error status as this server enforces them."""
    from fastapi.openapi.utils import get_openapi

    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = contract.ERROR_BODY
    for path in TASKS:
        content = {}
        if rules.json[path]:
            content["application/json"] = {"schema": contract.one_of(rules.json[path])}
        if path in rules.uploads:
            upload, media, _ = rules.uploads[path]
            content["multipart/form-data"] = {
                "schema": upload,
                "encoding": {"file": {"contentType": media}},
            }
        if not content:  # no model here serves it: not offered
            schema["paths"].pop(path, None)
            continue
        operation = schema["paths"][path]["post"]
        operation["requestBody"] = {"required": True, "content": content}
        operation["responses"] = _responses(path)
    return schema


SSE_EVENT = {
    "type": "object",
    "description": "one event: the text a token adds; 'done' with the whole text; or 'error'",
    "properties": {
        "event": {"enum": ["message", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["data"],
}


def _responses(path: str) -> dict:
    answer = {"application/json": {"schema": {"type": "object"}}}
    if path == "/v1/generate":  # with "stream": true, server-sent events
        answer["text/event-stream"] = {"schema": SSE_EVENT}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses = {"200": {"description": "The model's answer.", "content": answer}}
    for status, description in contract.ERRORS.items():
        responses[status] = {"description": description, "content": error}
    return responses


def describe_errors(errors) -> str:
    """pydantic's errors as one line: ``length: Input should be greater than or equal to 1``."""
    parts = []
    for error in list(errors)[:3]:
        where = ".".join(str(step) for step in error.get("loc", ()) if step != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)
