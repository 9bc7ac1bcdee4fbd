"""backtest, evaluate, doctor and plots, through the CLI on tiny data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.doctor import diagnose, largest_horizon
from forecast_cli.errors import ExitCode
from tests.conftest import SAMPLE, TINY, make_long

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


def test_backtest_scores_every_fold_and_step(tmp_path, long_csv):
    out = tmp_path / "bt"
    result = runner.invoke(app, ["backtest", str(long_csv), "--horizon", "4", "--folds", "2", "--step", "3",
                                 "--output-dir", str(out), "--plot", str(tmp_path / "bt.png"), *TINY])
    assert result.exit_code == 0, result.output
    assert "Fold 2/2" in result.stderr and "seasonal naive" in result.stderr
    rows = pd.read_csv(out / "forecasts.csv")
    assert sorted(rows["fold"].unique()) == [1, 2] and len(rows) == 2 * 3 * 4
    # fold 2's cut-off is 4 steps before the end, fold 1's 3 steps earlier
    s0 = rows[rows["unique_id"] == "s0"]
    assert s0.loc[s0["fold"] == 2, "ds"].tolist()[0] == "2018-09-01"
    assert s0.loc[s0["fold"] == 1, "ds"].tolist()[0] == "2018-06-01"
    folds = pd.read_csv(out / "folds.csv")
    assert set(folds["model"]) == {"lstm", "naive", "seasonal_naive"} and len(folds) == 6
    steps = pd.read_csv(out / "steps.csv")
    assert sorted(steps["step"].unique()) == [1, 2, 3, 4]
    summary = json.loads((out / "backtest.json").read_text())
    assert set(summary["overall"]["lstm"]) == {"mae", "rmse", "smape", "mase"}
    assert (tmp_path / "bt.png").read_bytes().startswith(PNG)


def test_backtest_json_prints_the_scores_it_wrote(tmp_path, long_csv):
    """stdout holds the JSON alone (the table is on stderr): backtest.json's scores and where
    they were written; a failure gives the error and exit code as JSON, as train's --json does."""
    out = tmp_path / "bt"
    result = runner.invoke(app, ["backtest", str(long_csv), "--horizon", "4", "--folds", "2", "--output-dir",
                                 str(out), "--json", *TINY])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["output_dir"] == str(out) and summary["files"][-1] == str(out / "backtest.json")
    written = json.loads((out / "backtest.json").read_text())
    assert {key: summary[key] for key in written} == written and len(summary["folds"]) == 6
    failed = runner.invoke(app, ["backtest", str(tmp_path / "none.csv"), "--horizon", "4", "--json"])
    assert failed.exit_code == ExitCode.DATA and json.loads(failed.stdout)["exit_code"] == ExitCode.DATA


def test_backtest_never_trains_on_the_fold_it_scores(tmp_path):
    """A series that jumps after the cut-off: the fold's forecast cannot have seen the jump."""
    frame = make_long(2, 48)
    frame.loc[frame.groupby("unique_id").cumcount() >= 44, "y"] = 1e6
    frame.to_csv(tmp_path / "jump.csv", index=False)
    result = runner.invoke(app, ["backtest", str(tmp_path / "jump.csv"), "--horizon", "4", "--folds", "1",
                                 "--output-dir", str(tmp_path / "bt"), *TINY])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "bt" / "forecasts.csv")
    assert (rows["y"] == 1e6).all() and (rows["lstm"] < 1e4).all()


def test_backtest_plot_draws_the_series_forecast_worst(tmp_path, monkeypatch):
    """With more series than --plot-series, the plot draws those the folds scored worst (here
    the one that jumps after the cut-off), not the first ids."""
    from forecast_cli import plots

    frame = make_long(5, 48)
    jumps = (frame["unique_id"] == "s3") & (frame.groupby("unique_id").cumcount() >= 44)
    frame.loc[jumps, "y"] *= 3
    frame.to_csv(tmp_path / "jump.csv", index=False)
    drawn, titles = [], []
    monkeypatch.setattr(plots, "save_panels",
                        lambda panels, path, title: (drawn.extend(p.title for p in panels), titles.append(title)))
    result = runner.invoke(app, ["backtest", str(tmp_path / "jump.csv"), "--horizon", "4", "--folds", "1",
                                 "--output-dir", str(tmp_path / "bt"), "--plot", str(tmp_path / "bt.png"),
                                 "--plot-series", "1", *TINY])
    assert result.exit_code == 0, result.output
    assert drawn == ["s3"]
    assert titles[0].endswith("\n1 of 5 series: those forecast worst (--plot-series draws more)")


def test_train_plot_draws_the_validation_its_summary_scores(tmp_path, monkeypatch):
    """`train --plot` draws each series' validation window: the held-out values, the forecast
    chosen on them and seasonal naive's, the errors metrics.json reports; with more series than
    --plot-series, those forecast worst (the one that jumps in its last values)."""
    from forecast_cli import plots

    frame = make_long(5, 48)
    jumps = (frame["unique_id"] == "s3") & (frame.groupby("unique_id").cumcount() >= 44)
    frame.loc[jumps, "y"] *= 3
    frame.to_csv(tmp_path / "jump.csv", index=False)
    drawn, titles = [], []
    monkeypatch.setattr(plots, "save_panels", lambda panels, path, title: (drawn.extend(panels), titles.append(title)))
    for n in (1, 5):
        result = runner.invoke(app, ["train", str(tmp_path / "jump.csv"), "--horizon", "4", "--out",
                                     str(tmp_path / "m"), "--plot", str(tmp_path / "val.png"), "--plot-series", str(n),
                                     *TINY])
        assert result.exit_code == 0, result.output
    assert [p.title for p in drawn] == ["s3", "s0", "s1", "s2", "s3", "s4"]
    assert titles[0].endswith("\n1 of 5 series: those forecast worst (--plot-series draws more)")
    assert titles[1] == "Validation: the last 4 values of each series held out, and their forecasts"
    scores = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert scores["windows"] == 5
    values = frame.assign(ds=pd.to_datetime(frame["ds"]))
    errors = {"forecast": [], "seasonal naive": []}
    for panel in drawn[1:]:
        held = values[values["unique_id"] == panel.title].tail(5)  # the last value before the window, then it
        assert list(pd.to_datetime(panel.actual[0])) == list(held["ds"]) and np.allclose(panel.actual[1], held["y"])
        assert pd.Timestamp(panel.history[0][-1]) == held["ds"].iloc[0]
        for x, y, label in panel.forecasts:  # each line joined to the last value before the window
            assert y[0] == held["y"].iloc[0] and list(x) == list(panel.actual[0])
            errors[label] += list(np.abs(y[1:] - held["y"].to_numpy()[1:]))
    assert np.mean(errors["forecast"]) == pytest.approx(scores["lstm"]["mae"], rel=1e-6)
    assert np.mean(errors["seasonal naive"]) == pytest.approx(scores["seasonal_naive"]["mae"], rel=1e-6)


def test_backtest_plot_joins_each_folds_forecast_to_the_value_before_its_cut_off(tmp_path, monkeypatch):
    """Each fold's forecast line starts at the last value before its cut-off, as predict's plot
    starts at the series' last value: a line a fold, not a gap before each."""
    from forecast_cli import plots

    frame = make_long(1, 48)
    frame.to_csv(tmp_path / "one.csv", index=False)
    drawn = []
    monkeypatch.setattr(plots, "save_panels", lambda panels, path, title: drawn.extend(panels))
    result = runner.invoke(app, ["backtest", str(tmp_path / "one.csv"), "--horizon", "4", "--folds", "2",
                                 "--output-dir", str(tmp_path / "bt"), "--plot", str(tmp_path / "bt.png"), *TINY])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "bt" / "forecasts.csv", parse_dates=["ds"])
    values = frame.assign(ds=pd.to_datetime(frame["ds"])).set_index("ds")["y"]
    (panel,) = drawn
    assert len(panel.forecasts) == 2
    for (x, y, _), (fold, group) in zip(panel.forecasts, rows.groupby("fold")):
        before = values.index[values.index.get_loc(group["ds"].iloc[0]) - 1]
        assert pd.Timestamp(x[0]) == before and y[0] == pytest.approx(values[before])
        assert list(pd.to_datetime(x[1:])) == list(group["ds"]) and np.allclose(y[1:], group["lstm"], rtol=1e-6)


def test_backtest_warns_when_the_lstm_loses(tmp_path):
    frame = make_long(1, 48)
    frame["y"] = [100.0 + 50 * (i % 12 == 0) for i in range(48)]  # pure season: seasonal naive is exact
    frame.to_csv(tmp_path / "season.csv", index=False)
    result = runner.invoke(app, ["backtest", str(tmp_path / "season.csv"), "--horizon", "4", "--folds", "1",
                                 "--output-dir", str(tmp_path / "bt"), "--blend", "1", *TINY])
    assert result.exit_code == 0, result.output
    assert "Warning: the LSTM loses to seasonal naive" in result.stderr


@pytest.mark.parametrize("baseline", ["snaive", "ets+theta"])
def test_backtest_blend_auto_falls_back_to_the_baseline_where_it_is_exact(tmp_path, baseline):
    # Each fold chooses the blend on its own validation windows (before its cut-off), where
    # seasonal naive and ETS are exact: weight 0, so the held-out forecasts are the baseline's.
    frame = make_long(1, 60)
    frame["y"] = [100.0 + 50 * (i % 12 == 0) + 10 * (i % 3) for i in range(60)]
    frame.to_csv(tmp_path / "season.csv", index=False)
    result = runner.invoke(app, ["backtest", str(tmp_path / "season.csv"), "--horizon", "4", "--folds", "2",
                                 "--output-dir", str(tmp_path / "bt"), *TINY, "--baseline", baseline])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "bt" / "forecasts.csv")
    np.testing.assert_allclose(rows["lstm"], rows["seasonal_naive"])
    np.testing.assert_allclose(rows["lstm"], rows["y"])
    assert "loses to seasonal naive" not in result.stderr
    assert json.loads((tmp_path / "bt" / "backtest.json").read_text())["blend_weights"] == [0.0, 0.0]
    assert "fold by fold: 0, 0" in result.stderr
    # With ETS+Theta as the partner, it (if near exact) or seasonal naive (exact), which the guard
    # ships when the partner scores even slightly worse.
    assert "beside seasonal naive" in result.stderr or (baseline != "snaive" and "beside ETS+Theta" in result.stderr)


def test_backtest_with_too_many_folds_is_a_data_error(tmp_path, long_csv):
    result = runner.invoke(app, ["backtest", str(long_csv), "--horizon", "4", "--folds", "20",
                                 "--output-dir", str(tmp_path / "bt"), *TINY])
    assert result.exit_code == ExitCode.DATA and "Error:" in result.stderr
    # 48 values a series: folds of 4 past the eleventh hold out all of them; the error says so.
    assert ("the longest series has 48 rows, and the fold holds out its last 80). Use at most 11 --folds here"
            in result.stderr)
    assert not (tmp_path / "bt").exists()


def test_backtest_names_the_fold_its_cut_off_left_too_short(tmp_path, long_csv):
    # 48 values a series; the first of nine folds of 4 trains on 12, fewer than lookback 8 and
    # two horizons need: the error names the fold and the flags that leave it more.
    result = runner.invoke(app, ["backtest", str(long_csv), "--horizon", "4", "--folds", "9",
                                 "--output-dir", str(tmp_path / "bt"), *TINY])
    assert result.exit_code == ExitCode.DATA and "has 12 rows" in result.stderr
    assert "fold 1 of 9" in result.stderr and "fewer --folds" in result.stderr


def test_evaluate_matches_forecasts_with_actuals(trained_model, tmp_path):
    model_dir, data = trained_model
    full = make_long(3, 52)
    history, actuals = full[full["ds"] <= "2018-12-01"], full[full["ds"] > "2018-12-01"].iloc[:-1]
    history.to_csv(tmp_path / "history.csv", index=False)
    actuals.to_csv(tmp_path / "actuals.csv", index=False)
    assert runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "history.csv"), "--output", str(tmp_path / "f.csv")]).exit_code == 0
    result = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "actuals.csv"),
                                 "--history", str(tmp_path / "history.csv"), "--json", "--plot", str(tmp_path / "ev.png")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["matched"] == 11 and summary["unmatched_forecasts"] == 1
    assert "1 forecast row(s) have no actual yet (e.g. s2 2019-04-01" in result.stderr
    assert summary["overall"]["mase"] is not None and len(summary["by_series"]) == 3
    forecast = pd.read_csv(tmp_path / "f.csv")
    merged = forecast.merge(actuals.astype({"ds": str}), on=["unique_id", "ds"])
    assert summary["overall"]["mae"] == pytest.approx((merged["y"] - merged["yhat"]).abs().mean(), rel=1e-6)
    assert (tmp_path / "ev.png").read_bytes().startswith(PNG)


def test_evaluate_shows_the_worst_series_of_many(tmp_path, monkeypatch):
    """With more series than the table shows, the table lists the worst (by MASE), not the first
    ids; the JSON still holds every series, in id order."""
    full = make_long(25, 40)
    history, actuals = full[full["ds"] <= "2017-12-01"], full[full["ds"] > "2017-12-01"]
    forecast = actuals.rename(columns={"y": "yhat"}).assign(yhat=lambda f: f["yhat"] + 1.0)
    forecast.loc[forecast["unique_id"] == "s17", "yhat"] += 40.0  # one series forecast badly
    history.to_csv(tmp_path / "history.csv", index=False)
    actuals.to_csv(tmp_path / "actuals.csv", index=False)
    forecast.to_csv(tmp_path / "f.csv", index=False)
    args = ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "actuals.csv"), "--history", str(tmp_path / "history.csv")]
    shown = runner.invoke(app, args, terminal_width=200)
    assert shown.exit_code == 0, shown.output
    lines = shown.stderr.splitlines()
    first = next(i for i, line in enumerate(lines) if "│ all" in line)
    assert "│ s17" in lines[first + 1]  # the worst right after the overall row
    assert "the 20 series of 25 with the highest MASE (every series in --json)" in shown.stderr
    summary = json.loads(runner.invoke(app, [*args, "--json", "--quiet"]).stdout)
    assert [row["unique_id"] for row in summary["by_series"]] == sorted(f"s{k}" for k in range(25))
    from forecast_cli import plots

    drawn, titles = [], []
    monkeypatch.setattr(plots, "save_panels",
                        lambda panels, path, title: (drawn.extend(p.title for p in panels), titles.append(title)))
    runner.invoke(app, [*args, "--quiet", "--plot", str(tmp_path / "ev.png"), "--plot-series", "1"])
    assert drawn == ["s17"]  # the worst drawn, as the table lists it
    assert titles == ["Forecasts against the actuals\n1 of 25 series: those forecast worst (--plot-series draws more)"]


def test_evaluate_without_history_has_no_mase_and_refuses_foreign_files(tmp_path, long_csv):
    frame = make_long(1, 4)
    frame.rename(columns={"y": "yhat"}).to_csv(tmp_path / "f.csv", index=False)
    make_long(1, 4).to_csv(tmp_path / "a.csv", index=False)
    result = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "a.csv"), "--json"])
    assert result.exit_code == 0 and "mase" not in json.loads(result.stdout)["overall"]
    assert json.loads(result.stdout)["mase_scale_from"] is None
    result = runner.invoke(app, ["evaluate", str(long_csv), str(tmp_path / "a.csv")])
    assert result.exit_code == ExitCode.DATA and "missing column(s) yhat" in result.stderr


def test_evaluate_reads_the_actuals_with_the_columns_train_was_told(tmp_path):
    """Actuals with a covariate beside the target (`date,temp,load`), as trained with
    --target-col load: evaluate takes the same flag, where its error named a flag it lacked."""
    days = pd.date_range("2020-01-01", periods=60, freq="D")
    t = np.arange(60)
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "temp": (10 + np.sin(t / 7)).round(3),
                          "load": (100 + 10 * np.sin(2 * np.pi * t / 7)).round(3)})
    frame.to_csv(tmp_path / "actuals.csv", index=False)
    forecast = pd.DataFrame({"unique_id": "load", "ds": days[-7:].strftime("%Y-%m-%d"), "yhat": frame["load"][-7:] + 2})
    forecast.to_csv(tmp_path / "forecast.csv", index=False)
    refused = runner.invoke(app, ["evaluate", str(tmp_path / "forecast.csv"), str(tmp_path / "actuals.csv")])
    assert refused.exit_code == ExitCode.USAGE and "Choose one with --target-col" in refused.stderr
    result = runner.invoke(app, ["evaluate", str(tmp_path / "forecast.csv"), str(tmp_path / "actuals.csv"),
                                 "--target-col", "load", "--time-col", "date", "--history", str(tmp_path / "actuals.csv"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["matched"] == 7 and summary["overall"]["mae"] == pytest.approx(2.0)


def test_evaluate_matches_times_with_offsets_and_without_in_utc(tmp_path):
    """A model reads a file whether or not its times carry UTC offsets, so forecasts of a file
    without offsets meet actuals with them (a feed that gained its offsets; a merge
    ValueError traceback) and the other way round; a forecast file written in summer and winter
    offsets (another tool's, Europe/Paris) is matched by instant (it was "not all dates")."""
    hours = pd.date_range("2024-03-30 20:00", periods=12, freq="h", tz="UTC")  # across the clocks' change
    values = np.arange(12.0) + 100
    paris = [t.isoformat() for t in hours.tz_convert("Europe/Paris")]
    texts = {"naive": list(hours.strftime("%Y-%m-%d %H:%M:%S")), "utc": [t.isoformat() for t in hours], "paris": paris}
    for name, times in texts.items():
        pd.DataFrame({"unique_id": "a", "ds": times, "yhat": values + 1}).to_csv(tmp_path / f"f_{name}.csv", index=False)
        pd.DataFrame({"unique_id": "a", "ds": times, "y": values}).to_csv(tmp_path / f"a_{name}.csv", index=False)
    for forecasts in texts:
        for actuals in texts:
            result = runner.invoke(app, ["evaluate", str(tmp_path / f"f_{forecasts}.csv"),
                                         str(tmp_path / f"a_{actuals}.csv"), "--json"])
            assert result.exit_code == 0, (forecasts, actuals, result.output)
            summary = json.loads(result.stdout)
            assert (summary["matched"], summary["overall"]["mae"]) == (12, 1.0), (forecasts, actuals)


def test_predict_plot(trained_model, tmp_path):
    model_dir, data = trained_model
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / "f.csv"),
                                 "--plot", str(tmp_path / "p.png"), "--plot-series", "2"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.png").read_bytes().startswith(PNG)


def test_every_panel_shows_its_own_dates(tmp_path):
    """Series of one file can cover different years (a product launched later): each panel keeps
    its date labels, where only the bottom panel's were shown, as though all shared its axis."""
    import re

    from forecast_cli.plots import Panel, save_panels

    new, old = pd.date_range("2021-01-01", periods=24, freq="MS"), pd.date_range("2015-01-01", periods=24, freq="MS")
    save_panels([Panel("new", history=(new, np.arange(24.0))), Panel("old", history=(old, np.arange(24.0)))],
                tmp_path / "two.svg", "Forecast")
    labels = re.findall(r"<!-- (\d{4}-\d\d) -->", (tmp_path / "two.svg").read_text())  # the SVG names each text
    assert "2021-07" in labels and "2015-07" in labels


def test_predict_plot_says_which_series_it_draws_when_not_all(trained_model, tmp_path, monkeypatch):
    """A file of thousands of series draws a few: the title says how many of how many, and
    which (the first by id); drawing every series adds nothing to the title."""
    from forecast_cli import plots

    model_dir, data = trained_model
    drawn = []
    monkeypatch.setattr(plots, "save_panels", lambda panels, path, title: drawn.append(([p.title for p in panels], title)))
    for n in ("1", "50"):
        result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / "f.csv"),
                                     "--plot", str(tmp_path / "p.png"), "--plot-series", n, "--quiet"])
        assert result.exit_code == 0, result.output
    series = sorted(pd.read_csv(data)["unique_id"].astype(str).unique())
    assert drawn[0] == ([series[0]], f"Forecast of the next 4 steps\n1 of {len(series)} series: the first by id "
                                     "(--plot-series draws more)")
    assert drawn[1] == (series, "Forecast of the next 4 steps")


def test_predict_plot_draws_a_gap_where_the_file_has_no_value(trained_model, tmp_path, monkeypatch):
    """The forecast reads the gap filled in; the plot shows the history as the file gave it."""
    from forecast_cli import plots

    model_dir, data = trained_model
    frame = pd.read_csv(data)
    frame.loc[frame.index[frame["unique_id"] == "s1"][-5], "y"] = np.nan
    frame.to_csv(tmp_path / "gappy.csv", index=False)
    drawn = {}
    monkeypatch.setattr(plots, "save_panels",
                        lambda panels, path, title: drawn.update({p.title: p.history[1] for p in panels}))
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "gappy.csv"), "--output",
                                 str(tmp_path / "f.csv"), "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    assert np.isnan(drawn["s1"][-5]) and np.isnan(drawn["s1"]).sum() == 1 and not np.isnan(drawn["s0"]).any()


def test_doctor_reports_gaps_and_limits():
    report = diagnose(SAMPLE / "co2_weekly_maunaloa.csv")
    text = "\n".join(f.text for f in report.findings)
    assert report.ok and "59 missing value(s)" in text and "season 52" in text
    assert "largest --horizon with the default lookback" in text


def test_doctor_gives_the_horizons_that_fit_data_shorter_than_its_season(tmp_path):
    """500 minutes hold no day of them; the default horizon (a day) does not fit, but horizons
    up to 166 do, the network reading as many minutes as it forecasts."""
    times = pd.date_range("2024-01-01", periods=500, freq="min")
    pd.DataFrame({"ds": times.astype(str), "y": np.arange(500) % 17 + 10.0}).to_csv(tmp_path / "min.csv", index=False)
    report = diagnose(tmp_path / "min.csv")
    assert not report.ok and "Use --horizon 166 or less" in str(report.failure)
    assert diagnose(tmp_path / "min.csv", horizon=166).ok and not diagnose(tmp_path / "min.csv", horizon=167).ok


def test_doctor_json_gives_a_pipeline_the_verdict_and_the_findings(tmp_path):
    """A platform checking files before training reads stdout: the findings as printed on stderr,
    whether train would run, and its exit code; a file train would refuse exits with that code."""
    result = runner.invoke(app, ["doctor", str(SAMPLE / "co2_weekly_maunaloa.csv"), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"] and report["exit_code"] == 0
    assert report["findings"][0]["level"] == "ok" and "frequency W-SAT" in report["findings"][0]["text"]
    assert [f["text"] for f in report["findings"]][1] in result.stderr
    (tmp_path / "bad.csv").write_text("ds,y\n2020-01-01,1\n2020-02-01,x\n")
    result = runner.invoke(app, ["doctor", str(tmp_path / "bad.csv"), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == ExitCode.DATA and report["exit_code"] == ExitCode.DATA and not report["ok"]
    assert report["findings"][-1]["level"] == "error" and "'x' in column 'y' is not a number" in report["findings"][-1]["text"]


def test_doctor_names_a_series_that_ends_before_the_others(tmp_path):
    """A series whose values stopped (a product discontinued, a feed that broke) is forecast
    from its own last time, before the others': doctor says so, and train still would run."""
    frame = make_long(3, 40)
    frame.drop(frame.index[frame["unique_id"] == "s2"][-3:]).to_csv(tmp_path / "ragged.csv", index=False)
    report = diagnose(tmp_path / "ragged.csv", horizon=4)
    warnings = [f.text for f in report.findings if f.level == "warning"]
    assert report.ok and any("series 's2' ends before the others: its last value is at" in w for w in warnings)
    make_long(3, 40).to_csv(tmp_path / "even.csv", index=False)
    assert not any("ends before" in f.text for f in diagnose(tmp_path / "even.csv", horizon=4).findings)


def test_doctor_reads_a_file_as_train_does_its_covariates_and_rows_after_the_last_values(tmp_path):
    """A file with a column of prices, one empty value and the next two days' rows left empty
    (to be filled by the next export): doctor describes it as train does (the prices a covariate,
    the empty rows at the end set aside, one value filled), not as seven values to fill."""
    frame = make_long(3, 40, freq="D").assign(price=lambda f: np.arange(len(f)) % 7 + 1.0)
    frame.loc[5, "y"] = np.nan
    frame.loc[frame.groupby("unique_id").cumcount() >= 38, "y"] = np.nan
    frame.to_csv(tmp_path / "sales.csv", index=False)
    texts = [f.text for f in diagnose(tmp_path / "sales.csv", horizon=4).findings]
    assert "covariates: price; 6 future row(s) after the last values; filled 1 missing value(s)" in texts[0]
    assert any("6 row(s) after the last value of their series have an empty 'y'" in t for t in texts)
    assert any(t.startswith("1 missing value(s) in 'y'; train fills them") for t in texts)
    assert any(t.startswith("series lengths 38 to 38") for t in texts)
    result = runner.invoke(app, ["train", str(tmp_path / "sales.csv"), "--horizon", "4", "--out", str(tmp_path / "m"),
                                 *TINY])
    assert result.exit_code == 0, result.output
    assert texts[0].removeprefix("detected ") in result.stderr  # the same words as train's "Detected ..."


def test_doctor_says_which_series_are_counted_in_a_larger_unit(tmp_path):
    frame = make_long(3, 40)
    frame.loc[frame["unique_id"] == "s1", "y"] *= 1e-4  # a rate around 0.01
    frame.to_csv(tmp_path / "rates.csv", index=False)
    notes = [f.text for f in diagnose(tmp_path / "rates.csv", horizon=4).findings if f.level == "note"]
    assert any("1 series of values below 1 (e.g. 's1') first counted in a power of ten" in n for n in notes), notes
    make_long(3, 40).to_csv(tmp_path / "counts.csv", index=False)
    assert not any("below 1" in f.text for f in diagnose(tmp_path / "counts.csv", horizon=4).findings)


def test_doctor_exits_non_zero_when_train_would_fail(tmp_path):
    (tmp_path / "bad.csv").write_text("ds,y\n2020-01-01,1\n2020-01-01,2\n2020-01-02,3\n")
    result = runner.invoke(app, ["doctor", str(tmp_path / "bad.csv")])
    assert result.exit_code == ExitCode.DATA and "train would fail" in result.stderr and "more than once" in result.stderr
    result = runner.invoke(app, ["doctor", str(SAMPLE / "airpassengers.csv"), "--horizon", "100"])
    assert result.exit_code == ExitCode.DATA and "Use --horizon" in result.stderr
    result = runner.invoke(app, ["doctor", str(SAMPLE / "airpassengers.csv"), "--horizon", "12"])
    assert result.exit_code == 0 and "detected" in result.stderr


def test_doctor_checks_the_default_horizon_when_none_is_given(tmp_path):
    result = runner.invoke(app, ["doctor", str(SAMPLE / "airpassengers.csv")])
    assert result.exit_code == 0 and "--horizon defaults to 18 for frequency MS" in result.stderr
    (tmp_path / "short.csv").write_text("".join((SAMPLE / "airpassengers.csv").read_text().splitlines(True)[:31]))
    result = runner.invoke(app, ["doctor", str(tmp_path / "short.csv")])
    assert result.exit_code == ExitCode.DATA
    assert "the default horizon for frequency MS, 18, needs at least 48 rows" in result.stderr and "Use --horizon 10" in result.stderr


def test_largest_horizon():
    # Where two seasons or the horizon do not fit, a season: 12 + 2 x 66 = 144 rows.
    assert largest_horizon(np.array([144]), 12) == 66
    assert largest_horizon(np.array([10]), 1) == 3  # lookback 4 (the least) + 2 x 3 = 10; horizon 4 needs 12
    # hundreds of monthly series read three years where that fits (horizon 32: 36 + 2 x 32 = 100
    # rows), then two seasons or the horizon, then a season: 12 + 2 x 44 = 100
    assert largest_horizon(np.full(500, 100), 12) == 44


def test_backtest_takes_the_validation_windows_of_train(tmp_path):
    make_long(2, 60).to_csv(tmp_path / "data.csv", index=False)
    result = runner.invoke(app, ["backtest", str(tmp_path / "data.csv"), "--horizon", "4", "--folds", "1",
                                 "--val-windows", "3", "--output-dir", str(tmp_path / "bt"), *TINY])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "bt" / "backtest.json").read_text())["config"]["val_windows"] == 3
    assert "validating on 6 windows" in result.stderr  # 3 blocks of each of the 2 series


def test_doctor_checks_season_and_lookback_as_train_uses_them(tmp_path):
    """Integer steps: doctor suggests --season 12, and takes it (and --lookback) to say what
    train would read, or why train would fail, before any training."""
    t = np.arange(1, 121)
    pd.DataFrame({"ds": t, "y": 100 + 10 * np.sin(t * 2 * np.pi / 12)}).to_csv(tmp_path / "steps.csv", index=False)
    path = str(tmp_path / "steps.csv")
    result = runner.invoke(app, ["doctor", path, "--horizon", "12"])
    assert result.exit_code == 0 and "train with --season 12" in result.stderr
    assert "the network reads 12 steps (lookback) to forecast 12; season 1" in result.stderr
    result = runner.invoke(app, ["doctor", path, "--horizon", "12", "--season", "12"])
    assert result.exit_code == 0 and "--season 12" not in result.stderr  # named: no hint left
    assert "the network reads 24 steps (lookback) to forecast 12; season 12" in result.stderr
    result = runner.invoke(app, ["doctor", path, "--horizon", "12", "--lookback", "90"])
    assert result.exit_code == 0 and "largest --horizon with --lookback 90: 15" in result.stderr
    assert "the network reads 90 steps" in result.stderr and "cannot be forecast" not in result.stderr
    pd.concat([pd.read_csv(path).assign(unique_id="long"),
               pd.read_csv(path).tail(60).assign(unique_id="short")]).to_csv(tmp_path / "two.csv", index=False)
    result = runner.invoke(app, ["doctor", str(tmp_path / "two.csv"), "--horizon", "12", "--lookback", "90"])
    assert result.exit_code == 0 and "1 series shorter than lookback 90 cannot be forecast" in result.stderr
    result = runner.invoke(app, ["doctor", path, "--horizon", "16", "--lookback", "90"])
    assert result.exit_code == ExitCode.DATA
    assert "needs at least 122 rows in the longest series with --lookback 90, which has 120" in result.stderr
    # what train says of the same settings: it fails too
    result = runner.invoke(app, ["train", path, "--horizon", "16", "--lookback", "90", "--out", str(tmp_path / "m")])
    assert result.exit_code == ExitCode.DATA and "need at least 122" in result.stderr
    result = runner.invoke(app, ["doctor", path, "--season", "0"])
    assert result.exit_code == ExitCode.USAGE and "--season must be a whole number of at least 1" in result.stderr


def test_evaluate_notes_missing_forecasts_not_the_history(trained_model, tmp_path):
    """An actuals file of the whole data holds each series' history and values past the horizon:
    no note for those, every night. A series with no forecast, and a row missing between a
    series' forecasts, are noted."""
    model_dir, _ = trained_model
    full = make_long(3, 56)
    full[full["ds"] <= "2018-12-01"].to_csv(tmp_path / "history.csv", index=False)
    full.to_csv(tmp_path / "all.csv", index=False)  # history, the 4 forecast months and 4 more
    assert runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "history.csv"),
                               "--output", str(tmp_path / "f.csv")]).exit_code == 0
    result = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "all.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["matched"] == 12 and summary["unmatched_actuals"] == 3 * 52 - 12 + 3 * 4
    assert summary["actuals_outside_forecasts"] == summary["unmatched_actuals"]
    assert "Note" not in result.stderr
    # The history those rows hold scales MASE, as --history with the training data does (there was no MASE).
    given = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "all.csv"), "--json",
                                "--history", str(tmp_path / "history.csv")])
    assert summary["mase_scale_from"] == "actuals" and json.loads(given.stdout)["mase_scale_from"] == "history"
    assert summary["overall"]["mase"] == pytest.approx(json.loads(given.stdout)["overall"]["mase"], rel=1e-12)
    assert summary["overall"]["mase"] is not None
    forecast = pd.read_csv(tmp_path / "f.csv")
    gone = (forecast["unique_id"] == "s2") | ((forecast["unique_id"] == "s0") & (forecast["ds"] == "2019-02-01"))
    forecast[~gone].to_csv(tmp_path / "f2.csv", index=False)
    result = runner.invoke(app, ["evaluate", str(tmp_path / "f2.csv"), str(tmp_path / "all.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["series_without_forecast"] == 1 and summary["actuals_within_forecasts"] == 1
    assert ("Note: 1 series of the actuals have no forecast (e.g. 's2'); 1 actual row(s) between a series' "
            "first and last forecast have no forecast.") in " ".join(result.stderr.split())


def test_evaluate_refuses_a_forecast_file_with_a_series_and_time_twice(trained_model, tmp_path):
    """Two nights' forecasts joined in one file scored each overlapping row twice ("24 forecasts
    matched" for 12): refused, naming the series, the time and the lines."""
    model_dir, data = trained_model
    assert runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / "f.csv")]).exit_code == 0
    forecast = pd.read_csv(tmp_path / "f.csv")
    pd.concat([forecast, forecast.head(2)]).to_csv(tmp_path / "twice.csv", index=False)
    result = runner.invoke(app, ["evaluate", str(tmp_path / "twice.csv"), str(data)])
    assert result.exit_code == ExitCode.DATA, result.output
    first = forecast.iloc[0]
    assert (f"series {first['unique_id']!r} has a forecast for {first['ds']} more than once (lines 2, "
            f"{len(forecast) + 2})") in " ".join(result.stderr.split())


def test_evaluate_refuses_a_forecast_that_is_not_a_finite_number(trained_model, tmp_path):
    """An empty forecast was refused, naming its line; an infinite one (a file edited by hand, or
    another tool's) was scored: its series' scores came out NaN, the overall row empty, and numpy
    warned on stderr. Refused the same way, with the value."""
    model_dir, data = trained_model
    assert runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / "f.csv")]).exit_code == 0
    forecast = pd.read_csv(tmp_path / "f.csv")
    for value, said in (("inf", "line 4: yhat is inf (not a finite number)"),
                        ("-inf", "line 4: yhat is -inf (not a finite number)"), ("", "line 4: yhat is not a number")):
        forecast.astype({"yhat": object}).assign(yhat=lambda f: f["yhat"].where(f.index != 2, value)).to_csv(
            tmp_path / "edited.csv", index=False)
        result = runner.invoke(app, ["evaluate", str(tmp_path / "edited.csv"), str(data)])
        assert result.exit_code == ExitCode.DATA, result.output
        assert said in result.stderr and "Warning" not in result.stderr, result.stderr


def test_evaluate_says_why_no_forecast_met_an_actual(trained_model, tmp_path):
    """A nightly job that scores before the night's values arrived, an export that wrote the ids
    as decimals, a file of other series: each said so, with the fix, where every case read "check
    that the actuals cover the forecast dates and use the same ids"."""
    model_dir, data = trained_model
    full = make_long(3, 52)
    history, actuals = full[full["ds"] <= "2018-12-01"], full[full["ds"] > "2018-12-01"]
    history.to_csv(tmp_path / "history.csv", index=False)
    assert runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "history.csv"), "--output",
                               str(tmp_path / "f.csv")]).exit_code == 0

    def refusal(frame: pd.DataFrame) -> str:
        frame.to_csv(tmp_path / "actuals.csv", index=False)
        result = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "actuals.csv")])
        assert result.exit_code == ExitCode.DATA and "Traceback" not in result.output, result.output
        said = " ".join(result.stderr.split())
        assert said.startswith(f"Error: no forecast in {tmp_path / 'f.csv'} has an actual value in "), said
        return said

    assert ("the actual values of the forecast series end at 2018-12-01, before the first forecast (2019-01-01): "
            "they have not arrived yet? Score the forecasts once they have.") in refusal(history)
    numbered = actuals.assign(unique_id=actuals["unique_id"].str[1:].astype(int) + 7)
    history.assign(unique_id=history["unique_id"].str[1:].astype(int) + 7).to_csv(tmp_path / "h7.csv", index=False)
    assert runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "h7.csv"), "--output",
                               str(tmp_path / "f.csv")]).exit_code == 0
    assert ("its series are the forecasts' ids written another way ('7.0' in the actuals, '7' in the forecasts): "
            "column 'unique_id' stored as decimal numbers?") in refusal(numbered.astype({"unique_id": float}))
    assert ("none of the 3 forecast series is in the actuals (forecasts: '7', ...; actuals: 's0', ...)"
            in refusal(actuals))


def test_evaluate_scores_only_the_actual_values_there_are(tmp_path):
    """An actuals file with an empty value and a missing row: neither is filled in and scored (as
    `train` fills its data); both are forecasts with no actual yet. Scored by hand: |errors| 1 and 3."""
    dates = pd.date_range("2024-01-01", periods=4, freq="MS").strftime("%Y-%m-%d")
    history = pd.DataFrame({"ds": pd.date_range("2022-01-01", periods=24, freq="MS").strftime("%Y-%m-%d"),
                            "y": np.arange(24.0) + 50})
    history.to_csv(tmp_path / "history.csv", index=False)
    pd.DataFrame({"unique_id": "y", "ds": dates, "yhat": [100.0, 100.0, 100.0, 100.0]}).to_csv(
        tmp_path / "forecast.csv", index=False)
    # 2024-02: empty; 2024-03: no row; the filled values (interpolated 102, 102) would add two errors of 2
    (tmp_path / "actuals.csv").write_text(history.to_csv(index=False) + f"{dates[0]},101\n{dates[1]},\n{dates[3]},103\n")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "forecast.csv"), str(tmp_path / "actuals.csv"),
                                 "--history", str(tmp_path / "history.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["matched"] == 2 and summary["overall"]["mae"] == pytest.approx(2.0)
    assert "2 forecast row(s) have no actual yet (e.g. y 2024-02-01, y 2024-03-01)" in result.stderr
    # The training file with the next months' empty rows at its end, as train reads it: they are
    # set aside, not filled into the history that scales MASE.
    (tmp_path / "history-ahead.csv").write_text(history.to_csv(index=False) + f"{dates[0]},\n{dates[1]},\n")
    ahead = runner.invoke(app, ["evaluate", str(tmp_path / "forecast.csv"), str(tmp_path / "actuals.csv"),
                                "--history", str(tmp_path / "history-ahead.csv"), "--json"])
    assert json.loads(ahead.stdout)["overall"]["mase"] == summary["overall"]["mase"]


def test_backtest_scores_only_the_values_the_data_has(tmp_path):
    """A value missing from the data is filled in for training, as `train` does, but it is no
    actual: backtest leaves it empty in forecasts.csv and out of every score."""
    frame = make_long(2, 48)
    gaps = (frame["unique_id"] == "s1") & frame.groupby("unique_id").cumcount().isin([45, 46])
    frame.loc[gaps, "y"] = np.nan
    frame.to_csv(tmp_path / "gappy.csv", index=False)
    result = runner.invoke(app, ["backtest", str(tmp_path / "gappy.csv"), "--horizon", "4", "--folds", "1",
                                 "--output-dir", str(tmp_path / "bt"), *TINY])
    assert result.exit_code == 0, result.output
    assert "2 values of the folds were missing in" in result.stderr
    rows = pd.read_csv(tmp_path / "bt" / "forecasts.csv")
    assert rows["y"].isna().sum() == 2 and rows.loc[rows["y"].isna(), "ds"].tolist() == ["2018-10-01", "2018-11-01"]
    scored = rows.dropna(subset=["y"])
    summary = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert summary["overall"]["lstm"]["mae"] == pytest.approx((scored["y"] - scored["lstm"]).abs().mean())


def test_evaluate_scores_a_night_of_actuals_alone(tmp_path):
    """A nightly job scores yesterday's forecast against the one value per series that arrived:
    too few times to infer a frequency, which scoring does not need (the rows are matched on
    series and time). It was refused with advice to give --freq, a flag evaluate does not have."""
    dates = pd.date_range("2024-01-01", periods=3, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 3, "ds": [*dates, *dates], "yhat": [10.0, 11, 12, 20, 21, 22]}).to_csv(
        tmp_path / "forecast.csv", index=False)
    (tmp_path / "night.csv").write_text(f"unique_id,ds,y\na,{dates[0]},12\nb,{dates[0]},19\nc,{dates[0]},\n")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "forecast.csv"), str(tmp_path / "night.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["matched"] == 2 and summary["overall"]["mae"] == pytest.approx(1.5)
    assert "4 forecast row(s) have no actual yet" in result.stderr
    assert "'c'" not in result.stderr  # a series whose value has not arrived is no error either


def test_evaluate_says_which_series_its_mase_leaves_out(tmp_path):
    """MASE divides each series' errors by its history's seasonal-naive error, which a constant
    history does not have: that series was left out of the overall MASE without a word, and the
    table showed 'nan' for it where the overall row shows '-'. A note names it now. (Integer
    steps whose every actual met a forecast, as here, ended in a traceback comparing them.)"""
    history = pd.DataFrame({"unique_id": ["a"] * 6 + ["b"] * 6, "ds": list(range(1, 7)) * 2,
                            "y": [1.0, 3, 2, 4, 3, 5, 7, 7, 7, 7, 7, 7]})
    history.to_csv(tmp_path / "history.csv", index=False)
    pd.DataFrame({"unique_id": ["a", "b"], "ds": [7, 7], "yhat": [6.0, 7.0]}).to_csv(tmp_path / "f.csv", index=False)
    pd.DataFrame({"unique_id": ["a", "b"], "ds": [7, 7], "y": [4.0, 8.0]}).to_csv(tmp_path / "actual.csv", index=False)
    result = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "actual.csv"), "--history",
                                 str(tmp_path / "history.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    scales = {row["unique_id"]: row["mase"] for row in summary["by_series"]}
    assert scales == {"a": pytest.approx(2 / 1.6), "b": None} and summary["overall"]["mase"] == pytest.approx(2 / 1.6)
    assert ("MASE leaves out 1 series whose history gives no scale to divide the errors by (a constant history, or "
            "none; e.g. 'b')") in " ".join(result.stderr.split())
    table_row_b = next(line for line in result.stderr.splitlines() if "│ b " in line)
    assert "nan" not in table_row_b and table_row_b.rstrip(" │").endswith("-"), table_row_b


def test_evaluate_reads_day_month_dates_in_the_order_of_the_forecasts(tmp_path):
    """Two nights of actuals from a day-first source (03/02/2024: 3 February) allow both orders;
    the custom of `/` read 3 March and 2 April, and nothing matched the forecasts. The forecasts'
    own dates decide it."""
    dates = pd.date_range("2024-02-01", periods=7, freq="D")
    pd.DataFrame({"unique_id": "a", "ds": dates.strftime("%Y-%m-%d"), "yhat": np.arange(7.0) + 10}).to_csv(
        tmp_path / "forecast.csv", index=False)
    (tmp_path / "night.csv").write_text("unique_id,ds,y\na,03/02/2024,13\na,04/02/2024,14\n")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "forecast.csv"), str(tmp_path / "night.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["matched"] == 2 and summary["overall"]["mae"] == pytest.approx(1.0)


def test_evaluate_reads_the_history_with_the_frequency_train_was_given(tmp_path):
    """Weekly values on a few odd days (a holiday moved the count): train needed --freq W-MON, and
    evaluate's --history needs it too to scale MASE; it had no such flag."""
    ds = pd.date_range("2023-01-02", periods=40, freq="W-MON")
    odd = ds.to_series().reset_index(drop=True)
    history = pd.DataFrame({"ds": odd.dt.strftime("%Y-%m-%d"), "y": np.arange(40.0) + 10})
    history = history.drop(index=range(2, 40, 3))  # no four weeks in a row: nothing to infer a frequency from
    history.to_csv(tmp_path / "history.csv", index=False)
    ahead = pd.date_range(ds[-1] + pd.Timedelta(weeks=1), periods=2, freq="W-MON").strftime("%Y-%m-%d")
    pd.DataFrame({"unique_id": "y", "ds": ahead, "yhat": [50.0, 51.0]}).to_csv(tmp_path / "forecast.csv", index=False)
    (tmp_path / "actuals.csv").write_text(f"ds,y\n{ahead[0]},52\n{ahead[1]},51\n")
    args = ["evaluate", str(tmp_path / "forecast.csv"), str(tmp_path / "actuals.csv"), "--history",
            str(tmp_path / "history.csv"), "--json"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == ExitCode.DATA and "Give it with --freq" in refused.stderr
    result = runner.invoke(app, [*args, "--freq", "W-MON"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overall"]["mase"] == pytest.approx(1.0 / 1.0)


def test_evaluate_reads_an_actuals_file_of_the_whole_data_once(tmp_path, monkeypatch):
    """Actuals that hold each series' history before its forecasts scale MASE by it, filled as
    `train` fills data: a missing row, an empty value, a gap just before the forecasts (filled
    from the value after it), empty rows at the end set aside; the actuals are scored as read.
    The file was read twice for that, as it is and then filled (half of evaluate's time on 2
    million rows); now once, the filled history made from what was read. So the same scores come
    from stdin, where there was no MASE as the file could not be read again."""
    from forecast_cli import data as data_module
    from forecast_cli.data import ID, TARGET, TIME, load_series
    from forecast_cli.metrics import mase_scale

    rng = np.random.default_rng(3)
    parts = []
    for i in range(4):
        part = pd.DataFrame({"unique_id": f"u{i}", "ds": pd.date_range("2024-01-01", periods=40, freq="D"),
                             "y": 20 + i + 3 * np.sin(np.arange(40)) + rng.normal(0, 0.5, 40)})
        if i == 1:
            part = part.drop(index=[8, 9, 20])
        if i == 2:
            part.loc[[4, 32, 33], "y"] = np.nan  # 32 and 33: just before the first forecast (34)
        if i == 3:
            part.loc[[38, 39], "y"] = np.nan  # not yet arrived
        parts.append(part)
    whole = pd.concat(parts).assign(ds=lambda f: f["ds"].dt.strftime("%Y-%m-%d"))
    whole.to_csv(tmp_path / "actuals.csv", index=False)
    ahead = pd.date_range("2024-02-04", periods=6, freq="D").strftime("%Y-%m-%d")
    forecast = pd.DataFrame({"unique_id": np.repeat([f"u{i}" for i in range(4)], 6), "ds": np.tile(ahead, 4),
                             "yhat": 21 + rng.normal(0, 2, 24)})
    forecast.to_csv(tmp_path / "forecast.csv", index=False)

    # MASE by hand: the history as train reads the file, before each series' first forecast
    history = load_series(tmp_path / "actuals.csv", split_future=True).frame
    history = history[history[TIME] < pd.Timestamp(ahead[0])]
    scales = {uid: mase_scale(rows[TARGET].to_numpy(), 7) for uid, rows in history.groupby(ID)}
    scored = forecast.assign(ds=pd.to_datetime(forecast["ds"])).merge(
        whole.assign(ds=pd.to_datetime(whole["ds"])).dropna(subset=["y"]), on=["unique_id", "ds"])
    mase = ((scored["y"] - scored["yhat"]).abs() / scored["unique_id"].map(scales)).mean()

    reads = []
    read_table = data_module.read_table
    monkeypatch.setattr(data_module, "read_table", lambda path, *a, **k: reads.append(path) or read_table(path, *a, **k))
    result = runner.invoke(app, ["evaluate", str(tmp_path / "forecast.csv"), str(tmp_path / "actuals.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["matched"] == len(scored) == 24 - 2  # u3's last two have not arrived
    assert summary["mase_scale_from"] == "actuals" and summary["overall"]["mase"] == pytest.approx(mase, rel=1e-12)
    assert [str(path) for path in reads] == [str(tmp_path / "actuals.csv")]
    piped = runner.invoke(app, ["evaluate", str(tmp_path / "forecast.csv"), "-", "--json"],
                          input=(tmp_path / "actuals.csv").read_bytes())
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout)["overall"] == summary["overall"]


def test_predict_plot_joins_the_forecast_to_the_last_value(trained_model, tmp_path, monkeypatch):
    """The forecast line (and its band) starts at the series' last value, not a step after it;
    a series whose last row is empty ends a value sooner and is joined there."""
    from forecast_cli import plots

    model_dir, data = trained_model
    frame = pd.read_csv(data)
    last = frame.index[frame["unique_id"] == "s1"][-1]
    frame.loc[last, "y"] = np.nan
    frame.to_csv(tmp_path / "last.csv", index=False)
    drawn = {}
    monkeypatch.setattr(plots, "save_panels", lambda panels, path, title: drawn.update({p.title: p for p in panels}))
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "last.csv"), "--output",
                                 str(tmp_path / "f.csv"), "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(tmp_path / "f.csv")
    for uid, ends in (("s0", frame.loc[frame["unique_id"] == "s0", "y"].iloc[-1]), ("s1", frame.loc[last - 1, "y"])):
        panel = drawn[uid]
        times, values, label = panel.forecasts[0]
        assert label == "forecast" and len(times) == 4 + 1, uid
        assert times[0] == panel.history[0][-1] and values[0] == panel.history[1][-1] == ends, uid
        assert np.allclose(values[1:], forecast.loc[forecast["unique_id"] == uid, "yhat"], rtol=1e-7), uid


@pytest.mark.parametrize("quantiles, with_mase", [(False, True), (True, True), (True, False)])
def test_per_series_scores_are_each_series_scored_alone(quantiles, with_mase):
    """`evaluate`'s table of series scores each series' rows as `overall` scores all of them, to
    the bit: series of different lengths in no order, rows interleaved, a zero actual, a series
    of no scale (a constant history) and quantile columns."""
    from forecast_cli import scoring

    rng = np.random.default_rng(5)
    ids = rng.choice([f"s{k}" for k in range(40)], size=600)
    matched = pd.DataFrame({"unique_id": pd.array(ids, dtype="string"), "ds": np.arange(600),
                            "y": rng.gamma(2.0, 10.0, 600), "yhat": rng.gamma(2.0, 10.0, 600)})
    matched.loc[7, "y"] = 0.0
    matched["scale"] = matched["unique_id"].map({f"s{k}": (0.0 if k == 3 else 1.0 + k) for k in range(40)})
    if quantiles:
        matched["q0.1"], matched["q0.9"] = matched["yhat"] * 0.8, matched["yhat"] * 1.2
    expected = pd.DataFrame([{"unique_id": uid, "rows": len(g), **scoring._score_matched(g, with_mase)}
                             for uid, g in matched.groupby("unique_id", sort=True)])
    got = scoring._scores_by_series(matched, with_mase)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert ("pinball" in got) == quantiles and ("scaled_pinball" in got) == (quantiles and with_mase)
    assert (got["mase"].isna().tolist() == [uid == "s3" for uid in got["unique_id"]]) if with_mase else (
        "mase" not in got)
