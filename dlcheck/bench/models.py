"""The two benchmark models, their defaults, and their analytic training FLOPs.

Keras is imported inside the builders: the caller must have chosen the backend
(KERAS_BACKEND) first, see dlcheck.bench.engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODELS = ("mlp", "cnn")


@dataclass(frozen=True)
class ModelSpec:
    """Defaults of one model, as its source trained it (and where we differ)."""

    name: str
    epochs: int
    batch_size: int
    optimizer: str
    #: the input shape one sample has when fed to the model
    input_shape: tuple[int, ...]
    description: str


SPECS: dict[str, ModelSpec] = {
    # The workstation guide's dense network: Dense(512, relu) -> Dense(10, softmax).
    "mlp": ModelSpec(
        name="mlp",
        epochs=5,
        batch_size=128,
        optimizer="rmsprop",
        input_shape=(784,),
        description="Dense(512, relu) -> Dense(10, softmax)",
    ),
    # The handwritten-digit project's CNN. It used Adadelta at the old Keras default
    # learning rate 1.0; Keras 3's Adadelta defaults to 0.001 and barely learns in
    # 10 epochs, so the default here is Adam (see docs/bench.md for the measurement).
    "cnn": ModelSpec(
        name="cnn",
        epochs=10,
        batch_size=128,
        optimizer="adam",
        input_shape=(28, 28, 1),
        description=(
            "Conv2D(32,3x3,relu) -> Conv2D(64,3x3,relu) -> MaxPool 2x2 -> Dropout 0.25 -> "
            "Flatten -> Dense(256,relu) -> Dropout 0.5 -> Dense(10,softmax)"
        ),
    ),
}

#: Optimizer names accepted by --optimizer ("adadelta-1.0" is Adadelta at the old default).
OPTIMIZERS = ("rmsprop", "adam", "adamw", "sgd", "adadelta", "adadelta-1.0", "adagrad", "nadam")


def make_optimizer(name: str, learning_rate: float | None = None) -> Any:
    """A Keras optimizer object for one of OPTIMIZERS."""
    import keras

    classes = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "adadelta": keras.optimizers.Adadelta,
        "adadelta-1.0": keras.optimizers.Adadelta,
        "adagrad": keras.optimizers.Adagrad,
        "nadam": keras.optimizers.Nadam,
    }
    if learning_rate is None and name == "adadelta-1.0":
        learning_rate = 1.0
    if learning_rate is None:
        return classes[name]()
    return classes[name](learning_rate=learning_rate)


def build_model(name: str) -> Any:
    """A fresh, uncompiled Keras model: 'mlp' or 'cnn'."""
    import keras
    from keras import layers

    if name == "mlp":
        return keras.Sequential(
            [
                keras.Input(shape=SPECS["mlp"].input_shape),
                layers.Dense(512, activation="relu"),
                layers.Dense(10, activation="softmax"),
            ],
            name="mlp",
        )
    if name == "cnn":
        return keras.Sequential(
            [
                keras.Input(shape=SPECS["cnn"].input_shape),
                layers.Conv2D(32, (3, 3), activation="relu"),
                layers.Conv2D(64, (3, 3), activation="relu"),
                layers.MaxPooling2D((2, 2)),
                layers.Dropout(0.25),
                layers.Flatten(),
                layers.Dense(256, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(10, activation="softmax"),
            ],
            name="cnn",
        )
    raise ValueError(f"unknown model {name!r}")


def prepare_inputs(name: str, images: Any) -> Any:
    """uint8 (N, 28, 28) -> float32 in [0, 1], shaped for the model."""
    import numpy as np

    x = images.astype(np.float32) / 255.0
    if name == "mlp":
        return x.reshape(len(x), 28 * 28)
    return x.reshape(len(x), 28, 28, 1)


def forward_macs(model: Any) -> int:
    """Multiply-accumulates of one sample's forward pass, counted per layer.

    Dense: inputs x units. Conv2D: out_h x out_w x filters x kh x kw x in_channels.
    Pooling, activations, dropout and bias adds are left out (a few percent at most).
    """
    from keras import layers

    macs = 0
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            macs += int(layer.input.shape[-1]) * int(layer.units)
        elif isinstance(layer, layers.Conv2D):
            _, out_h, out_w, filters = layer.output.shape
            kh, kw = layer.kernel_size
            in_c = int(layer.input.shape[-1])
            macs += int(out_h) * int(out_w) * int(filters) * kh * kw * in_c
    return macs


def training_flops_per_sample(model: Any) -> int:
    """Training FLOPs per sample: forward 2 x MACs, backward ~2 x forward, so 3 x forward."""
    return 3 * 2 * forward_macs(model)
