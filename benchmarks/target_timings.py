"""The proof's timings on fresh targets, and the floor they are judged against.

Each round makes two equally fresh targets from scratch (no cached rootfs), of the release
DLSTATION_TARGET_RELEASE names (debian-12 by default; Ubuntu's need DLSTATION_UBUNTU_MIRROR):

- **playbook**: tests/target/prove.sh without the fault tests, timing: make the target,
  first converge, second converge (every role run: dlstation_converge_reuse=false), check
  mode, a plain re-run with nothing to do, testinfra; plus the bytes apt and pip downloaded
  during the first converge, and the bytes this machine received meanwhile (uv's too);
- **floor**: the same apt and pip installs run directly over SSH on the other target: one
  `apt-get install` of every package the playbook left marked manual, one `pip install`
  of the venv's frozen distributions (dlcheck itself left out), with the same CA setup.

Rounds alternate which of the two goes first, so that a warm network cache or a busy
spell on a shared machine does not favour one side; the table shows medians. Goals
(issue 13): first converge <= 1.0 x floor; a re-run with nothing to do < 10 s.

    sudo .venv/bin/python benchmarks/target_timings.py --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "tests" / "target"
STEPS = ["make_target", "first_converge", "second_converge", "check_mode", "rerun", "testinfra"]


def _env() -> dict[str, str]:
    bindir = str(REPO / ".venv" / "bin")
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "DLSTATION_TARGET_CACHE": "off"}


def _bytes(path: Path) -> dict[str, int]:
    pairs = (ln.split("=", 1) for ln in path.read_text().split() if "=" in ln)
    return {k: int(v) for k, v in pairs}


def playbook_round(workroot: Path) -> dict:
    work = workroot / "playbook"
    timings = work / "timings.tsv"
    work.mkdir(parents=True)
    env = {
        **_env(),
        "DLSTATION_TARGET_WORK": str(work),
        "DLSTATION_PROVE_FAULTS": "0",
        "DLSTATION_PROVE_TIMINGS": str(timings),
        "DLSTATION_PROVE_MEASURE": str(work / "measure"),
    }
    log = work / "prove.log"
    with log.open("w") as f:
        rc = subprocess.run(
            ["bash", str(TARGET / "prove.sh")], env=env, stdout=f, stderr=subprocess.STDOUT
        ).returncode
    if rc != 0:
        sys.exit(f"prove.sh failed (exit {rc}); see {log}")
    times = {}
    for line in timings.read_text().splitlines():
        name, seconds = line.split("\t")
        times[name] = float(seconds)
    measure = work / "measure"
    return {
        "times": times,
        "tasks": task_times(work / "logs" / "converge-1.log"),
        "bytes": _bytes(measure / "bytes.env"),
        "apt": (measure / "apt-manual.txt").read_text().split(),
        "pip": [
            ln
            for ln in (measure / "pip-freeze.txt").read_text().splitlines()
            # dlcheck is this repository (a local wheel); pip, setuptools come with the venv;
            # uv is the playbook's installer, not something it installs for its users.
            if ln and not ln.startswith(("dlcheck", "pip=", "setuptools=", "uv="))
        ],
    }


def task_times(log: Path) -> dict[str, float]:
    """Per-task seconds from profile_tasks' TASKS RECAP ("role : Task ---- 4.13s")."""
    text = log.read_text(errors="replace")
    recap = text.split("TASKS RECAP", 1)[-1] if "TASKS RECAP" in text else ""
    times: dict[str, float] = {}
    for m in re.finditer(r"^(.+?) -{2,} (\d+\.\d+)s\s*$", recap, re.MULTILINE):
        times[m[1].strip()] = times.get(m[1].strip(), 0.0) + float(m[2])
    return times


def _ssh(work: Path, command: str) -> None:
    remote = f"sudo sh -c {shlex.quote(command)}"
    subprocess.run(["bash", str(TARGET / "target.sh"), "ssh", str(work), remote], check=True)


def _net_rx() -> int:
    """Bytes this machine has received (tests/target/measure.sh net-rx)."""
    cmd = ["bash", str(TARGET / "measure.sh"), "net-rx"]
    return int(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def floor_round(workroot: Path, apt: list[str], pip: list[str], ca_bundle: str) -> dict:
    work = workroot / "floor"
    work.mkdir(parents=True)
    env = _env()
    times: dict[str, float] = {}
    t0 = time.monotonic()
    subprocess.run(["bash", str(TARGET / "target.sh"), "up", str(work)], env=env, check=True)
    times["make_target"] = time.monotonic() - t0
    try:
        subprocess.run(
            ["bash", str(TARGET / "measure.sh"), "pip-log", str(work / "rootfs")], check=True
        )
        (work / "rootfs/usr/local/share/ca-certificates").mkdir(parents=True, exist_ok=True)
        ca = Path(ca_bundle).read_bytes()
        (work / "rootfs/usr/local/share/ca-certificates/dlstation-ca.crt").write_bytes(ca)
        # WORK/tmp is the target's /tmp.
        (work / "tmp" / "requirements.txt").write_text("\n".join(pip) + "\n")
        rx0 = _net_rx()
        t0 = time.monotonic()
        _ssh(
            work,
            "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && "
            "apt-get dist-upgrade -y -q && "
            f"apt-get install -y -q --no-install-recommends {' '.join(apt)} >/dev/null && "
            "update-ca-certificates >/dev/null",
        )
        times["apt"] = time.monotonic() - t0
        t0 = time.monotonic()
        _ssh(
            work,
            "python3 -m venv /opt/floor/venv && "
            "/opt/floor/venv/bin/pip install -q --progress-bar off "
            "--cert /etc/ssl/certs/ca-certificates.crt -r /tmp/requirements.txt",
        )
        times["pip"] = time.monotonic() - t0
        times["first_converge"] = times["apt"] + times["pip"]
        rx = str(_net_rx() - rx0)
        measure = work / "measure"
        subprocess.run(
            ["bash", str(TARGET / "measure.sh"), str(work), str(measure), "/opt/floor/venv", rx],
            check=True,
        )
        return {"times": times, "bytes": _bytes(measure / "bytes.env")}
    finally:
        subprocess.run(["bash", str(TARGET / "target.sh"), "down", str(work)], check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", str(work / "rootfs")], check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument(
        "--ca-bundle",
        default=os.environ.get("PIP_CERT")
        or os.environ.get("SSL_CERT_FILE")
        or "/etc/ssl/certs/ca-certificates.crt",
    )
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = ap.parse_args()

    rounds = []
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for i in range(args.rounds):
        root = Path(tempfile.mkdtemp(prefix="dlstation-bench.", dir="/tmp"))
        play_first = i % 2 == 0
        print(f"round {i + 1}/{args.rounds} ({'playbook' if play_first else 'floor'} first)")
        try:
            if play_first:
                playbook = playbook_round(root)
                floor = floor_round(root, playbook["apt"], playbook["pip"], args.ca_bundle)
            else:
                # The floor needs the playbook's package lists: take the previous round's.
                prev = rounds[-1]["playbook"]
                floor = floor_round(root, prev["apt"], prev["pip"], args.ca_bundle)
                playbook = playbook_round(root)
        except SystemExit:
            # A failed proof ends the bench; the rounds done so far are kept.
            if rounds:
                partial = args.out / f"target-timings-{stamp}-partial.json"
                partial.write_text(json.dumps({"rounds": rounds}, indent=2))
                print(f"rounds done before the failure: {partial}")
            raise
        rounds.append({"playbook": playbook, "floor": floor})

    def med(side: str, key: str, sub: str = "times") -> float:
        return statistics.median(r[side][sub].get(key, float("nan")) for r in rounds)

    release = os.environ.get("DLSTATION_TARGET_RELEASE", "debian-12")
    print(f"\n{release}: medians of {len(rounds)} round(s), seconds (fresh targets, no cache)")
    print(f"{'step':<18}{'playbook':>10}{'floor':>10}")
    for step in STEPS:
        floor = med("floor", step) if step in ("make_target", "first_converge") else None
        print(f"{step:<18}{med('playbook', step):>10.1f}" + (f"{floor:>10.1f}" if floor else ""))
    print(f"{'  floor: apt':<18}{'':>10}{med('floor', 'apt'):>10.1f}")
    print(f"{'  floor: pip':<18}{'':>10}{med('floor', 'pip'):>10.1f}")
    ratio = med("playbook", "first_converge") / med("floor", "first_converge")
    print(f"first converge / floor = {ratio:.2f} (goal <= 1.0)")
    print(f"re-run with nothing to do = {med('playbook', 'rerun'):.1f} s (goal < 10 s)")
    for key in ("apt_deb_bytes", "pip_download_bytes", "net_rx_bytes"):
        pb, fl = med("playbook", key, "bytes"), med("floor", key, "bytes")
        print(f"{key:<18}{pb / 1e6:>9.1f}M{fl / 1e6:>9.1f}M")
    # measure.sh counts what pip logged; uv (the playbook's installer) keeps no such log, so
    # the playbook's figure is what pip downloaded there: uv itself. net_rx_bytes counts
    # everything, protocol overhead and anything else this machine received meanwhile.
    print("  (pip_download_bytes: pip's downloads only; the playbook's uv logs none)")
    print("  (net_rx_bytes: all this machine received during the first converge, uv's too)")

    tasks = rounds[-1]["playbook"]["tasks"]
    if tasks:
        top = sorted(tasks.items(), key=lambda kv: -kv[1])[:10]
        print(f"first converge: {len(tasks)} tasks, {sum(tasks.values()):.1f} s in tasks; slowest:")
        for name, seconds in top:
            print(f"  {seconds:6.1f}  {name}")

    out = args.out / f"target-timings-{stamp}.json"
    out.write_text(json.dumps({"rounds": rounds, "ratio": ratio}, indent=2))
    print(f"raw: {out}")


if __name__ == "__main__":
    main()
