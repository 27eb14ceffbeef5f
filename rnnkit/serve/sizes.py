"""The request-size guard, as ASGI middleware: a body over its limit is refused before the
route reads it (by Content-Length) or as soon as it passes the limit (while streaming in)."""

from __future__ import annotations

import json

from rnnkit.serve.limits import LimitExceeded, ServeLimits

MULTIPART_OVERHEAD = 65_536
"""Room for the multipart headers and boundaries around an upload at the limit."""


class BodyTooLarge(LimitExceeded):
    pass


class BodyLimit:
    def __init__(self, app, limits: ServeLimits):
        self.app, self.limits = app, limits

    def _limit(self, headers: dict) -> tuple[int, str]:
        kind = headers.get(b"content-type", b"").decode("latin-1").lower()
        if kind.startswith("multipart/"):
            return self.limits.max_upload_bytes + MULTIPART_OVERHEAD, "max_upload_bytes"
        return self.limits.max_body_bytes, "max_body_bytes"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        limit, name = self._limit(headers)
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _refuse(send, 400, {"error": "Content-Length is not a number"})
            if int(declared) > limit:
                return await _refuse(send, 413, _message(name, limit))
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(name, _message(name, limit)["error"], 413)
            return message

        await self.app(scope, limited, send)


def _message(name: str, limit: int) -> dict:
    flag = "--" + name.replace("_", "-")
    return {"error": f"the request body is over {limit} bytes ({flag})", "limit": name}


async def _refuse(send, status: int, content: dict) -> None:
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
