"""Probes gather facts and never judge them.

A probe returns data, or an `Unavailable` that says why it could not collect
(a typed "could not collect", not an error the caller must catch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlcheck.host import processes


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
    done = processes.run(argv, timeout)
    if done.spawn_error is not None:
        return Unavailable(f"cannot run {argv[0]}: {done.spawn_error}")
    if done.timed_out:
        return Unavailable(f"`{' '.join(argv)}` timed out after {timeout:g} s")
    return done.stdout + done.stderr


def tool_version(argv: list[str], *patterns: str) -> str | Unavailable:
    """The version a tool prints: group 1 of the first pattern found in its output."""
    out = run_tool(argv)
    if isinstance(out, Unavailable):
        return out
    for pattern in patterns:
        match = re.search(pattern, out)
        if match:
            return match.group(1)
    return Unavailable(f"`{' '.join(argv)}` said: {out[:120]!r}")
