"""Whole-or-nothing writes: files and folders go to a temporary path beside the target, then are renamed into place."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import BinaryIO, Iterator

from forecast_cli.errors import OutputError


def written_path(path: str | os.PathLike[str]) -> Path:
    """Where writing `path` lands: the file or folder a symbolic link points to (a `current ->
    model-2026-12-05` link keeps pointing there, at the new model), else `path` itself. A rename
    onto the link replaced the link with a folder of its own and left its target as it was.

    Example:
        >>> written_path("forecast.csv") == Path("forecast.csv")
        True
    """
    final = Path(path)
    return final.resolve() if final.is_symlink() else final


def temp_name(final: Path, kind: str) -> Path:
    return final.with_name(f".{final.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def is_stream(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a device or pipe to write into (/dev/null, /dev/stdout, a named pipe)
    rather than a file to replace: renaming a finished file over it would replace the device
    itself (run as root, `--output /dev/null` left /dev/null a regular file)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode)


def check_writable(final: Path) -> None:
    """Refuse, before any work, an output path whose folder is missing or not writable."""
    if is_stream(final):  # written into, not replaced: its folder (/dev) need not be writable
        return
    check_parent(Path(final))
    if Path(final).is_dir():
        raise OutputError(f"cannot write {final}: it is a directory. Give a file path.")


def check_parent(final: Path) -> None:
    """Refuse a path whose folder is missing, not a folder, or not writable."""
    parent = written_path(final).parent
    if not parent.exists():
        raise OutputError(
            f"cannot write {final}: the folder {parent} does not exist. Create it first "
            f"(mkdir -p {parent}) or choose another path."
        )
    if not parent.is_dir():
        raise OutputError(f"cannot write {final}: {parent} is not a folder. Choose another path.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {final}: the folder {parent} is not writable. Choose another path.")


def write_error(final: Path, exc: OSError, what: str = "", fix: str = "choose another path",
                whole: bool = True) -> OutputError:
    """The error for an output that could not be written: what the system said and the fix (a
    full disk or quota is freed, not only avoided); with `whole`, that the previous output is as
    it was (written whole or not at all).

    Example:
        >>> print(write_error(Path("out.csv"), OSError(errno.ENOSPC, "No space left on device")))
        cannot write out.csv: No space left on device. Free some space, or choose another path; any previous out.csv is unchanged.
    """
    advice = f"Free some space, or {fix}" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else fix[0].upper() + fix[1:]
    kept = f"; any previous {final.name} is unchanged" if whole else ""
    return OutputError(f"cannot write {what}{final}: {exc.strerror}. {advice}{kept}.")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` whole or not at all (temporary file in the same folder, then rename).

    Example:
        >>> atomic_write_bytes(Path("out.csv"), b"unique_id,ds,yhat\\n")
    """
    with atomic_open(path) as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write `path` through, whole or not at all: the bytes go to a temporary
    file in the same folder, renamed over `path` when the block ends; if the block raises, the
    temporary file is removed and `path` is left as it was. For outputs written in pieces.

    Example:
        >>> with atomic_open("report.csv") as fh:
        ...     _ = fh.write(b"unique_id,ds,yhat\\n")
        >>> Path("report.csv").read_text()
        'unique_id,ds,yhat\\n\'
    """
    final = written_path(path)
    if is_stream(final):  # a device or pipe has no whole-or-nothing: the bytes go straight in
        try:
            with open(final, "wb") as fh:
                yield fh
        except OSError as exc:
            raise write_error(final, exc, whole=False) from None
        return
    check_writable(final)
    tmp = temp_name(final, "tmp")
    try:
        with open(tmp, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except OSError as exc:
        raise write_error(final, exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux renameat2(RENAME_EXCHANGE); False if unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(final: Path) -> None:
    """Remove temporary directories a killed run left beside `final` (their process is gone)."""
    if not final.parent.is_dir():
        return
    for entry in final.parent.glob(f".{final.name}.*-*-*"):
        try:
            pid = int(entry.name.rsplit("-", 2)[1])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; on success it replaces `final` in one step.

    If the block raises (or the process dies), `final` is left exactly as it was and the
    temporary folder is removed (or, after a kill, removed by the next run).
    """
    final = written_path(final)
    check_parent(final)
    if final.exists() and not final.is_dir():
        raise OutputError(f"cannot write the model directory {final}: a file of that name exists. Choose another --out.")
    remove_stale_temps(final)
    tmp = temp_name(final, "tmp")
    try:
        try:
            tmp.mkdir()
            yield tmp
        except OSError as exc:  # making the folder or writing its files: a full disk, a read-only folder
            raise write_error(final, exc, "the model directory ", "choose another --out") from None
        _fsync_dir(tmp)
        if final.exists():
            if _exchange(tmp, final):
                shutil.rmtree(tmp, ignore_errors=True)
            else:  # not Linux: two renames, with the old copy kept until the new is in place
                old = temp_name(final, "old")
                os.rename(final, old)
                os.rename(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_dir(path: Path) -> None:
    for entry in [path, *path.iterdir()] if path.is_dir() else [path]:
        with contextlib.suppress(OSError):
            fd = os.open(entry, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
