"""The tool's own errors and the exit code each one means (the only place exit codes live)."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes; documented in the README's "Exit codes" table (cron depends on them)."""

    OK = 0
    INTERNAL = 1  # a bug: the traceback is shown so it can be reported
    USAGE = 2  # a bad flag or flag value (also what Typer/Click use for usage errors)
    DATA = 3  # the input CSV cannot be used as it is
    MODEL = 4  # the model directory is missing, damaged, unsafe or from a newer version
    OUTPUT = 5  # an output path cannot be written
    LOCKED = 6  # another run holds the lock and --lock-timeout ran out
    PARTIAL = 7  # several input files: at least one failed, the others were written
    ANOMALY = 8  # detect --fail-on-anomaly found an anomaly (or --fail-on-late a late series); outputs written
    CLUSTER = 9  # --workers/--dask: the scheduler cannot be reached, or Dask gave a task up after its workers kept dying
    INTERRUPTED = 130  # Ctrl-C or SIGTERM
    CLOSED = 141  # stdout's reader went away (`| head`): the data was cut short, as a shell reports SIGPIPE


# Each code in a few words, for `forecast --help` (the README's table says more).
MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.INTERNAL: "a bug (its traceback is shown): report it",
    ExitCode.USAGE: "bad usage: an unknown flag or a bad flag value",
    ExitCode.DATA: "bad input data",
    ExitCode.MODEL: "the model directory is missing, damaged, unsafe or newer",
    ExitCode.OUTPUT: "an output cannot be written",
    ExitCode.LOCKED: "another run holds the lock (--lock-timeout ran out)",
    ExitCode.PARTIAL: "several inputs: some failed, the others were written",
    ExitCode.ANOMALY: "detect --fail-on-anomaly found anomalies, or --fail-on-late a late series (outputs written)",
    ExitCode.CLUSTER: "--workers/--dask: the cluster failed",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C, SIGTERM)",
    ExitCode.CLOSED: "stdout closed by its reader (| head): the data was cut short",
}


class ForecastError(Exception):
    """A user-facing error: its message says what was received, what was expected and the fix."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(ForecastError):
    exit_code = ExitCode.USAGE


class DataError(ForecastError):
    exit_code = ExitCode.DATA


class ModelDirError(ForecastError):
    exit_code = ExitCode.MODEL


class OutputError(ForecastError):
    exit_code = ExitCode.OUTPUT


class LockTimeoutError(ForecastError):
    exit_code = ExitCode.LOCKED


class ClusterError(ForecastError):
    exit_code = ExitCode.CLUSTER
