"""The stand-in for NVIDIA's repository is one that real apt accepts, and only with its key.

Run on the controller with apt in a private state directory (its own sources, lists and
cache; the machine's apt configuration and lists are not touched), against the stand-in
served on loopback over https.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import nvidia_repo  # noqa: E402

pytestmark = pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v apt-get gpg openssl dpkg-deb"], check=False).returncode,
    reason="needs apt-get, gpg, openssl and dpkg-deb",
)


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> nvidia_repo.StandIn:
    return nvidia_repo.build(tmp_path_factory.mktemp("standin"))


def apt(tmp: Path, ca: Path, *args: str) -> subprocess.CompletedProcess:
    for d in ("parts", "prefs", "lists/partial", "cache/archives/partial"):
        (tmp / d).mkdir(parents=True, exist_ok=True)
    options = {
        "Dir::Etc::sourcelist": "/dev/null",
        "Dir::Etc::sourceparts": tmp / "parts",
        "Dir::Etc::preferencesparts": tmp / "prefs",
        "Dir::State::Lists": tmp / "lists",
        "Dir::Cache": tmp / "cache",
        "Acquire::https::CaInfo": ca,
        "Acquire::https::Proxy": "DIRECT",
        # apt's download user could not read a private temporary directory.
        "APT::Sandbox::User": "root",
        "Debug::NoLocking": "1",
    }
    argv = [a for k, v in options.items() for a in ("-o", f"{k}={v}")]
    cmd = [args[0], *argv, *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def source(tmp: Path, url: str, key: Path) -> None:
    (tmp / "parts").mkdir(parents=True, exist_ok=True)
    (tmp / "parts" / "standin.sources").write_text(
        f"Types: deb\nURIs: {url}/{nvidia_repo.DISTRO}/{nvidia_repo.ARCH}/\nSuites: /\n"
        f"Signed-By: {key}\n"
    )


def test_apt_reads_it_signed_by_its_key(standin: nvidia_repo.StandIn, tmp_path: Path) -> None:
    with nvidia_repo.serving(standin.root) as url:
        source(tmp_path, url, standin.repo / standin.key_name)
        update = apt(tmp_path, standin.ca, "apt-get", "update")
        assert update.returncode == 0 and "W:" not in update.stderr, update.stderr
        policy = apt(tmp_path, standin.ca, "apt-cache", "policy", "cuda-toolkit-12-5")
    assert "Candidate: 12.5.1-1" in policy.stdout, policy.stdout


def test_apt_refuses_it_signed_by_another_key(standin: nvidia_repo.StandIn, tmp_path: Path) -> None:
    other = nvidia_repo.build(tmp_path / "other")
    with nvidia_repo.serving(standin.root) as url:
        source(tmp_path, url, other.repo / other.key_name)
        update = apt(tmp_path, standin.ca, "apt-get", "update")
        policy = apt(tmp_path, standin.ca, "apt-cache", "policy", "cuda-toolkit-12-5")
    assert "NO_PUBKEY" in update.stderr or "not signed" in update.stderr, update.stderr
    assert "Candidate: 12.5.1-1" not in policy.stdout, policy.stdout


def test_key_file_is_named_as_nvidia_names_its_own(standin: nvidia_repo.StandIn) -> None:
    # NVIDIA's 3bf863cc.pub is the last 8 hex digits of EB69...A4B469963BF863CC.
    assert standin.key_name == standin.fingerprint[-8:].lower() + ".pub"
    assert (standin.repo / standin.key_name).read_text().startswith("-----BEGIN PGP PUBLIC KEY")
