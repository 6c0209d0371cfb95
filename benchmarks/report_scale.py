"""How fleet verification scales: `dlcheck report` on 1,000 hosts, verify.yml on 1, 2, 4 targets.

    .venv/bin/python benchmarks/report_scale.py [--hosts 1000] [--runs 5] [--out DIR]
    sudo .venv/bin/python benchmarks/report_scale.py --verify-targets 1,2,4 [--runs 3]

Writes a fleet the way verify.yml would (one doctor report per host, a verify-run.json
index with groups, stubs for unreachable hosts) plus a bench report for half the hosts,
then times the real command (`python -m dlcheck report`, a fresh process each run, so
start-up is included) and prints the median and spread of each mode side by side, with
the HTML page's size. The target is under 2 s per mode at 1,000 hosts.

With --verify-targets, it also starts that many fresh isolated Debian hosts with the
fresh-target harness (tests/target/target.sh: a chroot in its own namespaces, sshd on a
loopback port; needs root), puts dlcheck on each (the package and its two runtime
dependencies copied in, instead of a full `site.yml` converge), and times
`ansible-playbook playbooks/verify.yml` over the first 1, 2, 4... of them. With forks >=
hosts the wall time should stay nearly flat. The targets are always torn down.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SH = REPO / "tests" / "target" / "target.sh"

GIB = 2**30
GROUPS = [f"lab{i}" for i in range(10)]
GPUS = ["NVIDIA GeForce RTX 4090", "NVIDIA RTX A6000", "NVIDIA A100-SXM4-80GB"]


def _doctor(rng: random.Random, name: str) -> dict:
    """A doctor report shaped like the real one, with the odd host out here and there."""
    odd = rng.random()
    n_gpus = rng.choice([0, 1, 1, 1, 2, 4])
    gpus = [
        {
            "index": i,
            "name": rng.choice(GPUS) if odd < 0.05 else GPUS[0],
            "uuid": f"GPU-{rng.getrandbits(64):016x}",
            "memory_total_bytes": 24 * GIB,
            "memory_used_bytes": int(rng.uniform(0.2, 23.5) * GIB),
            "temperature_c": rng.randint(30, 90),
            "power_w": rng.uniform(30, 400),
            "pcie_gen": 4,
            "pcie_gen_max": 4,
            "pcie_width": 8 if odd < 0.03 else 16,
            "pcie_width_max": 16,
        }
        for i in range(n_gpus)
    ]
    failing = odd > 0.97
    checks = {
        "host": {
            "os": "Debian GNU/Linux 12 (bookworm)",
            "kernel": "6.1.0-18-amd64" if odd > 0.1 else "6.1.0-13-amd64",
            "cpu_model": "AMD Ryzen 9 7950X",
            "cpu_cores_logical": 32,
            "ram_bytes": 64 * GIB,
            "python": "3.11.2",
            "simd": ["avx2", "fma", "avx512f"],
        },
        "gpu": {
            "driver_version": "550.54.14" if odd > 0.04 else "535.161.08",
            "cuda_driver_version": "12.4",
            "gpus": gpus,
        },
        "cuda": {
            "nvcc_version": "12.4",
            "cudart_version": "12.4.131",
            "cudnn_version": "9.3.0" if odd > 0.06 else "8.9.7",
        },
        "libraries": {"blas": "openblas", "numpy": "1.26.4", "h5py": "3.10.0", "hdf5": "1.12.2"},
        "frameworks": {
            "tensorflow": {"version": "2.21.0", "cuda": "12.5", "cudnn": "9"},
            "keras": {"version": "3.15.1", "backend": "tensorflow"},
            "torch": None,
            "jax": None,
        },
        "compat": {},
    }
    out = []
    for check, facts in checks.items():
        status = "fail" if failing and check == "compat" else "ok"
        findings = []
        if status == "fail":
            findings.append({"status": "fail", "code": "compat.cudnn_too_old",
                             "message": "TensorFlow 2.21 needs cuDNN 9; found 8.9.7",
                             "hint": "install cuDNN 9 (playbooks/site.yml)"})  # fmt: skip
        out.append({"name": check, "title": check.title(), "status": status,
                    "summary": f"{check} {status}", "findings": findings, "facts": facts,
                    "duration_s": 0.01})  # fmt: skip
    return {
        "schema": "dlcheck.doctor",
        "schema_version": 1,
        "dlcheck_version": "0.1.0",
        "created": "2026-11-20T10:00:00Z",
        "host": {"hostname": name, "redacted": False},
        "status": "fail" if failing else "ok",
        "counts": {},
        "duration_s": 2.0,
        "checks": out,
    }


def _bench(rng: random.Random, name: str) -> dict:
    return {
        "schema": "dlcheck.bench",
        "schema_version": 1,
        "hostname": name,
        "created": "2026-11-20T10:05:00Z",
        "status": "ok",
        "backend": "tensorflow",
        "model": "cnn",
        "device": {"used": "gpu", "name": GPUS[0]},
        "throughput": {"samples_per_s": rng.gauss(12000, 800) if rng.random() > 0.03 else 900.0},
        "test": {"accuracy": rng.uniform(0.985, 0.992)},
        "folds": {
            "accuracies": [rng.uniform(0.98, 0.99) for _ in range(5)],
            "mean": 0.985,
            "std": 0.003,
        },  # fmt: skip
    }


def generate(folder: Path, n_hosts: int, seed: int = 6) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    index = {}
    for i in range(n_hosts):
        name = f"ws{i:04d}.lab.example"
        group = GROUPS[i % len(GROUPS)]
        file = f"{name}_20261120T100000Z.json"
        if rng.random() < 0.02:
            doc = {"schema": "dlcheck.verify-stub", "schema_version": 1,
                   "created": "2026-11-20T10:00:00Z", "host": {"hostname": name},
                   "status": "unreachable", "group": group,
                   "message": "cannot connect: ssh: connect to host: timed out"}  # fmt: skip
        else:
            doc = _doctor(rng, name)
            if i % 2 == 0:
                (folder / f"bench_{name}.json").write_text(json.dumps(_bench(rng, name)))
        (folder / file).write_text(json.dumps(doc, indent=2))
        index[file] = {"file": file, "inventory_hostname": name, "group": group}
    (folder / "verify-run.json").write_text(
        json.dumps({"schema": "dlcheck.verify-run", "schema_version": 1, "files": index})
    )


def time_mode(folder: Path, args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "dlcheck", "report", str(folder), *args],
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"dlcheck report {' '.join(args)} failed: {done.stderr.decode()}")
    return times


def _install_dlcheck(rootfs: Path) -> None:
    """dlcheck plus click, psutil and pynvml, copied into the target, and a launcher on PATH."""
    import click
    import psutil

    import dlcheck

    lib = rootfs / "opt" / "dlcheck-lib"
    lib.mkdir(parents=True, exist_ok=True)
    for module in (dlcheck, click, psutil):
        src = Path(module.__file__).parent
        shutil.copytree(src, lib / src.name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    with contextlib.suppress(ImportError):
        import pynvml

        shutil.copy2(pynvml.__file__, lib / "pynvml.py")
    launcher = rootfs / "usr" / "local" / "bin" / "dlcheck"
    launcher.write_text(
        '#!/bin/sh\nPYTHONPATH=/opt/dlcheck-lib exec /usr/bin/python3 -m dlcheck "$@"\n'
    )
    launcher.chmod(0o755)
    for path in [lib, *lib.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@contextlib.contextmanager
def targets(n: int, work: Path) -> Iterator[list[dict]]:
    """Start n fresh targets (tests/target/target.sh up) and yield their inventory entries."""
    started: list[Path] = []
    try:
        hosts = []
        for i in range(n):
            target = work / f"target{i + 1}"
            started.append(target)
            subprocess.run(["bash", str(TARGET_SH), "up", str(target)], check=True)
            _install_dlcheck(target / "rootfs")
            hosts.append({
                "name": f"target{i + 1}",
                "ansible_host": "127.0.0.1",
                "ansible_port": int((target / "port").read_text()),
                "ansible_user": "dlops",
                "ansible_ssh_private_key_file": str(target / "id_ed25519"),
                "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_ssh_common_args": "-o StrictHostKeyChecking=no "
                "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
                "verify_dlcheck_path": "/usr/local/bin/dlcheck",
            })  # fmt: skip
        yield hosts
    finally:
        time.sleep(4)  # let ssh connection masters (ControlPersist=3s) exit before teardown
        for target in reversed(started):
            subprocess.run(["bash", str(TARGET_SH), "down", str(target)], check=False)


def time_verify(hosts: list[dict], work: Path, runs: int) -> list[float]:
    inventory = work / f"inventory-{len(hosts)}.yml"
    inventory.write_text(json.dumps({"all": {"children": {"fleet": {"hosts": {
        h["name"]: {k: v for k, v in h.items() if k != "name"} for h in hosts}}}}}))  # fmt: skip
    # ControlPersist short, so the targets can be torn down soon after; forks >= hosts.
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=3s"}  # fmt: skip
    playbook = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                "--forks", str(max(10, len(hosts))), str(REPO / "playbooks" / "verify.yml"),
                "-e", '{"verify_doctor_args": ["--no-frameworks"]}']  # fmt: skip
    times = []
    for run in range(runs):
        out = work / f"reports-{len(hosts)}-{run}"
        start = time.perf_counter()
        done = subprocess.run([*playbook, "-e", f"verify_reports_dir={out}"], cwd=REPO, env=env,
                              capture_output=True, text=True)  # fmt: skip
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"verify.yml failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        stubs = [p.name for p in out.glob("*_*.json") if "verify-stub" in p.read_text()]
        if stubs:
            raise SystemExit(f"verify.yml got no report from: {stubs}")
    return times


def verify_scaling(counts: list[int], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="dlstation-verify-") as tmp:
        work = Path(tmp)
        with targets(max(counts), work) as hosts:
            print(f"\nverify.yml over fresh targets (doctor --no-frameworks), runs: {runs}")
            print(f"{'hosts':<8}{'median s':>10}{'min s':>8}{'max s':>8}{'per host s':>12}")
            for n in counts:
                times = time_verify(hosts[:n], work, runs)
                median = statistics.median(times)
                print(
                    f"{n:<8}{median:>10.2f}{min(times):>8.2f}{max(times):>8.2f}{median / n:>12.2f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, help="keep the fleet and the page here")
    parser.add_argument(
        "--verify-targets", help="also time verify.yml on this many targets, e.g. 1,2,4"
    )
    opts = parser.parse_args()
    if opts.verify_targets:
        verify_scaling([int(n) for n in opts.verify_targets.split(",")], opts.runs)
        return

    with tempfile.TemporaryDirectory() as tmp:
        base = opts.out or Path(tmp)
        fleet, page = base / "fleet", base / "fleet.html"
        generate(fleet, opts.hosts)
        n_files = len(list(fleet.glob("*.json")))
        size_in = sum(p.stat().st_size for p in fleet.glob("*.json"))
        print(f"{opts.hosts} hosts: {n_files} files, {size_in / 2**20:.1f} MiB of JSON")
        baseline = time_mode(fleet, ["--help"], opts.runs)  # interpreter + click start-up
        modes = {
            "start-up only (--help)": baseline,
            "text": time_mode(fleet, [], opts.runs),
            "--json": time_mode(fleet, ["--json"], opts.runs),
            "--html": time_mode(fleet, ["--html", str(page)], opts.runs),
        }
        print(f"{'mode':<24}{'median s':>10}{'min s':>8}{'max s':>8}   (runs: {opts.runs})")
        for mode, times in modes.items():
            line = (
                f"{mode:<24}{statistics.median(times):>10.3f}{min(times):>8.3f}{max(times):>8.3f}"
            )
            print(line)
        html = page.read_text(encoding="utf-8")
        rows, charts = html.count('<tr class="host"'), html.count("<svg")
        size = page.stat().st_size / 2**20
        print(f"HTML page: {size:.2f} MiB, {rows} host rows (50 per page), {charts} charts")


if __name__ == "__main__":
    main()
