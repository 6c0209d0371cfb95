"""Bad input fails in the preflight play, before any task changes anything.

Each case runs the real playbook against this machine (inventory/localhost.yml) in
--check mode with only the preflight play's tags, and asserts three things: a non-zero
exit, a message that names the variable or condition, and `changed=0` in the recap
(no task before the failure changed, or would change, anything).
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
RECAP = re.compile(
    r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M
)


def _has_nvidia_gpu() -> bool:
    for vendor in glob.glob("/sys/bus/pci/devices/*/vendor"):
        try:
            if Path(vendor).read_text().strip().lower() == "0x10de":
                return True
        except OSError:
            continue
    return False


def run_local_playbook(playbook: str | Path, *args: str) -> subprocess.CompletedProcess[str]:
    """ansible-playbook on this machine with the repository's settings and plain output."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    cmd = [str(PLAYBOOK), "-i", "inventory/localhost.yml", str(playbook), *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def role_playbook(path: Path, *includes: str, then: str = "") -> Path:
    """Write a playbook for localhost that includes each "role:tasks_from" (":public" makes
    the role's variables public), then the YAML tasks in `then`; return its path."""
    tasks = ""
    for include in includes:
        role, tasks_from, *public = include.split(":")
        tasks += f"    - ansible.builtin.include_role: {{name: {role}, tasks_from: {tasks_from}"
        tasks += ", public: true}\n" if public else "}\n"
    path.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks + then)
    return path


def run_preflight(*extra: str) -> tuple[int, str, dict[str, int]]:
    """Run the preflight play in --check mode; return (rc, output, recap counts)."""
    cmd = []
    cmd += ["--check", "--tags", "preflight"]
    # The preflight only reads, so it needs neither root nor sudo (which a bare CI host may lack).
    cmd += ["-e", "ansible_become=false"]
    for item in extra:
        cmd += ["-e", item]
    proc = run_local_playbook("playbooks/site.yml", *cmd)
    output = proc.stdout + proc.stderr
    match = RECAP.search(output)
    assert match, f"no PLAY RECAP in the output:\n{output[-3000:]}"
    names = ("ok", "changed", "unreachable", "failed")
    counts = dict(zip(names, map(int, match.groups()), strict=True))
    return proc.returncode, output, counts


def flat(text: str) -> str:
    """The output with YAML line folding undone, so that messages can be searched."""
    return re.sub(r"\s+", " ", text)


def assert_fails_early(rc: int, output: str, counts: dict[str, int], *needles: str) -> None:
    assert rc != 0, f"the playbook should have failed:\n{output[-3000:]}"
    assert counts["failed"] == 1, output[-3000:]
    assert counts["changed"] == 0, f"a task changed something before the failure:\n{output}"
    # The failure is in the preflight play: the provisioning play never started.
    assert "PLAY [Provision the workstation]" not in output
    text = flat(output)
    for needle in needles:
        assert needle in text, f"{needle!r} not in the failure message:\n{output[-3000:]}"


def test_good_input_passes_preflight() -> None:
    """The control case: the same command without bad input gets through, changing nothing."""
    rc, output, counts = run_preflight()
    assert rc == 0, output[-3000:]
    assert counts["failed"] == 0 and counts["changed"] == 0
    assert "PLAY [Provision the workstation]" in output


def test_unsupported_distro() -> None:
    # The platform string comes from the host's facts; overriding it simulates a Fedora host.
    rc, output, counts = run_preflight("__preflight_platform=Fedora-40")
    assert_fails_early(rc, output, counts, "Unsupported platform Fedora-40", "Debian-12")


def test_unsupported_architecture() -> None:
    rc, output, counts = run_preflight("__preflight_architecture=ppc64le")
    assert_fails_early(rc, output, counts, "Unsupported architecture ppc64le", "x86_64")


def test_driver_branch_that_does_not_exist_for_the_distro() -> None:
    rc, output, counts = run_preflight("nvidia_driver_branch=999")
    assert_fails_early(rc, output, counts, "nvidia_driver_branch is 999", "does not package")


def test_cuda_version_the_chosen_tensorflow_does_not_support() -> None:
    rc, output, counts = run_preflight("cuda_toolkit_version=11.8")
    assert_fails_early(
        rc, output, counts, "cuda_toolkit_version is 11.8", "frameworks_tensorflow_version", "12.5"
    )


def test_cuda_version_the_chosen_driver_branch_cannot_run() -> None:
    # Ubuntu packages branch 470; this Debian host does not, so its branch list is overridden.
    rc, output, counts = run_preflight(
        '{"__nvidia_driver_branches": ["470", "535"]}', "nvidia_driver_branch=470"
    )
    assert_fails_early(
        rc,
        output,
        counts,
        "needs an NVIDIA driver >= 525.60.13",
        "nvidia_driver_branch resolves to 470",
    )


def test_tensorflow_version_without_a_tested_build() -> None:
    rc, output, counts = run_preflight("frameworks_tensorflow_version=2.9.0")
    assert_fails_early(rc, output, counts, "frameworks_tensorflow_version is 2.9.0", "2.21")


@pytest.mark.skipif(_has_nvidia_gpu(), reason="this host has an NVIDIA GPU")
def test_gpu_frameworks_forced_without_a_gpu() -> None:
    rc, output, counts = run_preflight("frameworks_tensorflow_variant=gpu")
    assert_fails_early(
        rc, output, counts, "frameworks_tensorflow_variant is gpu", "preflight_gpu_force is false"
    )


@pytest.mark.skipif(_has_nvidia_gpu(), reason="this host has an NVIDIA GPU")
def test_gpu_frameworks_allowed_when_forced() -> None:
    """The force switch is the documented way out: the frameworks check then passes.

    The GPU-host checks that follow (Secure Boot, kernel headers, held packages) run for real
    and may still stop a machine that cannot take the driver; that is their job.
    """
    rc, output, counts = run_preflight(
        "frameworks_tensorflow_variant=gpu",
        "preflight_gpu_force=true",
        "preflight_check_disk=false",
    )
    text = flat(output)
    assert "GPU profile" in text, output[-3000:]
    assert "frameworks_tensorflow_variant is gpu" not in text
    assert "TASK [nvidia_driver : Read the Secure Boot state]" in output
    assert counts["changed"] == 0


def test_less_free_disk_than_the_profile_needs() -> None:
    rc, output, counts = run_preflight("preflight_disk_required_cpu_gib=1000000")
    assert_fails_early(
        rc,
        output,
        counts,
        "Not enough free disk for the CPU profile",
        "preflight_disk_required_cpu_gib",
    )


def test_a_rerun_needs_only_what_the_existing_venv_does_not_hold(tmp_path: Path) -> None:
    # A converged venv already holds most of the profile's need: the check subtracts it.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "weights.bin").write_bytes(bytes(160 * 1024 * 1024))
    rc, output, counts = run_preflight(
        f"python_env_venv_path={venv}", "preflight_disk_required_cpu_gib=1000000"
    )
    assert_fails_early(
        rc, output, counts, "Not enough free disk", "GiB the existing venv already holds"
    )
    used = re.search(r"less the ([0-9.]+) GiB the existing venv", flat(output))
    assert used and float(used.group(1)) >= 0.1, output[-3000:]


def test_free_disk_probe_counts_what_the_path_holds(tmp_path: Path) -> None:
    probe = REPO / "roles" / "python_env" / "files" / "free_disk.py"
    (tmp_path / "a").write_bytes(bytes(1024 * 1024))

    def run(path: Path, *need: str) -> dict:
        cmd = [sys.executable, str(probe), str(path), *need]
        return json.loads(subprocess.run(cmd, capture_output=True, text=True).stdout)

    held = run(tmp_path)
    assert held["path"] == str(tmp_path) and held["used"] >= 1024 * 1024 and held["free"] > 0
    # Free space alone meets a need of 0 GiB: nothing is walked (a re-run with room to spare).
    assert run(tmp_path, "0")["used"] == 0
    assert run(tmp_path, "1000000")["used"] == held["used"]
    missing = run(tmp_path / "not" / "yet")
    assert missing == {"path": str(tmp_path), "free": missing["free"], "used": 0}


def test_venv_path_that_is_a_directory_but_not_a_venv(tmp_path: Path) -> None:
    target = tmp_path / "not-a-venv"
    target.mkdir()
    (target / "notes.txt").write_text("someone's files\n")
    rc, output, counts = run_preflight(f"python_env_venv_path={target}")
    assert_fails_early(rc, output, counts, f"python_env_venv_path is {target}", "not a Python venv")
    assert (target / "notes.txt").exists()


def test_venv_path_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "venv"
    target.write_text("")
    rc, output, counts = run_preflight(f"python_env_venv_path={target}")
    assert_fails_early(rc, output, counts, f"python_env_venv_path is {target}", "it is a file")


def test_wrong_type_fails_argument_validation() -> None:
    rc, output, counts = run_preflight('{"system_full_upgrade": "sometimes"}')
    assert_fails_early(rc, output, counts, "system_full_upgrade")


def test_wrong_choice_fails_argument_validation() -> None:
    rc, output, counts = run_preflight("frameworks_tensorflow_variant=rocm")
    assert_fails_early(rc, output, counts, "frameworks_tensorflow_variant", "auto, cpu, gpu")
