"""Quantile forecasts against what they claim: `forecast train --quantiles 0.1,0.9` on a set's
holdout (each history without its last horizon, as `suite.py --holdout` cuts it), then how often
the values held out fall below each quantile (0.1 and 0.9 should be hit 10% and 90% of the
time), the share inside the 80% interval, and the scaled pinball loss beside the point MASE.
Holdouts only: the test files are never read.

Usage:
    python bench/quantiles.py --sets tourism-quarterly,m3-other [--levels 0.1,0.9] [--label NAME] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from frozen import freeze, run
from suite import SETS, holdout_split

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="tourism-quarterly,m3-other")
    parser.add_argument("--levels", default="0.1,0.9")
    parser.add_argument("--label", default="quantiles")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-root", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("flags", nargs="*", help="extra train flags, after --")
    args = parser.parse_args()
    base = ROOT / "bench" / "runs" / args.label
    freeze(base)
    from forecast_cli import metrics

    levels = [float(q) for q in args.levels.split(",")]
    low, high = min(levels), max(levels)
    print(f"| set | below q{low:g} | below q{high:g} | inside (nominal {high - low:.0%}) | validation inside | "
          "pinball / scale | MASE of the median |\n|---|---|---|---|---|---|---|")
    results = {}
    for name in args.sets.split(","):
        spec = SETS[name]
        history, held = holdout_split(name, Path(args.data_root))
        work = base / name
        work.mkdir(parents=True, exist_ok=True)
        history.to_csv(work / "train.csv", index=False)
        run([sys.executable, "-m", "forecast_cli.cli", "train", "train.csv", "--horizon", str(spec.horizon),
             "--quantiles", args.levels, "--out", "model", "--seed", str(args.seed), "--quiet", *spec.flags,
             *args.flags], work)
        run([sys.executable, "-m", "forecast_cli.cli", "predict", "model", "train.csv", "--output", "forecast.csv",
             "--quiet"], work)
        forecast = pd.read_csv(work / "forecast.csv")
        by_id = {uid: g for uid, g in forecast.groupby("unique_id", sort=False)}
        past = {uid: g["y"].to_numpy(dtype="float64") for uid, g in history.groupby("unique_id", sort=False)}
        actual, lows, highs, medians, scales = [], [], [], [], []
        for uid, g in held.groupby("unique_id", sort=False):
            rows = by_id[uid].iloc[: spec.horizon]
            actual.append(g["y"].to_numpy(dtype="float64"))
            lows.append(rows[f"q{low:g}"].to_numpy())
            highs.append(rows[f"q{high:g}"].to_numpy())
            medians.append(rows["yhat"].to_numpy())
            scales.append(metrics.mase_scale(past[uid], spec.mase_season))
        actual, lows, highs, medians = map(np.stack, (actual, lows, highs, medians))
        scales = np.array(scales)
        ok = np.isfinite(scales) & (scales > 0)
        below_low, below_high = float(np.mean(actual < lows)), float(np.mean(actual < highs))
        inside = float(np.mean((actual >= lows) & (actual <= highs)))
        pinball = 0.0
        for q, pred in ((low, lows), (high, highs)):
            error = actual - pred
            pinball += float(np.mean(np.maximum(q * error, (q - 1) * error)[ok] / scales[ok, None])) / 2
        validation = json.loads((work / "model" / "metrics.json").read_text())["lstm"]
        shown = validation.get("coverage")
        results[name] = {"below_low": below_low, "below_high": below_high, "inside": inside, "pinball": pinball,
                         "mase": metrics.mase(actual, medians, scales), "validation": validation}
        print(f"| {name} | {below_low:.1%} | {below_high:.1%} | {inside:.1%} | "
              f"{'' if shown is None else f'{shown:.1%}'} | {pinball:.4f} | {results[name]['mase']:.4f} |", flush=True)
    (base / "quantiles.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
