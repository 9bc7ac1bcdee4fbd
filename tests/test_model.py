"""model.py: the network's shape, the relative-error loss, and the ensemble average."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

from forecast_cli import model as lstm
from forecast_cli.config import TrainConfig
from tests.conftest import ROOT, make_long


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


def test_several_batches_per_call_train_the_same_network(monkeypatch):
    """`STEPS_PER_EXECUTION` batches per call into TensorFlow is a speed setting only: the losses
    are those of one batch per call, also when an epoch has fewer batches (7 here) or a count
    that is not a multiple of it."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(100, 8, 1)).astype("float32"), rng.normal(size=(100, 4)).astype("float32")
    xv, yv = rng.normal(size=(3, 8, 1)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")
    config = TrainConfig(horizon=4, lookback=8, season=1, batch_size=16, units=8, epochs=3, patience=3,
                         transform="none", scaling="std", loss="mae")
    runs = {}
    for steps in (1, 4, 16):
        monkeypatch.setattr(lstm, "STEPS_PER_EXECUTION", steps)
        network, history = lstm.fit(config, x, y, xv, yv)
        runs[steps] = (history, lstm.predict(network, xv))
    assert len(runs[1][0]) == 3 and all(np.isfinite(row["val_loss"]) for row in runs[1][0])
    for steps in (4, 16):
        assert runs[steps][0] == runs[1][0]
        np.testing.assert_array_equal(runs[steps][1], runs[1][1])


def test_a_networks_starting_weights_are_its_seeds_whatever_else_draws_from_random():
    """Keras draws each layer's seed from Python's shared `random`; a Dask client's thread draws
    from it too (picking a worker to gather from) and, drawing while the network was built, made
    training on a cluster give other weights run to run. Draws from `random` between seeding and
    building change nothing now, and the seed still does."""
    import random

    config = TrainConfig(horizon=3, lookback=4, units=2, seed=5)
    lstm.seed_everything(5)
    quiet = lstm.build_model(config).get_weights()
    lstm.seed_everything(5)
    random.random(), random.randint(1, 10)  # another thread's draws
    busy = lstm.build_model(config).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(quiet, busy))
    lstm.seed_everything(6)
    assert not all(np.array_equal(a, b) for a, b in zip(quiet, lstm.build_model(config).get_weights()))


def test_a_refit_ends_on_the_moving_average_of_its_weights():
    """Without validation windows (the refit), `refit_average` m makes the network the moving
    average of the weights after each batch: a_1 = w_1, a_k = m a_(k-1) + (1 - m) w_k. The
    weights after k batches are those of the same training stopped after k epochs of one batch
    (the average does not move them). With validation windows the setting changes nothing."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 8, 1)).astype("float32"), rng.normal(size=(16, 4)).astype("float32")
    config = TrainConfig(horizon=4, lookback=8, season=1, batch_size=16, units=4, epochs=4, patience=4,
                         transform="none", scaling="std", loss="mae", refit_average=0.9)
    last = dataclasses.replace(config, refit_average=0.0)
    expected = None
    for k in range(1, 5):
        raw = lstm.fit(last, x, y, None, None, epochs=k)[0].get_weights()
        expected = raw if expected is None else [0.9 * a + 0.1 * w for a, w in zip(expected, raw)]
    averaged = lstm.fit(config, x, y, None, None)[0].get_weights()
    assert not all(np.allclose(a, w) for a, w in zip(averaged, raw))  # the last batch's weights moved
    for got, want in zip(averaged, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    xv, yv = x[:4], y[:4]
    validated = [lstm.fit(c, x, y, xv, yv)[0].get_weights() for c in (config, last)]
    assert all(np.array_equal(a, b) for a, b in zip(*validated))


@pytest.mark.slow  # trains in new processes: TensorFlow fixes its threads as it starts
@pytest.mark.skipif(len(getattr(os, "sched_getaffinity", lambda _: ())(0)) < 2, reason="needs two cores")
def test_a_network_trains_to_the_same_losses_on_one_core_and_on_two(tmp_path):
    """TensorFlow runs one thread within and between its ops (`model.keras_module`), so the cores
    a process is given (`taskset`, a container's CPU set, another machine's count) do not change
    the arithmetic. With TensorFlow's default, a thread a core, this 64-unit network's first
    epoch already lost a different amount on one core than on two."""
    make_long(40, 120, seed=3).to_csv(tmp_path / "data.csv", index=False)
    env = {k: v for k, v in os.environ.items() if k not in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}
    cores = sorted(os.sched_getaffinity(0))
    for name, given in (("one", cores[:1]), ("all", cores)):
        code = f"import os; os.sched_setaffinity(0, {given}); from forecast_cli.cli import main; main()"
        done = subprocess.run(
            [sys.executable, "-c", code, "train", str(tmp_path / "data.csv"), "--horizon", "4", "--epochs", "2",
             "--no-refit", "--out", str(tmp_path / name), "--quiet"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "one" / "history.csv").read_text() == (tmp_path / "all" / "history.csv").read_text()
