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
