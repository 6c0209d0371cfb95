"""The one child-process runner: deadlines, signals, and nothing left running.

Real processes throughout: a child that hangs, one that segfaults, one that leaves a
grandchild in a session of its own holding the pipe, and Ctrl-C on the real CLI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from dlcheck.host import processes

PY = sys.executable
#: a limit that only a hung runner reaches: no test waits for it
NEVER_S = 300


def alive(pid: int) -> bool:
    """Running: /proc has it and it is not a zombie (killed, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


# A child that starts a grandchild in a session of its own, which inherits the pipes,
# prints the grandchild's pid, and then hangs (or exits, with "exit" as argument).
LEAVES_A_GRANDCHILD = textwrap.dedent(
    f"""
    import subprocess, sys, time
    g = subprocess.Popen([{PY!r}, "-c", "import time; time.sleep({NEVER_S})"],
                         start_new_session=True)
    print(g.pid, flush=True)
    if sys.argv[1:] != ["exit"]:
        time.sleep({NEVER_S})
    """
)


def test_output_and_exit_status_of_a_plain_child():
    done = processes.run([PY, "-c", "import sys; print('out'); sys.exit(3)"], NEVER_S)
    assert (done.returncode, done.stdout, done.timed_out, done.killed) == (3, "out\n", False, [])
    assert done.signal is None


def test_a_hanging_child_is_killed_at_the_deadline_and_named():
    done = processes.run([PY, "-c", "import time; time.sleep(600)"], 1)
    assert done.timed_out and done.returncode == -signal.SIGKILL
    assert done.signal == "SIGKILL (signal 9)"
    assert [k.name for k in done.killed] == [Path(PY).name[:15]]
    assert not alive(done.killed[0].pid)


def test_a_grandchild_in_its_own_session_holding_the_pipe_is_killed_too():
    done = processes.run([PY, "-c", LEAVES_A_GRANDCHILD], 2)
    grandchild = int(done.stdout.split()[0])
    assert done.timed_out
    assert grandchild in {k.pid for k in done.killed}
    assert not alive(grandchild)


def test_a_child_that_exits_is_not_waited_for_while_its_grandchild_holds_the_pipe():
    # Waiting for end-of-file would last until the grandchild's sleep ends (NEVER_S):
    # the deadline would pass and timed_out be True.
    done = processes.run([PY, "-c", LEAVES_A_GRANDCHILD, "exit"], NEVER_S - 60)
    grandchild = int(done.stdout.split()[0])
    assert (done.returncode, done.timed_out) == (0, False)
    assert [k.pid for k in done.killed] == [grandchild]
    assert not alive(grandchild)


def test_a_child_that_closes_its_output_and_hangs_is_killed_at_the_deadline():
    script = "import os, time; os.close(1); os.close(2); time.sleep(600)"
    done = processes.run([PY, "-c", script], 1)
    assert done.timed_out and done.signal == "SIGKILL (signal 9)"
    assert not alive(done.killed[0].pid)


def test_a_segfault_is_named():
    done = processes.run([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"], 60)
    assert done.returncode == -signal.SIGSEGV
    assert done.signal == "SIGSEGV (signal 11)"
    assert not done.timed_out and done.killed == []


def test_a_program_that_cannot_start_says_why():
    done = processes.run(["/nonexistent/program"], 5)
    assert done.returncode is None and done.spawn_error == "No such file or directory"


def test_input_and_lines_as_they_come():
    lines: list[tuple[str, str]] = []
    script = (
        "import sys; print(sys.stdin.read()); print('err', file=sys.stderr); print('two', end='')"
    )
    done = processes.run(
        [PY, "-c", script], 60, input="one", on_line=lambda *line: lines.append(line)
    )
    assert sorted(lines) == [("stderr", "err"), ("stdout", "one"), ("stdout", "two")]
    assert done.stdout == "one\ntwo" and done.stderr == "err\n"


def test_stop_all_ends_children_waited_on_by_other_threads():
    results: list[processes.Finished] = []
    started = threading.Event()

    def wait() -> None:
        results.append(
            processes.run(
                [PY, "-c", "print('up', flush=True); import time; time.sleep(600)"],
                NEVER_S,
                on_line=lambda *_line: started.set(),
            )
        )

    thread = threading.Thread(target=wait)
    thread.start()
    assert started.wait(60), "the child never printed"
    killed = processes.stop_all()
    thread.join(60)
    assert not thread.is_alive()
    (done,) = results
    assert done.stopped and not done.timed_out and done.returncode == -signal.SIGKILL
    assert [k.pid for k in killed] == [k.pid for k in done.killed]
    assert not any(alive(k.pid) for k in killed)


# A TensorFlow whose import leaves a grandchild in its own session and hangs; each
# writes its pid into the marker directory, so the test knows when they run.
HANGING_TF = textwrap.dedent(
    """
    import os, subprocess, sys, time
    marks = os.environ["MARKS"]
    g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                         start_new_session=True)
    for pid in (os.getpid(), g.pid):
        open(os.path.join(marks, str(pid)), "w").close()
    time.sleep(600)
    """
)


# The doctor's own limit is far beyond the test's: a doctor that waited for its children's
# deadline instead of killing them would fail the test by never ending in it.
# The doctor's own limit (--timeout 3600) is far beyond the test's: a doctor that waited
# for its children's deadline instead of killing them would never end within the test.
@pytest.mark.parametrize("command", [["doctor", "frameworks"], ["doctor", "--json"]])
def test_ctrl_c_ends_the_doctor_with_130_and_leaves_nothing_running(tmp_path, command):
    site = tmp_path / "site"
    for name in ("tensorflow", "torch", "jax"):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(HANGING_TF)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site), MARKS=str(marks))
    doctor = subprocess.Popen(
        [PY, "-m", "dlcheck", *command, "--timeout", "3600"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Three framework children (tensorflow+keras, torch, jax), a grandchild each.
    for _ in range(600):
        if len(list(marks.iterdir())) >= 6 or doctor.poll() is not None:
            break
        time.sleep(0.1)
    pids = [int(p.name) for p in marks.iterdir()]
    assert len(pids) == 6, f"the fake imports did not all start: {pids}"
    doctor.send_signal(signal.SIGINT)
    out, err = doctor.communicate(timeout=NEVER_S)
    assert doctor.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in err
    assert [p for p in pids if alive(p)] == []


def test_an_older_process_that_only_shares_a_number_is_never_killed():
    # pids wrap (pid_max is often 32768), so an old process's session or group number can
    # equal a new child's pid: only what started with or after the child is its own.
    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        born = processes._start_time(child.pid)
        table = processes._processes()
        old = processes._Proc(2**22 + 1, 1, child.pid, child.pid, "old", False, born - 1)
        table[old.pid] = old
        killed = processes._kill_tree(child.pid, {}, table, born)
        assert [k.pid for k in killed] == [child.pid]
    finally:
        child.kill()
        child.wait()
