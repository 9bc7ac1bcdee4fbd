"""The same data in other units: a set's holdout with every value multiplied by a factor.

A forecast should not depend on what the values are counted in: a series in millions (0.0012)
is the same series as in units (1200). `forecast train` with default flags (only --horizon) on
the holdout of each set (each history without its last horizon, as `suite.py --holdout` cuts
it), once with the values as they are and once multiplied by each `--factors` value; the
forecast is divided back and scored with MASE (which no factor changes) against the values held
out. Holdouts only: the test files are never read.

Usage:
    python bench/units.py --sets m3-other,tourism-quarterly --factors 1,1e-5 [--label NAME] [--seed 42]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from frozen import freeze, run
from suite import SETS, holdout_split

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="m3-other,tourism-quarterly")
    parser.add_argument("--factors", default="1,1e-5")
    parser.add_argument("--label", default="units")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-root", default=str(ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    base = ROOT / "bench" / "runs" / args.label
    freeze(base)
    from forecast_cli import metrics

    print("| set | factor | MASE of the forecast divided back |\n|---|---|---|")
    for name in args.sets.split(","):
        spec = SETS[name]
        history, held = holdout_split(name, Path(args.data_root))
        for factor in (float(f) for f in args.factors.split(",")):
            work = base / f"{name}-x{factor:g}"
            work.mkdir(parents=True, exist_ok=True)
            history.assign(y=history["y"] * factor).to_csv(work / "train.csv", index=False)
            run([sys.executable, "-m", "forecast_cli.cli", "train", "train.csv", "--horizon", str(spec.horizon),
                 "--out", "model", "--seed", str(args.seed), "--quiet", *spec.flags], work)
            run([sys.executable, "-m", "forecast_cli.cli", "predict", "model", "train.csv", "--output",
                 "forecast.csv", "--quiet"], work)
            forecast = pd.read_csv(work / "forecast.csv")
            by_id = {uid: g["yhat"].to_numpy(dtype="float64") / factor
                     for uid, g in forecast.groupby("unique_id", sort=False)}
            past = {uid: g["y"].to_numpy(dtype="float64") for uid, g in history.groupby("unique_id", sort=False)}
            actual, predicted, scales = [], [], []
            for uid, g in held.groupby("unique_id", sort=False):
                actual.append(g["y"].to_numpy(dtype="float64"))
                predicted.append(by_id[uid][: spec.horizon])
                scales.append(metrics.mase_scale(past[uid], spec.mase_season))
            score = metrics.mase(np.stack(actual), np.stack(predicted), np.array(scales))
            print(f"| {name} | {factor:g} | {score:.4f} |", flush=True)


if __name__ == "__main__":
    main()
