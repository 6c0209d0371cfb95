"""What the bench scripts share: where the data is, and running a command for its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist"


def run_json(cmd: list[str]) -> dict:
    """Run `cmd` (quiet TensorFlow) and return the JSON it printed; exit with its stderr if none."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        sys.exit(f"{' '.join(cmd)} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
