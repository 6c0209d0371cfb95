"""The compatibility arithmetic and the compat check on recorded probe data."""

from __future__ import annotations

import copy

from doctor_fakes import H100, TF_2_21_GPU, FakeNvml, fake_root, make_pci

from dlcheck import compat
from dlcheck.doctor.checks import registry
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.model import Status
from dlcheck.doctor.probes.cuda import CudaProbe, Library
from dlcheck.doctor.probes.frameworks import FrameworkProbe

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


def test_version_helpers():
    assert compat.cuda_version_from_int(12080) == "12.8"
    assert compat.cuda_version_from_int(11040) == "11.4"
    assert compat.major_minor("12.5.82") == (12, 5)
    assert compat.tensorflow_build("2.19.1")["versions"] == ["2.18", "2.19"]


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


def test_driver_of_an_older_cuda_major_fails_with_a_branch_that_runs_the_gpu(tmp_path):
    lib = FakeNvml(driver="470.82.01", cuda=11040)
    result = compat_check(tmp_path, lib, tf(TF_2_21_GPU))
    assert result.status == Status.FAIL
    found = {f.code: f for f in result.findings}
    too_old = found["compat.driver_below_cuda_major"]
    assert "CUDA 12.5.1" in too_old.message and "525.60.13" in too_old.message
    assert "the 580 branch" in too_old.hint  # an H100: the long-term branch runs it


def test_debian_12_a100_on_driver_535_passes_tf_2_21(tmp_path):
    a100 = copy.deepcopy(H100)
    a100.update(name="NVIDIA A100-SXM4-40GB", cc=(8, 0))
    result = compat_check(
        tmp_path, FakeNvml(gpus=[a100], driver="535.247.01", cuda=12020), tf(TF_2_21_GPU)
    )
    assert result.status == Status.OK, result.findings


def test_driver_a_minor_behind_runs_compiled_code(tmp_path):
    # Minor-version compatibility: CUDA 12.5.1 build on a CUDA 12.4 driver, L4 has sm_89.
    l4 = copy.deepcopy(H100)
    l4.update(name="NVIDIA L4", cc=(8, 9))
    result = compat_check(
        tmp_path, FakeNvml(gpus=[l4], driver="550.54.14", cuda=12040), tf(TF_2_21_GPU)
    )
    assert not [f for f in result.findings if f.status == Status.FAIL], result.findings


def test_ptx_only_gpu_on_a_driver_a_minor_behind_gets_a_tf_pin(tmp_path):
    # The H100 has only compute_90 PTX from CUDA 12.5: JIT needs a CUDA 12.5 driver.
    lib = FakeNvml(driver="550.54.14", cuda=12040)
    result = compat_check(tmp_path, lib, tf(TF_2_21_GPU))
    found = {f.code: f for f in result.findings}
    hint = found["compat.ptx_needs_newer_driver"].hint
    assert "tensorflow[and-cuda]==2.17.*" in hint  # CUDA 12.3's PTX: this driver JITs it


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


def test_tf_2_21_on_an_rtx_5090_fails(tmp_path):
    rtx = copy.deepcopy(H100)
    rtx.update(name="NVIDIA GeForce RTX 5090", cc=(12, 0))
    result = compat_check(tmp_path, FakeNvml(gpus=[rtx]), tf(TF_2_21_GPU))
    found = {f.code: f for f in result.findings}
    assert found["compat.ptx_too_old"].status == Status.FAIL
    assert "sm_120" in found["compat.ptx_too_old"].hint
    assert result.status == Status.FAIL


def torch_probe(version, cuda, archs):
    facts = {"version": version, "cuda": cuda, "cudnn": "91000", "arch_list": archs}
    return {"torch": FrameworkProbe("torch", True, True, facts=facts)}


def test_torch_cuda_13_2_on_driver_580_is_not_too_old(tmp_path):
    probe = torch_probe("2.13.0+cu132", "13.2", ["sm_75", "sm_80", "sm_90", "sm_100", "sm_120"])
    result = compat_check(tmp_path, FakeNvml(), probe)
    assert result.facts["builds"][0]["cudnn"] == "9.10.0"
    assert result.status == Status.OK, result.findings


def test_torch_cuda_13_on_a_cuda_12_driver_fails(tmp_path):
    probe = torch_probe("2.11.0+cu130", "13.0", ["sm_90"])
    result = compat_check(tmp_path, FakeNvml(driver="570.86.15", cuda=12080), probe)
    assert "compat.driver_below_cuda_major" in {f.code for f in result.findings}


def test_mixed_a100_and_t4_names_the_uncovered_gpu(tmp_path):
    a100, t4 = copy.deepcopy(H100), copy.deepcopy(H100)
    a100.update(name="NVIDIA A100", cc=(8, 0))
    t4.update(name="Tesla T4", cc=(7, 5), uuid="GPU-00000000-0000-0000-0000-000000000001")
    probe = torch_probe("2.5.1+cu124", "12.4", ["sm_80", "sm_86", "sm_90"])
    result = compat_check(tmp_path, FakeNvml(gpus=[a100, t4]), probe)
    bad = [f for f in result.findings if f.status == Status.FAIL]
    assert [f.code for f in bad] == ["compat.arch_unsupported"]
    assert bad[0].message.startswith("GPU 1 (Tesla T4")


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
    # jax-cuda13-plugin on an R570 driver (CUDA 12.8).
    lib = FakeNvml(driver="570.86.15", cuda=12080)
    result = compat_check(tmp_path, lib, jax_probe("13"))
    found = {f.code: f for f in result.findings}
    assert result.facts["builds"][0]["framework"] == "jax"
    assert "jax 0.11.2 is built for CUDA 13" in found["compat.driver_below_cuda_major"].message
    assert result.status == Status.FAIL


def test_jax_cuda_plugin_the_driver_runs_is_ok(tmp_path):
    result = compat_check(tmp_path, FakeNvml(), jax_probe("13"))
    assert [f.code for f in result.findings] == ["compat.ok"]
    assert result.findings[0].message.startswith("jax 0.11.2 (CUDA 13) runs on this driver")
