"""The statistical forecasts blended with the LSTM: ETS and seasonal naive (`--baseline`)."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli import baselines
from forecast_cli.config import TrainConfig
from forecast_cli.errors import UsageError


def _growing_season(n: int, season: int = 4, growth: float = 0.02) -> np.ndarray:
    """A season that grows with the level (multiplicative), as in the tourism series."""
    t = np.arange(n)
    return 100.0 * np.exp(growth * t) * (1.0 + 0.3 * np.sin(2 * np.pi * t / season))


def test_ets_follows_trend_and_season_where_seasonal_naive_lags():
    y = _growing_season(48)
    history, actual = y[:40], y[40:]
    ets = baselines.ets(history, 8, 4, log=True)
    snaive = baselines.seasonal_naive(history, 8, 4)
    ets_error, snaive_error = np.mean(np.abs(ets - actual) / actual), np.mean(np.abs(snaive - actual) / actual)
    assert ets_error < 0.02 < snaive_error  # seasonal naive misses a year of growth (about 8%)
    assert np.all(np.sign(np.diff(ets)) == np.sign(np.diff(actual)))  # the season's shape


@pytest.mark.parametrize("season, length", [(4, 40), (12, 70), (7, 15), (12, 20)])
def test_ets_recursion_matches_statsmodels(season, length):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    rng = np.random.default_rng(season + length)
    y = _growing_season(length, season) * np.exp(rng.normal(0, 0.05, length))
    params = baselines.fit_ets(y, season, log=True)
    assert params is not None and set(params) == set(baselines.ETS_KEYS)
    seasonal = baselines.ets_seasonal(length, season)
    assert seasonal == (length >= 2 * season and length >= 10 + 2 * (season // 2))
    reference = ExponentialSmoothing(
        np.log1p(y), trend="add", damped_trend=True, seasonal="add" if seasonal else None,
        seasonal_periods=season if seasonal else None, initialization_method="heuristic",
    ).fit(smoothing_level=params["alpha"], smoothing_trend=params["beta"], damping_trend=params["phi"],
          **({"smoothing_seasonal": params["gamma"]} if seasonal else {}), optimized=False)
    level, trend, effects = baselines.ets_states(np.log1p(y), params, season)
    assert level == pytest.approx(reference.level[-1], abs=1e-9)
    assert trend == pytest.approx(reference.trend[-1], abs=1e-9)
    horizon = 2 * season + 1
    ours = np.log1p(baselines.ets_forecast(y, params, horizon, season, log=True))
    if not seasonal:
        np.testing.assert_allclose(ours, reference.forecast(horizon), atol=1e-9)
        return
    np.testing.assert_allclose(effects, reference.season[-season:], atol=1e-9)
    # Every step but each season's last equals statsmodels' forecast; at those, statsmodels
    # repeats the effect of a season before the last value, where the textbook formula (FPP3 8.3)
    # takes the effect just updated by it: level + (phi + ... + phi^h) trend + s[T + h - m].
    last = np.arange(horizon) % season == season - 1
    np.testing.assert_allclose(ours[~last], reference.forecast(horizon)[~last], atol=1e-9)
    damping = np.cumsum(params["phi"] ** np.arange(1, horizon + 1))
    np.testing.assert_allclose(ours[last], (level + damping * trend + reference.season[-1])[last], atol=1e-9)


def test_ets_on_raw_values_handles_negative_series():
    t = np.arange(60)
    y = -50.0 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12)  # negative values: no log scale
    forecast = baselines.ets(y[:48], 12, 12, log=False)
    assert np.all(np.isfinite(forecast))
    assert np.mean(np.abs(forecast - y[48:])) < np.mean(np.abs(baselines.seasonal_naive(y[:48], 12, 12) - y[48:]))


def test_ets_on_a_log_scale_forecasts_data_that_crosses_zero():
    """The log scale is signed (sign(y) log(1 + |y|)): a series that goes below zero gets an ETS
    forecast, finite and continuing its fall, not a fallback."""
    y = np.linspace(20.0, -10.0, 40)
    forecast = baselines.ets(y, 4, 1, log=True)
    assert np.isfinite(forecast).all() and forecast[0] < y[-1] + 1.0
    assert not np.array_equal(forecast, baselines.seasonal_naive(y, 4, 1))


def test_ets_seasonal_needs_two_seasons_and_ten_adjusted_values():
    assert not baselines.ets_seasonal(13, 4)  # 10 + 2 x 2 = 14 needed
    assert baselines.ets_seasonal(14, 4)
    assert not baselines.ets_seasonal(23, 12) and baselines.ets_seasonal(24, 12)
    assert not baselines.ets_seasonal(500, 1)


def test_ets_falls_back_to_seasonal_naive_where_it_cannot_fit():
    short = np.array([5.0, 6.0, 7.0, 5.0, 6.0, 7.0, 5.0, 6.0, 7.0])  # 9 values: fewer than 10
    np.testing.assert_array_equal(baselines.ets(short, 4, 3), baselines.seasonal_naive(short, 4, 3))
    not_finite = np.r_[np.linspace(1.0, 5.0, 29), np.nan]
    np.testing.assert_array_equal(baselines.ets(not_finite, 4, 4), baselines.seasonal_naive(not_finite, 4, 4))
    # Too short for the season, long enough for a damped trend: no fallback, a smooth forecast.
    trend = 50.0 + 2.0 * np.arange(16)
    forecast = baselines.ets(trend, 3, 12)
    assert np.all(np.diff(forecast) > 0) and forecast[0] > trend[-1]


def test_constant_series_forecast_stays_constant():
    flat = np.full(40, 7.0)
    np.testing.assert_allclose(baselines.ets(flat, 6, 4, log=True), 7.0, rtol=1e-6)
    zeros = np.zeros(40)
    np.testing.assert_allclose(baselines.ets(zeros, 6, 4, log=True), 0.0, atol=1e-9)


def test_forecasts_stacks_each_history_by_method():
    histories = [_growing_season(30), _growing_season(41, growth=0.01)]
    ets = baselines.forecasts(histories, 5, 4, "ets", log=True)
    snaive = baselines.forecasts(histories, 5, 4, "snaive")
    assert ets.shape == snaive.shape == (2, 5)
    np.testing.assert_array_equal(snaive[1], baselines.seasonal_naive(histories[1], 5, 4))
    np.testing.assert_allclose(ets[1], baselines.ets(histories[1], 5, 4, log=True))
    # Saved parameters are applied as given: no fitting; None means seasonal naive.
    fixed = {"alpha": 1.0, "beta": 0.0, "gamma": 0.0, "phi": 1.0}
    saved = baselines.forecasts(histories, 5, 4, "ets", log=True, params=[fixed, None])
    np.testing.assert_allclose(saved[0], baselines.ets_forecast(histories[0], fixed, 5, 4, log=True))
    np.testing.assert_array_equal(saved[1], snaive[1])
    assert not np.allclose(saved[0], ets[0])


def test_baseline_setting_is_checked_and_old_models_keep_seasonal_naive():
    assert TrainConfig(horizon=4).baseline == "ets+theta"
    with pytest.raises(UsageError, match=r"--baseline must be one of ets\+theta, ets, snaive"):
        TrainConfig(horizon=4, baseline="theta")


def test_naive_methods():
    history = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_array_equal(baselines.naive(history, 3), [6, 6, 6])
    np.testing.assert_array_equal(baselines.seasonal_naive(history, 5, 3), [4, 5, 6, 4, 5])


def test_every_method_has_one_signature():
    """Each of METHODS takes (history, horizon, season, log, params) and forecasts `horizon` values."""
    history = np.tile([10.0, 20.0, 30.0, 20.0], 6) * np.linspace(1.0, 1.5, 24)
    for name, method in baselines.METHODS.items():
        forecast = method(history, 5, 4, True, baselines.MISSING)
        assert forecast.shape == (5,) and np.isfinite(forecast).all(), name
        np.testing.assert_array_equal(baselines.forecasts([history], 5, 4, name, log=True)[0], forecast)


def test_saved_params_give_unseen_series_the_median():
    saved = {"a": {"alpha": 0.1, "beta": 0.0, "gamma": 0.2, "phi": 0.9},
             "b": {"alpha": 0.3, "beta": 0.2, "gamma": 0.4, "phi": 1.0}, "c": None}
    params = baselines.saved_params(["a", "c", "new"], saved)
    assert params[0] == saved["a"] and params[1] is None
    assert params[2] == {"alpha": 0.2, "beta": 0.1, "gamma": 0.30000000000000004, "phi": 0.95}
    assert baselines.saved_params(["new"], {"c": None}) == [baselines.MISSING]  # none saved: fitted where used


@pytest.mark.parametrize("season, log", [(12, True), (4, False), (1, False), (24, True), (7, False), (3, True)])
def test_ets_one_step_is_ets_forecast_of_every_prefix(season, log):
    """A few runs of the recursion give what `ets_forecast` gives from each prefix of 10 values or
    more, to the last bit (fewer: NaN, and the caller runs `ets_forecast`, seasonal naive)."""
    rng = np.random.default_rng(season)
    t = np.arange(90)
    y = 50 + 0.3 * t + 6 * np.sin(2 * np.pi * t / max(season, 2)) + rng.normal(0, 1, len(t))
    params = baselines.fit_ets(y, season, log)
    one_step = baselines.ets_one_step(y, params, season, log)
    assert one_step.shape == (len(y) + 1,)
    exact = [baselines.ets_forecast(y[:k], params, 1, season, log)[0] if k >= 1 else np.nan for k in range(len(y) + 1)]
    known = ~np.isnan(one_step)
    assert known[baselines.ETS_MIN_VALUES:].all() and not known[:baselines.ETS_MIN_VALUES].any()
    assert (one_step[known] == np.asarray(exact)[known]).all()
    assert np.isnan(baselines.ets_one_step(y, None, season, log)).all()


def _seasonal_histories(rng: np.random.Generator, season: int, count: int,
                        lengths: list[int]) -> tuple[list[np.ndarray], list[dict[str, float] | None]]:
    """`count` seasonal histories of the given lengths with ETS parameters drawn at random; the
    sixth has a gap and the eighth no parameters."""
    histories, params = [], []
    for k in range(count):
        n = int(rng.choice(lengths))
        t = np.arange(n)
        history = 50 + 0.2 * t + 5 * np.sin(2 * np.pi * t / max(season, 2)) + rng.normal(0, 1, n)
        if k == 5:
            history[3] = np.nan
        histories.append(history)
        params.append(None if k == 7 else {"alpha": rng.uniform(0, 1), "beta": rng.uniform(0, 0.3),
                                            "gamma": rng.uniform(0, 0.5), "phi": rng.uniform(0.8, 0.99)})
    return histories, params


@pytest.mark.parametrize("season, log", [(12, True), (7, False), (1, True)])
def test_ets_one_steps_of_many_series_are_each_prefix_forecast_bit_for_bit(season, log):
    """detect runs the one-step recursions of all series of a length at once; each must still be
    `ets_forecast` of each prefix, to the last bit, whatever runs beside it (lengths, no
    parameters, a gap)."""
    rng = np.random.default_rng(season + 100)
    histories, params = _seasonal_histories(rng, season, 12, [9, 40, 61])
    together = baselines.ets_one_steps(histories, params, season, log)
    for history, p, one_step in zip(histories, params, together, strict=True):
        assert one_step.shape == (len(history) + 1,)
        usable = p is not None and len(history) >= baselines.ETS_MIN_VALUES and np.isfinite(history).all()
        for k in range(len(history) + 1):
            if usable and k >= baselines.ETS_MIN_VALUES:
                assert one_step[k] == baselines.ets_forecast(history[:k], p, 1, season, log)[0]
            else:
                assert np.isnan(one_step[k])


@pytest.mark.parametrize("season,log", [(1, False), (4, True), (7, True), (12, False), (24, True)])
def test_ets_forecasts_of_many_series_are_each_series_forecast_bit_for_bit(season, log):
    """predict runs the ETS recursion over all series of a length at once; it must give exactly
    what one series at a time gives, fallbacks (no parameters, too short, a gap) included."""
    rng = np.random.default_rng(season)
    histories, params = [], []
    for k in range(120):
        n = int(rng.choice([8, 30, 61, 100]))
        history = 50 + np.cumsum(rng.normal(size=n)) + 10 * np.sin(np.arange(n) * 2 * np.pi / max(season, 2))
        if k % 40 == 0:
            history[3] = np.nan
        histories.append(history)
        params.append(None if k % 17 == 0 else {"alpha": rng.uniform(0, 1), "beta": rng.uniform(0, 0.3),
                                                 "gamma": rng.uniform(0, 0.5), "phi": rng.uniform(0.8, 0.99)})
    alone = np.stack([baselines.ets_forecast(h, p, 13, season, log) for h, p in zip(histories, params)])
    together = baselines.forecasts(histories, 13, season, "ets", log, params)
    assert np.array_equal(alone, together, equal_nan=True)


def _theta_cases():
    """Histories Theta meets: seasonal and positive (a multiplicative season), crossing zero
    (additive), too short for the season, without a season, a season the test rejects."""
    rng = np.random.default_rng(11)
    t = np.arange(120.0)
    seasonal = 50 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, len(t))
    return [(seasonal, 12), (seasonal - 60, 12), (seasonal[:23], 12), (seasonal[:40], 1),
            (50 + rng.normal(0, 1, 80), 4)]


@pytest.mark.parametrize("case", range(5))
def test_theta_forecast_is_statsmodels_theta(case):
    """predict's NumPy Theta with the saved parameter gives statsmodels' ThetaModel forecast."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    history, season = _theta_cases()[case]
    alpha = baselines.fit_theta(history, season)
    model = ThetaModel(history, period=season if season > 1 else None, deseasonalize=len(history) >= 2 * season > 2)
    expected = np.asarray(model.fit().forecast(15))
    np.testing.assert_allclose(baselines.theta_forecast(history, alpha, 15, season), expected, rtol=1e-10)


def test_ets_theta_is_the_mean_of_ets_and_theta_and_batches_like_one_series():
    histories = [history for history, season in _theta_cases() if season == 12]
    params = [baselines.fit_ets_theta(h, 12, log=True) for h in histories]
    assert all(baselines.THETA_KEY in p for p in params)
    for history, p in zip(histories, params):
        mean = (baselines.ets_forecast(history, p, 6, 12, True) + baselines.theta_forecast(history, p["theta"], 6, 12)) / 2
        np.testing.assert_allclose(baselines.ets_theta(history, 6, 12, True, p), mean, rtol=1e-12)
    together = baselines.forecasts(histories, 6, 12, "ets+theta", True, params)
    alone = np.stack([baselines.ets_theta(h, 6, 12, True, p) for h, p in zip(histories, params)])
    np.testing.assert_allclose(together, alone, rtol=1e-12)  # grouped by length: the same sums, reordered
    # Without Theta's parameter (a model saved with --baseline ets), ETS alone; without any, seasonal naive.
    ets_only = {key: params[0][key] for key in baselines.ETS_KEYS}
    np.testing.assert_array_equal(baselines.ets_theta(histories[0], 6, 12, True, ets_only),
                                  baselines.ets_forecast(histories[0], ets_only, 6, 12, True))
    np.testing.assert_array_equal(baselines.ets_theta(histories[0], 6, 12, True, None),
                                  baselines.seasonal_naive(histories[0], 6, 12))


def test_saved_params_median_keeps_theta():
    saved = {"a": {"alpha": 0.1, "beta": 0.0, "gamma": 0.2, "phi": 0.9, "theta": 0.2},
             "b": {"alpha": 0.3, "beta": 0.2, "gamma": 0.4, "phi": 1.0, "theta": 0.6}}
    assert baselines.saved_params(["new"], saved)[0]["theta"] == pytest.approx(0.4)


@pytest.mark.parametrize("season", [1, 4, 12])
def test_theta_forecasts_of_many_series_are_each_series_forecast(season):
    """predict runs Theta over all series of a length at once: every row as one series at a time
    gives it, bit for bit, with positive and zero-crossing series (multiplicative and additive
    seasons) mixed. (A matrix product for the slope gave each row sums that depended on how many
    rows it was given: a series forecast in a part of a file on a cluster moved in the 14th
    digit from the same series forecast with the whole file.)"""
    rng = np.random.default_rng(season)
    histories = [10 * np.sin(np.arange(n) * 2 * np.pi / max(season, 2)) + np.cumsum(rng.normal(size=n)) + level
                 for n, level in zip(rng.choice([12, 30, 61], 60), rng.choice([0.0, 100.0], 60))]
    alphas = rng.uniform(0.05, 1.0, len(histories))
    alone = np.stack([baselines.theta_forecast(h, a, 9, season) for h, a in zip(histories, alphas)])
    np.testing.assert_array_equal(baselines.theta_forecasts(histories, alphas, 9, season), alone)
    half = slice(None, None, 2)
    np.testing.assert_array_equal(baselines.theta_forecasts(histories[half], alphas[half], 9, season), alone[half])


@pytest.mark.parametrize("season, log", [(12, True), (7, False), (1, True), (4, True)])
def test_ets_a_step_at_a_time_is_ets_forecast_of_the_history_so_far_bit_for_bit(season, log):
    """detect grows each history a value at a time (a value it flagged replaced by its forecast):
    one step of the recursion a value must give what a run over the whole history gives, to the
    last bit, with or without the newest value kept in the state; NaN where ETS does not follow
    the history (no parameters, too short at the start, a gap), where the caller runs `ets_forecast`."""
    rng = np.random.default_rng(season)
    starts, params = _seasonal_histories(rng, season, 15, [9, 40, 61, 130])
    grown = [np.r_[h, 50 + rng.normal(0, 3, 25)] for h in starts]
    steps = baselines.EtsSteps(starts, params, season, log, [len(g) for g in grown])
    followed = 0
    for j in range(26):
        if j:
            newest = np.array([g[len(h) + j - 1] for g, h in zip(grown, starts)])
            ahead = steps.forecast(newest)
            steps.append(newest)
            assert np.array_equal(ahead, steps.forecast(), equal_nan=True)
        forecast = steps.forecast()
        for i, g in enumerate(grown):
            if not np.isnan(forecast[i]):
                followed += 1
                assert forecast[i] == baselines.ets_forecast(g[:len(starts[i]) + j], params[i], 1, season, log)[0]
    assert not steps.followed[[5, 7]].any() and followed >= 100


@pytest.mark.parametrize("season", [2, 4, 7, 12, 24, 168, 288])
def test_theta_season_test_and_indices_are_the_direct_sums(season):
    """Theta's seasonal test takes its autocorrelations from a Fourier transform and its moving
    average from a convolution, for speed: the same yes or no as the sum at each lag, and the
    seasonal indices of statsmodels' classical decomposition, for strong, weak and no seasons."""
    rng = np.random.default_rng(season)
    n = 3 * season + 17
    t = np.arange(n)
    amplitudes = np.repeat([0.0, 0.05, 0.2, 1.0, 5.0], 8)
    values = 20 + amplitudes[:, None] * np.sin(2 * np.pi * t / season) + rng.normal(0, 1, (len(amplitudes), n))
    centred = values - values.mean(axis=1, keepdims=True)
    rho = np.stack([(centred[:, : n - k] * centred[:, k:]).sum(axis=1) for k in range(season + 1)], axis=1)
    rho /= rho[:, :1]
    direct = n * rho[:, -1] ** 2 / (rho[:, :-1] ** 2).sum(axis=1) > 2.705543454095404
    assert direct.any() and not direct.all()
    np.testing.assert_array_equal(baselines._has_season(values, season), direct)
    from statsmodels.tsa.seasonal import seasonal_decompose

    for multiplicative in (np.ones(len(values), dtype=bool), np.zeros(len(values), dtype=bool)):
        expected = [seasonal_decompose(row, "multiplicative" if multiplicative[0] else "additive",
                                       period=season).seasonal[:season] for row in values]
        np.testing.assert_allclose(baselines._season_indices(values, season, multiplicative), expected,
                                   rtol=1e-12, atol=1e-12)
