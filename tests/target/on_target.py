"""The proof's target (DLSTATION_TARGET_WORK) for the tests that run against it: their marks,
and a shell command run there as root over ssh."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WORK = os.environ.get("DLSTATION_TARGET_WORK", "")

#: A module that runs against the target: slow, and skipped where prove.sh made none.
TARGET_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (WORK and Path(WORK, "inventory").is_dir()),
        reason="needs a converged target: run tests/target/prove.sh",
    ),
]


def on_target(command: str, *, check: bool = True, timeout: float = 120) -> str:
    """Run a shell command as root on the target; return its stdout."""
    proc = subprocess.run(
        # ssh joins its arguments into one remote command line: quote it once, here.
        ["bash", str(HERE / "target.sh"), "ssh", WORK, f"sudo sh -c {shlex.quote(command)}"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"on target: {command!r} exited {proc.returncode}: {proc.stderr}")
    return proc.stdout
