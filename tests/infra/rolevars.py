"""What the roles promise to install, read from their defaults (never repeated here).

The table below names *variables*, not packages: the package lists themselves come from
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

#: role -> each of its variables that list packages -> how those are installed: "apt", or
#: "pip" into the venv (a pip variable may also name a single package).
PACKAGE_LISTS: dict[str, dict[str, str]] = {
    "system": {"system_packages": "apt", "system_packages_extra": "apt"},
    "python_env": {
        "python_env_apt_packages": "apt",
        "python_env_packages": "pip",
        "python_env_packages_extra": "pip",
    },
    "blas": {"blas_packages": "apt"},
    "hdf5": {"hdf5_packages": "apt", "hdf5_pip_packages": "pip"},
    "graphviz": {"graphviz_packages": "apt", "graphviz_pip_packages": "pip"},
    "opencv": {"opencv_pip_package": "pip"},
    "frameworks": {"frameworks_pip_packages_extra": "pip"},
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


def _items(installer: str) -> list[Item]:
    items = []
    for role, variables in PACKAGE_LISTS.items():
        for variable in (v for v, how in variables.items() if how == installer):
            value = defaults(role).get(variable)
            values = [value] if isinstance(value, str) else value or []
            for name in values:
                # A templated entry depends on the host's facts: tested where they are known.
                if isinstance(name, str) and "{{" not in name:
                    items.append(Item(role, variable, name))
    return items


def apt_packages() -> list[Item]:
    return _items("apt")


def pip_packages() -> list[Item]:
    return _items("pip")


def unclassified_package_variables() -> list[str]:
    """Variables named like package lists that PACKAGE_LISTS does not classify."""
    known = {v for variables in PACKAGE_LISTS.values() for v in variables}
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
    """Variables PACKAGE_LISTS names that the roles no longer define (renamed or removed)."""
    return [
        f"{role}: {variable}"
        for role, variables in PACKAGE_LISTS.items()
        for variable in variables
        if variable not in defaults(role)
    ]
