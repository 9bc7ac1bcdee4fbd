"""A made set of M4's hourly shape, for smoke checks of time and of the season search (not a
benchmark: nothing is chosen on it): 414 series of 700 (360 of them) and 960 integer hours, each
a level times a random daily profile, less 0 to 40% at weekends, a random-walk drift and noise.
Writes `train.csv` (the history) and `test.csv` (each series' next 48 hours) to a folder.

    .venv/bin/python bench/made_hourly.py /tmp/made-hourly
    .venv/bin/forecast train /tmp/made-hourly/train.csv --horizon 48 --season 24 --out /tmp/made-hourly/model
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from suite import write_made_set

HORIZON = 48


def made_hourly(seed: int = 2026) -> pd.DataFrame:
    """Every series' history and next `HORIZON` hours, `unique_id, ds, y`."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(414):
        n = (700 if i < 360 else 960) + HORIZON
        t = np.arange(n)
        level = rng.uniform(50, 5000)
        day = rng.normal(size=24).cumsum()
        day = (day - day.mean()) / (day.std() + 1e-9)
        weekend = rng.uniform(0.0, 0.4) * (t % 168 >= 120)
        y = level * (1 + 0.15 * day[t % 24] - weekend) * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
        y += rng.normal(0, 0.03 * level, n)
        rows.append(pd.DataFrame({"unique_id": f"H{i}", "ds": t + 1, "y": y.round(2)}))
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    write_made_set(made_hourly(), HORIZON, Path(parser.parse_args().folder))


if __name__ == "__main__":
    main()
