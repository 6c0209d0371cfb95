"""Runs inside a child interpreter: import one framework or the libraries, report JSON.

The parent passes this file's source with `python -c` (see imports.py), so the child
needs nothing but the standard library and works with any interpreter. Whatever
the imported packages print goes to stderr; stdout carries exactly one JSON
object: {name: {"installed": bool, "ok": bool, "error": str|None, ...facts}}.
A crash (segfault, abort) or hang leaves stdout empty; the parent judges that.
"""

import importlib.metadata
import importlib.util
import json
import os
import sys
import traceback

if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)  # `-c` puts the working directory first; never import from there


def _tensorflow():
    import tensorflow as tf

    out = {"version": tf.__version__, "built_with_cuda": bool(tf.test.is_built_with_cuda())}
    try:
        info = dict(tf.sysconfig.get_build_info())
    except Exception:  # noqa: BLE001 - older builds lack it; report what we can
        info = {}
    out["cuda"] = info.get("cuda_version")
    out["cudnn"] = info.get("cudnn_version")
    out["archs"] = info.get("cuda_compute_capabilities")
    gpus = tf.config.list_physical_devices("GPU")
    out["gpus"] = [gpu.name for gpu in gpus]
    out["gpu_details"] = []
    for gpu in gpus:
        try:
            details = tf.config.experimental.get_device_details(gpu)
            cc = details.get("compute_capability")
            out["gpu_details"].append(
                {
                    "name": details.get("device_name"),
                    "compute_capability": f"{cc[0]}.{cc[1]}" if cc else None,
                }
            )
        except Exception:  # noqa: BLE001
            out["gpu_details"].append({"name": None, "compute_capability": None})
    out["gpu_op_ok"] = None
    if gpus:
        try:
            with tf.device("/GPU:0"):
                a = tf.random.uniform((256, 256))
                b = tf.linalg.matmul(a, a)
            b.numpy()
            out["gpu_op_device"] = b.device
            out["gpu_op_ok"] = "GPU" in b.device
        except Exception as exc:  # noqa: BLE001 - the failure is the finding
            out["gpu_op_ok"] = False
            out["gpu_op_error"] = f"{type(exc).__name__}: {exc}"[:500]
    out["loaded"] = _loaded_cuda_libraries()
    return out


KERAS_BACKENDS = ("tensorflow", "jax", "torch")


def _keras_configured_backend():
    """The backend `import keras` will load and who chose it, as Keras 3 decides:
    $KERAS_BACKEND, else "backend" in $KERAS_HOME/keras.json (default ~/.keras), else
    tensorflow."""
    name = os.environ.get("KERAS_BACKEND")
    if name:
        return name, "KERAS_BACKEND"
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    path = os.path.join(home, "keras.json")
    try:
        with open(path, encoding="utf-8") as f:
            name = json.load(f).get("backend")
    except (OSError, ValueError, AttributeError):
        name = None
    return (name, path) if name else ("tensorflow", "Keras's default")


def _keras():
    configured, chosen_by = _keras_configured_backend()
    out = {"configured_backend": configured, "configured_by": chosen_by}
    out["backends_installed"] = [b for b in KERAS_BACKENDS if importlib.util.find_spec(b)]
    backend = configured
    if importlib.util.find_spec(configured) is None:
        # `import keras` would fail with "No module named ...": say why, and still
        # read Keras's version with a backend that is there.
        out["configured_backend_missing"] = True
        if not out["backends_installed"]:
            try:
                version = importlib.metadata.version("keras")
            except importlib.metadata.PackageNotFoundError:
                version = None
            out.update(version=version, backend=None)
            return out
        backend = out["backends_installed"][0]
    # Keras writes keras.json into its home on first import: give it a scratch one (the
    # doctor changes nothing), and name the backend read above.
    import shutil
    import tempfile

    scratch = tempfile.mkdtemp(prefix="dlcheck-keras-")
    os.environ.update(KERAS_BACKEND=backend, KERAS_HOME=scratch)
    try:
        import keras

        out.update(version=keras.__version__, backend=keras.backend.backend())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def _torch():
    import torch

    out = {"version": torch.__version__, "cuda": torch.version.cuda}
    out["cuda_available"] = bool(torch.cuda.is_available())
    out["arch_list"] = list(torch.cuda.get_arch_list()) if torch.version.cuda else []
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    out["cudnn"] = str(cudnn) if cudnn else None
    out["device_name"] = None
    out["compute_capability"] = None
    if out["cuda_available"]:
        out["device_count"] = torch.cuda.device_count()
        out["device_name"] = torch.cuda.get_device_name(0)
        major, minor = torch.cuda.get_device_capability(0)
        out["compute_capability"] = f"{major}.{minor}"
        try:  # a small convolution maps the cuDNN torch really uses
            x = torch.ones((1, 1, 4, 4), device="cuda")
            torch.nn.functional.conv2d(x, torch.ones((1, 1, 3, 3), device="cuda")).cpu()
        except Exception as exc:  # noqa: BLE001 - reported, the maps still say what loaded
            out["gpu_op_error"] = f"{type(exc).__name__}: {exc}"[:500]
    out["loaded"] = _loaded_cuda_libraries()
    return out


def _jax_cuda_plugin():
    """(distribution, CUDA major) of JAX's CUDA plugin, e.g. ("jax-cuda13-plugin", "13"):
    JAX's GPU support is a separate wheel per CUDA major, and its name is the build."""
    import re

    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        found = re.fullmatch(r"jax-cuda(\d+)-plugin", name)
        if found:
            return f"{name} {dist.version}", found.group(1)
    return None, None


def _jax():
    import jax

    plugin, cuda = _jax_cuda_plugin()
    out = {
        "version": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "cuda_plugin": plugin,
        "cuda": cuda,
    }
    if out["backend"] == "gpu":
        try:  # a small op on the default backend maps the libraries JAX really uses
            jax.numpy.ones(4).sum().block_until_ready()
        except Exception as exc:  # noqa: BLE001
            out["gpu_op_error"] = f"{type(exc).__name__}: {exc}"[:500]
    out["loaded"] = _loaded_cuda_libraries()
    return out


# The mapped file names of the CUDA runtime and cuDNN ('libcudnn.so.9', 'libcudart.so.12.8.90').
CUDA_LIBRARIES = {"cudnn": "libcudnn.so", "cudart": "libcudart.so"}


def _loaded_cuda_libraries():
    """{kind: {"path", "version"}} of the CUDA runtime and cuDNN mapped in this process:
    what the framework really loaded, wherever the loader found it."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = sorted({line.split(None, 5)[-1].strip() for line in maps if "/" in line})
    except OSError:
        return {}
    out = {}
    for kind, prefix in CUDA_LIBRARIES.items():
        for path in paths:
            if os.path.basename(path).startswith(prefix):
                out[kind] = {"path": path, "version": _library_version(path)}
                break
    return out


def _library_version(path):
    """The full version from the file name (libcudnn.so.9.8.0), else from the pip wheel
    that installed the file (nvidia-cudnn-cu12 9.8.0.87), else None."""
    import re

    found = re.search(r"\.so\.(\d+(?:\.\d+)+)$", os.path.realpath(path))
    if found:
        return found.group(1)
    real = os.path.realpath(path)
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if not name.startswith("nvidia-"):
            continue
        for file in dist.files or []:
            if file.name == os.path.basename(path) and os.path.realpath(file.locate()) == real:
                return dist.version
    return None


def _module_version(name):
    module = importlib.import_module(name)
    return {"version": getattr(module, "__version__", None), "imported": True}


def _dist_version(dist):
    """Version from the installed metadata, without importing: pandas costs ~0.5 s to
    import and matplotlib may spend seconds building its font cache on first import."""
    return {"version": importlib.metadata.version(dist), "imported": False}


def _blas_from_maps():
    """The BLAS really mapped into this process: the truth behind numpy's build config."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return None, None
    order = (("mkl", "mkl"), ("openblas", "openblas"), ("blis", "blis"), ("atlas", "atlas"))
    for path in sorted(paths):
        base = os.path.basename(path).lower()
        for needle, name in order:
            if needle in base or (needle == "openblas" and "openblas" in path.lower()):
                return name, path
    for path in sorted(paths):
        if os.path.basename(path).startswith("libblas.so"):
            return "reference", path  # netlib reference BLAS (Debian's libblas3)
    return None, None


def _numpy():
    import numpy

    out = {"version": numpy.__version__}
    blas, path = _blas_from_maps()
    config_name = None
    try:
        config = numpy.show_config(mode="dicts")
        config_name = config["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001 - numpy < 1.26 has no dict mode
        pass
    if blas is None and config_name:
        name = config_name.lower()
        blas = next((b for b in ("mkl", "openblas", "blis", "accelerate") if b in name), name)
    out.update(blas=blas, blas_path=path, blas_build=config_name)
    return out


def _h5py():
    import h5py

    return {"version": h5py.__version__, "hdf5": h5py.version.hdf5_version}


def _cv2():
    import cv2

    info = cv2.getBuildInformation()
    cuda = None
    for line in info.splitlines():
        if line.strip().startswith("NVIDIA CUDA:"):
            cuda = "YES" in line.upper()
    return {"version": cv2.__version__, "cuda": bool(cuda)}


PROBES = {
    "tensorflow": _tensorflow,
    "keras": _keras,
    "torch": _torch,
    "jax": _jax,
    "numpy": _numpy,
    "scipy": lambda: _module_version("scipy"),
    "pandas": lambda: _dist_version("pandas"),
    "matplotlib": lambda: _dist_version("matplotlib"),
    "yaml": lambda: _module_version("yaml"),
    "h5py": _h5py,
    "pydot": lambda: _module_version("pydot"),
    "cv2": _cv2,
}


def run(names):
    results = {}
    for name in names:
        if importlib.util.find_spec(name) is None:
            results[name] = {"installed": False, "ok": False, "error": None}
            continue
        try:
            facts = PROBES[name]()
            results[name] = {"installed": True, "ok": True, "error": None, **facts}
        except BaseException as exc:  # noqa: BLE001 - report any failure, SystemExit included
            tail = traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:]
            results[name] = {
                "installed": True,
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}"[:1000],
                "traceback_tail": "".join(tail)[-2000:],
            }
    return results


def main():
    # Keep fd 1 for our JSON alone: whatever the imports print goes to stderr.
    json_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    results = run(sys.argv[1:])
    with os.fdopen(json_fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(results, default=str) + "\n")


if __name__ == "__main__":
    main()
