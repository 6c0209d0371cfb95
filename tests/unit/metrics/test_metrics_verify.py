"""playbooks/verify.yml -e verify_metrics_dir=DIR: the hosts' doctors also write their
metrics for node_exporter, and --check writes none. Run for real against this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from metrics_helpers import parse, value

from dlcheck.doctor import metrics

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def verify(tmp_path: Path, *extra: str) -> Path:
    inventory = tmp_path / "inventory.yml"
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        # Writing into the textfile folder makes the doctor run as root; no sudo here.
        "ansible_become_method": "su",
        "verify_dlcheck_path": str(BIN / "dlcheck"),
    }
    inventory.write_text(json.dumps({"all": {"hosts": {"ws-local": host}}}))
    reports = tmp_path / "reports"
    textfile = tmp_path / "textfile"
    textfile.mkdir(exist_ok=True)
    command = [BIN / "ansible-playbook", *extra, "-i", inventory, REPO / "playbooks/verify.yml"]
    command += ["-e", f"verify_reports_dir={reports}", "-e", f"verify_metrics_dir={textfile}"]
    command += ["-e", '{"verify_doctor_args": ["--no-frameworks"]}']
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, cwd=REPO, timeout=300, env=env
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return reports


def test_verify_writes_the_hosts_metrics_next_to_their_reports(tmp_path):
    reports = verify(tmp_path)
    (report_file,) = [p for p in reports.glob("ws-local_*.json")]
    report = json.loads(report_file.read_text())
    samples = parse((tmp_path / "textfile" / metrics.TEXTFILE_NAME).read_text())
    assert value(samples, "dlcheck_doctor_status", status=report["status"]) == 1
    for check in report["checks"]:
        assert value(samples, "dlcheck_check_status", check=check["name"], status=check["status"])


def test_verify_in_check_mode_writes_no_metrics(tmp_path):
    verify(tmp_path, "--check")
    assert list((tmp_path / "textfile").iterdir()) == []
