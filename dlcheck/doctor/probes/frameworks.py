"""TensorFlow (+ Keras), PyTorch and JAX, each imported in its own child, in parallel."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dlcheck.doctor.probes.imports import ChildOutcome, run_child
from dlcheck.doctor.timeouts import FRAMEWORK_IMPORT_S

FRAMEWORKS = ("tensorflow", "keras", "torch", "jax")
# Keras rides in TensorFlow's child: its default backend imports TensorFlow anyway,
# and a second `import tensorflow` in another child would double the wall time.
GROUPS = (("tensorflow", "keras"), ("torch",), ("jax",))

_DLOPEN_LIB = re.compile(r"Could not load dynamic library '([^']+)'")
_DLOPEN_SOME = "Cannot dlopen some GPU libraries"


@dataclass
class FrameworkProbe:
    name: str
    installed: bool | None  # None: the child died before it could say
    ok: bool
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    outcome: ChildOutcome | None = None
    missing_libraries: list[str] = field(default_factory=list)
    dlopen_failed: bool = False


def probe_frameworks(
    timeout: float = FRAMEWORK_IMPORT_S,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, FrameworkProbe]:
    with ThreadPoolExecutor(max_workers=len(GROUPS), thread_name_prefix="fw") as pool:
        futures = [pool.submit(run_child, list(group), timeout, python, env) for group in GROUPS]
        outcomes = [f.result() for f in futures]
    results: dict[str, FrameworkProbe] = {}
    for group, outcome in zip(GROUPS, outcomes, strict=True):
        missing, some = parse_dlopen(outcome.stderr)
        for name in group:
            results[name] = _one(name, outcome, missing, some)
    return results


def parse_dlopen(stderr: str) -> tuple[list[str], bool]:
    """TensorFlow's own words for missing GPU libraries: the names, and the summary line."""
    missing = list(dict.fromkeys(_DLOPEN_LIB.findall(stderr)))
    return missing, _DLOPEN_SOME in stderr


def _one(name: str, outcome: ChildOutcome, missing: list[str], some: bool) -> FrameworkProbe:
    if not outcome.ok or outcome.data is None or name not in outcome.data:
        return FrameworkProbe(
            name=name,
            installed=None,
            ok=False,
            error=outcome.message or f"the probe said nothing about {name}",
            outcome=outcome,
            missing_libraries=missing if name == "tensorflow" else [],
            dlopen_failed=some and name == "tensorflow",
        )
    data = dict(outcome.data[name])
    installed = bool(data.pop("installed", False))
    ok = bool(data.pop("ok", False))
    error = data.pop("error", None)
    return FrameworkProbe(
        name=name,
        installed=installed,
        ok=ok,
        facts=data,
        error=error,
        outcome=outcome,
        missing_libraries=missing if name == "tensorflow" else [],
        dlopen_failed=some and name == "tensorflow",
    )
