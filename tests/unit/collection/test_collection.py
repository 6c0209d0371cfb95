"""The roles as the Ansible collection dlstation.workstation, used the way an admin would:
`ansible-galaxy collection build`, then a fresh controller (a new venv with ansible-core
only) installs the tarball and its dependency, and a playbook of the admin's own, outside
this repository, uses `dlstation.workstation.<role>`.

There is no Galaxy here: the dependency, community.general, is packed into a tarball from
the copy that the `ansible` package installed in the dev venv, and installs run --offline.
The real converge of a collection role on a fresh target is tests/target/collection.sh.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import collection_tarballs
import pytest
import yaml

import dlcheck

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
ROLES = sorted(p.parent.parent.name for p in (REPO / "roles").glob("*/tasks/main.yml"))
GALAXY = collection_tarballs.galaxy()
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"

pytestmark = pytest.mark.slow


def run(argv: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    # Outside the repository and without its ansible.cfg: the admin's own project.
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    base.update(ANSIBLE_NOCOLOR="1", **(env or {}))
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=base, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """The collection's tarball, built from this repository, and community.general's."""
    out = tmp_path_factory.mktemp("artifacts")
    collection_tarballs.build(out)
    collection_tarballs.dependencies(out)
    return out


def own_tarball(artifacts: Path) -> Path:
    return artifacts / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


@pytest.fixture(scope="session")
def controller(tmp_path_factory) -> Path:
    """A fresh controller: a new venv with ansible-core alone (the dev venv's version)."""
    venv = tmp_path_factory.mktemp("controller") / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
    pip = run([venv / "bin/pip", "install", "-q", f"ansible-core=={version('ansible-core')}"], REPO)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv / "bin"


def install(controller: Path, where: Path, *tarballs: Path, deps: bool = True):
    requirements = where / "requirements.yml"
    entries = [{"name": str(t), "type": "file"} for t in tarballs]
    requirements.write_text(yaml.safe_dump({"collections": entries}))
    argv = [controller / "ansible-galaxy", "collection", "install", "--offline"]
    argv += ["-r", requirements, "-p", where / "collections"] + ([] if deps else ["--no-deps"])
    return run(argv, where, {"ANSIBLE_COLLECTIONS_PATH": str(where / "collections")})


USER_PLAYBOOK = """\
- name: My lab's workstations
  hosts: all
  become: true
  roles:
    - {role}
"""


def syntax_check(controller: Path, project: Path, role: str) -> subprocess.CompletedProcess:
    (project / "site.yml").write_text(USER_PLAYBOOK.format(role=role))
    argv = [controller / "ansible-playbook", "-i", "localhost,", "--syntax-check", "site.yml"]
    return run(argv, project, {"ANSIBLE_COLLECTIONS_PATH": str(project / "collections")})


def test_the_version_is_dlchecks():
    assert GALAXY["version"] == dlcheck.__version__


def test_the_tarball_holds_roles_playbooks_and_dlcheck_and_nothing_else(artifacts):
    with tarfile.open(own_tarball(artifacts)) as tar:
        names = set(tar.getnames())
    for role in ROLES:
        assert f"roles/{role}/tasks/main.yml" in names
    for needed in (
        "meta/runtime.yml",
        "playbooks/site.yml",
        "playbooks/verify.yml",
        "dlcheck/compat/compat.json",  # the table site.yml loads
        "pyproject.toml",  # the dlcheck role builds its wheel from the collection's copy
        "dlcheck/__init__.py",
        "docs/prometheus/dlstation-alerts.yml",
    ):
        assert needed in names, needed
    top = {n.split("/")[0] for n in names}
    assert not top & {".venv", ".git", ".controller", ".target", ".whl", "tests", "bench"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_a_fresh_controller_uses_every_role_from_its_own_playbook(artifacts, controller, tmp_path):
    general = next(artifacts.glob("community-general-*.tar.gz"))
    installed = install(controller, tmp_path, own_tarball(artifacts), general)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    every_role = "\n    - ".join(f"{FQCN}.{role}" for role in ROLES)
    checked = syntax_check(controller, tmp_path, every_role)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for playbook in ("site", "verify"):  # the collection's own playbooks, by name
        argv = [controller / "ansible-playbook", "-i", "localhost,", "--syntax-check"]
        checked = run(
            argv + [f"{FQCN}.{playbook}"],
            tmp_path,
            {"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections")},
        )
        assert checked.returncode == 0, f"{playbook}: {checked.stdout}{checked.stderr}"


def test_installing_without_the_dependency_names_it(artifacts, controller, tmp_path):
    refused = install(controller, tmp_path, own_tarball(artifacts))
    assert refused.returncode != 0
    assert "community.general" in refused.stderr + refused.stdout
    assert not (tmp_path / "collections/ansible_collections/dlstation").exists()


def test_a_role_installed_without_its_dependency_names_the_missing_collection(
    artifacts, controller, tmp_path
):
    """blas sets its alternatives with community.general. Ansible parses a task file when it
    reaches it; imported statically, as here, that is at --syntax-check already."""
    installed = install(controller, tmp_path, own_tarball(artifacts), deps=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    (tmp_path / "site.yml").write_text(
        USER_PLAYBOOK.split("  roles:")[0]
        + "  tasks:\n"
        + "    - name: Choose OpenBLAS\n"
        + "      ansible.builtin.import_role:\n"
        + f"        name: {FQCN}.blas\n"
        + "        tasks_from: configure\n"
    )
    argv = [controller / "ansible-playbook", "-i", "localhost,", "--syntax-check", "site.yml"]
    checked = run(argv, tmp_path, {"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections")})
    assert checked.returncode != 0
    output = " ".join((checked.stdout + checked.stderr).split())
    assert "couldn't resolve module/action 'community.general.alternatives'" in output
    assert "missing collection" in output
