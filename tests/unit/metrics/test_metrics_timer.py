"""The dlcheck role's metrics timer (roles/dlcheck/tasks/metrics.yml), run by Ansible on this
machine into a scratch folder: systemd-analyze verifies the units, the service's own command
line writes metrics that promtool accepts, a second run changes nothing, and switching it off
removes the units. systemd is not PID 1 here, so the timer is not started (the role skips
that on such hosts), and the proof of a real host is tests/target/collection.sh."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from metrics_helpers import promtool, tool

from dlcheck.doctor import metrics

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
PLAY = """\
- name: The dlcheck role's metrics timer
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Run the role's {tasks} tasks
      ansible.builtin.include_role:
        name: dlcheck
        tasks_from: {tasks}
"""


def play(tmp_path: Path, tasks: str = "metrics", **variables) -> tuple[int, dict, str]:
    """Run the role's task file; returns (exit code, this host's recap stats, output)."""
    (tmp_path / "play.yml").write_text(PLAY.format(tasks=tasks))
    extra = {
        "__dlcheck_systemd_dir": str(tmp_path / "systemd"),
        "dlcheck_metrics_dir": str(tmp_path / "textfile"),
        "python_env_venv_path": str(VENV_BIN.parent),  # the service runs this dlcheck
        "dlcheck_metrics_doctor_args": ["host"],  # one quick check is enough here
        "ansible_python_interpreter": sys.executable,
        **variables,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_ROLES_PATH=str(REPO / "roles"), ANSIBLE_STDOUT_CALLBACK="json")
    result = subprocess.run(
        [VENV_BIN / "ansible-playbook", "-i", "localhost,", "play.yml", "-e", json.dumps(extra)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    doc = json.loads(result.stdout)
    return result.returncode, doc["stats"]["localhost"], result.stdout + result.stderr


def units(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "systemd").glob("dlcheck-metrics.*"))


@pytest.fixture
def installed(tmp_path):
    (tmp_path / "systemd").mkdir()
    rc, stats, output = play(tmp_path, dlcheck_metrics_timer=True)
    assert rc == 0, output
    assert stats["changed"] > 0
    return tmp_path


def test_the_units_verify_and_the_service_writes_metrics(installed):
    service, timer = units(installed)
    assert (service.name, timer.name) == ("dlcheck-metrics.service", "dlcheck-metrics.timer")
    verified = subprocess.run(
        [tool("systemd-analyze"), "verify", service, timer], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OnUnitActiveSec=15min" in timer.read_text()
    # The service's command, exactly as systemd would run it.
    lines = service.read_text().splitlines()
    exec_start = next(line.split("=", 1)[1] for line in lines if line.startswith("ExecStart="))
    ran = subprocess.run(shlex.split(exec_start), capture_output=True, text=True, timeout=300)
    assert ran.returncode in (0, 1), ran.stderr  # 1: a check failed, the service still succeeds
    assert "SuccessExitStatus=1" in service.read_text()
    text = (installed / "textfile" / metrics.TEXTFILE_NAME).read_text()
    assert 'dlcheck_check_status{check="host",' in text
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_second_run_changes_nothing(installed):
    rc, stats, output = play(installed, dlcheck_metrics_timer=True)
    assert rc == 0, output
    assert stats["changed"] == 0, output


def test_switching_it_off_removes_the_units(installed):
    rc, stats, output = play(installed, dlcheck_metrics_timer=False)
    assert rc == 0, output
    assert stats["changed"] > 0
    assert units(installed) == []
    rc, stats, output = play(installed, dlcheck_metrics_timer=False)
    assert rc == 0 and stats["changed"] == 0, output


@pytest.mark.parametrize(
    ("variable", "value"),
    [("dlcheck_metrics_interval", "every morning"), ("dlcheck_metrics_dir", "textfile")],
)
def test_bad_settings_fail_in_the_preflight_naming_them(tmp_path, variable, value):
    rc, _, output = play(tmp_path, "preflight", dlcheck_metrics_timer=True, **{variable: value})
    assert rc != 0
    assert f"{variable} is {value}; give" in " ".join(output.split())
