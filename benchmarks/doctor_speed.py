#!/usr/bin/env python3
"""How long `dlcheck doctor` takes, side by side with its peers (run by hand).

Runs each command N times, alternating (a b c d a b c d ...) so that load on a
shared machine hits all of them alike, and prints medians and the ratios the
issue sets as targets:

  full doctor, cold        <= 1.3 x  python -c "import tensorflow"
  doctor --no-frameworks   <  1 s
  full doctor              vs  python -m torch.utils.collect_env (a peer; no target)

Usage: .venv/bin/python benchmarks/doctor_speed.py [-n 5] [--tf-only] [--json results.json]
"Cold" means a fresh process each time: no state is kept between runs. The OS
page cache is warm after the first round, as it is for a user who runs it twice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def commands(python: str) -> dict[str, list[str]]:
    return {
        "import tensorflow": [python, "-c", "import tensorflow"],
        "doctor --json": [python, "-m", "dlcheck", "doctor", "--json"],
        "doctor --no-frameworks --json": [
            python,
            "-m",
            "dlcheck",
            "doctor",
            "--no-frameworks",
            "--json",
        ],
        "torch collect_env": [python, "-m", "torch.utils.collect_env"],
    }


def hidden_frameworks_site() -> str:
    """A PYTHONPATH dir whose torch and jax fail at once: times the doctor as in a
    TensorFlow-only venv (what the playbook provisions) without a second venv."""
    site = tempfile.mkdtemp(prefix="doctor-speed-")
    for name in ("torch", "jax"):
        os.makedirs(os.path.join(site, name))
        with open(os.path.join(site, name, "__init__.py"), "w", encoding="utf-8") as f:
            f.write("raise ImportError('hidden by benchmarks/doctor_speed.py')\n")
    return site


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user+sys of the command and every child it waited
    for: load on the machine stretches the wall time, much less the CPU time), exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="repetitions of each command (default 5)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the venv to test")
    parser.add_argument("--json", dest="json_path", help="also write the raw timings here")
    parser.add_argument(
        "--tf-only",
        action="store_true",
        help="also time the doctor with torch and jax hidden (as in a TensorFlow-only venv)",
    )
    args = parser.parse_args()
    cmds = commands(args.python)
    envs: dict[str, dict[str, str] | None] = {name: None for name in cmds}
    if args.tf_only:
        name = "doctor --json (tf-only venv)"
        cmds[name] = cmds["doctor --json"]
        envs[name] = dict(os.environ, PYTHONPATH=hidden_frameworks_site())
    wall: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    codes: dict[str, set[int]] = {name: set() for name in cmds}
    load_before = os.getloadavg()
    for round_no in range(args.n):
        for name, cmd in cmds.items():
            elapsed, used, rc = run_once(cmd, envs[name])
            wall[name].append(elapsed)
            cpu[name].append(used)
            codes[name].add(rc)
        shown = ", ".join(f"{k} {v[-1]:.2f}s" for k, v in wall.items())
        print(f"round {round_no + 1}/{args.n}: {shown}", file=sys.stderr)
    load_after = os.getloadavg()
    med = {name: statistics.median(v) for name, v in wall.items()}
    med_cpu = {name: statistics.median(v) for name, v in cpu.items()}
    print(
        f"\nhost: {platform.node()}, {os.cpu_count()} CPUs, load average {load_before[0]:.2f} "
        f"before, {load_after[0]:.2f} after; N={args.n} alternating rounds, medians"
    )
    print(f"{'command':<31} {'wall s':>7} {'min':>6} {'max':>6} {'CPU s':>6}  exit codes")
    for name, values in wall.items():
        print(
            f"{name:<31} {med[name]:>7.2f} {min(values):>6.2f} {max(values):>6.2f} "
            f"{med_cpu[name]:>6.2f}  {sorted(codes[name])}"
        )
    tf, full = med["import tensorflow"], med["doctor --json"]
    fast, peer = med["doctor --no-frameworks --json"], med["torch collect_env"]
    # Runs of one round share the machine's load: their ratio is the steadier number.
    paired = statistics.median(
        d / t for d, t in zip(wall["doctor --json"], wall["import tensorflow"], strict=True)
    )
    verdict = "OK" if full / tf <= 1.3 else "MISSED"
    print()
    print(f"doctor / import tensorflow  = {full / tf:.2f} (target <= 1.3: {verdict}); ", end="")
    print(f"median of per-round ratios {paired:.2f}")
    fast_ok = "OK" if fast < 1 else "MISSED"
    print(f"doctor --no-frameworks      = {fast:.2f} s (target < 1 s: {fast_ok})")
    print(f"doctor / torch collect_env  = {full / peer:.2f}")
    if args.tf_only:
        only = med["doctor --json (tf-only venv)"]
        print(f"doctor (tf-only) / import tf = {only / tf:.2f}")
    cpu_ratio = med_cpu["doctor --json"] / med_cpu["import tensorflow"]
    print(
        f"CPU time doctor / import tf = {cpu_ratio:.2f} (all children; on idle cores they overlap)"
    )
    if args.json_path:
        doc = {"n": args.n, "wall_s": wall, "cpu_s": cpu, "load": [load_before, load_after]}
        with open(args.json_path, "w", encoding="utf-8") as out:
            json.dump(doc, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
