"""The analyst's case: one series in one file, trained with the default flags and with other
flags beside them, on the end of each series' history (holdouts only: never a test file).

A model of hundreds of series chooses its blend on hundreds of validation windows; one series of
a few hundred values validates on one window of a horizon (`config.default_val_windows`), so its
choice is one window's luck. This script takes every Nth series of a suite set, writes each alone
to a file without its last horizon of values, trains `forecast train` on it once with the
default flags and once with `--variant` flags, forecasts, and scores both against the values
held out (MASE scaled as the set's competition does). Prints each series' two figures, then the
mean of the log ratio (variant over default) per set and over every series. Scores are saved
after each series in `bench/runs/<label>/single.json`; running the same label again goes on
from there (give a new label for other flags).

`--keep-windows K` cuts each series to its last values such that the default lookback of two
seasons (or the horizon) leaves K training windows beside one validation window: the short
history of a new sensor or store, to compare the default lookback with a shorter one given as
`--variant "--lookback N"`.

Usage:
    python bench/single_series.py --label one-vw3 --sets tourism-quarterly,m3-other --every 20 --variant "--val-windows 3" [--seed 7] [--offset 10]
    python bench/single_series.py --label few-k1-tm --sets tourism-monthly --every 8 --keep-windows 1 --variant "--lookback 12"
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import suite
from frozen import freeze, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True)
    parser.add_argument("--sets", required=True, help="bench/suite.py sets, comma-separated")
    parser.add_argument("--every", type=int, default=20, help="take every Nth series of each set")
    parser.add_argument("--offset", type=int, default=0,
                        help="start from the series at this place (with --every 20, --offset 10 takes other series)")
    parser.add_argument("--variant", required=True, help="the flags trained beside the defaults, quoted")
    parser.add_argument("--keep-windows", type=int, default=0,
                        help="cut each series to leave this many training windows at two seasons' lookback (0: whole)")
    parser.add_argument("--seed", type=int, default=None, help="--seed for both runs (default: the tool's)")
    parser.add_argument("--data-root", default=str(suite.ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    base = suite.ROOT / "bench" / "runs" / args.label
    code = freeze(base)
    forecast = [sys.executable, "-m", "forecast_cli.cli"]
    from forecast_cli import config, metrics

    seed = ["--seed", str(args.seed)] if args.seed is not None else []
    variants = {"default": seed, "variant": [*seed, *shlex.split(args.variant)]}
    results_file = base / "single.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    for name in args.sets.split(","):
        spec = suite.SETS[name]
        train, holdout = suite.holdout_split(name, Path(args.data_root))
        # Series long enough for either run: a window to read (two seasons, or the horizon), three
        # horizons of validation (`--val-windows 3`) and two more, so that some windows are left
        # to train on.
        need = max(spec.horizon, 2 * spec.mase_season) + 5 * spec.horizon
        if args.keep_windows:  # the lookback of two seasons, a training and a validation horizon, K - 1 more
            need = config.default_lookback(spec.horizon, spec.seasons[0]) + 2 * spec.horizon + args.keep_windows - 1
        lengths = train.groupby("unique_id", sort=False).size()
        ids = [uid for uid in lengths.index if lengths[uid] >= need][args.offset :: args.every]
        for uid in ids:
            key = f"{name}/{uid}"
            if key in results:  # scored by an earlier, interrupted run of this label
                continue
            work = base / name / str(uid)
            work.mkdir(parents=True, exist_ok=True)
            train_csv = work / "train.csv"
            rows = train[train["unique_id"] == uid]
            if args.keep_windows:
                rows = rows.tail(need)
            rows.to_csv(train_csv, index=False)
            actual = holdout.loc[holdout["unique_id"] == uid, "y"].to_numpy(dtype="float64")[None, :]
            scale = np.array([metrics.mase_scale(rows["y"].to_numpy(dtype="float64"), spec.mase_season)])
            scores = {}
            for variant, flags in variants.items():
                model, output = work / f"model-{variant}", work / f"forecast-{variant}.csv"
                run([*forecast, "train", str(train_csv), "--horizon", str(spec.horizon), "--out", str(model),
                     "--quiet", *spec.flags, *flags], code)
                run([*forecast, "predict", str(model), str(train_csv), "--output", str(output), "--quiet"], code)
                yhat = pd.read_csv(output)["yhat"].to_numpy(dtype="float64")[None, :]
                choice = json.loads((model / "metrics.json").read_text()).get("choice", {}).get("shipped")
                scores[variant] = {**suite.score(actual, yhat, scale, key), "shipped": choice}
            results[key] = scores
            results_file.write_text(json.dumps(results, indent=2))
            print(f"{key}: default {scores['default']['mase']:.4f} ({scores['default']['shipped']}), "
                  f"variant {scores['variant']['mase']:.4f} ({scores['variant']['shipped']})", flush=True)
    logs: dict[str, list[float]] = {}
    for key, scores in results.items():
        logs.setdefault(key.split("/")[0], []).append(math.log(scores["variant"]["mase"] / scores["default"]["mase"]))
    print("\n| set | series | variant MASE / default's (geometric mean) | variant better |")
    print("|---|---|---|---|")
    for name, values in logs.items():
        print(f"| {name} | {len(values)} | {math.exp(np.mean(values)):.4f} | {sum(v < 0 for v in values)} |")
    every = [v for values in logs.values() for v in values]
    print(f"| all | {len(every)} | **{math.exp(np.mean(every)):.4f}** | {sum(v < 0 for v in every)} |")


if __name__ == "__main__":
    main()
