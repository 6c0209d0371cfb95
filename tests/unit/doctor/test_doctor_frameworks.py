"""Framework probes in real child processes, fed fake packages that crash, hang or complain."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from dlcheck.doctor.checks import registry
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.model import Status
from dlcheck.doctor.probes.frameworks import parse_dlopen
from dlcheck.doctor.probes.imports import run_child

TF_LIBCUDNN_STDERR = (
    "2026-01-01 00:00:00.000000: W tensorflow/compiler/xla/stream_executor/platform/default/"
    "dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.9'; dlerror: libcudnn.so.9: "
    "cannot open shared object file: No such file or directory\n"
    "2026-01-01 00:00:00.000001: W tensorflow/core/common_runtime/gpu/gpu_device.cc:2256] "
    "Cannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above "
    "are installed properly if you would like to use GPU.\n"
)

# A TensorFlow that loads, prints TF's libcudnn complaint, and otherwise behaves.
TF_COMPLAINS = f"""
import sys, types
sys.stderr.write({TF_LIBCUDNN_STDERR!r})
__version__ = "2.21.0"
test = types.SimpleNamespace(is_built_with_cuda=lambda: True)
sysconfig = types.SimpleNamespace(
    get_build_info=lambda: {{"cuda_version": "12.5.1", "cudnn_version": "9"}})
config = types.SimpleNamespace(list_physical_devices=lambda kind: [])
"""
FAKES = {
    "segv": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
    "abort": "import os\nos.abort()\n",
    "hang": "import time\ntime.sleep(3600)\n",
    "complains": TF_COMPLAINS,
}
# Keras, torch and jax stand-ins so the other children stay fast and quiet.
OTHERS = {
    "keras": (
        "__version__ = '3.0.0'\nimport types\n"
        "backend = types.SimpleNamespace(backend=lambda: 'tensorflow')\n"
    ),
    "torch": "raise ImportError('fake torch: deliberately broken')\n",
    "jax": "__version__ = '0.0.0'\ndefault_backend = lambda: 'cpu'\ndevices = lambda: ['cpu:0']\n",
}


def fake_site(tmp_path, tensorflow_source):
    site = tmp_path / "site"
    for name, source in {"tensorflow": tensorflow_source, **OTHERS}.items():
        pkg = site / name
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text(textwrap.dedent(source))
    return site


def frameworks_check(site, timeout=60.0):
    env = dict(os.environ, PYTHONPATH=str(site))
    ctx = Context(Options(env=env, timeout=timeout))
    return registry()["frameworks"].run(ctx)


def tf_findings(result):
    return {f.code: f for f in result.findings if "tensorflow" in f.code}


def test_segfault_on_import_is_a_failed_check(tmp_path):
    result = frameworks_check(fake_site(tmp_path, FAKES["segv"]))
    finding = tf_findings(result)["frameworks.tensorflow_signal"]
    assert finding.status == Status.FAIL
    assert "SIGSEGV" in finding.message
    assert "in _tensorflow" in finding.message  # the last lines of stderr (faulthandler's)
    probe = result.facts["tensorflow"]["probe"]
    assert probe["ending"] == "signal"
    assert any("Fatal Python error: Segmentation fault" in line for line in probe["stderr_tail"])
    assert result.status == Status.FAIL


def test_abort_on_import(tmp_path):
    result = frameworks_check(fake_site(tmp_path, FAKES["abort"]))
    assert "SIGABRT" in tf_findings(result)["frameworks.tensorflow_signal"].message


def test_hang_on_import_times_out(tmp_path):
    result = frameworks_check(fake_site(tmp_path, FAKES["hang"]), timeout=3)
    finding = tf_findings(result)["frameworks.tensorflow_timeout"]
    assert finding.status == Status.FAIL
    assert "within 3 s" in finding.message
    # the others (own children) still answered
    assert result.facts["jax"]["version"] == "0.0.0"


def test_missing_gpu_library_is_named(tmp_path):
    result = frameworks_check(fake_site(tmp_path, FAKES["complains"]))
    found = tf_findings(result)
    missing = found["frameworks.tensorflow_missing_library"]
    assert missing.status == Status.FAIL
    assert "libcudnn.so.9" in missing.message
    assert "cuDNN" in missing.hint
    assert found["frameworks.tensorflow_dlopen_failed"].status == Status.FAIL
    assert result.facts["tensorflow"]["version"] == "2.21.0"
    assert result.facts["tensorflow"]["missing_libraries"] == ["libcudnn.so.9"]
    assert result.facts["keras"]["backend"] == "tensorflow"
    torch = {f.code: f for f in result.findings}["frameworks.torch_import_failed"]
    assert "deliberately broken" in torch.message


def test_parse_dlopen_ignores_unrelated_lines():
    missing, some = parse_dlopen("I tensorflow: all good\n" + TF_LIBCUDNN_STDERR * 2)
    assert missing == ["libcudnn.so.9"] and some
    assert parse_dlopen("W something else\n") == ([], False)


def test_silent_exit_is_no_json(tmp_path):
    # A package that ends the process during import leaves no JSON behind.
    result = frameworks_check(fake_site(tmp_path, "import os\nos._exit(0)\n"))
    finding = tf_findings(result)["frameworks.tensorflow_no_json"]
    assert finding.status == Status.FAIL
    assert "printed no JSON" in finding.message


def test_nonzero_exit_is_reported(tmp_path):
    result = frameworks_check(fake_site(tmp_path, "import os\nos._exit(7)\n"))
    assert "exited with status 7" in tf_findings(result)["frameworks.tensorflow_exit"].message


def test_stdout_noise_from_imports_does_not_break_the_json(tmp_path):
    site = fake_site(tmp_path, "print('hello from a chatty package')\n__version__ = '1'\n")
    outcome = run_child(["keras"], 30, env=dict(os.environ, PYTHONPATH=str(site)))
    assert outcome.ok
    assert outcome.data["keras"]["version"] == "3.0.0"


def test_framework_missing_is_skip_with_extra(tmp_path):
    ctx = Context(Options(python=bare_python(tmp_path), env=isolated_env(tmp_path), timeout=30))
    result = registry()["frameworks"].run(ctx)
    assert result.status == Status.SKIP
    found = {f.code: f for f in result.findings}
    tf = found["frameworks.tensorflow_not_installed"]
    assert tf.status == Status.SKIP
    assert tf.hint == "pip install 'dlcheck[tf]'"
    assert found["frameworks.torch_not_installed"].hint == "pip install 'dlcheck[torch]'"
    assert result.facts["tensorflow"] is None


@pytest.mark.parametrize("module", ["numpy", "h5py"])
def test_libraries_child_reports_real_versions(module):
    import importlib.metadata

    outcome = run_child([module], 60)
    assert outcome.ok
    assert outcome.data[module]["version"] == importlib.metadata.version(module)


def bare_python(tmp_path):
    """An interpreter that sees no framework: a venv without pip of the base Python."""
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return str(venv / "bin" / "python")


def isolated_env(tmp_path, **extra):
    """os.environ without the variables that would let the real frameworks or a real
    keras.json answer (a PYTHONPATH, KERAS_BACKEND, KERAS_HOME)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "KERAS_BACKEND", "KERAS_HOME")
    }
    return {**env, "KERAS_HOME": str(tmp_path / "keras-home"), **extra}


def keras_site(tmp_path, *backends):
    """A Keras stand-in that, like Keras 3, imports the backend KERAS_BACKEND names
    (default tensorflow), and stand-ins for the named backends."""
    site = tmp_path / "site"
    (site / "keras").mkdir(parents=True)
    (site / "keras" / "__init__.py").write_text(
        "import importlib, os, types\n"
        "__version__ = '3.15.1'\n"
        "_name = os.environ.get('KERAS_BACKEND', 'tensorflow')\n"
        "importlib.import_module(_name)\n"
        "backend = types.SimpleNamespace(backend=lambda: _name)\n"
    )
    dist = site / "keras-3.15.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: keras\nVersion: 3.15.1\n")
    for name in backends:
        (site / name).mkdir()
        (site / name / "__init__.py").write_text("__version__ = '0.0.0'\n")
    return site


def keras_check(tmp_path, *backends, **env):
    ctx = Context(
        Options(
            python=bare_python(tmp_path),
            env=isolated_env(tmp_path, PYTHONPATH=str(keras_site(tmp_path, *backends)), **env),
            timeout=60,
        )
    )
    result = registry()["frameworks"].run(ctx)
    return result, {f.code: f for f in result.findings}


def test_keras_whose_default_backend_is_missing_is_probed_with_an_installed_one(tmp_path):
    # A PyTorch-only venv: `import keras` fails there until KERAS_BACKEND is set.
    result, found = keras_check(tmp_path, "torch")
    keras = result.facts["keras"]
    assert keras["version"] == "3.15.1" and keras["ok"] is True
    assert keras["backend"] == "torch"
    assert keras["configured_backend"] == "tensorflow"
    assert keras["backends_installed"] == ["torch"]
    warn = found["frameworks.keras_backend_missing"]
    assert warn.status == Status.WARN
    assert "tensorflow (by default)" in warn.message
    assert warn.hint.startswith("export KERAS_BACKEND=torch")
    assert "frameworks.keras_import_failed" not in found
    assert "Keras 3.15.1 (torch)" in result.summary


def test_keras_backend_from_keras_json_is_named(tmp_path):
    home = tmp_path / "keras-home"
    home.mkdir()
    (home / "keras.json").write_text('{"backend": "jax"}')
    _, found = keras_check(tmp_path, "torch")
    warn = found["frameworks.keras_backend_missing"]
    assert f"jax (by {home / 'keras.json'})" in warn.message


def test_keras_with_its_backend_installed_is_quiet(tmp_path):
    result, found = keras_check(tmp_path, "torch", KERAS_BACKEND="torch")
    assert not [c for c in found if c.startswith("frameworks.keras")]
    assert result.facts["keras"]["configured_by"] == "KERAS_BACKEND"


def test_keras_without_any_backend_fails_with_the_install_fix(tmp_path):
    # keras.json names a backend that is missing, and no other is installed either.
    result, found = keras_check(tmp_path)
    fail = found["frameworks.keras_no_backend"]
    assert fail.status == Status.FAIL
    assert "dlcheck[tf]" in fail.hint
    assert result.facts["keras"]["backend"] is None
    assert "Keras 3.15.1 (no backend)" in result.summary


@pytest.mark.slow
def test_the_real_keras_probe_leaves_the_home_untouched(tmp_path):
    # Keras writes ~/.keras/keras.json on its first import; the doctor must change nothing.
    pytest.importorskip("keras")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME")}
    env["HOME"] = str(tmp_path)
    outcome = run_child(["keras"], 120, env=env)
    assert outcome.ok and outcome.data["keras"]["ok"], outcome.data
    assert not (tmp_path / ".keras").exists()
