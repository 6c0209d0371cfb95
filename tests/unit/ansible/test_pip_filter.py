"""The pip_unsatisfied filter decides when roles may skip pip; a wrong "satisfied" would
leave a package missing, so every case that must reach pip is tested."""

from __future__ import annotations

from plugin_loader import load_plugin

pip_requirements = load_plugin("plugins/filter/pip_requirements.py")
unsatisfied = pip_requirements.pip_unsatisfied

VENV = [
    {"name": "numpy", "version": "2.4.6"},
    {"name": "PyYAML", "version": "6.0.3"},
    {"name": "tensorflow-cpu", "version": "2.21.0"},
    {"name": "torch", "version": "2.13.0+cpu"},
    {"name": "opencv_python_headless", "version": "4.11.0.86"},
    {"name": "dlcheck", "version": "0.1.0"},
]


def test_installed_names_and_exact_pins_are_satisfied() -> None:
    reqs = ["numpy", "pyyaml", "tensorflow-cpu==2.21.0", "opencv-python-headless", "torch==2.13.0"]
    assert unsatisfied(reqs, VENV) == []


def test_extras_and_direct_references_count_by_name() -> None:
    reqs = ["dlcheck[draw,plot] @ file:///var/lib/dlstation/dist/dlcheck-0.1.0-py3-none-any.whl"]
    assert unsatisfied(reqs, VENV) == []
    assert unsatisfied(["tensorflow[and-cuda]==2.21.0"], VENV) == ["tensorflow[and-cuda]==2.21.0"]


def test_missing_or_other_versions_go_to_pip() -> None:
    reqs = ["scipy", "tensorflow-cpu==2.20.0", "keras==3.15.1"]
    assert unsatisfied(reqs, VENV) == reqs


def test_specifiers_it_cannot_decide_go_to_pip() -> None:
    reqs = ["numpy>=2", "numpy~=2.4", "numpy==2.*", "numpy; python_version<'3.8'"]
    assert unsatisfied(reqs, VENV) == reqs


def test_an_empty_or_absent_venv_satisfies_nothing() -> None:
    assert unsatisfied(["numpy"], []) == ["numpy"]
    assert unsatisfied(["numpy"], None) == ["numpy"]
