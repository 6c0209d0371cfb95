"""Group 3 for the bench: a model, its copy as draw's default model and the plot are
replaced whole or not at all when the disk fills. Real training, in a child process
(so that this process never loads Keras with one backend or another)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from hostile_helpers import assert_clean_failure, fill_disk

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs Keras"),
]

OLD = b"the previous, good model"
SYNTHETIC = ["--synthetic", "--limit", "64", "--epochs", "1", "--batch-size", "64"]


def bench(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlcheck", "bench", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_model_save_on_a_full_disk_keeps_the_old_model(full_disk):
    target = full_disk / "m.keras"
    target.write_bytes(OLD)
    result = bench(*SYNTHETIC, "--save", target)
    assert_clean_failure(result, 1, f"cannot write model {target}", "No space left on device")
    assert target.read_bytes() == OLD
    assert [p.name for p in full_disk.iterdir()] == ["m.keras"]


def test_plot_on_a_full_disk_keeps_the_old_plot(full_disk):
    target = full_disk / "curves.png"
    target.write_bytes(OLD)
    fill_disk(full_disk)
    result = bench(*SYNTHETIC, "--plot", target)
    assert_clean_failure(result, 1, f"cannot write plot {target}", "No space left on device")
    assert target.read_bytes() == OLD


def test_default_model_on_a_full_disk_keeps_the_old_default(
    full_disk, tmp_path, monkeypatch, mnist_dir
):
    """The model is saved where asked; its copy as draw's default (last.keras) fails on
    the full disk: a warning, and the previous default is left whole."""
    monkeypatch.setenv("XDG_DATA_HOME", str(full_disk))
    last = full_disk / "dlcheck" / "models" / "last.keras"
    last.parent.mkdir(parents=True)
    last.write_bytes(OLD)
    saved = tmp_path / "m.keras"
    result = bench("--data", mnist_dir, "--epochs", "1", "--save", saved, "-v")
    assert result.returncode == 0, result.stderr
    assert saved.stat().st_size > len(OLD)
    assert f"could not copy it to {last}" in result.stderr
    assert last.read_bytes() == OLD
    assert [p.name for p in last.parent.iterdir()] == ["last.keras"]
