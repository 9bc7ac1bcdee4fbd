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
from pathlib import Path

import numpy as np
from frozen import freeze
from suite import SETS, by_series, held_out, holdout_split, trained_forecast

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
        order, actual, scales = held_out(history, held, spec)
        for factor in (float(f) for f in args.factors.split(",")):
            forecast = by_series(trained_forecast(base / f"{name}-x{factor:g}", history.assign(y=history["y"] * factor),
                                                  spec, ["--seed", str(args.seed)]), "yhat")
            predicted = np.stack([forecast[uid][: spec.horizon] / factor for uid in order])
            print(f"| {name} | {factor:g} | {metrics.mase(actual, predicted, scales):.4f} |", flush=True)


if __name__ == "__main__":
    main()
