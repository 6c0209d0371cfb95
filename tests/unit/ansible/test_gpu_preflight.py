"""The kernel the NVIDIA module is built for, checked in the preflight with the GPU forced.

The running kernel of a CI machine (or a container) is often not a distro kernel, so no
headers package exists for it: `nvidia_driver_kernel_release` names the kernel DKMS builds
for. These run the real preflight play against this machine (--check, nothing changes), as
test_preflight.py does.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from test_preflight import _has_nvidia_gpu, assert_fails_early, flat, run_preflight

FORCED = ("preflight_gpu_force=true", "preflight_check_disk=false")


def distro_kernel_with_headers() -> str | None:
    """The kernel release of the distro's current headers (linux-headers-amd64 on Debian)."""
    proc = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", "linux-headers-amd64"],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^Depends:.*?\blinux-headers-(\S+-amd64)\b", proc.stdout, re.M)
    return match.group(1) if match else None


@pytest.mark.skipif(_has_nvidia_gpu(), reason="this host has an NVIDIA GPU")
def test_no_headers_for_the_kernel_to_build_for() -> None:
    rc, output, counts = run_preflight(*FORCED, "nvidia_driver_kernel_release=0.0.0-nonesuch")
    assert_fails_early(
        rc,
        output,
        counts,
        "No package linux-headers-0.0.0-nonesuch for the kernel 0.0.0-nonesuch",
        "nvidia_driver_kernel_release",
    )
    assert "TASK [nvidia_driver : Fail when no headers exist for the kernel to build for]" in output


@pytest.mark.skipif(_has_nvidia_gpu(), reason="this host has an NVIDIA GPU")
@pytest.mark.skipif(distro_kernel_with_headers() is None, reason="no linux-headers-amd64 in apt")
def test_headers_of_a_named_distro_kernel_pass() -> None:
    release = distro_kernel_with_headers()
    rc, output, counts = run_preflight(*FORCED, f"nvidia_driver_kernel_release={release}")
    assert f"No package linux-headers-{release}" not in flat(output)
    assert rc == 0 and counts["failed"] == 0, output[-3000:]
    assert counts["changed"] == 0


def _apt_lists_state() -> list[tuple[str, float]]:
    return sorted((p.name, p.stat().st_mtime) for p in Path("/var/lib/apt/lists").iterdir())


def _with_gpu(device: str) -> tuple[int, str, dict]:
    gpu = {"slot": "0000:01:00.0", "device": device, "class": "0x030200", "driver": None}
    return run_preflight(
        *FORCED,
        f"nvidia_driver_kernel_release={distro_kernel_with_headers()}",
        json.dumps({"preflight_gpu_devices": [gpu]}),
    )


@pytest.mark.skipif(_has_nvidia_gpu(), reason="this host has an NVIDIA GPU")
@pytest.mark.skipif(distro_kernel_with_headers() is None, reason="no linux-headers-amd64 in apt")
@pytest.mark.skipif(
    "bookworm" not in Path("/etc/os-release").read_text()
    or "non-free" in subprocess.run(["apt-cache", "policy"], capture_output=True, text=True).stdout,
    reason="the case is a Debian 12 host whose apt does not enable non-free yet (a fresh one)",
)
def test_debian_checks_the_gpu_against_nvidia_detect_before_non_free_is_enabled() -> None:
    """Debian 12's nvidia-detect (535) lists the H100 (0x2330) but not the H200 (0x2335). The
    preflight reads it, and what non-free packages, from Debian's real archive into temporary
    apt lists: the host's own lists stay as they were, and nothing changes."""
    before = _apt_lists_state()
    rc, output, counts = _with_gpu("0x2335")
    text = flat(output)
    assert rc != 0 and counts["changed"] == 0, output[-3000:]
    assert (
        "No packaged driver branch serves this host (535: nvidia-driver does not list 0x2335 "
        "in nvidia-detect's nvidia.ids)"
    ) in text.replace("''", "'")
    rc, output, counts = _with_gpu("0x2330")
    text = flat(output)
    assert rc == 0 and counts["changed"] == 0, output[-3000:]
    assert "packaged by Debian: 535 (from apt)" in text
    assert "0x2330, each listed in nvidia-detect" in text.replace("''", "'")
    assert _apt_lists_state() == before
