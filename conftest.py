"""The worked examples in forecast_cli's docstrings run as tests (`--doctest-modules`, set in
pyproject.toml): each in a scratch folder holding the files they name, so that an example that
no longer works fails the suite instead of misleading its reader.

The folder, made once a session:
    sample_data/        the bundled sample files
    history.csv         airpassengers.csv without its last 12 months
    actuals.csv         those 12 months
    model/              a small model trained on history.csv (horizon 12, one epoch, 8 units)
    forecast.csv        that model's forecast of the 12 months
    incoming/a.csv, b.csv   files for the batch examples
    data/               history.csv as a Parquet folder of two parts
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def example_folder(tmp_path_factory) -> Path:
    from forecast_cli.config import TrainConfig
    from forecast_cli.pipeline import predict, train

    work = tmp_path_factory.mktemp("examples")
    shutil.copytree(ROOT / "sample_data", work / "sample_data")
    passengers = pd.read_csv(ROOT / "sample_data" / "airpassengers.csv")
    passengers.iloc[:-12].to_csv(work / "history.csv", index=False)
    passengers.iloc[-12:].to_csv(work / "actuals.csv", index=False)
    train(work / "history.csv", TrainConfig(horizon=12, epochs=1, units=8), out=work / "model")
    predict(work / "model", work / "history.csv").to_csv(work / "forecast.csv", index=False)
    (work / "incoming").mkdir()
    for name in ("a", "b"):
        passengers.to_csv(work / "incoming" / f"{name}.csv", index=False)
    (work / "data").mkdir()
    history = passengers.iloc[:-12].assign(month=lambda f: pd.to_datetime(f["month"]))
    history.iloc[:66].to_parquet(work / "data" / "part-0.parquet", index=False)
    history.iloc[66:].to_parquet(work / "data" / "part-1.parquet", index=False)
    return work


@pytest.fixture(autouse=True)
def _examples_run_in_their_folder(request, doctest_namespace, monkeypatch):
    """For docstring examples only: work in the example folder, with numpy, pandas and Path at hand."""
    if not isinstance(request.node, pytest.DoctestItem):
        return
    monkeypatch.chdir(request.getfixturevalue("example_folder"))
    doctest_namespace.update(np=np, pd=pd, Path=Path)
