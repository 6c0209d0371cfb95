"""Run `_child.py` in a child interpreter with a timeout; classify how it ended.

A framework that segfaults, aborts, hangs or prints garbage must become a result,
never take the doctor down. The child runs in its own session so a timeout can
kill it together with anything it started.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 12

# How a child ended; stable strings used in finding codes.
OK = "ok"
SIGNAL = "signal"
TIMEOUT = "timeout"
EXIT = "exit"
NO_JSON = "no_json"
SPAWN = "spawn"


@dataclass
class ChildOutcome:
    ending: str
    message: str
    data: dict | None = None
    returncode: int | None = None
    stderr: str = ""
    duration_s: float = 0.0
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ending == OK


@lru_cache(maxsize=1)
def child_source() -> str:
    return Path(__file__).with_name("_child.py").read_text(encoding="utf-8")


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> list[str]:
    return [line for line in text.splitlines() if line.strip()][-lines:]


@dataclass
class Completed:
    """How a child process ended: output, or why there is none."""

    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    spawn_error: str | None = None


def run_process(cmd: list[str], timeout: float, env: dict[str, str]) -> Completed:
    """Run `cmd` in its own session; on timeout kill it with everything it started."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        return Completed(None, "", "", 0.0, spawn_error=str(exc.strerror or exc))
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, err = proc.communicate()
    return Completed(
        returncode=proc.returncode,
        stdout=out.decode("utf-8", errors="replace"),
        stderr=err.decode("utf-8", errors="replace"),
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
    )


def run_child(
    names: list[str],
    timeout: float,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> ChildOutcome:
    """Probe `names` (framework or library module names) in one child interpreter."""
    cmd = [python or sys.executable, "-X", "faulthandler", "-c", child_source(), *names]
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")  # keep TF's dlopen warnings visible
    child_env["PYTHONUNBUFFERED"] = "1"
    label = "+".join(names)
    done = run_process(cmd, timeout, child_env)
    if done.spawn_error is not None:
        return ChildOutcome(SPAWN, f"could not start {cmd[0]}: {done.spawn_error}")
    stdout, stderr, timed_out = done.stdout, done.stderr, done.timed_out
    log.debug("child %s: rc=%s in %.2fs", label, done.returncode, done.duration_s)
    result = ChildOutcome(
        ending=OK,
        message="",
        returncode=done.returncode,
        stderr=stderr,
        duration_s=done.duration_s,
        stderr_tail=tail(stderr),
    )
    rc = done.returncode
    if timed_out:
        result.ending = TIMEOUT
        result.message = f"importing {label} did not finish within {timeout:g} s (hung; killed)"
    elif rc is not None and rc < 0:
        result.ending = SIGNAL
        result.message = f"importing {label} crashed with {signal_name(-rc)}"
    elif rc != 0:
        result.ending = EXIT
        result.message = f"the probe for {label} exited with status {rc}"
    else:
        data = _last_json(stdout)
        if data is None:
            result.ending = NO_JSON
            shown = stdout.strip()[-200:] or "nothing"
            result.message = f"the probe for {label} printed no JSON (got: {shown!r})"
        else:
            result.data = data
    return result


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # our child's own session (start_new_session)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} (signal {number})"
    except ValueError:
        return f"signal {number}"


def _last_json(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return None
