"""End-to-end runs of `forecast train` and `forecast predict` through Typer's CliRunner."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.errors import ExitCode
from tests.conftest import SAMPLE, TINY, make_long

runner = CliRunner()


def test_train_writes_a_complete_model_directory(trained_model):
    model_dir, _ = trained_model
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "history.csv", "manifest.json", "metrics.json", "model.keras", "model.onnx"]
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["config"]["horizon"] == 4 and manifest["config"]["lookback"] == 8
    assert manifest["config"]["seed"] == 42 and manifest["freq"] == "MS" and manifest["season"] == 12
    assert set(manifest["series"]) == {"s0", "s1", "s2"}
    assert manifest["series"]["s0"]["last"].startswith("2018-12-01")
    assert len(manifest["data"]["sha256"]) == 64 and "tensorflow" in manifest["versions"]
    scores = json.loads((model_dir / "metrics.json").read_text())
    for model in ("lstm", "naive", "seasonal_naive"):
        assert set(scores[model]) == {"mae", "rmse", "smape", "mase"}
    assert "skill_vs_seasonal_naive" in scores
    history = pd.read_csv(model_dir / "history.csv")
    assert list(history.columns) == ["epoch", "loss", "val_loss", "member"] and 1 <= len(history) <= 2
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib") for p in model_dir.iterdir())


def test_predict_to_stdout_gives_future_dates(trained_model):
    model_dir, data = trained_model
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "unique_id,ds,yhat" and len(lines) == 1 + 3 * 4
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert frame.loc[frame.unique_id == "s0", "ds"].tolist() == ["2019-01-01", "2019-02-01", "2019-03-01", "2019-04-01"]
    assert frame["yhat"].between(50, 250).all()


def test_predict_to_file_and_same_bytes_twice(trained_model, tmp_path):
    model_dir, data = trained_model
    for name in ("a.csv", "b.csv"):
        result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert result.stdout == ""  # stdout carries data only; the note went to stderr
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_predict_reads_a_gzipped_csv_as_the_plain_file(trained_model, tmp_path):
    import gzip

    model_dir, data = trained_model
    packed = tmp_path / "long.csv.gz"
    packed.write_bytes(gzip.compress(data.read_bytes()))
    outputs = [runner.invoke(app, ["predict", str(model_dir), str(path), "--quiet"]) for path in (data, packed)]
    assert [r.exit_code for r in outputs] == [0, 0], outputs[1].output
    assert outputs[1].stdout == outputs[0].stdout and len(outputs[1].stdout.splitlines()) == 1 + 3 * 4


def test_same_seed_same_model(tmp_path, long_csv):
    outputs = []
    for name in ("m1", "m2"):
        result = runner.invoke(app, ["train", str(long_csv), "--horizon", "4", "--out", str(tmp_path / name), "--quiet", *TINY])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["predict", str(tmp_path / name), str(long_csv)])
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]


def test_single_series_with_integer_steps(tmp_path):
    path = tmp_path / "steps.csv"
    make_long(1, 40, freq=None)[["ds", "y"]].rename(columns={"ds": "t", "y": "value"}).to_csv(path, index=False)
    result = runner.invoke(app, ["train", str(path), "--horizon", "3", "--out", str(tmp_path / "m"), *TINY])
    assert result.exit_code == 0, result.output
    assert "integer steps of 1" in result.stderr and "Model written to" in result.stderr
    # No season: seasonal naive is naive, one row in the summary rather than two alike.
    assert "naive (= seasonal naive)" in result.stderr
    assert not [line for line in result.stderr.splitlines() if line.lstrip("│┃ ").startswith("seasonal naive")]
    result = runner.invoke(app, ["predict", str(tmp_path / "m"), str(path)])
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert frame["ds"].tolist() == [41, 42, 43] and frame["unique_id"].tolist() == ["value"] * 3


def test_summary_table_and_progress_lines(tmp_path, long_csv):
    result = runner.invoke(app, ["train", str(long_csv), "--horizon", "4", "--out", str(tmp_path / "m"), *TINY])
    assert result.exit_code == 0
    assert "epoch 1/2" in result.stderr and "val_loss" in result.stderr
    assert "seasonal naive" in result.stderr and "MASE" in result.stderr
    assert "3 series" in result.stderr


def test_unseen_series_is_scaled_from_its_own_history(trained_model, tmp_path):
    model_dir, _ = trained_model
    frame = make_long(1, 20, seed=3)
    frame["unique_id"] = "new"
    frame["y"] *= 1000
    frame.to_csv(tmp_path / "new.csv", index=False)
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "new.csv")])
    assert result.exit_code == 0, result.output
    assert "not seen in training" in result.stderr
    yhat = pd.read_csv(pd.io.common.StringIO(result.stdout))["yhat"]
    assert yhat.between(50_000, 250_000).all()


def test_ids_written_as_decimal_numbers_are_named_in_a_warning(tmp_path):
    """A later export that stores whole-number ids as decimal numbers (Parquet doubles: 101.0)
    names no series the model knows; predict says so, with the pair, instead of a quiet note."""
    frame = make_long(3, 48).assign(unique_id=lambda f: f["unique_id"].str[1:].astype(int) + 101)
    frame.to_csv(tmp_path / "train.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "train.csv"), "--horizon", "4", "--out", str(tmp_path / "m"),
                                 *TINY])
    assert result.exit_code == 0, result.output
    later = frame.assign(unique_id=frame["unique_id"].astype(float), ds=pd.to_datetime(frame["ds"]))
    later.to_parquet(tmp_path / "later.parquet")
    result = runner.invoke(app, ["predict", str(tmp_path / "m"), str(tmp_path / "later.parquet")])
    assert result.exit_code == 0, result.output
    assert ("Warning: " + str(tmp_path / "later.parquet") + ": 3 of its 3 series are not ones the model was trained "
            "on, and 3 of those are the model's ids written another way ('101.0' here, '101' in training)"
            ) in " ".join(result.stderr.split())
    same = runner.invoke(app, ["predict", str(tmp_path / "m"), str(tmp_path / "train.csv")])
    assert same.exit_code == 0 and "not seen in training" not in same.stderr and "Warning" not in same.stderr


def test_doctor_names_the_first_missing_timestamp_and_the_hour_daylight_saving_skips(tmp_path):
    """A meter's half-hourly readings in local time lack 02:00 and 02:30 on the Sunday daylight
    saving starts: doctor names the first and says why; a gap on another day is named alone."""
    local = pd.date_range("2026-03-20", "2026-04-05", freq="30min", tz="Europe/Berlin").tz_localize(None)
    frame = pd.DataFrame({"ds": local.strftime("%Y-%m-%d %H:%M"), "y": np.arange(len(local)) % 48 + 10.0})
    frame.to_csv(tmp_path / "meter.csv", index=False)
    said = " ".join(runner.invoke(app, ["doctor", str(tmp_path / "meter.csv")]).stderr.split())
    assert ("2 missing timestamp(s) on the regular grid; train fills them the same way (the first: 2026-03-29 "
            "02:00:00). Every one is at 02:00 on a Sunday: the hour a local clock skips when daylight saving starts."
            ) in said, said
    frame.drop(index=[7]).to_csv(tmp_path / "gap.csv", index=False)  # 2026-03-20 03:30, a Friday
    said = " ".join(runner.invoke(app, ["doctor", str(tmp_path / "gap.csv")]).stderr.split())
    assert "3 missing timestamp(s) on the regular grid; train fills them the same way (the first: 2026-03-20 " \
           "03:30:00)" in said and "daylight" not in said, said


def test_a_file_mostly_filled_in_on_the_grid_is_warned_of(tmp_path):
    """Weekly values given to a daily model are read on the daily grid, six days in seven made up
    by --fill, and were forecast with a note only ("filled 72 missing value(s)", silent with
    --quiet): a warning says so, naming a series, as does training on a grid finer than the
    data's (--freq D for weekly values)."""
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    daily = pd.DataFrame({"ds": days.strftime("%Y-%m-%d"), "y": (100 + 5 * np.sin(np.arange(60) / 3)).round(3)})
    daily.to_csv(tmp_path / "daily.csv", index=False)
    weekly = daily.iloc[::7]
    weekly.to_csv(tmp_path / "weekly.csv", index=False)
    model = tmp_path / "m"
    result = runner.invoke(app, ["train", str(tmp_path / "daily.csv"), "--horizon", "7", "--out", str(model), *TINY])
    assert result.exit_code == 0 and "filled in" not in result.stderr, result.output
    for command in ("predict", "detect"):
        result = runner.invoke(app, [command, str(model), str(tmp_path / "weekly.csv"), "--quiet", "--output",
                                     str(tmp_path / f"{command}.csv")])
        assert result.exit_code == 0, result.output
        assert ("weekly.csv: 1 series has more values filled in (--fill interpolate) than read on the model's D grid "
                "(e.g. 'y': 48 of 57)") in " ".join(result.stderr.split()), command
    clean = runner.invoke(app, ["predict", str(model), str(tmp_path / "daily.csv"), "--quiet"])
    assert clean.exit_code == 0 and clean.stderr == ""
    result = runner.invoke(app, ["train", str(tmp_path / "weekly.csv"), "--freq", "D", "--horizon", "7", "--out",
                                 str(tmp_path / "m2"), *TINY])
    assert "than read on the D grid (e.g. 'y': 48 of 57); if the times are further apart, give --freq" in \
        " ".join(result.stderr.split())


def test_ids_that_lost_their_leading_zeros_are_named_so():
    """A spreadsheet drops an id's leading zeros (007 becomes 7): the warning says so, where it
    asked whether the ids were stored as decimal numbers."""
    from forecast_cli.pipeline import new_series_note

    note, warning = new_series_note(["7", "8"], 2, ["007", "008"], "f.csv")
    assert warning and "('7' here, '007' in training): their leading zeros dropped" in note
    assert "decimal numbers" in new_series_note(["101.0"], 1, ["101"], "f.csv")[0]
    # the warning names the id column that differs, among several
    note = new_series_note(["5/007"], 1, ["05/007"], "f.csv", ("shop", "sku"))[0]
    assert "('5/007' here, '05/007' in training): their leading zeros dropped in 'shop', as a spreadsheet" in note


def test_short_series_in_predict_is_named(trained_model, tmp_path):
    model_dir, _ = trained_model
    make_long(2, 20).groupby("unique_id").tail(5).to_csv(tmp_path / "short.csv", index=False)
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "short.csv")])
    assert result.exit_code == ExitCode.DATA
    assert "series 's0' has 5 values but the model reads the last 8" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: ") and "Traceback" not in result.output


def test_rows_after_the_last_value_are_ignored_with_a_warning(trained_model, tmp_path):
    """A file with the next dates already in it (target empty) forecasts as if they were not
    there, and says so; they used to be filled with made-up values that shifted the forecast."""
    model_dir, data = trained_model
    frame = pd.read_csv(data)
    ahead = pd.DataFrame({"unique_id": "s1", "ds": ["2019-01-01", "2019-02-01"], "y": [None, None]})
    pd.concat([frame, ahead]).to_csv(tmp_path / "ahead.csv", index=False)
    clean = runner.invoke(app, ["predict", str(model_dir), str(data), "--quiet"])
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "ahead.csv"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout == clean.stdout
    assert "2 row(s) after the last value of their series have an empty 'y' (e.g. series 's1' at 2019-01-01" in result.stderr
    # predict has no --future-covariates: the way out it names is the data's
    said = " ".join(result.stderr.split())
    assert "is forecast from there ('s1' from 2019-01-01). Fill in the values" in said
    assert "--future-covariates" not in said
    # detect checks the values before them; it forecasts nothing from there
    checked = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "ahead.csv"), "--last", "2"])
    said = " ".join(checked.stderr.split())
    assert checked.exit_code == 0 and "the values checked end there ('s1' before 2019-01-01). Fill in" in said
    assert "forecast from there" not in said
    result = runner.invoke(app, ["train", str(tmp_path / "ahead.csv"), "--horizon", "4", "--out", str(tmp_path / "m"),
                                 *TINY])
    assert result.exit_code == 0 and "name their columns with --future-covariates" in " ".join(result.stderr.split())

    from forecast_cli.config import TrainConfig
    from forecast_cli.pipeline import load_training

    config = TrainConfig(horizon=4)
    with_rows, _ = load_training(tmp_path / "ahead.csv", config)
    without, _ = load_training(data, config)
    pd.testing.assert_frame_equal(with_rows.frame, without.frame)  # training ignores them too


def test_predict_names_missing_and_unexpected_columns(trained_model, tmp_path):
    model_dir, _ = trained_model
    make_long(2, 20).rename(columns={"y": "value"}).to_csv(tmp_path / "cols.csv", index=False)
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "cols.csv")])
    assert result.exit_code == ExitCode.DATA
    assert "missing: y; unexpected: value" in result.stderr


COMMANDS = ["train", "predict", "backtest", "evaluate", "doctor", "inspect", "detect"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_works_and_has_an_example(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    if command:
        assert "Example: forecast " + command[0] in result.stdout


def test_every_option_and_argument_says_what_it_is_for():
    import typer

    commands = typer.main.get_command(app).commands
    silent = [f"{name} {param.name}" for name, command in commands.items() for param in command.params
              if not getattr(param, "help", None)]
    assert silent == []


def test_every_command_is_in_the_readme():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    registered = sorted(c.name or c.callback.__name__ for c in app.registered_commands)
    assert registered == sorted(COMMANDS)
    for command in COMMANDS:
        assert f"forecast {command} " in readme, command


def test_ensemble_is_one_network_averaging_its_members(tmp_path, long_csv):
    result = runner.invoke(app, ["train", str(long_csv), "--horizon", "4", "--out", str(tmp_path / "m"),
                                 "--ensemble", "2", "--quiet", *(a for a in TINY if a != "--no-refit")])
    assert result.exit_code == 0, result.output
    history = pd.read_csv(tmp_path / "m" / "history.csv")
    assert sorted(history["member"].unique()) == [1, 2] and history["refit"].fillna(0).sum() >= 2
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["config"]["ensemble"] == 2 and manifest["onnx"]["file"] == "model.onnx"
    for engine in ("onnx", "keras"):
        result = runner.invoke(app, ["predict", str(tmp_path / "m"), str(long_csv), "--engine", engine])
        assert result.exit_code == 0, result.output
        assert len(result.stdout.splitlines()) == 13


def test_a_refit_from_the_validated_network_goes_on_from_it_for_a_quarter_of_the_epochs(tmp_path, long_csv):
    """`--refit-start validated` trains the validated network on, for a quarter of the best
    epochs (at least one): its first refit epoch starts from what the network has learnt, so its
    loss is below that of a new network's first epoch."""
    args = ["train", str(long_csv), "--horizon", "4", "--quiet", "--epochs", "8", "--units", "8", "--lookback", "8",
            "--patience", "8"]
    refits = {}
    for start in ("new", "validated"):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / start), "--refit-start", start])
        assert result.exit_code == 0, result.output
        history = pd.read_csv(tmp_path / start / "history.csv")
        refits[start] = history[history["refit"] == 1]
        best = int(history.loc[history["refit"] != 1, "val_loss"].idxmin()) + 1
        metrics = json.loads((tmp_path / start / "metrics.json").read_text())
        expected = best if start == "new" else max(1, -(-best // 4))
        assert metrics["refit_epochs"] == [expected] and len(refits[start]) == expected
        manifest = json.loads((tmp_path / start / "manifest.json").read_text())
        assert manifest["config"]["refit_start"] == start
    assert refits["validated"]["loss"].iloc[0] < refits["new"]["loss"].iloc[0]


def test_the_refit_average_moves_the_forecast_and_not_the_validation(tmp_path, long_csv):
    """`--refit-average` changes only the refit's end: the validated network and its scores in
    metrics.json are the same with it off (0); the refit network's forecast is not. The setting
    is recorded in the model directory, and a value of 1 or more is refused."""
    args = ["train", str(long_csv), "--horizon", "4", "--quiet", "--epochs", "3", "--units", "8", "--lookback", "8",
            "--blend", "1"]  # the network alone: here the guard would ship the statistical forecast
    runs = {}
    for name, flags in (("on", []), ("off", ["--refit-average", "0"])):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / name), *flags])
        assert result.exit_code == 0, result.output
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        result = runner.invoke(app, ["predict", str(tmp_path / name), str(long_csv), "--quiet"])
        assert result.exit_code == 0, result.output
        runs[name] = (manifest["config"]["refit_average"], metrics, pd.read_csv(io.StringIO(result.stdout)))
    assert (runs["on"][0], runs["off"][0]) == (0.9, 0.0)
    assert runs["on"][1] == runs["off"][1]  # validation scores, blend weight, refit epochs
    assert not np.allclose(runs["on"][2]["yhat"], runs["off"][2]["yhat"], rtol=1e-6)
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "bad"), "--refit-average", "1"])
    assert result.exit_code == 2 and "--refit-average must be a number from 0" in result.stderr
    assert not (tmp_path / "bad").exists()


def test_hourly_data_through_daylight_saving_is_trained_and_forecast_in_utc(tmp_path):
    # A local clock's export: offsets +02:00 until the last Sunday of October, +01:00 after.
    hours = pd.date_range("2024-10-20", "2024-11-03", freq="h", tz="UTC", inclusive="left")
    load = 100 + 20 * np.sin(2 * np.pi * hours.hour / 24)
    data = tmp_path / "load.csv"
    pd.DataFrame({"time": [t.isoformat() for t in hours.tz_convert("Europe/Berlin")], "load": load}).to_csv(data, index=False)
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(tmp_path / "model"), *TINY])
    assert result.exit_code == 0, result.output
    assert "read in UTC" in result.stderr
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(pd.io.common.StringIO(result.stdout))["ds"].tolist()
    assert written == [str(hours[-1] + pd.Timedelta(hours=k)) for k in range(1, 5)]  # '2024-11-03 00:00:00+00:00', ...


def test_train_without_a_horizon_takes_the_frequency_s_default(tmp_path):
    make_long(2, 60).to_csv(tmp_path / "monthly.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "monthly.csv"), "--out", str(tmp_path / "model"), *TINY])
    assert result.exit_code == 0, result.output
    assert "Horizon 18 steps, the default for frequency MS" in result.stderr
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["config"]["horizon"] == 18
    steps = make_long(2, 60).assign(ds=lambda f: f.groupby("unique_id").cumcount() + 1)
    steps.to_csv(tmp_path / "steps.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "steps.csv"), "--out", str(tmp_path / "steps-model"), *TINY])
    assert result.exit_code == ExitCode.USAGE and not (tmp_path / "steps-model").exists()
    assert "--horizon is required for" in result.stderr and "integer steps" in result.stderr
    # Integer steps in a column named year are years (the bundled Nile series): yearly data's 6.
    result = runner.invoke(app, ["train", str(SAMPLE / "nile_yearly.csv"), "--out", str(tmp_path / "nile"), *TINY])
    assert result.exit_code == 0, result.output
    assert "Horizon 6 steps, the default for yearly data (integer years)" in result.stderr


def test_shops_whose_weeks_end_on_different_days_are_trained_and_forecast_on_their_own_days(tmp_path):
    """One weekly model for series on a Sunday, a Monday and a Wednesday: each forecast goes on
    on its own day, weekly data's horizon (13) and season (52). A series is late only when a
    whole week of it is missing, not because its week ends before another's."""
    frame = pd.concat([make_long(1, 60, freq=f"W-{day}", seed=k).assign(unique_id=f"shop{k}")
                       for k, day in enumerate(["SUN", "MON", "WED"])], ignore_index=True)
    frame.to_csv(tmp_path / "shops.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "shops.csv"), "--out", str(tmp_path / "model"), *TINY])
    assert result.exit_code == 0, result.output
    assert "frequency 7D; season 52; weeks ending on different days" in result.stderr
    assert "Horizon 13 steps" in result.stderr
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "shops.csv"), "--json",
                                 "--output", str(tmp_path / "f.csv")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["late"] == 0 and "Warning" not in result.stderr
    forecast = pd.read_csv(tmp_path / "f.csv", parse_dates=["ds"])
    for k, day in enumerate([6, 0, 2]):  # Sunday, Monday, Wednesday
        shop = forecast[forecast["unique_id"] == f"shop{k}"]["ds"]
        last = pd.Timestamp(frame[frame["unique_id"] == f"shop{k}"]["ds"].max())
        assert shop.tolist() == list(pd.date_range(last, periods=14, freq="7D")[1:]) and set(shop.dt.dayofweek) == {day}
    frame.drop(index=[59]).to_csv(tmp_path / "stale.csv", index=False)  # the Sunday shop's last week missing
    result = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "stale.csv"), "--json",
                                 "--output", str(tmp_path / "g.csv")])
    file = json.loads(result.stdout)["files"][0]
    assert file["late"] == 1 and file["late_series"] == ["shop0"]
    assert "series 'shop0' ends before the others" in result.stderr


def test_a_model_of_sunday_shops_forecasts_a_new_shop_that_reports_on_mondays(tmp_path):
    """A weekly model reads later files on any weekday: a new shop reporting on Mondays failed the
    nightly file (off the W-SUN grid), and every shop lost its forecast. The Sunday shops'
    forecasts are the ones the file without it gives."""
    sundays = make_long(2, 60, freq="W-SUN")
    sundays.to_csv(tmp_path / "sundays.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "sundays.csv"), "--horizon", "4", "--out",
                                 str(tmp_path / "model"), *TINY])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["freq"] == "W-SUN"
    monday = make_long(1, 30, freq="W-MON", seed=5).assign(unique_id="new")
    pd.concat([sundays, monday]).to_csv(tmp_path / "tonight.csv", index=False)
    alone = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "sundays.csv"), "--quiet"])
    both = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "tonight.csv"), "--quiet"])
    assert both.exit_code == 0, both.output
    forecast = pd.read_csv(io.StringIO(both.stdout), parse_dates=["ds"])
    new = forecast[forecast["unique_id"] == "new"]["ds"]
    assert new.tolist() == list(pd.date_range(monday["ds"].max(), periods=5, freq="7D")[1:])
    assert both.stdout.replace("".join(line + "\n" for line in both.stdout.splitlines() if line.startswith("new,")), "") \
        == alone.stdout


def test_train_json_gives_an_unattended_job_the_model_and_its_scores(tmp_path):
    """stdout holds the JSON alone (the summary table and progress are on stderr); a failure
    gives the error and exit code as JSON, as predict's --json does."""
    make_long(2, 40).to_csv(tmp_path / "d.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "d.csv"), "--horizon", "4", *TINY, "--out",
                                 str(tmp_path / "m"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["model"] == str(tmp_path / "m") and summary["series"] == 2 and summary["epochs"] == 2
    assert summary["metrics"] == json.loads((tmp_path / "m" / "metrics.json").read_text())
    failed = runner.invoke(app, ["train", str(tmp_path / "none.csv"), "--out", str(tmp_path / "m2"), "--json"])
    assert failed.exit_code == ExitCode.DATA and json.loads(failed.stdout)["exit_code"] == ExitCode.DATA


def test_freq_as_older_pandas_wrote_it(tmp_path):
    """`--freq M` (month ends before pandas 2.2 renamed it ME) trains a model of month ends."""
    make_long(2, 40, freq="ME").to_csv(tmp_path / "ends.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "ends.csv"), "--freq", "M", "--horizon", "4", "--out",
                                 str(tmp_path / "model"), *TINY])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["freq"] == "ME"


def test_predict_reads_a_csv_on_standard_input_as_the_file(trained_model, tmp_path):
    model_dir, data = trained_model
    from_file = runner.invoke(app, ["predict", str(model_dir), str(data), "--quiet"])
    piped = runner.invoke(app, ["predict", str(model_dir), "-"], input=data.read_bytes())
    assert piped.exit_code == 0, piped.output
    assert piped.stdout == from_file.stdout and "Read stdin: 3 series" in piped.stderr
    refused = runner.invoke(app, ["predict", str(model_dir), "-", "--output-dir", str(tmp_path / "out")],
                            input=data.read_bytes())
    assert refused.exit_code == ExitCode.USAGE and "--output FILE" in refused.stderr and not (tmp_path / "out").exists()
    twice = runner.invoke(app, ["evaluate", "-", "-"], input=data.read_bytes())
    assert twice.exit_code == ExitCode.USAGE and "not several" in twice.stderr
    not_forecasts = runner.invoke(app, ["evaluate", "-", str(data)], input=data.read_bytes())
    assert not_forecasts.exit_code == ExitCode.DATA and "Error: stdin is not a forecast file" in not_forecasts.stderr


def _decimal_comma(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame's numbers as a spreadsheet in much of Europe writes them: 1.234,5."""
    out = frame.copy()
    out["y"] = [f"{v:,.3f}".replace(",", " ").replace(".", ",").replace(" ", ".") for v in frame["y"] * 10]
    return out


def _same_forecasts(tmp_path: Path, plain: str, other: str, flags: list[str]) -> str:
    """Train on `plain`.csv and on `other`.csv (read with `flags`), each model forecasting its own
    file: the two forecasts must be the same; the second's stdout."""
    for name in (plain, other):
        result = runner.invoke(app, ["train", str(tmp_path / f"{name}.csv"), "--horizon", "4", *TINY,
                                     *(flags if name == other else []), "--out", str(tmp_path / name), "--quiet"])
        assert result.exit_code == 0, result.output
    forecasts = [runner.invoke(app, ["predict", str(tmp_path / name), str(tmp_path / f"{name}.csv")])
                 for name in (plain, other)]
    assert forecasts[1].exit_code == 0 and forecasts[0].stdout == forecasts[1].stdout
    return forecasts[1].stdout


def test_a_model_trained_with_decimal_commas_reads_later_files_so(tmp_path):
    """The same forecasts as from the file written with points: --decimal-comma changes how the
    numbers are read, nothing else; predict reads a later file as the model was trained."""
    points = make_long(2, 40)
    points["y"] = points["y"] * 10  # thousands, so that points group them in the other file
    points.to_csv(tmp_path / "points.csv", index=False, sep=";")
    _decimal_comma(make_long(2, 40)).to_csv(tmp_path / "commas.csv", index=False, sep=";")
    assert "1.0" in (tmp_path / "commas.csv").read_text()  # 1.0xx,xxx: a thousands point
    forecast = _same_forecasts(tmp_path, "points", "commas", ["--decimal-comma"])
    assert json.loads((tmp_path / "commas" / "manifest.json").read_text())["config"]["decimal_comma"] is True
    # Without the flag the cells leave no doubt (1.0xx,xxx), and the model is the one the flag trains.
    (tmp_path / "found.csv").write_bytes((tmp_path / "commas.csv").read_bytes())
    assert _same_forecasts(tmp_path, "commas", "found", []) == forecast
    manifests = [json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("commas", "found")]
    assert manifests[0]["config"] == manifests[1]["config"]
    said = runner.invoke(app, ["doctor", str(tmp_path / "found.csv"), "--horizon", "4"]).stderr
    assert "numbers with a decimal comma (12,5) read as --decimal-comma reads them" in said
    assert "decimal_comma" not in json.loads((tmp_path / "points" / "manifest.json").read_text())["config"]
    assert "numbers with a decimal comma" in runner.invoke(app, ["inspect", str(tmp_path / "commas")]).stderr
    report = runner.invoke(app, ["doctor", str(tmp_path / "commas.csv"), "--decimal-comma", "--horizon", "4"])
    assert report.exit_code == 0 and "2 series (long format), 80 rows" in report.stderr
    scored = runner.invoke(app, ["evaluate", "-", str(tmp_path / "commas.csv"), "--decimal-comma", "--json"],
                           input=forecast.replace("2018-05-01", "2018-04-01"))
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["matched"] == 2  # each series' first forecast month, moved into the file


def test_a_model_trained_with_commas_between_thousands_reads_later_files_so(tmp_path):
    """`"1,234.50"` as Excel saves it in the US: the same forecasts as from the plain file with
    --thousands-comma, recorded in the model for predict; with --decimal-comma too, a usage error."""
    plain = make_long(2, 40)
    plain["y"] = (plain["y"] * 100).round(2)
    plain.to_csv(tmp_path / "plain.csv", index=False)
    plain.assign(y=[f"{v:,.2f}" for v in plain["y"]]).to_csv(tmp_path / "excel.csv", index=False)
    assert ',"10,012.60"' in (tmp_path / "excel.csv").read_text()
    forecast = _same_forecasts(tmp_path, "plain", "excel", ["--thousands-comma"])
    assert len(forecast.splitlines()) == 9
    assert json.loads((tmp_path / "excel" / "manifest.json").read_text())["config"]["thousands_comma"] is True
    assert "thousands_comma" not in json.loads((tmp_path / "plain" / "manifest.json").read_text())["config"]
    assert "commas between thousands (1,234.5)" in runner.invoke(app, ["inspect", str(tmp_path / "excel")]).stderr
    both = runner.invoke(app, ["train", str(tmp_path / "excel.csv"), "--horizon", "4", *TINY, "--thousands-comma",
                               "--decimal-comma", "--out", str(tmp_path / "both")])
    assert both.exit_code == ExitCode.USAGE and "cannot both be given" in both.stderr
    assert not (tmp_path / "both").exists()


def test_a_model_reads_later_dates_in_the_day_month_order_of_its_training_dates(tmp_path):
    """31/12/2023 can only be read with the day first; a later file of the first twelve days of
    January (01/01/2024 to 12/01/2024) reads as well as the first of twelve months, the custom of
    `/`. The model records the order and reads later files in it: a daily forecast, not "12 rows
    spread over 336 steps"; a later date in the other order is refused, naming its line."""
    days = pd.date_range("2023-10-01", "2024-01-12", freq="D")
    frame = pd.DataFrame({"date": days.strftime("%d/%m/%Y"), "sales": 100 + np.arange(len(days)) % 7 * 3.0})
    frame.to_csv(tmp_path / "uk.csv", index=False)
    frame.tail(12).to_csv(tmp_path / "january.csv", index=False)
    trained = runner.invoke(app, ["train", str(tmp_path / "uk.csv"), "--horizon", "3", *TINY, "--lookback", "8",
                                  "--out", str(tmp_path / "model"), "--quiet"])
    assert trained.exit_code == 0, trained.output
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["columns"]["day_first"] is True
    assert "dates day first (31/12/2023)" in runner.invoke(app, ["inspect", str(tmp_path / "model")]).stderr
    forecast = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "january.csv")])
    assert forecast.exit_code == 0, forecast.output
    assert pd.read_csv(io.StringIO(forecast.stdout))["ds"].tolist() == ["2024-01-13", "2024-01-14", "2024-01-15"]
    assert "dates read day first (as the model's training dates)" in forecast.stderr
    pd.concat([frame.tail(12), pd.DataFrame({"date": ["01/13/2024"], "sales": [1.0]})]).to_csv(
        tmp_path / "mixed.csv", index=False)
    refused = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "mixed.csv")])
    assert refused.exit_code == ExitCode.DATA and "line 14: '01/13/2024' in the time column 'date' has the month " \
        "first, but the model read its training dates with the day first" in refused.stderr


def test_a_model_trained_on_a_cp1252_file_reads_later_files_so(tmp_path):
    """Excel on Windows saves "CSV" in cp1252: with --encoding cp1252 the series named München
    and Köln are read and forecast (written as UTF-8) exactly as from the file saved as UTF-8, and
    predict reads later files in the model's encoding; an unknown encoding is a usage error."""
    frame = make_long(2, 40).replace({"unique_id": {"s0": "München", "s1": "Köln"}})
    frame.to_csv(tmp_path / "utf8.csv", index=False, sep=";")
    frame.to_csv(tmp_path / "excel.csv", index=False, sep=";", encoding="cp1252")
    refused = runner.invoke(app, ["train", str(tmp_path / "excel.csv"), "--horizon", "4", *TINY])
    assert refused.exit_code == ExitCode.DATA and "pass --encoding cp1252" in refused.stderr
    forecast = _same_forecasts(tmp_path, "utf8", "excel", ["--encoding", "windows-1252"])
    assert "München," in forecast
    assert json.loads((tmp_path / "excel" / "manifest.json").read_text())["config"]["encoding"] == "cp1252"
    assert "encoding" not in json.loads((tmp_path / "utf8" / "manifest.json").read_text())["config"]
    assert "text in cp1252" in runner.invoke(app, ["inspect", str(tmp_path / "excel")]).stderr
    report = runner.invoke(app, ["doctor", str(tmp_path / "excel.csv"), "--encoding", "cp1252", "--horizon", "4"])
    assert report.exit_code == 0 and "2 series (long format), 80 rows" in report.stderr
    scored = runner.invoke(app, ["evaluate", "-", str(tmp_path / "excel.csv"), "--encoding", "cp1252", "--json"],
                           input=forecast.replace("2018-05-01", "2018-04-01"))
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["matched"] == 2


def test_skip_short_forecasts_the_series_long_enough(trained_model, tmp_path):
    """The model reads 8 values; a series of 5 fails the file unless --skip-short leaves it out,
    and a file of nothing but short series fails either way."""
    model_dir, data = trained_model
    frame = pd.read_csv(data)
    short = frame[frame["unique_id"] == "s0"].tail(5).assign(unique_id="new")
    pd.concat([frame, short]).to_csv(tmp_path / "with-new.csv", index=False)
    refused = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "with-new.csv")])
    assert refused.exit_code == ExitCode.DATA and "series 'new' has 5 values" in refused.stderr
    assert "pass --skip-short to leave these out" in refused.stderr
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "with-new.csv"), "--skip-short"])
    assert result.exit_code == 0, result.output
    assert result.stdout == runner.invoke(app, ["predict", str(model_dir), str(data)]).stdout
    assert "left out 1 series shorter than the model's lookback of 8 (e.g. 'new', 5 values)" in result.stderr
    short.to_csv(tmp_path / "only-new.csv", index=False)
    alone = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "only-new.csv"), "--skip-short"])
    assert alone.exit_code == ExitCode.DATA and "1 series is that short, every one in the file" in alone.stderr
    # A new product listed before its first value (rows with the value empty) is the shortest of
    # the short: it failed the file, --skip-short or not ("has no values at all").
    listed = short.assign(unique_id="launch", y=np.nan)
    pd.concat([frame, listed]).to_csv(tmp_path / "with-launch.csv", index=False)
    refused = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "with-launch.csv")])
    assert refused.exit_code == ExitCode.DATA and "series 'launch' has 0 values" in refused.stderr
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "with-launch.csv"), "--skip-short",
                                 "--output", str(tmp_path / "f.csv"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["skipped"] == 1
    assert (tmp_path / "f.csv").read_text() == runner.invoke(app, ["predict", str(model_dir), str(data)]).stdout
    assert "left out 1 series shorter than the model's lookback of 8 (e.g. 'launch', 0 values)" in result.stderr


def test_train_leaves_out_a_series_with_no_value_yet(tmp_path, long_csv):
    """A nightly export listing a new product before its first sale (its rows with the value
    empty) failed the whole training ("has no values at all"); now that series is left out with a
    warning, as series too short to give a window are, and the model is the one trained without
    its rows. doctor says the same, not that train would fail."""
    frame = pd.read_csv(long_csv)
    listed = frame[frame["unique_id"] == "s0"].tail(6).assign(unique_id="launch", y=np.nan)
    pd.concat([frame, listed]).to_csv(tmp_path / "with-launch.csv", index=False)
    args = ["--horizon", "4", *TINY]
    result = runner.invoke(app, ["train", str(tmp_path / "with-launch.csv"), "--out", str(tmp_path / "m"), *args])
    assert result.exit_code == 0, result.output
    assert "1 series with no value at all was left out of training: 'launch'" in result.stderr
    alone = runner.invoke(app, ["train", str(long_csv), "--out", str(tmp_path / "m0"), *args])
    assert alone.exit_code == 0, alone.output
    forecasts = [runner.invoke(app, ["predict", str(tmp_path / m), str(long_csv)]) for m in ("m", "m0")]
    assert forecasts[0].exit_code == 0 and forecasts[0].stdout == forecasts[1].stdout
    doctor = runner.invoke(app, ["doctor", str(tmp_path / "with-launch.csv"), "--horizon", "4"])
    assert doctor.exit_code == 0 and "with-launch.csv: 1 series with no value at all was left out" in doctor.stderr
    # The same file as evaluate's --history: it was refused there ("has no values at all").
    (tmp_path / "f.csv").write_text(forecasts[0].stdout)
    pd.read_csv(tmp_path / "f.csv").rename(columns={"yhat": "y"}).to_csv(tmp_path / "actuals.csv", index=False)
    scored = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "actuals.csv"), "--history",
                                 str(tmp_path / "with-launch.csv"), "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["overall"]["mase"] == 0.0


def test_detect_skip_short_checks_the_series_long_enough(trained_model, tmp_path):
    """Checking the last 4 values needs the lookback (8), 10 values to measure errors on and the
    4: a series of 5 and one of 20 fail the run, or with --skip-short are left out."""
    model_dir, data = trained_model
    frame = pd.read_csv(data)
    s0 = frame[frame["unique_id"] == "s0"]
    extra = pd.concat([s0.tail(5).assign(unique_id="new"), s0.tail(20).assign(unique_id="newer")])
    pd.concat([frame, extra]).to_csv(tmp_path / "with-new.csv", index=False)
    refused = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "with-new.csv")])
    assert refused.exit_code == ExitCode.DATA and "pass --skip-short" in refused.stderr
    result = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "with-new.csv"), "--skip-short",
                                 "--output", str(tmp_path / "checked.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["skipped"] == 2 and summary["series"] == 3 and summary["checked"] == 12
    assert "left out 1 series shorter than the model's lookback" in result.stderr
    assert "left out 1 series too short to check (e.g. 'newer', 20 values of 22)" in result.stderr
    alone = runner.invoke(app, ["detect", str(model_dir), str(tmp_path / "with-new.csv"), "--skip-short", "--last", "40"])
    assert alone.exit_code == ExitCode.DATA and "every one left in the file" in alone.stderr


def test_a_default_lookback_cut_by_one_short_series_is_named(tmp_path):
    """Three series of 48 months and one of 5: the default lookback (24) is cut to 5 for every
    series so that the short one can be forecast; train and doctor say so, name the series and
    the way out. With --lookback given, nothing is said."""
    frame = make_long(4, 48)
    frame = frame[(frame["unique_id"] != frame["unique_id"].iloc[-1]) | (frame.groupby("unique_id").cumcount() < 5)]
    frame.to_csv(tmp_path / "data.csv", index=False)
    short = frame["unique_id"].iloc[-1]
    tiny = ["--epochs", "1", "--units", "8", "--patience", "1", "--no-refit", "--horizon", "4"]
    result = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "--out", str(tmp_path / "m"), *tiny])
    assert result.exit_code == 0, result.output
    assert f"is cut to 5, the length of the shortest series ({short!r})" in result.stderr
    assert "give --lookback 24 and forecast with --skip-short" in result.stderr
    doctor = runner.invoke(app, ["doctor", str(tmp_path / "data.csv"), "--horizon", "4"])
    assert f"is cut to 5, the length of the shortest series ({short!r})" in doctor.stderr
    given = runner.invoke(app, ["train", str(tmp_path / "data.csv"), "--out", str(tmp_path / "m2"), *tiny,
                                "--lookback", "5"])
    assert given.exit_code == 0 and "is cut to" not in given.stderr


def test_intermittent_series_are_told_what_the_default_forecast_aims_at(tmp_path):
    """Daily counts, most of them zero (demand for slow-moving items): the default forecast aims
    at each step's typical value, below the mean, so train and doctor say so and give the flags
    that forecast the mean. Those flags given, train says nothing; nor for series without zeros."""
    rng = np.random.default_rng(3)
    ds = pd.date_range("2024-01-01", periods=80, freq="D").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 80), "ds": np.tile(ds, 3),
                          "y": rng.poisson(0.4, 240)})
    frame.to_csv(tmp_path / "counts.csv", index=False)
    tiny = ["--epochs", "1", "--units", "8", "--patience", "1", "--no-refit", "--horizon", "7", "--lookback", "14"]
    said = "series are intermittent"
    result = runner.invoke(app, ["train", str(tmp_path / "counts.csv"), "--out", str(tmp_path / "m"), *tiny])
    assert result.exit_code == 0, result.output
    assert said in result.stderr and "--transform none --loss mse, which forecasts the mean" in result.stderr
    doctor = runner.invoke(app, ["doctor", str(tmp_path / "counts.csv")])
    assert said in doctor.stderr
    mean = runner.invoke(app, ["train", str(tmp_path / "counts.csv"), "--out", str(tmp_path / "m2"), *tiny,
                               "--transform", "none", "--loss", "mse"])
    assert mean.exit_code == 0 and said not in mean.stderr
    make_long(3, 80, "D").to_csv(tmp_path / "busy.csv", index=False)
    assert said not in runner.invoke(app, ["doctor", str(tmp_path / "busy.csv")]).stderr
    folds = runner.invoke(app, ["backtest", str(tmp_path / "counts.csv"), "--folds", "2", "--output-dir",
                                str(tmp_path / "bt"), *tiny])  # one training a fold: said once all the same
    assert folds.exit_code == 0, folds.output
    assert folds.stderr.count(said) == 1


def test_arguments_in_the_wrong_order_are_told_to_swap(trained_model, tmp_path):
    """The data before the model directory (train's order carried over), the actuals before the
    forecasts, or a model directory given as data: each error says so, where it said the data
    was no model directory, or (from the model's history.csv) that CSV parts need joining."""
    model_dir, data = trained_model
    for command in ("predict", "detect"):
        swapped = runner.invoke(app, [command, str(data), str(model_dir)])
        assert swapped.exit_code == ExitCode.USAGE
        assert f"the model directory comes first. Run forecast {command} {model_dir} {data}" in swapped.stderr
    as_data = runner.invoke(app, ["train", str(model_dir), "--out", str(tmp_path / "m")])
    assert as_data.exit_code == ExitCode.DATA and f"{model_dir} is a model directory written by" in as_data.stderr
    runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / "f.csv")])
    scored = runner.invoke(app, ["evaluate", str(data), str(tmp_path / "f.csv")])
    assert scored.exit_code == ExitCode.USAGE and "the forecasts come first" in scored.stderr


def test_an_output_given_as_one_more_argument_is_told_its_flag(trained_model, tmp_path):
    """`forecast predict model data.csv out.csv` and `forecast train data.csv model`: the output
    named where an argument goes gets the flag that names it (predict said that two inputs need
    --output-dir; train that the argument was unexpected, and no more)."""
    model_dir, data = trained_model
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["predict", str(model_dir), str(data), str(out)])
    assert result.exit_code == ExitCode.USAGE and f"--output {out}" in result.stderr and not out.exists()
    result = runner.invoke(app, ["train", str(data), str(tmp_path / "m"), "--json"])
    assert result.exit_code == ExitCode.USAGE and "name where it writes with --out DIR" in result.stderr
    assert "--out DIR" in json.loads(result.stdout)["error"]


def test_predict_horizon_writes_the_first_steps_of_the_forecast(trained_model, tmp_path):
    """A report that needs the next 2 steps of a model trained for 4: the first two rows of
    each series, as the whole forecast has them; more steps than the model forecasts is refused."""
    model_dir, data = trained_model
    whole = pd.read_csv(io.StringIO(runner.invoke(app, ["predict", str(model_dir), str(data)]).stdout))
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--horizon", "2", "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    first = pd.read_csv(io.StringIO(result.stdout))
    pd.testing.assert_frame_equal(first, whole.groupby("unique_id", sort=False).head(2).reset_index(drop=True))
    refused = runner.invoke(app, ["predict", str(model_dir), str(data), "-H", "5"])
    assert refused.exit_code == ExitCode.USAGE and "forecasts 4 steps" in refused.stderr
    assert "train again with --horizon 5" in refused.stderr


def test_the_refit_on_a_terminal_gets_a_bar_of_its_own_epochs():
    """On a terminal the refit's epochs were counted on the validation run's bar: a refit of one
    epoch after three showed "epoch 1/3"."""
    import io

    from rich.console import Console

    from forecast_cli.output import ConsoleReporter

    reporter = ConsoleReporter()
    reporter.interactive, reporter.console = True, Console(file=io.StringIO(), force_terminal=True, width=120)
    for epoch in (1, 2, 3):
        reporter.epoch(epoch, 3, {"loss": 0.5, "val_loss": 0.4}, seconds=epoch)
    reporter.epoch(1, 1, {"loss": 0.3, "val_loss": float("nan")}, seconds=1)
    reporter.close()
    shown = reporter.console.file.getvalue()
    assert "3/3" in shown and "1/1" in shown  # each bar ends as its fit ended
    assert "1/3" not in shown[shown.index("3/3"):]  # the validation run's bar is not counted on


@pytest.mark.parametrize("args", [
    ["predict", "{model}", "{data}", "--output-dir", "s3://bucket/out"],
    ["predict", "{model}", "gs://bucket/incoming/*.csv", "--output-dir", "out"],
    ["predict", "{model}", "{data}", "--output", "abfs://container/forecast.csv"],
    ["detect", "{model}", "{data}", "--output", "checked.csv", "--state", "s3://bucket/state.json"],
    ["train", "s3://bucket/history.parquet", "--horizon", "4"],
    ["train", "{data}", "--out", "gs://bucket/model", "--horizon", "4"],
    ["backtest", "{data}", "--output-dir", "https://example.com/backtest"],
    ["evaluate", "forecast.csv", "s3://bucket/actuals.csv"],
    ["doctor", "hdfs://namenode/data.csv"],
    ["inspect", "s3://bucket/model"],
])
def test_a_url_given_as_a_path_is_refused_before_anything_is_written(trained_model, tmp_path, monkeypatch, args):
    """A path is read by this machine's file system: `--output-dir s3://bucket/out` made a local
    folder `s3:` and wrote the forecast there, exit 0, the bucket untouched."""
    model_dir, data = trained_model
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [a.format(model=model_dir, data=data) for a in args] + ["--json"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert re.search(r"^Error: [a-z0-9]+://\S+ is a URL, but forecast reads and writes paths of this machine's file "
                     r"system\. Mount the storage", result.stderr), result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # runs the README's crontab lines in a shell, as cron runs them
def test_the_readmes_crontab_lines_work_in_a_new_folder(tmp_path):
    """A new user copies the README's crontab lines: in a folder holding only the history, the
    night's files and the virtual environment, the Sunday training, the nightly forecast and the
    nightly check run, and the check mails when a value is off. The forecast's line wrote its
    summary into `out/` before the tool could make that folder (the shell opens the file first),
    so its first run failed."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    blocks = re.findall(r"```cron\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    commands = {re.search(r"forecast (\w+) ", line).group(1): line.split(None, 5)[5] for line in lines}
    assert sorted(commands) == ["detect", "predict", "train"]
    srv = tmp_path / "srv"
    (srv / "incoming").mkdir(parents=True)
    (srv / ".venv" / "bin").mkdir(parents=True)
    forecast = Path(sys.executable).parent / "forecast"  # the README's install puts it beside python
    assert forecast.is_file(), forecast
    (srv / ".venv" / "bin" / "forecast").symlink_to(forecast)
    history = make_long(2, 120, freq="D")
    history.to_csv(srv / "history.csv", index=False)
    history.to_csv(srv / "incoming" / "today.csv", index=False)
    tools = tmp_path / "bin"  # a `mail` that keeps what it was given
    tools.mkdir()
    (tools / "mail").write_text(f"#!/bin/sh\ncat > {tmp_path / 'mailed.json'}\n")
    (tools / "mail").chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}

    def cron(name: str) -> None:
        subprocess.run(["sh", "-c", commands[name].replace("/srv/forecast", str(srv))], env=env, timeout=900)

    for name in ("train", "predict", "detect"):
        cron(name)
    log = (srv / "forecast.log").read_text() if (srv / "forecast.log").exists() else ""
    assert "exit" not in log and "Error" not in log, log
    assert (srv / "model" / "manifest.json").is_file()
    summary = json.loads((srv / "out" / "summary.json").read_text())
    assert summary["files"][0]["status"] == "ok" and (srv / "out" / "today.forecast.csv").is_file()
    assert json.loads((srv / "out" / "anomalies.json").read_text())["checked"] > 0
    (tmp_path / "mailed.json").unlink(missing_ok=True)
    # The next night: each series as `make_long` goes on (without its noise), s1's value far off.
    night = history.groupby("unique_id").tail(1).assign(ds=lambda f: f["ds"] + pd.Timedelta(days=1))
    night["y"] = [100 + 10 * k + 0.5 * 120 + 8 * np.sin(2 * np.pi * 120 / 12) for k in range(2)]
    night.loc[night["unique_id"] == "s1", "y"] *= 5
    pd.concat([history, night]).to_csv(srv / "history.csv", index=False)
    cron("detect")
    mailed = json.loads((tmp_path / "mailed.json").read_text())
    assert mailed["checked"] == 2  # the new night alone (--state)
    assert [(a["unique_id"], a["ds"]) for a in mailed["found"]] == [("s1", night["ds"].iloc[-1].strftime("%Y-%m-%d"))]


@pytest.mark.slow  # real pipes, closed by their reader: other processes
def test_a_reader_that_goes_away_cuts_stdout_short_and_leaves_stderr_behind(trained_model, tmp_path):
    """`forecast train data.csv 2>&1 | head` stopped the training at its next line of log (rich's
    handling of a closed pipe exits 1, the code of a bug), and no model was written. The log is
    dropped and the run ends as it would have. A closed stdout cuts the data short: exit 141, as
    a shell reports a process that SIGPIPE ended, without a traceback."""
    import subprocess
    import sys

    forecast = str(Path(sys.executable).parent / "forecast")
    model_dir, data = trained_model

    def closed(stream: str, *args: object) -> tuple[int, str]:
        """Run forecast with `stream` a pipe its reader closes at once; the other stream to a file."""
        other = tmp_path / "other.txt"
        with open(other, "w") as fh:
            pipe = {"stdout": subprocess.PIPE, "stderr": fh} if stream == "stdout" else {"stderr": subprocess.PIPE,
                                                                                          "stdout": fh}
            process = subprocess.Popen([forecast, *map(str, args)], **pipe)
            getattr(process, stream).close()
            code = process.wait(timeout=600)
        return code, other.read_text()

    code, out = closed("stderr", "train", data, "--horizon", "4", *TINY, "--out", tmp_path / "m", "--json")
    assert code == 0 and json.loads(out)["model"] == str(tmp_path / "m")
    assert (tmp_path / "m" / "manifest.json").is_file()
    code, err = closed("stdout", "predict", model_dir, data)
    assert code == ExitCode.CLOSED and "Traceback" not in err, err
    code, out = closed("stderr", "predict", model_dir, data)
    assert code == 0 and out.startswith("unique_id,ds,yhat\n")
