"""Small helpers for tests that talk to the host through any testinfra backend."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

# One shell argument may hold at most 128 KiB (MAX_ARG_STRLEN); stay well below.
_CHUNK = 64 * 1024


def run_ok(host, command: str, *args: str):
    """Run a command on the host; fail with its output unless it exits 0."""
    result = host.run(command, *args)
    assert result.rc == 0, (
        f"`{result.command}` exited {result.rc}\n"
        f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
    )
    return result


def copy_to_host(host, src: Path, dest: str) -> None:
    """Copy a small file to the host through commands only, so every backend can do it
    (ssh, ansible, docker, local); the copy is checked by its sha256."""
    data = src.read_bytes()
    text = base64.b64encode(data).decode("ascii")
    run_ok(host, "rm -f %s.b64", dest)
    for i in range(0, len(text), _CHUNK):
        run_ok(host, "printf %s %s >> %s.b64", "%s", text[i : i + _CHUNK], dest)
    run_ok(host, "base64 -d %s.b64 > %s && rm -f %s.b64", dest, dest, dest)
    remote = host.check_output("sha256sum %s", dest).split()[0]
    assert remote == hashlib.sha256(data).hexdigest(), f"copy of {src} to {dest} is corrupt"
