"""dlstation.workstation.pip_unsatisfied: the requirements a venv does not meet yet.

Roles skip pip when it meets them all: running `pip install` only to hear "Requirement
already satisfied" costs seconds per task; one `pip list --format=json` probe (python_env)
answers for every role. Only what can be decided for sure is skipped: a name that is
installed (unpinned, or a direct reference) or installed at exactly the pinned version.
Anything else is left to pip.
"""

import re

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_PIN = re.compile(r"^==\s*([^\s,;*]+)$")


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_unsatisfied(requirements, installed):
    """Requirements (pip strings) not met by `installed` (pip list --format=json entries)."""
    have = {_canonical(item["name"]): str(item["version"]) for item in installed or []}
    missing = []
    for requirement in requirements:
        match = _REQUIREMENT.match(str(requirement))
        if not match or _canonical(match.group(1)) not in have:
            missing.append(requirement)
            continue
        version = have[_canonical(match.group(1))]
        rest = match.group(3).strip()
        if not rest or rest.startswith("@"):
            continue
        pin = _PIN.match(rest)
        # "==2.13.0" is met by "2.13.0+cpu" (PEP 440 ignores the local label when the pin has none).
        if pin and version.split("+")[0] == pin.group(1):
            continue
        missing.append(requirement)
    return missing


class FilterModule:
    def filters(self):
        return {"pip_unsatisfied": pip_unsatisfied}
