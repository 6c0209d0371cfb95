"""The compatibility rules as the doctor's checks apply them: fake NVML, a fake /proc and
/sys tree, recorded framework probes."""

from __future__ import annotations

import copy
import os

import pynvml
import pytest
from doctor_fakes import H100, TF_2_21_GPU, FakeNvml, fake_root, make_pci

from dlcheck.doctor.checks import registry
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.judging import import_errors
from dlcheck.doctor.model import Status
from dlcheck.doctor.probes.cuda import CudaProbe, Library, PathEntry
from dlcheck.doctor.probes.devices import kernel_module_flavour
from dlcheck.doctor.probes.frameworks import FrameworkProbe, probe_frameworks
from dlcheck.doctor.probes.host import HostInfo
from dlcheck.doctor.probes.imports import ChildOutcome

NVIDIA_3D = ("0x10de", "0x030200")
OPEN_BANNER = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build  "
    "(dvs-builder@U22)  Tue Sep 23 09:55:41 UTC 2025\nGCC version:  gcc version 11.4.0\n"
)
PROPRIETARY_BANNER = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Tue Sep 23 2025\n"
    "GCC version:  gcc version 11.4.0\n"
)


def gpu(name, cc, **extra):
    record = copy.deepcopy(H100)
    record.update(name=name, cc=cc, **extra)
    return record


@pytest.fixture
def root(tmp_path):
    return fake_root(tmp_path)


def with_module(root, banner):
    (root / "proc/driver/nvidia").mkdir(parents=True)
    (root / "proc/driver/nvidia/version").write_text(banner)
    (root / "dev").mkdir(exist_ok=True)
    (root / "dev/nvidia0").write_text("")
    return root


def run(name, root, lib, frameworks=None, cuda=None, host=None):
    ctx = Context(Options(root=root, nvml_lib=lib, env={}))
    if frameworks is not None:
        ctx.preset("frameworks", frameworks)
    if cuda is not None:
        ctx.preset("cuda", cuda)
    if host is not None:
        ctx.preset("host", host)
    return registry()[name].run(ctx)


def codes(result):
    return {f.code: f for f in result.findings}


# --- kernel-module flavour -------------------------------------------------------------


def test_flavour_is_read_from_the_module_banner(root):
    assert kernel_module_flavour(root) is None
    with_module(root, OPEN_BANNER)
    assert kernel_module_flavour(root) == "open"
    (root / "proc/driver/nvidia/version").write_text(PROPRIETARY_BANNER)
    assert kernel_module_flavour(root) == "proprietary"


def test_blackwell_on_the_proprietary_modules_fails_naming_the_open_ones(root):
    with_module(root, PROPRIETARY_BANNER)
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    result = run("gpu", root, FakeNvml(gpus=[gpu("NVIDIA GeForce RTX 5090", (12, 0))]))
    finding = codes(result)["gpu.needs_open_kernel_modules"]
    assert finding.status == Status.FAIL and "-M=open" in finding.hint
    assert result.status == Status.FAIL
    assert result.facts["module_flavour"] == "proprietary"


def test_blackwell_on_the_open_modules_is_fine(root):
    with_module(root, OPEN_BANNER)
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    result = run("gpu", root, FakeNvml(gpus=[gpu("NVIDIA B200", (10, 0))]))
    assert result.status == Status.OK, result.findings


# --- driver branch end of life -------------------------------------------------------


def test_driver_535_warns_and_names_a_maintained_branch(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    lib = FakeNvml(gpus=[gpu("NVIDIA A100", (8, 0))], driver="535.247.01", cuda=12020)
    result = run("gpu", root, lib)
    finding = codes(result)["compat.driver_branch_eol"]
    assert result.status == Status.WARN  # a warning, not a failure
    assert "580 branch" in finding.hint


def test_kepler_on_470_is_not_sent_to_a_newer_branch(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    lib = FakeNvml(gpus=[gpu("Tesla K80", (3, 7))], driver="470.256.02", cuda=11040)
    finding = codes(run("gpu", root, lib))["compat.driver_branch_eol"]
    assert "470 branch is the last for Kepler" in finding.hint
    assert "580" not in finding.hint and "555" not in finding.hint


# --- where the GPU is when NVML cannot see it -----------------------------------------


def not_found():
    return FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)


def test_container_started_without_the_gpu(root):
    (root / ".dockerenv").write_text("")
    make_pci(root, "0000:01:00.0", *NVIDIA_3D)  # the host's GPU, seen through /sys
    result = run("gpu", root, not_found())
    finding = codes(result)["gpu.container_without_gpu"]
    assert finding.status == Status.FAIL
    assert "--gpus all" in finding.hint and "NVIDIA Container Toolkit" in finding.hint
    assert "gpu.nvml_library_not_found" not in codes(result)  # not "install the driver"


def test_outside_a_container_the_same_host_needs_the_driver(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D)
    result = run("gpu", root, not_found())
    assert "gpu.nvml_library_not_found" in codes(result)
    assert "gpu.container_without_gpu" not in codes(result)


def test_container_with_the_device_nodes_is_judged_as_a_host(root):
    (root / ".dockerenv").write_text("")
    (root / "dev").mkdir()
    (root / "dev/nvidia0").write_text("")
    make_pci(root, "0000:01:00.0", *NVIDIA_3D)
    assert "gpu.container_without_gpu" not in codes(run("gpu", root, not_found()))


def test_gpu_bound_to_vfio_pci_is_named_with_how_to_unbind(root):
    make_pci(root, "0000:41:00.0", *NVIDIA_3D, driver="vfio-pci")
    lib = FakeNvml(init_error=pynvml.NVML_ERROR_DRIVER_NOT_LOADED)
    finding = codes(run("gpu", root, lib))["gpu.vfio_bound"]
    assert finding.status == Status.FAIL and "0000:41:00.0" in finding.message
    assert "/sys/bus/pci/drivers/vfio-pci/unbind" in finding.hint


def test_one_gpu_in_a_vm_and_one_here_is_a_warning(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    make_pci(root, "0000:41:00.0", *NVIDIA_3D, driver="vfio-pci")
    assert codes(run("gpu", root, FakeNvml()))["gpu.vfio_bound"].status == Status.WARN


# --- frameworks: hints that fit a GPU host ---------------------------------------------


def absent(name):
    return FrameworkProbe(name, False, False)


def all_absent():
    return {n: absent(n) for n in ("tensorflow", "keras", "torch", "jax")}


def test_gpu_host_is_never_told_to_install_the_cpu_tensorflow(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    result = run("frameworks", root, FakeNvml(), all_absent())
    hint = codes(result)["frameworks.tensorflow_not_installed"].hint
    assert hint == "pip install 'dlcheck[tf-gpu]'"


def test_cpu_host_gets_the_cpu_tensorflow(root):
    lib = FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    result = run("frameworks", root, lib, all_absent())
    assert codes(result)["frameworks.tensorflow_not_installed"].hint == "pip install 'dlcheck[tf]'"


def jax_on_cpu():
    probes = all_absent()
    facts = {"version": "0.11.2", "backend": "cpu", "devices": ["cpu:0"], "cuda": None}
    probes["jax"] = FrameworkProbe("jax", True, True, facts=facts)
    return probes


@pytest.mark.parametrize(
    ("name", "cc", "driver", "plugin"),
    [
        ("NVIDIA H100", (9, 0), "580.95.05", "jax[cuda13]"),
        ("Tesla T4", (7, 5), "575.57.08", "jax[cuda12]"),  # CUDA 13 needs driver 580
        ("Tesla V100", (7, 0), "580.95.05", "jax[cuda12]"),  # CUDA 13 needs SM 7.5
    ],
)
def test_jax_hint_names_the_plugin_that_fits(root, name, cc, driver, plugin):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    lib = FakeNvml(gpus=[gpu(name, cc)], driver=driver)
    hint = codes(run("frameworks", root, lib, jax_on_cpu()))["frameworks.jax_cpu_only"].hint
    assert plugin in hint


def test_no_jax_hint_while_nvml_fails(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    lib = FakeNvml(init_error=pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH)
    assert "frameworks.jax_cpu_only" not in codes(run("frameworks", root, lib, jax_on_cpu()))


# --- why an import failed -------------------------------------------------------------


def broken(name, error):
    probes = all_absent()
    probes[name] = FrameworkProbe(name, True, False, error=error)
    return probes


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (
            "ImportError: A module that was compiled using NumPy 1.x cannot be run in "
            "NumPy 2.1.0 as it may crash.",
            "frameworks.torch_numpy_abi",
            "numpy<2",
        ),
        (
            "ImportError: libcudnn.so.9: cannot open shared object file: No such file or directory",
            "frameworks.torch_missing_library",
            "libcudnn.so.9",
        ),
        (
            "ImportError: libgomp.so.1: cannot open shared object file: No such file or directory",
            "frameworks.torch_missing_library",
            "libgomp.so.1",
        ),
    ],
)
def test_import_failure_gets_the_fix_for_its_cause(root, error, code, words):
    result = run("frameworks", root, FakeNvml(), broken("torch", error))
    finding = codes(result)[code]
    assert finding.status == Status.FAIL and words in finding.hint
    assert "reinstall it" not in finding.hint


def test_cudnn_from_ld_library_path_names_the_directory(root):
    cuda = CudaProbe(
        ld_library_path=[PathEntry("/opt/cudnn-8.9/lib", True, None)],
        ld_library_path_cuda={"/opt/cudnn-8.9/lib": ["libcudnn.so.8"]},
    )
    error = "RuntimeError: cuDNN version incompatibility: PyTorch was compiled against 90100"
    result = run("frameworks", root, FakeNvml(), broken("torch", error), cuda=cuda)
    finding = codes(result)["frameworks.torch_ld_library_path_cuda"]
    assert "/opt/cudnn-8.9/lib" in finding.message and "LD_LIBRARY_PATH" in finding.hint


def test_unrecognised_failure_keeps_the_reinstall_hint(root):
    result = run("frameworks", root, FakeNvml(), broken("torch", "RuntimeError: something new"))
    assert "reinstall it" in codes(result)["frameworks.torch_import_failed"].hint


def test_illegal_instruction_names_the_missing_cpu_flag(root):
    outcome = ChildOutcome("signal", "the probe was killed by SIGILL (Illegal instruction)")
    probes = all_absent()
    probes["tensorflow"] = FrameworkProbe("tensorflow", None, False, outcome=outcome)
    host = HostInfo(cpu_flags={"sse2", "sse4_2"})
    result = run("frameworks", root, FakeNvml(), probes, host=host)
    finding = codes(result)["frameworks.tensorflow_illegal_instruction"]
    assert "AVX" in finding.message and "AVX" in finding.hint


def test_classify_reads_numpy_before_the_libraries_it_mentions():
    text = "compiled using NumPy 1.x ... libcudnn.so.9: cannot open shared object file"
    cause = import_errors.classify("tensorflow", text, [], {}, None)
    assert cause is not None and cause.code == "frameworks.tensorflow_numpy_abi"


# --- what the framework really loads ---------------------------------------------------

# A JAX whose process maps a cuDNN, as the real one does after its first GPU op.
FAKE_JAX_MAPPING_CUDNN = """
import mmap, os
_file = open(os.path.join(os.environ["FAKE_CUDNN_DIR"], "libcudnn.so.9.3.0"), "rb")
_map = mmap.mmap(_file.fileno(), 0, access=mmap.ACCESS_READ)
__version__ = "0.11.2"
default_backend = lambda: "gpu"
devices = lambda: ["cuda:0"]
"""


def test_child_reports_the_cudnn_its_process_mapped(tmp_path):
    site, libs = tmp_path / "site", tmp_path / "libs"
    (site / "jax").mkdir(parents=True)
    (site / "jax/__init__.py").write_text(FAKE_JAX_MAPPING_CUDNN)
    libs.mkdir()
    (libs / "libcudnn.so.9.3.0").write_bytes(b"\0" * 4096)
    env = dict(os.environ, PYTHONPATH=str(site), FAKE_CUDNN_DIR=str(libs))
    probe = probe_frameworks(60.0, None, env)["jax"]
    assert probe.ok, probe.error
    assert probe.facts["loaded"]["cudnn"] == {
        "path": str(libs / "libcudnn.so.9.3.0"),
        "version": "9.3.0",
    }


def test_jax_judged_by_the_cudnn_it_loaded(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    facts = {
        "version": "0.11.2",
        "backend": "gpu",
        "cuda": "13",
        "loaded": {
            "cudnn": {"path": "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.3.0", "version": "9.3.0"}
        },
    }
    probes = {"jax": FrameworkProbe("jax", True, True, facts=facts)}
    finding = codes(run("compat", root, FakeNvml(), probes, cuda=CudaProbe()))[
        "compat.jax_cudnn_too_old"
    ]
    assert "9.3.0" in finding.message and "9.8" in finding.message


def test_tensorflow_judged_by_the_cudnn_it_loaded_not_the_one_on_disk(root):
    make_pci(root, "0000:01:00.0", *NVIDIA_3D, driver="nvidia")
    loaded = {"cudnn": {"path": "/opt/cudnn8/lib/libcudnn.so.8.9.7", "version": "8.9.7"}}
    facts = {k: v for k, v in TF_2_21_GPU.items() if k != "gpu_op_ok"} | {"loaded": loaded}
    disk = CudaProbe(
        libraries=[Library("cudnn", "9.3.0.75", "/venv/nvidia/cudnn/lib/libcudnn.so.9", "pip")]
    )
    probes = {"tensorflow": FrameworkProbe("tensorflow", True, True, facts=facts)}
    finding = codes(run("compat", root, FakeNvml(), probes, cuda=disk))[
        "compat.cudnn_major_mismatch"
    ]
    assert "/opt/cudnn8/lib/libcudnn.so.8.9.7" in finding.message


def test_effective_cudnn_does_not_depend_on_listing_order():
    old = Library("cudnn", "8.9.7.29", "/venv/a/nvidia/cudnn/lib/libcudnn.so.8", "pip")
    new = Library("cudnn", "9.8.0.87", "/venv/b/nvidia/cudnn/lib/libcudnn.so.9", "pip")
    assert CudaProbe(libraries=[old, new]).effective("cudnn") == ("9.8.0.87", "pip")
    assert CudaProbe(libraries=[new, old]).effective("cudnn") == ("9.8.0.87", "pip")
