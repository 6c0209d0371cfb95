"""The roles keep their own house rules: prefixed, commented, specified, documented defaults,
and none of the practices the project exists to replace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent for p in (REPO / "roles").glob("*/meta/main.yml"))
ROLE_IDS = [r.name for r in ROLES]


def load(path: Path) -> object:
    return yaml.safe_load(path.read_text())


def defaults_of(role: Path) -> dict:
    return load(role / "defaults/main.yml") or {}


def spec_of(role: Path) -> dict:
    return load(role / "meta/argument_specs.yml")["argument_specs"]


def test_every_expected_role_exists() -> None:
    expected = {
        "common", "preflight", "system", "python_env", "blas", "hdf5", "graphviz", "opencv",
        "nvidia_driver", "cuda_toolkit", "cudnn", "frameworks", "dlcheck",
    }  # fmt: skip
    assert expected <= set(ROLE_IDS)


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_defaults_are_prefixed_and_commented(role: Path) -> None:
    lines = (role / "defaults/main.yml").read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"^([a-z_0-9]+):", line)
        if not match:
            continue
        assert match.group(1).startswith(role.name + "_"), f"{match.group(1)} lacks the role prefix"
        assert lines[number - 1].startswith("#"), f"{match.group(1)} has no comment line above it"


def options_of(spec: dict) -> dict:
    """Every entry point's options in one table (common's apt, pip, plan; the others' main)."""
    merged: dict = {}
    for entry in spec.values():
        for name, option in (entry.get("options") or {}).items():
            assert merged.get(name, option) == option, f"{name} differs between entry points"
            merged[name] = option
    return merged


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_argument_specs_match_defaults(role: Path) -> None:
    defaults = defaults_of(role)
    spec = spec_of(role)
    # common's entry points (apt, pip, plan) share its defaults; another role's main entry
    # holds its options (preflight's `variables` entry checks the playbook's own switches).
    # The converge role's entry points are the playbook's own (its switches): it has no main.
    options = options_of(spec) if role.name == "common" else spec.get("main", {}).get("options", {})
    # Every option a caller may leave out has its default in defaults/main.yml; the required
    # parameters of common's entry points have none.
    optional = {name for name, option in options.items() if not option.get("required")}
    assert optional == set(defaults), "argument_specs.yml and defaults/main.yml differ"
    # site.yml's first play runs tasks_from: preflight, validated by the same options.
    if (role / "tasks/preflight.yml").exists():
        assert spec["preflight"]["options"] == spec["main"]["options"]
    for name, option in options.items():
        assert option.get("description"), f"{name} has no description"
        assert "type" in option, f"{name} has no type"
        if option.get("required"):
            continue
        value = defaults[name]
        if isinstance(value, str) and "{{" in value:
            # Computed from compat.json or another role: the spec repeats the expression or
            # shows its usual value.
            continue
        assert option.get("default") == value, f"{name}: spec and defaults/main.yml differ"


def task_files(role: Path) -> list[Path]:
    return sorted((role / "tasks").glob("*.yml")) + sorted((role / "handlers").glob("*.yml"))


def test_no_role_reads_another_roles_private_variables() -> None:
    """A role's __private names are its own: another role or a playbook never reads them."""
    roles = {role.name for role in ROLES}
    files = [p for p in (REPO / "roles").rglob("*") if p.is_file() and p.suffix in {".yml", ".j2"}]
    files += sorted((REPO / "playbooks").glob("*.yml"))
    for path in files:
        relative = path.relative_to(REPO)
        owner = relative.parts[1] if relative.parts[0] == "roles" else ""
        for name in re.findall(r"\b__([a-z][a-z0-9]*(?:_[a-z0-9]+)*)", code_of(path)):
            role = next((r for r in roles if name.startswith(r + "_")), None)
            # __dlstation_*, loop variables and the like belong to no role.
            assert role in (None, owner), f"{relative} reads __{name} of {role}"


def test_only_roles_with_distro_vars_load_them() -> None:
    """first_found distro vars only where a vars/<distro>.yml exists (it is a task per run)."""
    for role in ROLES:
        distro_vars = [p for p in (role / "vars").glob("*.yml") if p.name != "main.yml"]
        loads = any("first_found" in p.read_text() for p in task_files(role))
        assert loads == bool(distro_vars), f"{role.name}: {distro_vars}, first_found: {loads}"


@pytest.mark.parametrize("role", [r for r in ROLES if r.name != "common"], ids=lambda r: r.name)
def test_readme_names_the_dependencies_of_meta(role: Path) -> None:
    """The README's Dependencies names each role of meta/main.yml (test_contracts.py holds
    meta/main.yml to what the role reads)."""
    meta = load(role / "meta/main.yml")
    section = (role / "README.md").read_text().split("## Dependencies", 1)[1].split("\n## ", 1)[0]
    for dependency in meta.get("dependencies") or []:
        assert f"`{dependency['role']}`" in section, f"{dependency['role']} is not in the README"


def test_no_apt_lock_timeout_fallbacks() -> None:
    """Every apt task takes common_apt_lock_timeout, never a `| default(...)` of its own."""
    for role in ROLES:
        for path in task_files(role):
            for task in load(path) or []:
                args = task.get("ansible.builtin.apt")
                if isinstance(args, dict):
                    assert args.get("lock_timeout") == "{{ common_apt_lock_timeout }}", path


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_readme_shows_the_defaults_verbatim(role: Path) -> None:
    readme = (role / "README.md").read_text()
    headings = ("## Requirements", "## Role Variables", "## Dependencies", "## Example Playbook")
    for heading in headings:
        assert heading in readme
    assert (role / "defaults/main.yml").read_text().rstrip() in readme, "README defaults are stale"


def code_of(path: Path) -> str:
    lines = path.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("#", "//")))


FORBIDDEN = {
    r"\bapt_key\b": "apt_key is deprecated; use deb822_repository with signed_by",
    r"break[-_]system[-_]packages": "never break PEP 668; pip goes into the venv",
    r"sudo\s+pip": "never sudo pip",
    r"curl[^\n|]*\|\s*(ba)?sh": "never curl | sh",
    r"LD_LIBRARY_PATH\s*=": "never set a global LD_LIBRARY_PATH",
    r"pypi\.org|pythonhosted\.org|deb\.debian\.org|archive\.ubuntu\.com": "no registry host names",
    r"(?<![\w.])http://": "no plain http URLs",
}


@pytest.mark.parametrize("pattern", list(FORBIDDEN), ids=list(FORBIDDEN.values()))
def test_no_forbidden_practice(pattern: str) -> None:
    suffixes = {".yml", ".j2", ".py"}
    files = [p for p in (REPO / "roles").rglob("*") if p.is_file() and p.suffix in suffixes]
    files += [REPO / "playbooks/site.yml", REPO / "provision.sh"]
    # Comments may show examples (an apt proxy is often plain http on the lab's LAN).
    hits = [str(p.relative_to(REPO)) for p in files if re.search(pattern, code_of(p), re.I)]
    assert not hits, f"{FORBIDDEN[pattern]}: {hits}"


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_command_tasks_declare_change(role: Path) -> None:
    """command/shell/script tasks say when they change something (or that they never do)."""
    for path in task_files(role):
        for task in load(path) or []:
            modules = {"ansible.builtin.command", "ansible.builtin.shell", "ansible.builtin.script"}
            if modules & set(task):
                args = next(task[m] for m in modules if m in task)
                declared = "changed_when" in task or "creates" in args or "removes" in args
                assert declared, f"{path.name}: {task['name']} has no changed_when/creates"
