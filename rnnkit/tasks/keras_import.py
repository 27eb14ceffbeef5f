"""Keras models into rnnkit: ``from_keras(path)`` reads a ``.keras`` or ``.h5`` file
(:mod:`rnnkit.data.keras_files`) and converts its layers (:mod:`rnnkit.models.keras_layers`)
into a torch module whose outputs equal Keras' (tests/models/test_keras_import.py checks them
against Keras itself to 1e-5)."""

from __future__ import annotations

from rnnkit.data.keras_files import KerasFile, read_keras_model
from rnnkit.errors import DataError
from rnnkit.models.keras_layers import KerasModel, build_keras_model


def from_keras(path) -> KerasModel:
    """The Keras model in ``path`` as a :class:`~rnnkit.models.keras_layers.KerasModel`
    (``torch.nn.Module``, in eval mode); a layer it cannot convert is refused in one line that
    names it, its position and what is supported."""
    return convert(read_keras_model(path))


def convert(model_file: KerasFile) -> KerasModel:
    try:
        return build_keras_model(model_file.layers)
    except DataError as error:
        raise DataError(f"{model_file.path}: {error}") from None
    except (KeyError, IndexError, ValueError, RuntimeError) as error:  # a malformed file
        raise DataError(
            f"{model_file.path}: the weights do not fit the layers' configs ({error})"
        ) from None
