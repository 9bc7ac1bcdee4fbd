"""atomic.py: whole-or-nothing writes of files and folders."""

from __future__ import annotations

import os

import pytest

from forecast_cli import atomic
from forecast_cli.errors import OutputError


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f.csv"
    atomic.atomic_write_text(target, "old\n")
    atomic.atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["f.csv"]


def test_atomic_write_into_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        atomic.atomic_write_text(tmp_path / "nope" / "f.csv", "x")


def test_staged_directory_keeps_the_old_one_on_failure(tmp_path):
    final = tmp_path / "model"
    final.mkdir()
    (final / "manifest.json").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.staged_directory(final) as tmp:
            (tmp / "manifest.json").write_text("new")
            raise RuntimeError("boom")
    assert (final / "manifest.json").read_text() == "old"
    assert os.listdir(tmp_path) == ["model"]
    with atomic.staged_directory(final) as tmp:
        (tmp / "manifest.json").write_text("new")
    assert (final / "manifest.json").read_text() == "new" and os.listdir(tmp_path) == ["model"]


def test_stale_temp_of_a_dead_process_is_removed(tmp_path):
    stale = tmp_path / ".model.tmp-999999999-abcd"
    stale.mkdir()
    atomic.remove_stale_temps(tmp_path / "model")
    assert not stale.exists()


def test_a_symbolic_link_is_written_through_and_kept(tmp_path):
    """`current -> model-v1` as --out, `latest.csv -> forecast-1.csv` as --output: the new model
    and forecast land where the links point and the links stay links. A rename onto the link
    replaced it with a folder (or file) of its own and left its target as it was."""
    (tmp_path / "model-v1").mkdir()
    (tmp_path / "model-v1" / "manifest.json").write_text("old")
    (tmp_path / "current").symlink_to("model-v1")
    with atomic.staged_directory(tmp_path / "current") as tmp:
        (tmp / "manifest.json").write_text("new")
    assert (tmp_path / "current").is_symlink() and (tmp_path / "model-v1" / "manifest.json").read_text() == "new"
    (tmp_path / "forecast-1.csv").write_text("old")
    (tmp_path / "latest.csv").symlink_to("forecast-1.csv")
    atomic.atomic_write_bytes(tmp_path / "latest.csv", b"new")
    assert (tmp_path / "latest.csv").is_symlink() and (tmp_path / "forecast-1.csv").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "forecast-1.csv", "latest.csv", "model-v1"]


def test_a_backtest_that_cannot_write_one_of_its_files_leaves_the_previous_four(tmp_path):
    """backtest writes four files; each was renamed into place as soon as it was written, so a
    write failing on the third (a full disk; here a folder in its way) left two new files beside
    two old ones. Now every file is written before any is renamed."""
    import pandas as pd

    from forecast_cli.backtest import BacktestResult, write_backtest
    from forecast_cli.config import TrainConfig

    def result(value: float) -> BacktestResult:
        table = pd.DataFrame({"fold": [1], "model": ["lstm"], "mae": [value]})
        return BacktestResult(rows=table, by_fold=table, by_step=table, overall={"lstm": {"mae": value}},
                              config=TrainConfig(horizon=1), history={}, times={})

    folder = tmp_path / "backtest"
    write_backtest(result(1.0), folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(before) == ["backtest.json", "folds.csv", "forecasts.csv", "steps.csv"]
    (folder / "steps.csv").unlink()
    (folder / "steps.csv").mkdir()  # the third file cannot be written
    with pytest.raises(OutputError):
        write_backtest(result(2.0), folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == {
        name: data for name, data in before.items() if name != "steps.csv"}
    assert sorted(p.name for p in folder.iterdir()) == sorted(before)  # no temporary file left
