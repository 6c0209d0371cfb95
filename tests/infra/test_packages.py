"""Apt and pip packages of every role: one test per package, lists read from the roles."""

from __future__ import annotations

import re

import pytest
import rolevars
from helpers import run_ok

APT = rolevars.apt_packages()
PIP = rolevars.pip_packages()


def test_every_package_list_of_the_roles_is_covered() -> None:
    assert rolevars.unclassified_package_variables() == [], (
        "classify these role variables in tests/infra/rolevars.py (PACKAGE_LISTS)"
    )
    assert rolevars.missing_variables() == [], "variables tests/infra/rolevars.py names"


@pytest.mark.parametrize("item", APT, ids=[i.id for i in APT])
def test_apt_package_installed(host, item: rolevars.Item) -> None:
    pkg = host.package(item.name)
    assert pkg.is_installed, f"{item.name} (from {item.variable}) is not installed"


def _dist_name(requirement: str) -> str:
    # "numpy>=2,<3" / "opencv-python-headless==4.11" / "tensorflow[and-cuda]" -> the name
    return re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]


@pytest.mark.parametrize("item", PIP, ids=[i.id for i in PIP])
def test_pip_package_in_venv(host, venv: str, item: rolevars.Item) -> None:
    name = _dist_name(item.name)
    out = run_ok(host, "%s/bin/python -m pip show %s", venv, name).stdout
    assert re.search(r"^Version: \S+", out, re.MULTILINE), out
