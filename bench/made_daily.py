"""A made set of daily series, for checks of settings that move daily data (not a benchmark:
the suite has no daily set, and nothing is chosen on this one alone). Each series is a level
times a random weekly profile of random strength, a yearly wave of random strength and phase, a
random-walk drift and noise; the time column is dates, so `train` finds the week itself.
`--series` series (250 unless told) of 100 to 700 days, about 300 on the median: 1.8 million
window steps an epoch, under the 3 million past which the network read patches until patches
became the default for every window of 24 steps or more.
Writes `train.csv` and `test.csv` (each series' next 28 days) to a folder.

    .venv/bin/python bench/made_daily.py /tmp/made-daily
    .venv/bin/forecast train /tmp/made-daily/train.csv --horizon 28 --out /tmp/made-daily/model
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from suite import write_made_set

HORIZON = 28


def made_daily(series: int, seed: int = 2026) -> pd.DataFrame:
    """Every series' history and next `HORIZON` days, `unique_id, ds, y`."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(300), 0.5, size=series).astype(int), 100, 700)
    rows = []
    for i, length in enumerate(lengths):
        n = int(length) + HORIZON
        t = np.arange(n)
        level = rng.uniform(50, 5000)
        week = rng.normal(size=7)
        week = (week - week.mean()) / (week.std() + 1e-9)
        year = rng.uniform(0.0, 0.2) * np.sin(2 * np.pi * (t / 365.25 + rng.uniform()))
        drift = np.cumsum(rng.normal(rng.normal(0.0, 0.001), 0.01, n))
        y = level * (1 + rng.uniform(0.0, 0.4) * week[t % 7] + year) * np.exp(drift)
        y += rng.normal(0, 0.05 * level, n)
        start = pd.Timestamp("2018-01-01") + pd.Timedelta(days=int(rng.integers(0, 700)))
        ds = pd.date_range(start, periods=n, freq="D").strftime("%Y-%m-%d")
        rows.append(pd.DataFrame({"unique_id": f"D{i}", "ds": ds, "y": np.abs(y).round(2)}))
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--series", type=int, default=250)
    args = parser.parse_args()
    write_made_set(made_daily(args.series), HORIZON, Path(args.folder))


if __name__ == "__main__":
    main()
