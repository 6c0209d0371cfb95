"""The one /proc/cpuinfo reader and the CPU peak built on it."""

from __future__ import annotations

import os

import pytest

from dlcheck.host import cpu

X86 = (
    "processor\t: 0\nmodel name\t: Test CPU 9000\ncpu MHz\t\t: 2400.125\n"
    "flags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\nmodel name\t: Test CPU 9000\n"
)
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm\nCPU implementer\t: 0x41\n"


def test_x86_cpuinfo_gives_model_flags_and_clock():
    info = cpu.parse_cpuinfo(X86)
    assert (info.model, info.flags, info.mhz) == (
        "Test CPU 9000",
        {"fpu", "sse2", "avx", "avx2", "fma"},
        2400.125,
    )


def test_arm_cpuinfo_gives_its_features_as_flags():
    info = cpu.parse_cpuinfo(ARM)
    assert info.model is None and "asimd" in (info.flags or set())
    assert cpu.flops_per_cycle(info.flags or set())[0] == 16


def test_cpuinfo_is_read_under_a_root(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text(X86)
    assert cpu.read_cpuinfo(tmp_path).model == "Test CPU 9000"


def test_missing_or_unreadable_cpuinfo_says_why(tmp_path):
    assert cpu.read_cpuinfo(tmp_path) == cpu.CpuInfo(error="/proc/cpuinfo does not exist")
    (tmp_path / "proc/cpuinfo").mkdir(parents=True)  # unreadable even as root
    assert cpu.read_cpuinfo(tmp_path).error == "cannot read /proc/cpuinfo: Is a directory"


@pytest.mark.parametrize(
    ("flags", "per_cycle"),
    [
        ({"avx512f", "fma", "avx2", "avx"}, 64),
        ({"avx2", "fma", "avx"}, 32),
        ({"avx", "sse2"}, 16),
        ({"sse2"}, 8),
    ],
)
def test_flops_per_cycle_from_simd_flags(flags, per_cycle):
    assert cpu.flops_per_cycle(flags)[0] == per_cycle


def test_cpu_peak_of_this_machine_is_consistent():
    peak = cpu.cpu_peak()
    assert peak is not None, "no clock readable from /sys, psutil or /proc/cpuinfo"
    assert peak.gflops == pytest.approx(peak.cores * peak.ghz * peak.flops_per_cycle, rel=1e-3)
    assert 1 <= peak.cores <= (os.cpu_count() or 1)
    assert peak.basis.startswith(f"{peak.cores} cores x {peak.ghz} GHz")


def test_cpu_name_prefers_the_model_name():
    assert cpu.cpu_name(cpu.parse_cpuinfo(X86)) == "Test CPU 9000"
