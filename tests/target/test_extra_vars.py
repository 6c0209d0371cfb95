"""The harness's variables for the roles, read from the real roles of this repository."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import extra_vars  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def test_the_roles_ca_bundle_variable_is_found() -> None:
    names = extra_vars.ca_bundle_variables(REPO)
    assert "system_ca_bundle" in names
    # Only variables the roles really define.
    defaults = "".join(p.read_text() for p in REPO.glob("roles/*/defaults/main.yml"))
    assert all(f"\n{n}:" in defaults for n in names)


def test_cpu_profile_and_ca_bundle(tmp_path: Path, capsys) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert extra_vars.main(["--repo", str(REPO), "--ca-bundle", str(ca)]) == 0
    values = json.loads(capsys.readouterr().out)
    assert values["preflight_gpu_disable"] is True
    assert values["system_ca_bundle"] == str(ca)


def test_overrides_and_a_missing_bundle(tmp_path: Path, capsys) -> None:
    argv = ["--repo", str(REPO), "--set", "python_env_venv_path=/opt/x", "--set", "n=3"]
    assert extra_vars.main(argv) == 0
    values = json.loads(capsys.readouterr().out)
    assert values["python_env_venv_path"] == "/opt/x" and values["n"] == 3
    assert "system_ca_bundle" not in values
    assert extra_vars.main(["--repo", str(REPO), "--ca-bundle", str(tmp_path / "no")]) == 2
