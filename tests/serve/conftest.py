"""A live ``rnnkit serve`` on 127.0.0.1, in its own process, for the tests that need a real
server (the browser, slow clients)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request

import pytest


def start_server(folders, *flags: str):
    """``rnnkit serve FOLDERS --port 0 FLAGS`` in its own process: ``(process, url)`` once the
    server answers /health. The system picks the port and the first line names it, so no
    other process can take it between a probe and the bind."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rnnkit", "serve", *map(str, folders), "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = process.stdout.readline()
    match = re.search(r" on (http://\S+) ", first)
    if match is None:
        process.kill()
        pytest.fail(f"rnnkit serve did not say where it listens: {first}{process.stdout.read()}")
    url = match.group(1)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except OSError as error:
            if process.poll() is not None:
                pytest.fail(f"rnnkit serve exited: {process.stdout.read()}")
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"rnnkit serve at {url} did not answer /health in 60 s ({error})")
            time.sleep(0.1)


def stop_server(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def live_server(exports, runs):
    """The URL of a server holding the char and word LM exports, the classifier export and
    the forecaster's run folder."""
    folders = [exports["lm"], exports["word_lm"], exports["classify"], runs["forecast"]]
    process, url = start_server(folders)
    yield url
    stop_server(process)
