"""Child-process entry: read a BenchConfig as JSON on stdin, print the result as JSON.

Used when this process already has Keras on another backend, and for the CPU half of
--compare-cpu (the GPU must be hidden before the framework starts). The last stdout
line is the result, or {"error", "hint", "exit_code"}.
"""

from __future__ import annotations

import json
import sys

from dlcheck.bench.result import BenchConfig
from dlcheck.errors import DlcheckError


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
