"""Export folders on onnxruntime, without torch (floor 3, beside the tasks)."""

from rnnkit.runtime.loading import open_export
from rnnkit.runtime.session import FORMAT, is_export_folder, read_description

__all__ = ["open_export", "is_export_folder", "read_description", "FORMAT"]
