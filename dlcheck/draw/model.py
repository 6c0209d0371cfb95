"""Load a digit model saved by `dlcheck bench --save`, check that it fits, and run it.

A digit model takes 28x28 grey images as float32 in [0, 1], either as (None, 28, 28, 1)
(the cnn), (None, 28, 28) or flat (None, 784) (the mlp), and gives 10 class scores.
Anything else is refused with a message that names the shape it has and the one it
needs, before a single prediction is made.

Keras and numpy are imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlcheck import paths
from dlcheck.errors import MissingDependency, ModelError
from dlcheck.host.files import check_source

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

NUM_CLASSES = 10
#: input shapes (batch axis left out) a digit model may take
ACCEPTED_INPUTS: dict[tuple[int, ...], str] = {
    (28, 28, 1): "image",
    (28, 28): "grid",
    (784,): "flat",
}
TRAIN_HINT = (
    "train and save one with `dlcheck bench --model cnn --save FILE.keras` "
    "(it is also kept as the default model), or pass --model PATH"
)
#: how many images go through the model at once
BATCH = 1024


@dataclass
class Prediction:
    """One recognised digit: the answer, how sure, and the runners-up."""

    digit: int
    confidence: float
    #: the three most likely digits with their probabilities, best first
    top3: list[tuple[int, float]]
    #: all ten probabilities, index = digit
    probabilities: list[float] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "top3": [{"digit": d, "probability": round(p, 6)} for d, p in self.top3],
            "probabilities": [round(p, 6) for p in self.probabilities],
        }

    def summary(self) -> str:
        """`7 (98.1%)  top-3: 7 98.1% | 9 1.2% | 2 0.3%`"""
        top = " | ".join(f"{d} {p:.1%}" for d, p in self.top3)
        return f"{self.digit} ({self.confidence:.1%})  top-3: {top}"


def prediction_from_probabilities(probs: Any) -> Prediction:
    """Build a Prediction from ten probabilities."""
    import numpy as np

    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    order = np.argsort(-p, kind="stable")
    return Prediction(
        digit=int(order[0]),
        confidence=float(p[order[0]]),
        top3=[(int(i), float(p[i])) for i in order[:3]],
        probabilities=[float(v) for v in p],
    )


def default_model_path() -> Path:
    """The per-user model `dlcheck bench --save` keeps: ~/.local/share/dlcheck/models/last.keras."""
    return paths.last_model_path()


def _import_keras() -> Any:
    # TensorFlow's C++ start-up chatter would bury our own messages on the terminal.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras
    except ImportError as exc:
        raise MissingDependency(
            f"Keras is not installed ({exc})",
            hint="pip install 'dlcheck[tf]' (or the torch or jax extra)",
        ) from None
    except ValueError as exc:  # Keras 3 on an unknown $KERAS_BACKEND: "Unable to import backend"
        raise MissingDependency(
            f"Keras cannot start: {exc} ($KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r})",
            hint="set KERAS_BACKEND to tensorflow, jax or torch (one that is installed), "
            "or unset it",
        ) from None
    return keras


def _shape_of(model: Any, which: str) -> tuple[Any, ...] | None:
    """The model's single input or output shape, batch axis included; None if unknown."""
    tensors = None
    try:
        tensors = getattr(model, which + "s")
    except (AttributeError, ValueError):
        tensors = None
    if tensors:
        if len(tensors) != 1:
            raise ModelError(
                f"the model has {len(tensors)} {which}s; a digit model has one",
                hint=TRAIN_HINT,
            )
        return tuple(tensors[0].shape)
    try:
        shape = getattr(model, which + "_shape", None)
    except (AttributeError, ValueError):
        return None
    return tuple(shape) if shape is not None else None


def _fmt(shape: tuple[Any, ...]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


class DigitModel:
    """A loaded, validated digit model."""

    def __init__(self, keras_model: Any, path: Path, layout: str) -> None:
        self.keras_model = keras_model
        self.path = path
        #: "image" (N, 28, 28, 1), "grid" (N, 28, 28) or "flat" (N, 784)
        self.layout = layout

    def probabilities(self, fields: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N, 10) probabilities."""
        import numpy as np

        keras = _import_keras()
        x = np.asarray(fields, dtype=np.float32).reshape(-1, 28, 28)
        if self.layout == "image":
            x = x[..., np.newaxis]
        elif self.layout == "flat":
            x = x.reshape(-1, 784)
        outs = []
        for start in range(0, x.shape[0], BATCH):
            y = self.keras_model(x[start : start + BATCH], training=False)
            outs.append(np.asarray(keras.ops.convert_to_numpy(y), dtype=np.float64))
        scores = np.concatenate(outs).reshape(-1, NUM_CLASSES)
        # A model ending in logits instead of softmax still gets probabilities.
        if (scores < -1e-6).any() or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
            shifted = scores - scores.max(axis=1, keepdims=True)
            scores = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        return scores

    def predict(self, field_28: np.ndarray) -> Prediction:
        """One (28, 28) field -> Prediction."""
        return prediction_from_probabilities(self.probabilities(field_28[None])[0])


def check_model_file(path: Path) -> Path:
    """Fail early, without Keras, on a model path that cannot be a model file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"{path}: no such model file", hint=TRAIN_HINT)
    if path.is_dir():
        raise ModelError(f"{path}: is a directory, not a saved model (.keras)", hint=TRAIN_HINT)
    blocked = check_source(path, "saved model (.keras)")
    if blocked:
        raise ModelError(blocked, hint=TRAIN_HINT)
    return path


def load_model(path: str | Path) -> DigitModel:
    """Load and validate a saved model; ModelError (exit 2) with a fix if it is not usable."""
    path = check_model_file(Path(path))
    keras = _import_keras()
    log.info("loading model %s", path)
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelError(
            f"{path}: cannot be loaded as a Keras model ({type(exc).__name__}: {first_line[:200]})",
            hint="the file is corrupt or not a model saved by Keras 3; " + TRAIN_HINT,
        ) from None
    in_shape = _shape_of(model, "input")
    out_shape = _shape_of(model, "output")
    if in_shape is None or out_shape is None:
        raise ModelError(
            f"{path}: the model's input/output shapes are unknown (not built)", hint=TRAIN_HINT
        )
    layout = ACCEPTED_INPUTS.get(tuple(in_shape[1:]))
    if layout is None:
        raise ModelError(
            f"{path}: the model takes input of shape {_fmt(in_shape)}, but a digit model "
            "takes 28x28 grey images: (None, 28, 28, 1), (None, 28, 28) or (None, 784)",
            hint=TRAIN_HINT,
        )
    if tuple(out_shape[1:]) != (NUM_CLASSES,):
        raise ModelError(
            f"{path}: the model gives output of shape {_fmt(out_shape)}, but a digit model "
            f"gives {NUM_CLASSES} class scores: (None, {NUM_CLASSES})",
            hint=TRAIN_HINT,
        )
    log.info("model %s: input %s (%s), output %s", path, _fmt(in_shape), layout, _fmt(out_shape))
    return DigitModel(model, path, layout)
