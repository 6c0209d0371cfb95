"""The overhead baseline: the guide's dense MNIST network in plain Keras, nothing else.

It trains the way the workstation guide does: flatten to 784 floats in [0, 1], one-hot
labels, Dense(512, relu) -> Dense(10, softmax), rmsprop, categorical cross-entropy,
batch 128. The only additions are a per-epoch timer and a JSON line at the end, so that
benchmarks/bench_overhead.py can compare it with `dlcheck bench` on equal terms.

Data: Keras's mnist.npz when it is cached; otherwise `--idx-dir` with the official
MNIST test set (t10k IDX files), of which the first `--n-train` images are used for
training and the rest for the final evaluation.

    python benchmarks/plain_keras_mlp.py --idx-dir ../shared/data/mnist --epochs 5
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time

import numpy as np


def read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(idx_dir: str | None, n_train: int):
    cache = os.path.expanduser("~/.keras/datasets/mnist.npz")
    if idx_dir is None and os.path.exists(cache):
        from keras.datasets import mnist

        return mnist.load_data()
    if idx_dir is None:
        raise SystemExit("no ~/.keras/datasets/mnist.npz: pass --idx-dir with the t10k files")
    x = read_idx(os.path.join(idx_dir, "t10k-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(idx_dir, "t10k-labels-idx1-ubyte.gz"))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idx-dir")
    ap.add_argument("--n-train", type=int, default=8000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity (guide: 1)")
    args = ap.parse_args()

    import keras
    from keras import layers, models
    from keras.utils import to_categorical

    (train_images, train_labels), (test_images, test_labels) = load(args.idx_dir, args.n_train)
    train_images = train_images.reshape((len(train_images), 28 * 28)).astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 28 * 28)).astype("float32") / 255
    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    network = models.Sequential()
    network.add(keras.Input(shape=(28 * 28,)))
    network.add(layers.Dense(512, activation="relu"))
    network.add(layers.Dense(10, activation="softmax"))
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

    seconds: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.t0)

    network.fit(
        train_images,
        train_labels,
        epochs=args.epochs,
        batch_size=128,
        verbose=args.verbose,
        callbacks=[Timer()],
    )
    test_loss, test_acc = network.evaluate(test_images, test_labels, verbose=0)
    steady = seconds[1:] or seconds
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "n_train": len(train_images),
                "epoch_seconds": seconds,
                "samples_per_s": len(train_images) * len(steady) / sum(steady),
                "test_accuracy": float(test_acc),
            }
        )
    )


if __name__ == "__main__":
    main()
