"""Shared fixtures: tiny CSV files made on the fly, and a tiny trained model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pytest_configure(config):
    """With test processes (pytest-xdist, one per core): one thread each for the numerical
    libraries in them and in the processes they start (Dask workers, the CLI in a subprocess), as
    the tool itself gives TensorFlow one (`model.keras_module`). Set here, in the process that
    starts them, before they start: NumPy's thread pool is made as NumPy is imported, which a
    plugin does before this file loads in a test process. With their default pools (and
    TensorFlow's, before the tool set its own), two test processes on two cores each ran threads
    for both cores and waited on each other: the suite took 987 s to 1,046 s on 2 cores, and
    889 s so (866 tests, the same results)."""
    if getattr(config.option, "numprocesses", None) and not os.environ.get("PYTEST_XDIST_WORKER"):
        for name in ONE_THREAD:
            os.environ.setdefault(name, "1")


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pyproject's addopts): one test process per core, at most four. Most tests
    train a network, which keeps about one core busy, so two processes on two cores halve the
    suite's time; each process holds its own TensorFlow (about half a GB), and the cluster tests
    start two Dask workers besides, so more than four buys little and costs memory."""
    return max(1, min(4, os.cpu_count() or 1))


ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

# Flags that keep a test model tiny and quick.
TINY = ["--epochs", "2", "--units", "8", "--lookback", "8", "--patience", "1", "--no-refit"]


def make_long(n_series: int = 3, length: int = 48, freq: str = "MS", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_series):
        t = np.arange(length)
        y = 100 + 10 * k + 0.5 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, length)
        ds = pd.date_range("2015-01-01", periods=length, freq=freq) if freq else np.arange(1, length + 1)
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y.round(3)}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def long_csv(tmp_path: Path) -> Path:
    path = tmp_path / "long.csv"
    make_long().to_csv(path, index=False)
    return path


@pytest.fixture
def single_csv(tmp_path: Path) -> Path:
    path = tmp_path / "single.csv"
    frame = make_long(1, 60)
    frame[["ds", "y"]].rename(columns={"ds": "month", "y": "sales"}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny model trained once per test session: (model_dir, data_csv)."""
    from typer.testing import CliRunner

    from forecast_cli.cli import app

    folder = tmp_path_factory.mktemp("trained")
    data = folder / "long.csv"
    make_long().to_csv(data, index=False)
    result = CliRunner().invoke(app, ["train", str(data), "--horizon", "4", "--out", str(folder / "model"), *TINY])
    assert result.exit_code == 0, result.output
    return folder / "model", data
