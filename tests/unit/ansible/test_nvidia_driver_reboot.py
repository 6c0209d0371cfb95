"""The pending reboot survives a failed run: a marker, not a handler's fact.

The nvidia_driver role writes /var/lib/dlstation/reboot-pending the moment the driver package
changes, and removes it only once the loaded kernel module is the installed driver's version.
These tests run the real role files with ansible-playbook on this machine, the marker and the
module's version file moved into a temporary directory (this machine has no NVIDIA module).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_preflight import _has_nvidia_gpu, flat, role_playbook, run_local_playbook, run_preflight

MESSAGE = "REBOOT PENDING on localhost: an earlier run changed the NVIDIA driver"
GPU_FORCED = ("preflight_gpu_force=true", "preflight_check_disk=false")


@pytest.mark.skipif(_has_nvidia_gpu(), reason="this host has an NVIDIA GPU")
def test_next_run_says_the_reboot_is_pending_even_when_it_fails(tmp_path: Path) -> None:
    # The marker as a run that installed the driver and then failed leaves it.
    marker = tmp_path / "reboot-pending"
    marker.write_text("nvidia-driver changed; reboot to load its kernel module.\n")
    # The next run fails in preflight (no headers for this kernel), and still says it first.
    rc, output, counts = run_preflight(
        *GPU_FORCED,
        f"__nvidia_driver_reboot_marker={marker}",
        "nvidia_driver_kernel_release=0.0.0-nonesuch",
    )
    text = flat(output)
    assert rc != 0 and counts["failed"] == 1, output[-3000:]
    assert MESSAGE in text, output[-3000:]
    assert text.index(MESSAGE) < text.index("No package linux-headers-0.0.0-nonesuch")
    assert counts["changed"] == 0
    assert marker.exists()


@pytest.mark.skipif(_has_nvidia_gpu(), reason="this host has an NVIDIA GPU")
def test_no_marker_no_message(tmp_path: Path) -> None:
    rc, output, counts = run_preflight(
        *GPU_FORCED, f"__nvidia_driver_reboot_marker={tmp_path / 'reboot-pending'}"
    )
    assert "REBOOT PENDING" not in flat(output)
    assert "TASK [nvidia_driver : Look for the pending reboot's marker]" in output


def reboot_state(tmp_path: Path, loaded: str | None) -> bool:
    """Run the role's reboot-state.yml; return nvidia_driver_reboot_pending.

    The installed driver stands in as `bash`, an essential package whose version has a Debian
    revision as the driver's does; `loaded` is what the module's version file says (None: no
    module loaded).
    """
    marker = tmp_path / "reboot-pending"
    marker.write_text("bash changed\n")
    version_file = tmp_path / "module-version"
    if loaded is not None:
        version_file.write_text(loaded + "\n")
    playbook = role_playbook(
        tmp_path / "play.yml",
        "nvidia_driver:reboot-state.yml",
        then="    - ansible.builtin.debug:\n"
        "        msg: 'PENDING={{ nvidia_driver_reboot_pending | bool | to_json }}'\n",
    )
    extra = {
        "__nvidia_driver_reboot_marker": str(marker),
        "__nvidia_driver_module_version_file": str(version_file),
        "nvidia_driver_chosen": {"package": "bash"},
    }
    proc = run_local_playbook(playbook, "-e", json.dumps(extra))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for answer in ("true", "false"):
        if f"PENDING={answer}" in proc.stdout:
            return answer == "true"
    raise AssertionError(proc.stdout[-3000:])


def installed_bash_upstream() -> str:
    version = subprocess.run(
        ["dpkg-query", "--show", "--showformat", "${Version}", "bash"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return version.split(":")[-1].rsplit("-", 1)[0]


def test_pending_while_no_module_is_loaded(tmp_path: Path) -> None:
    assert reboot_state(tmp_path, None) is True


def test_pending_while_the_old_module_is_loaded(tmp_path: Path) -> None:
    assert reboot_state(tmp_path, "0.0.1") is True


def test_done_once_the_installed_version_is_loaded(tmp_path: Path) -> None:
    assert reboot_state(tmp_path, installed_bash_upstream()) is False
