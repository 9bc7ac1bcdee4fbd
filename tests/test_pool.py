"""pool.py: train's (and backtest's) per-series fits spread over this machine's cores give the same results, with progress."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from forecast_cli import baselines, pool
from forecast_cli.cli import app
from forecast_cli.output import ConsoleReporter
from tests.conftest import TINY, make_long

runner = CliRunner()


class Recorder:
    def __init__(self):
        self.calls = []

    def progress(self, what, done, total):
        self.calls.append((what, done, total))


def test_the_pool_gives_the_fits_of_one_process_in_order_and_reports_progress(monkeypatch):
    rng = np.random.default_rng(2)
    histories = [50 + np.cumsum(rng.normal(size=int(rng.integers(30, 60)))) for _ in range(45)]
    alone = baselines.forecasts(histories, 6, 12, "ets")
    monkeypatch.setattr(pool, "SERIES_PER_TASK", 10)
    monkeypatch.setattr(pool, "PARALLEL_FROM", 20)
    recorder = Recorder()
    with pool.local_mapper(processes=2, reporter=recorder) as mapper:
        spread = baselines.forecasts(histories, 6, 12, "ets", mapper=mapper)
    assert np.array_equal(spread, alone, equal_nan=True)
    assert [done for _, done, _ in recorder.calls] == sorted(done for _, done, _ in recorder.calls)
    assert recorder.calls[-1] == ("series fitted", 45, 45) and len(recorder.calls) == 5  # one a task


def test_few_series_or_one_core_never_start_a_pool(monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started")

    monkeypatch.setattr(pool.concurrent.futures, "ProcessPoolExecutor", no_pool)
    histories = [np.arange(30.0) + k for k in range(5)]
    with pool.local_mapper(processes=2) as mapper:
        assert len(baselines.forecasts(histories, 3, 1, "ets", mapper=mapper)) == 5
    monkeypatch.setattr(pool, "PARALLEL_FROM", 1)
    with pool.local_mapper(processes=1) as mapper:
        assert len(baselines.forecasts(histories, 3, 1, "ets", mapper=mapper)) == 5


def test_progress_without_a_terminal_is_a_line_a_quarter(capsys):
    reporter = ConsoleReporter()
    for done in range(10, 101, 10):
        reporter.progress("series fitted", done, 100)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["series fitted: 30/100", "series fitted: 50/100", "series fitted: 80/100", "series fitted: 100/100"]
    for done in range(10, 41, 10):  # the same work again (train's final fits after the validation's)
        reporter.progress("series fitted", done, 40)
    assert capsys.readouterr().err.splitlines() == [f"series fitted: {d}/40" for d in (10, 20, 30, 40)]
    ConsoleReporter(quiet=True).progress("series fitted", 100, 100)
    assert capsys.readouterr().err == ""


def _alone_then_spread(args: list[str], out_flag: str, tmp_path, monkeypatch) -> None:
    """Run a command of 24 series into `alone` in one process, then into `spread` with its fits
    in a pool of two (from 10 series, 5 a task), which must report them."""
    assert runner.invoke(app, [*args, out_flag, str(tmp_path / "alone"), "--quiet"]).exit_code == 0
    monkeypatch.setattr(pool, "PARALLEL_FROM", 10)
    monkeypatch.setattr(pool, "SERIES_PER_TASK", 5)
    monkeypatch.setattr(pool, "cores", lambda: 2)
    result = runner.invoke(app, [*args, out_flag, str(tmp_path / "spread")])
    assert result.exit_code == 0, result.output
    assert "series fitted: 24/24" in result.stderr


@pytest.mark.slow
def test_train_spreads_its_fits_over_the_cores_and_gives_the_same_model(tmp_path, monkeypatch):
    frame = make_long(24, 40, seed=8)
    frame.to_csv(tmp_path / "data.csv", index=False)
    _alone_then_spread(["train", str(tmp_path / "data.csv"), "--horizon", "4", *TINY, "--baseline", "ets"], "--out",
                       tmp_path, monkeypatch)
    alone, spread = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("alone", "spread"))
    assert all(entry.get("ets") for entry in spread["series"].values()), "no ETS fit: the test tested nothing"
    assert alone["config"] == spread["config"] and alone["series"] == spread["series"]


@pytest.mark.slow
def test_backtest_spreads_each_folds_fits_over_the_cores_and_gives_the_same_scores(tmp_path, monkeypatch):
    """backtest trains each fold as train does, its per-series fits in the pool: the same
    forecasts and scores, byte for byte, as one process."""
    make_long(24, 44, seed=8).to_csv(tmp_path / "data.csv", index=False)
    _alone_then_spread(["backtest", str(tmp_path / "data.csv"), "--horizon", "4", "--folds", "2", *TINY],
                       "--output-dir", tmp_path, monkeypatch)
    summary = json.loads((tmp_path / "spread" / "backtest.json").read_text())
    assert summary["config"]["baseline"] == "ets+theta" and min(summary["blend_weights"]) < 1, "the fits unused"
    for name in ("forecasts.csv", "backtest.json"):
        assert (tmp_path / "alone" / name).read_bytes() == (tmp_path / "spread" / name).read_bytes(), name


def test_the_pool_processes_run_one_numerical_thread_each(monkeypatch):
    """Two processes with two OpenBLAS threads each on two cores ran slower than one process:
    the pool starts its processes with one thread each, and leaves this process's setting alone."""
    import os

    monkeypatch.setattr(pool, "PARALLEL_FROM", 4)
    monkeypatch.setattr(pool, "SERIES_PER_TASK", 2)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with pool.local_mapper(processes=2) as mapper:
        seen = mapper(os.getenv, ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"])
    assert seen == ["1", "1", "1", "1"] and "OPENBLAS_NUM_THREADS" not in os.environ


def test_a_call_started_ahead_is_taken_by_the_same_call_with_its_results_in_order(monkeypatch):
    monkeypatch.setattr(pool, "AHEAD_FROM", 2)
    monkeypatch.setattr(pool, "SERIES_PER_TASK", 3)
    rng = np.random.default_rng(4)
    histories = [50 + np.cumsum(rng.normal(size=40)) for _ in range(7)]
    alone = baselines.forecasts(histories, 6, 12, "ets")
    with pool.local_mapper(processes=2) as mapper:
        mapper.ahead(*baselines.calls(histories, 6, 12, "ets"))
        mapper._started[0][2][-1].result()  # every task has run in the process beside this one
        assert np.array_equal(baselines.forecasts(histories, 6, 12, "ets", mapper=mapper), alone, equal_nan=True)
        assert mapper._started == []  # taken, not fitted again


def test_a_call_made_before_its_ahead_tasks_began_runs_them_here(monkeypatch):
    """Tasks still waiting for the process beside are taken back and run as any call; the
    environment variable set only in that process says which ran where."""
    import os

    monkeypatch.setattr(pool, "AHEAD_FROM", 2)
    monkeypatch.setattr(pool, "SERIES_PER_TASK", 1)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    names = ["OPENBLAS_NUM_THREADS"] * 8
    with pool.local_mapper(processes=2) as mapper:
        mapper.ahead(os.getenv, names)
        seen = mapper(os.getenv, names)
    assert len(seen) == 8 and None in seen  # at most the first two had been handed to the process
    assert set(seen) <= {None, "1"}


def test_other_arguments_than_the_ahead_call_are_computed_as_asked(monkeypatch):
    monkeypatch.setattr(pool, "AHEAD_FROM", 2)
    a, b = np.arange(12.0), np.arange(12.0)
    with pool.local_mapper(processes=2) as mapper:
        mapper.ahead(np.sum, [a, a])
        assert mapper(np.sum, [a, b]) == [66.0, 66.0]  # b equals a but is another array: not the call
        assert len(mapper._started) == 1
        assert mapper(np.sum, [a, a]) == [66.0, 66.0] and mapper._started == []
    monkeypatch.setattr(pool, "PARALLEL_FROM", 3)
    with pool.local_mapper(processes=2) as mapper:
        mapper.ahead(np.sum, [a])  # fewer than AHEAD_FROM: not worth a process
        mapper.ahead(np.sum, [a, a, a])  # PARALLEL_FROM or more: over every core, after the network
        assert mapper._started == [] and mapper._beside is None


@pytest.mark.slow
def test_train_fits_ets_beside_the_network_and_gives_the_same_model(tmp_path, monkeypatch):
    frame = make_long(24, 40, seed=8)
    frame.to_csv(tmp_path / "data.csv", index=False)
    args = ["train", str(tmp_path / "data.csv"), "--horizon", "4", *TINY, "--baseline", "ets", "--blend", "0.5"]
    assert runner.invoke(app, [*args, "--out", str(tmp_path / "alone"), "--quiet"]).exit_code == 0
    monkeypatch.setattr(pool, "AHEAD_FROM", 10)
    monkeypatch.setattr(pool, "cores", lambda: 2)
    taken = []
    collect = pool.LocalMapper._collect
    monkeypatch.setattr(pool.LocalMapper, "_collect", lambda self, fn, *rest: taken.append(fn) or collect(self, fn, *rest))
    assert runner.invoke(app, [*args, "--out", str(tmp_path / "ahead"), "--quiet"]).exit_code == 0
    assert taken == [baselines.ets, baselines.fit_ets]  # the validation's fits, then the final model's
    alone, ahead = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("alone", "ahead"))
    assert all(entry.get("ets") for entry in ahead["series"].values()), "no ETS fit: the test tested nothing"
    assert alone["config"] == ahead["config"] and alone["series"] == ahead["series"]
    assert (tmp_path / "alone" / "metrics.json").read_text() == (tmp_path / "ahead" / "metrics.json").read_text()
