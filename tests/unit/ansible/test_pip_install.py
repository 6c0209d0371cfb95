"""common's pip.yml for real, with uv (the default installer), against a local pip index.

The index is a stand-in for a lab mirror that wants a credential: a PEP 503 "simple" folder
served over HTTP on loopback, holding uv's and pip's real wheels (downloaded once from the
configured index) and a small wheel made here. Each run makes a real venv in tmp_path."""

from __future__ import annotations

import base64
import functools
import getpass
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_preflight import role_playbook, run_local_playbook

SECRET = "pr0be-s3cr3t"


def _probe_wheel(folder: Path, version: str, *modules: str) -> None:
    """A pure-Python wheel of the distribution dlstation-probe (module dlstation_probe, and
    the given submodules)."""
    name = f"dlstation_probe-{version}"
    files = {
        "dlstation_probe/__init__.py": f"VERSION = {version!r}\n",
        **{f"dlstation_probe/{module}.py": "" for module in modules},
        f"{name}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: dlstation-probe\nVersion: {version}\n"
        ),
        f"{name}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: dlstation-tests\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}.dist-info/RECORD,,")
    with zipfile.ZipFile(folder / f"{name}-py3-none-any.whl", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)
        whl.writestr(f"{name}.dist-info/RECORD", "\n".join(record) + "\n")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL (with a credential) of a local index of uv, pip and dlstation-probe 1.0, 2.0."""
    root = tmp_path_factory.mktemp("index")
    simple = root / "simple"
    for project in ("uv", "pip", "dlstation-probe"):
        (simple / project).mkdir(parents=True)
    for project in ("uv", "pip"):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:"]
            + ["-d", str(simple / project), project],
            check=True,
        )
    for version in ("1.0", "2.0"):
        _probe_wheel(simple / "dlstation-probe", version)
    # A second index (as PyTorch's would be), with a version the first does not have.
    (root / "extra" / "dlstation-probe").mkdir(parents=True)
    _probe_wheel(root / "extra" / "dlstation-probe", "3.0")
    for project in [*simple.iterdir(), root / "extra" / "dlstation-probe"]:
        links = "".join(f'<a href="{f.name}">{f.name}</a>\n' for f in sorted(project.glob("*.whl")))
        (project / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://alice:{SECRET}@127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()


def install(
    tmp_path: Path,
    index: str,
    requirement: str,
    *args: str,
    installer: str = "uv",
    installed: list[dict] | None = None,
    **more: object,
) -> tuple[int, str]:
    playbook = role_playbook(tmp_path / "play.yml", "common:pip.yml")
    # The venv as python_env publishes it (python_env_venv); `installed` once it has listed it.
    venv = {
        "path": str(tmp_path / "venv"),
        "owner": getpass.getuser(),
        "python": "/usr/bin/python3",
        "installer": installer,
        "index_url": index,
        "extra_index_urls": [],
        "cert": "/etc/ssl/certs/ca-certificates.crt",
        "timeout": 60,
    }
    if installed is not None:
        venv["installed"] = installed
    variables = {
        "common_pip_packages": [requirement],
        "common_pip_what": "the probe",
        "common_venv": venv,
        **more,
    }
    proc = run_local_playbook(
        playbook, "-e", "ansible_become=false", "-e", json.dumps(variables), *args
    )
    return proc.returncode, proc.stdout + proc.stderr


def probe_version(venv: Path) -> str:
    script = "import dlstation_probe; print(dlstation_probe.VERSION)"
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_uv_installs_from_the_configured_index(
    tmp_path: Path, index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip puts uv into the venv: from the same index (python_env's pip.conf says so on a host).
    monkeypatch.setenv("PIP_INDEX_URL", index)
    venv = tmp_path / "venv"

    rc, out = install(tmp_path, index, "dlstation-probe==1.0")
    assert rc == 0, out[-3000:]
    assert (venv / "bin" / "uv").exists()
    # The venv was made without pip: uv put it in, from the index, for the venv's users.
    pip_record = next((venv / "lib").glob("python3*/site-packages/pip-*.dist-info"))
    assert (pip_record / "INSTALLER").read_text().strip() == "uv"
    # uv would make its lock file world-writable; the role made it first, without o+w.
    assert (venv / ".lock").stat().st_mode & 0o002 == 0
    assert probe_version(venv) == "1.0"
    installer = next((venv / "lib").glob("python3*/site-packages/dlstation_probe-1.0.dist-info"))
    assert (installer / "INSTALLER").read_text().strip() == "uv"
    assert "changed: [localhost]" in out.split("Install into the venv: the probe", 1)[1]
    assert SECRET not in out

    # Met already: uv reports no change.
    rc, out = install(tmp_path, index, "dlstation-probe==1.0")
    assert rc == 0 and "changed=0" in out, out[-3000:]

    # --check on a venv that has uv: uv's dry run reports the change and makes none.
    had_uv = [{"name": "uv", "version": "0"}]
    rc, out = install(tmp_path, index, "dlstation-probe==2.0", "--check", installed=had_uv)
    assert rc == 0 and "changed=1" in out, out[-3000:]
    assert probe_version(venv) == "1.0"

    # A requirement the index does not have: uv's own message, and the credential stays out.
    rc, out = install(tmp_path, index, "dlstation-probe==3.0")
    assert rc != 0
    assert "dlstation-probe" in out and "3.0" in out
    assert SECRET not in out
    assert probe_version(venv) == "1.0"


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_an_extra_index_for_one_install_reaches_either_installer(
    tmp_path: Path, index: str, monkeypatch: pytest.MonkeyPatch, installer: str
) -> None:
    """common_pip_extra_index_urls (frameworks passes PyTorch's index so) is searched too."""
    # pip reads the index from its environment here (python_env's pip.conf on a host).
    monkeypatch.setenv("PIP_INDEX_URL", index)
    extra = index.rsplit("/simple", 1)[0] + "/extra"
    rc, out = install(
        tmp_path,
        index,
        "dlstation-probe==3.0",
        installer=installer,
        common_pip_extra_index_urls=[extra],
    )
    assert rc == 0, out[-3000:]
    assert probe_version(tmp_path / "venv") == "3.0"
    record = next(
        (tmp_path / "venv" / "lib").glob("python3*/site-packages/dlstation_probe-3.0.dist-info")
    )
    assert (record / "INSTALLER").read_text().strip() == installer
    assert (tmp_path / "venv" / "bin" / "uv").exists() == (installer == "uv")
    assert SECRET not in out


VENV_STATE = Path(__file__).parents[3] / "roles" / "python_env" / "files" / "venv_state.py"


def test_an_install_that_uv_broke_off_midway_is_found_unfinished(
    tmp_path: Path, index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python_env's venv_state.py, against the record a real uv leaves when an install stops
    half-way: uv itself calls that package installed and would never mend it."""
    monkeypatch.setenv("PIP_INDEX_URL", index)
    venv = tmp_path / "venv"
    rc, out = install(tmp_path, index, "dlstation-probe==1.0")
    assert rc == 0, out[-3000:]
    links = tmp_path / "links"
    links.mkdir()
    _probe_wheel(links, "4.0", "zz_last")
    site = next((venv / "lib").glob("python3*/site-packages"))

    def uv_install() -> subprocess.CompletedProcess[str]:
        argv = [str(venv / "bin" / "uv"), "pip", "install", "--python", str(venv / "bin/python")]
        argv += ["--no-index", "--find-links", str(links), "dlstation-probe==4.0"]
        return subprocess.run(argv, capture_output=True, text=True)

    def venv_state() -> dict[str, list]:
        argv = [str(venv / "bin" / "python"), "-c", VENV_STATE.read_text()]
        return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)

    # A folder where the wheel has a file: uv stops half-way through putting its files in.
    (site / "dlstation_probe" / "zz_last.py" / "blocked").mkdir(parents=True)
    broken = uv_install()
    assert broken.returncode != 0 and "zz_last.py" in broken.stderr, broken.stderr
    (site / "dlstation_probe" / "zz_last.py" / "blocked").rmdir()
    (site / "dlstation_probe" / "zz_last.py").rmdir()
    record = site / "dlstation_probe-4.0.dist-info"
    assert record.is_dir() and not (record / "INSTALLER").exists()
    # The hazard: uv asked again finds 4.0 installed and leaves the missing file missing.
    again = uv_install()
    assert again.returncode == 0, again.stderr
    assert not (site / "dlstation_probe" / "zz_last.py").exists()

    state = venv_state()
    assert state["unfinished"] == [str(record)]
    assert "dlstation-probe" not in {d["name"] for d in state["installed"]}
    # What python_env does with that list: the record goes, and uv installs the package again.
    for path in state["unfinished"]:
        shutil.rmtree(path)
    mended = uv_install()
    assert mended.returncode == 0, mended.stderr
    assert (site / "dlstation_probe" / "zz_last.py").is_file()
    assert (record / "INSTALLER").read_text().strip() == "uv"
    assert venv_state()["unfinished"] == []
