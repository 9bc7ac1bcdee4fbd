"""Per-series work spread over this machine's cores: a `map` that runs on a pool of processes.

Training fits a statistical model to every series (ETS's smoothing parameters, for the validation
windows and again for the final model), one small optimisation each: about 15 ms a series, so
10,000 series cost minutes on one core while the others wait. `local_mapper` hands them to a
process pool, `SERIES_PER_TASK` series a task, in the order given, with the same results as one
process (each fit depends on its own series only). The pool starts only when a call has at least
`PARALLEL_FROM` series: starting processes (about two seconds) costs more than it saves on a
few hundred, and a nightly job on small data keeps its fast start. Progress goes to the reporter.
Between `AHEAD_FROM` and `PARALLEL_FROM` series the fits can start while the network trains, in
one process beside it (`LocalMapper.ahead`).

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

import numpy as np

from forecast_cli.output import Reporter, SilentReporter

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # read once, as a process starts
SERIES_PER_TASK = 200  # series per task: enough to outweigh a task's overhead, small enough to share out evenly
PARALLEL_FROM = 1_000  # series from which a call is spread over the cores
AHEAD_FROM = 100  # series from which a call started ahead is worth a process (up to PARALLEL_FROM)


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


class LocalMapper:
    """A `map` for per-series work over `processes` processes, its results in order; calls of
    fewer than `PARALLEL_FROM` series, or with one core, run here. The pool is started by the
    first call that needs it.

    `ahead(fn, *iterables)` starts a call before it is made, in one process beside this one:
    training's network keeps about one core of two busy, and the ETS fits that follow it (the
    validation's and the final model's, which do not depend on the network) can run on the
    other meanwhile. The call made later with the same function and the same arguments (the
    same arrays, equal other values) takes those results; the tasks that have not started by
    then are run as any call would be. Calls of fewer than `AHEAD_FROM` series, or with one core,
    are not started ahead; nor are calls of `PARALLEL_FROM` series or more, which the pool spreads
    over every core after the network: beside it, the 20,000 fits of 10,000 series (validation
    and final) took the network's second core for minutes and slowed it by a quarter
    (bench/RESULTS.md)."""

    def __init__(self, processes: int | None = None, reporter: Reporter | None = None) -> None:
        self.processes = processes or cores()
        self.reporter = reporter or SilentReporter()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._beside: concurrent.futures.ProcessPoolExecutor | None = None
        self._started: list[tuple[Callable[..., Any], list[list[Any]], list[concurrent.futures.Future]]] = []

    def __call__(self, fn: Callable[..., Any], *iterables: Any) -> list[Any]:
        args = [list(values) for values in iterables]
        for job in self._started:
            if job[0] is fn and _same(job[1], args):
                self._started.remove(job)
                return self._collect(fn, job[2], chunks(tuple(args)))
        return self._map(fn, chunks(tuple(args)))

    def ahead(self, fn: Callable[..., Any], *iterables: Any) -> None:
        args = [list(values) for values in iterables]
        if self.processes < 2 or not AHEAD_FROM <= len(args[0]) < PARALLEL_FROM:
            return
        if self._beside is None:
            self._beside = _spawn(1)
        with _one_thread_each():
            futures = [self._beside.submit(starmap, fn, task) for task in chunks(tuple(args))]
        self._started.append((fn, args, futures))

    def close(self) -> None:
        for executor in (self._pool, self._beside):
            if executor is not None:
                executor.shutdown(cancel_futures=True)

    def _map(self, fn: Callable[..., Any], tasks: list[list[tuple[Any, ...]]]) -> list[Any]:
        n = sum(len(task) for task in tasks)
        if self.processes < 2 or n < PARALLEL_FROM:
            return [value for task in tasks for value in starmap(fn, task)]
        if self._pool is None:
            self._pool = _spawn(self.processes)
        with _one_thread_each():  # the processes start at the first submit, with this environment
            futures = {self._pool.submit(starmap, fn, task): len(task) for task in tasks}
        done = 0
        for future in concurrent.futures.as_completed(futures):
            done += futures[future]
            self.reporter.progress("series fitted", done, n)
        return [value for future in futures for value in future.result()]

    def _collect(self, fn: Callable[..., Any], futures: list[concurrent.futures.Future],
                 tasks: list[list[tuple[Any, ...]]]) -> list[Any]:
        """The results of a call started ahead: the tasks not yet begun are taken back and run
        here now (a call started ahead has fewer than `PARALLEL_FROM` series), the others awaited."""
        left = [i for i, future in enumerate(futures) if future.cancel()]
        rerun = iter(self._map(fn, [tasks[i] for i in left])) if left else iter(())
        results: list[Any] = []
        for i, future in enumerate(futures):
            results += [next(rerun) for _ in tasks[i]] if i in left else future.result()
        return results


def _spawn(processes: int) -> concurrent.futures.ProcessPoolExecutor:
    return concurrent.futures.ProcessPoolExecutor(max_workers=processes,
                                                  mp_context=multiprocessing.get_context("spawn"))


def _same(a: list[list[Any]], b: list[list[Any]]) -> bool:
    """Whether two calls' arguments are the same: the same array objects, equal other values."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        return False
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            if u is v:
                continue
            if isinstance(u, np.ndarray) or isinstance(v, np.ndarray) or type(u) is not type(v) or u != v:
                return False
    return True


@contextlib.contextmanager
def local_mapper(processes: int | None = None, reporter: Reporter | None = None) -> Iterator[LocalMapper]:
    """A `LocalMapper` over `processes` processes (None: every core), its pools shut down on exit."""
    mapper = LocalMapper(processes, reporter)
    try:
        yield mapper
    finally:
        mapper.close()
