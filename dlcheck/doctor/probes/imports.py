"""Import frameworks or libraries in a child interpreter; classify how it ended.

The child runs `import_script.py` through dlcheck.host.processes: a framework that
segfaults, aborts, hangs or prints garbage becomes a result, never takes the doctor down.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dlcheck.host import processes

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
def script_source() -> str:
    return Path(__file__).with_name("import_script.py").read_text(encoding="utf-8")


def run_child(
    names: list[str],
    timeout: float,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> ChildOutcome:
    """Probe `names` (framework or library module names) in one child interpreter."""
    cmd = [python or sys.executable, "-X", "faulthandler", "-c", script_source(), *names]
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")  # keep TF's dlopen warnings visible
    child_env["PYTHONUNBUFFERED"] = "1"
    label = "+".join(names)
    done = processes.run(cmd, timeout, env=child_env)
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
        stderr_tail=processes.tail(stderr, STDERR_TAIL_LINES),
    )
    rc = done.returncode
    if timed_out:
        result.ending = TIMEOUT
        killed = done.killed_text or "it"
        result.message = (
            f"importing {label} did not finish within {timeout:g} s (hung; killed {killed})"
        )
    elif done.signal is not None:
        result.ending = SIGNAL
        result.message = f"importing {label} crashed with {done.signal}"
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


def _last_json(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return None
