"""The compatibility table (compat.json) and the version arithmetic to read it.

The same JSON file is loaded by the Ansible roles (include_vars), so pins and
verdicts come from one source.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

Version = tuple[int, ...]


def parse_version(text: str | None) -> Version | None:
    """'535.54.03' -> (535, 54, 3); '2.21.0rc1' -> (2, 21, 0); junk -> None."""
    if not text:
        return None
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(text))
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def version_at_least(actual: str | None, floor: str) -> bool | None:
    """True/False when both parse, None when `actual` is unknown."""
    have, need = parse_version(actual), parse_version(floor)
    if have is None or need is None:
        return None
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    """The parsed compat.json shipped inside the package."""
    text = resources.files(__package__).joinpath("compat.json").read_text(encoding="utf-8")
    return json.loads(text)


def driver_floor_for_cuda(cuda: str) -> str | None:
    """The minimum Linux driver for a CUDA version under minor-version compatibility."""
    version = parse_version(cuda)
    if not version:
        return None
    return table()["cuda_driver_floor"]["by_cuda_major"].get(str(version[0]))


def tensorflow_build(tf_version: str) -> dict[str, Any] | None:
    """The tested build row for a TensorFlow version ('2.21.0' -> the 2.18-2.21 row)."""
    version = parse_version(tf_version)
    if not version or len(version) < 2:
        return None
    major_minor = f"{version[0]}.{version[1]}"
    for row in table()["tensorflow"]["builds"]:
        if major_minor in row["versions"]:
            return row
    return None


def cuda_version_from_int(value: int | None) -> str | None:
    """NVML/CUDA integer form to text: 12080 -> '12.8', 11020 -> '11.2'."""
    if value is None or value <= 0:
        return None
    return f"{value // 1000}.{(value % 1000) // 10}"


def major_minor(text: str | None) -> tuple[int, int] | None:
    """'12.5.82' -> (12, 5); '13' -> (13, 0); junk -> None."""
    version = parse_version(text)
    if not version:
        return None
    return (version[0], version[1] if len(version) > 1 else 0)


def driver_for_cuda(cuda: str) -> str | None:
    """The driver bundled with a CUDA toolkit release (a safe driver branch to suggest)."""
    mm = major_minor(cuda)
    if mm is None:
        return None
    return table()["cuda_toolkit_driver"]["by_cuda"].get(f"{mm[0]}.{mm[1]}")


def tensorflow_for_driver_cuda(driver_cuda: str) -> str | None:
    """The newest TensorFlow (major.minor) in the table whose build CUDA the driver can run."""
    have = major_minor(driver_cuda)
    if have is None:
        return None
    for row in table()["tensorflow"]["builds"]:  # newest first
        need = major_minor(row["cuda"])
        if need is not None and need <= have:
            return row["versions"][-1]
    return None


def _arch_parts(arch: str) -> tuple[str, int, int, str] | None:
    """'sm_86' -> ('sm', 8, 6, ''); 'compute_90a' -> ('compute', 9, 0, 'a'); junk -> None."""
    match = re.fullmatch(r"(sm|compute)_(\d+)(\d)([a-z]?)", arch.strip().lower())
    if not match:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3)), match.group(4)


def arch_supported(compute_capability: str | None, archs: list[str]) -> bool | None:
    """Whether code built for `archs` runs on a GPU of `compute_capability` ('8.6').

    Rules from NVIDIA's CUDA C++ Programming Guide ("Binary Compatibility" and
    "PTX Compatibility"): a cubin built for sm_XY runs on compute capability X.Z
    for any Z >= Y (same major); PTX for compute_XY is JIT-compiled for any
    capability >= X.Y. Arch-specific targets (sm_90a) run on exactly that one.
    None when the capability or the list is unknown.
    """
    cc = major_minor(compute_capability)
    if cc is None or not archs:
        return None
    for arch in archs:
        parts = _arch_parts(arch)
        if parts is None:
            continue
        kind, major, minor, suffix = parts
        if suffix:
            if cc == (major, minor):
                return True
            continue
        if kind == "sm" and cc[0] == major and cc[1] >= minor:
            return True
        if kind == "compute" and cc >= (major, minor):
            return True
    return False
