"""Reading /proc and /sys under an injectable root, so tests can feed a fake tree."""

from __future__ import annotations

from pathlib import Path

from dlcheck.doctor.probes import Unavailable


def under(root: Path, path: str) -> Path:
    """'/proc/cpuinfo' under root '/tmp/x' -> /tmp/x/proc/cpuinfo."""
    return root / path.lstrip("/")


def read_text(root: Path, path: str) -> str | Unavailable:
    """The file's text, or why it could not be read (missing, permission, not a file)."""
    try:
        return under(root, path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return Unavailable(f"{path} does not exist")
    except OSError as exc:
        return Unavailable(f"cannot read {path}: {exc.strerror or type(exc).__name__}")


def read_bytes(root: Path, path: str) -> bytes | Unavailable:
    try:
        return under(root, path).read_bytes()
    except FileNotFoundError:
        return Unavailable(f"{path} does not exist")
    except OSError as exc:
        return Unavailable(f"cannot read {path}: {exc.strerror or type(exc).__name__}")
