"""`dlcheck doctor` through Click's CliRunner: options, exit codes, JSON, --redact."""

from __future__ import annotations

import json
import socket

import pynvml
import pytest
from click.testing import CliRunner
from doctor_fakes import H100, FakeNvml

from dlcheck.cli import main
from dlcheck.host import nvml

ALL = ["host", "gpu", "cuda", "libraries", "frameworks", "compat", "train"]


@pytest.fixture
def runner():
    return CliRunner()


def test_list_checks(runner):
    result = runner.invoke(main, ["doctor", "--list-checks"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == ALL
    assert "(opt-in)" in result.output.splitlines()[-1]
    rows = json.loads(runner.invoke(main, ["doctor", "--list-checks", "--json"]).stdout)
    assert [r["name"] for r in rows if not r["default"]] == ["train"]


def test_unknown_check_is_usage_error_listing_names(runner):
    result = runner.invoke(main, ["doctor", "gpus"])
    assert result.exit_code == 2
    assert "unknown check 'gpus'" in result.output
    for name in ALL:
        assert name in result.output


def test_bad_option_is_usage_error(runner):
    assert runner.invoke(main, ["doctor", "--no-such-option"]).exit_code == 2
    assert runner.invoke(main, ["doctor", "--timeout", "0"]).exit_code == 2
    assert runner.invoke(main, ["doctor", "--timeout", "soon"]).exit_code == 2


def test_no_frameworks_conflicts_with_naming_frameworks(runner):
    result = runner.invoke(main, ["doctor", "frameworks", "--no-frameworks"])
    assert result.exit_code == 2
    assert "--no-frameworks" in result.output


def test_json_has_the_contract_fields(runner):
    result = runner.invoke(main, ["doctor", "host", "cuda", "--json"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "dlcheck.doctor" and doc["schema_version"] == 1
    assert doc["created"].endswith("Z")
    assert set(doc) >= {"dlcheck_version", "host", "status", "counts", "duration_s", "checks"}
    assert [c["name"] for c in doc["checks"]] == ["host", "cuda"]
    host = doc["checks"][0]
    assert set(host) == {"name", "title", "status", "summary", "findings", "facts", "duration_s"}
    for key in (
        "os", "kernel", "cpu_model", "cpu_cores_logical", "cpu_cores_physical", "simd",
        "ram_bytes", "python", "in_venv", "container", "secure_boot", "disk_free_bytes",
    ):  # fmt: skip
        assert key in host["facts"], key
    assert doc["host"] == {"hostname": socket.gethostname(), "redacted": False}


def test_save_writes_the_json_report_whatever_is_printed(runner, tmp_path):
    report = tmp_path / "doctor.json"
    report.write_text("the previous report")
    result = runner.invoke(main, ["doctor", "host", "--save", str(report)])
    assert result.exit_code in (0, 1), result.output
    assert "Host:" in result.stdout  # the human output still printed
    doc = json.loads(report.read_text())
    assert doc["schema"] == "dlcheck.doctor" and [c["name"] for c in doc["checks"]] == ["host"]
    assert oct(report.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["doctor.json"]  # no temporary file left


def test_save_into_a_missing_directory_fails_before_probing(runner, tmp_path):
    result = runner.invoke(main, ["doctor", "--save", str(tmp_path / "no" / "doctor.json")])
    assert result.exit_code == 2
    assert "--save" in result.output and "does not exist" in result.output
    assert "Host:" not in result.output


def test_redact_hides_hostname_uuids_serials_and_user(runner, monkeypatch):
    monkeypatch.setattr(nvml, "_load", lambda: FakeNvml())
    monkeypatch.setattr(socket, "gethostname", lambda: "ws-alice-07")
    env = {"HOME": "/home/alice-example", "USER": "alice-example"}
    result = runner.invoke(main, ["doctor", "host", "gpu", "--json", "--redact"], env=env)
    doc = json.loads(result.stdout)
    text = result.stdout
    assert doc["host"] == {"hostname": "REDACTED", "redacted": True}
    gpu = next(c for c in doc["checks"] if c["name"] == "gpu")
    assert gpu["facts"]["gpus"][0]["name"] == H100["name"]  # the GPU was seen
    assert H100["uuid"] not in text and H100["uuid"][4:12] not in text
    assert H100["serial"] not in text
    assert "ws-alice-07" not in text
    assert "alice-example" not in text
    plain = runner.invoke(main, ["doctor", "gpu", "--json"])
    assert H100["uuid"] in plain.stdout  # without --redact it is there


def test_strict_turns_a_warning_into_exit_1(runner):
    env = {"LD_LIBRARY_PATH": "/nonexistent/cuda-11.8/lib64"}
    relaxed = runner.invoke(main, ["doctor", "cuda"], env=env)
    assert relaxed.exit_code == 0, relaxed.output
    assert "/nonexistent/cuda-11.8/lib64" in relaxed.output
    strict = runner.invoke(main, ["doctor", "cuda", "--strict"], env=env)
    assert strict.exit_code == 1


def test_failure_exits_1_with_hint(runner, monkeypatch):
    fake = FakeNvml(init_error=pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH)
    monkeypatch.setattr(nvml, "_load", lambda: fake)
    result = runner.invoke(main, ["doctor", "gpu"])
    assert result.exit_code == 1
    assert "[✗] GPU" in result.output
    assert "reboot" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("Doctor found issues in 1 area")


def test_crashing_check_is_marked_and_does_not_kill_the_doctor(runner, monkeypatch, caplog):
    from dlcheck.doctor.probes import cuda as cuda_probe

    def boom(env=None):
        raise RuntimeError("probe exploded")

    monkeypatch.setattr("dlcheck.doctor.context.probe_cuda", boom)
    assert cuda_probe.probe_cuda is not boom
    result = runner.invoke(main, ["doctor", "host", "cuda"])
    assert result.exit_code == 1
    assert "[‽] CUDA: the check crashed: RuntimeError: probe exploded" in result.output
    assert "[✓] Host" in result.output or "[!] Host" in result.output
    assert "Traceback" not in result.output
    doc = json.loads(runner.invoke(main, ["doctor", "cuda", "--json"]).stdout)
    assert doc["checks"][0]["status"] == "error"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    runner.invoke(main, ["doctor", "cuda", "--debug"])
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]  # --debug: traceback
    assert record.exc_info and "probe exploded" in str(record.exc_info[1])


def test_verbose_shows_facts(runner):
    result = runner.invoke(main, ["doctor", "host", "-v"])
    assert "• kernel: " in result.output
    assert "• secure_boot: " in result.output


def test_train_is_opt_in(runner):
    from dlcheck.doctor.runner import select

    assert "train" not in select(None)
    assert select(None, train=True)[-1] == "train"
    assert select(None, frameworks=False) == ["host", "gpu", "cuda", "libraries", "compat"]
    result = runner.invoke(main, ["doctor", "--train", "--no-frameworks"])
    assert result.exit_code == 2
