"""The CUDA toolkit, runtime and cuDNN that are really on disk (system and pip wheels)."""

from __future__ import annotations

import glob
import importlib.metadata
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from dlcheck.compat import parse_version
from dlcheck.doctor.probes import Unavailable, run_tool, tool_version

CUDA_HOMES = "/usr/local/cuda*"
CUDNN_HEADERS = (
    "/usr/include/cudnn_version.h",
    "/usr/include/x86_64-linux-gnu/cudnn_version*.h",
    "/usr/local/cuda*/include/cudnn_version.h",
)


@dataclass
class Library:
    """One copy of a library found on disk."""

    name: str  # 'cudart', 'cudnn'
    version: str | None
    path: str
    source: str  # 'system' or 'pip'


@dataclass
class PathEntry:
    """One directory of LD_LIBRARY_PATH, as found on disk."""

    path: str
    is_dir: bool
    #: the CUDA version the directory is named for, itself or through a link, if any
    cuda_version: str | None


@dataclass
class CudaProbe:
    nvcc: str | None = None  # path
    nvcc_version: str | None | Unavailable = None
    libraries: list[Library] = field(default_factory=list)
    wheels: dict[str, str] = field(default_factory=dict)  # nvidia-* distribution -> version
    ld_library_path: list[PathEntry] = field(default_factory=list)
    # LD_LIBRARY_PATH entry -> the CUDA/cuDNN libraries in it, which shadow the wheels' own.
    ld_library_path_cuda: dict[str, list[str]] = field(default_factory=dict)

    def newest(self, name: str, source: str | None = None) -> Library | None:
        """The newest copy: never whichever a directory happened to list first."""
        found = [
            lib
            for lib in self.libraries
            if lib.name == name and (source is None or lib.source == source)
        ]
        return max(
            found, key=lambda lib: (parse_version(lib.version) or (), lib.path), default=None
        )

    def effective(self, name: str) -> tuple[str | None, str | None]:
        """(version, source) of the copy a framework most likely loads: pip wheels win.

        TensorFlow and PyTorch wheels look for the nvidia-* wheels in site-packages first.
        """
        lib = self.newest(name, "pip") or self.newest(name, "system")
        return (lib.version, lib.source) if lib else (None, None)


def probe_cuda(env: dict[str, str] | None = None) -> CudaProbe:
    env = dict(os.environ) if env is None else env
    probe = CudaProbe()
    probe.ld_library_path = [
        PathEntry(p, os.path.isdir(p), cuda_version_of_dir(p))
        for p in env.get("LD_LIBRARY_PATH", "").split(":")
        if p
    ]
    probe.ld_library_path_cuda = cuda_libraries_in([e.path for e in probe.ld_library_path])
    _nvcc(probe, env)
    _pip_wheels(probe)
    _system_libraries(probe)
    return probe


def _nvcc(probe: CudaProbe, env: dict[str, str]) -> None:
    candidates = [shutil.which("nvcc", path=env.get("PATH"))]
    candidates += sorted(glob.glob(f"{CUDA_HOMES}/bin/nvcc"), reverse=True)
    probe.nvcc = next((c for c in candidates if c), None)
    if probe.nvcc is None:
        return
    probe.nvcc_version = tool_version(
        [probe.nvcc, "--version"], r"release [\d.]+, V([\d.]+)", r"release ([\d.]+)"
    )


def _pip_wheels(probe: CudaProbe) -> None:
    """nvidia-* wheels (TensorFlow's and-cuda extra, torch's CUDA builds) and their libs."""
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower().replace("_", "-")
        if not name.startswith("nvidia-") or name in seen or name == "nvidia-ml-py":
            continue
        seen.add(name)
        probe.wheels[name] = dist.version
        kind = _wheel_kind(name)
        if kind is None:
            continue
        lib_path = _wheel_lib(dist, kind)
        probe.libraries.append(
            Library(name=kind, version=dist.version, path=lib_path or "", source="pip")
        )


def _wheel_kind(name: str) -> str | None:
    if name.startswith("nvidia-cuda-runtime"):
        return "cudart"
    if name.startswith("nvidia-cudnn"):
        return "cudnn"
    return None


def _wheel_lib(dist: importlib.metadata.Distribution, kind: str) -> str | None:
    for file in dist.files or []:
        if f"lib{kind}.so" in file.name:
            return str(file.locate())
    return None


def _system_libraries(probe: CudaProbe) -> None:
    paths: list[str] = []
    for lib_dir in ("lib64", "lib", "targets/x86_64-linux/lib"):
        paths += glob.glob(f"{CUDA_HOMES}/{lib_dir}/libcudart.so.*")
        paths += glob.glob(f"{CUDA_HOMES}/{lib_dir}/libcudnn.so.*")
    paths += _ldconfig_paths()
    seen: set[str] = set()
    for path in paths:
        real = os.path.realpath(path)
        if real in seen or _in_site_packages(real):
            continue
        seen.add(real)
        match = re.search(r"lib(cudart|cudnn)\.so\.([\d.]+)$", real)
        if match:
            name, version = match.group(1), match.group(2)
            if name == "cudart":
                version = _toolkit_cudart_version(real) or version
            probe.libraries.append(Library(name=name, version=version, path=real, source="system"))
    header = _cudnn_header_version()
    if header:
        version, path = header
        # The header has the full version; prefer it over a bare 'libcudnn.so.9'.
        for lib in probe.libraries:
            if lib.name == "cudnn" and lib.source == "system" and version.startswith(lib.version):
                lib.version = version
                break
        else:
            probe.libraries.append(
                Library(name="cudnn", version=version, path=path, source="system")
            )


def _toolkit_cudart_version(lib_path: str) -> str | None:
    """The full runtime version from the toolkit's version.json or dist-info, if any."""
    home = Path(lib_path).parent
    while home != home.parent and not (home / "bin").is_dir():
        home = home.parent
    try:
        data = json.loads((home / "version.json").read_text(encoding="utf-8"))
        return str(data["cuda_cudart"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = sorted(home.glob("dist-info/nvidia_cuda_runtime-*.dist-info"))
    if found:
        return found[-1].name.split("-")[1].removesuffix(".dist")
    return None


def _in_site_packages(path: str) -> bool:
    return "site-packages" in path or "dist-packages" in path


def _ldconfig_paths() -> list[str]:
    ldconfig = shutil.which("ldconfig") or (
        "/sbin/ldconfig" if Path("/sbin/ldconfig").exists() else None
    )
    if not ldconfig:
        return []
    out = run_tool([ldconfig, "-p"])
    if isinstance(out, Unavailable):
        return []
    return re.findall(r"lib(?:cudart|cudnn)\.so\.[\d.]+ .*=> (\S+)", out)


def _cudnn_header_version() -> tuple[str, str] | None:
    for pattern in CUDNN_HEADERS:
        for path in sorted(glob.glob(pattern)):
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            parts = [
                re.search(rf"#define CUDNN_{key}\s+(\d+)", text)
                for key in ("MAJOR", "MINOR", "PATCHLEVEL")
            ]
            if all(parts):
                return ".".join(m.group(1) for m in parts if m), path
    return None


def cuda_version_of_dir(path: str) -> str | None:
    """'/usr/local/cuda-12.5/lib64' -> '12.5'; '/opt/nvidia/cudnn' -> None."""
    match = re.search(r"cuda-?(\d+\.\d+)", path)
    if match:
        return match.group(1)
    real = os.path.realpath(path)
    match = re.search(r"cuda-?(\d+\.\d+)", real)
    return match.group(1) if match else None


CUDA_LIBRARY_GLOBS = ("libcudnn*.so*", "libcudart.so*", "libcublas*.so*")


def cuda_libraries_in(directories: list[str]) -> dict[str, list[str]]:
    """The CUDA runtime, cuBLAS and cuDNN files in each directory (those that have any)."""
    found: dict[str, list[str]] = {}
    for directory in directories:
        names = sorted(
            {
                Path(p).name
                for pattern in CUDA_LIBRARY_GLOBS
                for p in glob.glob(f"{directory}/{pattern}")
            }
        )
        if names:
            found[directory] = names
    return found
