"""GPU hosts only (skipped where no NVIDIA GPU was detected, or with --gpu=no).

Two kinds: the installed GPU stack (driver packages, the module DKMS built, nouveau
blacklisted, no global LD_LIBRARY_PATH, the frameworks' CUDA wheels), which the GPU proof
checks on a target without a GPU (`-m "not gpu_device"`); and the GPU itself
(`gpu_device`: nvidia-smi, the loaded module, TensorFlow seeing the device).
"""

from __future__ import annotations

import json
import re

import pytest
import rolevars
from helpers import run_ok

pytestmark = pytest.mark.gpu

COMPAT = json.loads((rolevars.REPO / "dlcheck" / "compat" / "compat.json").read_text())


def _installed(host, pattern: str) -> list[str]:
    """Installed packages whose names match the shell pattern."""
    out = host.run("dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n' %s", pattern)
    return [ln.split(None, 1)[1] for ln in out.stdout.splitlines() if ln.startswith("ii ")]


def _driver_version(host) -> str:
    """The installed driver's version (Debian nvidia-driver, Ubuntu nvidia-driver-<branch>*)."""
    found = _installed(host, "nvidia-driver") or _installed(host, "nvidia-driver-[0-9]*")
    assert found, "no nvidia-driver package is installed"
    return found[0].split()[1]


def test_driver_package_installed(host) -> None:
    version = _driver_version(host)
    assert re.match(r"\d{3}\.", version), version


def test_driver_choice_recorded_for_the_installed_driver(host) -> None:
    choice = json.loads(run_ok(host, "cat /var/lib/dlstation/driver-choice.json").stdout)
    assert choice["error"] == "" and choice["reason"], choice
    assert _driver_version(host).startswith(choice["branch"] + "."), choice


def test_reboot_pending_until_the_installed_module_is_loaded(host) -> None:
    # The marker the nvidia_driver role keeps until /sys/module/nvidia/version is the driver's.
    loaded = host.file("/sys/module/nvidia/version")
    loaded_version = loaded.content_string.strip() if loaded.exists else ""
    pending = host.file("/var/lib/dlstation/reboot-pending").exists
    installed = _driver_version(host).split(":")[-1]
    matches = bool(loaded_version) and installed.startswith(loaded_version + "-")
    assert pending != matches, f"module {loaded_version or 'not loaded'}, driver {installed}"


def test_kernel_module_built_or_packaged(host) -> None:
    # DKMS built nvidia.ko for a kernel whose headers are installed, or the distro ships the
    # module prebuilt (Ubuntu's linux-modules-nvidia-<branch>-<flavour>).
    prebuilt = _installed(host, "linux-modules-nvidia-*")
    if prebuilt:
        return
    # Debian names the module nvidia-current.ko (its nvidia-kernel-dkms), others nvidia.ko.
    find = "find /lib/modules -path '*dkms*' -regextype egrep -regex '.*/nvidia(-current)?\\.ko.*'"
    modules = host.run(find).stdout.split()
    assert modules, run_ok(host, "dkms status || true").stdout or "dkms built no nvidia module"
    kernels = {m.split("/")[3] for m in modules}
    headers = {k for k in kernels if host.file(f"/lib/modules/{k}/build").exists}
    assert headers == kernels, f"modules for kernels without headers: {kernels - headers}"


def test_doctor_names_the_installed_driver(host, venv: str) -> None:
    # On the GPU proof's target (driver installed, no GPU, no module loaded) the verdict is a
    # skip that names the driver and the kernel its module was built for; on a GPU host the
    # driver NVML reports is the installed package's.
    result = host.run("%s/bin/dlcheck doctor --json gpu", venv)
    assert result.rc == 0, f"dlcheck doctor gpu exited {result.rc}: {result.stderr[-2000:]}"
    check = json.loads(result.stdout)["checks"][0]
    version = _driver_version(host).split("-")[0]
    if check["facts"]["nvidia_pci_devices"]:
        assert check["status"] == "ok", check["summary"]
        assert check["facts"]["driver_version"] == version
        return
    kernels = check["facts"]["driver_module_kernels"]
    assert kernels, f"the doctor found no nvidia module under /lib/modules: {check['facts']}"
    assert check["status"] == "skip", check["summary"]
    assert check["summary"] == (
        f"no NVIDIA GPU on the PCI bus; NVIDIA driver {version} installed "
        f"(module for {', '.join(kernels)}), not needed here"
    )


def test_nouveau_blacklisted(host) -> None:
    conf = run_ok(host, "cat /etc/modprobe.d/*.conf").stdout
    assert re.search(r"^blacklist nouveau$", conf, re.M), "nouveau is not blacklisted"


def test_unattended_upgrades_leave_the_driver_alone(host) -> None:
    conf = host.file("/etc/apt/apt.conf.d/51dlstation-nvidia")
    assert conf.exists and '"nvidia-";' in conf.content_string


def test_no_global_ld_library_path(host) -> None:
    files = "/etc/environment /etc/profile /etc/profile.d /etc/bash.bashrc /etc/ld.so.preload"
    hits = host.run("grep -rls LD_LIBRARY_PATH %s", files).stdout.split()
    # A comment that explains why it is not set is not a setting.
    set_here = [f for f in hits if host.run("grep -Eq '^[^#]*LD_LIBRARY_PATH=' %s", f).rc == 0]
    assert set_here == [], f"LD_LIBRARY_PATH set globally in {set_here}"
    assert run_ok(host, "env -i bash -lc 'echo \"[$LD_LIBRARY_PATH]\"'").stdout.strip() == "[]"


def test_tensorflow_is_built_for_a_cuda_the_driver_runs(host, py: str) -> None:
    code = (
        "import json, tensorflow as tf; b = tf.sysconfig.get_build_info();"
        "print(json.dumps({'cuda': b.get('cuda_version'), 'gpu': b.get('is_cuda_build')}))"
    )
    info = json.loads(run_ok(host, f"{py} -c %s", code).stdout.strip().splitlines()[-1])
    assert info["gpu"] and info["cuda"], f"TensorFlow is not a CUDA build: {info}"
    major = info["cuda"].split(".")[0]
    floor = COMPAT["cuda_driver_floor"]["by_cuda_major"][major]
    driver = _driver_version(host).split("-")[0]

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v)[:3])

    assert key(driver) >= key(floor), f"driver {driver} < {floor}, the floor of CUDA {major}"
    wheels = run_ok(host, f"{py} -m pip list --format=freeze").stdout
    assert re.search(rf"^nvidia-cudnn-cu{major}==", wheels, re.M), "no cuDNN wheel in the venv"


def test_nvcc_runs_from_a_login_shell(host) -> None:
    out = run_ok(host, "bash -lc 'nvcc --version'").stdout
    assert re.search(r"release \d+\.\d+", out), out


@pytest.mark.gpu_device
def test_nvidia_smi_lists_a_gpu(host) -> None:
    out = run_ok(host, "nvidia-smi -L").stdout
    assert re.search(r"^GPU \d+: ", out, re.MULTILINE), out


@pytest.mark.gpu_device
def test_driver_module_matches_user_space_library(host) -> None:
    # The kernel module's version, and the version in libcuda's file name: after an
    # upgrade without a reboot they differ and every CUDA program fails to initialise.
    proc = run_ok(host, "cat /proc/driver/nvidia/version").stdout
    module = re.search(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)", proc)
    assert module, f"no module version in /proc/driver/nvidia/version: {proc}"
    lib = run_ok(
        host, "readlink -f $(ldconfig -p | awk '/libcuda\\.so\\.1 / {print $NF; exit}')"
    ).stdout.strip()
    user = re.search(r"libcuda\.so\.(\d+\.\d+(?:\.\d+)?)$", lib)
    assert user, f"cannot read the user-space driver version from {lib!r}"
    assert module.group(1) == user.group(1), f"module {module.group(1)}, library {user.group(1)}"


@pytest.mark.gpu_device
def test_tensorflow_lists_the_gpu(host, py: str) -> None:
    code = "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"
    out = run_ok(host, f"{py} -c %s", code).stdout.strip().splitlines()[-1]
    assert int(out) >= 1, "TensorFlow sees no GPU"
