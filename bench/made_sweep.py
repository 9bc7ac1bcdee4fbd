"""Made sets of eight frequencies, written as users' files write them, through the default flags.

Each set is series of a level times a daily, weekly or yearly profile, a random-walk drift and
noise, with its time column spelt as exports spell it (`2015-W02` ISO weeks, `1990Q1` quarters,
`2010-01` months, bare years, timestamps; a daily set with 1% of its days missing). The last
horizon of each series is held out. `forecast train` (only `--horizon`), `predict` and the
scores against seasonal naive at each of the set's seasons: a check that every frequency trains,
forecasts and beats the obvious, not a benchmark to choose settings on (nothing is tuned here).
Scored as `bench/suite.py` scores its sets: its MASE scales, seasonal naive and check for NaN.

    .venv/bin/python bench/made_sweep.py /tmp/sweep
    .venv/bin/python bench/made_sweep.py /tmp/sweep --sets monthly,daily   # the sets are made alike either way
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

import suite
from forecast_cli import baselines

FORECAST = str(Path(sys.executable).parent / "forecast")


def _series(rng: np.random.Generator, n: int, seasons: list[int], weights: list[float], trend: float) -> np.ndarray:
    t = np.arange(n)
    y = np.ones(n)
    for season, weight in zip(seasons, weights):
        profile = rng.normal(size=season).cumsum()
        y = y + weight * ((profile - profile.mean()) / (profile.std() + 1e-9))[t % season]
    y = 100.0 * y * np.exp(np.cumsum(rng.normal(trend, 0.01, n)))
    return y * (1 + rng.normal(0, 0.05, n))


def _frame(rng: np.random.Generator, count: int, lengths, freq: str, start: str, seasons: list[int],
           weights: list[float], trend: float = 0.0) -> pd.DataFrame:
    rows = []
    for i in range(count):
        n = int(rng.choice(lengths))
        values = _series(rng, n, seasons, weights, trend).round(3)
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": pd.date_range(start, periods=n, freq=freq), "y": values}))
    return pd.concat(rows, ignore_index=True)


# name: (horizon, seasons scored, the set made from a generator, how its times are written)
SETS: dict[str, tuple[int, tuple[int, ...], Callable, Callable | None]] = {
    "min15": (96, (96, 672), lambda r: _frame(r, 20, [2112], "15min", "2024-03-01", [96, 672], [0.3, 0.15]), None),
    "hourly": (48, (24, 168), lambda r: _frame(r, 50, [748, 1008], "h", "2024-01-01", [24, 168], [0.3, 0.15]), None),
    "daily": (14, (7,), lambda r: _frame(r, 100, range(400, 1100), "D", "2021-01-01", [7, 365], [0.2, 0.2]), None),
    "monthly": (18, (12,), lambda r: _frame(r, 300, range(36, 110), "MS", "2010-01-01", [12], [0.2], 0.003),
                lambda s: s.dt.strftime("%Y-%m")),
    "weekly": (13, (52,), lambda r: _frame(r, 50, range(120, 400), "W-MON", "2015-01-05", [52], [0.15]),
               lambda s: s.dt.strftime("%G-W%V")),
    "quarterly": (8, (4,), lambda r: _frame(r, 100, range(20, 60), "QS", "1990-01-01", [4], [0.2], 0.01),
                  lambda s: s.dt.year.astype(str) + "Q" + s.dt.quarter.astype(str)),
    "yearly": (6, (1,), lambda r: _frame(r, 100, range(15, 40), "YS", "1980-01-01", [1], [0.0], 0.02),
               lambda s: s.dt.year.astype(str)),
    "minute": (60, (60, 1440), lambda r: _frame(r, 5, [4380], "min", "2024-05-01", [60, 1440], [0.2, 0.3]), None),
}


def make(folder: Path) -> None:
    """Every set's `train.csv` and `test.csv` (each series' last horizon) in `folder/<name>`, made
    in one order from one generator, so that a subset of the sets is the same data."""
    rng = np.random.default_rng(11)
    for name, (horizon, _, build, spelt) in SETS.items():
        frame = build(rng)
        if name == "daily":  # a few days missing, as a shop's export has them
            frame = frame.drop(frame.sample(frac=0.01, random_state=1).index)
        if spelt is not None:
            frame["ds"] = spelt(frame["ds"])
        suite.write_made_set(frame, horizon, folder / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated, of " + ", ".join(SETS))
    args = parser.parse_args()
    make(args.folder)
    print("| set | horizon | train s | shipped | season | MASE, default | seasonal naive | ratio | sMAPE, default | "
          "seasonal naive |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        horizon, seasons = SETS[name][:2]
        folder = args.folder / name
        data, model, out = folder / "train.csv", folder / "model", folder / "forecast.csv"
        start = time.perf_counter()
        subprocess.run([FORECAST, "train", str(data), "--horizon", str(horizon), "--out", str(model), "--quiet"],
                       check=True)
        seconds = time.perf_counter() - start
        subprocess.run([FORECAST, "predict", str(model), str(data), "--output", str(out), "--quiet"], check=True)
        shipped = pd.read_json(model / "metrics.json", typ="series")["choice"]["shipped"]
        train, test = pd.read_csv(data), pd.read_csv(folder / "test.csv")
        forecast, past = suite.by_series(pd.read_csv(out), "yhat"), suite.by_series(train)
        for season in seasons:  # MASE scaled by each series' history at `season`
            order, actual, scales = suite.held_out(train, test, suite.Set(horizon, season, (season,), name))
            default = suite.score(actual, np.stack([forecast[uid][:horizon] for uid in order]), scales, name)
            snaive = baselines.forecasts([past[uid] for uid in order], horizon, season, "snaive")
            naive = suite.score(actual, snaive, scales, f"{name}'s seasonal naive")
            print(f"| {name} | {horizon} | {seconds:.0f} | {shipped} | {season} | {default['mase']:.3f} | "
                  f"{naive['mase']:.3f} | {default['mase'] / naive['mase']:.3f} | {default['smape']:.2f} | "
                  f"{naive['smape']:.2f} |", flush=True)

if __name__ == "__main__":
    main()
