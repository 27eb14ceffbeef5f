"""Generation as server-sent events: the model writes its text in a worker thread, one token
at a time, and each piece becomes an event as soon as it exists."""

from __future__ import annotations

import asyncio
import json
import threading


class _Stopped(Exception):
    """The client went away: the generation stops at its next token."""


async def stream_generation(model, options: tuple, executor):
    """Events ``data: {"text": piece}``, then ``event: done`` with the whole text (or
    ``event: error`` with the message)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()

    class Writer:
        def write(self, text: str) -> None:
            if stop.is_set():
                raise _Stopped
            loop.call_soon_threadsafe(queue.put_nowait, ("text", text))

        def flush(self) -> None:
            pass

    def produce() -> None:
        try:
            text = model.generate(*options, 1, Writer())
            loop.call_soon_threadsafe(queue.put_nowait, ("done", text))
        except _Stopped:
            pass
        except Exception as error:  # reported as an event; the server goes on
            loop.call_soon_threadsafe(queue.put_nowait, ("error", str(error)))

    loop.run_in_executor(executor, produce)
    try:
        while True:
            kind, value = await queue.get()
            if kind == "text":
                yield f"data: {json.dumps({'text': value})}\n\n"
            elif kind == "done":
                yield f"event: done\ndata: {json.dumps({'text': value})}\n\n"
                return
            else:
                yield f"event: error\ndata: {json.dumps({'error': value})}\n\n"
                return
    finally:
        stop.set()
