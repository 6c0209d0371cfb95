"""`dlcheck doctor --textfile DIR` read back by the real node_exporter and promtool.

NVML is faked at the library boundary (doctor_fakes.FakeNvml, real pynvml errors);
the doctor, the metrics writer, node_exporter's parser and promtool are real.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import datetime

import pynvml
import pytest
from click.testing import CliRunner
from doctor_fakes import H100, FakeNvml
from metrics_helpers import (
    HOSTILE_GPU,
    HOSTILE_HOST,
    hot_gpu,
    node_exporter,
    parse,
    promtool,
    run_doctor,
    scrape,
    value,
)

from dlcheck.cli import main
from dlcheck.doctor import metrics


@pytest.fixture
def two_gpus(tmp_path, monkeypatch):
    return run_doctor(tmp_path, monkeypatch, FakeNvml(gpus=[copy.deepcopy(H100), hot_gpu()]))


def test_node_exporter_serves_the_doctors_series(tmp_path, two_gpus):
    report, _ = two_gpus
    with node_exporter(tmp_path / "textfile") as url:
        samples = parse(scrape(url))
    # node_exporter parsed the file (a malformed one sets this to 1 and drops it).
    assert value(samples, "node_textfile_scrape_error") == 0

    for check in report["checks"]:
        for status in metrics.STATUSES:
            expected = 1 if status == check["status"] else 0
            got = value(samples, "dlcheck_check_status", check=check["name"], status=status)
            assert got == expected, (check["name"], status)
    assert value(samples, "dlcheck_doctor_status", status=report["status"]) == 1
    created = datetime.fromisoformat(report["created"].replace("Z", "+00:00")).timestamp()
    assert value(samples, "dlcheck_doctor_last_run_timestamp_seconds") == created
    assert value(samples, "dlcheck_doctor_info", hostname=HOSTILE_HOST) == 1

    gpu_facts = next(c for c in report["checks"] if c["name"] == "gpu")["facts"]
    driver, cuda = gpu_facts["driver_version"], gpu_facts["cuda_driver_version"]
    assert driver and cuda  # the fake NVML's driver, read back through the doctor's facts
    assert value(samples, "dlcheck_driver_info", driver_version=driver, cuda_version=cuda)
    for kind in metrics.NVML_ERRORS:
        assert value(samples, "dlcheck_nvml_error", kind=kind) == 0
    for g in gpu_facts["gpus"]:
        gpu = str(g["index"])
        info = [lab for lab, _ in samples["dlcheck_gpu_info"] if lab["gpu"] == gpu]
        assert info == [
            {
                "gpu": gpu,
                "uuid": g["uuid"],
                "name": g["name"],
                "compute_capability": "9.0",
                "driver_version": driver,
            }
        ]
        for name, key, _ in metrics.GPU_GAUGES:
            assert value(samples, name, gpu=gpu) == float(g[key]), name
        for reason in metrics.THROTTLE_REASONS:
            active = 1 if reason in g["throttle_reasons"] else 0
            assert value(samples, "dlcheck_gpu_throttle_reason", gpu=gpu, reason=reason) == active
    # The hostile GPU came through node_exporter intact, and with the facts it was given.
    assert value(samples, "dlcheck_gpu_temperature_celsius", gpu="1") == 91
    assert value(samples, "dlcheck_gpu_info", name=HOSTILE_GPU) == 1
    assert value(samples, "dlcheck_gpu_ecc_volatile_uncorrected_errors", gpu="1") == 3
    assert value(samples, "dlcheck_gpu_row_remap_pending", gpu="1") == 1
    assert value(samples, "dlcheck_gpu_throttle_reason", gpu="1", reason="hw_thermal_slowdown")


def test_promtool_accepts_the_file_with_hostile_labels(two_gpus):
    _, text = two_gpus
    assert 'name="NVIDIA \\"H100\\" \\\\ PCIe\\nrev 2"' in text
    assert 'hostname="ws-\\"07\\"\\\\lab\\nrack 3"' in text
    checked = promtool("check", "metrics", stdin=text)
    # promtool prints lint problems (names, units, HELP) and exits 1 on any of them.
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == ""


def test_promtool_sees_a_broken_escape_as_an_error():
    """The control for the test above: promtool does reject a raw newline in a label."""
    broken = '# HELP x A gauge.\n# TYPE x gauge\nx{name="a\nb"} 1\n'
    assert promtool("check", "metrics", stdin=broken).returncode != 0


def test_driver_library_mismatch_is_its_own_series(tmp_path, monkeypatch):
    fake = FakeNvml(init_error=pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH)
    report, text = run_doctor(tmp_path, monkeypatch, fake)
    samples = parse(text)
    assert value(samples, "dlcheck_nvml_error", kind="version_mismatch") == 1
    assert value(samples, "dlcheck_nvml_error", kind="driver_not_loaded") == 0
    assert value(samples, "dlcheck_check_status", check="gpu", status="fail") == 1
    # No GPU could be read: no GPU facts, rather than made-up zeros.
    assert "dlcheck_gpu_temperature_celsius" not in samples
    assert "dlcheck_driver_info" not in samples
    assert promtool("check", "metrics", stdin=text).returncode == 0


def test_a_field_nvml_does_not_support_is_left_out(tmp_path, monkeypatch):
    fake = FakeNvml(not_supported={"nvmlDeviceGetTotalEccErrors"})
    _, text = run_doctor(tmp_path, monkeypatch, fake)
    samples = parse(text)
    assert "dlcheck_gpu_ecc_volatile_uncorrected_errors" not in samples
    assert value(samples, "dlcheck_gpu_temperature_celsius", gpu="0") == H100["temperature"]


def test_escape_label_follows_the_exposition_format():
    assert metrics.escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert metrics.escape_label("plain") == "plain"


# --- bad input: the directory -------------------------------------------------------------


def test_a_missing_directory_fails_before_probing(tmp_path):
    result = CliRunner().invoke(main, ["doctor", "host", "--textfile", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "--textfile" in result.output and "is not a writable directory" in result.output
    assert "Host:" not in result.output


def test_a_file_instead_of_a_directory_is_refused(tmp_path):
    not_dir = tmp_path / "metrics.prom"
    not_dir.write_text("x 1\n")
    result = CliRunner().invoke(main, ["doctor", "host", "--textfile", str(not_dir)])
    assert result.exit_code == 2
    assert "--textfile" in result.output and "is a file" in result.output
    assert not_dir.read_text() == "x 1\n"


def test_a_failed_replace_keeps_nothing_half_written(tmp_path):
    """The rename itself fails (a directory sits where the file goes): exit 1 (a failed
    write, as for --save), a clear message, no temporary file left behind."""
    (tmp_path / metrics.TEXTFILE_NAME).mkdir()
    result = CliRunner().invoke(main, ["doctor", "host", "--textfile", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert f"cannot write the metrics file {tmp_path / metrics.TEXTFILE_NAME}" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [metrics.TEXTFILE_NAME]


def test_a_read_only_directory_keeps_the_old_file(tmp_path):
    """Root may write anywhere but on a read-only mount: the doctor runs in its own mount
    namespace where the folder is bind-mounted read-only."""
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir()
    old = textfile_dir / metrics.TEXTFILE_NAME
    old.write_text("dlcheck_doctor_duration_seconds 1.5\n")
    script = 'mount --bind -o ro "$1" "$1" && exec "$2" -m dlcheck doctor host --textfile "$1"'
    result = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, "sh", str(textfile_dir), sys.executable],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--textfile" in result.stderr and "is not a writable directory" in result.stderr
    assert old.read_text() == "dlcheck_doctor_duration_seconds 1.5\n"
    assert [p.name for p in textfile_dir.iterdir()] == [metrics.TEXTFILE_NAME]
