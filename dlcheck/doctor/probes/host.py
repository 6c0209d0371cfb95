"""Host facts from psutil, /proc, /sys and /etc (root injectable for tests)."""

from __future__ import annotations

import platform
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from dlcheck.doctor.probes import Unavailable, run_tool
from dlcheck.doctor.probes.sysfs import read_bytes, read_text, under
from dlcheck.host.cpu import read_cpuinfo

SIMD_FLAGS = ("avx", "avx2", "fma", "avx512f")
# The EFI variable that holds the Secure Boot state (UEFI spec, global variable GUID).
SECURE_BOOT_VAR = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


@dataclass
class HostInfo:
    os: str | None = None
    kernel: str | None = None
    cpu_model: str | None = None
    cpu_cores_logical: int | None = None
    cpu_cores_physical: int | None = None
    cpu_flags: set[str] | None = None  # None: /proc/cpuinfo unreadable
    ram_bytes: int | None = None
    python: str = ""
    python_executable: str = ""
    in_venv: bool = False
    container: str | None = None
    secure_boot: str = "unknown"
    disk_free_bytes: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def simd(self) -> list[str] | None:
        if self.cpu_flags is None:
            return None
        return [flag for flag in SIMD_FLAGS if flag in self.cpu_flags]


def probe_host(root: Path = Path("/")) -> HostInfo:
    info = HostInfo(
        python=platform.python_version(),
        python_executable=sys.executable,
        in_venv=sys.prefix != sys.base_prefix,
    )
    info.os = _os_name(root, info)
    kernel = read_text(root, "/proc/sys/kernel/osrelease")
    info.kernel = kernel.strip() if isinstance(kernel, str) else platform.release()
    _cpu(root, info)
    info.cpu_cores_logical = psutil.cpu_count(logical=True)
    info.cpu_cores_physical = psutil.cpu_count(logical=False)
    info.ram_bytes = psutil.virtual_memory().total
    for path in dict.fromkeys([sys.prefix, str(Path.home())]):
        try:
            info.disk_free_bytes[path] = psutil.disk_usage(path).free
        except OSError as exc:
            info.unreadable.append(f"free space of {path}: {exc.strerror or exc}")
    info.container = detect_container(root)
    info.secure_boot = secure_boot_state(root)
    return info


def _os_name(root: Path, info: HostInfo) -> str | None:
    text = read_text(root, "/etc/os-release")
    if isinstance(text, Unavailable):
        info.unreadable.append(text.reason)
        return None
    fields = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', text, re.MULTILINE))
    return fields.get("PRETTY_NAME") or fields.get("NAME")


def _cpu(root: Path, info: HostInfo) -> None:
    cpu = read_cpuinfo(root)
    if cpu.error is not None:
        info.unreadable.append(cpu.error)
        info.cpu_model = platform.processor() or None
        return
    info.cpu_model = cpu.model
    info.cpu_flags = cpu.flags


def detect_container(root: Path) -> str | None:
    """'docker', 'podman', 'kubernetes', 'lxc', 'container' or None.

    Marker files first; then /proc/1/cgroup (enough under cgroup v1, only '0::/'
    under v2); then the root mount in /proc/self/mountinfo, which still shows an
    overlay root and the engine's paths under cgroup v2.
    """
    if under(root, "/.dockerenv").exists():
        return "docker"
    if under(root, "/run/.containerenv").exists():
        return "podman"
    cgroup = read_text(root, "/proc/1/cgroup")
    if isinstance(cgroup, str):
        found = _engine_in(cgroup)
        if found:
            return found
    mountinfo = read_text(root, "/proc/self/mountinfo")
    if isinstance(mountinfo, str):
        for line in mountinfo.splitlines():
            parts = line.split()
            if len(parts) > 4 and parts[4] == "/":
                found = _engine_in(line)
                if found:
                    return found
                if " - overlay " in line:
                    return "container"
    return None


def _engine_in(text: str) -> str | None:
    for needle, name in (
        ("kubepods", "kubernetes"),
        ("docker", "docker"),
        ("libpod", "podman"),
        ("containerd", "containerd"),
        ("lxc", "lxc"),
    ):
        if needle in text:
            return name
    return None


def secure_boot_state(root: Path) -> str:
    """'enabled', 'disabled', 'not-efi' (legacy BIOS boot: a fact, not an error) or 'unknown'."""
    if not under(root, "/sys/firmware/efi").exists():
        return "not-efi"
    data = read_bytes(root, SECURE_BOOT_VAR)
    if isinstance(data, bytes) and data:
        # 4 bytes of attributes, then the one-byte value.
        return "enabled" if data[-1] == 1 else "disabled"
    mokutil = shutil.which("mokutil") if root == Path("/") else None
    if mokutil:
        out = run_tool([mokutil, "--sb-state"], timeout=5)
        if isinstance(out, Unavailable):
            return "unknown"
        text = out.lower()
        if "secureboot enabled" in text:
            return "enabled"
        if "secureboot disabled" in text:
            return "disabled"
    return "unknown"
