"""NVIDIA's and the frameworks' rules (dlcheck.compat.rules), per GPU generation.

The GPUs are real products with the compute capability NVIDIA lists for them; the
builds are what the frameworks report about themselves (TensorFlow's build_info,
torch.cuda.get_arch_list(), JAX's plugin name).
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from dlcheck.compat import rules
from dlcheck.compat.rules import FAIL, OK, PTX, PTX_TOO_OLD, SASS, WARN, Build, Gpu

TODAY = date(2026, 11, 30)

K80 = Gpu(0, "3.7", "Tesla K80")  # Kepler
M40 = Gpu(0, "5.2", "Tesla M40")  # Maxwell
P100 = Gpu(0, "6.0", "Tesla P100")  # Pascal
V100 = Gpu(0, "7.0", "Tesla V100")  # Volta
T4 = Gpu(1, "7.5", "Tesla T4")  # Turing
A100 = Gpu(0, "8.0", "NVIDIA A100")  # Ampere
L4 = Gpu(0, "8.9", "NVIDIA L4")  # Ada
H100 = Gpu(0, "9.0", "NVIDIA H100")  # Hopper
B200 = Gpu(0, "10.0", "NVIDIA B200")  # Blackwell
B300 = Gpu(0, "10.3", "NVIDIA B300")
RTX5090 = Gpu(0, "12.0", "NVIDIA GeForce RTX 5090")
GB10 = Gpu(0, "12.1", "NVIDIA GB10")
ALL = [K80, M40, P100, V100, T4, A100, L4, H100, B200, B300, RTX5090, GB10]

# What the wheels report (build_info.py of tensorflow 2.21.0; torch cu130 and cu132).
TF_2_21 = Build(
    "tensorflow", "2.21.0", "12.5.1", "9", ("sm_60", "sm_70", "sm_80", "sm_89", "compute_90")
)
TORCH_CU130 = Build(
    "torch",
    "2.11.0+cu130",
    "13.0",
    "9.19.0",
    ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"),
)
TORCH_CU132 = Build("torch", "2.13.0+cu132", "13.2", "9.19.0", TORCH_CU130.archs)


def statuses(verdicts):
    return {v.code: v.status for v in verdicts}


def failures(verdicts):
    return [v for v in verdicts if v.status == FAIL]


# --- which code reaches which GPU -------------------------------------------------------


@pytest.mark.parametrize(
    ("gpu", "archs", "cuda", "expected"),
    [
        (A100, ["sm_80"], "12.5", SASS),
        (Gpu(0, "8.6"), ["sm_80"], "12.5", SASS),  # same major, higher minor: the cubin runs
        (A100, ["sm_86"], "12.5", rules.NONE),  # a newer minor's cubin does not
        (H100, list(TF_2_21.archs), "12.5.1", PTX),  # compute_90: JIT
        (L4, list(TF_2_21.archs), "12.5.1", SASS),
        (RTX5090, list(TF_2_21.archs), "12.5.1", PTX_TOO_OLD),  # CUDA 12.5's PTX predates sm_120
        (RTX5090, ["sm_90", "compute_90"], "12.8", PTX),  # the same PTX from CUDA 12.8 JITs
        (B300, ["sm_100f"], "12.9", SASS),  # family target: 10.x
        (Gpu(0, "11.0"), ["sm_100f"], "13.0", rules.NONE),  # not another major
        (B300, ["sm_100a"], "12.9", rules.NONE),  # arch-specific: exactly 10.0
        (B200, ["sm_100a"], "12.8", SASS),
        (GB10, ["sm_120"], "12.9", SASS),
        (K80, list(TF_2_21.archs), "12.5.1", rules.NONE),
        (T4, [], "12.5", rules.UNKNOWN),
    ],
)
def test_coverage(gpu, archs, cuda, expected):
    assert rules.coverage(gpu.cc, archs, cuda) == expected


def test_blackwell_ccs_need_cuda_12_8_or_newer():
    for gpu in (B200, B300, RTX5090, GB10, Gpu(0, "11.0")):
        assert rules.generation(gpu.cc)["name"] == "Blackwell"
        assert rules.first_cuda(gpu.cc) >= "12.8"


# --- the examples ---------------------------------------------------------------


def test_a100_on_driver_535_runs_tf_2_21():
    verdicts = rules.judge_build(TF_2_21, [A100], "535.247.01", "12.2", TODAY)
    assert not failures(verdicts), verdicts
    assert statuses(verdicts) == {"compat.ok": OK}


def test_cuda_13_2_build_on_driver_580_is_minor_version_compatible():
    verdicts = rules.judge_build(TORCH_CU132, [H100], "580.95.05", "13.0", TODAY)
    assert not failures(verdicts), verdicts


def test_ptx_only_gpu_needs_the_toolkits_driver():
    # No sm_90 cubin: the H100 JIT-compiles compute_80, PTX from CUDA 13.2.
    build = Build("torch", "x+cu132", "13.2", None, ("sm_80", "compute_80"))
    verdicts = rules.judge_build(build, [H100], "580.95.05", "13.0", TODAY)
    (fail,) = failures(verdicts)
    assert fail.code == "compat.ptx_needs_newer_driver"
    assert "595.45.04" in fail.hint  # CUDA 13.2's own driver
    ok = rules.judge_build(build, [H100], "595.58.03", "13.2", TODAY)
    assert not failures(ok)


def test_tf_2_21_on_rtx_5090_fails_and_names_a_build_with_the_arch():
    verdicts = rules.judge_build(TF_2_21, [RTX5090], "580.95.05", "13.0", TODAY)
    (fail,) = failures(verdicts)
    assert fail.code == "compat.ptx_too_old"
    assert "sm_120" in fail.message and "12.8" in fail.message
    # No TensorFlow release in the table has sm_120: the hint must not offer one.
    assert "tensorflow[and-cuda]==" not in fail.hint
    assert "sm_120" in fail.hint and "12.8" in fail.hint


def test_mixed_host_names_the_gpu_the_build_lacks():
    build = Build("torch", "2.5.0+cu124", "12.4", None, ("sm_80", "sm_86", "sm_90"))
    verdicts = rules.judge_build(build, [A100, T4], "550.54.14", "12.4", TODAY)
    (fail,) = failures(verdicts)
    assert fail.code == "compat.arch_unsupported"
    assert fail.message.startswith("GPU 1 (Tesla T4")
    assert "sm_75" in fail.hint


def test_kepler_is_never_sent_to_a_branch_that_drops_it():
    verdicts = rules.judge_build(TF_2_21, [K80], "470.256.02", "11.4", TODAY)
    codes = statuses(verdicts)
    assert codes["compat.driver_below_cuda_major"] == FAIL
    assert codes["compat.arch_unsupported"] == FAIL
    for verdict in verdicts:
        hint = verdict.hint or ""
        assert "555" not in hint and "580" not in hint and "620" not in hint, hint
    driver = next(v for v in verdicts if v.code == "compat.driver_below_cuda_major")
    assert "470" in driver.hint and "Kepler" in driver.hint


def test_cuda_13_build_on_pascal_says_cuda_13_dropped_it():
    verdicts = rules.judge_build(TORCH_CU130, [P100], "580.95.05", "13.0", TODAY)
    (fail,) = failures(verdicts)
    assert "CUDA 13 builds no code below compute capability 7.5" in fail.message
    assert "up to CUDA 12.x" in fail.hint


# --- driver hints against every generation ----------------------------------------------


@pytest.mark.parametrize("gpu", ALL, ids=lambda g: g.name)
def test_driver_hint_never_names_a_branch_that_drops_the_gpu(gpu):
    last = rules.generation(gpu.cc).get("last_driver_branch")
    for need in ("525.60.13", "555.42.02", "580.65.06", "595.45.04"):
        hint = rules.driver_hint(need, [gpu], TODAY)
        named = [int(n) for n in re.findall(r"the (\d{3}) branch", hint)]
        if last is not None and last < int(need.split(".")[0]):
            assert "stop at the" in hint, hint
        for branch in named:
            if "stop at the" not in hint:
                assert last is None or branch <= last, hint
                assert branch >= int(need.split(".")[0]), hint


def test_driver_hint_prefers_a_maintained_long_term_branch():
    assert "the 580 branch (long term support" in rules.driver_hint("555.42.02", [A100], TODAY)
    assert "the 620 branch" in rules.driver_hint("595.45.04", [H100], TODAY)
    assert "Pascal GPUs stop at the 580 branch" in rules.driver_hint("595.45.04", [P100], TODAY)


# --- driver branches past their end of life ------------------------------------------


@pytest.mark.parametrize(
    ("driver", "gpu", "fix"),
    [
        ("535.247.01", A100, "580 branch"),  # LTSB, end of life June 2026
        ("570.195.03", H100, "580 branch"),  # production branch, February 2026
        ("575.57.08", RTX5090, "580 branch"),  # never listed: a past new-feature branch
        ("535.247.01", V100, "580 branch"),  # Volta's last branch is still maintained
    ],
)
def test_branch_past_end_of_life_warns_with_a_supported_branch(driver, gpu, fix):
    (verdict,) = rules.judge_driver_branch(driver, [gpu], TODAY)
    assert verdict.status == WARN and verdict.code == "compat.driver_branch_eol"
    assert fix in verdict.hint


def test_kepler_on_470_warns_that_no_maintained_branch_runs_it():
    (verdict,) = rules.judge_driver_branch("470.256.02", [K80], TODAY)
    assert verdict.status == WARN
    assert "470 branch is the last for Kepler" in verdict.hint


@pytest.mark.parametrize("driver", ["580.95.05", "595.58.03", "620.10.01", "640.1"])
def test_maintained_or_unknown_branches_say_nothing(driver):
    assert rules.judge_driver_branch(driver, [H100], TODAY) == []


def test_end_of_life_is_a_date_not_a_branch_number():
    assert rules.judge_driver_branch("535.247.01", [A100], date(2026, 6, 15)) == []


# --- kernel modules -----------------------------------------------------------------------


def test_blackwell_on_proprietary_modules_fails_naming_the_open_ones():
    (verdict,) = rules.judge_kernel_modules("proprietary", [RTX5090])
    assert verdict.status == FAIL and "open" in verdict.hint and "-M=open" in verdict.hint


def test_pascal_on_open_modules_fails_naming_the_proprietary_ones():
    (verdict,) = rules.judge_kernel_modules("open", [P100])
    assert "proprietary" in verdict.hint


@pytest.mark.parametrize("gpu", [T4, A100, L4, H100], ids=lambda g: g.name)
def test_turing_to_hopper_run_either_flavour(gpu):
    assert rules.judge_kernel_modules("open", [gpu]) == []
    assert rules.judge_kernel_modules("proprietary", [gpu]) == []


def test_unknown_flavour_judges_nothing():
    assert rules.judge_kernel_modules(None, [B200]) == []


# --- JAX ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gpu", "driver", "plugin"),
    [
        (P100, "580.95.05", "cuda12"),  # CUDA 13 needs SM 7.5
        (T4, "575.57.08", "cuda12"),  # CUDA 13 needs driver 580
        (T4, "580.95.05", "cuda13"),
        (K80, "470.256.02", None),  # CUDA 12 needs SM 5.2
    ],
)
def test_jax_plugin_matches_gpu_and_driver(gpu, driver, plugin):
    assert rules.jax_plugin_for(gpu, driver) == plugin


def test_jax_cuda13_plugin_on_volta_fails_with_the_cuda12_plugin():
    jax = Build("jax", "0.11.2", "13", None)
    verdicts = rules.judge_build(jax, [V100], "580.95.05", "13.0", TODAY)
    (fail,) = failures(verdicts)  # one finding for the one cause
    assert fail.code == "compat.jax_plugin_drops_gpu"
    assert "jax[cuda12]" in fail.hint


def test_jax_needs_cudnn_9_8():
    jax = Build("jax", "0.11.2", "13", "9.3.0")
    verdicts = rules.judge_build(jax, [H100], "580.95.05", "13.0", TODAY)
    assert statuses(verdicts)["compat.jax_cudnn_too_old"] == FAIL
    fine = Build("jax", "0.11.2", "13", "9.8.0")
    assert not failures(rules.judge_build(fine, [H100], "580.95.05", "13.0", TODAY))


# --- install hints ------------------------------------------------------------------------


def test_tensorflow_extra_is_never_the_cpu_build_on_a_gpu_host():
    assert rules.extra_for_host("tf", gpu_host=True) == "tf-gpu"
    assert rules.extra_for_host("tf", gpu_host=False) == "tf"
    assert rules.extra_for_host("torch", gpu_host=True) == "torch"


@pytest.mark.parametrize("gpu", ALL, ids=lambda g: g.name)
def test_tensorflow_build_hint_only_names_releases_with_the_arch(gpu):
    hint = rules.build_hint("tensorflow", gpu)
    if "tensorflow[and-cuda]==" in hint:
        version = hint.split("==")[1].split(".*")[0]
        row = next(r for r in rules.table()["tensorflow"]["builds"] if version in r["versions"])
        assert rules.coverage(gpu.cc, row["archs"], row["cuda"]) in (SASS, PTX)


def test_ptx_from_a_toolkit_without_a_listed_driver_asks_for_its_cuda():
    # From CUDA 13.4 the release notes list no bundled Linux driver.
    build = Build("torch", "x+cu134", "13.4", None, ("sm_80", "compute_80"))
    (fail,) = failures(rules.judge_build(build, [H100], "595.58.03", "13.2", TODAY))
    assert "supports CUDA 13.4" in fail.hint and "580" not in fail.hint
