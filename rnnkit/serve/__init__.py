"""``rnnkit serve``: run and export folders over HTTP (FastAPI on uvicorn), with a web page."""

from rnnkit.serve.app import create_app
from rnnkit.serve.limits import ServeLimits
from rnnkit.serve.models import load_models

__all__ = ["create_app", "load_models", "ServeLimits"]
