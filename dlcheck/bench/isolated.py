"""A bench run in a fresh interpreter: the launcher, and the entry point it starts.

Used when this process already has Keras on another backend, and for the CPU half of
--compare-cpu (the GPU must be hidden before the framework starts). The child reads a
BenchConfig as JSON on stdin; its last stdout line is the result, or
{"error", "hint", "exit_code"}. It runs through dlcheck.host.processes, so a hung
framework is killed at the deadline with everything it started.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict

from dlcheck.bench.result import BenchConfig, BenchResult
from dlcheck.errors import DlcheckError
from dlcheck.host import processes

log = logging.getLogger(__name__)

#: a hung framework must not hang dlcheck forever
TIMEOUT_S = 4 * 3600


def run_isolated(cfg: BenchConfig, extra_env: dict[str, str] | None = None) -> BenchResult:
    """Run the bench in a fresh interpreter (clean Keras backend, optional hidden GPU)."""
    env = {**os.environ, **(extra_env or {})}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    log.info("running the bench in a child process (%s)", extra_env or "same environment")
    done = processes.run(
        [sys.executable, "-m", "dlcheck.bench.isolated"],
        TIMEOUT_S,
        env=env,
        input=json.dumps(asdict(cfg)),
    )
    log.debug("child stderr:\n%s", done.stderr)
    if done.timed_out:
        raise DlcheckError(f"training in the child process ran past {TIMEOUT_S}s (killed)")
    try:
        doc = json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        ending = done.signal or f"exit {done.returncode}"
        last = (processes.tail(done.stderr, 1) or [done.spawn_error or "no output"])[-1]
        raise DlcheckError(
            f"training in the child process died ({ending}): {last}",
            hint="run with -vv to see the child's output",
        ) from None
    if "error" in doc:
        err = DlcheckError(doc["error"], doc.get("hint"))
        err.exit_code = int(doc.get("exit_code", 1))
        raise err
    return BenchResult.from_dict(doc)


def main() -> int:
    from dlcheck.bench.runner import run_bench

    cfg = BenchConfig(**json.loads(sys.stdin.read()))
    try:
        result = run_bench(cfg)
    except DlcheckError as exc:
        doc = {"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}
        print(json.dumps(doc))
        return 0
    print(json.dumps(result.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
