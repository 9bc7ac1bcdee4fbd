"""Per-series work spread over this machine's cores: a `map` that runs on a pool of processes.

Training fits a statistical model to every series (ETS's smoothing parameters, for the validation
windows and again for the final model), one small optimisation each: about 15 ms a series, so
10,000 series cost minutes on one core while the others wait. `local_mapper` hands them to a
process pool, `SERIES_PER_TASK` series a task, in the order given, with the same results as one
process (each fit depends on its own series only). The pool starts only when a call has at least
`PARALLEL_FROM` series: starting processes (about two seconds) costs more than it saves on a
few hundred, and a nightly job on small data keeps its fast start. Progress goes to the reporter.

The pool's processes are spawned, not forked: the parent may hold TensorFlow's threads, which a
fork does not copy safely. Each is started with one thread for the numerical libraries (as Dask
starts its workers): two processes on two cores, each with OpenBLAS's two spinning threads, made
10,000 fits take 254 s instead of the 93 s of one process.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any

from forecast_cli.output import Reporter, SilentReporter

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # read once, as a process starts
SERIES_PER_TASK = 200  # series per task: enough to outweigh a task's overhead, small enough to share out evenly
PARALLEL_FROM = 1_000  # series from which a call is spread over the cores


def cores() -> int:
    """The cores this process may run on (its CPU affinity, as `taskset` or a container sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def chunks(iterables: tuple[Any, ...]) -> list[list[tuple[Any, ...]]]:
    """The calls' arguments (one tuple a series), `SERIES_PER_TASK` at a time."""
    rows = list(zip(*iterables, strict=True))
    return [rows[i:i + SERIES_PER_TASK] for i in range(0, len(rows), SERIES_PER_TASK)]


def starmap(fn: Callable[..., Any], rows: list[tuple[Any, ...]]) -> list[Any]:
    """One task: `fn` on each row of arguments."""
    return [fn(*row) for row in rows]


@contextlib.contextmanager
def _one_thread_each() -> Iterator[None]:
    """The environment of processes started meanwhile: one thread for OpenMP, OpenBLAS and MKL."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def local_mapper(processes: int | None = None, reporter: Reporter | None = None) -> Iterator[Callable[..., list[Any]]]:
    """A `map` for per-series work over `processes` processes (None: every core), its results in
    order; calls of fewer than `PARALLEL_FROM` series, or with one core, run here. The pool is
    started by the first call that needs it and shut down on exit."""
    reporter = reporter or SilentReporter()
    processes = processes or cores()
    pool: list[concurrent.futures.ProcessPoolExecutor] = []

    def mapper(fn: Callable[..., Any], *iterables: Any) -> list[Any]:
        tasks = chunks(iterables)
        n = sum(len(task) for task in tasks)
        if processes < 2 or n < PARALLEL_FROM:
            return [value for task in tasks for value in starmap(fn, task)]
        if not pool:
            pool.append(concurrent.futures.ProcessPoolExecutor(
                max_workers=processes, mp_context=multiprocessing.get_context("spawn")))
        with _one_thread_each():  # the processes start at the first submit, with this environment
            futures = {pool[0].submit(starmap, fn, task): len(task) for task in tasks}
        done = 0
        for future in concurrent.futures.as_completed(futures):
            done += futures[future]
            reporter.progress("series fitted", done, n)
        return [value for future in futures for value in future.result()]

    try:
        yield mapper
    finally:
        for executor in pool:
            executor.shutdown(cancel_futures=True)
