"""A re-run that changed nothing the doctor judges takes its last verdict (issue 13's re-run).

These run the dlcheck role's real doctor.yml with ansible-playbook on this machine, and the
real `dlcheck doctor` of this repository's venv; the role's state folder and the venv it
fingerprints are temporary directories (the venv's bin/dlcheck is this repository's).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from test_preflight import role_playbook, run_local_playbook

BIN = Path(sys.executable).parent
REUSED = ": nothing it judges has changed since;"
RAN = "TASK [dlcheck : Run dlcheck doctor]"


def converge_doctor(tmp_path: Path, **extra: object) -> str:
    """Run doctor.yml once; return its output."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "lib" / "python3" / "site-packages").mkdir(parents=True, exist_ok=True)
    if not (venv / "bin" / "dlcheck").exists():
        (venv / "bin" / "dlcheck").symlink_to(BIN / "dlcheck")
    # A venv to python_env's preflight, which publishes it (dlcheck names python_env in its meta).
    if not (venv / "pyvenv.cfg").exists():
        (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    playbook = role_playbook(tmp_path / "play.yml", "dlcheck:doctor.yml")
    variables = {
        "python_env_venv_path": str(venv),
        "preflight_check_disk": False,
        "preflight_state_dir": str(tmp_path / "state"),
        # This machine's doctor may warn (no GPU); only its failures matter here.
        "dlcheck_doctor_args": ["--no-frameworks"],
        **extra,
    }
    (tmp_path / "state").mkdir(exist_ok=True)
    proc = run_local_playbook(playbook, "-e", json.dumps(variables))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def ran(output: str) -> bool:
    """Whether the doctor itself ran (its task not skipped)."""
    block = output.split(RAN, 1)[1].split("TASK [", 1)[0]
    return "skipping:" not in block


def test_second_run_takes_the_verdict_and_a_change_runs_it_again(tmp_path: Path) -> None:
    first = converge_doctor(tmp_path)
    assert ran(first) and REUSED not in first
    stamp = (tmp_path / "state" / "doctor.fingerprint").read_text().split(" ", 3)
    assert len(stamp[0]) == 64 and stamp[1] in ("ok", "warn", "skip")
    assert stamp[3].startswith("dlcheck doctor: ")

    second = converge_doctor(tmp_path)
    assert not ran(second) and REUSED in second
    assert stamp[3].strip() in second.replace("\n", " ")

    # Bytecode (python_env's compile, still running during the doctor) changes nothing judged.
    site_packages = tmp_path / "venv" / "lib" / "python3" / "site-packages"
    (site_packages / "__pycache__").mkdir()
    assert not ran(converge_doctor(tmp_path))
    # A package added to the venv changes what the doctor would judge.
    (site_packages / "new_package").mkdir()
    assert ran(converge_doctor(tmp_path))
    # Other doctor arguments judge other things.
    assert ran(converge_doctor(tmp_path, dlcheck_doctor_args=["--no-frameworks", "--redact"]))
    # Asked to run anyway.
    assert ran(converge_doctor(tmp_path, dlcheck_doctor_reuse=False))


def test_a_failed_or_corrupt_verdict_is_never_taken(tmp_path: Path) -> None:
    converge_doctor(tmp_path)
    stamp_file = tmp_path / "state" / "doctor.fingerprint"
    fingerprint, _, rest = stamp_file.read_text().partition(" ")
    stamp_file.write_text(f"{fingerprint} fail {rest.split(' ', 1)[1]}")
    assert ran(converge_doctor(tmp_path))
    stamp_file.write_text("\x00garbage")
    assert ran(converge_doctor(tmp_path))


def test_the_doctors_own_writes_do_not_make_the_next_run_judge_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fingerprint kept with a verdict is taken right after the doctor ran: what the doctor
    itself writes (Keras writes its keras.json on its first import) is part of what it saw."""
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    keras_home = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    # A doctor that writes Keras's config on its first run, as an import of Keras does.
    doctor = tmp_path / "venv" / "bin" / "dlcheck"
    doctor.write_text(
        f'#!/bin/sh\n[ -e "{keras_home}/keras.json" ] || {{ mkdir -p "{keras_home}"; '
        f'echo "{{}}" > "{keras_home}/keras.json"; }}\nexec "{BIN / "dlcheck"}" "$@"\n'
    )
    doctor.chmod(0o755)
    assert ran(converge_doctor(tmp_path))
    assert not ran(converge_doctor(tmp_path))
    # A later change to that config (a user's) does make it judge again.
    (keras_home / "keras.json").write_text('{"backend": "jax"}\n')
    assert ran(converge_doctor(tmp_path))
