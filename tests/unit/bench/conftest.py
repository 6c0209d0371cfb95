"""Fixtures of the bench tests: the real MNIST test set, an isolated home, IDX writers.

The real data is the official MNIST test set next to the repository
(`../shared/data/mnist`, or $DLCHECK_TEST_MNIST_DIR). The bench's tests train on it for
real; without it they cannot say anything, so they fail instead of skipping.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated(isolated_home, monkeypatch):
    """Every bench test runs in the isolated home (tests/unit/conftest.py); a download
    attempt gives up after 5 s."""
    monkeypatch.setenv("DLCHECK_DOWNLOAD_TIMEOUT", "5")


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
