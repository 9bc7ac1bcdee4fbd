"""How well can simple checks tell a planted spike from an ordinary value on ETTh1's columns, at a
given false-alarm rate? A reference for `bench/detect.py`, with no model: statistics of each
series' own one-step changes d(t) = y(t) - y(t-1), on the papers' training rows.

- one-sided: |d(t)|, what a causal check of the newest value sees when its forecast is the last
  value (the tool's model does no better than that on ETTh1: its one-step errors do not repeat);
- two-sided: a spike goes out and comes back, an ordinary move stays, so the smaller of the move
  in and the move back when they have opposite signs, else 0. It needs the value after, which a
  nightly check of the newest value does not have.

For each, the threshold is the series' (1 - false alarms) quantile of the statistic on clean
data, and the recall is the share of positions flagged once a spike of `--size` x the series'
median absolute change (up or down at random) is added there.

Usage:
    python bench/detect_bound.py [--false-alarms 0.01,0.02] [--size 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
ETTH1_TRAIN_END = 8640


def two_sided(into: np.ndarray, back: np.ndarray) -> np.ndarray:
    """The smaller of the move in and the move back (back given as -d(t+1)) where both agree in sign."""
    agree = np.sign(into) == np.sign(back)
    return np.where(agree, np.minimum(np.abs(into), np.abs(back)), 0.0)


def recalls(values: np.ndarray, size: float, false_alarms: float, rng: np.random.Generator) -> tuple[float, float]:
    d = np.diff(values)
    step = float(np.median(np.abs(d)))
    spike = size * step * rng.choice([-1.0, 1.0], size=len(d) - 1)
    into, back = d[:-1], -d[1:]
    one = np.abs(into)
    one_recall = float(np.mean(np.abs(into + spike) > np.quantile(one, 1 - false_alarms)))
    two = two_sided(into, back)
    two_recall = float(np.mean(two_sided(into + spike, back + spike) > np.quantile(two, 1 - false_alarms)))
    return one_recall, two_recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--false-alarms", default="0.01,0.02")
    parser.add_argument("--size", type=float, default=5.0)
    args = parser.parse_args()
    etth1 = pd.read_csv(DATA / "etth1" / "ETTh1.csv").iloc[:ETTH1_TRAIN_END]
    series = {f"ETTh1 {c}": etth1[c].to_numpy(dtype=float) for c in etth1.columns[1:]}
    print("| series | false alarms | recall, one-sided | recall, two-sided |")
    print("|---|---|---|---|")
    for rate in [float(r) for r in args.false_alarms.split(",")]:
        for name, values in series.items():
            one, two = recalls(values, args.size, rate, np.random.default_rng(0))
            print(f"| {name} | {rate:.0%} | {one:.3f} | {two:.3f} |")


if __name__ == "__main__":
    main()
