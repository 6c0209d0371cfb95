"""The one way dlcheck runs a child process: with a deadline, and nothing left behind.

A framework import that hangs, segfaults, or leaves a grandchild behind must become
a result, never a hung or dead tool. So every child:

- starts in its own session, so that its whole process group can be killed;
- is read with its own deadline: the parent never waits for end-of-file after it,
  even when a grandchild in another session still holds the pipe;
- on timeout is killed with everything it started (its session, its descendants,
  and whatever else holds its pipes), and the result names what was killed;
- ends with a return code whose signal, if any, `signal_name` spells out.

Ctrl-C: children in their own session do not get the terminal's SIGINT, so the parent
passes it on. A KeyboardInterrupt in the thread that waits kills that child at once;
`stop_all` kills every child still running (for the threads that wait elsewhere), and
`stopped_on_interrupt` calls it when a KeyboardInterrupt leaves its block.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

#: Without a pidfd (Linux < 5.3), how often a waiting parent looks whether the child ended.
POLL_S = 0.1
#: After SIGKILL, how long to wait for the kernel to reap the child before giving up on it.
REAP_S = 5.0
_READ = 65536


@dataclass
class Killed:
    """One process the runner killed."""

    pid: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid})"


@dataclass
class Finished:
    """How a child process ended: its output, or why there is none."""

    argv: list[str]
    #: the exit status; negative: killed by that signal; None: it never started
    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    #: stopped by `stop_all` (Ctrl-C, a closed window) before it finished
    stopped: bool = False
    #: why it could not be started
    spawn_error: str | None = None
    #: what the runner killed: the child and what it left running
    killed: list[Killed] = field(default_factory=list)

    @property
    def signal(self) -> str | None:
        """The signal that ended the child, named ('SIGSEGV (signal 11)'), or None."""
        if self.returncode is None or self.returncode >= 0:
            return None
        return signal_name(-self.returncode)

    @property
    def killed_text(self) -> str:
        return ", ".join(str(k) for k in self.killed)


def signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} (signal {number})"
    except ValueError:
        return f"signal {number}"


def tail(text: str, lines: int) -> list[str]:
    """The last `lines` non-blank lines of `text`."""
    return [line for line in text.splitlines() if line.strip()][-lines:]


class _Child:
    """One running child and the pipe that wakes its reader when it must stop."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        # Only what started with or after the child can be its own: a pid, group or session
        # number alone may be an older process's, since pids wrap (pid_max is often 32768).
        self.born = _start_time(proc.pid)
        self.pipes = {
            f.fileno(): os.fstat(f.fileno()).st_ino for f in (proc.stdout, proc.stderr) if f
        }
        self.stopped = False
        self.killed: list[Killed] = []
        self.wake_r, self._wake_w = os.pipe()
        self._closed = False
        self._lock = threading.Lock()

    def kill(self, table: dict[int, _Proc] | None = None) -> None:
        """Kill the child with everything it started; idempotent, any thread."""
        with self._lock:
            if self._closed:  # reaped: its pid may already be another process's
                return
            known = {k.pid for k in self.killed}
            found = _kill_tree(self.proc.pid, self.pipes, table, self.born)
            self.killed += [k for k in found if k.pid not in known]

    def stop(self, table: dict[int, _Proc] | None = None) -> None:
        self.stopped = True
        self.kill(table)
        with self._lock:
            if not self._closed:  # a closed descriptor's number may belong to a new file
                os.write(self._wake_w, b"x")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            os.close(self.wake_r)
            os.close(self._wake_w)


_running: set[_Child] = set()
_running_lock = threading.Lock()


def stop_all() -> list[Killed]:
    """Kill every child this process is running now (from any thread); what was killed."""
    with _running_lock:
        children = list(_running)
    table = _processes() if children else {}  # one look at /proc for them all
    for child in children:
        child.stop(table)
    return [k for child in children for k in child.killed]


@contextlib.contextmanager
def stopped_on_interrupt() -> Iterator[None]:
    """On KeyboardInterrupt (or any error) leaving the block, kill every running child.

    For children waited on by other threads: their readers return at once, so a thread
    pool around the block can shut down without waiting for their deadlines.
    """
    try:
        yield
    except BaseException:
        stop_all()
        raise


def run(
    argv: list[str],
    timeout: float,
    *,
    env: dict[str, str] | None = None,
    input: str | None = None,
    on_line: Callable[[str, str], None] | None = None,
) -> Finished:
    """Run `argv` until it exits, or at most `timeout` seconds; never raises for the child.

    `input` goes to its stdin (small: it must fit the pipe's buffer, 64 KiB on Linux);
    `on_line(stream, line)` gets each line of "stdout" and "stderr" as it arrives, from
    this thread (structured progress, e.g. `dlcheck bench --progress jsonl`).
    """
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        return Finished(argv, None, spawn_error=str(exc.strerror or exc))
    child = _Child(proc)
    with _running_lock:
        _running.add(child)
    deadline = started + timeout
    try:
        if input is not None and proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(input.encode("utf-8"))
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        out, err, ending = _read(child, deadline, on_line)
        if ending == _EOF:  # it closed its output; it may still run
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                ending = _DEADLINE
        if ending != _EOF:
            # Timed out, stopped, or ended while something it started holds its pipes.
            child.kill()
        try:
            returncode = proc.wait(timeout=REAP_S)
        except subprocess.TimeoutExpired:  # stuck in the kernel (D state): report, not hang
            returncode = None
    except BaseException:  # Ctrl-C in this thread: the child must not outlive it
        child.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=REAP_S)
        raise
    finally:
        with _running_lock:
            _running.discard(child)
        child.close()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    if child.killed:
        log.info("killed %s: %s", argv[0], ", ".join(map(str, child.killed)))
    return Finished(
        argv,
        returncode,
        stdout=out.decode("utf-8", errors="replace"),
        stderr=err.decode("utf-8", errors="replace"),
        duration_s=time.monotonic() - started,
        timed_out=ending == _DEADLINE,
        stopped=child.stopped,
        killed=child.killed,
    )


#: How reading a child's output ended.
_EOF, _EXITED, _DEADLINE, _STOPPED = "eof", "exited", "deadline", "stopped"


def _read(
    child: _Child, deadline: float, on_line: Callable[[str, str], None] | None
) -> tuple[bytes, bytes, str]:
    """Read stdout and stderr until both end, the child ends, the deadline, or a stop.

    Once the child has ended, what it wrote is already in the pipes: read what is
    there, then stop ("exited"), even if a process it left behind keeps them open.
    """
    proc = child.proc
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    chunks: dict[int, list[bytes]] = {out_fd: [], err_fd: []}
    names = {out_fd: "stdout", err_fd: "stderr"}
    partial = {out_fd: b"", err_fd: b""}
    ending = _EOF
    pidfd = _pidfd(proc.pid)
    with selectors.DefaultSelector() as sel:
        for fd in (out_fd, err_fd, child.wake_r, pidfd):
            if fd is not None:
                sel.register(fd, selectors.EVENT_READ)
        try:
            streams, exited = 2, False
            while streams:
                left = deadline - time.monotonic()
                if child.stopped or left <= 0:
                    ending = _STOPPED if child.stopped else _DEADLINE
                    break
                wait = 0 if exited else left if pidfd is not None else min(left, POLL_S)
                ready = [key.fd for key, _ in sel.select(wait) if key.fd in chunks]
                if exited and not ready:
                    ending = _EXITED  # gone, and its pipes hold nothing more
                    break
                for fd in ready:
                    try:
                        data = os.read(fd, _READ)
                    except BlockingIOError:  # a stop drained it from another thread
                        continue
                    if not data:
                        sel.unregister(fd)
                        streams -= 1
                    elif on_line is not None:
                        *lines, partial[fd] = (partial[fd] + data).split(b"\n")
                        for line in lines:
                            on_line(names[fd], line.decode("utf-8", errors="replace"))
                    chunks[fd].append(data)
                exited = exited or proc.poll() is not None
        finally:
            if pidfd is not None:
                os.close(pidfd)
    for fd, rest in partial.items():
        if on_line is not None and rest and ending in (_EOF, _EXITED):
            on_line(names[fd], rest.decode("utf-8", errors="replace"))
    return b"".join(chunks[out_fd]), b"".join(chunks[err_fd]), ending


def _pidfd(pid: int) -> int | None:
    """A file descriptor that turns readable when `pid` exits (Linux >= 5.3), or None."""
    try:
        return os.pidfd_open(pid)  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return None


# --------------------------------------------------------------------------- killing


@dataclass
class _Proc:
    pid: int
    ppid: int
    pgrp: int
    session: int
    name: str
    zombie: bool
    start: int  # clock ticks after boot


def _processes() -> dict[int, _Proc]:
    """Every process /proc shows; empty where there is no /proc."""
    found: dict[int, _Proc] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        found[int(entry.name)] = _Proc(
            int(entry.name),
            int(fields[1]),
            int(fields[2]),
            int(fields[3]),
            name,
            fields[0] == "Z",
            int(fields[19]),
        )
    return found


def _start_time(pid: int) -> int:
    """When `pid` started (clock ticks after boot); 0 where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rfind(")") + 2 :].split()[19])


def _holds_pipe(pid: int, pipes: set[int]) -> bool:
    wanted = {f"pipe:[{inode}]" for inode in pipes}
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(fd) in wanted:
                return True
    return False


def _kill_tree(
    pid: int, pipes: dict[int, int], table: dict[int, _Proc] | None = None, born: int = 0
) -> list[Killed]:
    """SIGKILL `pid`, its session and process group and their descendants; then, if
    something still holds `pipes` (read end fd -> inode: a grandchild in a session of
    its own whose parent is gone), that too. `table`: a /proc scan to reuse; processes
    that started before `born` (the child's start) are never its own."""

    def ours(found: dict[int, _Proc]) -> dict[int, _Proc]:
        return {n: p for n, p in found.items() if p.start >= born}

    table = ours(_processes() if table is None else table)
    killed = _kill(pid, table, {p.pid for p in table.values() if pid in (p.pid, p.pgrp, p.session)})
    if table and _writers_left(pipes):  # the rare case: look for them in every /proc/N/fd
        table = ours(_processes())
        inodes = set(pipes.values())
        killed += _kill(pid, table, {p for p in table if _holds_pipe(p, inodes)})
    return killed


def _kill(pid: int, table: dict[int, _Proc], chosen: set[int]) -> list[Killed]:
    """SIGKILL `chosen` and their descendants (and `pid`'s group); wait until they are dead."""
    more = chosen
    while more:
        more = {p.pid for p in table.values() if p.ppid in chosen} - chosen
        chosen |= more
    me = os.getpid()
    chosen = {p for p in chosen if p != me and p in table and not table[p].zombie}
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # the group at once, so that nothing in it forks on
    killed = []
    for target in sorted(chosen):
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the group kill got it first, and it has been reaped
        except PermissionError:
            continue
        killed.append(Killed(target, table[target].name))
    if not table:  # no /proc: the group kill above is all there is
        killed.append(Killed(pid, "child"))
    _wait_dead([k.pid for k in killed if table])
    return killed


def _writers_left(pipes: dict[int, int]) -> bool:
    """Whether any process still holds the write end of one of our pipes (its reader
    gets "would block", not end-of-file). What is still in the pipe is dropped."""
    for fd in pipes:
        try:
            os.set_blocking(fd, False)
            while os.read(fd, _READ):
                pass
        except BlockingIOError:
            return True
        except OSError:
            continue  # closed meanwhile
    return False


def _wait_dead(pids: list[int]) -> None:
    """Wait (up to REAP_S) until SIGKILL has ended each of `pids`: it is delivered
    asynchronously, and "nothing left running" must hold once the runner returns."""
    give_up = time.monotonic() + REAP_S
    for pid in pids:
        while _running_pid(pid) and time.monotonic() < give_up:
            time.sleep(0.005)


def _running_pid(pid: int) -> bool:
    """/proc still shows `pid`, and not as a zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :][:1] != "Z"
