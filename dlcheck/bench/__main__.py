"""The entry point of a bench run in a fresh interpreter: `python -m dlcheck.bench`.

dlcheck.bench.isolated starts it: a BenchConfig as JSON on stdin; the result, or the
DlcheckError that stopped the run, as the last line on stdout (isolated.reply()). It
exits 0 either way: the launcher judges the run by that line, not by the exit status.
"""

from __future__ import annotations

import json
import sys

from dlcheck.bench.isolated import reply
from dlcheck.bench.result import BenchConfig, BenchResult
from dlcheck.bench.runner import run_bench
from dlcheck.errors import DlcheckError


def main() -> int:
    cfg = BenchConfig(**json.loads(sys.stdin.read()))
    outcome: BenchResult | DlcheckError
    try:
        outcome = run_bench(cfg)
    except DlcheckError as exc:
        outcome = exc
    print(reply(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
