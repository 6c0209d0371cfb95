"""testinfra suite for a provisioned dlstation host: run it against any host.

    pytest tests/infra --hosts=ssh://user@host                       # any workstation
    pytest tests/infra --hosts=ansible://all --ansible-inventory=INV  # an inventory
    pytest tests/infra --hosts=ssh://noble --ssh-config=.vagrant/ssh-config  # a Vagrant VM

Options of this suite:
    --venv PATH       the venv to check (default: the inventory's python_env_venv_path,
                      else the python_env role's default)
    --gpu auto|yes|no whether to run the GPU tests (auto: an NVIDIA display controller on
                      the host's PCI bus, as the preflight role detects it)
    --mnist DIR       the MNIST IDX files the bench test copies to the host (default:
                      $DLSTATION_MNIST_DIR, else ../shared/data/mnist next to the repository)
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest
import rolevars

NVIDIA_VENDOR = "0x10de"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlstation", "dlstation host checks")
    group.addoption("--venv", default=None, help="venv path on the host")
    group.addoption(
        "--gpu", choices=["auto", "yes", "no"], default="auto", help="run the GPU tests?"
    )
    group.addoption("--mnist", default=None, help="directory with the MNIST IDX .gz files")


def _host_var(host, name: str):
    """A variable of the host from its Ansible inventory, when the backend is ansible."""
    if getattr(host.backend, "NAME", "") != "ansible":
        return None
    try:
        return host.backend.get_variables().get(name)
    except Exception:  # noqa: BLE001 - an inventory without the host is not our failure
        return None


@pytest.fixture(scope="module")
def venv(request: pytest.FixtureRequest, host) -> str:
    return (
        request.config.getoption("--venv")
        or _host_var(host, "python_env_venv_path")
        or rolevars.role_default("python_env", "python_env_venv_path")
    )


@pytest.fixture(scope="module")
def py(venv: str) -> str:
    """The venv's python, with TensorFlow's C++ logging quietened."""
    return f"env TF_CPP_MIN_LOG_LEVEL=2 {shlex.quote(venv)}/bin/python"


def _gpu_on_pci(host) -> bool:
    # Same rule as roles/preflight/files/pci_gpus.py: NVIDIA vendor, display class 0x03.
    cmd = (
        "for d in /sys/bus/pci/devices/*; do "
        f'[ "$(cat $d/vendor 2>/dev/null)" = {NVIDIA_VENDOR} ] || continue; '
        'case "$(cat $d/class)" in 0x03*) echo "$d";; esac; done'
    )
    return bool(host.run(cmd).stdout.strip())


@pytest.fixture(scope="module")
def gpu_present(request: pytest.FixtureRequest, host) -> bool:
    choice = request.config.getoption("--gpu")
    if choice != "auto":
        return choice == "yes"
    return _gpu_on_pci(host)


@pytest.fixture(autouse=True)
def _skip_gpu_tests_without_gpu(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("gpu") is None:
        return
    if not request.getfixturevalue("gpu_present"):
        pytest.skip("no NVIDIA GPU on this host (or --gpu=no)")


@pytest.fixture(scope="session")
def mnist_dir(request: pytest.FixtureRequest) -> Path:
    candidates = [
        request.config.getoption("--mnist"),
        os.environ.get("DLSTATION_MNIST_DIR"),
        str(rolevars.REPO.parent / "shared" / "data" / "mnist"),
    ]
    for c in candidates:
        if c and (Path(c) / "t10k-images-idx3-ubyte.gz").is_file():
            return Path(c)
    pytest.skip(
        "no MNIST IDX files found (looked at --mnist, $DLSTATION_MNIST_DIR and "
        f"{candidates[-1]}); pass --mnist DIR with t10k-images-idx3-ubyte.gz"
    )


@pytest.fixture
def remote_tmp(host):
    """A private temporary directory on the host, removed afterwards."""
    path = host.check_output("mktemp -d /tmp/dlstation-infra.XXXXXX")
    yield path
    host.run("rm -rf %s", path)


@pytest.fixture(scope="module")
def platform_gets_tensorflow(host) -> bool:
    """Whether compat.json's platforms table gives the host's platform TensorFlow."""
    release = host.system_info.release or ""
    dist = (host.system_info.distribution or "").capitalize()
    key = f"{dist}-{release if dist == 'Ubuntu' else release.split('.')[0]}"
    table = json.loads((rolevars.REPO / "dlcheck" / "compat" / "compat.json").read_text())
    row = table["platforms"]["supported"].get(key)
    assert row is not None, f"{key} is not a supported platform (compat.json)"
    return row["pins"].get("tensorflow", "") is not None
