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
from pathlib import Path

import numpy as np
from frozen import freeze
from suite import SETS, by_series, held_out, holdout_split, trained_forecast

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
        forecast = trained_forecast(work, history, spec, ["--quantiles", args.levels, "--seed", str(args.seed),
                                                          *args.flags])
        order, actual, scales = held_out(history, held, spec)
        columns = [by_series(forecast, column) for column in (f"q{low:g}", f"q{high:g}", "yhat")]
        lows, highs, medians = (np.stack([values[uid][: spec.horizon] for uid in order]) for values in columns)
        below_low, below_high = float(np.mean(actual < lows)), float(np.mean(actual < highs))
        scores = metrics.quantile_scores(actual, np.stack([lows, highs], axis=-1), (low, high), scales)
        inside, pinball = scores["coverage"], scores["scaled_pinball"]
        validation = json.loads((work / "model" / "metrics.json").read_text())["lstm"]
        shown = validation.get("coverage")
        results[name] = {"below_low": below_low, "below_high": below_high, "inside": inside, "pinball": pinball,
                         "mase": metrics.mase(actual, medians, scales), "validation": validation}
        print(f"| {name} | {below_low:.1%} | {below_high:.1%} | {inside:.1%} | "
              f"{'' if shown is None else f'{shown:.1%}'} | {pinball:.4f} | {results[name]['mase']:.4f} |", flush=True)
    (base / "quantiles.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
