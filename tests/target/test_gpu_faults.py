"""Bad input for the GPU stack, fed to the preflight on a real target with the GPU forced.

Each case makes the target bad in one way, runs site.yml's preflight (--check --tags
preflight, GPU forced, the kernel to build for set to the target's distro kernel), and
checks: the play stops at the task that meets the problem, with a message that names the
cause and the fix; nothing changed (changed=0, the provisioning play never started, the
installed packages are the same); then the target is put back.

- Secure Boot on: a tmpfs over the target's /sys/firmware (its own mount namespace) holds
  an EFI variable SecureBoot = 1, the one fake here (there is no firmware to switch);
- a held NVIDIA/CUDA package (apt-mark hold);
- a competing driver source (an apt source for the graphics-drivers PPA, via a lab mirror);
- no kernel headers for the kernel to build for;
- a driver branch the distro does not package (nvidia_driver_branch=999).

Needs a target with at least one NVIDIA or CUDA package installed (to hold): run by
prove.sh in the GPU profile (DLSTATION_TARGET_WORK, DLSTATION_TARGET_VARS).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import recap  # noqa: E402
from on_target import TARGET_MARKS, on_target  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = os.environ.get("DLSTATION_TARGET_WORK", "")
VARS = os.environ.get("DLSTATION_TARGET_VARS", "")
# EFI global variable GUID (UEFI spec); 4 bytes of attributes, then 1 = enabled.
SECURE_BOOT_VAR = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
# Packages to hold, the first installed one wins: Debian's driver, Ubuntu's
# nvidia-driver-<branch>[-server][-open], then NVIDIA's toolkit and cuDNN.
HOLDABLE = [
    r"nvidia-kernel-dkms",
    r"nvidia-driver",
    r"nvidia-driver-\d+(?:-server)?(?:-open)?",
    r"cuda-toolkit-12-5",
    r"libcudnn9-cuda-12",
]

pytestmark = TARGET_MARKS


@pytest.fixture(scope="module")
def kernel_release() -> str:
    # The distro's current kernel, as gpu_profile.sh names it: from Debian's
    # linux-headers-<arch>, or Ubuntu's linux-headers-generic.
    meta = f"linux-headers-{on_target('dpkg --print-architecture').strip()}"
    if re.search(r"^ID=ubuntu$", on_target("cat /etc/os-release"), re.M):
        meta = "linux-headers-generic"
    show = on_target(f"apt-cache show --no-all-versions {meta}")
    match = re.search(r"^Depends:.*?\blinux-headers-(\d[^\s,]*)", show, re.M)
    assert match, f"no distro kernel headers on the target:\n{show}"
    return match.group(1)


def packages() -> str:
    return on_target("dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n'")


def preflight(name: str, kernel: str, *extra: str) -> tuple[int, str, recap.HostRecap]:
    cmd = ["ansible-playbook", "-i", f"{WORK}/inventory", "playbooks/site.yml"]
    if VARS:
        cmd += ["-e", f"@{VARS}"]
    cmd += ["--check", "--tags", "preflight", "-e", "preflight_gpu_force=true"]
    cmd += ["-e", "preflight_gpu_disable=false", "-e", f"nvidia_driver_kernel_release={kernel}"]
    for item in extra:
        cmd += ["-e", item]
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{bindir}:{os.environ['PATH']}")
    log = Path(WORK, "logs", f"gpu-fault-{name}.log")
    with log.open("w") as out:
        proc = subprocess.run(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False
        )
    text = log.read_text(errors="replace")
    return proc.returncode, text, next(iter(recap.parse(text).values()))


def spoiled_preflight(
    name: str, kernel: str, spoil: str, undo: str
) -> tuple[int, str, recap.HostRecap]:
    """The preflight on the target made bad by the command spoil; undo puts it back, always."""
    on_target(spoil)
    try:
        return preflight(name, kernel)
    finally:
        on_target(undo)


def assert_stops_at(
    rc: int, text: str, host: recap.HostRecap, task: str | None, before: str, *needles: str
) -> None:
    """Stopped at the nvidia_driver task named (None: at one of them), changing nothing."""
    assert rc != 0, f"the preflight passed:\n{text[-3000:]}"
    if task is None:
        assert len(host.failed_tasks) == 1, host.failed_tasks
        assert host.failed_tasks[0].startswith("nvidia_driver : "), host.failed_tasks
    else:
        assert host.failed_tasks == [f"nvidia_driver : {task}"], host.failed_tasks
    assert host.count("changed") == 0, host.counts
    assert "PLAY [Provision the workstation]" not in text
    flat = re.sub(r"\s+", " ", text)
    for needle in needles:
        assert needle in flat, f"{needle!r} not in the message:\n{text[-3000:]}"
    assert packages() == before, "the installed packages changed"


def test_good_target_passes_the_gpu_preflight(kernel_release: str) -> None:
    """The control case: the same command on the unchanged target gets through."""
    rc, text, host = preflight("control", kernel_release)
    assert rc == 0 and host.count("failed") == 0, text[-3000:]


def test_secure_boot_on(kernel_release: str) -> None:
    before = packages()
    result = spoiled_preflight(
        "secure-boot",
        kernel_release,
        "mount -t tmpfs -o size=1m,mode=0755 dlstation-fake-efi /sys/firmware && "
        "mkdir -p /sys/firmware/efi/efivars && "
        f"printf '\\006\\000\\000\\000\\001' > /sys/firmware/efi/efivars/{SECURE_BOOT_VAR}",
        "umount /sys/firmware",
    )
    assert_stops_at(
        *result,
        "Fail when Secure Boot is on",
        before,
        "Secure Boot is enabled",
        "mokutil --import",
        "nvidia_driver_fail_on_secure_boot=false",
    )


def test_held_nvidia_package(kernel_release: str) -> None:
    before = packages()
    installed = [
        m.group(1)
        for p in HOLDABLE
        for m in [re.search(rf"^ii\s+({p})(?::\S+)?\s", before, re.M)]
        if m
    ]
    assert installed, f"none of {HOLDABLE} is installed to hold"
    result = spoiled_preflight(
        "held", kernel_release, f"apt-mark hold {installed[0]}", f"apt-mark unhold {installed[0]}"
    )
    assert_stops_at(
        *result,
        "Fail when NVIDIA or CUDA packages are held",
        before,
        f"Held packages block the driver install: {installed[0]}",
        "apt-mark unhold",
    )


def test_competing_driver_source(kernel_release: str) -> None:
    before = packages()
    path = "/etc/apt/sources.list.d/graphics-drivers-ubuntu-ppa.list"
    # A lab mirror of the graphics-drivers PPA (never read: the preflight only looks).
    line = "deb https://mirror.lab.invalid/graphics-drivers/ppa/ubuntu noble main"
    result = spoiled_preflight(
        "foreign-source", kernel_release, f"echo {shlex.quote(line)} > {path}", f"rm -f {path}"
    )
    assert_stops_at(
        *result,
        "Fail when a foreign NVIDIA driver source is configured",
        before,
        path,
        "graphics-drivers PPA",
        "nvidia_driver_fail_on_foreign_sources=false",
    )


def test_no_headers_for_the_kernel_to_build_for() -> None:
    before = packages()
    result = preflight("no-headers", "0.0.0-nonesuch")
    assert_stops_at(
        *result,
        "Fail when no headers exist for the kernel to build for",
        before,
        "No package linux-headers-0.0.0-nonesuch",
        "nvidia_driver_kernel_release",
    )


def test_driver_branch_the_distro_does_not_package(kernel_release: str) -> None:
    before = packages()
    # The branches the target's archive does package, read from its apt: Ubuntu's
    # nvidia-driver-<branch> names, or Debian's one nvidia-driver's version.
    names = on_target("apt-cache search --names-only '^nvidia-driver(-[0-9]+)?$'")
    branches = re.findall(r"^nvidia-driver-(\d+) ", names, re.M)
    if not branches:
        shown = on_target("apt-cache show --no-all-versions nvidia-driver")
        branches = re.findall(r"^Version: (?:\d+:)?(\d+)\.", shown, re.M)
    assert branches, f"the target's apt packages no NVIDIA driver:\n{names}"
    rc, text, host = preflight("no-such-branch", kernel_release, "nvidia_driver_branch=999")
    assert_stops_at(rc, text, host, None, before)
    failure = re.sub(r"\s+", " ", text[text.find("fatal: [") :])
    assert "999" in failure and re.search(r"packag", failure, re.I), failure[:3000]
    assert any(b in failure for b in branches), f"names none of {branches}: {failure[:3000]}"
