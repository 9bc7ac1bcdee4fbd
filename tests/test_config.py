"""config.py: validation of settings, their defaults and how they resolve from the data (the JSON round trip: test_manifest.py)."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli.config import TrainConfig, default_batch_size, default_lookback, default_max_windows, resolve_config
from forecast_cli.errors import UsageError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "--horizon must be a whole number of at least 1. Received: horizon=0"),
        ({"horizon": -3}, "horizon=-3"),
        ({"horizon": 4, "lookback": 0}, "--lookback must be"),
        ({"horizon": 4, "dropout": 1.0}, "--dropout must be in"),
        ({"horizon": 4, "loss": "l1"}, "--loss must be one of auto, mae, mse, huber, ape"),
        ({"horizon": 4, "learning_rate": 0.0}, "--learning-rate must be above 0"),
    ],
)
def test_bad_values_are_refused(kwargs, message):
    with pytest.raises(UsageError, match=message):
        TrainConfig(**kwargs)


def test_defaults():
    assert default_lookback(24, 12) == 24
    assert default_lookback(24, 12, windows=10_000) == 36  # many windows: three years of months
    assert default_lookback(8, 4, windows=10_000) == 8  # quarterly windows are read step by step: two years
    assert default_lookback(6, 24, windows=10_000) == 168  # many windows of hours: a week
    assert default_lookback(6, 24, windows=9_999) == 48  # fewer: two days
    assert default_lookback(48, 48, windows=10**6) == 96  # but not past 72 steps: half-hourly keeps two days
    assert default_lookback(8, 4) == 8
    one = resolve_config(TrainConfig(horizon=12), {"a": np.arange(144.0)}, (12,), "one.csv")
    many = resolve_config(TrainConfig(horizon=12), {f"s{i}": np.arange(144.0) for i in range(110)}, (12,), "many.csv")
    assert (one.lookback, many.lookback) == (24, 36)  # 109 windows at 24 steps; 11,990
    hours = np.arange(2000.0)
    one = resolve_config(TrainConfig(horizon=24), {"a": hours}, (24, 168), "one.csv")
    few = resolve_config(TrainConfig(horizon=24), {f"s{i}": hours for i in range(5)}, (24, 168), "few.csv")
    many = resolve_config(TrainConfig(horizon=24), {f"s{i}": hours for i in range(6)}, (24, 168), "many.csv")
    assert (one.lookback, few.lookback, many.lookback) == (48, 48, 168)  # 1,929 windows a series
    assert default_lookback(13, 1) == 13
    assert default_lookback(1, 1) == 4
    assert default_lookback(720, 24) == 336  # long horizons: at most 336 steps for the horizon's sake
    assert default_lookback(720, 200) == 400  # but two seasons always
    assert default_batch_size(100) == 16 and default_batch_size(10**6) == 256


def test_every_window_is_used_up_to_the_budget():
    assert default_max_windows([238] * 366, 24) == 238  # tourism monthly: 87,108 windows, all kept
    assert default_max_windows([600] * 10, 24) == 600 and default_max_windows([0, 0], 4) == 1


def test_past_the_budget_the_windows_make_about_five_million_steps():
    # 359 series offering 894,628 windows, read 67 steps at a time: a budget of 74,626, 207 a series
    assert default_max_windows([2492] * 359, 67) == 207
    # Hourly series, a two-day window: 100,000 windows in all, as just below the budget
    assert default_max_windows([800] * 400, 48) == 250
    assert default_max_windows([150_000], 48) == 100_000  # one very long series
    assert default_max_windows([150_000], 336) == 20_000  # long windows: 20,000 at the least
    assert default_max_windows([1_000] * 150, 336) == 133  # 150 long series: 20,000 in all
    assert default_max_windows([600] * 1_500, 48) == 100  # and 100 a series at the least
    # Beyond 2,000 series the windows in all stop growing: about 200,000, at least one a series.
    assert default_max_windows([150] * 2_000, 12) == 100 and default_max_windows([150] * 10_000, 12) == 20
    assert default_max_windows([150] * 100_000, 12) == 2 and default_max_windows([150] * 1_000_000, 12) == 1


def test_resolved_config_keeps_every_window_of_small_data(long_csv):
    from forecast_cli.data import load_series, series_arrays
    from forecast_cli.config import resolve_config

    dataset = load_series(long_csv)  # 3 series of 48 values
    config = resolve_config(TrainConfig(horizon=4, lookback=8), series_arrays(dataset.frame), dataset.seasons, dataset.source)
    assert config.val_windows == 1
    assert config.max_windows == 48 - 8 - 4 + 1  # the refit's windows: lookback and target taken off
    from forecast_cli.windows import make_windows

    series = series_arrays(dataset.frame)
    validated = make_windows(series, 8, 4, config.val_windows, config.max_windows)
    refit = make_windows(series, 8, 4, 0, config.max_windows)  # as the refit cuts them
    assert len(validated.x_train) == 3 * (48 - 4 - 8 - 4 + 1) and len(refit.x_train) == 3 * (48 - 8 - 4 + 1)


def test_resolved_config_caps_many_hourly_series_by_window_steps():
    from forecast_cli.config import resolve_settings

    # 300 series of 960 hours, horizon 48, season 24, lookback 48: 259,500 windows offered; the
    # network reads 100,000 of them, the most recent 333 of each series, not 100.
    config = resolve_settings(TrainConfig(horizon=48, season=24, lookback=48), np.full(300, 960), True, (24,),
                              "hourly.csv")
    assert config.max_windows == 333
    # Three days: 5,000,000 / 72 = 69,444 windows, 231 a series.
    config = resolve_settings(TrainConfig(horizon=48, season=24, lookback=72), np.full(300, 960), True, (24,), "hourly.csv")
    assert config.max_windows == 231
    # By default that many windows read a week, and keep 5,000,000 / 168 = 29,761 windows: 99 a
    # series, so 100, the least.
    config = resolve_settings(TrainConfig(horizon=48, season=24), np.full(300, 960), True, (24,), "hourly.csv")
    assert config.lookback == 168 and config.max_windows == 100


def test_the_third_season_is_read_only_where_the_series_hold_it():
    from forecast_cli.config import resolve_settings

    # 20,000 series of four years of months offer 20,000 windows at two years' lookback, enough
    # for a third year; but 36 + 12 + 12 > 48: three years would leave nothing to train on for a
    # year ahead, so they read two (and train), as a one-series file of the same length does.
    config = resolve_settings(TrainConfig(horizon=12), np.full(20_000, 48), True, (12,), "monthly.parquet")
    assert config.lookback == 24
    config = resolve_settings(TrainConfig(horizon=12), np.full(20_000, 60), True, (12,), "monthly.parquet")
    assert config.lookback == 36  # five years hold three and a year ahead twice
    # Many hourly series of four days, a day ahead: two days (three days and two more do not fit).
    config = resolve_settings(TrainConfig(horizon=24), np.full(5_000, 96), True, (24,), "hourly.parquet")
    assert config.lookback == 48


def test_where_two_seasons_do_not_fit_the_lookback_is_a_season_or_the_horizon():
    from forecast_cli.config import resolve_settings
    from forecast_cli.errors import DataError

    # 100 weeks, 13 ahead: two years (104) are longer than the data; the horizon, 13, is read
    # (the most training windows: 62), not all that fits (74 weeks, one window).
    config = resolve_settings(TrainConfig(horizon=13), np.array([100]), True, (52,), "weekly.csv")
    assert config.lookback == 13
    # 30 months, a year ahead: 6 months would be left, less than a season: too short, as before.
    # The error says how many rows would do with the shortest default lookback, a season: 36.
    with pytest.raises(DataError, match=r"has 30 rows, but horizon 12 .* need at least 36\. Use a smaller --horizon"):
        resolve_settings(TrainConfig(horizon=12), np.array([30]), True, (12,), "monthly.csv")


def test_where_a_season_does_not_fit_the_lookback_goes_down_to_the_horizon():
    from forecast_cli.config import resolve_settings

    # 500 minutes hold no day of 1,440; 30 ahead, the network reads 30; 60 weeks, 13 ahead, 13.
    assert resolve_settings(TrainConfig(horizon=30), np.array([500]), True, (1440,), "minutes.csv").lookback == 30
    assert resolve_settings(TrainConfig(horizon=13), np.array([60]), True, (52,), "weekly.csv").lookback == 13


def test_the_default_lookback_leaves_room_for_the_validation_windows_asked_for():
    from forecast_cli.config import resolve_settings

    # 45 months, 6 ahead, --val-windows 3: two years (24) + 4 x 6 > 45; the horizon (6) fits.
    config = resolve_settings(TrainConfig(horizon=6, val_windows=3), np.array([45]), True, (12,), "monthly.csv")
    assert config.lookback == 6 and config.val_windows == 3
    assert resolve_settings(TrainConfig(horizon=6), np.array([45]), True, (12,), "monthly.csv").lookback == 24


def test_two_seasons_that_leave_few_training_windows_give_way_to_a_season_or_the_horizon():
    from forecast_cli.config import FEWEST_WINDOWS, resolve_settings

    assert FEWEST_WINDOWS == 7
    # One series of 73 months, two years ahead: a lookback of two years leaves 2 training windows
    # before the validation horizon, one of a year 14; it reads a year.
    assert resolve_settings(TrainConfig(horizon=24), np.array([73]), True, (12,), "monthly.csv").lookback == 12
    # 78 months leave 7 windows at two years, and seven series of 73 months 14 between them.
    assert resolve_settings(TrainConfig(horizon=24), np.array([78]), True, (12,), "monthly.csv").lookback == 24
    assert resolve_settings(TrainConfig(horizon=24), np.full(7, 73), True, (12,), "monthly.csv").lookback == 24
    # 3,000 minutes an hour ahead: two days (2,880) would train on one window; it reads an hour.
    assert resolve_settings(TrainConfig(horizon=60), np.array([3000]), True, (1440,), "minutes.csv").lookback == 60
    # --val-windows 3 takes its horizons from the windows too: 50 months, 6 ahead, read two years
    # with one validation horizon (15 windows) and half a year with three (3 at two years).
    assert resolve_settings(TrainConfig(horizon=6), np.array([50]), True, (12,), "monthly.csv").lookback == 24
    assert resolve_settings(TrainConfig(horizon=6, val_windows=3), np.array([50]), True, (12,), "monthly.csv").lookback == 6


def test_intermittent_note_needs_a_tenth_of_the_series_with_sparse_nonzero_values():
    """Said where at least a tenth of the series have a nonzero value less often than every 1.32
    steps (Syntetos and Boylan's cut-off); series with negative values or only zeros are not
    counts of demand and do not count."""
    from forecast_cli.config import intermittent_note as note_of, zero_shares

    def intermittent_note(series):
        return note_of(list(series), zero_shares(series))

    sparse = np.array([0.0, 0.0, 2.0, 0.0, 1.0, 0.0, 0.0, 3.0])  # 62% zeros: an interval of 2.7 steps
    dense = np.array([1.0, 0.0, 2.0, 4.0, 1.0, 2.0, 3.0, 1.0])  # 12% zeros: 1.14 steps
    assert intermittent_note({"s": sparse}) is not None
    assert intermittent_note({"d": dense}) is None
    assert intermittent_note({"s": sparse, **{f"d{k}": dense for k in range(9)}}) is not None  # one in ten
    assert intermittent_note({"s": sparse, **{f"d{k}": dense for k in range(10)}}) is None  # one in eleven
    assert intermittent_note({"n": sparse - 1.0}) is None and intermittent_note({"z": np.zeros(8)}) is None
    counts = {"s": sparse}
    assert note_of(list(counts), zero_shares(counts), TrainConfig(horizon=4)) is not None  # train's defaults
    for chosen in (TrainConfig(loss="mae"), TrainConfig(transform="none"), TrainConfig(quantiles=(0.1, 0.5, 0.9))):
        assert note_of(list(counts), zero_shares(counts), chosen) is None  # the user chose what it aims at


def test_zero_shares_counted_at_once_are_each_series_share():
    """zero_shares counts over every series' values at once: the same numbers as a series at a
    time, with empty, all-zero, negative and empty-value series among them."""
    from forecast_cli.config import zero_shares

    rng = np.random.default_rng(5)
    series = {str(i): rng.poisson(rng.uniform(0.01, 2.0), rng.integers(0, 30)) * (1.0 if i % 7 else -1.0)
              for i in range(2000)}
    series.update({"zeros": np.zeros(4), "none": np.array([]), "gap": np.array([0.0, np.nan, 1.0])})
    alone = [float(np.mean(v == 0)) if len(v) and (v >= 0).all() and (v != 0).any() else np.nan
             for v in series.values()]
    np.testing.assert_array_equal(zero_shares(series), np.array(alone))
