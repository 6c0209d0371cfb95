"""Why a framework failed to import, read from its child's error output, each cause with its
own fix. Used by the frameworks check; not a check. A generic reinstall is the caller's
answer only when nothing here is recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# numpy's own words when a module built against numpy 1.x is imported under numpy 2.
_NUMPY_ABI = re.compile(
    r"compiled using NumPy 1\.x|_ARRAY_API not found|numpy\.core\.multiarray failed"
)
# The dynamic loader's words for a missing shared library.
_MISSING_LIB = re.compile(r"(lib[\w.+-]+\.so[\w.]*): cannot open shared object file")
# TensorFlow's/XLA's words when the cuDNN it loaded is not the one it was built for.
_CUDNN_MISMATCH = re.compile(
    r"cuDNN version incompatibility|Loaded runtime CuDNN library: ([\d.]+)"
)
_CUDA_LIB = re.compile(
    r"lib(?:cudnn|cudart|cublas|cublasLt|cufft|cusparse|cusolver|nvrtc)[\w.]*\.so"
)
# The kernel's SIGILL, as Python's child reports it, and the flags framework wheels need.
_ILLEGAL = re.compile(r"Illegal instruction|SIGILL")


@dataclass(frozen=True)
class Cause:
    code: str
    message: str
    hint: str


def classify(
    name: str,
    text: str,
    ld_library_path: list[str],
    cuda_dirs: dict[str, list[str]],
    cpu_flags: set[str] | None,
) -> Cause | None:
    """The cause of a failed `import name`, from its error text; None when unrecognised.

    cuda_dirs: LD_LIBRARY_PATH entries -> the CUDA library files each holds (probe data).
    cpu_flags: the CPU's flags from /proc/cpuinfo, None when unknown.
    """
    if _NUMPY_ABI.search(text):
        return Cause(
            f"frameworks.{name}_numpy_abi",
            f"{name} (or a module it imports) was built against NumPy 1.x and NumPy 2 is installed",
            f"pip install 'numpy<2', or upgrade {name} to a release built for NumPy 2",
        )
    if _CUDNN_MISMATCH.search(text) or (_CUDA_LIB.search(text) and ld_library_path):
        shadow = [d for d in ld_library_path if cuda_dirs.get(d)]
        if shadow:
            return Cause(
                f"frameworks.{name}_ld_library_path_cuda",
                f"{name} loaded CUDA/cuDNN libraries from LD_LIBRARY_PATH ({', '.join(shadow)}) "
                "instead of the ones its wheels bring",
                f"remove {', '.join(shadow)} from LD_LIBRARY_PATH (pip wheels need none)",
            )
    missing = _MISSING_LIB.search(text)
    if missing:
        lib = missing.group(1)
        return Cause(
            f"frameworks.{name}_missing_library",
            f"{name} needs {lib}, which the loader cannot find",
            _missing_hint(name, lib),
        )
    if _ILLEGAL.search(text):
        need = [f for f in ("avx", "avx2", "fma") if cpu_flags is not None and f not in cpu_flags]
        lacking = f" (this CPU lacks {', '.join(f.upper() for f in need)})" if need else ""
        return Cause(
            f"frameworks.{name}_illegal_instruction",
            f"{name} died on an illegal CPU instruction{lacking}",
            f"this CPU cannot run the {name} wheel; use a build for CPUs without "
            f"{', '.join(f.upper() for f in need) or 'those instructions'} (build from source, or "
            "conda-forge), or another machine",
        )
    return None


def _missing_hint(name: str, lib: str) -> str:
    if re.match(r"lib(cudnn|cudart|cublas|cufft|cusparse|cusolver|nvrtc|nccl|nvJitLink)", lib):
        extra = "tensorflow[and-cuda]" if name in ("tensorflow", "keras") else name
        return f"pip install --force-reinstall '{extra}' (brings {lib} as a wheel)"
    if lib.startswith("libcuda.so") or lib.startswith("libnvidia"):
        return (
            "install the NVIDIA driver (it provides libcuda.so.1); in a container, start it "
            "with --gpus all"
        )
    return f"install the system package that provides {lib} (apt-file search {lib})"
