"""Each training and predict flag does what its help says: recorded in the model, and visible in what it makes."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import TINY, make_long
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.data import load_series
from forecast_cli.errors import ExitCode

runner = CliRunner()


def _train(data, out, *flags):
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(out), *TINY, *flags])
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text()), result


def _with_gap(tmp_path):
    """Two series; s0's value at 2015-06-01 is empty and its 2016-01-01 row is missing."""
    frame = make_long(2, 36)
    frame.loc[5, "y"] = np.nan
    frame = frame.drop(index=12)
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    return path, make_long(2, 36)


@pytest.mark.parametrize("fill", ["ffill", "zero", "interpolate"])
def test_fill_fills_missing_values_and_timestamps_as_named(tmp_path, fill):
    path, whole = _with_gap(tmp_path)
    s0 = load_series(path, fill=fill).frame.query("unique_id == 's0'")["y"].to_numpy()
    y = whole.query("unique_id == 's0'")["y"].to_numpy()
    expected = {"ffill": (y[4], y[11]), "zero": (0.0, 0.0),
                "interpolate": ((y[4] + y[6]) / 2, (y[11] + y[13]) / 2)}[fill]
    np.testing.assert_allclose((s0[5], s0[12]), expected)
    manifest, _ = _train(path, tmp_path / "model", "--fill", fill)
    assert manifest["config"]["fill"] == fill  # predict fills its input the same way


def test_fill_none_refuses_gaps(tmp_path):
    path, whole = _with_gap(tmp_path)
    result = runner.invoke(app, ["train", str(path), "--horizon", "4", "--fill", "none", *TINY])
    assert result.exit_code == ExitCode.DATA and "series 's0' has 2 missing value(s)" in result.stderr
    assert "choose --fill interpolate" in result.stderr
    # A model trained so refuses a later file's gaps too, and predict has no --fill to choose.
    whole.to_csv(tmp_path / "whole.csv", index=False)
    _train(tmp_path / "whole.csv", tmp_path / "model", "--fill", "none")
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(path)])
    assert result.exit_code == ExitCode.DATA and "series 's0' has 2 missing value(s)" in result.stderr
    assert "The model was trained with --fill none" in result.stderr and "choose --fill" not in result.stderr


@pytest.mark.parametrize("norm", ["none", "last", "snaive"])
def test_window_norm_is_recorded_and_used_at_predict(long_csv, tmp_path, norm):
    manifest, _ = _train(long_csv, tmp_path / "model", "--window-norm", norm)
    assert manifest["config"]["window_norm"] == norm
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(long_csv)])
    assert result.exit_code == 0 and len(pd.read_csv(pd.io.common.StringIO(result.stdout))) == 12


@pytest.mark.parametrize(("loss", "keras_name"), [("mse", "MeanSquaredError"), ("huber", "Huber")])
def test_loss_choice_is_the_training_loss(long_csv, tmp_path, loss, keras_name):
    from forecast_cli import model as lstm
    from forecast_cli.manifest import read_manifest

    manifest, _ = _train(long_csv, tmp_path / "model", "--loss", loss, "--transform", "none")
    assert manifest["config"]["loss"] == loss
    assert type(lstm._loss(read_manifest(tmp_path / "model").config)).__name__ == keras_name


@pytest.mark.parametrize(("scaling", "unit_scale"), [("std", False), ("mean", True)])
def test_scaling_choice_sets_the_stored_statistics(long_csv, tmp_path, scaling, unit_scale):
    manifest, _ = _train(long_csv, tmp_path / "model", "--scaling", scaling, "--loss", "mae")
    assert manifest["config"]["scaling"] == scaling
    scales = [info["scale"] for info in manifest["series"].values()]
    assert all(s == 1.0 for s in scales) == unit_scale


def test_max_windows_and_batch_size(long_csv, tmp_path):
    manifest, result = _train(long_csv, tmp_path / "model", "--max-windows", "5", "--batch-size", "7")
    assert "Training on 15 windows from 3 series" in result.stderr  # 5 most recent of each of 3
    assert manifest["config"]["max_windows"] == 5 and manifest["config"]["batch_size"] == 7


def test_column_roles_by_flag(tmp_path):
    frame = make_long(2, 36).rename(columns={"unique_id": "store", "ds": "when", "y": "sales"})
    frame["note"] = "x"
    path = tmp_path / "named.csv"
    frame[["when", "store", "note", "sales"]].to_csv(path, index=False)
    manifest, _ = _train(path, tmp_path / "model", "--id-col", "store", "--time-col", "when", "--target-col", "sales")
    assert manifest["columns"] == {"time_col": "when", "target_col": "sales", "id_col": "store",
                                   "all_columns": ["when", "store", "note", "sales"]}
    assert set(manifest["series"]) == {"s0", "s1"}
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(path)])
    assert result.exit_code == 0 and result.stdout.startswith("unique_id,ds,yhat\ns0,2018-01-01,")


def test_a_bad_engine_is_a_usage_error(trained_model):
    model_dir, data = trained_model
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--engine", "gpu"])
    assert result.exit_code == ExitCode.USAGE
    assert "--engine must be one of auto, onnx, keras. Received: engine='gpu'" in result.stderr


def test_as_of_with_integer_steps(tmp_path):
    path = tmp_path / "steps.csv"
    make_long(2, 40, freq=None).to_csv(path, index=False)  # ds = 1, 2, ..., 40
    _train(path, tmp_path / "model")
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(path), "--as-of", "30"])
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert forecast.groupby("unique_id")["ds"].apply(list).to_dict() == {"s0": [31, 32, 33, 34], "s1": [31, 32, 33, 34]}
    bad = runner.invoke(app, ["predict", str(tmp_path / "model"), str(path), "--as-of", "2020-01-01"])
    assert bad.exit_code == ExitCode.USAGE and "is not an integer step" in bad.stderr


def test_as_of_with_time_zones(tmp_path):
    frame = make_long(1, 72, freq="h")
    frame["ds"] = pd.DatetimeIndex(frame["ds"]).tz_localize("UTC").strftime("%Y-%m-%dT%H:%M:%S+00:00")
    path = tmp_path / "hourly.csv"
    frame.to_csv(path, index=False)
    _train(path, tmp_path / "model", "--season", "4")
    cut = "2015-01-02T11:00:00+01:00"  # 10:00 UTC, in another zone
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(path), "--as-of", cut])
    assert result.exit_code == 0, result.output
    first = pd.read_csv(pd.io.common.StringIO(result.stdout))["ds"].iloc[0]
    assert pd.Timestamp(first) == pd.Timestamp("2015-01-02T11:00:00+00:00")
    naive = runner.invoke(app, ["predict", str(tmp_path / "model"), str(path), "--as-of", "2015-01-02T10:00"])
    assert naive.exit_code == ExitCode.USAGE and "differ in having a time zone" in naive.stderr
    # a midnight with its offset is that instant too (it was read as a date, and refused as without a zone)
    midnight = runner.invoke(app, ["predict", str(tmp_path / "model"), str(path), "--as-of", "2015-01-03T00:00Z"])
    assert midnight.exit_code == 0, midnight.output
    first = pd.read_csv(pd.io.common.StringIO(midnight.stdout))["ds"].iloc[0]
    assert pd.Timestamp(first) == pd.Timestamp("2015-01-03T01:00:00+00:00")


def test_log_model_forecasts_a_later_file_that_goes_below_zero(tmp_path):
    """A temperature-like series, all positive in training (so --transform auto takes the log),
    whose later values go below zero: predict still forecasts it, with finite values, and the
    forecast follows the cold rather than jumping back to the training range."""
    t = np.arange(72)
    warm = 12 + 8 * np.sin(2 * np.pi * t / 12)  # 4 to 20 degrees
    train = pd.DataFrame({"ds": pd.date_range("2015-01-01", periods=72, freq="MS"), "y": warm.round(3)})
    train.to_csv(tmp_path / "train.csv", index=False)
    manifest, _ = _train(tmp_path / "train.csv", tmp_path / "model")
    assert manifest["config"]["transform"] == "log"
    later = train.copy()
    later.loc[60:, "y"] = (warm[60:] - 25).round(3)  # the last year: -21 to -5
    assert (later["y"] < 0).any() and (train["y"] > 0).all()
    later.to_csv(tmp_path / "later.csv", index=False)
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "later.csv"),
                                 "--output", str(tmp_path / "fc.csv")])
    assert result.exit_code == 0, result.output
    yhat = pd.read_csv(tmp_path / "fc.csv")["yhat"].to_numpy()
    assert len(yhat) == 4 and np.isfinite(yhat).all()
    assert yhat.max() < 4.0  # below every training value: it follows the cold last year


def test_transform_log_is_accepted_on_data_with_negatives(tmp_path):
    frame = make_long(1, 48)
    frame["y"] = frame["y"] - 110.0  # crosses zero
    frame.to_csv(tmp_path / "neg.csv", index=False)
    manifest, _ = _train(tmp_path / "neg.csv", tmp_path / "model", "--transform", "log")
    assert manifest["config"]["transform"] == "log"
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "neg.csv")])
    assert result.exit_code == 0, result.output
    assert np.isfinite(pd.read_csv(io.StringIO(result.stdout))["yhat"]).all()


def _hourly(tmp_path, hours: int, integer: bool = False, weekend: int = 394):
    t = np.arange(hours)
    # A day, and a weekend that starts at hour `weekend`: inside the last validation window of a
    # 400-hour series by default.
    y = 50 + 10 * np.sin(2 * np.pi * t / 24) + 20 * ((t - weekend) % 168 < 48)
    ds = np.arange(1, hours + 1) if integer else pd.date_range("2024-01-01", periods=hours, freq="h")
    path = tmp_path / "hourly.csv"
    pd.DataFrame({"ds": ds, "y": y.round(3)}).to_csv(path, index=False)
    return path


def test_hourly_dates_give_the_network_the_day_and_the_partner_the_season_that_validates_best(tmp_path):
    data = _hourly(tmp_path, 400)  # a weekend step: only the week repeats exactly
    manifest, result = _train(data, tmp_path / "model")
    config = manifest["config"]
    assert (config["season"], config["seasons"], config["partner_season"]) == (24, [24, 168], 168)
    assert "season 24" in result.stderr
    # The weekly seasonal naive is exact on validation: the guard ships it, at the partner's season.
    assert (config["baseline"], config["blend"]) == ("snaive", 0.0)
    choice = json.loads((tmp_path / "model" / "metrics.json").read_text())["choice"]
    assert choice["shipped"] == "seasonal naive alone (season 168)"
    assert choice["candidates"]["seasonal naive alone"] == 0.0 < choice["candidates"]["seasonal naive, season 24"]
    forecast = runner.invoke(app, ["predict", str(tmp_path / "model"), str(data)])
    assert forecast.exit_code == 0, forecast.output
    y = pd.read_csv(data)["y"].to_numpy()
    assert np.allclose(pd.read_csv(io.StringIO(forecast.stdout))["yhat"], y[400 - 168 : 400 - 164])
    inspect = runner.invoke(app, ["inspect", str(tmp_path / "model")])
    assert "season 24 (statistical partner: 168)" in inspect.stderr
    short, _ = _train(_hourly(tmp_path, 300), tmp_path / "short")  # 300 < 2 x 168 + 4: no week
    assert (short["config"]["season"], short["config"]["seasons"], short["config"]["partner_season"]) == (24, [], None)


def test_integer_steps_without_a_season_are_told_the_cycle_the_values_show(tmp_path):
    data = _hourly(tmp_path, 400, integer=True)
    manifest, result = _train(data, tmp_path / "model")
    assert manifest["config"]["season"] == 1  # a suggestion only: the model is the one trained without it
    assert "the values repeat every 24 steps" in result.stderr and "train with --season 24." in result.stderr
    assert "--season" not in result.stdout
    _, given = _train(data, tmp_path / "given", "--season", "24")
    assert "the values repeat every" not in given.stderr
    doctor = runner.invoke(app, ["doctor", str(data)])
    assert "the values repeat every 24 steps" in doctor.stdout + doctor.stderr


def test_a_season_given_is_told_of_a_longer_cycle_the_values_show(tmp_path):
    data = _hourly(tmp_path, 1000, integer=True)  # six weeks: the weekend's week shows
    manifest, day = _train(data, tmp_path / "day", "--season", "24")
    assert "--season 24 leaves out 168" in day.stderr
    assert "train with --season 24,168." in day.stderr
    assert manifest["config"]["season"] == 24 and manifest["config"]["seasons"] == []  # the network keeps the day
    _, both = _train(data, tmp_path / "both", "--season", "24,168")
    assert "the values repeat every" not in both.stderr
    _, week = _train(data, tmp_path / "week", "--season", "168")  # the week repeats the day as well
    assert "the values repeat every" not in week.stderr


def test_one_season_on_integer_steps_lets_the_partner_take_a_week_the_values_repeat_at(tmp_path):
    # Integer hours with --season 24 are forecast as the same hours with dates (a day and a week
    # as candidates): the seasonal differences repeat at the week, so the partner may take it.
    data = _hourly(tmp_path, 600, integer=True, weekend=597)  # the week three times over in the histories
    manifest, result = _train(data, tmp_path / "steps", "--season", "24")
    config = manifest["config"]
    assert (config["season"], config["partner_season"], config["longer_season_limit"]) == (24, 168, 288)
    found = json.loads((tmp_path / "steps" / "metrics.json").read_text())["longer_season"]
    assert found["season"] == 168 and found["autocorrelation"] > 0.5
    assert "also repeat every 168 steps" in result.stderr
    steps = runner.invoke(app, ["predict", str(tmp_path / "steps"), str(data)])
    assert steps.exit_code == 0, steps.output
    (tmp_path / "dates").mkdir()
    dated = _hourly(tmp_path / "dates", 600, weekend=597)
    _train(dated, tmp_path / "dated")
    by_dates = runner.invoke(app, ["predict", str(tmp_path / "dated"), str(dated)])
    assert by_dates.exit_code == 0, by_dates.output
    assert pd.read_csv(io.StringIO(steps.stdout))["yhat"].tolist() == pd.read_csv(io.StringIO(by_dates.stdout))["yhat"].tolist()
    # A day and nothing longer: the partner keeps the day.
    t = np.arange(400)
    noise = np.random.default_rng(0).normal(size=400)
    pd.DataFrame({"ds": t + 1, "y": 50 + 10 * np.sin(2 * np.pi * t / 24) + noise}).to_csv(tmp_path / "day.csv", index=False)
    manifest, result = _train(tmp_path / "day.csv", tmp_path / "day", "--season", "24")
    assert manifest["config"]["partner_season"] is None
    assert "longer_season" not in json.loads((tmp_path / "day" / "metrics.json").read_text())
    assert "also repeat" not in result.stderr


def test_season_takes_several_lengths_on_the_command_line_and_in_a_config_file(tmp_path):
    data = _hourly(tmp_path, 400, integer=True)  # integer steps: no season unless given
    manifest, _ = _train(data, tmp_path / "a", "--season", "24,168")
    assert manifest["config"]["season"] == 24 and manifest["config"]["seasons"] == [24, 168]
    assert manifest["config"]["partner_season"] == 168
    (tmp_path / "train.toml").write_text("season = [24, 168]\n")
    manifest, _ = _train(data, tmp_path / "b", "--config", str(tmp_path / "train.toml"))
    assert manifest["config"]["seasons"] == [24, 168]
    manifest, _ = _train(data, tmp_path / "c", "--season", "24")
    assert manifest["config"]["season"] == 24 and manifest["config"]["seasons"] == []
    bad = runner.invoke(app, ["train", str(data), "--horizon", "4", "--season", "24,week"])
    assert bad.exit_code == ExitCode.USAGE and "--season must be a whole number" in bad.stderr
    zero = runner.invoke(app, ["train", str(data), "--horizon", "4", "--season", "0,24"])
    assert zero.exit_code == ExitCode.USAGE and "Received: season=0" in zero.stderr


def test_a_series_of_small_values_gets_the_network_a_series_of_thousands_gets(tmp_path):
    """The same series in millions (values around 1e-4) and in units: the network alone forecasts
    both alike, relative to their size (it forecast the small one off by a thousand times its
    values before: log(1 + y) is nearly y there). The model records each series' unit and is
    format 2, which releases that cannot read the unit refuse; a model without one stays format 1."""
    frame = make_long(2, 48)
    frame.to_csv(tmp_path / "units.csv", index=False)
    small = frame.assign(y=frame["y"] * 1e-6)
    small.to_csv(tmp_path / "millions.csv", index=False)
    forecasts, manifests = {}, {}
    for name in ("units", "millions"):
        manifests[name], _ = _train(tmp_path / f"{name}.csv", tmp_path / name, "--blend", "1", "--seed", "3")
        result = runner.invoke(app, ["predict", str(tmp_path / name), str(tmp_path / f"{name}.csv")])
        assert result.exit_code == 0, result.output
        forecasts[name] = pd.read_csv(io.StringIO(result.stdout))["yhat"].to_numpy()
    np.testing.assert_allclose(forecasts["millions"] * 1e6, forecasts["units"], rtol=0.05)
    for name, unit, version in (("units", 1.0, 1), ("millions", 1e-7, 2)):
        assert manifests[name]["format_version"] == version
        assert all(info.get("unit", 1.0) == unit for info in manifests[name]["series"].values())
    shown = runner.invoke(app, ["inspect", str(tmp_path / "millions")])
    assert "2 series; dates, frequency MS; season 12; 2 of them counted in a larger unit" in shown.stderr
    assert "larger unit" not in runner.invoke(app, ["inspect", str(tmp_path / "units")]).stderr


@pytest.mark.parametrize("command", [
    ["predict", "model", "data.csv", "--output", "out.csv"],
    ["detect", "model", "data.csv", "--output", "out.csv"],
    ["evaluate", "forecast.csv", "actuals.csv"],
    ["backtest", "data.csv"],
    ["train", "data.csv"],
])
def test_plot_series_and_lock_timeout_are_refused_below_their_least(tmp_path, command):
    """Checked before anything is read: detect drew no plot with --plot-series 0 but crashed after
    writing its output, and a negative --lock-timeout made filelock wait without end."""
    flags = [["--plot", str(tmp_path / "p.png"), "--plot-series", "0"]]
    if command[0] in ("predict", "detect"):
        flags.append(["--lock-timeout", "-1"])
    for flag in flags:
        result = runner.invoke(app, [*command, *flag])
        assert result.exit_code == ExitCode.USAGE, result.output
        assert f"{flag[-2]} must be" in result.stderr and "Received" in result.stderr
        assert "Traceback" not in result.stderr
