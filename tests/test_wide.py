"""Files with one column per series (`--wide`: date,north,south,...): read as the long file they
stand for, trained, forecast, checked, scored and refused where they do not fit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.data import load_series
from forecast_cli.errors import DataError, ExitCode, UsageError
from tests.conftest import TINY, make_long

runner = CliRunner()


def _wide(length: int = 48) -> pd.DataFrame:
    """make_long's three series as columns north, south and east beside a date column."""
    long = make_long(3, length)
    wide = long.pivot(index="ds", columns="unique_id", values="y").reset_index()
    wide.columns.name = None
    return wide.rename(columns={"ds": "date", "s0": "north", "s1": "south", "s2": "east"})


def _invoke(*args, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def test_a_wide_file_reads_as_the_long_file_it_stands_for(tmp_path):
    wide = _wide()
    wide["note"] = ["closed" if i == 5 else None for i in range(len(wide))]  # text only: not a series
    wide.loc[:5, "east"] = np.nan  # opened later: the series starts at its first value
    wide.loc[45:, "south"] = np.nan  # not yet reported: it ends at its last
    wide.loc[20, "north"] = np.nan  # a gap inside: filled like any missing value
    wide.to_csv(tmp_path / "wide.csv", index=False)
    ds = load_series(tmp_path / "wide.csv", wide=True)
    assert ds.columns.series == ("north", "south", "east") and ds.columns.time_col == "date"
    assert ds.columns.ignored == ("note",) and ds.filled == 1 and ds.freq == "MS"
    lengths = ds.frame.groupby("unique_id").size().to_dict()
    assert lengths == {"east": 42, "north": 48, "south": 45}
    east = ds.frame[ds.frame["unique_id"] == "east"]
    assert east["ds"].iloc[0] == wide["date"].iloc[6] and east["y"].iloc[0] == wide["east"].iloc[6]
    described = ds.describe()
    assert "3 series (wide: one column each)" in described and "series=north, south, east" in described
    assert "ignored columns: note" in described
    # Its long form, every date a row, the empty cells empty values: the same series, the empty
    # rows before 'east' opened left out (they were filled back from its first value, a flat
    # history that never was) and those after 'south' last reported set aside.
    long = wide.drop(columns="note").melt(id_vars="date", var_name="unique_id", value_name="y")
    long.to_csv(tmp_path / "long.csv", index=False)
    from_long = load_series(tmp_path / "long.csv", split_future=True)
    assert from_long.frame.groupby("unique_id").size().to_dict() == lengths
    pd.testing.assert_frame_equal(from_long.frame.sort_values(["unique_id", "ds"]).reset_index(drop=True),
                                  ds.frame.sort_values(["unique_id", "ds"]).reset_index(drop=True))
    assert "6 empty row(s) before the first values left out" in from_long.describe()


def test_train_and_predict_on_a_wide_file_forecast_each_column(tmp_path):
    """The same forecasts, byte for byte, as training on the long file made from it: --wide
    changes how the file is read, nothing else. The model directory names the series columns,
    and predict reads a later wide file by them."""
    wide = _wide()
    wide.to_csv(tmp_path / "wide.csv", index=False)
    long = wide.melt(id_vars="date", var_name="unique_id", value_name="y")
    long.to_csv(tmp_path / "long.csv", index=False)
    _invoke("train", tmp_path / "wide.csv", "--wide", "--horizon", 4, "--out", tmp_path / "mw", *TINY, "--quiet")
    _invoke("train", tmp_path / "long.csv", "--horizon", 4, "--out", tmp_path / "ml", *TINY, "--quiet")
    from_wide = _invoke("predict", tmp_path / "mw", tmp_path / "wide.csv").stdout
    from_long = _invoke("predict", tmp_path / "ml", tmp_path / "long.csv").stdout
    assert from_wide == from_long
    forecast = pd.read_csv(pd.io.common.StringIO(from_wide))
    assert sorted(forecast["unique_id"].unique()) == ["east", "north", "south"]
    assert forecast["ds"].iloc[0] == "2019-01-01" and len(forecast) == 12
    manifest = json.loads((tmp_path / "mw" / "manifest.json").read_text())
    assert manifest["columns"]["series"] == ["north", "south", "east"]
    assert "series" not in json.loads((tmp_path / "ml" / "manifest.json").read_text())["columns"]
    shown = _invoke("inspect", tmp_path / "mw").stderr
    assert "time='date', series=north, south, east (wide: one column per series)" in shown
    flagged = _invoke("detect", tmp_path / "mw", tmp_path / "wide.csv", "--quiet").stdout
    assert set(pd.read_csv(pd.io.common.StringIO(flagged))["unique_id"]) == {"east", "north", "south"}
    # A column with no values yet (a store not yet reporting) has no forecast, as a series with no
    # rows in a long file; the others are forecast as before.
    wide.assign(east=np.nan).to_csv(tmp_path / "east-empty.csv", index=False)
    without_east = _invoke("predict", tmp_path / "mw", tmp_path / "east-empty.csv").stdout
    assert without_east == "".join(line for line in from_wide.splitlines(keepends=True) if not line.startswith("east,"))
    # As in long format, a later file's series are its own: a column gone is a series not
    # forecast, a new column a new series scaled from its own history; the others are unchanged.
    wide.drop(columns="east").assign(west=wide["east"] * 2, note="x").to_csv(tmp_path / "later.csv", index=False)
    later = _invoke("predict", tmp_path / "mw", tmp_path / "later.csv")
    assert "1 series not seen in training (e.g. 'west')" in later.stderr
    lines = later.stdout.splitlines(keepends=True)
    assert "".join(line for line in lines if not line.startswith("west,")) == without_east
    assert sum(line.startswith("west,") for line in lines) == 4
    wide.rename(columns={"date": "month"}).to_csv(tmp_path / "renamed.csv", index=False)
    refused = _invoke("predict", tmp_path / "mw", tmp_path / "renamed.csv", code=ExitCode.DATA)
    assert "with the time in 'date', as the model was trained on (--wide; columns: month, north" in refused.stderr
    long_later = _invoke("predict", tmp_path / "mw", tmp_path / "long.csv", code=ExitCode.DATA)
    assert "is not a file of one column per series" in long_later.stderr


def test_evaluate_and_doctor_read_wide_files(tmp_path):
    wide = _wide(52)
    wide.iloc[:48].to_csv(tmp_path / "history.csv", index=False)
    wide.iloc[48:].to_csv(tmp_path / "actuals.csv", index=False)
    forecast = wide.iloc[48:].melt(id_vars="date", var_name="unique_id", value_name="yhat").rename(columns={"date": "ds"})
    forecast["yhat"] += 1.0
    forecast.to_csv(tmp_path / "forecast.csv", index=False)
    scored = _invoke("evaluate", tmp_path / "forecast.csv", tmp_path / "actuals.csv", "--wide",
                     "--history", tmp_path / "history.csv", "--json")
    summary = json.loads(scored.stdout)
    assert summary["matched"] == 12 and summary["overall"]["mae"] == pytest.approx(1.0)
    assert summary["overall"]["mase"] > 0
    report = _invoke("doctor", tmp_path / "history.csv", "--wide", "--horizon", 4).stderr
    assert "3 series (wide: one column each), 144 rows" in report


def test_a_file_of_several_columns_points_to_wide(tmp_path):
    _wide().to_csv(tmp_path / "wide.csv", index=False)
    refused = _invoke("train", tmp_path / "wide.csv", "--horizon", 4, code=ExitCode.USAGE)
    assert "several candidate target columns (north, south, east)" in refused.stderr
    assert "pass --wide" in refused.stderr


@pytest.mark.parametrize("change, flags, error, message", [
    (lambda w: w.assign(north=w["north"].astype(str).where(w.index != 7, "12,5")), (), DataError,
     r"line 9: '12,5' in column 'north' is not a number \(a decimal comma"),
    (lambda w: w.rename(columns={"north": "unique_id"}), (), UsageError, "in long format.*Drop --wide"),
    (lambda w: w, {"target_col": "north"}, UsageError, "--target-col has no column to name"),
    (lambda w: w, {"covariates": ("north",)}, UsageError, "none is left to be a covariate"),
    (lambda w: w.assign(north="x", south="y", east="z"), (), DataError, "no column of numbers beside its time column"),
    (lambda w: pd.concat([w, w.iloc[[3]]]), (), DataError, r"series 'east' has the timestamp 2015-04-01.*lines 5, 50"),
])
def test_wide_files_that_do_not_fit_are_refused_where_they_go_wrong(tmp_path, change, flags, error, message):
    change(_wide()).to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(error, match=message):
        load_series(tmp_path / "wide.csv", wide=True, **dict(flags))
