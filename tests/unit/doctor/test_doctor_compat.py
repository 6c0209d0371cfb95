"""The compatibility arithmetic and the compat check on recorded probe data."""

from __future__ import annotations

import copy

import pytest
from doctor_fakes import H100, FakeNvml, fake_root, make_pci

from dlcheck import compat
from dlcheck.doctor.checks import registry
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.model import Status
from dlcheck.doctor.probes.cuda import CudaProbe, Library
from dlcheck.doctor.probes.frameworks import FrameworkProbe

TF_2_21_GPU = {
    "version": "2.21.0",
    "built_with_cuda": True,
    "cuda": "12.5.1",
    "cudnn": "9",
    "archs": ["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"],
    "gpus": ["/physical_device:GPU:0"],
    "gpu_op_ok": True,
}
PIP_CUDA = CudaProbe(
    libraries=[
        Library(
            "cudart",
            "12.5.82",
            "/venv/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12",
            "pip",
        ),
        Library("cudnn", "9.3.0.75", "/venv/site-packages/nvidia/cudnn/lib/libcudnn.so.9", "pip"),
    ]
)


@pytest.mark.parametrize(
    ("cc", "archs", "ok"),
    [
        ("8.6", ["sm_80"], True),  # same major, higher minor: the sm_80 cubin runs
        ("8.0", ["sm_86"], False),  # lower minor cannot run a newer cubin
        ("9.0", ["sm_80", "compute_90"], True),  # PTX JIT
        ("10.0", ["sm_80", "compute_90"], True),  # PTX JITs forward
        ("7.5", ["sm_80", "compute_80"], False),
        ("9.0", ["sm_90a"], True),
        ("10.0", ["sm_90a"], False),  # arch-specific code runs on that arch only
        ("3.5", ["sm_50", "sm_60"], False),
    ],
)
def test_arch_supported(cc, archs, ok):
    assert compat.arch_supported(cc, archs) is ok


def test_arch_unknown_is_none():
    assert compat.arch_supported(None, ["sm_80"]) is None
    assert compat.arch_supported("8.0", []) is None


def test_version_helpers():
    assert compat.cuda_version_from_int(12080) == "12.8"
    assert compat.cuda_version_from_int(11040) == "11.4"
    assert compat.major_minor("12.5.82") == (12, 5)
    assert compat.driver_for_cuda("12.5.1") == "555.42.02"
    assert compat.tensorflow_for_driver_cuda("12.4") == "2.17"
    assert compat.tensorflow_for_driver_cuda("11.4") is None


def compat_check(tmp_path, lib, frameworks, cuda=PIP_CUDA):
    root = fake_root(tmp_path)
    make_pci(root, "0000:01:00.0", "0x10de", "0x030200", driver="nvidia")
    ctx = Context(Options(root=root, nvml_lib=lib, env={}))
    ctx.preset("cuda", cuda)
    ctx.preset("frameworks", frameworks)
    return registry()["compat"].run(ctx)


def tf(facts):
    return {"tensorflow": FrameworkProbe("tensorflow", True, True, facts=facts)}


def test_healthy_h100_with_tf_2_21(tmp_path):
    result = compat_check(tmp_path, FakeNvml(), tf(TF_2_21_GPU))
    assert result.status == Status.OK, result.findings
    assert result.facts["builds"][0]["cuda"] == "12.5.1"


def test_old_driver_against_new_build_names_driver_branch(tmp_path):
    lib = FakeNvml(driver="470.82.01", cuda=11040)
    result = compat_check(tmp_path, lib, tf(TF_2_21_GPU))
    assert result.status == Status.FAIL
    found = {f.code: f for f in result.findings}
    too_old = found["compat.driver_cuda_too_old"]
    assert "CUDA 12.5.1" in too_old.message and "11.4" in too_old.message
    assert "555.42.02" in too_old.hint and "555 branch" in too_old.hint
    assert found["compat.driver_below_floor"].status == Status.FAIL


def test_driver_a_minor_behind_suggests_a_tf_pin(tmp_path):
    lib = FakeNvml(driver="550.54.14", cuda=12040)
    result = compat_check(tmp_path, lib, tf(TF_2_21_GPU))
    hint = {f.code: f for f in result.findings}["compat.driver_cuda_too_old"].hint
    assert "tensorflow==2.17.*" in hint


def test_cudnn_major_mismatch(tmp_path):
    cuda = copy.deepcopy(PIP_CUDA)
    cuda.libraries[1].version = "8.9.7.29"
    result = compat_check(tmp_path, FakeNvml(), tf(TF_2_21_GPU), cuda)
    finding = {f.code: f for f in result.findings}["compat.cudnn_major_mismatch"]
    assert finding.status == Status.FAIL
    assert "tensorflow[and-cuda]==2.21.0" in finding.hint


def test_arch_not_in_build(tmp_path):
    old = copy.deepcopy(H100)
    old["cc"] = (3, 7)  # a K80
    result = compat_check(tmp_path, FakeNvml(gpus=[old]), tf(TF_2_21_GPU))
    assert "compat.arch_unsupported" in {f.code for f in result.findings}
    assert result.status == Status.FAIL


def test_torch_build_judged_too(tmp_path):
    torch = FrameworkProbe(
        "torch",
        True,
        True,
        facts={"version": "2.13.0+cu130", "cuda": "13.0", "cudnn": "91000", "arch_list": ["sm_90"]},
    )
    result = compat_check(tmp_path, FakeNvml(), {"torch": torch})
    assert result.facts["builds"][0]["cudnn"] == "9.10.0"
    assert "compat.driver_cuda_too_old" in {f.code for f in result.findings}  # 12.8 < 13.0


def test_no_gpu_skips(tmp_path):
    root = fake_root(tmp_path)
    import pynvml

    ctx = Context(
        Options(root=root, nvml_lib=FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    )
    assert registry()["compat"].run(ctx).status == Status.SKIP


def jax_probe(cuda):
    facts = {"version": "0.11.2", "backend": "gpu", "devices": ["cuda:0"], "cuda": cuda}
    return {"jax": FrameworkProbe("jax", True, True, facts=facts)}


def test_jax_cuda_plugin_newer_than_the_driver_fails(tmp_path):
    # jax-cuda13-plugin on a driver whose CUDA is 12.8 (FakeNvml's default).
    result = compat_check(tmp_path, FakeNvml(), jax_probe("13"))
    found = {f.code: f for f in result.findings}
    assert result.facts["builds"][0]["framework"] == "jax"
    assert "jax 0.11.2 is built for CUDA 13" in found["compat.driver_cuda_too_old"].message
    assert result.status == Status.FAIL


def test_jax_cuda_plugin_the_driver_runs_is_ok(tmp_path):
    result = compat_check(tmp_path, FakeNvml(), jax_probe("12"))
    assert [f.code for f in result.findings] == ["compat.ok"]
    assert result.findings[0].message == "jax 0.11.2 (CUDA 12) matches the driver and GPUs"
