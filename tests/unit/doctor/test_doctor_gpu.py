"""GPU probe and check against a fake NVML (real pynvml errors) and fake /sys trees."""

from __future__ import annotations

import copy

import pynvml
import pytest
from doctor_fakes import H100, FakeNvml, fake_root, make_pci

from dlcheck.doctor.checks import registry
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.model import Report, Status
from dlcheck.doctor.render import render
from dlcheck.doctor.runner import exit_code
from dlcheck.host import nvml

NVIDIA_3D = ("0x10de", "0x030200")


def gpu_check(root, lib, env=None):
    ctx = Context(Options(root=root, nvml_lib=lib, env=env or {}))
    return registry()["gpu"].run(ctx)


def codes(result):
    return {f.code: f for f in result.findings}


@pytest.fixture
def root(tmp_path):
    return fake_root(tmp_path)


# --- nvml.query: each whole-NVML error has its own kind and hint ----------------------


@pytest.mark.parametrize(
    ("code", "kind", "hint_words"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, nvml.LIBRARY_NOT_FOUND, "libnvidia-ml.so.1"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, nvml.DRIVER_NOT_LOADED, "kernel module"),
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, nvml.VERSION_MISMATCH, "reboot"),
        (pynvml.NVML_ERROR_NO_PERMISSION, nvml.NO_PERMISSION, "/dev/nvidia"),
    ],
)
def test_init_errors_map_to_their_own_kind(code, kind, hint_words):
    snap = nvml.query(FakeNvml(init_error=code))
    assert snap.error is not None
    assert snap.error.kind == kind
    assert hint_words in snap.error.hint
    assert snap.gpus == []


def test_mismatch_is_not_no_driver():
    mismatch = nvml.query(FakeNvml(init_error=pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH)).error
    no_driver = nvml.query(FakeNvml(init_error=pynvml.NVML_ERROR_DRIVER_NOT_LOADED)).error
    assert mismatch and no_driver
    assert mismatch.kind != no_driver.kind
    assert mismatch.hint != no_driver.hint


def test_missing_pynvml_module(monkeypatch):
    monkeypatch.setattr(nvml, "_load", lambda: None)
    snap = nvml.query()
    assert snap.error and snap.error.kind == nvml.MODULE_MISSING
    assert "nvidia-ml-py" in snap.error.hint


def test_gpu_count_counts_and_shuts_down():
    lib = FakeNvml(gpus=[H100, H100])
    assert nvml.gpu_count(lib) == (2, None)
    assert lib.shutdowns == lib.initialised == 1


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, nvml.LIBRARY_NOT_FOUND),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, nvml.DRIVER_NOT_LOADED),
    ],
)
def test_gpu_count_without_nvml_is_zero_with_the_reason(code, kind):
    count, error = nvml.gpu_count(FakeNvml(init_error=code))
    assert count == 0 and error is not None and error.kind == kind


def test_healthy_h100_all_fields_and_shutdown():
    lib = FakeNvml()
    snap = nvml.query(lib)
    assert snap.error is None
    assert (snap.driver_version, snap.cuda_driver_version) == ("580.95.05", "13.0")
    (gpu,) = snap.gpus
    f = gpu.fields
    assert f["name"] == "NVIDIA H100 80GB HBM3"
    assert f["compute_capability"] == "9.0"
    assert f["memory_total_bytes"] == 85_520_809_984
    assert (f["power_w"], f["power_limit_w"]) == (71.0, 700.0)
    assert (f["sm_clock_mhz"], f["sm_clock_max_mhz"]) == (345, 1980)
    assert (f["pcie_gen"], f["pcie_width_max"]) == (5, 16)
    assert f["throttle_reasons"] == []  # idle is ignored
    assert f["retired_pages"] == 0
    assert f["pending_row_remaps"] is False
    assert f["persistence_mode"] is True and f["mig_mode"] is False
    assert gpu.not_available == [] and gpu.errors == {}
    assert lib.shutdowns == 1


def test_not_supported_field_is_not_available_alone(root):
    lib = FakeNvml(not_supported={"nvmlDeviceGetTemperature"})
    snap = nvml.query(lib)
    (gpu,) = snap.gpus
    assert gpu.not_available == ["temperature_c"]
    assert gpu.fields["temperature_c"] is None
    assert gpu.fields["power_w"] == 71.0  # the rest is still read
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    result = gpu_check(root, FakeNvml(not_supported={"nvmlDeviceGetTemperature"}))
    assert result.status == Status.OK
    assert result.facts["gpus"][0]["not_available"] == ["temperature_c"]
    report = Report("0", "2026-01-01T00:00:00Z", "h", False, 0.0, [result])
    text = "\n".join(line for line, _ in render(report, verbose=1))
    assert "temperature_c: not available" in text
    assert "power_w: 71.0" in text


def test_gpu_lost_mid_query_marks_that_gpu_only(root):
    second = copy.deepcopy(H100)
    second["uuid"] = "GPU-00000000-1111-2222-3333-444444444444"
    lib = FakeNvml(gpus=[copy.deepcopy(H100), second], lost_after={0: 5})
    snap = nvml.query(lib)
    assert snap.gpus[0].lost is True
    assert snap.gpus[1].lost is False
    assert snap.gpus[1].fields["uuid"] == second["uuid"]
    assert lib.shutdowns == 1
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    make_pci(root, "0000:02:00.0", *NVIDIA_3D, driver="nvidia")
    result = gpu_check(root, FakeNvml(gpus=[copy.deepcopy(H100), second], lost_after={0: 5}))
    assert result.status == Status.FAIL
    assert "Xid" in codes(result)["gpu.lost"].hint


def test_per_field_permission_error_is_a_warning(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    lib = FakeNvml(field_errors={"nvmlDeviceGetSerial": pynvml.NVML_ERROR_NO_PERMISSION})
    result = gpu_check(root, lib)
    assert result.status == Status.WARN
    assert "serial" in codes(result)["gpu.field_error"].message


def test_healthy_gpu_check(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    result = gpu_check(root, FakeNvml())
    assert result.status == Status.OK
    assert result.facts["nvidia_pci_devices"] == 1
    assert result.facts["cuda_driver_version"] == "13.0"
    assert result.facts["gpus"][0]["uuid"] == H100["uuid"]
    assert "H100" in result.summary


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"temperature": 91}, "gpu.hot", Status.WARN),
        ({"reasons": 0x1 | 0x40}, "gpu.throttled", Status.WARN),
        ({"ecc": 3}, "gpu.ecc_uncorrected", Status.WARN),
        ({"remap": (0, 1, 1, 0)}, "gpu.row_remap_pending", Status.WARN),
        ({"remap": (0, 1, 0, 1)}, "gpu.row_remap_failure", Status.FAIL),
        ({"retired": [0x1000, 0x2000]}, "gpu.retired_pages", Status.WARN),
        ({"pcie": (4, 5, 8, 16)}, "gpu.pcie_narrow", Status.WARN),
    ],
)
def test_gpu_health_findings(root, change, code, status):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    gpu = copy.deepcopy(H100)
    gpu.update(change)
    result = gpu_check(root, FakeNvml(gpus=[gpu]))
    assert codes(result)[code].status == status
    assert result.status == status


def test_pcie_gen_downshift_alone_is_fine(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    gpu = copy.deepcopy(H100)
    gpu["pcie"] = (1, 5, 16, 16)  # idle GPUs drop to gen 1 to save power
    assert gpu_check(root, FakeNvml(gpus=[gpu])).status == Status.OK


# --- PCI, kernel modules, and NVML together ------------------------------------------------


def test_nvidia_device_without_driver_fails(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver=None)
    result = gpu_check(root, FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    assert result.status == Status.FAIL
    finding = codes(result)["gpu.nvml_library_not_found"]
    assert "no kernel driver bound to 0000:01:00.0" in finding.message
    assert "install the NVIDIA driver" in finding.hint
    assert result.facts["nvidia_pci_devices"] == 1


def test_driver_not_loaded_with_secure_boot_says_so(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver=None)
    efivars = root / "sys/firmware/efi/efivars"
    efivars.mkdir(parents=True)
    (efivars / "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c").write_bytes(b"\x06\0\0\0\x01")
    result = gpu_check(root, FakeNvml(init_error=pynvml.NVML_ERROR_DRIVER_NOT_LOADED))
    finding = codes(result)["gpu.nvml_driver_not_loaded"]
    assert finding.status == Status.FAIL
    assert "Secure Boot" in finding.hint


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, "version_mismatch"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no_permission"),
    ],
)
def test_pci_present_nvml_broken_fails_with_its_kind(root, code, kind):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    result = gpu_check(root, FakeNvml(init_error=code))
    assert result.status == Status.FAIL
    assert f"gpu.nvml_{kind}" in codes(result)
    assert result.facts["nvml_error"] == kind


def test_nouveau_loaded_fails_with_fix(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nouveau")
    (root / "sys/module/nouveau").mkdir()
    result = gpu_check(root, FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    finding = codes(result)["gpu.nouveau_loaded"]
    assert finding.status == Status.FAIL
    assert "blacklist" in finding.hint
    assert result.facts["pci"][0]["driver"] == "nouveau"


def test_nouveau_seen_in_proc_modules(root):
    (root / "proc/modules").write_text("nouveau 2654208 1 - Live 0x0\nvideo 65536 1 nouveau\n")
    result = gpu_check(root, FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    assert result.status == Status.FAIL
    assert "gpu.nouveau_loaded" in codes(result)


def test_no_nvidia_device_skips_and_exits_zero(root):
    make_pci(root, "0000:00:02.0", "0x8086", "0x030000", driver="i915")  # Intel iGPU
    make_pci(root, "0000:01:00.1", "0x10de", "0x040300")  # an NVIDIA HDMI audio function
    result = gpu_check(root, FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    assert result.status == Status.SKIP
    assert result.facts["nvidia_pci_devices"] == 0
    report = Report("0", "2026-01-01T00:00:00Z", "h", False, 0.0, [result])
    assert exit_code(report) == 0


def test_unreadable_sysfs_file_is_a_clear_result(root):
    dev = make_pci(root, "0000:01:00.0", *NVIDIA_3D)
    (dev / "vendor").unlink()
    (dev / "vendor").mkdir()  # reading it fails even as root
    result = gpu_check(root, FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    finding = codes(result)["gpu.unreadable"]
    assert finding.status == Status.WARN
    assert "cannot read /sys/bus/pci/devices/0000:01:00.0/vendor" in finding.message


def test_missing_pci_tree_is_reported(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    result = gpu_check(root, FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    assert "gpu.pci_unreadable" in codes(result)
    assert result.facts["nvidia_pci_devices"] is None


# --- CUDA_VISIBLE_DEVICES against NVML --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code", "status"),
    [
        ("0", "gpu.cuda_visible_devices", Status.OK),
        (H100["uuid"][:12], "gpu.cuda_visible_devices", Status.OK),
        ("1", "gpu.cuda_visible_devices_invalid", Status.FAIL),
        ("GPU-deadbeef", "gpu.cuda_visible_devices_invalid", Status.FAIL),
        ("", "gpu.cuda_visible_devices_none", Status.WARN),
        ("-1", "gpu.cuda_visible_devices_none", Status.WARN),
    ],
)
def test_cuda_visible_devices(root, value, code, status):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    result = gpu_check(root, FakeNvml(), env={"CUDA_VISIBLE_DEVICES": value})
    assert codes(result)[code].status == status
