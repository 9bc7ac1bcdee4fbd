"""Predicting many files in one process: input expansion, output naming, locking, per-file results."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import time
from pathlib import Path
from typing import Iterator

from forecast_cli.errors import DataError, ForecastError, LockTimeoutError, OutputError


@dataclasses.dataclass
class FileResult:
    """What happened to one input file; `--json` prints a list of these."""

    input: str
    output: str | None
    status: str = "ok"  # or "error"
    series: int = 0
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    exit_code: int = 0


def expand_inputs(patterns: list[str]) -> list[Path]:
    """Each argument as a path, or the files a glob pattern matches (sorted, no repeats).

    Example:
        >>> expand_inputs(["incoming/*.csv"])
        [PosixPath('incoming/a.csv'), PosixPath('incoming/b.csv')]
    """
    paths: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(Path(m) for m in glob.glob(pattern) if Path(m).is_file())
            if not matches:
                raise DataError(f"no file matches {pattern!r}. Check the pattern and the folder.")
            paths.extend(matches)
        else:
            paths.append(Path(pattern))
    seen: set[Path] = set()
    return [p for p in paths if not (p in seen or seen.add(p))]


def output_for(input_path: Path, output_dir: Path) -> Path:
    """The forecast file written for an input: `<output_dir>/<input stem>.forecast.csv`."""
    return output_dir / f"{input_path.stem}.forecast.csv"


def lock_path_for(output: Path) -> Path:
    """The lock file guarding an output file or folder (hidden, beside or inside it)."""
    if output.is_dir():
        return output / ".forecast.lock"
    return output.with_name(f".{output.name}.lock")


@contextlib.contextmanager
def exclusive_lock(output: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on `output` so overlapping runs never interleave their writes.

    Waits up to `timeout` seconds for another run to finish, then raises LockTimeoutError.
    """
    from filelock import FileLock, Timeout

    path = lock_path_for(output)
    try:
        lock = FileLock(str(path), timeout=timeout)
        lock.acquire()
    except Timeout:
        raise LockTimeoutError(
            f"another forecast run holds the lock on {output} ({path}); waited {timeout:g}s. "
            "Let it finish, or raise --lock-timeout."
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot create the lock file {path}: {exc.strerror}. Choose another output path.") from None
    try:
        yield
    finally:
        lock.release()


def timed(result: FileResult, started: float) -> FileResult:
    result.seconds = round(time.monotonic() - started, 3)
    return result


def failed(result: FileResult, exc: ForecastError) -> FileResult:
    result.status, result.error, result.exit_code = "error", " ".join(str(exc).split()), int(exc.exit_code)
    return result
