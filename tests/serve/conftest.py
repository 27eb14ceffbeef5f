"""A live ``rnnkit serve`` on 127.0.0.1, in its own process, for the tests that need a real
server (the browser, slow clients)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(exports, runs):
    """The URL of a server holding the char and word LM exports, the classifier export and
    the forecaster's run folder."""
    port = _free_port()
    folders = [exports["lm"], exports["word_lm"], exports["classify"], runs["forecast"]]
    process = subprocess.Popen(
        [sys.executable, "-m", "rnnkit", "serve", *map(str, folders), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"rnnkit serve exited: {process.stdout.read()}")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=30)
