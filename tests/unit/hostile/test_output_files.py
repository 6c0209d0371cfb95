"""Group 3: every file dlcheck writes is replaced whole or not at all, and a target that
is not a regular file is refused before any work starts."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hostile_helpers import assert_clean_failure, doctor_report, fill_disk

from dlcheck.errors import UsageError
from dlcheck.host import files

OLD = "the previous, good content\n"


# --------------------------------------------------------------------------- the helper


@pytest.fixture
def folder(tmp_path):
    """An empty folder of its own (tmp_path also holds the isolated home)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def test_write_text_replaces_the_file_and_leaves_no_temporary(folder):
    target = folder / "out.json"
    target.write_text(OLD)
    target.chmod(0o640)
    files.write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the old file's mode is kept
    assert [p.name for p in folder.iterdir()] == ["out.json"]


def test_a_new_file_gets_the_umask_default(tmp_path):
    old = os.umask(0o027)
    try:
        files.write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_full_disk_keeps_the_old_file(full_disk):
    target = full_disk / "report.json"
    target.write_text(OLD)
    with pytest.raises(files.WriteError, match="No space left on device") as exc:
        files.write_bytes(target, b"x" * 200_000)
    assert exc.value.exit_code == 1
    assert target.read_text() == OLD
    assert [p.name for p in full_disk.iterdir()] == ["report.json"]


def test_an_error_inside_the_block_keeps_the_old_file(folder):
    target = folder / "model.keras"
    target.write_text(OLD)
    with pytest.raises(RuntimeError), files.replacing(target) as tmp:
        assert tmp.suffix == ".keras" and tmp.parent == folder
        tmp.write_text("half")
        raise RuntimeError("the writer crashed")
    assert target.read_text() == OLD
    assert [p.name for p in folder.iterdir()] == ["model.keras"]


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: os.mkfifo(p), "a FIFO"),
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: p.symlink_to(p.parent / "real"), "a symbolic link"),
        (lambda p: os.mknod(p, stat.S_IFCHR | 0o600, os.makedev(1, 3)), "a character device"),
    ],
)
def test_check_target_refuses_what_is_not_a_regular_file(tmp_path, make, kind):
    target = tmp_path / "target"
    (tmp_path / "real").write_text(OLD)
    try:
        make(target)
    except PermissionError:
        pytest.skip(f"cannot create {kind} here")
    with pytest.raises(UsageError, match=f"--save {target}: is {kind}"):
        files.check_target(target, "--save")
    assert (tmp_path / "real").read_text() == OLD


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "--save: the path is empty"),
        ("-", "this output cannot go to stdout"),
        ("/proc/x.json", "cannot create a file in /proc"),
        ("/nonexistent-dir/x.json", "folder /nonexistent-dir does not exist"),
    ],
)
def test_check_target_refuses_unusable_paths(value, message):
    with pytest.raises(UsageError, match=message):
        files.check_target(value, "--save")


def test_check_target_allows_stdout_where_asked():
    assert str(files.check_target("-", "--html", allow_stdout=True)) == "-"


def test_check_target_leaves_no_probe_file(folder):
    files.check_target(folder / "x.json", "--save")
    assert list(folder.iterdir()) == []


# --------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize("value", ["", "/proc/x.json", "/dev/null"])
def test_doctor_save_is_refused_before_any_probe(cli, value):
    result = cli("doctor", "host", "--save", value)
    assert_clean_failure(result, 2, "Invalid value for '--save'")
    assert "Host:" not in result.output  # no probe ran
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # still a device


def test_doctor_save_through_a_symlink_is_refused(cli, tmp_path):
    real = tmp_path / "real.json"
    real.write_text(OLD)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = cli("doctor", "host", "--save", link)
    assert_clean_failure(result, 2, "is a symbolic link", "give the real file's path")
    assert link.is_symlink() and real.read_text() == OLD


def test_doctor_save_on_a_full_disk_keeps_the_old_report(cli, full_disk):
    target = full_disk / "doctor.json"
    target.write_text(OLD)
    fill_disk(full_disk)  # to the last block: the report (a few KB) cannot fit
    result = cli("doctor", "host", "--save", target)
    assert_clean_failure(result, 1, f"cannot write report {target}", "No space left on device")
    assert target.read_text() == OLD
    assert sorted(p.name for p in full_disk.iterdir()) == ["doctor.json", "filler"]


def test_doctor_save_writes_the_report(cli, tmp_path):
    target = tmp_path / "doctor.json"
    target.write_text(OLD)
    result = cli("doctor", "host", "--save", target)
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["schema"] == "dlcheck.doctor"


def test_report_html_on_a_full_disk_keeps_the_old_page(cli, full_disk, tmp_path):
    (tmp_path / "ws01.json").write_text(json.dumps(doctor_report(hostname="ws01")))
    page = full_disk / "fleet.html"
    page.write_text(OLD)
    fill_disk(full_disk)
    result = cli("report", tmp_path / "ws01.json", "--html", page)
    assert_clean_failure(result, 1, "cannot write HTML page", "previous file is unchanged")
    assert page.read_text() == OLD


def test_report_html_dash_prints_the_page(cli, tmp_path):
    (tmp_path / "ws01.json").write_text(json.dumps(doctor_report(hostname="ws01")))
    result = cli("report", tmp_path / "ws01.json", "--html", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>") or "<html" in result.stdout[:200]
    assert "HOST" not in result.stdout  # the page instead of the table


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--save", "", "must end in .keras"),
        ("--save", "model.h5", "must end in .keras"),
        ("--save", "/proc/m.keras", "cannot create a file in /proc"),
        ("--plot", "/dev/null", "must end in .png"),
        ("--plot", "/nonexistent-dir/p.png", "does not exist"),
    ],
)
def test_bench_outputs_are_refused_before_training(cli, option, value, message):
    result = cli("bench", "--synthetic", "--limit", "10", option, value)
    assert_clean_failure(result, 2, f"Invalid value for '{option}'", message)
    assert "epoch" not in result.output


def test_bench_save_to_a_fifo_named_keras_is_refused(cli, tmp_path):
    target = tmp_path / "m.keras"
    os.mkfifo(target)
    result = cli("bench", "--synthetic", "--limit", "10", "--save", target)
    assert_clean_failure(result, 2, "is a FIFO")
    assert stat.S_ISFIFO(target.stat().st_mode)
