"""provision.sh and tests/run.sh as an unprivileged user: they say exactly what to run as
root, or run themselves again through sudo. Run as `nobody` through runuser (the tests run
as root); sudo, which would ask a password, is replaced by a recorder at that boundary."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = [REPO / "provision.sh", REPO / "tests/run.sh"]
ARGS = ["--check", "-e", "note=two words", "-e", "it's"]


@pytest.fixture
def bin_dir() -> Iterator[Path]:
    """A PATH with only what the scripts use before the root check: no sudo in it."""
    top = Path(tempfile.mkdtemp(prefix="dlstation-bin-"))
    top.chmod(0o755)  # nobody must read it
    for tool in ("bash", "id", "dirname", "env", "sed"):
        (top / tool).symlink_to(shutil.which(tool))
    yield top
    shutil.rmtree(top)


def as_nobody(path_dir: Path, *argv: str) -> subprocess.CompletedProcess:
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.fail("these tests run as root (tests/run.sh does) with runuser (util-linux)")
    return subprocess.run(
        ["runuser", "-u", "nobody", "--", shutil.which("env"), f"PATH={path_dir}", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_without_sudo_the_exact_root_command_is_printed(bin_dir, script):
    result = as_nobody(bin_dir, str(script), *ARGS)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"{script.name} needs root, and there is no sudo here. Run it as root:"
    # The printed commands, read back as a shell reads them, run this very script with these
    # very arguments.
    su = shlex.split(lines[1])
    assert su[:2] == ["su", "-c"] and su[3:] == ["root"]
    assert shlex.split(su[2]) == [str(script), *ARGS]
    assert lines[2] == "or, in a root shell:"
    assert shlex.split(lines[3]) == [str(script), *ARGS]


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_with_sudo_the_script_runs_itself_again_through_it(bin_dir, script):
    record = bin_dir / "sudo-argv"
    sudo = bin_dir / "sudo"
    sudo.write_text(f'#!{shutil.which("bash")}\nprintf "%s\\n" "$@" >{record}\n')
    sudo.chmod(0o755)
    bin_dir.chmod(0o777)  # the recorder, run as nobody, writes its file here
    result = as_nobody(bin_dir, str(script), *ARGS)
    assert result.returncode == 0, result.stderr
    assert f"{script.name} needs root: running it again with sudo" in result.stderr
    assert record.read_text().splitlines() == ["--", str(script), *ARGS]


def test_provision_help_works_for_anyone(bin_dir):
    result = as_nobody(bin_dir, str(REPO / "provision.sh"), "--help")
    assert result.returncode == 0, result.stderr
    assert "Run it as root, or as a user with sudo" in result.stdout
    assert "./provision.sh --check --diff" in result.stdout
    assert "set -euo" not in result.stdout
