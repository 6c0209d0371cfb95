"""`dlcheck report`: bad input, table order, differences, the fleet JSON, HTML escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import report_docs as d
from click.testing import CliRunner

from dlcheck.cli.report import report
from dlcheck.report.load import load_fleet
from dlcheck.report.schema import SchemaError, validate


def run(*args: str | Path):
    result = CliRunner().invoke(report, [str(a) for a in args])
    return result


# ---- bad input: each its own test -------------------------------------------------------


def test_empty_folder_is_a_usage_error(tmp_path):
    result = run(tmp_path)
    assert result.exit_code == 2
    assert f"folder {tmp_path} is empty" in result.output
    assert "Traceback" not in result.output


def test_folder_without_json_is_a_usage_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a report")
    (tmp_path / "report.yaml").write_text("a: 1")
    result = run(tmp_path)
    assert result.exit_code == 2
    assert "has no *.json files (2 other files)" in result.output


def test_newer_schema_version_is_named_and_skipped(tmp_path):
    d.write(tmp_path, "ws01.json", d.doctor("ws01"))
    future = d.doctor("ws02")
    future["schema_version"] = 2
    bad = d.write(tmp_path, "ws02.json", future)
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    assert f"warning: skipped {bad}" in result.output
    assert "schema_version 2 is not supported" in result.output
    assert "ws01" in result.output
    assert not re.search(r"^ws02\s", result.output, re.M)


def test_truncated_file_is_named_and_skipped(tmp_path):
    d.write(tmp_path, "ws01.json", d.doctor("ws01"))
    full = json.dumps(d.doctor("ws02"))
    cut = d.write(tmp_path, "ws02.json", full[: len(full) // 2])
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    assert f"warning: skipped {cut}: truncated JSON" in result.output
    assert "1 host(s)" in result.output


def test_only_unreadable_files_is_a_usage_error(tmp_path):
    d.write(tmp_path, "a.json", "{")
    d.write(tmp_path, "b.json", {"schema": "something.else", "schema_version": 1})
    result = run(tmp_path)
    assert result.exit_code == 2
    assert "none of the 2 JSON file(s) is a readable dlcheck report" in result.output
    assert "unknown schema 'something.else'" in result.output


def test_two_reports_for_one_host_keep_the_newest_and_say_so(tmp_path):
    old = d.doctor("ws01", created="2026-11-01T08:00:00+00:00", statuses={"gpu": "fail"})
    new = d.doctor("ws01", created="2026-11-20T08:00:00Z")
    old_path = d.write(tmp_path, "ws01_old.json", old)
    new_path = d.write(tmp_path, "ws01_new.json", new)
    result = run(tmp_path)
    assert result.exit_code == 0, result.output  # the old failure no longer counts
    assert f"host ws01: 2 reports; kept the newest ({new_path}" in result.output
    assert f"ignored older: {old_path}" in result.output
    assert "1 host(s): 1 ok" in result.output


def test_hostname_with_html_is_escaped_in_the_page(tmp_path):
    evil = '<img src=x onerror="alert(1)">&<script>alert(2)</script>'
    doc = d.doctor(evil, statuses={"cuda": "fail"})
    doc["checks"][2]["findings"] = [d.finding("fail", "cuda.x", "<b>bold</b> claim", "<i>x</i>")]
    d.write(tmp_path, "evil.json", doc)
    d.write(tmp_path, "evil-bench.json", d.bench(evil, folds=[0.98, 0.99]))
    page = tmp_path / "out" / "fleet.html"
    page.parent.mkdir()
    result = run(tmp_path, "--html", page)
    assert result.exit_code == 1
    html = page.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&lt;script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; claim" in html
    # The only scripts are the page's own (one inline block).
    assert html.count("<script>") == 1


def test_missing_path_is_a_usage_error(tmp_path):
    result = run(tmp_path / "nope")
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_unwritable_html_target_is_a_clear_error(tmp_path):
    d.write(tmp_path, "ws01.json", d.doctor("ws01"))
    result = run(tmp_path / "ws01.json", "--html", tmp_path / "no-such-dir" / "x.html")
    assert result.exit_code == 2
    assert "Invalid value for '--html'" in result.output
    assert "no-such-dir does not exist" in result.output
    assert "Traceback" not in result.output


# ---- the validator ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda doc: doc.pop("checks"), "checks: required field is missing"),
        (lambda doc: doc.update(host="ws01"), "host: expected an object, found a string"),
        (lambda doc: doc["checks"][0].update(status="great"), "unknown status 'great'"),
        (lambda doc: doc.update(schema_version="1"), "schema_version must be an integer"),
        (lambda doc: doc["checks"][1].update(findings=[1]), "checks[1].findings[0]: expected an"),
    ],
)
def test_validator_names_the_problem(mutate, message):
    doc = d.doctor("ws01")
    mutate(doc)
    with pytest.raises(SchemaError, match=re.escape(message)):
        validate(doc)


def test_validator_accepts_extra_fields_and_null_facts():
    doc = d.doctor("ws01")
    doc["checks"][0]["facts"] = None
    doc["new_field_from_a_newer_doctor"] = {"x": 1}
    assert validate(doc).schema == "dlcheck.doctor"


# ---- table, differences, JSON -------------------------------------------------------------


def _three_hosts(folder: Path) -> None:
    """ws-a is the reference; ws-b has old cuDNN and a x8 link; ws-c fails and has no GPU."""
    d.write(folder, "a.json", d.doctor("ws-a"))
    d.write(folder, "b.json", d.doctor("ws-b", cudnn="8.9.7", gpus=[d.gpu(pcie=(4, 8))],
                                       statuses={"gpu": "warn"}))  # fmt: skip
    d.write(folder, "c.json", d.doctor("ws-c", gpus=[], statuses={"frameworks": "fail"},
                                       tensorflow=None, cudnn=None))  # fmt: skip
    d.write(folder, "a-bench.json", d.bench("ws-a", samples_per_s=12000))
    d.write(folder, "b-bench.json", d.bench("ws-b", samples_per_s=11800))
    d.write(folder, "c-bench.json", d.bench("ws-c", samples_per_s=900, accuracy=0.95))


def test_table_puts_failures_first(tmp_path):
    _three_hosts(tmp_path)
    d.write(tmp_path, "z.json", d.doctor("aa-ok"))
    d.write(tmp_path, "y.json", {"schema": "dlcheck.verify-stub", "schema_version": 1,
                                 "created": "2026-11-20T10:00:00Z", "host": {"hostname": "zz"},
                                 "status": "unreachable", "message": "ssh timed out"})  # fmt: skip
    result = run(tmp_path)
    assert result.exit_code == 1
    rows = [
        line.split()[:2]
        for line in result.output.splitlines()
        if line.startswith(("ws-", "aa", "zz"))
    ]
    assert rows == [["zz", "UNREACHABLE"], ["ws-c", "FAIL"], ["ws-b", "warn"], ["aa-ok", "ok"],
                    ["ws-a", "ok"]]  # fmt: skip
    assert "zz: unreachable: ssh timed out" in result.output


def test_differences_on_a_three_host_fleet(tmp_path):
    _three_hosts(tmp_path)
    fleet = load_fleet([tmp_path])
    diffs = {diff.key: diff for diff in fleet.differences}
    values = {key: {v.value: v.hosts for v in diff.values} for key, diff in diffs.items()}
    assert values["cudnn"] == {"9.3.0": ["ws-a"], "8.9.7": ["ws-b"], "(not reported)": ["ws-c"]}
    assert values["pcie_link"] == {
        "Gen4 x16": ["ws-a"],
        "Gen4 x8 (max Gen4 x16)": ["ws-b"],
        "(not reported)": ["ws-c"],
    }
    # ws-c's gpu check ran and found no GPU: that is a value, not a missing fact.
    assert values["gpu_model"] == {"NVIDIA GeForce RTX 4090": ["ws-a", "ws-b"], "no GPU": ["ws-c"]}
    assert values["tensorflow"] == {"2.21.0": ["ws-a", "ws-b"], "(not reported)": ["ws-c"]}
    # Speed: only the host far from the median (11,800/s) is listed; 12,000 is within 20 %.
    assert values["bench_samples_per_s"] == {"900/s": ["ws-c"]}
    assert diffs["bench_samples_per_s"].median == 11800
    assert values["bench_accuracy"] == {"95.00%": ["ws-c"]}
    assert values["driver"] == {"550.54.14": ["ws-a", "ws-b"], "(not reported)": ["ws-c"]}
    # Facts equal on all three hosts are not differences.
    for same in ("os", "kernel", "cpu_model", "blas", "numpy", "keras", "bench_backend"):
        assert same not in diffs


def test_differences_in_the_terminal(tmp_path):
    _three_hosts(tmp_path)
    out = run(tmp_path).output
    section = out[out.index("Differences") :]
    assert re.search(r"cuDNN:\n\s+8\.9\.7\s+1 host: ws-b\n\s+9\.3\.0\s+1 host: ws-a\n", section)
    assert re.search(r"\(not reported\)\s+1 host: ws-c\n", section)
    assert "Bench samples/s (median 11,800/s over 3 hosts; beyond ±20%):" in section


def test_groups_from_the_verify_index_limit_comparisons(tmp_path):
    d.write(tmp_path, "a.json", d.doctor("a1", cudnn="9.3.0"))
    d.write(tmp_path, "b.json", d.doctor("b1", cudnn="8.9.7"))
    d.write(tmp_path, "c.json", d.doctor("b2", cudnn="8.9.7", driver="535.1"))
    files = {"a.json": {"group": "alpha"}, "b.json": {"group": "beta"}, "c.json": {"group": "beta"}}
    d.write(tmp_path, "verify-run.json",
            {"schema": "dlcheck.verify-run", "schema_version": 1, "files": files})  # fmt: skip
    fleet = load_fleet([tmp_path])
    assert {h.hostname: h.group for h in fleet.hosts} == {"a1": "alpha", "b1": "beta", "b2": "beta"}
    # alpha has one host (nothing to compare); in beta only the driver differs.
    assert [(x.group, x.key) for x in fleet.differences] == [("beta", "driver")]
    ungrouped = load_fleet([tmp_path], grouped=False)
    assert {x.key for x in ungrouped.differences} == {"cudnn", "driver"}


def test_json_document_shape(tmp_path):
    _three_hosts(tmp_path)
    d.write(tmp_path, "bad.json", "[1, 2")
    result = run(tmp_path, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["schema"] == "dlcheck.fleet" and doc["schema_version"] == 1
    assert doc["status"] == "fail"
    assert doc["counts"]["fail"] == 1 and doc["counts"]["warn"] == 1 and doc["counts"]["ok"] == 1
    assert [h["hostname"] for h in doc["hosts"]] == ["ws-c", "ws-b", "ws-a"]
    ws_b = doc["hosts"][1]
    assert ws_b["checks"]["gpu"] == "warn" and ws_b["checks"]["bench"] == "ok"
    assert ws_b["facts"]["cudnn"] == "8.9.7"
    assert ws_b["doctor"]["schema"] == "dlcheck.doctor"
    assert ws_b["bench"]["throughput"]["samples_per_s"] == 11800
    assert len(ws_b["sources"]) == 2
    cudnn = next(x for x in doc["differences"] if x["key"] == "cudnn")
    assert cudnn["group"] == "all" and cudnn["kind"] == "exact"
    assert cudnn["values"][-1] == {"value": "(not reported)", "hosts": ["ws-c"]}
    assert doc["skipped"] == [
        {"path": str(tmp_path / "bad.json"), "reason": doc["skipped"][0]["reason"]}
    ]
    assert "truncated" in doc["skipped"][0]["reason"]


def test_single_host_and_no_gpu_empty_states(tmp_path):
    d.write(tmp_path, "cpu.json", d.doctor("cpu-only", gpus=[], cudnn=None))
    page = tmp_path / "page.html"
    result = run(tmp_path / "cpu.json", "--html", page)
    assert result.exit_code == 0, result.output
    assert "only one host reported; nothing to compare" in result.output
    html = page.read_text(encoding="utf-8")
    assert "Only one host reported, so there is nothing to compare" in html
    assert "No GPUs in this fleet" in html
    assert "No bench reports in this fleet" in html
    assert "<svg" not in html  # no plot without data


def test_bench_without_doctor_is_still_a_host(tmp_path):
    d.write(tmp_path, "a.json", d.doctor("ws-a"))
    d.write(tmp_path, "x-bench.json", d.bench("ws-x", samples_per_s=8000))
    fleet = load_fleet([tmp_path])
    hosts = {h.hostname: h for h in fleet.hosts}
    assert hosts["ws-x"].doctor is None and hosts["ws-x"].checks == {"bench": "ok"}
    assert hosts["ws-a"].bench is None


def test_redacted_reports_stay_separate_hosts(tmp_path):
    for name in ("a", "b"):
        doc = d.doctor("<redacted>")
        doc["host"]["redacted"] = True
        d.write(tmp_path, f"{name}.json", doc)
    # With verify.yml's index the inventory names are used instead of the placeholder.
    d.write(
        tmp_path / "run",
        "x.json",
        {**d.doctor("<redacted>"), "host": {"hostname": "<redacted>", "redacted": True}},
    )
    index = {"schema": "dlcheck.verify-run", "schema_version": 1,
             "files": {"x.json": {"inventory_hostname": "ws-x", "group": "lab"}}}  # fmt: skip
    d.write(tmp_path / "run", "verify-run.json", index)
    fleet = load_fleet([tmp_path])
    assert sorted(h.hostname for h in fleet.hosts) == [
        "<redacted> (a.json)",
        "<redacted> (b.json)",
        "ws-x",
    ]
    assert fleet.notes == []
