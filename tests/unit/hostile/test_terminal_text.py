"""Group 1: text from outside (report fields, hostnames, probe output, file names) never
reaches the terminal as control characters; HTML stays escaped, JSON keeps the text."""

from __future__ import annotations

import json

import pytest
from hostile_helpers import doctor_report

from dlcheck.printable import printable, printable_lines

#: sets the window title, clears the screen, then writes a forged line
TITLE = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J"
FORGED = "\nws99: all checks passed"
HOSTILE = f"evil{TITLE}{CLEAR}{FORGED}"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),
        ("\x7f\x9b", "\\x7f\\x9b"),  # DEL, and the C1 form of ESC [
        ("abc\u202edcba", "abc\\u202edcba"),  # a right-to-left override
        ("ünïcødé ✓ 中文", "ünïcødé ✓ 中文"),  # printable text is left alone
    ],
)
def test_printable_escapes_control_characters_only(raw, shown):
    assert printable(raw) == shown


def test_printable_lines_keeps_dlchecks_own_line_breaks():
    assert printable_lines("error: a\x1b[2J\n  hint: b\r") == "error: a\\x1b[2J\n  hint: b\\x0d"


def _no_controls(text: str) -> None:
    allowed = {"\n"}  # the renderer's own line ends
    bad = [c for c in text if (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) and c not in allowed]
    assert not bad, f"control characters reached the terminal: {bad!r}"


def test_report_verbose_table_escapes_hostnames_and_messages(cli, tmp_path):
    doc = doctor_report(hostname=HOSTILE, message=f"driver{CLEAR} missing{FORGED}")
    (tmp_path / "evil.json").write_text(json.dumps(doc))
    result = cli("report", "-v", tmp_path / "evil.json")
    assert result.exit_code == 1, result.output
    _no_controls(result.stdout)
    assert "evil\\x1b]0;owned\\x07\\x1b[2J\\x0aws99: all checks passed" in result.stdout
    assert "driver\\x1b[2J missing" in result.stdout
    assert not any(line.startswith("ws99") for line in result.stdout.splitlines())


def test_report_differences_escape_fact_values(cli, tmp_path):
    a = doctor_report(hostname="ws01")
    b = doctor_report(hostname="ws02")
    b["checks"][0]["facts"]["os"] = f"Debian{CLEAR}"
    for doc in (a, b):
        (tmp_path / f"{doc['host']['hostname']}.json").write_text(json.dumps(doc))
    result = cli("report", tmp_path)
    _no_controls(result.stdout)
    assert "Debian\\x1b[2J" in result.stdout


def test_report_skipped_file_names_are_escaped(cli, tmp_path):
    (tmp_path / f"bad{CLEAR}.json").write_text("{not json")
    (tmp_path / "ws01.json").write_text(json.dumps(doctor_report(hostname="ws01")))
    result = cli("report", tmp_path)
    _no_controls(result.stderr)
    assert "bad\\x1b[2J.json" in result.stderr


def test_report_json_keeps_the_text_and_html_escapes_it(cli, tmp_path):
    (tmp_path / "evil.json").write_text(json.dumps(doctor_report(hostname=HOSTILE)))
    result = cli("report", "--json", tmp_path / "evil.json")
    _no_controls(result.stdout)  # JSON's encoder escapes them itself
    assert json.loads(result.stdout)["hosts"][0]["hostname"] == HOSTILE
    markup = "<script>alert(1)</script>"
    (tmp_path / "evil.json").write_text(json.dumps(doctor_report(hostname=markup)))
    page = tmp_path / "fleet.html"
    cli("report", tmp_path / "evil.json", "--html", page)
    assert "&lt;script&gt;alert(1)" in page.read_text()
    assert markup not in page.read_text()


def test_doctor_lines_escape_probe_output(cli, tmp_path):
    """Probe text (here the free-space probe's error, naming $HOME) is shown escaped."""
    home = tmp_path / f"gone{TITLE}{CLEAR}"
    result = cli("doctor", "host", "-v", env={"HOME": str(home)})
    assert "free space of" in result.stdout, result.output
    _no_controls(result.stdout)
    assert "gone\\x1b]0;owned\\x07\\x1b[2J" in result.stdout


def test_error_messages_escape_paths(cli, tmp_path):
    missing = tmp_path / f"no{CLEAR}such.npz"
    result = cli("bench", "--data", missing, "--epochs", "1")
    assert result.exit_code == 2
    _no_controls(result.stderr)
    assert "no\\x1b[2Jsuch.npz" in result.stderr
