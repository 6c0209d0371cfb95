"""Shared fixtures of the digit-demo tests: a CNN trained here on real MNIST, and Xvfb.

The model is trained once per test session on the real MNIST test set that ships next
to the repository (`../shared/data/mnist`), split by `dlcheck.bench.data` into 8000
train / 2000 held-out images with a fixed seed. Measured on this 2-core machine:
3 epochs take about 20 s and reach about 97 % on the held-out part.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

EPOCHS = 3
SEED = 0


@dataclass
class TrainedModel:
    path: Path
    #: MnistData: the seeded split of the real test set
    data: object
    #: accuracy on the held-out part, measured right after training
    held_out_accuracy: float


@pytest.fixture(scope="session")
def mnist_data(mnist_dir):
    from dlcheck.bench.data import load_mnist

    return load_mnist(mnist_dir, allow_download=False)


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory, mnist_data) -> TrainedModel:
    """The benchmark's CNN, trained here and saved as .keras: the train -> save -> load path."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from dlcheck.bench.models import build_model, prepare_inputs

    keras.utils.set_random_seed(SEED)
    model = build_model("cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        prepare_inputs("cnn", mnist_data.x_train),
        mnist_data.y_train,
        epochs=EPOCHS,
        batch_size=128,
        verbose=0,
    )
    _, accuracy = model.evaluate(
        prepare_inputs("cnn", mnist_data.x_test), mnist_data.y_test, verbose=0
    )
    path = tmp_path_factory.mktemp("model") / "cnn.keras"
    model.save(path)
    return TrainedModel(path=path, data=mnist_data, held_out_accuracy=float(accuracy))


@pytest.fixture(scope="session")
def wrong_shape_model(tmp_path_factory) -> Path:
    """A tiny valid Keras model that takes 32x32 colour images: not a digit model."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path_factory.mktemp("wrong") / "rgb32.keras"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def xvfb_display():
    """A private X server (Xvfb) on a free display number; yields ':N'."""
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian: apt install xvfb xdotool)")
    if importlib.util.find_spec("_tkinter") is None:
        pytest.skip("this Python has no tkinter (Debian: apt install python3-tk)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 30
    with os.fdopen(read_fd, "rb") as pipe:
        while time.monotonic() < deadline and not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        proc.kill()
        pytest.fail("Xvfb did not report a display number within 30 s")
    display = f":{int(number)}"
    yield display
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
