"""Fixtures of the bench tests: the real MNIST test set, an isolated home, IDX writers.

The real data is the official MNIST test set next to the repository
(`../shared/data/mnist`, or $DLCHECK_TEST_MNIST_DIR). The bench's tests train on it for
real; without it they cannot say anything, so they fail instead of skipping.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No user data leaks in: empty HOME, Keras cache and XDG dirs; downloads go nowhere."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("DLCHECK_DATA", raising=False)
    # Port 9 (discard) on loopback is closed here: a download attempt fails at once.
    monkeypatch.setenv("DLCHECK_MNIST_URL", "http://127.0.0.1:9/mnist.npz")
    monkeypatch.setenv("DLCHECK_DOWNLOAD_TIMEOUT", "5")
    return home


@pytest.fixture(scope="session")
def real_split(mnist_dir):
    from dlcheck.bench.data import load_mnist

    return load_mnist(mnist_dir, allow_download=False)


@pytest.fixture
def small_npz(tmp_path, real_split):
    """A valid mnist.npz made of real images: 600 train / 200 test."""
    import numpy as np

    def make(name: str = "mnist.npz", n_train: int = 600, directory: Path | None = None) -> Path:
        d = directory or tmp_path
        d.mkdir(parents=True, exist_ok=True)
        path = d / name
        np.savez(
            path,
            x_train=real_split.x_train[:n_train],
            y_train=real_split.y_train[:n_train],
            x_test=real_split.x_test[:200],
            y_test=real_split.y_test[:200],
        )
        return path

    return make
