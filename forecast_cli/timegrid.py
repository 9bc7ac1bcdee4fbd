"""Frequencies and seasons: a frequency's seasons, default horizon, future times and calendar features."""

from __future__ import annotations

import re
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from forecast_cli.config import SEASON_LONGEST
from forecast_cli.errors import UsageError

# The frequency of weekly series on different weekdays in one file (shops whose weeks end on a
# Saturday beside others ending on a Sunday): no weekly alias anchors them all, so each series is
# read every seven days from its own first day, and taken as weekly data (`_base`).
WEEKS = "7D"

# The longest week taken as a second season (ten-minute data): the statistical partner's seasonal
# states and seasonal naive's memory grow with it, and finer data rarely spans enough weeks.
WEEK_LONGEST = 1008
# Steps in one seasonal cycle per pandas offset base (the cycle a person would name).
_SEASON_BY_BASE = {
    "min": 60 * 24,  # per day
    "s": 60,
    "h": 24,
    "D": 7,
    "B": 5,
    "W": 52,
    "ME": 12,
    "MS": 12,
    "BME": 12,
    "BMS": 12,
    "QE": 4,
    "QS": 4,
    "BQE": 4,
    "BQS": 4,
    "YE": 1,
    "YS": 1,
    "BYE": 1,
    "BYS": 1,
}
# The horizon taken when `--horizon` is not given, per offset base: the M4 competition's horizons
# (yearly 6, quarterly 8, monthly 18, weekly 13, daily 14, hourly 48: what forecasters of each
# kind of data were asked for), two weeks of business days, and a day of finer steps.
_HORIZON_BY_BASE = {
    "h": 48, "D": 14, "B": 10, "W": 13,
    **{base: 18 for base in ("ME", "MS", "BME", "BMS")},
    **{base: 8 for base in ("QE", "QS", "BQE", "BQS")},
    **{base: 6 for base in ("YE", "YS", "BYE", "BYS")},
}


def _infer_freq(index: pd.DatetimeIndex) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = pd.infer_freq(index)
        except (ValueError, TypeError):
            return None
    if found is None:
        return None
    return pd.tseries.frequencies.to_offset(found).freqstr


def guess_freq(times: pd.Series) -> str | None:
    """Infer a frequency, tolerating gaps: the most common one over short runs of the series
    (pandas infers none for a series with a gap).

    Example:
        >>> months = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-06-01", "2024-07-01"]
        >>> guess_freq(pd.Series(pd.to_datetime(months + ["2024-08-01", "2024-09-01"])))  # May missing
        'MS'
    """
    index = pd.DatetimeIndex(times)
    whole = _infer_freq(index)
    if whole is not None or len(index) < 4:
        return whole
    starts = np.unique(np.linspace(0, len(index) - 4, num=min(60, len(index) - 3)).astype(int))
    found = Counter(f for f in (_infer_freq(index[s : s + 4]) for s in starts) if f is not None)
    return found.most_common(1)[0][0] if found else None


# Aliases pandas renamed (2.2) and then refused (3.0), as years of pandas habit still type them:
# each for what it meant (M: month ends, now ME; H: hours, now h).
_RENAMED_FREQS = {"M": "ME", "BM": "BME", "SM": "SME", "Q": "QE", "BQ": "BQE", "Y": "YE", "A": "YE",
                  "BY": "BYE", "BA": "BYE", "AS": "YS", "BAS": "BYS", "H": "h", "BH": "bh", "T": "min",
                  "S": "s", "L": "ms", "U": "us", "N": "ns"}


def parse_freq(freq: str) -> str:
    """The pandas frequency a `--freq` names, as pandas spells it: an alias pandas knows, or one
    it renamed, read as it was meant (`M` month ends, `Q-DEC`, `H` hours, `15T` minutes).

    Example:
        >>> parse_freq("MS"), parse_freq("W"), parse_freq("M"), parse_freq("2H"), parse_freq("Q-JUN")
        ('MS', 'W-SUN', 'ME', '2h', 'QE-JUN')
    """
    old = re.fullmatch(r"(\d*)([A-Za-z]+)(-[A-Za-z]+)?", freq.strip())
    for alias in (freq.strip(), f"{old[1]}{_RENAMED_FREQS[old[2]]}{old[3] or ''}" if old and old[2] in _RENAMED_FREQS
                  else None):
        if alias is None:
            continue
        try:
            return pd.tseries.frequencies.to_offset(alias).freqstr
        except ValueError:
            pass
    raise UsageError(
        f"--freq {freq!r} is not a pandas frequency; expected an alias such as h, D, W-SUN, MS (month "
        "starts), ME (month ends), QS or YS."
    )


def season_of(freq: str | None) -> int:
    """Steps in one seasonal cycle for a pandas frequency (1 when none applies).

    Args:
        freq: a pandas offset alias such as `h`, `30min`, `D`, `W-SUN`, `MS`, `QS-OCT`.

    Returns:
        The season length: 24 for hourly, 48 for half-hourly, 7 for daily, 52 for weekly,
        12 for monthly, 4 for quarterly, 1 for yearly.

    Example:
        >>> season_of("30min")
        48
    """
    if freq is None:
        return 1
    base, n = _base(freq)
    cycle = _SEASON_BY_BASE.get(base, 1)
    if cycle % n != 0:
        return 1
    return max(1, cycle // n)


def _multiple(offset: pd.DateOffset) -> int:
    """How many of its base unit a pandas offset spans (`2MS`: 2), at least 1."""
    return max(1, int(getattr(offset, "n", 1) or 1))


def is_weekly(freq: str | None) -> bool:
    """Whether a frequency is one week a step, on any weekday (`W-SUN`, `W-MON`, `WEEKS`).

    Example:
        >>> is_weekly("W-MON"), is_weekly(WEEKS), is_weekly("2W-SUN"), is_weekly("D"), is_weekly(None)
        (True, True, False, False, False)
    """
    return freq is not None and _base(freq) == ("W", 1)


def _base(freq: str) -> tuple[str, int]:
    """A pandas frequency's base alias, as the season and horizon tables know it, and how many of
    that base one step spans; a multiple of seven days is a multiple of a week (`WEEKS`).

    Example:
        >>> _base("W-MON"), _base("2MS"), _base("7D"), _base("14D"), _base("3D")
        (('W', 1), ('MS', 2), ('W', 1), ('W', 2), ('D', 3))
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    base, n = offset.rule_code.split("-")[0], _multiple(offset)
    if base == "D" and n % 7 == 0:
        return "W", n // 7
    return base, n


def default_horizon(freq: str | None) -> int | None:
    """The horizon for data of a frequency when none is given (None: no default, for a
    frequency without one): the M4 competition's for its frequencies, scaled to multiples
    (`2MS`: 9), and a day of steps for data finer than hourly.

    Example:
        >>> default_horizon("MS"), default_horizon("QS-OCT"), default_horizon("h"), default_horizon("15min")
        (18, 8, 48, 96)
    """
    if freq is None:
        return None
    base, n = _base(freq)
    if base in ("min", "s"):
        day = season_of(freq)
        return day if day > 1 else None
    steps = _HORIZON_BY_BASE.get(base)
    return None if steps is None else max(1, steps // n)


def data_horizon(time_kind: str, freq: str | None, time_col: str, step: int,
                 times: np.ndarray) -> tuple[int | None, str]:
    """The horizon `train` takes for data when none is given (None where there is none) and what
    it is the default for, as messages say it: dates by their frequency (`default_horizon`),
    integer steps that are calendar years (`steps_are_years`) as yearly data, other integer
    steps none.

    Example:
        >>> data_horizon("datetime", "MS", "month", 1, np.array([]))
        (18, 'frequency MS')
        >>> data_horizon("integer", None, "year", 1, np.array([1871, 1970]))
        (6, 'yearly data (integer years)')
    """
    if time_kind == "datetime":
        return default_horizon(freq), f"frequency {freq}"
    if steps_are_years(time_col, step, times):
        return _HORIZON_BY_BASE["YS"], "yearly data (integer years)"
    return None, "integer steps, which carry no frequency"


def steps_are_years(time_col: str, step: int, times: np.ndarray) -> bool:
    """Whether integer steps are calendar years: a time column named `year` counting by one
    through four-digit numbers (`1871, 1872, ...`). They stay integer steps (the forecast's
    times are years, as given); only the default horizon takes them as years.

    Example:
        >>> steps_are_years("Year", 1, np.array([1871, 1970])), steps_are_years("t", 1, np.array([1871]))
        (True, False)
    """
    times = np.asarray(times)
    return (time_col.strip().lower() == "year" and step == 1 and len(times) > 0
            and 1000 <= int(times.min()) and int(times.max()) <= 2999)


def seasons_of(freq: str | None) -> tuple[int, ...]:
    """Every seasonal cycle a person would name for a pandas frequency, shortest first: a day and
    a week for hourly and finer data (a week of at most `WEEK_LONGEST` steps), else `season_of`'s
    one.

    Example:
        >>> seasons_of("h"), seasons_of("30min"), seasons_of("D"), seasons_of("MS"), seasons_of("min")
        ((24, 168), (48, 336), (7,), (12,), (1440,))
    """
    day = season_of(freq)
    if freq is None or day <= 1:
        return (day,)
    base, _ = _base(freq)
    if base in ("h", "min") and 7 * day <= WEEK_LONGEST:
        return (day, 7 * day)
    return (day,)


SEASON_SAMPLE = 500  # series pooled by `suggest_seasons` (evenly over the ids), at most
SEASON_VALUES = 2000  # of each, the latest values, at most
SEASON_MIN_ACF = 0.3  # pooled autocorrelation a cycle needs to be named


def _season_sample(series: list[np.ndarray]) -> list[np.ndarray]:
    """The series a season search reads: up to `SEASON_SAMPLE` of them, evenly spread."""
    return [series[i] for i in np.linspace(0, len(series) - 1, min(len(series), SEASON_SAMPLE)).astype(int)]


def suggest_seasons(series: list[np.ndarray]) -> tuple[tuple[int, ...], float]:
    """The cycles the values repeat at, for data whose time column carries no frequency (integer
    steps): the lag of the strongest peak of the autocorrelation of the changes (first
    differences, so that a trend does not hide the cycle), pooled over the series. A shorter
    peak nearly as high that divides it is named first (a day beside a week), or alone when the
    strongest spans fewer than three of it (a peak at two days is the day again). Only a
    suggestion for `--season`: the tool does not act on it, so that a model never depends on a
    guess (and the same data trains the same model with or without the check).

    Args:
        series: each series' values (up to `SEASON_SAMPLE` of them are read, evenly spread).

    Returns:
        (seasons, autocorrelation at the shortest of them): ((), 0.0) when no cycle reaches
        `SEASON_MIN_ACF` or the series are too short (three cycles at least).

    Example:
        >>> t, noise = np.arange(2000), np.random.default_rng(1).normal(size=2000)
        >>> hourly = 50 + 10 * np.sin(2 * np.pi * t / 24) + 8 * (t % 168 >= 120) + noise  # a day, a weekend
        >>> suggest_seasons([hourly])[0], suggest_seasons([hourly[:300]])[0], suggest_seasons([noise])
        ((24, 168), (24,), ((), 0.0))
    """
    from statsmodels.tsa.stattools import acf

    picked = _season_sample(series)
    rests = [np.diff(np.asarray(v, dtype="float64")[-SEASON_VALUES:]) for v in picked]
    rests = [r for r in rests if len(r) >= 12 and np.ptp(r) > 0]
    if not rests:
        return (), 0.0
    lags = min(SEASON_LONGEST, max(len(r) for r in rests) // 3)
    total, count = np.zeros(lags + 1), np.zeros(lags + 1)
    for r in rests:
        n = min(lags, len(r) // 3)
        total[: n + 1] += acf(r, nlags=n, fft=True)
        count[: n + 1] += 1
    pooled = total / np.maximum(count, 1)
    # A cycle's peak rises from a trough before it (the changes run opposite half a cycle on):
    # a bump at a few lags that only the noise made (its changes correlate at -0.5 one step
    # apart) does not.
    peaks = [lag for lag in range(2, lags) if pooled[lag] >= SEASON_MIN_ACF
             and pooled[lag] > pooled[lag - 1] and pooled[lag] >= pooled[lag + 1]
             and pooled[lag] - pooled[1:lag].min() >= SEASON_MIN_ACF]
    if not peaks:
        return (), 0.0
    best = max(peaks, key=lambda lag: pooled[lag])
    # The cycle inside the strongest: its shortest whole divisor that peaks nearly as high; both
    # are named when the strongest spans three or more of it (a week of days), else the shorter
    # (a peak at two days is the day again).
    base = min(lag for lag in peaks if best % lag == 0 and pooled[lag] >= 0.8 * pooled[best])
    return ((base, best) if best >= 3 * base else (base,)), float(pooled[base])


LONGER_MIN_ACF = 0.2  # pooled autocorrelation of the seasonal differences a longer cycle needs


def longer_season(series: list[np.ndarray], season: int, longest: int) -> tuple[int | None, float]:
    """A cycle on top of `season` (a week on top of a day of integer hours): the multiple of
    `season`, from two of it up to `longest`, at which the seasonal differences (each value less
    the one a season before, so that the season itself is gone and a trend with it) correlate
    most, pooled over the series, if that reaches `LONGER_MIN_ACF`. Where `season` is the only
    cycle the differences are uncorrelated at its multiples (for a random walk exactly, as the
    sums of steps they are do not overlap); a weekend that differs from the weekdays makes them
    repeat at a week. Pooled over up to `SEASON_SAMPLE` series (evenly spread), the latest
    `SEASON_VALUES` values of each.

    Returns:
        (the cycle or None, its pooled autocorrelation).

    Example:
        >>> t, noise = np.arange(2000), np.random.default_rng(1).normal(size=2000)
        >>> daily = 50 + 10 * np.sin(2 * np.pi * t / 24) + noise
        >>> longer_season([daily + 8 * (t % 168 >= 120)], 24, 400)[0], longer_season([daily], 24, 400)[0]
        (168, None)
    """
    from statsmodels.tsa.stattools import acf

    multiples = np.arange(2 * season, longest + 1, season)
    total, count = np.zeros(len(multiples)), np.zeros(len(multiples))
    for values in _season_sample(series):
        values = np.asarray(values, dtype="float64")[-SEASON_VALUES:]
        rest = values[season:] - values[:-season]
        # Three cycles at least, as `suggest_seasons` asks: with two, a single monthly series
        # (air passengers) showed a four-year cycle in its yearly changes.
        reach = min(longest, len(rest) // 3)
        if reach < 2 * season or np.ptp(rest) == 0:
            continue
        seen = multiples <= reach
        total[seen] += acf(rest, nlags=reach, fft=True)[multiples[seen]]
        count[seen] += 1
    if not count.any():
        return None, 0.0
    pooled = np.where(count > 0, total / np.maximum(count, 1), -np.inf)
    best = int(np.argmax(pooled))
    return (int(multiples[best]), float(pooled[best])) if pooled[best] >= LONGER_MIN_ACF else (None, float(pooled[best]))


def future_grid(last: np.ndarray, horizon: int, time_kind: str, freq: str | None, step: int) -> np.ndarray:
    """The `horizon` timestamps after each series' last one, flattened series by series.

    Example:
        >>> future_grid(np.array([pd.Timestamp("1960-12-01")]), 2, "datetime", "MS", 1)
        array(['1961-01-01T00:00:00.000000', '1961-02-01T00:00:00.000000'], dtype='datetime64[us]')
    """
    if time_kind == "integer":
        return (np.asarray(last, dtype="int64")[:, None] + step * np.arange(1, horizon + 1)[None, :]).reshape(-1)
    offset = pd.tseries.frequencies.to_offset(freq)
    starts = pd.DatetimeIndex(last)
    # Step k of every series at once: adding k offsets to the index is vectorised in pandas.
    steps = [starts + offset * k for k in range(1, horizon + 1)]
    return np.stack([s.to_numpy() for s in steps], axis=1).reshape(-1)


CALENDAR_PREFIX = "calendar:"


def calendar_columns(freq: str | None) -> tuple[str, ...]:
    """The calendar features for data of a frequency: the position in each cycle shorter than a
    year that the frequency can show, as sine and cosine (so December sits next to January).

    Example:
        >>> calendar_columns("MS")
        ('calendar:year_sin', 'calendar:year_cos')
    """
    if freq is None:
        return ()
    base, _ = _base(freq)
    cycles = {"min": ("day", "week"), "s": ("day", "week"), "h": ("day", "week"), "D": ("week", "year"),
              "B": ("week", "year"), "W": ("year",), "ME": ("year",), "MS": ("year",), "BME": ("year",),
              "BMS": ("year",), "QE": ("year",), "QS": ("year",), "BQE": ("year",), "BQS": ("year",)}
    return tuple(f"{CALENDAR_PREFIX}{cycle}_{f}" for cycle in cycles.get(base, ()) for f in ("sin", "cos"))


def calendar_features(times: pd.Series, names: tuple[str, ...]) -> pd.DataFrame:
    """The calendar columns `names` (see `calendar_columns`) for each timestamp."""
    t = pd.DatetimeIndex(times)
    phases = {
        "day": (t.hour + t.minute / 60 + t.second / 3600) / 24,
        "week": (t.day_of_week + t.hour / 24) / 7,
        "year": (t.day_of_year - 1) / (365 + t.is_leap_year.astype(int)),
    }
    out = {}
    for name in names:
        cycle, fn = name[len(CALENDAR_PREFIX):].rsplit("_", 1)
        angle = 2 * np.pi * np.asarray(phases[cycle], dtype="float64")
        out[name] = np.sin(angle) if fn == "sin" else np.cos(angle)
    return pd.DataFrame(out, index=times.index)
