"""The fingerprint of what the doctor judges (roles/dlcheck/files/doctor_fingerprint.sh).

A re-run takes the doctor's last verdict when this fingerprint is unchanged, so each input of
the doctor that can change must change it. These run the real script as the role does
(`sh -c "<its text>"`), with the system's paths read under a temporary root
(DOCTOR_FINGERPRINT_ROOT) and a temporary venv and HOME; one test per input.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from test_preflight import REPO

from dlcheck.doctor.checks.host import DISK_FAIL_BYTES, DISK_WARN_BYTES
from dlcheck.doctor.checks.result import GIB

FILE = REPO / "roles/dlcheck/files/doctor_fingerprint.sh"
# As the file lookup gives it to the tasks: its trailing newline stripped.
SCRIPT = FILE.read_text().rstrip()
LIMITS = " ".join(
    str(n)
    for n in yaml.safe_load((REPO / "roles/dlcheck/vars/main.yml").read_text())[
        "__dlcheck_disk_limits_gib"
    ]
)


class Host:
    """A temporary root, venv and HOME, and the script run against them."""

    def __init__(self, tmp_path: Path) -> None:
        self.root, self.venv, self.home = tmp_path / "root", tmp_path / "venv", tmp_path / "home"
        self.site = self.venv / "lib" / "python3.12" / "site-packages"
        self.bin = tmp_path / "fake-bin"
        self.day = tmp_path / "day"
        for folder in (self.site, self.venv / "bin", self.home, self.bin):
            folder.mkdir(parents=True)
        self.write("var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\n")
        self.write("etc/ld.so.cache", "ld.so-1.7.0")
        self.write("proc/sys/kernel/random/boot_id", "5f0c6d2e-0000-4000-8000-000000000001\n")
        self.write("proc/modules", "nvidia 1 0 - Live 0x0\nnvidia_uvm 2 0 - Live 0x0\n")
        self.write("sys/module/nvidia/version", "580.95.05\n")
        self.write(
            "proc/driver/nvidia/version",
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05\n",
        )
        self.write("dev/nvidia0", "")
        self.write("dev/nvidiactl", "")
        self.write("lib/modules/6.1.0-40-amd64/updates/dkms/nvidia-current.ko.xz", "")
        self.write("lib/modules/6.1.0-40-amd64/build/Makefile", "")
        (self.root / "usr/local/cuda-12.8").mkdir(parents=True)
        (self.root / "usr/local/cuda").symlink_to("cuda-12.8")
        self.bind("0000:01:00.0", "nvidia")
        (self.venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.3\n")
        (self.venv / "bin" / "python").symlink_to("/usr/bin/python3")
        for name, version in (("numpy", "2.1.3"), ("dlcheck", "0.9.0")):
            self.install(name, version)
        (self.site / "distutils-precedence.pth").write_text("import os\n")
        # The day that `date -u +%Y-%m-%d` says: a stand-in on PATH, the same in every run.
        self.day.write_text("2025-11-03\n")
        (self.bin / "date").write_text(f'#!/bin/sh\ncat "{self.day}"\n')
        (self.bin / "date").chmod(0o755)
        self.env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(self.home),
            "DOCTOR_FINGERPRINT_ROOT": str(self.root),
        }

    def write(self, path: str, text: str) -> None:
        """Replace a file under the root as dpkg and ldconfig do: a new file renamed into place."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        new = target.with_name(target.name + ".new")
        new.write_text(text)
        new.replace(target)

    def bind(self, address: str, driver: str) -> None:
        device = self.root / "sys/bus/pci/devices" / address
        device.mkdir(parents=True, exist_ok=True)
        (device / "driver").unlink(missing_ok=True)
        (device / "driver").symlink_to(f"../../../bus/pci/drivers/{driver}")

    def install(self, name: str, version: str) -> None:
        """A package as pip leaves it: its folder and its record (a fresh *.dist-info folder)."""
        (self.site / name).mkdir(exist_ok=True)
        (self.site / name / "__init__.py").write_text(f"__version__ = {version!r}\n")
        record = self.site / f"{name}-{version}.dist-info"
        shutil.rmtree(record, ignore_errors=True)
        record.mkdir()
        (record / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")
        (record / "RECORD").write_text(f"{name}/__init__.py,,\n")

    def run(self, *argv: str, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["sh", "-c", SCRIPT, "doctor_fingerprint", *argv],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=True,
        )
        return proc.stdout

    def digest(self, args: str = "--no-frameworks", limits: str = LIMITS, **env: str) -> str:
        out = self.run("digest", str(self.venv), args, limits, env=env).strip()
        assert len(out) == 64, out
        return out


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return Host(tmp_path)


def test_the_digest_is_stable_while_nothing_changes(host: Host) -> None:
    assert host.digest() == host.digest()
    # What does not reach the doctor: the SSH session, sudo's command line (which changes with
    # every Ansible task), the working directory.
    assert host.digest() == host.digest(
        SSH_CONNECTION="10.0.0.2 51234 10.0.0.3 22",
        SUDO_COMMAND="/bin/sh -c echo BECOME-SUCCESS-abc",
        PWD="/tmp",
    )
    # Nor the order in which the environment lists its variables.
    assert host.digest(XLA_FLAGS="--x", CUDA_VISIBLE_DEVICES="0") == host.digest(
        CUDA_VISIBLE_DEVICES="0", XLA_FLAGS="--x"
    )


def test_read_and_keep_round_trip(host: Host, tmp_path: Path) -> None:
    stamp = tmp_path / "state" / "doctor.fingerprint"
    stamp.parent.mkdir()
    venv, args = str(host.venv), "--no-frameworks"
    # No verdict kept yet: the digest, then an empty line.
    assert host.run("read", str(stamp), venv, args, LIMITS) == f"{host.digest()}\n\n"
    verdict = "ok 2025-11-03T10:00:00Z dlcheck doctor: ok (host=ok, gpu=skip)"
    assert host.run("keep", str(stamp), venv, args, LIMITS, verdict) == ""
    assert stamp.read_text() == f"{host.digest()} {verdict}\n"
    assert stamp.stat().st_mode & 0o777 == 0o644
    assert not stamp.with_name(stamp.name + ".new").exists()
    assert host.run("read", str(stamp), venv, args, LIMITS) == (
        f"{host.digest()}\n{host.digest()} {verdict}\n"
    )
    # A change: the digest read no longer matches the one kept.
    host.install("torch", "2.9.0")
    first, kept = host.run("read", str(stamp), venv, args, LIMITS).splitlines()
    assert first != kept.split(" ", 1)[0]


def test_a_wrong_mode_says_how_to_call_it(host: Host) -> None:
    proc = subprocess.run(["sh", str(FILE), "fingerprint"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_the_file_runs_alone_as_under_the_role(host: Host) -> None:
    """`sh doctor_fingerprint.sh ...` (a person's check on a host) gives the role's digest."""
    alone = subprocess.run(
        ["sh", str(FILE), "digest", str(host.venv), "--no-frameworks", LIMITS],
        env=host.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert alone.stdout.strip() == host.digest()


def _keras_config(host: Host) -> None:
    (host.home / ".keras").mkdir()
    (host.home / ".keras" / "keras.json").write_text('{"backend": "jax"}\n')


def _pth_edited(host: Host) -> None:
    pth = host.site / "distutils-precedence.pth"
    new = pth.with_suffix(".new")
    new.write_text("import sys\n")
    new.replace(pth)


def _reinstalled(name: str, version: str) -> Callable[[Host], None]:
    def change(host: Host) -> None:
        host.install(name, version)

    return change


# Each input of the doctor, and a change to it that the doctor would see.
CHANGES: dict[str, Callable[[Host], None]] = {
    # An apt run (any package, the driver's, CUDA's, the system Python's).
    "dpkg status": lambda h: h.write("var/lib/dpkg/status", "Package: nvidia-driver\n"),
    "linker cache": lambda h: h.write("etc/ld.so.cache", "ld.so-1.7.0 with libcudnn"),
    "a CUDA toolkit added": lambda h: (h.root / "usr/local/cuda-13.0").mkdir(),
    "the CUDA link repointed": lambda h: (
        (h.root / "usr/local/cuda").unlink(),
        (h.root / "usr/local/cuda").symlink_to("cuda-13.0"),
    ),
    "Keras' configuration": _keras_config,
    "a script in the venv's bin": lambda h: (h.venv / "bin" / "torchrun").write_text(""),
    "the venv's pyvenv.cfg": lambda h: (h.venv / "pyvenv.cfg").write_text("home = /opt/py\n"),
    "a package installed": _reinstalled("torch", "2.9.0"),
    "a package upgraded": _reinstalled("numpy", "2.2.0"),
    # python_env's repair of a half-installed package: the same version, installed anew.
    "a package reinstalled at the same version": _reinstalled("numpy", "2.1.3"),
    # A rebuilt checkout: the role's handler reinstalls the wheel (the doctor's own code).
    "dlcheck's wheel reinstalled at the same version": _reinstalled("dlcheck", "0.9.0"),
    "a module beside the packages": lambda h: (h.site / "new_module.py").write_text(""),
    "a .pth file edited": _pth_edited,
    "a reboot": lambda h: h.write("proc/sys/kernel/random/boot_id", "another-boot\n"),
    "a kernel module loaded": lambda h: h.write("proc/modules", "nouveau 1 0 - Live 0x0\n"),
    "the NVIDIA module's version": lambda h: h.write("sys/module/nvidia/version", "580.105.08\n"),
    "the NVIDIA module's flavour": lambda h: h.write(
        "proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05\n"
    ),
    "an NVIDIA device node": lambda h: h.write("dev/nvidia-uvm", ""),
    "a GPU bound to vfio-pci": lambda h: h.bind("0000:01:00.0", "vfio-pci"),
    "a GPU that appears": lambda h: h.bind("0000:02:00.0", "nvidia"),
    "an NVIDIA module built for a kernel": lambda h: h.write(
        "lib/modules/6.1.0-41-amd64/updates/dkms/nvidia-current.ko.xz", ""
    ),
    "a kernel's headers": lambda h: h.write("lib/modules/6.1.0-41-amd64/build/Makefile", ""),
    "the day": lambda h: h.day.write_text("2025-11-04\n"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_each_input_changes_the_digest(host: Host, change: Callable[[Host], None]) -> None:
    before = host.digest()
    change(host)
    assert host.digest() != before


@pytest.mark.parametrize(
    "name",
    ["PATH", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "TF_CPP_MIN_LOG_LEVEL", "XLA_FLAGS"],
)
def test_the_environment_the_doctor_gets_changes_the_digest(host: Host, name: str) -> None:
    value = os.pathsep.join([host.env.get(name, ""), "/opt/other"])
    assert host.digest(**{name: value}) != host.digest()


def test_the_doctor_arguments_change_the_digest(host: Host) -> None:
    assert host.digest("--no-frameworks --redact") != host.digest("--no-frameworks")


def test_what_the_doctor_does_not_judge_leaves_the_digest(host: Host) -> None:
    before = host.digest()
    # python_env's bytecode compile, which may still run beside the doctor: a __pycache__ in
    # site-packages and in each package's folder.
    (host.site / "__pycache__").mkdir()
    (host.site / "numpy" / "__pycache__").mkdir()
    (host.site / "numpy" / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(b"")
    # A package's own files (the doctor imports them; the record says when they were installed).
    (host.site / "numpy" / "extra.py").write_text("")
    assert host.digest() == before


def test_an_empty_site_packages_stays_empty_when_bytecode_lands(host: Host) -> None:
    shutil.rmtree(host.site)
    host.site.mkdir()
    before = host.digest()
    (host.site / "__pycache__").mkdir()
    assert host.digest() == before


def test_only_which_free_space_limit_is_crossed_counts(host: Host) -> None:
    """The free space of the venv's and HOME's file systems, by which limits it is below: a
    limit above it counts, and one below it does not, wherever it lies."""
    free_gib = shutil.disk_usage(host.venv).free / GIB
    assert free_gib > 1, "this test needs a GiB free"
    assert host.digest(limits="0") == host.digest(limits=f"{free_gib / 2:.3f}")
    assert host.digest(limits="0") != host.digest(limits=f"{free_gib + 1:.3f}")


def test_the_disk_limits_are_the_host_checks() -> None:
    host_check = f"{DISK_FAIL_BYTES // GIB} {DISK_WARN_BYTES // GIB}"
    assert host_check == LIMITS
    assert DISK_FAIL_BYTES % GIB == 0 and DISK_WARN_BYTES % GIB == 0
