"""The example alerting rules and Grafana dashboard in docs/prometheus/, checked by
promtool against the series a real doctor run writes."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pynvml
import yaml
from doctor_fakes import H100, FakeNvml
from metrics_helpers import hot_gpu, parse, promtool, run_doctor

REPO = Path(__file__).resolve().parents[3]
ALERTS = REPO / "docs/prometheus/dlstation-alerts.yml"
DASHBOARD = REPO / "docs/prometheus/dlstation-dashboard.json"
# What node_exporter itself adds next to the doctor's series.
NODE_EXPORTER_SERIES = {"node_textfile_scrape_error", "node_textfile_mtime_seconds"}


def test_promtool_checks_the_alert_rules():
    checked = promtool("check", "rules", str(ALERTS))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def _series(samples: dict, instance: str) -> list[dict]:
    """Every sample as a promtool input series on one scraped host, constant for an hour."""
    out = []
    for name, rows in samples.items():
        for labels, number in rows:
            labels = {**labels, "instance": instance}
            body = ",".join(f"{k}={json.dumps(v)}" for k, v in labels.items())
            out.append({"series": f"{name}{{{body}}}", "values": f"{number!r}x60"})
    return out


def _firing(tmp_path: Path, series: list[dict], at: str, expected: dict[str, int]):
    """Run `promtool test rules`: at time `at`, exactly `expected` alerts (name -> count) fire."""
    test = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": 'count by (alertname) (ALERTS{alertstate="firing"})',
                        "eval_time": at,
                        "exp_samples": [
                            {"labels": f'{{alertname="{name}"}}', "value": count}
                            for name, count in sorted(expected.items())
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "alerts-test.yml"
    path.write_text(yaml.safe_dump(test))
    return promtool("test", "rules", str(path))


def _failed_checks(report: dict) -> int:
    return sum(1 for c in report["checks"] if c["status"] in ("fail", "error"))


def test_a_driver_library_mismatch_fires_its_alert(tmp_path, monkeypatch):
    fake = FakeNvml(init_error=pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH)
    report, text = run_doctor(tmp_path, monkeypatch, fake)
    expected = {
        "DlstationDriverLibraryMismatch": 1,
        "DlstationCheckFailing": _failed_checks(report),
    }
    tested = _firing(tmp_path, _series(parse(text), "ws1:9100"), "10m", expected)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_gpu_trouble_and_a_stopped_timer_fire_their_alerts(tmp_path, monkeypatch):
    fake = FakeNvml(gpus=[copy.deepcopy(H100), hot_gpu()])
    report, text = run_doctor(tmp_path, monkeypatch, fake)
    series = _series(parse(text), "ws2:9100")
    # The timer stopped: the last run is the start of the test's clock, and stays there.
    for s in series:
        if s["series"].startswith("dlcheck_doctor_last_run_timestamp_seconds{"):
            s["values"] = "0x60"
    expected = {
        "DlstationGpuMemoryErrors": 1,  # the hot GPU only: ECC errors and a pending remap
        "DlstationGpuThermalThrottling": 1,  # hw_thermal_slowdown; sw_power_cap is no alarm
        "DlstationMetricsStale": 1,
    }
    if _failed_checks(report):
        expected["DlstationCheckFailing"] = _failed_checks(report)
    tested = _firing(tmp_path, series, "50m", expected)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_healthy_gpu_host_fires_nothing_but_its_failed_checks(tmp_path, monkeypatch):
    report, text = run_doctor(tmp_path, monkeypatch, FakeNvml())
    expected = {"DlstationCheckFailing": _failed_checks(report)} if _failed_checks(report) else {}
    tested = _firing(tmp_path, _series(parse(text), "ws3:9100"), "50m", expected)
    assert tested.returncode == 0, tested.stdout + tested.stderr


# --- the Grafana dashboard ----------------------------------------------------------------


def _exprs(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_the_dashboard_uses_only_series_the_doctor_writes(tmp_path, monkeypatch):
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["panels"] and dashboard["uid"]
    _, text = run_doctor(tmp_path, monkeypatch, FakeNvml(gpus=[copy.deepcopy(H100), hot_gpu()]))
    written = set(parse(text)) | NODE_EXPORTER_SERIES
    variables = [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    used = {
        name
        for expr in _exprs(dashboard) + variables
        for name in re.findall(r"\b((?:dlcheck|node_textfile)_[a-z_]+)\b", expr)
    }
    assert used, "the dashboard queries no dlcheck series"
    assert used <= written, f"not written by the doctor: {sorted(used - written)}"


def test_the_dashboard_queries_are_valid_promql(tmp_path):
    """promtool parses each query, as a recording rule, with Grafana's variables filled in."""
    dashboard = json.loads(DASHBOARD.read_text())
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr.replace("$instance", ".+")}
        for i, expr in enumerate(_exprs(dashboard))
    ]
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
