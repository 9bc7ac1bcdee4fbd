"""metrics.py: the competition definitions and the baselines."""

from __future__ import annotations

import math

import numpy as np

from forecast_cli import metrics


def test_values_on_a_hand_example():
    actual = np.array([[100.0, 200.0]])
    forecast = np.array([[110.0, 180.0]])
    assert metrics.mae(actual, forecast) == 15.0
    assert math.isclose(metrics.rmse(actual, forecast), math.sqrt((100 + 400) / 2))
    assert math.isclose(metrics.smape(actual, forecast), 100 * (10 / 210 + 20 / 380))
    assert math.isclose(metrics.mape(actual, forecast), 100 * (0.1 + 0.1) / 2)
    assert math.isclose(metrics.mase(actual, forecast, np.array([5.0])), 3.0)


def test_zeros_and_negatives_stay_finite():
    actual = np.array([[0.0, -5.0, 0.0]])
    forecast = np.array([[0.0, 5.0, 1.0]])
    assert math.isfinite(metrics.smape(actual, forecast))
    assert math.isfinite(metrics.mape(actual, forecast))
    assert math.isnan(metrics.mase(actual, forecast, np.array([0.0])))
    assert metrics.score(actual, forecast, np.array([0.0]))["mase"] is None


def test_mase_scale():
    history = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert metrics.mase_scale(history, 3) == 3.0
    assert metrics.mase_scale(history, 1) == 1.0


def test_mape_skips_a_window_of_zeros_without_a_warning():
    import warnings

    actual = np.array([[0.0, 0.0], [100.0, 200.0]])
    forecast = np.array([[1.0, 2.0], [110.0, 180.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isclose(metrics.mape(actual, forecast), 10.0)


def test_mase_leaves_out_a_history_seasonal_up_to_rounding():
    """Values computed to repeat each season differ by rounding (1e-14), not 0: as a MASE scale
    that made one such series' validation MASE 1e20, and the guard shipped seasonal naive for a
    whole file. Below 1e-10 of the series' values the scale is none, as for a constant series."""
    waves = 100 + 10 * np.sin(np.arange(48) * 2 * np.pi / 12)
    noisy = waves + np.random.default_rng(0).normal(0, 1, 48)
    scales = np.array([metrics.mase_scale(waves[:36], 12), metrics.mase_scale(noisy[:36], 12)])
    assert scales[0] == 0.0 and scales[1] > 0.5
    actual = np.stack([waves[36:], noisy[36:]])
    assert math.isclose(metrics.mase(actual, actual + 1.0, scales), 1.0 / scales[1])
