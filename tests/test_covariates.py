"""Covariates: extra numeric columns as past covariates, and future covariates given for the horizon."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.errors import ExitCode
from forecast_cli.windows import Covariates, fit_covariate_scalings, make_windows
from tests.conftest import TINY, make_long

runner = CliRunner()
H = 4


def _with_covariates(n_series: int = 3, length: int = 48, future: int = 0) -> pd.DataFrame:
    """make_long plus promo (0/1, drives y) and temp; `future` rows per series with an empty y."""
    frame = make_long(n_series, length + future)
    rng = np.random.default_rng(3)
    frame["promo"] = rng.integers(0, 2, len(frame))
    frame["temp"] = rng.normal(size=len(frame)).round(3)
    frame["y"] = frame["y"] + 15 * frame["promo"]
    frame["note"] = "x"  # not numbers: never a covariate
    if future:
        position = frame.groupby("unique_id").cumcount()
        frame.loc[position >= length, ["y", "temp"]] = np.nan
    return frame


@pytest.fixture(scope="module")
def future_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("covariates")
    _with_covariates(future=H).to_csv(folder / "data.csv", index=False)  # the same file trains and predicts
    # --blend 1: the network itself is under test here (a 2-epoch network may lose to seasonal
    # naive on validation, and --blend auto would then ship seasonal naive).
    result = runner.invoke(app, ["train", str(folder / "data.csv"), "-H", str(H), "--out", str(folder / "model"),
                                 "--future-covariates", "promo", "--blend", "1", *TINY])
    assert result.exit_code == 0, result.output
    return folder


def test_train_reads_past_and_future_covariates(future_model):
    manifest = json.loads((future_model / "model" / "manifest.json").read_text())
    assert manifest["config"]["past_covariates"] == ["temp"]
    assert manifest["config"]["future_covariates"] == ["promo"]
    assert set(manifest["covariates"]) == {"temp", "promo"}
    assert manifest["covariates"]["promo"]["scale"] > 0


def test_blend_auto_with_future_covariates_weighs_the_lstm_alone_against_seasonal_naive(tmp_path):
    """The statistical partner cannot see the promotions, so no blend with it is a candidate:
    the LSTM alone, or seasonal naive where validation scores the LSTM worse."""
    _with_covariates().to_csv(tmp_path / "data.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "-H", str(H), "--out", str(tmp_path / "model"),
                                 "--future-covariates", "promo", *TINY])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "model" / "manifest.json").read_text())["config"]
    scores = json.loads((tmp_path / "model" / "metrics.json").read_text())
    candidates = scores["choice"]["candidates"]
    assert set(candidates) == {"LSTM alone", "seasonal naive alone"} and "blend_scores" not in scores
    lstm_wins = candidates["LSTM alone"] <= candidates["seasonal naive alone"]
    assert (config["blend"], config["baseline"]) == ((1.0, "ets+theta") if lstm_wins else (0.0, "snaive"))


def test_predict_uses_the_future_rows(future_model, tmp_path):
    data = future_model / "data.csv"
    result = runner.invoke(app, ["predict", str(future_model / "model"), str(data), "-o", str(tmp_path / "fc.csv")])
    assert result.exit_code == 0, result.output
    assert "covariates: temp, promo" in result.stderr and "12 future row(s)" in result.stderr
    fc = pd.read_csv(tmp_path / "fc.csv")
    frame = pd.read_csv(data)
    future = frame[frame["y"].isna()]
    assert fc["ds"].tolist() == future["ds"].tolist() and len(fc) == 3 * H
    # ONNX and Keras read the same (lookback + horizon)-step inputs
    keras = runner.invoke(app, ["predict", str(future_model / "model"), str(data), "--engine", "keras"])
    np.testing.assert_allclose(fc["yhat"], pd.read_csv(__import__("io").StringIO(keras.stdout))["yhat"], rtol=1e-5)
    # the forecast depends on the future covariate: flipping promo changes it
    flipped = frame.copy()
    flipped.loc[flipped["y"].isna(), "promo"] = 1 - flipped.loc[flipped["y"].isna(), "promo"]
    flipped.to_csv(tmp_path / "flipped.csv", index=False)
    other = runner.invoke(app, ["predict", str(future_model / "model"), str(tmp_path / "flipped.csv")])
    assert other.exit_code == 0
    assert not np.allclose(fc["yhat"], pd.read_csv(__import__("io").StringIO(other.stdout))["yhat"])


def test_predict_as_of_reads_the_known_ahead_covariates_of_the_rows_after_the_cut(future_model, tmp_path):
    """A forecast replayed from a past day (`--as-of`) on the whole file: the promotions planned
    after that day are in the file's later rows, beside their actual values. They are read as a
    nightly file's planned rows are, the values not; it was an error asking for rows with the
    covariates and an empty y, which the file had. A series that began after the cut is left
    out, as without covariates."""
    frame = pd.read_csv(future_model / "data.csv").dropna(subset=["y"])  # 48 months of values each
    frame = pd.concat([frame, frame[frame["unique_id"] == "s0"].tail(3).assign(unique_id="late")])
    frame.to_csv(tmp_path / "whole.csv", index=False)
    position = frame.groupby("unique_id").cumcount()
    # As the nightly file of the cut's day looked: 36 values, then the next 4 months' promotions.
    planned = frame[(position >= 36) & (position < 40) & (frame["unique_id"] != "late")].copy()
    planned["y"], planned["temp"] = np.nan, np.nan
    day = frame[(position < 36) & (frame["unique_id"] != "late")]
    pd.concat([day, planned]).to_csv(tmp_path / "day.csv", index=False)
    as_of = day["ds"].max()
    model = str(future_model / "model")
    replayed = runner.invoke(app, ["predict", model, str(tmp_path / "whole.csv"), "--as-of", as_of])
    assert replayed.exit_code == 0, replayed.output
    nightly = runner.invoke(app, ["predict", model, str(tmp_path / "day.csv")])
    assert nightly.exit_code == 0, nightly.output
    assert replayed.stdout == nightly.stdout and "late" not in replayed.stdout
    assert pd.read_csv(__import__("io").StringIO(replayed.stdout))["ds"].min() > as_of


def test_predict_as_of_reads_the_known_ahead_covariates_of_a_file_of_one_series(tmp_path):
    """The same for a file of one series, with no id column: its rows after the cut were cut
    with the rest, and the replay failed asking for them."""
    frame = _with_covariates(n_series=1).drop(columns=["unique_id", "note"])
    frame.to_csv(tmp_path / "whole.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "whole.csv"), "-H", str(H), "--out", str(tmp_path / "m"),
                                 "--future-covariates", "promo", "--blend", "1", *TINY])
    assert result.exit_code == 0, result.output
    day = frame.head(44).copy()
    day.loc[day.index[40:], ["y", "temp"]] = np.nan  # as the file of the cut's day: 40 values, then the plans
    day.to_csv(tmp_path / "day.csv", index=False)
    replayed = runner.invoke(app, ["predict", str(tmp_path / "m"), str(tmp_path / "whole.csv"), "--as-of",
                                   frame["ds"].iloc[39]])
    assert replayed.exit_code == 0, replayed.output
    nightly = runner.invoke(app, ["predict", str(tmp_path / "m"), str(tmp_path / "day.csv")])
    assert nightly.exit_code == 0, nightly.output
    assert replayed.stdout == nightly.stdout


def test_a_covariate_of_true_and_false_reads_as_one_and_zero(future_model, tmp_path):
    """A flag written as pandas, Excel and Spark write booleans (True/FALSE/true), or a Parquet
    boolean, is the 1 and 0 it stands for: the same forecast as the file of numbers."""
    frame = pd.read_csv(future_model / "data.csv")
    expected = runner.invoke(app, ["predict", str(future_model / "model"), str(future_model / "data.csv")])
    assert expected.exit_code == 0, expected.output
    words = frame.assign(promo=frame["promo"].map({1: "True", 0: "FALSE"}))
    words.loc[::7, "promo"] = words.loc[::7, "promo"].str.lower()
    words.to_csv(tmp_path / "words.csv", index=False)
    frame.assign(promo=frame["promo"].astype(bool)).to_parquet(tmp_path / "flags.parquet", index=False)
    for path in (tmp_path / "words.csv", tmp_path / "flags.parquet"):
        result = runner.invoke(app, ["predict", str(future_model / "model"), str(path)])
        assert result.exit_code == 0, result.output
        assert result.stdout == expected.stdout
    # the values forecast are numbers still: a column of True and False there is refused, with the fix
    frame.assign(y=frame["y"] > 100).to_csv(tmp_path / "target.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "target.csv"), "-H", str(H), *TINY])
    assert result.exit_code == ExitCode.DATA
    assert "in column 'y' is not a number (True and False: a covariate may hold them" in result.stderr


@pytest.mark.parametrize("change, message", [
    (lambda f: f[f["y"].notna()], "series 's0' needs the future covariate(s) promo for the 4 steps after its last value"),
    (lambda f: f.assign(promo=f["promo"].where(~(f["y"].isna() & (f["unique_id"] == "s1")) | (f["ds"] != "2019-03-01"))),
     "series 's1' needs the future covariate(s) promo"),
    (lambda f: f.drop(columns="temp"), "no column 'temp'"),
])
def test_missing_future_values_are_named(future_model, tmp_path, change, message):
    frame = change(pd.read_csv(future_model / "data.csv"))
    frame.to_csv(tmp_path / "bad.csv", index=False)
    result = runner.invoke(app, ["predict", str(future_model / "model"), str(tmp_path / "bad.csv"),
                                 "-o", str(tmp_path / "fc.csv")])
    assert result.exit_code == ExitCode.DATA, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "fc.csv").exists()


def test_the_missing_step_is_named(future_model, tmp_path):
    frame = pd.read_csv(future_model / "data.csv")
    frame.loc[frame["y"].isna() & (frame["unique_id"] == "s1") & (frame["ds"] == "2019-03-01"), "promo"] = np.nan
    frame.to_csv(tmp_path / "bad.csv", index=False)
    result = runner.invoke(app, ["predict", str(future_model / "model"), str(tmp_path / "bad.csv")])
    assert result.exit_code == ExitCode.DATA
    assert "1 of them are missing, the first at 2019-03-01" in result.stderr


def test_detect_says_why_checking_past_values_needs_the_planned_rows(future_model, tmp_path):
    """A file of actual values only: predict and detect both need the planned rows, and detect says
    why, since it checks values the file has."""
    frame = pd.read_csv(future_model / "data.csv")
    frame[frame["y"].notna()].to_csv(tmp_path / "actuals.csv", index=False)
    result = runner.invoke(app, ["detect", str(future_model / "model"), str(tmp_path / "actuals.csv"), "--last", "2"])
    assert result.exit_code == ExitCode.DATA, result.output
    assert "series 's0' needs the future covariate(s) promo for the 3 steps" in result.stderr
    assert "Checking values needs them too" in result.stderr and "Traceback" not in result.stderr
    full = runner.invoke(app, ["detect", str(future_model / "model"), str(future_model / "data.csv"), "--last", "2"])
    assert full.exit_code == 0, full.output
    # the forecast made the step before the last value ends a step before the horizon's last
    # row: a file without that row is checked the same, one without two more is refused
    planned = frame[frame["y"].isna()].groupby("unique_id")["ds"].transform("rank")
    frame[planned.reindex(frame.index).fillna(0) < 4].to_csv(tmp_path / "three.csv", index=False)
    result = runner.invoke(app, ["detect", str(future_model / "model"), str(tmp_path / "three.csv"), "--last", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout == full.stdout
    frame[planned.reindex(frame.index).fillna(0) < 3].to_csv(tmp_path / "two.csv", index=False)
    result = runner.invoke(app, ["detect", str(future_model / "model"), str(tmp_path / "two.csv"), "--last", "2"])
    assert result.exit_code == ExitCode.DATA, result.output
    assert "needs the future covariate(s) promo for the 3 steps after its last value" in result.stderr
    assert "1 of them are missing" in result.stderr


def test_future_covariates_must_be_numeric_columns(tmp_path):
    _with_covariates().to_csv(tmp_path / "data.csv", index=False)
    # Named without --past-covariates (every other column of numbers is then a past one), each is
    # checked as a named one: the message says what is wrong with that column.
    for name, code, message in (("note", ExitCode.DATA, "'x' in column 'note' is not a number"),
                                ("price", ExitCode.USAGE, "has no column 'price', named by --past-covariates or "
                                                          "--future-covariates"),
                                ("Promo", ExitCode.USAGE, "Did you mean 'promo'?"),
                                ("y", ExitCode.USAGE, "column 'y' is the target column, so it cannot also be a covariate"),
                                ("ds", ExitCode.USAGE, "column 'ds' is the time column")):
        result = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "-H", str(H), "--out", str(tmp_path / "m"),
                                     "--future-covariates", name, *TINY])
        assert result.exit_code == code, result.output
        assert message in result.stderr and "Traceback" not in result.stderr
    result = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "-H", str(H), "--out", str(tmp_path / "m"),
                                 "--future-covariates", "promo", "--past-covariates", "promo", *TINY])
    assert result.exit_code == ExitCode.USAGE and "both past and future" in result.stderr
    assert not (tmp_path / "m").exists()


def test_past_covariates_auto_and_none(tmp_path):
    _with_covariates().to_csv(tmp_path / "data.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "-H", str(H), "--out", str(tmp_path / "m"), *TINY])
    assert result.exit_code == 0, result.output
    assert "covariates: promo, temp; ignored columns: note" in result.stderr
    assert json.loads((tmp_path / "m" / "manifest.json").read_text())["config"]["past_covariates"] == ["promo", "temp"]
    result = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "-H", str(H), "--out", str(tmp_path / "m0"),
                                 "--past-covariates", "none", *TINY])
    assert result.exit_code == 0
    assert json.loads((tmp_path / "m0" / "manifest.json").read_text())["config"]["past_covariates"] == []


def test_backtest_with_future_covariates(tmp_path):
    _with_covariates().to_csv(tmp_path / "data.csv", index=False)
    result = runner.invoke(app, ["backtest", str(tmp_path / "data.csv"), "-H", str(H), "--folds", "2",
                                 "--future-covariates", "promo", "--output-dir", str(tmp_path / "bt"), *TINY])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "bt" / "forecasts.csv")) == 2 * 3 * H


def test_future_covariate_windows_line_up_with_their_targets():
    """Each window's horizon steps carry the covariate of the very step they forecast."""
    n, lookback = 30, 5
    values = np.arange(n, dtype="float64")
    cov = Covariates({"a": np.stack([values * 0, values], axis=1)}, n_past=1, n_future=1)
    ws = make_windows({"a": values}, lookback, H, val_windows=1, window_norm="none", covariates=cov)
    scale = ws.covariate_scalings[1]
    assert ws.x_train.shape == (n - H - lookback - H + 1, lookback + H, 4)
    future_steps = scale.invert(ws.x_train[:, lookback:, 2].astype("float64"))
    targets = ws.scalings["a"].invert(ws.y_train.astype("float64"))
    np.testing.assert_allclose(future_steps, targets, atol=1e-4)
    assert (ws.x_train[:, :lookback, 3] == 0).all() and (ws.x_train[:, lookback:, 3] == 1).all()
    assert (ws.x_train[:, lookback:, :2] == 0).all()  # y and past covariates unknown ahead


def test_covariate_scaling_sees_only_training_parts():
    values = np.concatenate([np.zeros(20), np.full(H, 1e6)])
    cov = Covariates({"a": values[:, None]}, n_past=1, n_future=0)
    scaling = fit_covariate_scalings(cov, {"a": len(values)}, H, val_windows=1)[0]
    assert scaling.mean == 0.0


def test_models_from_before_covariates_still_load(trained_model, tmp_path):
    import shutil

    model_dir, data = trained_model
    old = tmp_path / "old"
    shutil.copytree(model_dir, old)
    manifest = json.loads((old / "manifest.json").read_text())
    for key in ("past_covariates", "future_covariates", "quantiles"):
        manifest["config"].pop(key)
    manifest.pop("covariates")
    (old / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["predict", str(old), str(data)])
    assert result.exit_code == 0, result.output


def test_calendar_features_need_no_extra_input(tmp_path):
    from forecast_cli.timegrid import calendar_columns, calendar_features

    assert calendar_columns("h") == ("calendar:day_sin", "calendar:day_cos", "calendar:week_sin", "calendar:week_cos")
    assert calendar_columns("YS") == ()
    times = pd.Series(pd.to_datetime(["2021-01-01", "2021-07-02", "2021-12-31"]))
    year = calendar_features(times, ("calendar:year_sin", "calendar:year_cos"))
    np.testing.assert_allclose(year.iloc[0], [0.0, 1.0], atol=1e-12)  # new year: angle 0
    assert year.iloc[1, 1] < -0.99 and year.iloc[2, 1] > 0.99  # mid-year opposite, 31 December beside it

    make_long(2, 48).to_csv(tmp_path / "data.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "-H", str(H), "--out", str(tmp_path / "m"),
                                 "--calendar", "--lr-schedule", "plateau", *TINY])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["config"]["future_covariates"] == ["calendar:year_sin", "calendar:year_cos"]
    # The time of year is what the partner's season carries: the partner and the weighted blend
    # are candidates as without --calendar (only covariates read from the file keep the LSTM alone).
    candidates = json.loads((tmp_path / "m" / "metrics.json").read_text())["choice"]["candidates"]
    assert {"LSTM alone", "ETS+Theta alone", "seasonal naive alone"} <= set(candidates), candidates
    result = runner.invoke(app, ["predict", str(tmp_path / "m"), str(tmp_path / "data.csv")])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + 2 * H
    result = runner.invoke(app, ["detect", str(tmp_path / "m"), str(tmp_path / "data.csv"), "--last", "2"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + 2 * 2


def test_calendar_needs_dates(tmp_path):
    make_long(2, 48, freq=None).to_csv(tmp_path / "steps.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "steps.csv"), "-H", str(H), "--out", str(tmp_path / "m"),
                                 "--calendar", *TINY])
    assert result.exit_code == ExitCode.USAGE and "--calendar" in result.stderr
