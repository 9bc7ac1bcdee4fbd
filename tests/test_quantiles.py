"""Quantile forecasts: pinball loss, non-crossing columns, and coverage in backtest and evaluate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.config import parse_quantiles
from forecast_cli.errors import ExitCode
from forecast_cli.metrics import quantile_scores
from forecast_cli.blend import point_forecast
from forecast_cli.windows import Scaling, invert_outputs
from tests.conftest import TINY, make_long

runner = CliRunner()
LEVELS = ["--quantiles", "0.1,0.9"]


@pytest.fixture(scope="module")
def quantile_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quantiles")
    data = folder / "long.csv"
    make_long(3, 48).to_csv(data, index=False)
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(folder / "model"), *TINY, *LEVELS])
    assert result.exit_code == 0, result.output
    return folder / "model", data


def test_parse_quantiles_sorts_and_adds_the_median():
    assert parse_quantiles("0.9, 0.1") == (0.1, 0.5, 0.9)
    assert parse_quantiles("0.5") == (0.5,)
    assert parse_quantiles(None) == ()


@pytest.mark.parametrize("text", ["0,0.5", "1.5", "a,b", ","])
def test_bad_quantiles_are_usage_errors(tmp_path, long_csv, text):
    result = runner.invoke(app, ["train", str(long_csv), "-H", "4", "--out", str(tmp_path / "m"), *TINY,
                                 "--quantiles", text])
    assert result.exit_code == ExitCode.USAGE
    assert "--quantiles" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m").exists()


def test_quantiles_and_another_loss_are_refused(tmp_path, long_csv):
    result = runner.invoke(app, ["train", str(long_csv), "-H", "4", "--out", str(tmp_path / "m"), *TINY, *LEVELS,
                                 "--loss", "mse"])
    assert result.exit_code == ExitCode.USAGE and "pinball" in result.stderr
    result = runner.invoke(app, ["train", str(long_csv), "-H", "4", "--out", str(tmp_path / "m"), *TINY,
                                 "--loss", "pinball"])
    assert result.exit_code == ExitCode.USAGE and "--quantiles" in result.stderr


def test_pinball_loss_is_minimised_by_the_quantile():
    """The Keras loss agrees with the metric, and the empirical quantile beats values beside it."""
    from forecast_cli.model import _pinball

    rng = np.random.default_rng(0)
    y = rng.exponential(size=(400, 2)).astype("float32")
    levels = (0.1, 0.5, 0.9)
    loss = _pinball(levels, horizon=2)

    def at(values):
        pred = np.tile(np.repeat(np.asarray(values, "float32"), 1)[None, None, :], (400, 2, 1))
        keras_value = float(np.mean(np.asarray(loss(y, pred.reshape(400, 6)))))
        np.testing.assert_allclose(keras_value, quantile_scores(y, pred, levels)["pinball"], rtol=1e-5)
        return keras_value

    best = np.quantile(y, levels)
    for k in range(3):
        for delta in (-0.2, 0.2):
            moved = best.copy()
            moved[k] += delta
            assert at(best) < at(moved)


def test_inverted_quantiles_never_cross():
    raw = np.array([[0.3, 0.0, -0.2, 0.1, 0.2, 0.0]])  # 2 steps x 3 levels, crossing on purpose
    out = invert_outputs(raw, np.array([[1.0, 2.0]]), [Scaling(10.0, 2.0)], (0.1, 0.5, 0.9))
    assert out.shape == (1, 2, 3)
    assert (np.diff(out, axis=-1) >= 0).all()
    np.testing.assert_allclose(out[0, 0], [10 + 2 * 0.8, 10 + 2 * 1.0, 10 + 2 * 1.3])  # 1.3, 1.0, 0.8 sorted
    np.testing.assert_allclose(point_forecast(out, (0.1, 0.5, 0.9)), out[..., 1])


def test_quantile_scores_by_hand():
    actual = np.array([[1.0, 5.0]])
    forecast = np.array([[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]])
    scores = quantile_scores(actual, forecast, (0.1, 0.5, 0.9), np.array([2.0]))
    assert scores["coverage"] == 0.5 and scores["nominal"] == pytest.approx(0.8)
    # step 1: 0.1*1, 0, 0.1*1 ; step 2: 0.1*5, 0.5*4, 0.9*3
    expected = (0.1 + 0 + 0.1 + 0.5 + 2.0 + 2.7) / 6
    assert scores["pinball"] == pytest.approx(expected)
    assert scores["scaled_pinball"] == pytest.approx(expected / 2)
    # One level (--quantiles 0.5) makes no interval: its loss, and no coverage ("0% inside, nominal 0%").
    alone = quantile_scores(actual, forecast[..., 1:2], (0.5,))
    assert alone["coverage"] is None and alone["nominal"] is None
    assert alone["pinball"] == pytest.approx((0 + 0.5 * 4) / 2)


def test_predict_writes_one_column_per_quantile(quantile_model, tmp_path):
    model_dir, data = quantile_model
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["lstm"]["nominal"] == pytest.approx(0.8) and 0 <= metrics["lstm"]["coverage"] <= 1
    outputs = {}
    for engine in ("onnx", "keras"):
        result = runner.invoke(app, ["predict", str(model_dir), str(data), "-o", str(tmp_path / f"{engine}.csv"),
                                     "--engine", engine, "--plot", str(tmp_path / "p.png")])
        assert result.exit_code == 0, result.output
        outputs[engine] = pd.read_csv(tmp_path / f"{engine}.csv")
    frame = outputs["onnx"]
    assert list(frame.columns) == ["unique_id", "ds", "yhat", "q0.1", "q0.5", "q0.9"]
    assert len(frame) == 3 * 4
    assert (frame["q0.1"] <= frame["q0.5"]).all() and (frame["q0.5"] <= frame["q0.9"]).all()
    assert (frame["q0.9"] > frame["q0.1"]).any()
    np.testing.assert_array_equal(frame["yhat"], frame["q0.5"])
    np.testing.assert_allclose(frame.iloc[:, 2:], outputs["keras"].iloc[:, 2:], rtol=1e-5)


def test_backtest_and_evaluate_report_coverage_and_pinball(quantile_model, tmp_path):
    model_dir, data = quantile_model
    result = runner.invoke(app, ["backtest", str(data), "-H", "4", "--folds", "1", "--output-dir",
                                 str(tmp_path / "bt"), *TINY, *LEVELS])
    assert result.exit_code == 0, result.output
    assert "Quantile interval" in result.stderr
    overall = json.loads((tmp_path / "bt" / "backtest.json").read_text())["overall"]
    assert {"coverage", "nominal", "pinball", "scaled_pinball"} <= set(overall["lstm"])
    rows = pd.read_csv(tmp_path / "bt" / "forecasts.csv")
    assert {"q0.1", "q0.5", "q0.9"} <= set(rows.columns)
    inside = ((rows["y"] >= rows["q0.1"]) & (rows["y"] <= rows["q0.9"])).mean()
    assert overall["lstm"]["coverage"] == pytest.approx(inside)

    # evaluate: forecasts from the first 44 rows of each series, scored on the last 4
    frame = pd.read_csv(data)
    position = frame.groupby("unique_id").cumcount()
    frame[position < 44].to_csv(tmp_path / "history.csv", index=False)
    frame[position >= 44].to_csv(tmp_path / "actuals.csv", index=False)
    assert runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "history.csv"),
                               "-o", str(tmp_path / "fc.csv")]).exit_code == 0
    result = runner.invoke(app, ["evaluate", str(tmp_path / "fc.csv"), str(tmp_path / "actuals.csv"),
                                 "--history", str(tmp_path / "history.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    fc, actual = pd.read_csv(tmp_path / "fc.csv"), pd.read_csv(tmp_path / "actuals.csv")
    inside = ((actual["y"].to_numpy() >= fc["q0.1"].to_numpy()) & (actual["y"].to_numpy() <= fc["q0.9"].to_numpy()))
    assert summary["overall"]["coverage"] == pytest.approx(inside.mean())
    assert summary["overall"]["pinball"] > 0 and "scaled_pinball" in summary["overall"]
