"""Networks that are not the open internet: a pip index that does not answer fails at its
probe naming the index, and credentials in proxy or index URLs never reach the output.

These run the real roles on this machine in --check mode, limited to one role's tag."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
SECRET = "s3cr3t-token-value"


def run_check(tags: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    cmd = [str(PLAYBOOK), "-i", "inventory/localhost.yml", "playbooks/site.yml", "--check"]
    cmd += ["--diff", "--tags", tags, "-e", "ansible_become=false"]
    for item in extra:
        cmd += ["-e", item]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def pip_index_check_fails(tmp_path: Path, index_url: str, *extra: str) -> tuple[str, str]:
    """python_env's play with its venv in tmp_path and this pip index, which must fail:
    its output, and the same with each run of whitespace made one space."""
    proc = run_check(
        "python_env",
        f"python_env_venv_path={tmp_path / 'venv'}",
        f"python_env_pip_index_url={index_url}",
        *extra,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    return output, re.sub(r"\s+", " ", output)


def test_unreachable_pip_index_fails_naming_it(tmp_path: Path) -> None:
    # A closed loopback port: nothing listens on the discard port in this sandbox.
    output, text = pip_index_check_fails(
        tmp_path,
        f"http://user:{SECRET}@127.0.0.1:9/simple",
        # The preflight's pin check would name the index first (test_preflight_platforms.py);
        # this test is about python_env's own probe.
        "frameworks_check_pins=false",
    )
    assert "The pip index http://127.0.0.1:9/simple does not answer" in text
    assert "python_env_pip_index_url" in text
    # It failed before pip ran: the install task was never reached.
    assert "TASK [python_env : Install the scientific stack into the venv]" not in output
    assert SECRET not in output
    assert not (tmp_path / "venv").exists()
    # An existing parent (here pytest's 0700 tmp dir; on a workstation maybe /tmp or /opt)
    # keeps its own mode: the role only makes a parent that is missing.
    parent_task = output.split("TASK [python_env : Make the venv's parent directory]", 1)[1]
    result = parent_task.split("\n", 1)[1].split("TASK [", 1)[0].strip()
    assert result.startswith("skipping:"), result[:500]


def test_apt_proxy_credentials_stay_out_of_the_output() -> None:
    proc = run_check(
        "system",
        "system_full_upgrade=false",
        f"system_apt_proxy=http://lab:{SECRET}@127.0.0.1:3142",
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "TASK [system : Configure the apt proxy]" in output
    assert SECRET not in output
    # --check wrote nothing.
    assert not Path("/etc/apt/apt.conf.d/01dlstation-proxy").exists()
