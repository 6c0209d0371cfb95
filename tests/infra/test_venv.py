"""The venv: its Python, its permissions, its libraries, its BLAS, plot_model."""

from __future__ import annotations

import json

import pytest
from helpers import run_ok

# Import name -> what it stands for (the ids say which library failed).
LIBRARIES = ["numpy", "scipy", "pandas", "matplotlib", "yaml", "h5py", "pydot", "cv2"]
# Every framework a platform may get by default; compat.json's platforms table says which.
FRAMEWORKS = ["tensorflow", "keras", "jax"]

IMPORT = "import importlib, sys; m = importlib.import_module(sys.argv[1]); print(m.__version__)"


def test_venv_python_runs(host, venv: str) -> None:
    assert host.file(f"{venv}/pyvenv.cfg").is_file, f"{venv} is not a venv (no pyvenv.cfg)"
    out = run_ok(host, "%s/bin/python -c %s", venv, "import sys; print(sys.prefix)").stdout
    assert out.strip() == venv, f"{venv}/bin/python runs with sys.prefix {out.strip()}"


def test_venv_python_is_python3(host, venv: str) -> None:
    out = run_ok(host, "%s/bin/python --version", venv).stdout
    assert out.startswith("Python 3."), out


def test_venv_is_not_world_writable(host, venv: str) -> None:
    # Symlinks always show 0777; what matters is the files and directories they name.
    out = run_ok(host, "find %s -perm -0002 -not -type l -print", venv).stdout
    assert out.strip() == "", f"world-writable in the venv:\n{out[:2000]}"
    assert not host.file(venv).mode & 0o002


# Every source file in site-packages and whether its bytecode is there (python_env compiles the
# venv after pip, which installs with --no-compile): [sources, without bytecode, first few].
BYTECODE = """
import importlib.util, json, os, sysconfig
root = sysconfig.get_paths()["purelib"]
sources = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".py")]
missing = [p for p in sources if not os.path.exists(importlib.util.cache_from_source(p))]
print(json.dumps([len(sources), len(missing), missing[:5]]))
"""


def test_venv_is_compiled_to_bytecode(host, py: str) -> None:
    # Without bytecode every user's import would compile again (the venv is not theirs to
    # write). A few files may not compile at all (sources for other Pythons); pip skips them too.
    sources, missing, some = json.loads(run_ok(host, f"{py} -c %s", BYTECODE).stdout)
    assert sources > 1000, f"only {sources} Python files in site-packages"
    assert missing <= sources // 100, f"{missing} of {sources} without bytecode, e.g. {some}"


@pytest.mark.parametrize("module", LIBRARIES)
def test_library_imports(host, py: str, module: str) -> None:
    out = run_ok(host, f"{py} -c %s %s", IMPORT, module).stdout
    assert out.strip(), f"{module} has no version"


@pytest.mark.slow
@pytest.mark.parametrize("module", FRAMEWORKS)
def test_framework_imports(host, py: str, module: str, platform_gets_tensorflow: bool) -> None:
    # Where no TensorFlow release installs, the frameworks role installs JAX for Keras instead.
    if module == "tensorflow" and not platform_gets_tensorflow:
        pytest.skip("compat.json's platforms table: no TensorFlow for this platform's Python")
    if module == "jax" and platform_gets_tensorflow:
        pytest.skip("JAX is optional where TensorFlow installs (frameworks_install_jax)")
    out = run_ok(host, f"{py} -c %s %s", IMPORT, module).stdout
    version = out.strip().splitlines()[-1]
    if module == "keras":
        assert version.startswith("3."), f"Keras {version}, expected Keras 3"


def test_numpy_uses_openblas(host, py: str) -> None:
    code = (
        "import json, numpy; "
        "print(json.dumps(numpy.show_config(mode='dicts')['Build Dependencies']['blas']))"
    )
    blas = json.loads(run_ok(host, f"{py} -c %s", code).stdout)
    assert "openblas" in blas.get("name", "").lower(), f"numpy's BLAS: {blas}"


@pytest.mark.parametrize("library", ["libblas.so.3", "liblapack.so.3"])
def test_system_alternative_points_at_openblas(host, library: str) -> None:
    multiarch = run_ok(host, "gcc -print-multiarch").stdout.strip()
    out = run_ok(host, "update-alternatives --query %s", f"{library}-{multiarch}").stdout
    values = [ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Value:")]
    value = values[0] if values else ""
    assert "openblas" in value, f"{library} -> {value!r}"


@pytest.mark.slow
def test_keras_plot_model_writes_a_png(host, py: str, remote_tmp: str) -> None:
    png = f"{remote_tmp}/model.png"
    code = (
        "import sys, keras; "
        "m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)]); "
        "keras.utils.plot_model(m, to_file=sys.argv[1], show_shapes=True)"
    )
    run_ok(host, f"{py} -c %s %s", code, png)
    f = host.file(png)
    assert f.is_file, "plot_model wrote no file"
    assert f.content[:8] == b"\x89PNG\r\n\x1a\n", "plot_model's file is not a PNG"
    assert f.size > 1000, f"the PNG is suspiciously small ({f.size} bytes)"
