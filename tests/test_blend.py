"""The forecast as a blend of the LSTM and a baseline, ETS or seasonal naive (`--blend`, `--baseline`)."""

from __future__ import annotations

import io
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli import baselines
from forecast_cli.cli import app
from forecast_cli.blend import WEIGHT_POWER, blend, blend_scores, inverse_error_weight
from forecast_cli.config import TrainConfig, parse_blend
from forecast_cli.errors import ExitCode, UsageError

from tests.conftest import TINY, make_long

runner = CliRunner()


def test_blend_weights_the_two_forecasts():
    lstm, snaive = np.array([[10.0, 30.0]]), np.array([[20.0, 10.0]])
    np.testing.assert_allclose(blend(lstm, snaive, 1.0), lstm)
    np.testing.assert_allclose(blend(lstm, snaive, 0.0), snaive)
    np.testing.assert_allclose(blend(lstm, snaive, 0.25), [[17.5, 15.0]])


def test_blend_shifts_quantiles_whole():
    levels = (0.1, 0.5, 0.9)
    quantiles = np.array([[[8.0, 10.0, 13.0], [25.0, 30.0, 40.0]]])  # (1 series, 2 steps, 3 levels)
    out = blend(quantiles, np.array([[20.0, 10.0]]), 0.5, levels)
    np.testing.assert_allclose(out[..., 1], [[15.0, 20.0]])  # the median is blended
    np.testing.assert_allclose(np.diff(out, axis=-1), np.diff(quantiles, axis=-1))  # widths kept: no crossing


def test_the_weights_follow_the_validation_scores():
    rng = np.random.default_rng(0)
    actual = rng.normal(100, 10, (50, 6))
    noise = rng.normal(0, 5, (50, 6))
    scales = np.ones(50)
    grid = (1.0, 0.0)
    # A network twice as far off as the partner gets 1 / (1 + 2**3) of the forecast, and the
    # other way round 8 / 9; equal scores give the even blend.
    scores = blend_scores(actual, actual + 2 * noise, actual + noise, scales, grid)
    assert scores[1.0] == pytest.approx(2 * scores[0.0])
    assert inverse_error_weight(scores[1.0], scores[0.0]) == round(1 / 9, 2) == 0.11
    assert inverse_error_weight(scores[0.0], scores[1.0]) == 0.89
    assert inverse_error_weight(*blend_scores(actual, actual + noise, actual - noise, scales, grid).values()) == 0.5
    # No MASE scale anywhere (constant histories): scored on MAE instead.
    scores = blend_scores(actual, actual + noise, actual, np.zeros(50), grid)
    assert scores[1.0] == pytest.approx(np.mean(np.abs(noise))) and inverse_error_weight(scores[1.0], scores[0.0]) == 0.0


def test_the_weight_moves_smoothly_with_the_scores():
    # The choice it replaced jumped from the even blend to a single forecast over a 1% lead; the
    # weight moves by a hundredth for a few percent.
    assert WEIGHT_POWER == 3
    assert inverse_error_weight(2.1779, 2.1789) == 0.5  # 0.05% apart: the even blend
    assert inverse_error_weight(1.0, 1.02) == 0.51 and inverse_error_weight(1.02, 1.0) == 0.49
    weights = [inverse_error_weight(1.0, partner) for partner in np.linspace(0.25, 4.0, 200)]
    assert weights == sorted(weights) and weights[0] == 0.02 and weights[-1] == 0.98
    assert inverse_error_weight(0.0, 1.0) == 1.0 and inverse_error_weight(1.0, 0.0) == 0.0  # an exact fit


def test_parse_blend_and_its_errors():
    assert parse_blend("auto") is None and parse_blend("0.3") == 0.3 and parse_blend("1") == 1.0
    with pytest.raises(UsageError, match="--blend must be auto or a number from 0 to 1"):
        parse_blend("half")
    with pytest.raises(UsageError, match="Received: blend=1.5"):
        TrainConfig(horizon=4, blend=1.5)


@pytest.mark.parametrize("value", ["1.5", "-0.1", "half"])
def test_bad_blend_is_a_usage_error(long_csv, tmp_path, value):
    result = runner.invoke(app, ["train", str(long_csv), "--horizon", "4", "--out", str(tmp_path / "m"),
                                 "--blend", value])
    assert result.exit_code == ExitCode.USAGE
    assert "--blend must be auto or a number from 0 to 1" in result.stderr
    assert not (tmp_path / "m").exists()


def _predict(model_dir, data, weight, tmp_path, name, baseline=None):
    """Predict with the model's network and `weight` (and `baseline`, if given) written into a copy
    of its manifest; None removes the key, as in a model saved before it existed."""
    copy = tmp_path / name
    shutil.copytree(model_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    for key, value in (("blend", weight), ("baseline", baseline)):
        if value is None:
            manifest["config"].pop(key)
        elif value != "keep":
            manifest["config"][key] = value
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["predict", str(copy), str(data), "--output", str(tmp_path / f"{name}.csv")])
    assert result.exit_code == 0, result.output
    return pd.read_csv(tmp_path / f"{name}.csv")


def test_predict_applies_the_saved_weight_and_baseline(trained_model, tmp_path):
    model_dir, data = trained_model
    manifest = json.loads((model_dir / "manifest.json").read_text())
    chosen = manifest["config"]["blend"]
    assert 0.0 <= chosen <= 1.0  # resolved by training: a saved model never says "auto"
    assert manifest["config"]["baseline"] == "ets+theta"  # the default
    saved = json.loads((model_dir / "metrics.json").read_text())
    assert saved["blend_weight"] == chosen and saved["baseline"] == "ets+theta" and "ets+theta" in saved

    alone = _predict(model_dir, data, 1.0, tmp_path, "alone", "keep")["yhat"].to_numpy()
    season = manifest["season"]
    histories = [g["y"].to_numpy() for _, g in pd.read_csv(data).groupby("unique_id", sort=True)]
    snaive = np.concatenate([baselines.seasonal_naive(h, 4, season) for h in histories])
    ets = baselines.forecasts(histories, 4, season, "ets+theta",
                              log=manifest["config"]["transform"] == "log").reshape(-1)
    np.testing.assert_allclose(_predict(model_dir, data, 0.0, tmp_path, "ets", "keep")["yhat"], ets, rtol=1e-6)
    np.testing.assert_allclose(_predict(model_dir, data, 0.0, tmp_path, "snaive", "snaive")["yhat"], snaive, rtol=1e-6)
    np.testing.assert_allclose(_predict(model_dir, data, 0.4, tmp_path, "mix", "keep")["yhat"],
                               0.4 * alone + 0.6 * ets, rtol=1e-6)
    # A model saved before --baseline existed was blended with seasonal naive; one saved before
    # --blend existed forecasts with the LSTM alone, as each did then.
    np.testing.assert_allclose(_predict(model_dir, data, 0.4, tmp_path, "mix-old", None)["yhat"],
                               0.4 * alone + 0.6 * snaive, rtol=1e-6)
    np.testing.assert_allclose(_predict(model_dir, data, None, tmp_path, "old", None)["yhat"], alone)
    assert not np.allclose(alone, snaive) and not np.allclose(ets, snaive)


def test_predict_applies_the_saved_ets_parameters(trained_model, tmp_path):
    model_dir, data = trained_model
    manifest = json.loads((model_dir / "manifest.json").read_text())
    log, season = manifest["config"]["transform"] == "log", manifest["season"]
    histories = {u: g["y"].to_numpy() for u, g in pd.read_csv(data).groupby("unique_id", sort=True)}
    saved = {u: info["ets"] for u, info in manifest["series"].items()}
    for uid, values in histories.items():  # fitted in train on the whole series
        assert saved[uid] == pytest.approx(baselines.fit_ets_theta(values, season, log))
        assert baselines.THETA_KEY in saved[uid]
    copy = tmp_path / "edited"
    shutil.copytree(model_dir, copy)
    fixed = {"alpha": 0.9, "beta": 0.0, "gamma": 0.0, "phi": 1.0}
    manifest["config"]["blend"] = 0.0
    manifest["series"]["s0"]["ets"] = fixed
    other = {**fixed, "alpha": 0.3, "phi": 0.9}
    manifest["series"]["s1"]["ets"] = other
    del manifest["series"]["s2"]["ets"]  # none stored, as for a series not seen in training
    (copy / "manifest.json").write_text(json.dumps(manifest))

    def forecast() -> pd.Series:
        (copy / "manifest.json").write_text(json.dumps(manifest))
        result = runner.invoke(app, ["predict", str(copy), str(data), "--output", str(tmp_path / "f.csv")])
        assert result.exit_code == 0, result.output
        return pd.read_csv(tmp_path / "f.csv").groupby("unique_id")["yhat"].apply(np.array)

    got = forecast()
    np.testing.assert_allclose(got["s0"], baselines.ets_forecast(histories["s0"], fixed, 4, season, log), rtol=1e-6)
    np.testing.assert_allclose(got["s1"], baselines.ets_forecast(histories["s1"], other, 4, season, log), rtol=1e-6)
    typical = {**fixed, "alpha": 0.6, "phi": 0.95}  # the median of the saved ones
    np.testing.assert_allclose(got["s2"], baselines.ets_forecast(histories["s2"], typical, 4, season, log), rtol=1e-6)
    manifest["series"]["s1"]["ets"] = None  # ETS does not apply: seasonal naive
    got = forecast()
    np.testing.assert_allclose(got["s1"], baselines.seasonal_naive(histories["s1"], 4, season), rtol=1e-6)
    np.testing.assert_allclose(got["s2"], baselines.ets_forecast(histories["s2"], fixed, 4, season, log), rtol=1e-6)
    manifest["series"]["s1"]["ets"] = {**other, baselines.THETA_KEY: 0.4}  # ETS+Theta: the mean of the two
    got = forecast()
    np.testing.assert_allclose(got["s1"], (baselines.ets_forecast(histories["s1"], other, 4, season, log)
                                           + baselines.theta_forecast(histories["s1"], 0.4, 4, season)) / 2, rtol=1e-6)
    for info in manifest["series"].values():  # none saved at all: each series fitted at predict
        info.pop("ets", None)
    got = forecast()
    for uid, values in histories.items():
        np.testing.assert_allclose(got[uid], baselines.ets_theta(values, 4, season, log), rtol=1e-6)
    manifest["series"]["s0"]["ets"] = {**fixed, "alpha": 1.5}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["predict", str(copy), str(data)])
    assert result.exit_code == ExitCode.MODEL
    assert "series['s0'].ets must be null or alpha, beta, gamma, phi" in result.stderr
    manifest["series"]["s0"]["ets"] = {**fixed, baselines.THETA_KEY: 1.5}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["predict", str(copy), str(data)])
    assert result.exit_code == ExitCode.MODEL and "(and theta), each from 0 to 1" in result.stderr


def test_baseline_flag_is_recorded_and_checked(long_csv, tmp_path):
    out = tmp_path / "m"
    result = runner.invoke(app, ["train", str(long_csv), "--horizon", "4", "--out", str(out), *TINY,
                                 "--baseline", "snaive"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["config"]["baseline"] == "snaive"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["baseline"] == "snaive" and "ets" not in saved
    result = runner.invoke(app, ["train", str(long_csv), "--horizon", "4", "--out", str(tmp_path / "bad"),
                                 "--baseline", "arima"])
    assert result.exit_code == ExitCode.USAGE
    assert "--baseline must be one of ets+theta, ets, snaive. Received: baseline='arima'" in result.stderr
    assert not (tmp_path / "bad").exists()


def test_guard_never_keeps_a_choice_that_scores_worse_than_seasonal_naive():
    from forecast_cli.blend import guard

    assert guard({0.0: 1.2, 0.5: 0.9, 1.0: 1.3}, 0.5, 1.0) == (0.5, False, "")  # beats it: kept
    weight, replaced, why = guard({0.0: 1.2, 0.5: 1.02, 1.0: 0.97}, 0.5, 1.0)
    assert (weight, replaced) == (1.0, False) and "worse than seasonal naive" in why
    weight, replaced, why = guard({0.0: 1.2, 0.5: 1.1, 1.0: 1.3}, 0.5, 1.0)
    assert (weight, replaced) == (0.0, True) and "every blend" in why
    assert guard({1.0: 1.0}, 1.0, 1.0)[:2] == (1.0, False)  # a tie is not worse


def test_train_ships_seasonal_naive_when_validation_scores_every_blend_worse(tmp_path):
    """An exact season that a 2-epoch network and ETS only approximate: seasonal naive is exact
    on the validation windows, so the model ships it, says why, and predict writes it."""
    rng = np.random.default_rng(5)
    pattern = rng.uniform(50.0, 150.0, 12)
    frame = make_long(2, 60)
    frame["y"] = np.tile(pattern, 10)[: len(frame)] + np.repeat([0.0, 30.0], 60)
    frame.to_csv(tmp_path / "season.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "season.csv"), "--horizon", "4", "--out",
                                 str(tmp_path / "model"), *TINY])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "model" / "manifest.json").read_text())["config"]
    scores = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert (config["blend"], config["baseline"]) == (0.0, "snaive")
    assert scores["choice"]["shipped"] == "seasonal naive alone"
    assert "every blend scored worse than seasonal naive" in scores["choice"]["reason"]
    candidates = set(scores["choice"]["candidates"])
    assert {"LSTM alone", "ETS+Theta alone", "seasonal naive alone"} <= candidates  # and the weighted blend
    weighted = candidates - {"LSTM alone", "ETS+Theta alone", "seasonal naive alone"}
    assert len(weighted) <= 1 and all(re.fullmatch(r"LSTM 0\.\d+ \+ ETS\+Theta 0\.\d+", name) for name in weighted)
    assert scores["ets+theta"]["mae"] > 0 and scores["lstm"]["mae"] == pytest.approx(0.0, abs=1e-9)
    assert "Forecast: seasonal naive alone (every blend scored worse" in result.stderr
    assert "loses to seasonal naive" not in result.stderr
    fc = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "season.csv")])
    assert fc.exit_code == 0, fc.output
    yhat = pd.read_csv(io.StringIO(fc.stdout))["yhat"].to_numpy()
    expected = np.concatenate([np.tile(pattern, 10)[60:64] + shift for shift in (0.0, 30.0)])
    np.testing.assert_allclose(yhat, expected, atol=1e-4)  # the file holds 5 decimals
    shown = runner.invoke(app, ["inspect", str(tmp_path / "model")])
    assert "seasonal naive alone" in shown.stderr and "chosen     seasonal naive alone" in shown.stderr


def test_guard_noise_is_two_standard_errors_of_the_window_differences_and_needs_ten_windows():
    from forecast_cli.blend import noise

    rng = np.random.default_rng(0)
    actual = np.zeros((40, 3))
    snaive = np.ones((40, 3))
    forecast = np.repeat(rng.uniform(0.0, 2.0, 40)[:, None], 3, axis=1)
    gap = np.abs(forecast).mean(axis=1) - 1.0
    assert noise(actual, forecast, snaive, np.ones(40)) == pytest.approx(2 * gap.std(ddof=1) / np.sqrt(40))
    assert noise(actual, forecast, snaive, np.ones(40) * 2) == pytest.approx(gap.std(ddof=1) / np.sqrt(40))
    assert noise(actual[:9], forecast[:9], snaive[:9], np.ones(9)) == 0.0  # too few windows: strict


@pytest.mark.parametrize("quantiles", [(), (0.1, 0.5, 0.9)])
def test_forecasts_settle_where_no_model_knows_better(quantiles):
    """A network whose outputs fall far below the window (as a near-zero series can): on the log
    scale of data with no negative value, a series with none in its history is forecast at 0,
    not below; a series that went below zero, or a model without the log, keeps the forecast. A
    constant history is forecast at its value by any model, unless covariates may move it."""
    from forecast_cli.pipeline import forecast_series, settled
    from forecast_cli.windows import fit_scaling

    series = {"rises": np.arange(12.0), "dips": np.r_[np.full(11, 5.0), -1.0], "flat": np.full(12, 7.0)}
    levels = max(1, len(quantiles))

    def far_below(inputs):
        return np.full((len(inputs), 3 * levels), -50.0)

    for transform in ("log", "none"):
        config = TrainConfig(horizon=3, lookback=6, season=1, window_norm="last", blend=1.0, transform=transform,
                             scaling="mean", quantiles=quantiles)
        scalings = {uid: fit_scaling(v, transform == "log", "mean") for uid, v in series.items()}
        forecast = forecast_series(far_below, config, series, scalings)
        assert forecast.shape[:2] == (3, 3) and (forecast[2] == 7.0).all() and (forecast[1] < 0).all()
        assert (forecast[0] == 0.0).all() if transform == "log" else (forecast[0] < 0).all()
    covariates = TrainConfig(horizon=3, lookback=6, season=1, window_norm="last", blend=1.0, transform="none",
                             scaling="mean", quantiles=quantiles, past_covariates=("price",))
    assert (settled(np.full((3, 3), -2.0), series.values(), covariates) == -2.0).all()


def test_a_choice_kept_within_the_noise_says_so_with_both_scores():
    """The guard keeps a blend that scores worse than seasonal naive by less than two standard
    errors of the window-by-window difference (the luck of which windows were drawn). The reason
    the summary prints, and its warning, say so with both scores: not "no worse than seasonal
    naive", and not the advice to drop a forecast that chance may explain. Worse by more than
    the noise, the warning is the plain one."""
    from types import SimpleNamespace

    from rich.console import Console

    from forecast_cli.blend import noise, validation_metrics
    from forecast_cli.cli import _print_scores

    n = 20
    history = np.tile([0.0, 1.0], 6)  # ends at 1 in steps of 1: seasonal naive (season 1) says 1, the scale is 1
    ws = SimpleNamespace(val_actual=np.zeros((n, 2)), val_history=[history] * n, val_ids=[f"s{i}" for i in range(n)])
    errors = np.random.default_rng(3).uniform(0.3, 1.9, n)  # the network's; seasonal naive's are 1 everywhere
    forecast = np.repeat(errors[:, None], 2, axis=1)
    scores, _ = validation_metrics(ws, forecast, TrainConfig(horizon=2, season=1, baseline="snaive"))
    weight = scores["blend_weight"]
    shipped = 1 + weight * (errors.mean() - 1)  # the blend's MASE: its errors are weight x the network's + (1 - weight)
    margin = noise(ws.val_actual, weight * forecast + (1 - weight), np.ones((n, 2)), np.ones(n))
    assert 0 < weight < 1 and 1 < shipped <= 1 + margin  # worse than seasonal naive, within the noise: kept
    assert scores["lstm"]["mase"] == pytest.approx(shipped) and scores["seasonal_naive"]["mase"] == pytest.approx(1.0)
    reason = scores["choice"]["reason"]
    assert "no worse than seasonal naive" not in reason
    assert f"within the validation's noise of seasonal naive ({shipped:.4g} against 1, two standard errors " \
           f"{margin:.2g})" in reason

    def warning(scores):
        out = io.StringIO()
        _print_scores(Console(file=out, width=400), "Validation", scores, quiet=True)
        return " ".join(out.getvalue().split())

    said = warning(scores)
    assert said.startswith(f"Warning: the forecast (LSTM {weight:g} + seasonal naive {1 - weight:g}) scores worse "
                           f"than seasonal naive on validation (MASE {shipped:.4g} against 1), by less than the noise")
    assert "--baseline snaive --blend 0 ships seasonal naive alone" in said and "prefer the baseline" not in said
    scores["choice"]["noise"] = (shipped - 1) / 2  # worse by more than the noise: the plain warning
    assert warning(scores) == (f"Warning: the forecast (LSTM {weight:g} + seasonal naive {1 - weight:g}) loses to "
                               f"seasonal naive (MASE {shipped:.4g} against 1); prefer the baseline for this data, "
                               "or try other settings.")
