"""GPU hosts only (skipped where no NVIDIA GPU was detected, or with --gpu=no)."""

from __future__ import annotations

import re

import pytest
from helpers import run_ok

pytestmark = pytest.mark.gpu


def test_nvidia_smi_lists_a_gpu(host) -> None:
    out = run_ok(host, "nvidia-smi -L").stdout
    assert re.search(r"^GPU \d+: ", out, re.MULTILINE), out


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


def test_nvcc_runs_from_a_login_shell(host) -> None:
    out = run_ok(host, "bash -lc 'nvcc --version'").stdout
    assert re.search(r"release \d+\.\d+", out), out


def test_tensorflow_lists_the_gpu(host, py: str) -> None:
    code = "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"
    out = run_ok(host, f"{py} -c %s", code).stdout.strip().splitlines()[-1]
    assert int(out) >= 1, "TensorFlow sees no GPU"
