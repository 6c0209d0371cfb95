"""Faults provoked on the fresh target after the main proof (run by tests/target/prove.sh).

1. A pip index on a closed loopback port: the play fails at the index task, naming the
   index; a re-run with the right index converges.
2. The dpkg lock held by another process: the play waits for it and succeeds.
3. The play killed in the middle of a pip install (pip killed on the host as in a crash or
   an OOM kill, ansible-playbook interrupted as by Ctrl-C): the next run converges, the
   one after reports changed=0. Interrupting only ansible-playbook is the weaker case: the
   remote pip keeps running and finishes on its own.

They run in this order and need the converged target of prove.sh: DLSTATION_TARGET_WORK
(its work directory) and DLSTATION_TARGET_VARS (the harness's extra variables).
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).parent))
import recap  # noqa: E402
from on_target import TARGET_MARKS, on_target  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = os.environ.get("DLSTATION_TARGET_WORK", "")
VARS = os.environ.get("DLSTATION_TARGET_VARS", "")

pytestmark = TARGET_MARKS

PLAY_TIMEOUT = 1200
TF_DISTS = {"tensorflow", "tensorflow-cpu"}


@dataclass
class Run:
    rc: int
    log: str
    path: Path

    @property
    def recap(self) -> recap.HostRecap:
        return next(iter(recap.parse(self.log).values()))


def _play_cmd(*args: str) -> list[str]:
    cmd = ["ansible-playbook", "-i", f"{WORK}/inventory", "playbooks/site.yml"]
    if VARS:
        cmd += ["-e", f"@{VARS}"]
    return cmd + list(args)


def _env() -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    return dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{bindir}:{os.environ['PATH']}")


def _log_path(name: str) -> Path:
    return Path(WORK, "logs", f"fault-{name}.log")


def _playbook(log: IO[str], *args: str) -> dict[str, Any]:
    """How site.yml starts on the target, all its output into `log`: the arguments of
    subprocess.run() or subprocess.Popen(), which add their own (a timeout, a session)."""
    return dict(args=_play_cmd(*args), cwd=REPO, env=_env(), stdout=log, stderr=subprocess.STDOUT)


def play(name: str, *args: str) -> Run:
    """Run site.yml on the target, keeping the log under WORK/logs."""
    path = _log_path(name)
    with path.open("w") as log:
        proc = subprocess.run(**_playbook(log, *args), timeout=PLAY_TIMEOUT, check=False)
    return Run(proc.returncode, path.read_text(errors="replace"), path)


def closed_port() -> int:
    # Bind, note the port, close: nothing listens there afterwards.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def role_default(role: str, name: str):
    import yaml

    defaults = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())
    return defaults[name]


def test_unreachable_pip_index_fails_naming_it_then_the_right_one_converges() -> None:
    url = f"http://127.0.0.1:{closed_port()}/simple"
    bad = play("index-unreachable", "-e", f"python_env_pip_index_url={url}")
    assert bad.rc != 0, "the play succeeded with an unreachable pip index"
    host = bad.recap
    assert host.count("failed") == 1, host.counts
    assert host.failed_tasks, "no failed task in the log"
    failed = host.failed_tasks[0]
    # python_env's own probe of the index, or, before it, the frameworks preflight's pin
    # check, which asks the same index whether the pinned packages install.
    assert any(w in failed.lower() for w in ("index", "pip", "pinned package")), failed
    # The failure message names the index (the text after the failed task's header).
    after = bad.log.split(f"[{failed}]")[-1]
    assert url.rsplit("/", 1)[0] in after, f"the failure does not name {url}:\n{after[:3000]}"

    good = play("index-restored")
    assert good.rc == 0 and recap.check(recap.parse(good.log), None, False) == [], good.path


def test_play_waits_for_the_dpkg_lock() -> None:
    # A small package the system role installs, removed so that apt must take the lock.
    assert "unzip" in role_default("system", "system_packages")
    on_target("DEBIAN_FRONTEND=noninteractive apt-get remove -y -q unzip >/dev/null")
    hold = 20
    # apt locks with fcntl (not flock): hold both of dpkg's locks the way apt does.
    holder = (
        "import fcntl, time\n"
        "fs = [open(p, 'w') for p in ('/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock')]\n"
        "[fcntl.lockf(f, fcntl.LOCK_EX) for f in fs]\n"
        "open('/tmp/dlstation-lock-held', 'w').write(str(time.time()))\n"
        f"time.sleep({hold})\n"
        "open('/tmp/dlstation-lock-released', 'w').write(str(time.time()))\n"
    )
    on_target("rm -f /tmp/dlstation-lock-held /tmp/dlstation-lock-released")
    on_target(
        f"setsid -f python3 -c {shlex.quote(holder)} >/dev/null 2>&1 </dev/null; "
        "for i in $(seq 50); do [ -e /tmp/dlstation-lock-held ] && exit 0; sleep 0.1; done; exit 1"
    )
    # The lock is real: apt without waiting is refused.
    probe = on_target(
        "apt-get -o DPkg::Lock::Timeout=0 install -y unzip 2>&1; echo rc=$?", check=False
    )
    assert "rc=0" not in probe and "lock" in probe.lower(), probe

    run = play("dpkg-lock", "--tags", "system")
    assert run.rc == 0, f"the play did not wait for the dpkg lock: {run.path}"
    released = float(on_target("cat /tmp/dlstation-lock-released"))
    installed = on_target("stat -c %Y /var/lib/dpkg/info/unzip.list").strip()
    assert int(installed) >= int(released), "unzip was installed while the lock was held"


def _install_progress(venv: str) -> tuple[list[str], int]:
    """The pids of a pip installing TensorFlow, and how many of its files exist so far."""
    # /proc, not pgrep: minbase has no procps. "p$w" with w=ip: the pattern must not match
    # the shell (and its subshells) that runs this loop.
    out = on_target(
        "w=ip; for p in /proc/[0-9]*; do "
        "c=$(tr '\\0' ' ' < $p/cmdline 2>/dev/null) || continue; "
        'case "$c" in *p$w*install*tensorflow*) printf "%s " ${p#/proc/};; esac; done; '
        "echo '|'; "
        f"find {venv}/lib/python3*/site-packages/tensorflow -type f 2>/dev/null | wc -l"
    )
    pids, _, count = out.partition("|")
    return pids.split(), int(count.strip() or 0)


# uv (the default installer) links a cached wheel's files in well under a second: a poll over
# SSH saw TensorFlow's reinstall already complete (a gate of 2026-12-01). pip writes file by
# file, so these plays install with pip. The repair under test is the same for both: python_env
# forgets each package record without an INSTALLER (venv_state.py), which both installers write
# after the package's files. tests/unit/ansible/test_pip_install.py stops a real uv install
# half-way and checks that repair against what uv left.
WITH_PIP = ("-e", "python_env_installer=pip")


def test_play_killed_during_pip_install_recovers() -> None:
    venv = role_default("python_env", "python_env_venv_path")
    # The biggest wheel gives the widest window: make the play reinstall TensorFlow.
    freeze = on_target(f"{venv}/bin/python -m pip list --format=freeze").split()
    names = [ln.split("==")[0] for ln in freeze]
    dists = [n for n in names if n.lower().replace("_", "-") in TF_DISTS]
    assert dists, "TensorFlow is not in the venv"
    dist = dists[0]
    _, complete = _install_progress(venv)
    on_target(f"{venv}/bin/python -m pip uninstall -y -q {dist}")
    _, leftover = _install_progress(venv)  # files pip uninstall does not own
    path = _log_path("interrupted")
    interrupted = False
    with path.open("w") as log:
        proc = subprocess.Popen(**_playbook(log, *WITH_PIP), start_new_session=True)
        try:
            # Wait until pip is writing TensorFlow's files, then pull the plug on both ends:
            # pip dies as in a crash, ansible-playbook as on Ctrl-C.
            deadline = time.monotonic() + PLAY_TIMEOUT
            while time.monotonic() < deadline and proc.poll() is None:
                pids, count = _install_progress(venv)
                if pids and count > leftover + 200:
                    on_target(f"kill -KILL {' '.join(pids)} 2>/dev/null || true")
                    os.killpg(proc.pid, signal.SIGINT)
                    interrupted = True
                    break
                time.sleep(0.3)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert interrupted, f"the play never reached the TensorFlow install: {path}"
    assert proc.returncode != 0
    # What a crash leaves: part of TensorFlow's files. (Its wheel puts the .dist-info first,
    # so pip may already list it as installed: the next run has to notice the difference.)
    _, partial = _install_progress(venv)
    assert partial < complete, "the install finished before the interrupt: nothing to recover"

    again = play("after-interrupt", *WITH_PIP)
    problems = recap.check(recap.parse(again.log), None, False)
    assert again.rc == 0 and problems == [], f"{problems} ({again.path})"
    last = play("after-interrupt-idempotent", *WITH_PIP)
    problems = recap.check(recap.parse(last.log), 0, False)
    assert last.rc == 0 and problems == [], f"{problems} ({last.path})"
