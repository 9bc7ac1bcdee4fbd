"""model.py: the network's shape, the relative-error loss, and the ensemble average."""

from __future__ import annotations

import numpy as np

from forecast_cli import model as lstm
from forecast_cli.config import TrainConfig


def test_network_reads_lookback_and_writes_horizon():
    network = lstm.build_model(TrainConfig(horizon=5, lookback=7, units=4, layers=2))
    assert network.input_shape == (None, 7, 1) and network.output_shape == (None, 5)
    assert [layer.__class__.__name__ for layer in network.layers].count("LSTM") == 2


def test_relative_error_is_half_percentage_half_log_error():
    actual, forecast = np.array([[100.0, 200.0]]), np.array([[110.0, 150.0]])
    loss = lstm._relative_error(np.log(actual), np.log(forecast))
    ape = np.abs(actual - forecast) / actual
    log_error = np.abs(np.log(forecast) - np.log(actual))
    np.testing.assert_allclose(np.asarray(loss), [np.mean(0.5 * ape + 0.5 * log_error)], rtol=1e-6)
    # far too high: the percentage part goes on as a straight line, never exploding
    big = np.asarray(lstm._relative_error(np.zeros((1, 1)), np.full((1, 1), 10.0)))
    assert np.isfinite(big).all() and big[0] < 20


def test_average_of_two_networks_is_their_mean():
    a = lstm.build_model(TrainConfig(horizon=3, lookback=4, units=2, seed=1))
    b = lstm.build_model(TrainConfig(horizon=3, lookback=4, units=2, seed=2))
    x = np.random.default_rng(0).normal(size=(5, 4, 1)).astype("float32")
    both = lstm.average([a, b])
    np.testing.assert_allclose(lstm.predict(both, x), (lstm.predict(a, x) + lstm.predict(b, x)) / 2, rtol=1e-5, atol=1e-6)
    assert lstm.average([a]) is a
