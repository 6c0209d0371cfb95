"""The contracts between the roles: each role reads only what it declares.

- A role reads another role's variables (its options, or the facts it publishes) only when its
  meta/main.yml names that role, or a role that names it: the walk from the inventory to any
  value goes one way.
- common reads nothing but its own parameters: its callers pass what it needs.
- A shared path is written once, by its owner; the others read the owner's name for it.
- vars/ hold values, not programs: a program that runs on the host lives in a role's files/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent.name for p in (REPO / "roles").glob("*/meta/main.yml"))
# Longest first, so that python_env_x is python_env's and not a role named "python"'s.
BY_LENGTH = sorted(ROLES, key=len, reverse=True)

# The site playbook's own role, which site.yml runs around the others: the check of every
# variable the host was given against every role's argument specs, and the record of a
# converge (which watches what every role writes). It reads the other roles' public options by
# name, through their specs (the argument_specs lookup), and runs none of them: it sits above
# them all, and no role names it.
TOP = "converge"

# Paths several roles use, each with the one role that may write it down.
SHARED_PATHS = {"/opt/dlstation/venv": "python_env", "/var/lib/dlstation": "preflight"}


def code_files(role: str) -> list[Path]:
    root = REPO / "roles" / role
    files = [root / "defaults/main.yml", root / "meta/argument_specs.yml"]
    for folder in ("tasks", "vars", "handlers", "templates"):
        files += sorted((root / folder).glob("*.yml")) + sorted((root / folder).glob("*.j2"))
    return [f for f in files if f.is_file()]


def code_of(path: Path) -> str:
    """The file without its comment lines; of an argument spec, only the defaults (its prose
    may name anything)."""
    if path.name == "argument_specs.yml":
        specs = yaml.safe_load(path.read_text())["argument_specs"].values()
        return "\n".join(
            str(o.get("default", ""))
            for spec in specs
            for o in (spec.get("options") or {}).values()
        )
    lines = path.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


# What a role publishes under a name without its prefix: common loads the compatibility table.
UNPREFIXED = {"dlstation_compat": "common"}


def owner_of(name: str) -> str | None:
    return UNPREFIXED.get(name) or next((r for r in BY_LENGTH if name.startswith(r + "_")), None)


def names_read(text: str) -> set[str]:
    """Variable-like names in the text; a collection's plugin (dlstation.workstation.x) and a
    file name (x.yml, x.py) are not variables."""
    found = re.findall(
        r"(?<![\w.\-/])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w.]*\.(?:yml|py|j2|json)\b)", text
    )
    return set(found)


def roles_read(role: str) -> dict[str, set[str]]:
    """Each other role this role's code reads, with the names read (an included or imported
    role, by `name:`, counts as read)."""
    reads: dict[str, set[str]] = {}
    for path in code_files(role):
        text = code_of(path)
        for name in names_read(text):
            other = owner_of(name)
            if other and other != role:
                reads.setdefault(other, set()).add(name)
        for other in re.findall(r"^\s*name:\s*([a-z_]+)\s*$", text, flags=re.MULTILINE):
            if other in ROLES and other != role:
                reads.setdefault(other, set()).add(f"(the role {other})")
    return reads


def declared(role: str) -> list[str]:
    meta = yaml.safe_load((REPO / "roles" / role / "meta/main.yml").read_text())
    return [d["role"] if isinstance(d, dict) else d for d in meta.get("dependencies") or []]


def reachable(role: str) -> set[str]:
    """The roles this one names, and the roles those name: each runs (its checks) before it.
    meta/main.yml names only the nearest (python_env, not also system and preflight, which
    python_env names): Ansible loads a role's whole tree for each role that names it, and the
    site playbook's parse took 6.2 s instead of 2.8 s with every read named directly."""
    found: set[str] = set()
    for other in declared(role):
        found |= {other} | reachable(other)
    return found


@pytest.mark.parametrize("role", [r for r in ROLES if r != TOP])
def test_a_role_reads_only_the_roles_its_meta_names(role: str) -> None:
    undeclared = {
        other: sorted(names)
        for other, names in roles_read(role).items()
        if other not in reachable(role)
    }
    assert not undeclared, (
        f"{role} reads {undeclared} without naming those roles (or a role that names them) "
        f"in roles/{role}/meta/main.yml"
    )


@pytest.mark.parametrize("role", [r for r in ROLES if r != TOP])
def test_a_role_names_in_its_meta_only_the_roles_it_reads(role: str) -> None:
    unread = [other for other in declared(role) if other not in roles_read(role)]
    assert not unread, f"roles/{role}/meta/main.yml names {unread}, which {role} does not read"


def test_the_playbooks_own_role_sits_above_the_others() -> None:
    """converge reads the others' public names only, runs none of them, and none names it.
    It names common alone: the compatibility table, which the version defaults it digests use."""
    assert declared(TOP) == ["common"]
    assert [role for role in ROLES if TOP in declared(role)] == []
    private = [
        name
        for path in code_files(TOP)
        for name in re.findall(r"\b__([a-z][a-z0-9_]*)", code_of(path))
        if owner_of(name) not in (None, TOP)
    ]
    assert private == [], f"{TOP} reads other roles' private names: {private}"


def test_common_reads_nothing_but_its_parameters() -> None:
    reads = roles_read("common")
    assert reads == {}, (
        f"common reads its callers' variables {reads}: pass them as common_* parameters"
    )
    defaults = (REPO / "roles/common/defaults/main.yml").read_text()
    assert "| default(" not in defaults, "common's defaults fall back to another role's variables"


def test_the_dependencies_have_no_cycle() -> None:
    """Following meta/main.yml from any role never comes back to it."""

    def walk(role: str, path: tuple[str, ...]) -> None:
        assert role not in path, f"dependency cycle: {' -> '.join(path + (role,))}"
        for other in declared(role):
            walk(other, path + (role,))

    for role in ROLES:
        walk(role, ())


def test_site_checks_each_role_after_the_roles_it_reads() -> None:
    """site.yml's preflight loop runs a role's preflight after those of the roles it names."""
    site = yaml.safe_load((REPO / "playbooks/site.yml").read_text())
    loops = [t["loop"] for t in site[0]["tasks"] if isinstance(t.get("loop"), list)]
    assert len(loops) == 1
    order = ["preflight", *loops[0]]
    for position, role in enumerate(order):
        later = [d for d in reachable(role) if d in order[position:]]
        assert not later, f"site.yml checks {role} before {later}, which it reads"


@pytest.mark.parametrize("path", sorted(SHARED_PATHS))
def test_a_shared_path_is_written_once_by_its_owner(path: str) -> None:
    owner = SHARED_PATHS[path]
    files = [p for role in ROLES for p in code_files(role)]
    files += sorted((REPO / "playbooks").glob("*.yml")) + sorted((REPO / "plugins").rglob("*.py"))
    writers = sorted(str(p.relative_to(REPO)) for p in files if path in code_of(p))
    assert writers, f"{path} is nowhere: update SHARED_PATHS"
    strangers = [w for w in writers if not w.startswith(f"roles/{owner}/")]
    assert not strangers, (
        f"{path} is written in {strangers}; read {owner}'s variable for it instead"
    )


# A value that is a shell program: several lines with the shell's control words or a pipe.
SHELL = re.compile(
    r"(^|\s)(if|then|fi|while|do|done|case|esac|exec)\b|\$\(|\|\s*\w|;\s*$", re.MULTILINE
)


@pytest.mark.parametrize("role", ROLES)
def test_vars_hold_values_not_programs(role: str) -> None:
    for path in sorted((REPO / "roles" / role / "vars").glob("*.yml")):
        values = yaml.safe_load(path.read_text()) or {}
        for name, value in values.items():
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and "{{" not in text and text.count("\n") >= 2:
                    assert not SHELL.search(text), (
                        f"{path.relative_to(REPO)}: {name} is a program; move it to "
                        f"roles/{role}/files/ with a test of its own"
                    )


def test_the_contract_checks_can_fail() -> None:
    """The name scan finds a read, skips plugins and files, and owns names by the longest prefix."""
    assert names_read("{{ python_env_venv.path }}") == {"python_env_venv"}
    assert names_read("dlstation.workstation.nvidia_driver_choice(x)") == set()
    assert names_read("script: free_disk.py") == set()
    assert owner_of("python_env_venv") == "python_env"
    assert SHELL.search("a=1\nif [ -e x ]; then\n  exit\nfi\n")
