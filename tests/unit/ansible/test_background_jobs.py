"""The jobs site.yml leaves running in the background end the play with a clear result.

The system role's apt run (collected by its tasks/wait.yml), python_env's bytecode compile
(its tasks/wait.yml) and the sync after the apt run (system's tasks/synced.yml) are Ansible
async jobs. Each case starts a real job on this machine that ends as given, then runs the
role's real wait tasks. (The apt run's job here is a command: its result has the keys the
apt module's has, msg, stderr and changed.)"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

import yaml
from test_preflight import REPO, run_local_playbook


class Job(NamedTuple):
    """A job site.yml leaves in the background: the variable it is registered as, and the
    role tasks that wait for it."""

    register: str
    role: str
    tasks_from: str


COMPILE = Job("python_env_compile_job", "python_env", "wait")
SYNC = Job("system_sync_job", "system", "synced")
APT_RUN = Job("__system_apt_run", "system", "wait")


def wait_for(tmp_path: Path, job: Job, script: str) -> tuple[int, str]:
    """Start `sh -c script` in the background as `job`, then the role's wait tasks."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.command:\n"
        f"        argv: [sh, -c, {json.dumps(script)}]\n"
        f"      async: 60\n      poll: 0\n      register: {job.register}\n"
        f"    - ansible.builtin.include_role: {{name: {job.role}, tasks_from: {job.tasks_from}}}\n"
    )
    proc = run_local_playbook(
        playbook, "-e", "ansible_become=false", "-e", "python_env_venv_path=/opt/the-venv"
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_a_compile_that_breaks_fails_naming_it_and_the_fix(tmp_path: Path) -> None:
    rc, out = wait_for(tmp_path, COMPILE, "echo 'Traceback: MemoryError' >&2; exit 2")
    assert rc != 0, out[-3000:]
    assert "The venv's bytecode compile in the background exited 2" in out, out[-3000:]
    assert "MemoryError" in out
    assert "/opt/the-venv/bin/python -m compileall -q -j0 /opt/the-venv/lib" in out


def test_a_file_that_does_not_compile_is_no_failure(tmp_path: Path) -> None:
    # compileall exits 1 when a file does not compile (wheels ship sources for other
    # Pythons); pip ignores that too.
    rc, out = wait_for(tmp_path, COMPILE, "echo '*** Error' >&2; exit 1")
    assert rc == 0, out[-3000:]
    assert "ok=" in out and "failed=0" in out


def test_a_sync_that_fails_fails_the_play_at_its_wait(tmp_path: Path) -> None:
    rc, out = wait_for(tmp_path, SYNC, "echo 'sync: I/O error' >&2; exit 5")
    assert rc != 0, out[-3000:]
    # The wait on the host ends with the job and reads its result; the next task fails with
    # the job's words.
    waited, failed = out.split("Wait until the apt run's files are on disk", 1)[1].split(
        "Fail when the sync of the apt run's files failed", 1
    )
    assert "ok: [localhost]" in waited, out[-3000:]
    assert "FAILED" in failed and "exited 5: sync: I/O error" in failed, out[-3000:]


def test_an_apt_run_that_fails_fails_the_play_with_apts_message(tmp_path: Path) -> None:
    rc, out = wait_for(
        tmp_path, APT_RUN, "echo 'E: Unable to locate package no-such-package' >&2; exit 100"
    )
    assert rc != 0, out[-3000:]
    failed = out.split("Fail with apt's own message when the apt run in the background failed")[1]
    assert "The apt run in the background failed: non-zero return code" in failed, out[-3000:]
    assert "E: Unable to locate package no-such-package" in failed
    # Nothing after a failed run: neither its sync nor its packages counted as installed.
    assert "Write the apt run's files to disk" not in failed


def test_an_apt_run_that_installed_something_is_a_change_of_the_wait(tmp_path: Path) -> None:
    rc, out = wait_for(tmp_path, APT_RUN, "echo installed")
    assert rc == 0, out[-3000:]
    waited = out.split("Wait for the apt run in the background to finish", 1)[1]
    assert waited.split("TASK [", 1)[0].count("changed: [localhost]") == 1, out[-3000:]
    assert "Write the apt run's files to disk, in the background" in waited


def test_the_wait_on_the_host_ends_when_the_job_has_written_its_result(tmp_path: Path) -> None:
    """common_job_wait_argv against a status file as ansible-core's async_wrapper writes it."""
    argv = yaml.safe_load((REPO / "roles/common/vars/main.yml").read_text())["common_job_wait_argv"]
    status = tmp_path / "job"
    status.write_text(json.dumps({"started": True, "finished": False, "ansible_job_id": "j1"}))
    wait = subprocess.Popen([*argv, str(status)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        assert wait.poll() is None, "the wait ended while the job still ran"
        # The wrapper replaces the file with the module's result (a rename).
        result = {"rc": 0, "stdout": '"started": true'}
        (tmp_path / "job.tmp").write_text(json.dumps(result))
        (tmp_path / "job.tmp").rename(status)
        out, _ = wait.communicate(timeout=5)
        assert wait.returncode == 0
        # What the wait tasks read the job's result from.
        assert json.loads(out) == result
    finally:
        wait.kill()
