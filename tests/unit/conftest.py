"""Fixtures every unit-test folder shares."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The official MNIST test set lives next to the repository (CI puts shared/ beside the
# clone); $DLCHECK_TEST_MNIST_DIR points elsewhere.
MNIST_DIR = Path(
    os.environ.get("DLCHECK_TEST_MNIST_DIR") or (REPO.parent / "shared" / "data" / "mnist")
).resolve()


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST test set. Tests that train on it cannot say anything without it,
    so they fail rather than skip."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"real MNIST test set not found at {MNIST_DIR}; set $DLCHECK_TEST_MNIST_DIR")
    return MNIST_DIR


@pytest.fixture
def isolated_home(tmp_path, monkeypatch) -> Path:
    """No user data in or out: an empty HOME, Keras cache and XDG dirs; no download.
    Folders whose tests touch user data make it autouse in their conftest."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("DLCHECK_DATA", raising=False)
    # Port 9 (discard) on loopback is closed here: a download attempt fails at once.
    monkeypatch.setenv("DLCHECK_MNIST_URL", "http://127.0.0.1:9/mnist.npz")
    return home
