"""The cuda_toolkit and cudnn roles against the stand-in for NVIDIA's repository, on a target.

Run by tests/target/prove.sh after the main proof (DLSTATION_TARGET_WORK: its work
directory). The stand-in (nvidia_repo.py) is built and served on loopback for this module;
the roles run unchanged through tests/target/nvidia_standin.yml, pointed at it by
cuda_toolkit_repo_base_url, _key_name and _key_fingerprint. In order:

1. the pinned fingerprint does not match the key the repository serves: the play stops at
   the fingerprint check, naming the variable, before any source, key or package is
   installed, and apt never fetched the repository's index;
2. the right fingerprint: the key is installed, the deb822 source is signed by it alone,
   the toolkit and cuDNN are installed from the repository (nvcc in a login shell prints
   the release), the driver packages NVIDIA's repository also carries are never candidates;
3. a second run changes nothing;
4. a second source for the same repository, as NVIDIA's cuda-keyring package adds it: apt
   itself then fails, and the role's preflight stops before that, naming the file.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import nvidia_repo  # noqa: E402
import recap  # noqa: E402
from on_target import TARGET_MARKS, on_target  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = os.environ.get("DLSTATION_TARGET_WORK", "")
PLAYBOOK = HERE / "nvidia_standin.yml"
# NVIDIA's real key: the roles' default pin, which the stand-in's own key does not match.
NVIDIA_FINGERPRINT = "EB693B3035CD5710E231E123A4B469963BF863CC"
SOURCE = "/etc/apt/sources.list.d/dlstation-cuda.sources"
KEYRING = "/usr/share/keyrings/dlstation-cuda-archive-keyring.asc"
CUDA = "12.5"  # compat.json's pin: the role's default toolkit
INSTALLED = ["cuda-toolkit-12-5", "cuda-nvcc-12-5", "libcudnn9-cuda-12", "libcudnn9-dev-cuda-12"]
# Driver packages the stand-in carries, as NVIDIA's repository does (nvidia_repo.driver_packages).
DRIVER_PACKAGES = [p.name for p in nvidia_repo.driver_packages()]

pytestmark = TARGET_MARKS


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory):
    built = nvidia_repo.build(tmp_path_factory.mktemp("nvidia-standin"))
    with nvidia_repo.serving(built.root) as url:
        yield built, url


def play(name: str, standin, fingerprint: str) -> tuple[int, str]:
    built, url = standin
    log = Path(WORK, "logs", f"standin-{name}.log")
    cmd = ["ansible-playbook", "-i", f"{WORK}/inventory", str(PLAYBOOK)]
    cmd += ["-e", f"standin_ca={built.ca}", "-e", f"cuda_toolkit_repo_base_url={url}"]
    cmd += ["-e", f"cuda_toolkit_repo_key_name={built.key_name}"]
    cmd += ["-e", f"cuda_toolkit_repo_key_fingerprint={fingerprint}"]
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{bindir}:{os.environ['PATH']}")
    # This playbook is not beside playbooks/collections, where the clone finds itself as the
    # collection (dlstation.workstation's filters); a stock controller's ANSIBLE_COLLECTIONS_PATH
    # hides ansible.cfg's collections_path, so name the clone's collection first.
    found = [str(REPO / "playbooks" / "collections"), env.get("ANSIBLE_COLLECTIONS_PATH", "")]
    env["ANSIBLE_COLLECTIONS_PATH"] = ":".join(p for p in found if p)
    with log.open("w") as out:
        proc = subprocess.run(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False
        )
    return proc.returncode, log.read_text(errors="replace")


def installed(package: str) -> bool:
    out = on_target(f"dpkg-query -W -f='${{db:Status-Abbrev}}' {package} 2>/dev/null", check=False)
    return out.startswith("ii")


def test_wrong_fingerprint_stops_before_anything_is_installed(standin) -> None:
    built, _ = standin
    rc, log = play("wrong-fingerprint", standin, NVIDIA_FINGERPRINT)
    assert rc != 0, "the play trusted a key with another fingerprint"
    host = next(iter(recap.parse(log).values()))
    assert host.failed_tasks == ["cuda_toolkit : Fail unless the key has the pinned fingerprint"]
    text = re.sub(r"\s+", " ", log)
    assert "cuda_toolkit_repo_key_fingerprint" in text and built.fingerprint in text, log[-3000:]
    assert NVIDIA_FINGERPRINT in text
    # Nothing trusted, nothing installed, and apt never read the repository.
    assert on_target(f"ls {SOURCE} {KEYRING} 2>/dev/null || true").strip() == ""
    assert [p for p in INSTALLED + DRIVER_PACKAGES if installed(p)] == []
    requests = (built.root / "requests.log").read_text()
    assert "InRelease" not in requests and "Packages" not in requests, requests


def test_right_fingerprint_installs_the_toolkit_and_cudnn(standin) -> None:
    built, url = standin
    rc, log = play("converge", standin, built.fingerprint)
    assert rc == 0, log[-3000:]
    assert [p for p in INSTALLED if not installed(p)] == []
    version = on_target("su - dlops -c 'nvcc --version'")
    assert f"release {CUDA}, V{CUDA}." in version, version
    assert on_target("ls /usr/include/x86_64-linux-gnu/cudnn_version_v9.h").strip()


def test_the_source_is_deb822_signed_by_the_pinned_key_alone(standin) -> None:
    built, url = standin
    source = on_target(f"cat {SOURCE}")
    assert f"URIs: {url}/{nvidia_repo.DISTRO}/{nvidia_repo.ARCH}/" in source, source
    assert re.search(r"^Suites: /$", source, re.M), source
    assert f"Signed-By: {KEYRING}" in source, source
    keys = on_target(f"gpg --show-keys --with-colons {KEYRING}")
    fingerprints = [ln.split(":")[9] for ln in keys.splitlines() if ln.startswith("fpr:")]
    assert fingerprints == [built.fingerprint]


@pytest.mark.parametrize("package", DRIVER_PACKAGES)
def test_driver_packages_of_the_repository_are_never_candidates(standin, package: str) -> None:
    # NVIDIA's repository carries the driver under Debian's names at newer versions; the
    # role pins them to -1 so that the driver comes from the distro (roles/nvidia_driver).
    _, url = standin
    policy = on_target(f"apt-cache policy {package}")
    assert url.split("/")[2] in policy, f"the stand-in does not offer {package}:\n{policy}"
    candidate = re.search(r"Candidate: (\S+)", policy)
    assert candidate and not candidate.group(1).startswith("575."), policy


def test_second_run_changes_nothing(standin) -> None:
    built, _ = standin
    rc, log = play("idempotent", standin, built.fingerprint)
    problems = recap.check(recap.parse(log), 0, False)
    assert rc == 0 and problems == [], problems


def test_a_cuda_keyring_source_for_the_same_repository_stops_the_play(standin) -> None:
    built, url = standin
    # What cuda-keyring installs (nvidia_repo._keyring), for the repository the role uses.
    listed = f"/etc/apt/sources.list.d/cuda-{nvidia_repo.DISTRO}-{nvidia_repo.ARCH}.list"
    line = (
        "deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] "
        f"{url}/{nvidia_repo.DISTRO}/{nvidia_repo.ARCH}/ /"
    )
    on_target(f"echo {shlex.quote(line)} > {listed}")
    try:
        update = on_target("apt-get update -qq 2>&1; echo rc=$?", check=False)
        assert "Conflicting values set for option Signed-By" in update, update
        rc, log = play("cuda-keyring", standin, built.fingerprint)
    finally:
        on_target(f"rm -f {listed}")
    assert rc != 0, "the play went on with two sources for one repository"
    host = next(iter(recap.parse(log).values()))
    assert host.failed_tasks == [
        "cuda_toolkit : Fail when another apt source names NVIDIA's repository"
    ]
    text = re.sub(r"\s+", " ", log)
    assert listed in text and "apt purge cuda-keyring" in text, log[-3000:]
    assert "rc=0" in on_target("apt-get update -qq 2>&1; echo rc=$?", check=False)
