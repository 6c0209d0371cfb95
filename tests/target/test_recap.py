"""The recap reader the proof relies on, fed the output of real ansible-playbook runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import recap  # noqa: E402

PLAYBOOK = """\
- name: Recap sample
  hosts: all
  gather_facts: false
  tasks:
    - name: Look around
      ansible.builtin.command: "true"
      changed_when: false
    - name: Change something
      ansible.builtin.command: "true"
      changed_when: true
    - name: Break when asked
      ansible.builtin.fail:
        msg: broken on purpose
      when: break_it | default(false) | bool
"""


def _run_playbook(tmp: Path, *extra: str) -> str:
    exe = shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) or shutil.which(
        "ansible-playbook"
    )
    if exe is None:
        pytest.skip("ansible-playbook is not installed")
    (tmp / "play.yml").write_text(PLAYBOOK)
    # The repository's ansible.cfg, so the log looks like the proof's own.
    cfg = Path(__file__).resolve().parents[2] / "ansible.cfg"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(cfg) if cfg.is_file() else "")
    proc = subprocess.run(
        [exe, "-i", "sample-host,", "-c", "local", str(tmp / "play.yml"), *extra],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("recap")
    return {
        "ok": _run_playbook(tmp, "-e", f"ansible_python_interpreter={sys.executable}"),
        "broken": _run_playbook(
            tmp, "-e", f"ansible_python_interpreter={sys.executable}", "-e", "break_it=true"
        ),
    }


def test_counts_and_changed_tasks_of_a_real_run(logs: dict[str, str]) -> None:
    host = recap.parse(logs["ok"])["sample-host"]
    assert host.count("ok") == 2
    assert host.count("changed") == 1
    assert host.count("failed") == 0
    assert host.changed_tasks == ["Change something"]


def test_expecting_changed_0_names_the_task_that_changed(logs: dict[str, str]) -> None:
    problems = recap.check(recap.parse(logs["ok"]), changed=0, allow_failed=False)
    assert len(problems) == 1
    assert "changed=1, expected 0" in problems[0]
    assert "Change something" in problems[0]
    assert recap.check(recap.parse(logs["ok"]), changed=1, allow_failed=False) == []


def test_a_failed_task_is_a_problem_with_its_name(logs: dict[str, str]) -> None:
    host = recap.parse(logs["broken"])["sample-host"]
    assert host.count("failed") == 1
    assert host.failed_tasks == ["Break when asked"]
    problems = recap.check({"sample-host": host}, changed=None, allow_failed=False)
    assert problems and "Break when asked" in problems[0]
    assert recap.check({"sample-host": host}, changed=None, allow_failed=True) == []


def test_a_log_without_recap_is_an_error(logs: dict[str, str]) -> None:
    cut = logs["ok"].split("PLAY RECAP")[0]
    with pytest.raises(ValueError, match="no PLAY RECAP"):
        recap.parse(cut)


def test_cli_exit_codes(logs: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(logs["ok"])
    assert recap.main([str(log)]) == 0
    assert recap.main([str(log), "--changed", "0"]) == 1
    log.write_text(logs["broken"])
    assert recap.main([str(log)]) == 1


def test_skipped_tasks_are_checked_by_name(logs: dict[str, str], tmp_path: Path) -> None:
    # "Break when asked" is skipped in the ok run; "Look around" runs; a typo is not there.
    assert recap.not_skipped(logs["ok"], "Break when asked") == []
    ran = recap.not_skipped(logs["ok"], "Look around")
    assert ran and "expected it skipped" in ran[0]
    assert recap.not_skipped(logs["ok"], "Look arund") == ["task 'Look arund' is not in the log"]
    log = tmp_path / "run.log"
    log.write_text(logs["ok"])
    assert recap.main([str(log), "--skipped", "Break when asked"]) == 0
    assert recap.main([str(log), "--skipped", "Look around"]) == 1


def test_absent_tasks_are_checked_by_name(logs: dict[str, str], tmp_path: Path) -> None:
    # A play that ends early (meta: end_host) leaves the later tasks out of the log.
    assert recap.present(logs["ok"], "Never in this play") == []
    came = recap.present(logs["ok"], "Look around")
    assert came and "expected the play to end before it" in came[0]
    log = tmp_path / "run.log"
    log.write_text(logs["ok"])
    assert recap.main([str(log), "--absent", "Never in this play"]) == 0
    assert recap.main([str(log), "--absent", "Look around"]) == 1
