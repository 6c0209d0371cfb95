"""Files dlcheck reads and writes: refused up front when they are not plain files, and
written whole or not at all.

Every file dlcheck writes goes through `replacing` (or `write_bytes`/`write_text` on top
of it): the new content goes to a temporary file in the target's own directory, is
fsynced, and is renamed over the target, so a full disk or a crash leaves the previous
file as it was, and a reader never sees half a file.

`check_target` is called by the CLI before any work starts: a target that is not a
regular file (a device, a FIFO, a directory, a symlink) is refused, because renaming
over it would replace it (`/dev/null` would become a file). `check_source` refuses
inputs that would block or never end when read (a FIFO, a character device).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dlcheck.errors import DlcheckError, UsageError

#: the path that means standard output, where an option allows it
STDOUT = "-"


class WriteError(DlcheckError):
    """Writing an output file failed part-way (disk full, quota, I/O error).

    The previous file, if any, is left as it was.
    """

    exit_code = 1


def _kind(mode: int) -> str:
    """A stat mode in words, for messages."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_target(value: str | os.PathLike[str], option: str, *, allow_stdout: bool = False) -> Path:
    """Refuse an output path that `replacing` could not, or should not, write.

    Returns the path (user-expanded). Raises UsageError naming `option` when the path is
    empty, is "-" where stdout is not allowed, exists and is not a regular file (a
    symlink included: renaming over it would replace the link, not its target), or lies
    in a folder where no file can be created. The last is tested by creating (and
    removing) a temporary file there: permission bits do not tell the truth for root,
    /proc or a read-only mount.
    """
    text = os.fspath(value)
    if text == "":
        raise UsageError(f"{option}: the path is empty", hint="give a file name")
    if text == STDOUT:
        if allow_stdout:
            return Path(STDOUT)
        raise UsageError(f"{option} -: this output cannot go to stdout", hint="give a file name")
    path = Path(text).expanduser()
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot inspect it ({exc.strerror})") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        hint = "give the real file's path" if stat.S_ISLNK(info.st_mode) else "give a file name"
        raise UsageError(
            f"{option} {path}: is {_kind(info.st_mode)}; dlcheck only replaces regular files",
            hint=hint,
        )
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: folder {folder} does not exist", hint="create it first")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
    except OSError as exc:
        raise UsageError(
            f"{option} {path}: cannot create a file in {folder} ({exc.strerror})",
            hint="choose a folder you can write to",
        ) from None
    os.close(fd)
    os.unlink(probe)
    return path


def check_source(path: str | os.PathLike[str], what: str) -> str | None:
    """Why `path` must not be opened as an input, or None when it may.

    A FIFO or a character device blocks or never ends when read; a socket cannot be
    read at all. Regular files and directories pass, and so does a missing path (the
    caller says "does not exist" in its own words). Symlinks are followed.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return f"{os.fspath(path)}: is {_kind(mode)}, not a {what}"


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (the directory entry), where the OS allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(
    path: str | os.PathLike[str],
    *,
    what: str = "output",
    tmp_suffix: str | None = None,
    mode: int | None = None,
) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on a clean exit, rename it over `path`.

    The temporary name keeps the target's suffix (Keras's `model.save` insists on
    `.keras`) unless `tmp_suffix` is given (node_exporter collects every `*.prom`, so a
    metrics file's temporary name must not end in it). On any error the temporary file
    is removed and the target is untouched; an OSError becomes WriteError naming `what`
    and the path. The new file gets the
    old file's permission bits, or the umask's default for a new file, unless `mode`
    is given.
    """
    target = Path(path)
    folder = target.parent
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=folder,
            prefix=f".{target.stem}.",
            suffix=f".tmp{target.suffix}" if tmp_suffix is None else tmp_suffix,
        )
    except OSError as exc:
        raise WriteError(f"cannot write {what} {target}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target) if mode is None else mode)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(
            f"cannot write {what} {target}: {exc.strerror or exc}",
            hint="free some space or choose another folder; the previous file is unchanged",
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes(
    path: str | os.PathLike[str], data: bytes, *, what: str = "output", **how: Any
) -> None:
    """Replace `path` with `data` atomically; "-" writes to standard output.

    `how` goes to `replacing` (tmp_suffix, mode).
    """
    if os.fspath(path) == STDOUT:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with replacing(path, what=what, **how) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def write_text(
    path: str | os.PathLike[str], text: str, *, what: str = "output", **how: Any
) -> None:
    """Replace `path` with `text` as UTF-8 atomically; "-" writes to standard output."""
    write_bytes(path, text.encode("utf-8"), what=what, **how)


def copy_file(source: str | os.PathLike[str], path: str | os.PathLike[str], *, what: str) -> None:
    """Replace `path` with a copy of `source`, atomically."""
    import shutil

    with replacing(path, what=what) as tmp:
        shutil.copyfile(source, tmp)
