"""`forecast detect`: planted spikes and level shifts are found, clean values mostly are not, the
forecasts are predict's, and every flag and exit code does what the README says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.detect import band_quantiles, default_calibration, detect
from forecast_cli.errors import ExitCode
from forecast_cli.pipeline import Predictor
from tests.conftest import TINY, make_long

runner = CliRunner()
LENGTH, CHECKED, SPIKE_AT, SHIFT_FROM = 120, 12, 5, 6  # positions among the checked values


@pytest.fixture(scope="module")
def detect_model(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A tiny model trained on the first LENGTH - CHECKED values of three series, and the whole data."""
    folder = tmp_path_factory.mktemp("detect")
    data = make_long(3, LENGTH, seed=3)
    train = data.groupby("unique_id").head(LENGTH - CHECKED)
    train.to_csv(folder / "train.csv", index=False)
    result = runner.invoke(app, ["train", str(folder / "train.csv"), "--horizon", "4", "--out", str(folder / "model"),
                                 *TINY])
    assert result.exit_code == 0, result.output
    return folder / "model", data


@pytest.fixture(scope="module")
def blended_model(detect_model) -> tuple[Path, pd.DataFrame]:
    """The same data, the forecast half the LSTM and half the default partner (ETS+Theta), so
    that the partner's one-step forecasts are checked too."""
    model_dir, data = detect_model
    out = model_dir.parent / "blended"
    result = runner.invoke(app, ["train", str(model_dir.parent / "train.csv"), "--horizon", "4", "--out", str(out),
                                 *TINY, "--blend", "0.5"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["config"]["baseline"] == "ets+theta"
    return out, data


def planted(data: pd.DataFrame) -> pd.DataFrame:
    """s0: one spike; s1: a level shift over its last values; s2: untouched."""
    out = data.copy()
    last = {uid: rows.index[-CHECKED:] for uid, rows in out.groupby("unique_id")}
    out.loc[last["s0"][SPIKE_AT], "y"] += 60.0
    out.loc[last["s1"][SHIFT_FROM:], "y"] += 40.0
    return out


def test_planted_spike_and_level_shift_are_found(detect_model, tmp_path):
    model_dir, data = detect_model
    path = tmp_path / "planted.csv"
    planted(data).to_csv(path, index=False)
    out = tmp_path / "anomalies.csv"
    result = runner.invoke(app, ["detect", str(model_dir), str(path), "--last", str(CHECKED), "--output", str(out),
                                 "--json", "--quiet", "--fail-on-anomaly"])
    assert result.exit_code == ExitCode.ANOMALY, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["unique_id", "ds", "actual", "forecast", "lower", "upper", "score", "anomaly"]
    assert len(table) == 3 * CHECKED
    flags = {uid: rows["anomaly"].to_numpy() for uid, rows in table.groupby("unique_id")}
    assert flags["s0"][SPIKE_AT] and flags["s0"].sum() <= 2
    # the spike was replaced by its forecast for the next origin, so the value after it is judged normally
    assert not flags["s0"][SPIKE_AT + 1]
    # a level shift is flagged from where it starts, for as long as the model does not expect it
    assert flags["s1"][SHIFT_FROM] and flags["s1"][SHIFT_FROM:].mean() >= 0.5 and not flags["s1"][:SHIFT_FROM].any()
    assert flags["s2"].sum() <= 1
    spike = table[table["unique_id"] == "s0"].iloc[SPIKE_AT]
    assert spike["score"] > 1 and spike["actual"] > spike["upper"]
    summary = json.loads(result.stdout)
    assert summary["anomalies"] == int(table["anomaly"].sum())
    assert summary["band"] == "errors" and summary["level"] == 0.99 and summary["calibration_errors"] > 100
    assert summary["series_with_anomalies"][:2] == ["s0", "s1"]
    assert {f["ds"] for f in summary["found"]} <= set(table["ds"])  # times written as the CSV writes them


@pytest.mark.parametrize("model", ["detect_model", "blended_model"])
def test_the_forecasts_are_predicts_one_step_back(model, tmp_path, request):
    """A checked value's forecast is the first step of what `predict` writes from the values before
    it, plus the error correction's shares of predict's errors one step and one season back."""
    model_dir, data = request.getfixturevalue(model)
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    predictor = Predictor(model_dir)
    found = detect(predictor, path, last=1)
    assert set(found.correction) == {1, 12}  # monthly: the previous month and the same month last year
    times = sorted(data["ds"].unique())

    def predicted(back: int) -> pd.Series:
        """predict's first step for the value `back` from the end, from the values before it."""
        as_of = pd.Timestamp(times[-back - 1]).strftime("%Y-%m-%d")
        return predictor.forecast(path, as_of=as_of).groupby("unique_id").head(1).set_index("unique_id")["yhat"]

    def actual(back: int) -> pd.Series:
        return data.groupby("unique_id").nth(-back).set_index("unique_id")["y"]

    expected = predicted(1) + sum(share * (actual(1 + lag) - predicted(1 + lag)) for lag, share in found.correction.items())
    forecast = found.table.set_index("unique_id")["forecast"]
    np.testing.assert_allclose(forecast.sort_index().to_numpy(), expected.sort_index().to_numpy(), rtol=1e-9)


def test_clean_data_passes_and_exit_is_0(detect_model, tmp_path):
    model_dir, data = detect_model
    path = tmp_path / "clean.csv"
    data.to_csv(path, index=False)
    result = runner.invoke(app, ["detect", str(model_dir), str(path), "--last", "3", "--level", "0.999999",
                                 "--fail-on-anomaly"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(__import__("io").StringIO(result.stdout))  # stdout: the CSV only
    assert len(table) == 9 and not table["anomaly"].any()
    assert "0 anomalies in 9 values checked" in result.stderr


def test_anomalies_without_fail_flag_exit_0(detect_model, tmp_path):
    model_dir, data = detect_model
    path = tmp_path / "planted.csv"
    planted(data).to_csv(path, index=False)
    result = runner.invoke(app, ["detect", str(model_dir), str(path), "--last", str(CHECKED), "--plot",
                                 str(tmp_path / "anomalies.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "anomalies.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "anomalies in 36 values checked" in result.stderr and "s0" in result.stderr


@pytest.mark.parametrize("flags, code, words", [
    (["--last", "0"], ExitCode.USAGE, "--last 0"),
    (["--level", "1.5"], ExitCode.USAGE, "--level 1.5"),
    (["--calibration", "5"], ExitCode.USAGE, "--calibration 5"),
    (["--json"], ExitCode.USAGE, "--json prints its summary on stdout"),
    (["--last", "110"], ExitCode.DATA, "series 's0' has 120 values; checking its last 110 needs 128"),
])
def test_bad_flags_and_short_series(detect_model, tmp_path, flags, code, words):
    model_dir, data = detect_model
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    result = runner.invoke(app, ["detect", str(model_dir), str(path), *flags])
    assert result.exit_code == code, result.output
    error = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1 and words in error[0] and "Traceback" not in result.output


def test_quantile_band_when_the_model_has_it(tmp_path):
    data = make_long(2, 80, seed=5)
    data.to_csv(tmp_path / "data.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "--horizon", "4", "--out", str(tmp_path / "m"),
                                 "--quantiles", "0.005,0.995", *TINY])
    assert result.exit_code == 0, result.output
    found = detect(tmp_path / "m", tmp_path / "data.csv", last=6)
    assert found.band == "quantiles" and found.quantiles == (0.005, 0.995) and found.calibration == 0
    table = found.table
    assert ((table["lower"] <= table["forecast"]) & (table["forecast"] <= table["upper"])).all()
    outside = (table["actual"] < table["lower"]) | (table["actual"] > table["upper"])
    assert (outside == table["anomaly"]).all()
    # at another level the model has no such quantiles: the band comes from its errors
    assert detect(tmp_path / "m", tmp_path / "data.csv", last=6, level=0.9).band == "errors"


def test_a_model_from_release_0_1_0_detects(tmp_path):
    """Covariates, quantiles (0.1-0.9: not a 0.99 band) and an ETS blend, from an old model directory."""
    fixture = Path(__file__).parent / "fixtures" / "model-0.1.0"
    found = detect(fixture / "model", fixture / "data.csv", last=3)
    assert found.band == "errors" and len(found.table) == 9
    assert np.isfinite(found.table[["forecast", "lower", "upper", "score"]].to_numpy()).all()


def test_helpers():
    assert default_calibration(1) == 500 and default_calibration(100) == 20 and default_calibration(7) == 286
    assert band_quantiles((0.025, 0.5, 0.975), 0.95) == (0.025, 0.975)
    assert band_quantiles((0.1, 0.5, 0.9), 0.95) is None


def test_calibration_as_of_engine_plot_series_and_lock(detect_model, tmp_path):
    from filelock import FileLock

    from forecast_cli.batch import lock_path_for

    model_dir, data = detect_model
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "anomalies.csv"
    result = runner.invoke(app, ["detect", str(model_dir), str(path), "--calibration", "30", "--as-of", "2023-12-01",
                                 "--output", str(out), "--json", "--quiet", "--plot", str(tmp_path / "one.png"),
                                 "--plot-series", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["calibration_errors"] == 3 * 30 and summary["checked"] == 3 * 4  # --last: the horizon, 4
    table = pd.read_csv(out)
    assert table["ds"].max() == "2023-12-01"  # nothing after --as-of is checked
    assert (tmp_path / "one.png").stat().st_size > 0
    keras = detect(model_dir, path, calibration=30, as_of="2023-12-01", engine="keras").table
    np.testing.assert_allclose(keras["forecast"], table["forecast"], rtol=1e-4)
    with FileLock(str(lock_path_for(out))):
        result = runner.invoke(app, ["detect", str(model_dir), str(path), "--output", str(out), "--lock-timeout", "0.3"])
    assert result.exit_code == ExitCode.LOCKED, result.output


def test_a_series_whose_data_ends_early_is_named(detect_model, tmp_path):
    """Last night's values missing for one series: its last checked values are older than the
    others', so a nightly check looks at old values; the run says so, and counts it (`late`)."""
    model_dir, data = detect_model
    path = tmp_path / "stale.csv"
    data.drop(data.index[data["unique_id"] == "s1"][-2:]).to_csv(path, index=False)
    result = runner.invoke(app, ["detect", str(model_dir), str(path), "--last", "2", "--output",
                                 str(tmp_path / "checked.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["late"] == 1 and summary["late_series"] == ["s1"]
    assert "series 's1' ends before the others: its last value is at " in result.stderr
    # An operator hears of a feed that stopped as of an anomaly: --fail-on-late exits 8 (the
    # outputs written), every run until the values arrive; --fail-on-anomaly alone does not.
    for flags, code in ((["--fail-on-anomaly"], 0), (["--fail-on-late"], ExitCode.ANOMALY)):
        checked = tmp_path / f"checked{code}.csv"
        result = runner.invoke(app, ["detect", str(model_dir), str(path), "--last", "2", "--output", str(checked),
                                     "--json", "--state", str(tmp_path / f"state{code}.json"), *flags])
        assert result.exit_code == code, result.output
        assert checked.is_file() and json.loads(result.stdout)["late_series"] == ["s1"]
    result = runner.invoke(app, ["detect", str(model_dir), str(path), "--last", "2", "--output", str(checked),
                                 "--state", str(tmp_path / f"state{code}.json"), "--fail-on-late", "--quiet"])
    assert result.exit_code == ExitCode.ANOMALY, result.output  # nothing new is checked, and s1 is late still
    data.to_csv(tmp_path / "whole.csv", index=False)
    result = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "whole.csv"), "--last", "2",
                                 "--output", str(checked), "--fail-on-late", "--quiet"])
    assert result.exit_code == 0, result.output  # every series up to date


def test_the_plot_draws_the_series_farthest_outside_their_band_first(detect_model, tmp_path, monkeypatch):
    """A spike in the last series by id: `--plot-series 1` draws that series, not the first id."""
    from forecast_cli import plots

    model_dir, data = detect_model
    spiked = data.copy()
    last = spiked.index[spiked["unique_id"] == "s2"][-1]
    spiked.loc[last, "y"] *= 3
    spiked.to_csv(tmp_path / "spiked.csv", index=False)
    drawn, titles = [], []
    monkeypatch.setattr(plots, "save_panels",
                        lambda panels, path, title: (drawn.extend(p.title for p in panels), titles.append(title)))
    result = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "spiked.csv"), "--output",
                                 str(tmp_path / "a.csv"), "--plot", str(tmp_path / "a.png"), "--plot-series", "2"])
    assert result.exit_code == 0, result.output
    assert drawn[0] == "s2" and len(drawn) == 2
    assert titles[0].endswith("\n2 of 3 series: those with anomalies first (--plot-series draws more)")


def test_the_band_of_a_series_never_below_zero_stops_at_zero(tmp_path):
    """Counts of a few a week (a log-scale model): the band would reach below zero, so it stops
    there, as the forecasts do; a count written as -1 by a broken feed is flagged, a 0 is not.
    A model of data that went below zero (raw scale) keeps its band as it is."""
    rng = np.random.default_rng(5)
    frames = [pd.DataFrame({"unique_id": f"c{k}", "ds": pd.date_range("2020-01-06", periods=LENGTH, freq="W-MON"),
                            "y": rng.poisson(3.0, LENGTH).astype(float)}) for k in range(3)]
    data = pd.concat(frames, ignore_index=True)
    data.groupby("unique_id").head(LENGTH - CHECKED).to_csv(tmp_path / "train.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "train.csv"), "--horizon", "4", "--out", str(tmp_path / "m"),
                                 *TINY])
    assert result.exit_code == 0, result.output
    checked = data.copy()
    last = {uid: rows.index[-CHECKED:] for uid, rows in checked.groupby("unique_id")}
    checked.loc[last["c0"][SPIKE_AT], "y"] = -1.0
    checked.loc[last["c1"][SPIKE_AT], "y"] = 0.0
    table = detect(tmp_path / "m", _csv(checked, tmp_path / "checked.csv"), last=CHECKED).table
    assert (table["lower"] >= 0).all() and (table["forecast"] >= 0).all()
    assert (table["lower"] == 0).sum() >= CHECKED  # the floor is what holds these bands up
    flagged = table[table["anomaly"]]
    assert ("c0", -1.0) in set(zip(flagged["unique_id"], flagged["actual"]))
    assert not ((table["actual"] == 0) & table["anomaly"]).any()

    shifted = data.assign(y=data["y"] - 1.0)  # the same counts less one: values of -1, a raw-scale model
    shifted.groupby("unique_id").head(LENGTH - CHECKED).to_csv(tmp_path / "train-raw.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "train-raw.csv"), "--horizon", "4", "--out",
                                 str(tmp_path / "raw"), *TINY])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "raw" / "manifest.json").read_text())["config"]["transform"] == "none"
    table = detect(tmp_path / "raw", _csv(shifted, tmp_path / "shifted.csv"), last=CHECKED).table
    assert (table["lower"] < -1).any()


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_a_checked_value_missing_from_the_data_is_not_judged(detect_model, tmp_path, monkeypatch):
    """A value the night's file lacks is filled in for the forecasts after it (the model's --fill),
    but it is no actual value: its row has none, no score and no flag, the count says so, and the
    plot draws a gap there."""
    from forecast_cli import plots

    drawn = {}
    monkeypatch.setattr(plots, "save_panels",
                        lambda panels, path, title: drawn.update({p.title: p.history[1] for p in panels}))
    model_dir, data = detect_model
    gappy = planted(data)
    last = {uid: rows.index[-CHECKED:] for uid, rows in gappy.groupby("unique_id")}
    gappy.loc[last["s2"][[3, 4]], "y"] = np.nan
    gappy.loc[last["s0"][SPIKE_AT], "y"] = np.nan  # the spike is gone: the feed lost that value
    result = runner.invoke(app, ["detect", str(model_dir), str(_csv(gappy, tmp_path / "gappy.csv")), "--last",
                                 str(CHECKED), "--output", str(tmp_path / "out.csv"), "--json", "--plot",
                                 str(tmp_path / "out.png"), "--plot-series", "3"])
    assert result.exit_code == 0, result.output
    assert np.isnan(drawn["s2"][-CHECKED:][[3, 4]]).all() and np.isnan(drawn["s2"]).sum() == 2
    table = pd.read_csv(tmp_path / "out.csv")
    empty = table[table["actual"].isna()]
    assert sorted(zip(empty["unique_id"], empty.index % CHECKED)) == [("s0", SPIKE_AT), ("s2", 3), ("s2", 4)]
    assert empty["score"].isna().all() and not empty["anomaly"].any() and empty["forecast"].notna().all()
    summary = json.loads(result.stdout)
    assert (summary["checked"], summary["missing"]) == (3 * CHECKED - 3, 3)
    assert "s0" not in summary["series_with_anomalies"] and "s1" in summary["series_with_anomalies"]


def test_a_state_file_reports_each_value_once_the_night_it_arrives(detect_model, tmp_path):
    """Nightly runs checking the last 4 values: without --state the spike of night 1 is reported
    again on night 2 (it is still among the last 4); with it, night 2 reports only the value that
    arrived, a night with nothing new reports nothing (exit 0 with --fail-on-anomaly) and plots
    nothing, a run that fails leaves the state as it was, and nights missed beyond --last are named."""
    model_dir, data = detect_model
    spiked = data.copy()
    spike_at = spiked.groupby("unique_id").cumcount() == LENGTH - 7
    spiked.loc[spike_at & (spiked["unique_id"] == "s0"), "y"] += 60.0
    spike_time = pd.Timestamp(spiked.loc[spike_at, "ds"].iloc[0]).strftime("%Y-%m-%d")
    nights = []
    for n, drop in enumerate((6, 5)):
        nights.append(tmp_path / f"night{n + 1}.csv")
        spiked.groupby("unique_id").head(LENGTH - drop).to_csv(nights[-1], index=False)
    state, out = tmp_path / "state.json", tmp_path / "anomalies.csv"

    def run(night: Path, *flags: str):
        result = runner.invoke(app, ["detect", str(model_dir), str(night), "--last", "4", "--output", str(out),
                                     "--json", "--fail-on-anomaly", *flags])
        return result, (json.loads(result.stdout) if result.stdout.startswith("{") else None)

    first, summary = run(nights[0], "--state", str(state))
    assert first.exit_code == ExitCode.ANOMALY, first.output
    assert summary["checked"] == 12 and summary["reported_before"] == 0 and spike_time in {f["ds"] for f in summary["found"]}
    marks = json.loads(state.read_text())
    assert marks["format"] == 1 and set(marks["series"]) == {"s0", "s1", "s2"}
    assert marks["series"]["s0"].startswith(spike_time)
    again, summary = run(nights[1])  # no state: the spike is reported a second night
    assert spike_time in {f["ds"] for f in summary["found"]}
    second, summary = run(nights[1], "--state", str(state))
    assert second.exit_code in (0, ExitCode.ANOMALY), second.output
    assert summary["checked"] == 3 and summary["reported_before"] == 9
    assert spike_time not in {f["ds"] for f in summary["found"]} and len(pd.read_csv(out)) == 3
    assert "9 reported by earlier runs, not again" in second.stderr
    kept = state.read_bytes()
    third, summary = run(nights[1], "--state", str(state), "--plot", str(tmp_path / "nothing.png"))
    assert third.exit_code == 0 and summary["checked"] == 0 and summary["anomalies"] == 0, third.output
    assert (tmp_path / "nothing.png").read_bytes().startswith(b"\x89PNG")  # drawn, saying so (it was a traceback)
    failed, _ = run(nights[1], "--state", str(state), "--last", "200")
    assert failed.exit_code == ExitCode.DATA and state.read_bytes() == kept
    state.write_text(json.dumps({"format": 1, "series": {"s0": spike_time}}))
    data.to_csv(tmp_path / "later.csv", index=False)
    missed = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "later.csv"), "--last", "2", "--state",
                                 str(state)])
    assert missed.exit_code == 0, missed.output
    assert f"1 series had more values since the last check than the 2 checked (e.g. 's0': checked up to {spike_time}" \
        in missed.stderr
    state.write_text("{}")
    broken = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "later.csv"), "--state", str(state)])
    assert broken.exit_code == ExitCode.DATA and "is not a state file of this version of detect" in broken.stderr
    # One file for both: each write would replace the other (and the second lock waited for the first, 60 s).
    same = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "later.csv"), "--output", str(out), "--state",
                               str(out), "--lock-timeout", "1"])
    assert same.exit_code == ExitCode.USAGE and "is named by both --output and --state" in same.stderr


@pytest.mark.parametrize("zoned_data", [False, True])
def test_a_state_kept_with_offsets_meets_times_without_and_the_other_way_round(tmp_path, zoned_data):
    """A model reads a night's file whether or not its times carry an offset (those with one in
    UTC), so a feed that drops or gains its offsets meets a state file kept the other way: each
    mark is compared on the night's clock, a time without a zone taken as UTC (it was a
    TypeError traceback). Marks of both kinds can sit in one file."""
    from forecast_cli.data import ID, TIME
    from forecast_cli.reported import Reported

    times = pd.date_range("2024-03-01 20:00", periods=6, freq="h", tz="UTC" if zoned_data else None)
    table = pd.DataFrame({ID: ["a"] * 6 + ["b"] * 6, TIME: list(times) * 2})
    state = tmp_path / "state.json"
    # a: checked up to 21:00 UTC (written at +02:00); b: up to 22:00, written without a zone
    state.write_text(json.dumps({"format": 1, "series": {"a": "2024-03-01T23:00:00+02:00", "b": "2024-03-01T22:00:00"}}))
    reported = Reported.read(state, "datetime")
    assert reported.new(table).tolist() == [False, False, True, True, True, True] + [False] * 3 + [True] * 3
    assert reported.skipped(table, "h", 1) == (0, None)
    later = table[table[TIME] > times[4]]
    missed, (uid, mark, first) = reported.skipped(later, "h", 1)
    assert (missed, uid, first[:19]) == (2, "a", "2024-03-02 01:00:00")


def test_the_partners_one_step_forecasts_a_step_at_a_time_are_the_whole_runs(blended_model, tmp_path, monkeypatch):
    """After a flagged value is replaced, ETS's one-step forecasts come from its recursion a step
    at a time (`EtsSteps`), the replaced and restored values included: the table is the one that
    running ETS over each whole history gives, to the last bit."""
    from forecast_cli.detect import OneStep

    model_dir, data = blended_model
    path = _csv(planted(data), tmp_path / "planted.csv")
    stepped = detect(model_dir, path, last=CHECKED).table
    assert stepped["anomaly"].sum() >= 2  # a spike replaced and a level shift: histories that differ from the data
    monkeypatch.setattr(OneStep, "steps", lambda self, histories, end: None)
    pd.testing.assert_frame_equal(stepped, detect(model_dir, path, last=CHECKED).table, check_exact=True)


def test_histories_forecast_in_calls_of_a_bounded_size_give_the_same_table(blended_model, tmp_path, monkeypatch):
    """The one-step forecasts are made a bounded number of history values at a time (a day of
    1-minute values checked is 1,440 histories of two weeks): calls of any size, the same table."""
    from forecast_cli import detect as detect_module

    model_dir, data = blended_model
    path = _csv(planted(data), tmp_path / "planted.csv")
    whole = detect(model_dir, path, last=CHECKED).table
    monkeypatch.setattr(detect_module, "CHUNK_VALUES", 1000)  # a few histories of about 110 values a call
    pd.testing.assert_frame_equal(whole, detect(model_dir, path, last=CHECKED).table, check_exact=True)
