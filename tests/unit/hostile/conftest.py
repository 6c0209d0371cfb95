"""Fixtures for hostile input: a full disk, a FIFO, a CLI run with stderr kept apart."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlcheck.cli import main


@pytest.fixture(autouse=True)
def _isolated(isolated_home):
    """Every hostile-input test runs in the isolated home (tests/unit/conftest.py)."""


@pytest.fixture
def cli():
    """Invoke `dlcheck ARGS...` in-process; stdout and stderr are kept apart."""
    runner = CliRunner()

    def invoke(*args: object, **kwargs: object):
        return runner.invoke(main, [str(a) for a in args], **kwargs)

    return invoke


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs mounted for the test: writes past 64 KiB fail with ENOSPC."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.fixture
def fifo(tmp_path) -> Path:
    """A named pipe nobody writes to: opening it for reading would block forever."""
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path
