"""A made set of monthly series in the shape of the large monthly competitions, for checks of
training time (not a benchmark: nothing is chosen on it). Each series is a level times a random
yearly profile of random strength, a random-walk drift and noise; the time column is integer
months, as in M3's files, so train with `--season 12`.

`--shape m3`: 1,428 series of 48 to 126 months (M3 monthly's training lengths).
`--shape m4`: `--series` series (3,000 unless told) of 42 to 400 months, half under 200.
Writes `train.csv` and `test.csv` (each series' next 18 months) to a folder.

    .venv/bin/python bench/made_monthly.py /tmp/made-monthly --shape m3
    .venv/bin/forecast train /tmp/made-monthly/train.csv --horizon 18 --season 12 --out /tmp/made-monthly/model
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from suite import write_made_set

HORIZON = 18


def made_monthly(shape: str, series: int, seed: int = 2026) -> pd.DataFrame:
    """Every series' history and next `HORIZON` months, `unique_id, ds, y`."""
    rng = np.random.default_rng(seed)
    if shape == "m3":
        lengths = rng.integers(48, 127, size=1428)
    else:
        lengths = np.clip(rng.lognormal(np.log(200), 0.5, size=series).astype(int), 42, 400)
    rows = []
    for i, length in enumerate(lengths):
        n = int(length) + HORIZON
        t = np.arange(n)
        level = rng.uniform(100, 10000)
        year = rng.normal(size=12)
        year = (year - year.mean()) / (year.std() + 1e-9)
        strength = rng.uniform(0.0, 0.3)
        drift = np.cumsum(rng.normal(rng.normal(0.002, 0.004), 0.02, n))
        y = level * (1 + strength * year[t % 12]) * np.exp(drift)
        y += rng.normal(0, 0.03 * level, n)
        rows.append(pd.DataFrame({"unique_id": f"M{i}", "ds": t + 1, "y": np.abs(y).round(2)}))
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--shape", choices=["m3", "m4"], default="m3")
    parser.add_argument("--series", type=int, default=3000, help="series in the m4 shape")
    args = parser.parse_args()
    write_made_set(made_monthly(args.shape, args.series), HORIZON, Path(args.folder))


if __name__ == "__main__":
    main()
