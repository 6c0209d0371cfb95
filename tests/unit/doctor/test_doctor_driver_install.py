"""A driver installed but not in use: its packages (dpkg's database) and modules
(/lib/modules) in a fake root, NVML failing as it does there (real pynvml error codes).

The GPU proof's target is the first case: driver from Debian's non-free, its module built by
DKMS for the distro kernel, no GPU and no loaded module.
"""

from __future__ import annotations

import pynvml
import pytest
from doctor_fakes import FakeNvml, fake_root, make_pci

from dlcheck.doctor.checks import registry
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.model import Status
from dlcheck.doctor.probes.driver_install import probe_driver_install

NVIDIA_3D = ("0x10de", "0x030200")
BUILT_FOR = "6.1.0-28-amd64"
RUNNING = "6.8.0-1-cloud"
# Stanzas as dpkg writes them; a removed package leaves its config files behind.
DPKG_STATUS = """\
Package: nvidia-driver
Status: install ok installed
Version: 535.247.01-1~deb12u1

Package: nvidia-kernel-dkms
Status: install ok installed
Version: 535.247.01-1~deb12u1

Package: libnvidia-ml1
Status: install ok installed
Version: 535.247.01-1~deb12u1

Package: nvidia-legacy-390xx-driver
Status: deinstall ok config-files
Version: 390.157-1

Package: bash
Status: install ok installed
Version: 5.2.15-2+b7
"""


@pytest.fixture
def root(tmp_path):
    root = fake_root(tmp_path)
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/osrelease").write_text(RUNNING + "\n")
    return root


def install_driver(root, built_for=(BUILT_FOR,), headers=(BUILT_FOR,), status=DPKG_STATUS):
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(status)
    for kernel in built_for:
        dkms = root / "lib/modules" / kernel / "updates/dkms"
        dkms.mkdir(parents=True)
        (dkms / "nvidia-current.ko.xz").write_bytes(b"")  # Debian's name for it
    for kernel in headers:
        build = root / "lib/modules" / kernel / "build"
        build.mkdir(parents=True)
        (build / "Makefile").write_text("")


def gpu_check(root, init_error=pynvml.NVML_ERROR_DRIVER_NOT_LOADED):
    ctx = Context(Options(root=root, nvml_lib=FakeNvml(init_error=init_error), env={}))
    return registry()["gpu"].run(ctx)


def only(result):
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def test_probe_reads_installed_packages_and_module_kernels(root):
    install_driver(root, built_for=(BUILT_FOR, "6.1.0-27-amd64"))
    found = probe_driver_install(root)
    assert found.packages == {
        "nvidia-driver": "535.247.01-1~deb12u1",
        "nvidia-kernel-dkms": "535.247.01-1~deb12u1",
        "libnvidia-ml1": "535.247.01-1~deb12u1",
    }
    assert found.version == "535.247.01"
    assert found.module_kernels == ["6.1.0-27-amd64", BUILT_FOR]
    assert found.headers_kernels == [BUILT_FOR]


def test_probe_finds_ubuntus_prebuilt_module(root):
    status = (
        "Package: nvidia-driver-570-open\nStatus: install ok installed\n"
        "Version: 570.195.03-0ubuntu0.24.04.1\n"
    )
    install_driver(root, built_for=(), headers=(), status=status)
    prebuilt = root / "lib/modules/6.8.0-45-generic/kernel/nvidia-570-open"
    prebuilt.mkdir(parents=True)
    (prebuilt / "nvidia.ko").write_bytes(b"")
    found = probe_driver_install(root)
    assert found.version == "570.195.03"
    assert found.module_kernels == ["6.8.0-45-generic"]


def test_no_gpu_driver_installed_is_a_skip_that_names_the_driver(root):
    install_driver(root)
    for error in (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, pynvml.NVML_ERROR_LIBRARY_NOT_FOUND):
        result = gpu_check(root, error)
        assert result.status == Status.SKIP
        assert result.summary == (
            f"no NVIDIA GPU on the PCI bus; NVIDIA driver 535.247.01 installed "
            f"(module for {BUILT_FOR}), not needed here"
        )
        finding = only(result)
        assert (finding.code, finding.status) == ("gpu.driver_without_gpu", Status.OK)
        assert "lspci" in finding.hint
        assert result.facts["driver_module_kernels"] == [BUILT_FOR]


def test_no_gpu_no_driver_keeps_the_plain_skip(root):
    result = gpu_check(root, pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    assert result.status == Status.SKIP
    assert result.summary == "no NVIDIA GPU found; GPU checks skipped"
    assert result.findings == []


def test_gpu_and_module_for_another_kernel_says_which(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D)
    install_driver(root)
    finding = only(gpu_check(root))
    assert (finding.code, finding.status) == ("gpu.driver_not_loaded", Status.FAIL)
    assert f"none for the running kernel {RUNNING}" in finding.message
    assert f"reboot into {BUILT_FOR}" in finding.hint
    assert f"linux-headers-{RUNNING}" in finding.hint


def test_gpu_headers_but_no_module_for_the_running_kernel_says_build_it(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D)
    install_driver(root, headers=(BUILT_FOR, RUNNING))
    finding = only(gpu_check(root))
    assert f"dkms autoinstall -k {RUNNING}" in finding.hint


def test_gpu_module_built_not_loaded_says_reboot(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D)
    install_driver(root, built_for=(RUNNING,), headers=(RUNNING,))
    result = gpu_check(root)
    assert result.status == Status.FAIL
    assert result.summary == "1 NVIDIA device(s), driver installed but its module not loaded"
    finding = only(result)
    assert "its module is not loaded" in finding.message
    assert "reboot" in finding.hint and "modprobe nvidia" in finding.hint


def test_gpu_module_built_secure_boot_on_says_enroll_the_key(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D)
    install_driver(root, built_for=(RUNNING,), headers=(RUNNING,))
    efivars = root / "sys/firmware/efi/efivars"
    efivars.mkdir(parents=True)
    (efivars / "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c").write_bytes(b"\x06\0\0\0\x01")
    finding = only(gpu_check(root))
    assert "Secure Boot is on" in finding.message
    assert "mokutil --import" in finding.hint


def test_gpu_held_by_nouveau_says_the_blacklist_needs_a_boot(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nouveau")
    (root / "sys/module/nouveau").mkdir()
    install_driver(root, built_for=(RUNNING,), headers=(RUNNING,))
    found = {f.code: f for f in gpu_check(root).findings}
    assert "nouveau holds the GPU" in found["gpu.driver_not_loaded"].message
    assert "update-initramfs -u" in found["gpu.driver_not_loaded"].hint
    assert "gpu.nouveau_loaded" in found


def test_module_loaded_but_nvml_failing_says_the_module_is_loaded(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    (root / "sys/module/nvidia").mkdir()
    install_driver(root, built_for=(RUNNING,), headers=(RUNNING,))
    finding = only(gpu_check(root, pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    assert finding.code == "gpu.nvml_library_not_found"
    assert finding.message.startswith("the nvidia module is loaded, but NVML cannot use")
