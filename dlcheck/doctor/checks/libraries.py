"""Judge the scientific Python stack: BLAS, HDF5, Graphviz, OpenCV and friends."""

from __future__ import annotations

from typing import Any

from dlcheck.doctor.checks.result import make_result
from dlcheck.doctor.context import Context
from dlcheck.doctor.model import CheckResult, Finding, Status
from dlcheck.doctor.probes import Unavailable, value

# module -> (name in facts, how to install, missing is a warning rather than a note)
WANTED = {
    "numpy": ("numpy", "pip install numpy", True),
    "scipy": ("scipy", "pip install scipy", False),
    "pandas": ("pandas", "pip install pandas", False),
    "matplotlib": ("matplotlib", "pip install 'dlcheck[plot]'", False),
    "yaml": ("yaml", "pip install pyyaml", False),
    "h5py": ("h5py", "pip install h5py (Keras saves .h5 models with it)", True),
    "pydot": ("pydot", "pip install pydot (keras.utils.plot_model needs it)", False),
    "cv2": ("opencv", "pip install opencv-python-headless", False),
}


def check(ctx: Context) -> CheckResult:
    p = ctx.libraries()
    findings: list[Finding] = []
    outcome = p.outcome
    if outcome is not None and not outcome.ok:
        findings.append(
            Finding(
                Status.FAIL,
                f"libraries.probe_{outcome.ending}",
                outcome.message + _tail(outcome.stderr_tail),
                "import the libraries one by one in this Python to see which one breaks",
            )
        )
    mods = p.modules
    facts: dict[str, Any] = {
        "blas": None,
        "blas_path": None,
        "hdf5": None,
        "graphviz": value(p.dot_version),
        "dot": p.dot_path,
        "opencv_cuda": None,
    }
    for module, (key, how, important) in WANTED.items():
        info = mods.get(module, {})
        facts[key] = info.get("version") if info.get("ok") else None
        if not mods:
            continue
        if info.get("installed") and not info.get("ok"):
            findings.append(
                Finding(
                    Status.FAIL,
                    f"libraries.{key}_broken",
                    f"{module} is installed but does not import: {info.get('error')}",
                    f"reinstall it: pip install --force-reinstall {_dist(key)}",
                )
            )
        elif not info.get("installed"):
            findings.append(
                Finding(
                    Status.WARN if important else Status.SKIP,
                    f"libraries.{key}_missing",
                    f"{module} is not installed",
                    how,
                )
            )
    numpy = mods.get("numpy", {})
    if numpy.get("ok"):
        facts["blas"] = numpy.get("blas")
        facts["blas_path"] = numpy.get("blas_path")
        if numpy.get("blas") == "reference":
            findings.append(
                Finding(
                    Status.WARN,
                    "libraries.blas_reference",
                    f"numpy uses the slow reference BLAS ({numpy.get('blas_path')})",
                    "apt install libopenblas0-pthread (it takes over libblas.so.3), "
                    "or use numpy's wheels",
                )
            )
    h5 = mods.get("h5py", {})
    if h5.get("ok"):
        facts["hdf5"] = h5.get("hdf5")
    cv = mods.get("cv2", {})
    if cv.get("ok"):
        facts["opencv_cuda"] = cv.get("cuda")
    if p.dot_path is None:
        findings.append(
            Finding(
                Status.WARN,
                "libraries.dot_missing",
                "Graphviz `dot` is not on PATH: keras.utils.plot_model cannot draw models",
                "apt install graphviz",
            )
        )
    elif isinstance(p.dot_version, Unavailable):
        findings.append(
            Finding(
                Status.WARN,
                "libraries.dot_broken",
                p.dot_version.reason,
                "apt install --reinstall graphviz",
            )
        )
    parts = []
    if facts["numpy"]:
        parts.append(f"numpy {facts['numpy']} ({facts['blas'] or 'unknown BLAS'})")
    if facts["h5py"]:
        parts.append(f"h5py {facts['h5py']} (HDF5 {facts['hdf5']})")
    if facts["graphviz"]:
        parts.append(f"Graphviz {facts['graphviz']}")
    if facts["opencv"]:
        parts.append(f"OpenCV {facts['opencv']}" + (" (CUDA)" if facts["opencv_cuda"] else ""))
    summary = ", ".join(parts) or "no scientific libraries found"
    return make_result("libraries", "Libraries", summary, findings, facts)


def _dist(key: str) -> str:
    return {"opencv": "opencv-python-headless", "yaml": "pyyaml"}.get(key, key)


def _tail(lines: list[str]) -> str:
    return (" | last stderr: " + " / ".join(lines[-3:])) if lines else ""
