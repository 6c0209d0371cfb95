"""Platforms and pins: bad input fails in the preflight play, before anything changes.

The same harness as test_preflight.py (the real playbook, --check, the preflight tags, this
machine as the host). The pin check asks the real package index, as the play does.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_preflight import assert_fails_early, flat, run_preflight

REPO = Path(__file__).resolve().parents[3]
COMPAT = json.loads((REPO / "dlcheck" / "compat" / "compat.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("extra_vars", "needles"),
    [
        pytest.param(
            ["__preflight_platform=Ubuntu-20.04"],
            "Unsupported platform Ubuntu-20.04|standard support ended|Python 3.8"
            "|do-release-upgrade|Ubuntu-24.04",
            id="retired-release-refused-with-the-reason",
        ),
        # Ubuntu 22.04's python3 is 3.10; keras 3.15.1 says Requires-Python >=3.11 on the index.
        pytest.param(
            ["__frameworks_venv_python_version=3.10", "frameworks_keras_version=3.15.1"],
            "keras==3.15.1 does not install|Python 3.10|its Requires-Python is >=3.11"
            "|Set frameworks_keras_version",
            id="python-too-old-for-a-pin-names-its-requires-python",
        ),
        # TensorFlow 2.21.0 publishes wheels for CPython 3.10-3.13 only (Ubuntu 26.04 has 3.14).
        pytest.param(
            ["__frameworks_venv_python_version=3.14", "frameworks_tensorflow_version=2.21.0"],
            "tensorflow-cpu==2.21.0 does not install|no wheel for Python 3.14"
            "|Set frameworks_tensorflow_version",
            id="pin-without-a-wheel-for-the-python-refused",
        ),
    ],
)
def test_bad_platform_or_pin_is_refused_early(extra_vars: list[str], needles: str) -> None:
    """Each case fails in the preflight play with a message holding every |-separated needle."""
    assert_fails_early(*run_preflight(*extra_vars), *needles.split("|"))


def test_every_supported_platform_has_a_python_and_the_retired_ones_a_reason() -> None:
    platforms = COMPAT["platforms"]
    for name, row in platforms["supported"].items():
        assert row["python"].count(".") == 1, name
        assert set(row["pins"]) <= set(COMPAT["pins"]), name
    assert all(platforms["retired"].values())


def test_readme_and_docs_list_the_supported_platforms() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in COMPAT["platforms"]["supported"]:
        distro, release = name.split("-")
        assert f"| {distro} {release} |" in readme, (
            f"{name} is missing from the README's platform table"
        )
    for name in COMPAT["platforms"]["retired"]:
        distro, release = name.split("-")
        assert f"| {distro} {release} |" not in readme


def test_platform_without_tensorflow_passes_with_keras_on_jax() -> None:
    # Ubuntu 26.04's Python 3.14: no TensorFlow wheel, so the table leaves TensorFlow out and
    # the pins checked on the index are Keras and JAX, which have 3.14 files.
    rc, output, counts = run_preflight(
        "__preflight_platform=Ubuntu-26.04", "__frameworks_venv_python_version=3.14"
    )
    assert rc == 0, output[-3000:]
    assert counts["changed"] == 0
    text = flat(output)
    skipped = "Fail when the distro's Python is outside that TensorFlow's range] *"
    assert skipped in text and "skipping: [localhost]" in text.split(skipped, 1)[1][:200]


def test_the_fresh_target_harness_builds_every_supported_platform() -> None:
    out = subprocess.run(
        ["bash", str(REPO / "tests" / "target" / "target.sh"), "releases"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == sorted(name.lower() for name in COMPAT["platforms"]["supported"])


def test_ubuntu_2204_gets_the_releases_its_python_supports() -> None:
    # The platforms table's pins for Python 3.10 pass the same check on the real index.
    rc, output, counts = run_preflight(
        "__preflight_platform=Ubuntu-22.04", "__frameworks_venv_python_version=3.10"
    )
    assert rc == 0, output[-3000:]
    assert counts["changed"] == 0


def test_unreachable_index_fails_the_pin_check_naming_it_without_credentials() -> None:
    secret = "s3cr3t-token-value"
    rc, output, counts = run_preflight(
        f"python_env_pip_index_url=http://user:{secret}@127.0.0.1:9/simple"
    )
    assert_fails_early(
        rc,
        output,
        counts,
        "The pip index http://127.0.0.1:9/simple does not answer",
        "python_env_pip_index_url",
        "frameworks_check_pins=false",
    )
    assert secret not in output


def test_torch_from_the_default_index_needs_a_driver_for_its_cuda() -> None:
    """The wheel's own Requires-Dist names its CUDA (PyPI's torch: CUDA 13): Debian 12's 535
    cannot run it, and the preflight says so before anything changes (the index is real)."""
    rc, output, counts = run_preflight(
        "preflight_gpu_force=true",
        "preflight_check_disk=false",
        "frameworks_install_torch=true",
        "__preflight_platform=Debian-12",
    )
    text = flat(output)
    assert rc != 0 and counts["changed"] == 0, output[-3000:]
    assert "serves this host (535: older than 580, which torch needs)" in text
    assert "frameworks_torch_index_url" in text  # the fix: a build for an older CUDA
