"""A bench run in a fresh interpreter: the launcher, and the two ends of its wire format.

Used when this process already has Keras on another backend, and for the CPU half of
--compare-cpu (the GPU must be hidden before the framework starts). The fresh interpreter
runs ENTRY (dlcheck/bench/__main__.py), which reads a BenchConfig as JSON on stdin and
prints `reply()` as its last stdout line: the result, or {"error", "hint", "exit_code"}.
It runs through dlcheck.host.processes, so a hung framework is killed at the deadline
with everything it started.

The dependency goes one way: dlcheck.bench.runner imports this launcher; the entry point
imports both. This module never imports the runner.
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
#: the module the fresh interpreter runs (`python -m dlcheck.bench`)
ENTRY = "dlcheck.bench"


def run_isolated(cfg: BenchConfig, extra_env: dict[str, str] | None = None) -> BenchResult:
    """Run the bench in a fresh interpreter (clean Keras backend, optional hidden GPU)."""
    env = {**os.environ, **(extra_env or {})}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    log.info("running the bench in a child process (%s)", extra_env or "same environment")
    done = processes.run(
        [sys.executable, "-m", ENTRY],
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


def reply(outcome: BenchResult | DlcheckError) -> str:
    """The entry point's last stdout line: what run_isolated() reads back."""
    if isinstance(outcome, DlcheckError):
        doc = {"error": outcome.message, "hint": outcome.hint, "exit_code": outcome.exit_code}
        return json.dumps(doc)
    return json.dumps(outcome.to_dict())
