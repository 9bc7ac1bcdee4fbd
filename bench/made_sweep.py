"""Made sets of eight frequencies, written as users' files write them, through the default flags.

Each set is series of a level times a daily, weekly or yearly profile, a random-walk drift and
noise, with its time column spelt as exports spell it (`2015-W02` ISO weeks, `1990Q1` quarters,
`2010-01` months, bare years, timestamps; a daily set with 1% of its days missing). The last
horizon of each series is held out. `forecast train` (only `--horizon`), `predict` and the
scores against seasonal naive at each of the set's seasons: a check that every frequency trains,
forecasts and beats the obvious, not a benchmark to choose settings on (nothing is tuned here).

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
    """Every set's `<name>-train.csv` and `<name>-test.csv` (each series' last horizon), made in
    one order from one generator, so that a subset of the sets is the same data."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    for name, (horizon, _, build, spelt) in SETS.items():
        frame = build(rng)
        if name == "daily":  # a few days missing, as a shop's export has them
            frame = frame.drop(frame.sample(frac=0.01, random_state=1).index)
        if spelt is not None:
            frame["ds"] = spelt(frame["ds"])
        test = frame.groupby("unique_id").tail(horizon)
        frame.drop(test.index).to_csv(folder / f"{name}-train.csv", index=False)
        test.to_csv(folder / f"{name}-test.csv", index=False)


def scores(train: pd.DataFrame, test: pd.DataFrame, forecast: pd.DataFrame, season: int) -> tuple[float, ...]:
    """(MASE of the forecast, of seasonal naive at `season`, sMAPE of each): per series, the mean
    absolute error over the mean absolute `season`-step difference of its history, averaged."""
    out = []
    history = dict(tuple(train.groupby("unique_id")["y"]))
    predicted = dict(tuple(forecast.groupby("unique_id")["yhat"]))
    for uid, actual in test.groupby("unique_id")["y"]:
        past, y = history[uid].to_numpy(), actual.to_numpy()
        f = predicted[uid].to_numpy()[: len(y)]
        m = season if len(past) > season else 1
        snaive = past[len(past) - m + np.arange(len(y)) % m]
        scale = np.abs(past[m:] - past[:-m]).mean()
        out.append([np.abs(y - f).mean() / scale, np.abs(y - snaive).mean() / scale,
                    (200 * np.abs(y - f) / (np.abs(y) + np.abs(f))).mean(),
                    (200 * np.abs(y - snaive) / (np.abs(y) + np.abs(snaive))).mean()])
    return tuple(np.mean(out, axis=0))


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
        data, model, out = args.folder / f"{name}-train.csv", args.folder / f"{name}-model", args.folder / f"{name}.csv"
        start = time.perf_counter()
        subprocess.run([FORECAST, "train", str(data), "--horizon", str(horizon), "--out", str(model), "--quiet"],
                       check=True)
        seconds = time.perf_counter() - start
        subprocess.run([FORECAST, "predict", str(model), str(data), "--output", str(out), "--quiet"], check=True)
        shipped = pd.read_json(model / "metrics.json", typ="series")["choice"]["shipped"]
        train, test, forecast = pd.read_csv(data), pd.read_csv(args.folder / f"{name}-test.csv"), pd.read_csv(out)
        for season in seasons:
            mase, naive, smape, naive_smape = scores(train, test, forecast, season)
            if not np.isfinite([mase, naive, smape]).all():
                raise SystemExit(f"bench/made_sweep.py: {name} scored NaN or infinity at season {season}")
            print(f"| {name} | {horizon} | {seconds:.0f} | {shipped} | {season} | {mase:.3f} | {naive:.3f} | "
                  f"{mase / naive:.3f} | {smape:.2f} | {naive_smape:.2f} |", flush=True)


if __name__ == "__main__":
    main()
