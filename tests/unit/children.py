"""Helpers for the tests that start a long-running child (node_exporter, Chromium)."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen) -> None:
    """End a child the test started: politely, then by force if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
