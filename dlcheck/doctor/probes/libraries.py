"""numpy's BLAS, HDF5, Graphviz, OpenCV and the usual data libraries.

The Python side runs in one child process, so the doctor itself never imports numpy.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dlcheck.doctor.probes import Unavailable, tool_version
from dlcheck.doctor.probes.imports import ChildOutcome, run_child
from dlcheck.doctor.timeouts import LIBRARIES_IMPORT_S

MODULES = ("numpy", "scipy", "pandas", "matplotlib", "yaml", "h5py", "pydot", "cv2")


@dataclass
class LibrariesProbe:
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcome: ChildOutcome | None = None
    dot_path: str | None = None
    dot_version: str | None | Unavailable = None


def probe_libraries(
    timeout: float = LIBRARIES_IMPORT_S,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> LibrariesProbe:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="libs") as pool:
        future = pool.submit(run_child, list(MODULES), timeout, python, env)
        probe = LibrariesProbe()
        _dot(probe, env)
        probe.outcome = future.result()
    if probe.outcome.ok and probe.outcome.data:
        probe.modules = probe.outcome.data
    return probe


def _dot(probe: LibrariesProbe, env: dict[str, str] | None) -> None:
    probe.dot_path = shutil.which("dot", path=(env or {}).get("PATH") if env else None)
    if probe.dot_path is None:
        return
    # Graphviz prints its version on stderr: "dot - graphviz version 2.43.0 (0)".
    probe.dot_version = tool_version([probe.dot_path, "-V"], r"version\s+([\d.]+)")
