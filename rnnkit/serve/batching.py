"""Batching of concurrent /v1/predict requests into one model call (padded by length inside
the model), so that the per-call cost is paid once per batch rather than once per request.

The batcher takes whatever has queued up while the model was busy: a request that finds the
model idle runs at once (no added latency at low load), and under load each call takes all
the requests that arrived during the previous one (as Triton's dynamic batcher does with a
zero queue delay). Under load, when more requests are on their way (received, still being
read or parsed) than have queued, the batch waits up to ``window_s`` for them: a larger batch
per call, and no wait at all for a lone client."""

from __future__ import annotations

import asyncio
from typing import Callable


class Batcher:
    """``await batcher.submit(inputs) -> results``: ``run(all inputs) -> all results`` is
    called in a worker thread on the inputs of every request waiting (up to ``max_inputs``,
    after waiting ``window_s`` for more), and each request gets its own slice."""

    def __init__(
        self,
        run: Callable[[list], list],
        window_s: float,
        max_inputs: int,
        call,
        arriving: Callable[[], int] = lambda: 0,
    ):
        self.run, self.window_s, self.max_inputs = run, window_s, max_inputs
        self.arriving = arriving  # requests received but not yet submitted
        self.call = call  # call(function, *args) -> awaitable, in a worker thread
        self.queue: asyncio.Queue | None = None
        self.worker: asyncio.Task | None = None

    async def submit(self, inputs: list) -> list:
        """The results of ``inputs``, from a batched call."""
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.worker = asyncio.get_running_loop().create_task(self._work())
        done = asyncio.get_running_loop().create_future()
        await self.queue.put((inputs, done))
        return await done

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            pending = [await self.queue.get()]
            deadline = loop.time() + self.window_s
            while self.arriving() > 0 and loop.time() < deadline:
                await asyncio.sleep(0.0002)  # let the arriving requests be parsed and queue up
            count = len(pending[0][0])
            while count < self.max_inputs and not self.queue.empty():
                item = self.queue.get_nowait()
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
