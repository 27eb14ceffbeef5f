"""ONNX export of trained runs (floor 3.5: it loads runs through the tasks)."""

from rnnkit.export.writer import export_run

__all__ = ["export_run"]
