"""The real doctor on this host (CPU only, real TensorFlow), and the import-weight rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("tensorflow", "keras", "torch", "jax", "numpy")


def nvidia_gpu_present() -> bool:
    """Independent of dlcheck: any NVIDIA display-class PCI function."""
    for dev in Path("/sys/bus/pci/devices").glob("*"):
        try:
            vendor = (dev / "vendor").read_text().strip()
            klass = (dev / "class").read_text().strip()
        except OSError:
            continue
        if vendor == "0x10de" and klass.startswith("0x03"):
            return True
    return False


def real_doctor(*args: str) -> tuple[dict, subprocess.CompletedProcess]:
    out = subprocess.run(
        [sys.executable, "-m", "dlcheck", "doctor", "--json", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return json.loads(out.stdout), out


@pytest.mark.slow
@pytest.mark.skipif(nvidia_gpu_present(), reason="this host has an NVIDIA GPU")
def test_real_doctor_on_this_cpu_host():
    doc, out = real_doctor()
    checks = {c["name"]: c for c in doc["checks"]}
    assert list(checks) == ["host", "gpu", "cuda", "libraries", "frameworks", "compat"]
    assert checks["gpu"]["status"] == "skip"
    assert checks["gpu"]["facts"]["nvidia_pci_devices"] == 0
    assert checks["gpu"]["facts"]["nvml_error"] in ("library_not_found", "driver_not_loaded")
    assert checks["compat"]["status"] == "skip"
    tf = checks["frameworks"]["facts"]["tensorflow"]
    assert tf["ok"] is True
    assert tf["version"].startswith("2.")
    assert tf["gpus"] == []
    assert checks["frameworks"]["status"] == "ok"
    assert checks["libraries"]["facts"]["blas"] in ("openblas", "mkl", "blis", "reference")
    assert out.returncode == 0, out.stderr


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.skipif(not nvidia_gpu_present(), reason="needs an NVIDIA GPU")
def test_real_doctor_on_a_gpu_host():
    doc, out = real_doctor("-v")
    checks = {c["name"]: c for c in doc["checks"]}
    gpu = checks["gpu"]["facts"]
    assert gpu["driver_version"] and gpu["cuda_driver_version"]
    assert len(gpu["gpus"]) >= 1
    first = gpu["gpus"][0]
    assert first["uuid"].startswith(("GPU-", "MIG-"))
    assert first["compute_capability"]
    assert checks["gpu"]["status"] in ("ok", "warn"), checks["gpu"]["findings"]
    assert checks["compat"]["status"] != "error"


def test_no_frameworks_is_light_and_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "import dlcheck.cli\n"
        "from dlcheck.cli import main\n"
        "r = CliRunner()\n"
        "assert r.invoke(main, ['--help']).exit_code == 0\n"
        "assert r.invoke(main, ['doctor', '--help']).exit_code == 0\n"
        "assert r.invoke(main, ['doctor', '--list-checks']).exit_code == 0\n"
        "res = r.invoke(main, ['doctor', '--no-frameworks', '--json'])\n"
        "assert res.exit_code in (0, 1), res.output\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_importing_dlcheck_cli_imports_nothing_heavy():
    code = (
        "import sys, dlcheck, dlcheck.cli, dlcheck.cli.doctor, dlcheck.doctor.runner\n"
        f"print([m for m in {HEAVY!r} + ('pynvml',) if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"
