"""`dlcheck report` on what the real doctor writes, and playbooks/verify.yml run for real."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlcheck.cli.report import report

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
DLCHECK = BIN / "dlcheck"
ANSIBLE_PLAYBOOK = BIN / "ansible-playbook"


def _real_doctor_report() -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "dlcheck", "doctor", "--json", "--no-frameworks"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_report_reads_the_real_doctor(tmp_path):
    doc = _real_doctor_report()
    (tmp_path / "me.json").write_text(json.dumps(doc))
    # A second host: the same machine with an older NumPy and another name.
    other = json.loads(json.dumps(doc))
    other["host"]["hostname"] = "twin"
    for check in other["checks"]:
        if check["name"] == "libraries":
            check["facts"]["numpy"] = "1.0.0"
    (tmp_path / "twin.json").write_text(json.dumps(other))

    result = CliRunner().invoke(report, [str(tmp_path), "--json"])
    assert result.exit_code == (1 if doc["status"] == "fail" else 0), result.output
    fleet = json.loads(result.stdout)
    me = next(h for h in fleet["hosts"] if h["hostname"] == doc["host"]["hostname"])
    assert me["status"] == doc["status"]
    assert me["checks"] == {c["name"]: c["status"] for c in doc["checks"]}
    host_facts = next(c["facts"] for c in doc["checks"] if c["name"] == "host")
    assert me["facts"]["os"] == host_facts["os"]
    assert me["facts"]["python"] == host_facts["python"]
    numpy = next(d for d in fleet["differences"] if d["key"] == "numpy")
    assert {v["value"]: v["hosts"] for v in numpy["values"]} == {
        "1.0.0": ["twin"],
        next(c["facts"]["numpy"] for c in doc["checks"] if c["name"] == "libraries"): [
            doc["host"]["hostname"]
        ],
    }
    # Only numpy differs between the twins.
    assert [d["key"] for d in fleet["differences"]] == ["numpy"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _local(dlcheck: Path) -> dict:
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "verify_dlcheck_path": str(dlcheck),
    }


def _play(tmp_path: Path, inventory: dict, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run verify.yml (doctor without frameworks, to stay fast) into tmp_path/reports."""
    inventory_file = tmp_path / "inventory.yml"
    inventory_file.write_text(json.dumps(inventory))  # JSON is YAML
    reports = tmp_path / "reports"
    command = [str(ANSIBLE_PLAYBOOK), *extra, "-i", str(inventory_file),
               str(REPO / "playbooks" / "verify.yml"), "-e", f"verify_reports_dir={reports}",
               "-e", '{"verify_doctor_args": ["--no-frameworks"]}']  # fmt: skip
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done, reports


needs_ansible = pytest.mark.skipif(
    not ANSIBLE_PLAYBOOK.exists(), reason="ansible-playbook is not in the venv (pip install .[dev])"
)


@pytest.mark.slow
@needs_ansible
def test_verify_playbook_against_localhost_and_an_unreachable_host(tmp_path):
    dead = {
        "ansible_host": "127.0.0.1",
        "ansible_port": _closed_port(),
        "ansible_connection": "ssh",
        "ansible_user": "nobody",
    }
    inventory = {
        "all": {
            "children": {
                "lab": {
                    "hosts": {
                        "localhost": _local(DLCHECK),
                        "no-dlcheck": _local(tmp_path / "absent" / "dlcheck"),
                    }
                },
                "far": {"hosts": {"dead": dead}},
            }
        }
    }
    done, reports = _play(tmp_path, inventory)
    # Nothing changed anywhere: every host's recap says changed=0.
    recap = done.stdout[done.stdout.index("PLAY RECAP") :]
    assert recap.count("changed=0") == 3, recap

    files = sorted(p.name for p in reports.iterdir())
    assert len(files) == 4 and "verify-run.json" in files, files
    docs = {p.name.split("_")[0]: json.loads(p.read_text()) for p in reports.glob("*_*.json")}
    assert docs["localhost"]["schema"] == "dlcheck.doctor"  # the real report, verbatim
    assert docs["dead"]["schema"] == "dlcheck.verify-stub"
    assert docs["dead"]["status"] == "unreachable"
    assert docs["dead"]["message"].startswith("cannot connect:")
    assert docs["no-dlcheck"]["status"] == "missing"
    index = json.loads((reports / "verify-run.json").read_text())
    outcomes = {
        v["inventory_hostname"]: (v["group"], v["outcome"]) for v in index["files"].values()
    }
    assert outcomes == {
        "localhost": ("lab", "report"),
        "no-dlcheck": ("lab", "missing"),
        "dead": ("far", "unreachable"),
    }

    result = CliRunner().invoke(report, [str(reports)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:3] == ["dead", "far", "UNREACHABLE"] for line in lines), result.output
    assert any(line.split()[:3] == ["no-dlcheck", "lab", "MISSING"] for line in lines)
    # Named by inventory name (verify-run.json), whatever the machine calls itself.
    assert any(line.split()[:2] == ["localhost", "lab"] for line in lines)


@pytest.mark.slow
@needs_ansible
def test_verify_playbook_check_mode_collects_the_same(tmp_path):
    done, reports = _play(tmp_path, {"all": {"hosts": {"localhost": _local(DLCHECK)}}}, "--check")
    (doc_file,) = reports.glob("localhost_*.json")
    assert json.loads(doc_file.read_text())["schema"] == "dlcheck.doctor"
    assert "changed=0" in done.stdout[done.stdout.index("PLAY RECAP") :]


def _load_bench_script():
    """benchmarks/report_scale.py starts the targets; the test reuses it rather than a copy."""
    spec = importlib.util.spec_from_file_location(
        "report_scale", REPO / "benchmarks" / "report_scale.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@needs_ansible
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mmdebstrap") is None or shutil.which("unshare") is None,
    reason="fresh targets need root, unshare and mmdebstrap (tests/target/target.sh)",
)
def test_verify_playbook_on_a_fleet_of_isolated_targets(tmp_path):
    """Two fresh Debian hosts over SSH, in parallel: two real reports, one per host."""
    scale = _load_bench_script()
    with scale.targets(2, tmp_path) as hosts:
        times = scale.time_verify(hosts, tmp_path, runs=1)  # raises if a host gave no report
    (reports,) = tmp_path.glob("reports-2-0")
    docs = [json.loads(p.read_text()) for p in sorted(reports.glob("target*_*.json"))]
    assert [doc["schema"] for doc in docs] == ["dlcheck.doctor", "dlcheck.doctor"]
    # Both targets call themselves dlstation-target (one image, cloned): verify.yml's
    # index names them by inventory name, so the report keeps two hosts.
    assert {doc["host"]["hostname"] for doc in docs} == {"dlstation-target"}
    assert times[0] > 0
    result = CliRunner().invoke(report, [str(reports), "--json"])
    fleet = json.loads(result.stdout)
    assert [
        (h["hostname"], h["reported_hostname"])
        for h in sorted(fleet["hosts"], key=lambda h: h["hostname"])
    ] == [
        ("target1", "dlstation-target"),
        ("target2", "dlstation-target"),
    ]
    assert fleet["notes"] == []
