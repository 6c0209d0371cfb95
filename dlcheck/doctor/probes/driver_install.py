"""The NVIDIA driver as installed on disk, loaded or not: its packages and its kernel modules.

What NVML cannot say when it fails to start: whether a driver is installed at all, which
version, and for which kernels its module exists. Read from dpkg's database and from
/lib/modules, under an injectable root like the other probes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dlcheck.doctor.probes import Unavailable
from dlcheck.doctor.probes.sysfs import read_text, under

DPKG_STATUS = "/var/lib/dpkg/status"
MODULES = "/lib/modules"
# Package names that carry the driver, its module or its libraries: Debian's nvidia-driver,
# nvidia-kernel-dkms, libnvidia-ml1; Ubuntu's nvidia-driver-<branch>[-open],
# nvidia-dkms-<branch>, linux-modules-nvidia-<branch>-<kernel>, libnvidia-compute-<branch>.
DRIVER_PACKAGE = re.compile(r"^(nvidia-|libnvidia-|linux-modules-nvidia-)")
# The package whose version is the driver's: Debian's nvidia-driver, Ubuntu's
# nvidia-driver-<branch>[-open|-server], or the module package when only that is installed.
DRIVER_VERSION_FROM = re.compile(
    r"^(nvidia-driver(-\d+(-open|-server|-server-open)?)?|nvidia-kernel-dkms|"
    r"nvidia-open-kernel-dkms|nvidia-dkms-\d+.*)$"
)
# Where the main module lies, relative to /lib/modules/<kernel>/: built by DKMS (Debian names
# it nvidia-current.ko; compressed as .ko.xz or .ko.zst by newer dkms), or prebuilt by Ubuntu
# (linux-modules-nvidia-<branch>-<kernel> puts it in kernel/nvidia-<branch>/).
MODULE_GLOBS = (
    "updates/dkms/nvidia.ko*",
    "updates/dkms/nvidia-current.ko*",
    "kernel/nvidia-*/nvidia.ko*",
)


@dataclass
class DriverInstall:
    packages: dict[str, str] | Unavailable  # installed driver packages: name -> version
    module_kernels: list[str] = field(default_factory=list)  # kernels with an nvidia module
    headers_kernels: list[str] = field(default_factory=list)  # kernels with headers (build/)

    @property
    def version(self) -> str | None:
        """'535.247.01' from the driver package's '535.247.01-1~deb12u1'; None when none."""
        if not isinstance(self.packages, dict):
            return None
        for name in sorted(self.packages):
            if DRIVER_VERSION_FROM.match(name):
                match = re.match(r"^(?:\d+:)?(\d+(?:\.\d+)+)", self.packages[name])
                if match:
                    return match.group(1)
        return None


def installed_packages(root: Path) -> dict[str, str] | Unavailable:
    """Installed driver packages from dpkg's database; an empty dict on a host without dpkg."""
    text = read_text(root, DPKG_STATUS)
    if isinstance(text, Unavailable):
        return {} if not under(root, "/var/lib/dpkg").exists() else text
    found: dict[str, str] = {}
    for stanza in text.split("\n\n"):
        fields = dict(re.findall(r"^([\w-]+): (.*)$", stanza, re.MULTILINE))
        name, status = fields.get("Package", ""), fields.get("Status", "")
        if DRIVER_PACKAGE.match(name) and status.endswith(" installed"):
            found[name] = fields.get("Version", "?")
    return found


def kernels_with(root: Path, patterns: tuple[str, ...]) -> list[str]:
    """The kernels under /lib/modules that have a file matching one of the patterns."""
    base = under(root, MODULES)
    try:
        kernels = sorted(p for p in base.iterdir() if p.is_dir())
    except OSError:
        return []
    return [k.name for k in kernels if any(next(k.glob(pat), None) for pat in patterns)]


def probe_driver_install(root: Path = Path("/")) -> DriverInstall:
    return DriverInstall(
        packages=installed_packages(root),
        module_kernels=kernels_with(root, MODULE_GLOBS),
        headers_kernels=kernels_with(root, ("build/Makefile",)),
    )
