"""Probes gather facts and never judge them.

A probe returns data, or an `Unavailable` that says why it could not collect
(a typed "could not collect", not an error the caller must catch).
"""

from __future__ import annotations

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
