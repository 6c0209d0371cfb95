"""Probes gather facts and never judge them.

A probe returns data, or an `Unavailable` that says why it could not collect
(a typed "could not collect", not an error the caller must catch).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass


@dataclass
class Unavailable:
    """A fact that could not be collected, and why (e.g. 'permission denied: /proc/cpuinfo')."""

    reason: str

    def __str__(self) -> str:
        return f"unavailable ({self.reason})"


def value(item: object) -> object:
    """The fact itself, or None when it is `Unavailable` (the JSON's 'unknown = null')."""
    return None if isinstance(item, Unavailable) else item


def run_tool(argv: list[str], timeout: float = 10) -> str | Unavailable:
    """Run a short command (`nvcc --version`, `dot -V`, ...): its stdout and stderr, or why not.

    Tools disagree on where they print their version (Graphviz uses stderr), so the two
    streams come back together.
    """
    shown = " ".join(argv)
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Unavailable(f"`{shown}` timed out after {timeout:g} s")
    except OSError as exc:
        return Unavailable(f"cannot run {argv[0]}: {exc.strerror or exc}")
    return out.stdout + out.stderr
