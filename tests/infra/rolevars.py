"""What the roles promise to install, read from their defaults (never repeated here).

The tables below name *variables*, not packages: the package lists themselves come from
roles/<role>/defaults/main.yml, so a package added to a role is tested without touching
this suite. A list variable that this module does not classify fails a test, so a new
role's list cannot be forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "roles"

#: role -> its variables that list apt packages.
APT_LISTS: dict[str, list[str]] = {
    "system": ["system_packages", "system_packages_extra"],
    "python_env": ["python_env_apt_packages"],
    "blas": ["blas_packages"],
    "hdf5": ["hdf5_packages"],
    "graphviz": ["graphviz_packages"],
}
#: role -> its variables that list (or name) pip packages installed into the venv.
PIP_LISTS: dict[str, list[str]] = {
    "python_env": ["python_env_packages", "python_env_packages_extra"],
    "hdf5": ["hdf5_pip_packages"],
    "graphviz": ["graphviz_pip_packages"],
    "opencv": ["opencv_pip_package"],
    "frameworks": ["frameworks_pip_packages_extra"],
}
#: Roles whose packages only a GPU host gets: their lists are tested by test_gpu.py.
GPU_ROLES = {"nvidia_driver", "cuda_toolkit", "cudnn"}


@dataclass(frozen=True)
class Item:
    role: str
    variable: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.role}:{self.name}"


@cache
def defaults(role: str) -> dict[str, Any]:
    path = ROLES / role / "defaults" / "main.yml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def role_default(role: str, variable: str, fallback: Any = None) -> Any:
    return defaults(role).get(variable, fallback)


def _items(table: dict[str, list[str]]) -> list[Item]:
    items = []
    for role, variables in table.items():
        for variable in variables:
            value = defaults(role).get(variable)
            values = [value] if isinstance(value, str) else value or []
            for name in values:
                # A templated entry depends on the host's facts: tested where they are known.
                if isinstance(name, str) and "{{" not in name:
                    items.append(Item(role, variable, name))
    return items


def apt_packages() -> list[Item]:
    return _items(APT_LISTS)


def pip_packages() -> list[Item]:
    return _items(PIP_LISTS)


def unclassified_package_variables() -> list[str]:
    """Variables named like package lists that neither table knows about."""
    known = {v for table in (APT_LISTS, PIP_LISTS) for vs in table.values() for v in vs}
    found = []
    for path in sorted(ROLES.glob("*/defaults/main.yml")):
        role = path.parent.parent.name
        if role in GPU_ROLES:
            continue
        for variable in defaults(role):
            if "package" in variable and variable not in known:
                found.append(f"{role}: {variable}")
    return found


def missing_variables() -> list[str]:
    """Variables the tables name that the roles no longer define (renamed or removed)."""
    return [
        f"{role}: {variable}"
        for table in (APT_LISTS, PIP_LISTS)
        for role, variables in table.items()
        for variable in variables
        if variable not in defaults(role)
    ]
