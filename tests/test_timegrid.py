"""timegrid.py: seasons and frequency aliases, the timestamps after a series, and a longer cycle
found in the values."""

import numpy as np
import pandas as pd
import pytest

from forecast_cli.errors import UsageError
from forecast_cli.timegrid import future_grid, longer_season, parse_freq, season_of
from tests.conftest import SAMPLE


@pytest.mark.parametrize(
    ("freq", "season"), [("h", 24), ("D", 7), ("W-SUN", 52), ("MS", 12), ("QS-OCT", 4), ("YS", 1), ("2h", 12),
                         ("7D", 52), ("14D", 26), ("3D", 1)]
)
def test_season_of(freq, season):
    assert season_of(freq) == season


@pytest.mark.parametrize("given, read", [("M", "ME"), ("H", "h"), ("2H", "2h"), ("15T", "15min"), ("Q-JUN", "QE-JUN"),
                                         ("A", "YE-DEC"), ("MS", "MS"), ("W", "W-SUN")])
def test_freq_takes_the_aliases_pandas_renamed(given, read):
    """pandas 3 refuses M, H, T, Q and A, which years of pandas code and answers still write."""
    assert parse_freq(given) == read


def test_freq_that_is_no_alias_is_a_usage_error():
    with pytest.raises(UsageError, match=r"--freq 'monthly' is not a pandas frequency; expected an alias such as h, D, "
                                         r"W-SUN, MS \(month starts\), ME \(month ends\)"):
        parse_freq("monthly")


def test_future_grid_datetime_and_integer():
    got = future_grid(np.array([pd.Timestamp("1960-12-01"), pd.Timestamp("2000-01-31")], dtype="datetime64[ns]"), 2, "datetime", "MS", 1)
    assert list(pd.DatetimeIndex(got)) == [pd.Timestamp("1961-01-01"), pd.Timestamp("1961-02-01"),
                                           pd.Timestamp("2000-02-01"), pd.Timestamp("2000-03-01")]
    week = future_grid(np.array(["2024-01-06"], dtype="datetime64[ns]"), 2, "datetime", "W-SAT", 1)
    assert list(pd.DatetimeIndex(week)) == [pd.Timestamp("2024-01-13"), pd.Timestamp("2024-01-20")]
    np.testing.assert_array_equal(future_grid(np.array([10, 20]), 3, "integer", None, 2), [12, 14, 16, 22, 24, 26])


def test_a_longer_cycle_on_top_of_a_named_season_is_found_where_the_seasonal_differences_repeat():
    def values(name):
        return pd.read_csv(SAMPLE / f"{name}.csv").iloc[:, -1].dropna().to_numpy(dtype="float64")

    # Taylor's week on top of its day, which its changes hardly show (`suggest_seasons` finds only the day).
    week, strength = longer_season([values("taylor_halfhourly_electricity")], 48, 400)
    assert week == 336 and strength > 0.7
    for name in ("airpassengers", "wineind_monthly", "elec_equip_monthly"):  # a year and nothing longer
        assert longer_season([values(name)], 12, 72)[0] is None
    walk = list(np.cumsum(np.random.default_rng(3).normal(size=(20, 800)), axis=1))
    assert longer_season(walk, 24, 336)[0] is None  # random walks: no cycle at all
    assert longer_season([values("airpassengers")], 12, 400) == longer_season([values("airpassengers")], 12, 400)
    assert longer_season([np.arange(30.0)], 12, 48) == (None, 0.0)  # shorter than two of any multiple
