"""Plain helpers for the hostile-input tests (fixtures are in conftest.py)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dlcheck.cli import main

#: the unprivileged user the permission tests run as (root reads everything)
NOBODY = 65534


def assert_clean_failure(result: Any, exit_code: int, *phrases: str) -> None:
    """The exit code, a message naming the problem, and no traceback anywhere.

    `result` is Click's (stdout and stderr together in .output) or a finished subprocess.
    """
    if isinstance(result, subprocess.CompletedProcess):
        text, code = result.stdout + result.stderr, result.returncode
    else:
        text, code = result.output, result.exit_code
    assert code == exit_code, text
    for phrase in phrases:
        assert phrase in text, text
    assert "Traceback" not in text
    assert "internal error" not in text


def fill_disk(folder: Path) -> None:
    """Write a file into `folder` until its filesystem has no block left."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)


def doctor_report(**changes: Any) -> dict[str, Any]:
    """A real doctor report of this machine (`doctor host --json`), with `changes` applied:
    hostname=..., message=... (the host check's first finding)."""
    result = CliRunner().invoke(main, ["doctor", "host", "--json"])
    doc = json.loads(result.stdout)
    if "hostname" in changes:
        doc["host"]["hostname"] = changes["hostname"]
    if "message" in changes:
        check = doc["checks"][0]
        check["status"] = doc["status"] = "fail"
        check["findings"] = [
            {"status": "fail", "code": "x", "message": changes["message"], "hint": "fix it"}
        ]
    return doc


def run_as_nobody(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m dlcheck ARGS` as an unprivileged user (skips if that is impossible)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("running as another user needs root and setpriv")
    cmd = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    env = {**os.environ, "HOME": "/nonexistent", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [*cmd, sys.executable, "-m", "dlcheck", *args],
        capture_output=True,
        text=True,
        cwd=cwd or "/",
        env=env,
        timeout=300,
        check=False,
    )


def run_shell(script: str, **env: str) -> subprocess.CompletedProcess:
    """Run a shell line where the shell matters (pipes, closed descriptors);
    $DLCHECK in it is this interpreter's dlcheck."""
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "DLCHECK": f"{sys.executable} -m dlcheck", **env},
        timeout=600,
        check=False,
    )
