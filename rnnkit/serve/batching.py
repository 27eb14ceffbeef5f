"""Batching of concurrent /v1/predict requests: requests that arrive within a short window
are joined into one model call (padded by length inside the model), so the per-call cost is
paid once per batch rather than once per request (as in TF-Serving's and Triton's dynamic
batchers)."""

from __future__ import annotations

import asyncio
from typing import Callable


class Batcher:
    """``await batcher.submit(inputs) -> results``: ``run(all inputs) -> all results`` is
    called in a worker thread on the inputs of every request that arrived within
    ``window_s`` of the first (up to ``max_inputs``), and each request gets its own slice."""

    def __init__(self, run: Callable[[list], list], window_s: float, max_inputs: int, call):
        self.run, self.window_s, self.max_inputs = run, window_s, max_inputs
        self.call = call  # call(function, *args) -> awaitable, in a worker thread
        self.queue: asyncio.Queue | None = None
        self.worker: asyncio.Task | None = None

    async def submit(self, inputs: list) -> list:
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.worker = asyncio.get_running_loop().create_task(self._work())
        done = asyncio.get_running_loop().create_future()
        await self.queue.put((inputs, done))
        return await done

    async def _work(self) -> None:
        while True:
            pending = [await self.queue.get()]
            count = len(pending[0][0])
            deadline = asyncio.get_running_loop().time() + self.window_s
            while count < self.max_inputs:
                left = deadline - asyncio.get_running_loop().time()
                try:
                    item = (
                        await asyncio.wait_for(self.queue.get(), left)
                        if left > 0
                        else (self.queue.get_nowait())
                    )
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
                pending.append(item)
                count += len(item[0])
            await self._answer(pending)

    async def _answer(self, pending: list) -> None:
        joined = [value for inputs, _ in pending for value in inputs]
        try:
            results = await self.call(self.run, joined)
        except Exception as error:  # each request gets the error, the worker keeps going
            for _, done in pending:
                if not done.done():
                    done.set_exception(error)
            return
        start = 0
        for inputs, done in pending:
            if not done.done():  # a client that went away leaves a cancelled future
                done.set_result(results[start : start + len(inputs)])
            start += len(inputs)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
