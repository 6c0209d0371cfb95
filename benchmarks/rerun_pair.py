"""Re-runs with nothing to do, two trees side by side on one converged target.

The re-run goal of issue 13 (< 10 s) is judged on a host that the playbook has already
converged. This alternates `ansible-playbook playbooks/site.yml` from each tree given
(this repository, or e.g. a `git worktree` of an older commit) on the same target, so
that both see the same host and the same load, and prints each tree's median, spread,
and the ratio of the medians. Every counted run must report changed=0; every tree
installs dlcheck from this repository, so that the trees do not swap its wheel.

    bash tests/target/target.sh up /tmp/rr          # a fresh target
    python3 tests/target/extra_vars.py --repo . --ca-bundle CA > /tmp/rr/extra-vars.yml
    ansible-playbook -i /tmp/rr/inventory playbooks/site.yml -e @/tmp/rr/extra-vars.yml
    .venv/bin/python benchmarks/rerun_pair.py --target /tmp/rr --tree ../old --tree . --rounds 5
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def rerun(tree: Path, target: Path, counted: bool = True) -> tuple[float, str]:
    """One converge from `tree`; (seconds, its recap line). Counted: fails unless changed=0."""
    env = {
        **os.environ,
        "PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
        "ANSIBLE_CONFIG": str(tree / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
    }
    argv = ["ansible-playbook", "-i", str(target / "inventory"), "playbooks/site.yml"]
    argv += ["-e", f"@{target / 'extra-vars.yml'}", "-e", f"dlcheck_source_dir={REPO}"]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    recap = RECAP.search(proc.stdout)
    if proc.returncode != 0 or not recap or (counted and recap.group(2) != "0"):
        sys.exit(f"{tree}: not a re-run with nothing to do:\n{proc.stdout[-2000:]}")
    return seconds, recap.group(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=Path, required=True, help="a target.sh work folder")
    parser.add_argument("--tree", type=Path, action="append", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trees = [t.resolve() for t in args.tree]
    times: dict[Path, list[float]] = {t: [] for t in trees}
    for tree in trees:  # a first run each, not counted: it may still settle the host
        rerun(tree, args.target, counted=False)
    for n in range(args.rounds):
        order = trees if n % 2 == 0 else trees[::-1]
        for tree in order:
            seconds, recap = rerun(tree, args.target)
            times[tree].append(seconds)
            print(f"round {n + 1}  {tree}  {seconds:6.1f} s  {recap}", flush=True)
    print()
    for tree in trees:
        t = times[tree]
        print(f"{tree}: median {statistics.median(t):.1f} s (min {min(t):.1f}, max {max(t):.1f})")
    if len(trees) == 2:
        a, b = (statistics.median(times[t]) for t in trees)
        print(f"ratio of the medians, second / first: {b / a:.2f}")


if __name__ == "__main__":
    main()
