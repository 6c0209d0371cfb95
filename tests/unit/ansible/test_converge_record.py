"""A re-run with nothing to do ends after the preflight (issue 13's re-run under 10 s).

The converge role records each full converge (tasks/record.yml) and compares the next run
with it (tasks/unchanged.yml), both with files/converge_record.sh. These run that script as the
role does (`sh -c "<its text>"`), and the role's real tasks with ansible-playbook on this
machine, watching temporary folders for the state, the venv and dlcheck's link.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml
from test_preflight import REPO, role_playbook, run_local_playbook

VARS = yaml.safe_load((REPO / "roles/converge/vars/main.yml").read_text())
# As the file lookup gives it to the tasks: its trailing newline stripped.
SCRIPT = (REPO / "roles/converge/files/converge_record.sh").read_text().rstrip()
NOTHING = "Nothing changed since the converge of"
RUN = "The roles run: "


def script(mode: str, stamp: Path, inputs: str, watched: list[Path], present=(), **kw) -> str:
    """One run of the record's script (present: the presence-only paths); its output line."""
    present = "\n".join(str(p) for p in present)
    max_age = str(kw.get("max_age", 10**9))
    argv = ["sh", "-c", SCRIPT, "converge_record", mode, str(stamp), inputs, max_age]
    proc = subprocess.run(
        [*argv, present, *map(str, watched)], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def test_the_script_reuses_only_what_nothing_has_touched(tmp_path: Path) -> None:
    venv, state = tmp_path / "venv", tmp_path / "state"
    (venv / "lib" / "pkg").mkdir(parents=True)
    (venv / "lib" / "pkg" / "mod.py").write_text("x = 1\n")
    state.mkdir()
    stamp, watched = state / "converged", [venv, state]
    assert script("check", stamp, "in", watched).startswith("run no converge on record")

    assert script("record", stamp, "in", watched) == ""
    assert script("check", stamp, "in", watched).startswith("reuse 20")
    # Other inputs (variables, code, Ansible) mean the roles run.
    assert script("check", stamp, "other", watched).startswith("run the variables, the code")

    # A chmod deep in the venv, right after the record (a world-writable file is the python_env
    # role's business). The check only reads: the record stays as it was.
    script("record", stamp, "in", watched)
    before = stamp.stat()
    (venv / "lib" / "pkg" / "mod.py").chmod(0o666)
    found = script("check", stamp, "in", watched)
    assert found.startswith(f"run {venv / 'lib' / 'pkg' / 'mod.py'} changed after"), found
    assert (stamp.stat().st_mtime_ns, stamp.stat().st_ino) == (before.st_mtime_ns, before.st_ino)

    # A removed entry changes its folder.
    script("record", stamp, "in", watched)
    (venv / "lib" / "pkg" / "mod.py").unlink()
    assert script("check", stamp, "in", watched).startswith(f"run {venv / 'lib' / 'pkg'} changed")

    # Apt lists older than the system role's cache_valid_time: the converge refreshes them.
    script("record", stamp, "in", watched)
    assert "apt lists are older" in script("check", stamp, "in", watched, max_age=0)


def test_presence_only_paths_and_watched_paths_that_appear(tmp_path: Path) -> None:
    state, metrics, later = tmp_path / "state", tmp_path / "metrics", tmp_path / "later"
    state.mkdir()
    metrics.mkdir()
    stamp = state / "converged"
    script("record", stamp, "in", [state, later], present=[metrics])
    # The metrics timer writes into its folder: not a reason to run the roles.
    (metrics / "dlcheck.prom").write_text("dlcheck_up 1\n")
    assert script("check", stamp, "in", [state, later], present=[metrics]).startswith("reuse ")
    metrics.joinpath("dlcheck.prom").unlink()
    metrics.rmdir()
    assert "which watched paths exist" in script("check", stamp, "in", [state, later], [metrics])
    metrics.mkdir()
    script("record", stamp, "in", [state, later], present=[metrics])
    later.mkdir()
    assert "which watched paths exist" in script("check", stamp, "in", [state, later], [metrics])


def test_the_record_holds_the_inputs_the_state_and_the_time(tmp_path: Path) -> None:
    stamp = tmp_path / "state" / "converged"
    assert script("record", stamp, "in", [tmp_path]) == ""
    inputs, state, when = stamp.read_text().split()
    assert (inputs, len(state)) == ("in", 64)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when), when
    # Dated back a little, so that a change right after it still counts (find -cnewer).
    assert stamp.stat().st_mtime < stamp.stat().st_ctime
    assert script("check", stamp, "in", [tmp_path]) == f"reuse {when}"
    # A second record replaces the first.
    script("record", stamp, "other", [tmp_path])
    assert stamp.read_text().split()[0] == "other"


def test_the_file_runs_alone_as_under_the_role(tmp_path: Path) -> None:
    """`sh converge_record.sh ...` (a person's check on a host) says what the role's run says."""
    stamp = tmp_path / "converged"
    script("record", stamp, "in", [tmp_path])
    argv = [str(stamp), "in", str(10**9), "", str(tmp_path)]
    alone = subprocess.run(
        ["sh", str(REPO / "roles/converge/files/converge_record.sh"), "check", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    assert alone.stdout.strip() == script("check", stamp, "in", [tmp_path])


def test_a_corrupt_record_is_no_record(tmp_path: Path) -> None:
    stamp = tmp_path / "converged"
    stamp.write_text("garbage\n")
    assert script("check", stamp, "in", [tmp_path]).startswith("run no converge on record")


def converge(tmp_path: Path, *args: str, **extra: object) -> str:
    """unchanged.yml, then record.yml (reached only when the host had something to do)."""
    playbook = role_playbook(tmp_path / "play.yml", "converge:unchanged:public", "converge:record")
    variables = {
        "ansible_become": False,
        "preflight_state_dir": str(tmp_path / "state"),
        "python_env_venv_path": str(tmp_path / "venv"),
        "dlcheck_bin_link": str(tmp_path / "bin" / "dlcheck"),
        "dlcheck_metrics_dir": str(tmp_path / "metrics"),
        # This machine's apt lists may be of any age: that rule has its own test above.
        "system_apt_cache_valid_time": 10**9,
        # Only the temporary folders are watched: whatever else writes to this machine's /etc
        # meanwhile must not decide the test (the list itself has its own test below).
        "__converge_converged_watch": [str(tmp_path / f) for f in ("state", "venv", "bin")],
        **extra,
    }
    for folder in ("state", "venv", "bin", "metrics"):
        (tmp_path / folder).mkdir(exist_ok=True)
    proc = run_local_playbook(playbook, "-e", json.dumps(variables), *args)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return re.sub(r"\s+", " ", proc.stdout)


def test_the_roles_tasks_end_a_run_with_nothing_to_do(tmp_path: Path) -> None:
    first = converge(tmp_path)
    assert f"{RUN}no converge on record" in first
    assert "TASK [converge : Record this converge, for the next run]" in first
    assert (tmp_path / "state" / "converged").exists()

    second = converge(tmp_path)
    assert NOTHING in second and "Record this converge" not in second

    # A dlstation variable changes the inputs; the switch of the record itself does not.
    assert f"{RUN}the variables, the code" in converge(tmp_path, python_env_pip_timeout=77)
    assert f"{RUN}the variables, the code" in converge(tmp_path)
    again = converge(tmp_path, dlstation_converge_reuse=True)
    assert NOTHING in again, again[again.find("msg") :][:400]
    off = converge(tmp_path, dlstation_converge_reuse=False)
    assert NOTHING not in off and RUN not in off and "Record this converge" in off
    assert NOTHING in converge(tmp_path)

    # A file written where the roles write (the venv's pip.conf).
    (tmp_path / "venv" / "pip.conf").write_text("[global]\n")
    checked = converge(tmp_path, "--check")
    assert f"{RUN}{tmp_path / 'venv'}" in checked
    assert "Record this converge" in checked and NOTHING not in converge(tmp_path, "--check")
    assert f"{RUN}{tmp_path / 'venv'}" in converge(tmp_path)
    assert NOTHING in converge(tmp_path)

    # What dlcheck's wheel is built from counts as code (its README is the wheel's description).
    source = tmp_path / "source"
    shutil.copytree(
        REPO / "dlcheck", source / "dlcheck", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    assert f"{RUN}the variables, the code" in converge(tmp_path, dlcheck_source_dir=str(source))
    assert NOTHING in converge(tmp_path, dlcheck_source_dir=str(source))
    (source / "README.md").write_text("# dlcheck, described otherwise\n")
    assert f"{RUN}the variables, the code" in converge(tmp_path, dlcheck_source_dir=str(source))

    # --tags and --skip-tags run what they name: no comparison, no record.
    tagged = converge(tmp_path, "--tags", "all,frameworks")
    assert NOTHING not in tagged and RUN not in tagged


class _Blank(jinja2.ChainableUndefined):
    """A name the static render below cannot know (a loop item, a fact)."""

    def __str__(self) -> str:
        return "<unknown>"


def _role_variables() -> dict[str, object]:
    found: dict[str, object] = {}
    for kind in ("defaults", "vars"):  # vars win, as in Ansible
        for path in sorted(REPO.glob(f"roles/*/{kind}/main.yml")):
            found.update(yaml.safe_load(path.read_text()) or {})
    return found


def _render(value: str, names: dict[str, object]) -> str:
    env = jinja2.Environment(undefined=_Blank)
    env.filters.update(dirname=lambda p: str(Path(str(p)).parent), default=lambda v, d="": v)
    env.filters["quote"] = str
    env.globals.update(lookup=lambda *a, **k: "<unknown>", query=lambda *a, **k: ["<unknown>"])

    def one(expression: re.Match[str]) -> str:
        try:
            return env.from_string(expression.group(0)).render(**names)
        except jinja2.TemplateError:  # a filter, test or lookup this render does not have
            return "<unknown>"

    for _ in range(5):
        value = re.sub(r"\{\{.*?\}\}", one, value, flags=re.S)
    return value


# Modules that write the path they are given (read-only ones, stat and find, do not count).
WRITERS = {
    "copy",
    "template",
    "file",
    "get_url",
    "lineinfile",
    "blockinfile",
    "replace",
    "unarchive",
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jinja2 reading the roles' regexes
def test_every_path_a_role_writes_is_watched() -> None:
    names = _role_variables()
    names["__converge_options"] = {}
    # The venv as python_env publishes it, and as its callers pass it to common's pip.yml.
    venv = {key: _render(str(value), names) for key, value in names["__python_env_venv"].items()}
    names["python_env_venv"] = names["common_venv"] = venv
    watched = [_render(p, names) for p in VARS["__converge_converged_watch"]]
    watched += [_render(p, names) for p in VARS["__converge_converged_present"]]
    assert all(p.startswith("/") for p in watched), watched
    written: list[tuple[str, str]] = []

    def walk(tasks: list[dict], source: str) -> None:
        for task in tasks or []:
            for nested in ("block", "rescue", "always"):
                walk(task.get(nested), source)
            for key, args in task.items():
                if key.rsplit(".", 1)[-1] not in WRITERS or not isinstance(args, dict):
                    continue
                for field in ("dest", "path"):
                    if field in args:
                        written.append((source, _render(str(args[field]), names)))

    for path in sorted(REPO.glob("roles/*/tasks/*.yml")):
        walk(yaml.safe_load(path.read_text()), str(path.relative_to(REPO)))
    # A path known up to a loop item or a lookup is judged by its known part (its folder).
    resolved = [
        (src, p.split("<unknown>")[0]) for src, p in written if not p.startswith("<unknown>")
    ]
    unknown = sorted({src for src, p in written if p.startswith("<unknown>")})
    # Loop items read on the host: the Debian sources that nvidia_driver edits (under /etc/apt),
    # and the package records of unfinished pip installs that python_env removes (in the venv).
    assert unknown == [
        "roles/nvidia_driver/tasks/install-debian.yml",
        "roles/python_env/tasks/install.yml",
    ]
    assert len(resolved) >= 25, written
    outside = [
        (src, p)
        for src, p in resolved
        if not any(p == w or p.startswith(w.rstrip("/") + "/") for w in watched)
    ]
    # The venv's parent folder is made for the venv, which is watched.
    outside = [
        (src, p) for src, p in outside if p != str(Path(names["python_env_venv_path"]).parent)
    ]
    assert outside == [], f"written but not watched by the converge record: {outside}"
