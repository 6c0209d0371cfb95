"""Commands on the host: Graphviz, dlcheck doctor and bench; apt sources the roles added."""

from __future__ import annotations

import json
import re

import pytest
from helpers import copy_to_host, run_ok

# The distribution's own apt sources: not the roles' to sign.
DISTRO_SOURCES = {
    "/etc/apt/sources.list",
    "/etc/apt/sources.list.d/debian.sources",
    "/etc/apt/sources.list.d/ubuntu.sources",
}


def test_dot_runs(host) -> None:
    result = run_ok(host, "dot -V")
    # dot prints its version on stderr.
    assert "graphviz version" in (result.stdout + result.stderr)


def test_dlcheck_on_path(host, venv: str) -> None:
    # A login shell: PATH as a user gets it, /etc/profile.d included.
    path = run_ok(host, "bash -lc 'command -v dlcheck'").stdout.strip()
    assert path, "dlcheck is not on PATH"
    real = run_ok(host, "readlink -f %s", path).stdout.strip()
    assert real.startswith(f"{venv}/"), f"dlcheck on PATH is {real}, not the venv's"


@pytest.fixture(scope="module")
def doctor(host, venv: str) -> dict:
    result = host.run("env TF_CPP_MIN_LOG_LEVEL=2 %s/bin/dlcheck doctor --json", venv)
    assert result.rc == 0, (
        f"dlcheck doctor exited {result.rc}\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
    )
    return json.loads(result.stdout)


def _check(doc: dict, name: str) -> dict:
    checks = {c["name"]: c for c in doc["checks"]}
    assert name in checks, f"doctor has no {name!r} check (it has {sorted(checks)})"
    return checks[name]


def _problems(check: dict) -> str:
    return "; ".join(
        f"{f['code']}: {f['message']}" for f in check["findings"] if f["status"] != "ok"
    )


@pytest.mark.slow
def test_doctor_reports_no_failure(doctor: dict) -> None:
    assert doctor["schema"] == "dlcheck.doctor"
    assert doctor["status"] not in ("fail", "error"), doctor["counts"]


@pytest.mark.slow
def test_doctor_frameworks_ok(doctor: dict) -> None:
    check = _check(doctor, "frameworks")
    assert check["status"] == "ok", f"frameworks: {check['summary']}; {_problems(check)}"


@pytest.mark.slow
def test_doctor_gpu_matches_the_host(doctor: dict, gpu_present: bool) -> None:
    check = _check(doctor, "gpu")
    expected = "ok" if gpu_present else "skip"
    assert check["status"] == expected, f"gpu: {check['summary']}; {_problems(check)}"


@pytest.mark.slow
def test_bench_on_real_mnist_trains_above_threshold(host, venv, mnist_dir, remote_tmp) -> None:
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        copy_to_host(host, mnist_dir / name, f"{remote_tmp}/{name}")
    result = host.run(
        "env TF_CPP_MIN_LOG_LEVEL=2 %s/bin/dlcheck bench --data %s --no-download --json --epochs 3",
        venv,
        remote_tmp,
    )
    doc = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    assert doc is not None, f"bench gave no JSON (exit {result.rc}): {result.stderr[-2000:]}"
    test = doc["test"]
    assert test and test["threshold"] is not None, f"bench did not judge accuracy: {doc}"
    assert test["accuracy"] >= test["threshold"], test
    assert result.rc == 0, f"bench exited {result.rc}: {doc.get('status')}"


def _source_entries(host) -> list[tuple[str, str]]:
    """(file, entry) for every enabled apt source, one-line and deb822 alike."""
    files = host.check_output(
        "ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list "
        "/etc/apt/sources.list.d/*.sources 2>/dev/null || true"
    ).split()
    entries = []
    for path in files:
        text = host.file(path).content_string
        if path.endswith(".sources"):
            for stanza in re.split(r"\n\s*\n", text):
                lines = [ln for ln in stanza.splitlines() if not ln.lstrip().startswith("#")]
                if any(ln.startswith("Types:") for ln in lines) and not any(
                    re.match(r"Enabled:\s*no", ln, re.I) for ln in lines
                ):
                    entries.append((path, "\n".join(lines)))
        else:
            entries += [
                (path, ln.strip())
                for ln in text.splitlines()
                if ln.strip().startswith(("deb ", "deb-src "))
            ]
    return entries


def test_added_apt_sources_use_signed_by(host) -> None:
    unsigned = [
        f"{path}: {entry.splitlines()[0]}"
        for path, entry in _source_entries(host)
        if path not in DISTRO_SOURCES and not re.search(r"signed-by", entry, re.I)
    ]
    assert unsigned == [], "apt sources without signed-by:\n" + "\n".join(unsigned)
