"""The roles keep their own house rules: prefixed, commented, specified, documented defaults,
and none of the practices the project exists to replace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent for p in (REPO / "roles").glob("*/tasks/main.yml"))
ROLE_IDS = [r.name for r in ROLES]


def load(path: Path) -> object:
    return yaml.safe_load(path.read_text())


def defaults_of(role: Path) -> dict:
    return load(role / "defaults/main.yml") or {}


def spec_of(role: Path) -> dict:
    return load(role / "meta/argument_specs.yml")["argument_specs"]


def test_every_expected_role_exists() -> None:
    expected = {
        "preflight", "system", "python_env", "blas", "hdf5", "graphviz", "opencv",
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


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_argument_specs_match_defaults(role: Path) -> None:
    defaults = defaults_of(role)
    spec = spec_of(role)
    options = spec["main"]["options"]
    assert set(options) == set(defaults), "argument_specs.yml and defaults/main.yml differ"
    # site.yml's first play runs tasks_from: preflight, validated by the same options.
    if (role / "tasks/preflight.yml").exists():
        assert spec["preflight"]["options"] == options
    for name, option in options.items():
        assert option.get("description"), f"{name} has no description"
        assert "type" in option, f"{name} has no type"
        value = defaults[name]
        if isinstance(value, str) and "{{" in value:
            continue  # computed from compat.json or another role; the spec repeats the expression
        assert option.get("default") == value, f"{name}: spec and defaults/main.yml differ"


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
    for path in sorted((role / "tasks").glob("*.yml")) + sorted((role / "handlers").glob("*.yml")):
        for task in load(path) or []:
            modules = {"ansible.builtin.command", "ansible.builtin.shell", "ansible.builtin.script"}
            if modules & set(task):
                args = next(task[m] for m in modules if m in task)
                declared = "changed_when" in task or "creates" in args or "removes" in args
                assert declared, f"{path.name}: {task['name']} has no changed_when/creates"
