"""Benchmark `forecast train` + `forecast predict` on the M4 weekly and tourism competition sets.

For each set: train on train.csv with only --horizon given (plus any extra flags passed after
`--`), forecast the held-out horizon, and score against test.csv with the competitions' metrics
beside naive, seasonal naive and the published numbers.

Usage:
    python bench/competition.py [--datasets tourism-monthly,tourism-quarterly,m4-weekly]
        [--data-root ../shared/datasets] [--label default] [--holdout] [-- extra train flags]

(Train flags that a set needs, such as M4 weekly's --season 52, are in SET_FLAGS.)

With --holdout the test files are not read: each train.csv series' last h values are scored,
the model trained on the values before them (for choosing settings).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from frozen import freeze, run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecast_cli import baselines, metrics  # noqa: E402

SETS = {
    # name: horizon, season for MASE and seasonal naive, published references
    "m4-weekly": (13, 1, {"Naive2": {"smape": 9.161, "mase": 2.777, "owa": 1.000},
                          "ES-RNN (M4 winner)": {"smape": 7.817, "mase": 2.356, "owa": 0.851}}),
    "tourism-monthly": (24, 12, {"seasonal naive (paper)": {"mape": 22.56}, "N-BEATS": {"mape": 19.47}}),
    "tourism-quarterly": (8, 4, {"seasonal naive (paper)": {"mape": 16.46}}),
}
# Flags a set needs beyond --horizon: M4's weekly series carry no dates (ds is 1, 2, 3, ...), so
# the tool cannot see that a year is 52 steps; the benchmark rules allow --season where the data lacks dates.
# (The M4 MASE above keeps season 1, as the competition defines it for weekly data.)
SET_FLAGS = {"m4-weekly": ["--season", "52"]}


def score_set(train: pd.DataFrame, test: pd.DataFrame, forecast: pd.DataFrame, horizon: int, season: int) -> dict:
    """Score forecasts and baselines, aligned series by series on test.csv's order."""
    history = {uid: g["y"].to_numpy(dtype="float64") for uid, g in train.groupby("unique_id", sort=False)}
    actual, fc, naive, snaive, scales = [], [], [], [], []
    fc_by = {uid: g["yhat"].to_numpy(dtype="float64") for uid, g in forecast.groupby("unique_id", sort=False)}
    for uid, g in test.groupby("unique_id", sort=False):
        hist = history[uid]
        actual.append(g["y"].to_numpy(dtype="float64")[:horizon])
        fc.append(fc_by[uid][:horizon])
        naive.append(baselines.naive(hist, horizon))
        snaive.append(baselines.seasonal_naive(hist, horizon, season))
        scales.append(metrics.mase_scale(hist, season))
    actual, scales = np.stack(actual), np.array(scales)
    out = {}
    for name, pred in (("lstm", np.stack(fc)), ("naive", np.stack(naive)), ("seasonal_naive", np.stack(snaive))):
        out[name] = {
            "smape": metrics.smape(actual, pred),
            "mase": metrics.mase(actual, pred, scales),
            "mape": metrics.mape(actual, pred),
        }
    for name in out:
        out[name]["owa"] = 0.5 * (out[name]["smape"] / out["naive"]["smape"] + out[name]["mase"] / out["naive"]["mase"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(SETS))
    parser.add_argument("--data-root", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--label", default="default")
    parser.add_argument("--skip-train", action="store_true", help="reuse the models of an earlier run of this label")
    parser.add_argument("--holdout", action="store_true",
                        help="tune without the test set: score on the last h values of each train.csv series, "
                             "training on the values before them")
    parser.add_argument("extra", nargs="*", help="extra flags for forecast train (after --)")
    args = parser.parse_args()
    code = freeze(ROOT / "bench" / "runs" / args.label, refresh=not args.skip_train)
    forecast = [sys.executable, "-m", "forecast_cli.cli"]
    results = {}
    for name in args.datasets.split(","):
        horizon, season, published = SETS[name]
        folder = Path(args.data_root) / name
        work = ROOT / "bench" / "runs" / args.label / name
        work.mkdir(parents=True, exist_ok=True)
        train_csv, test_csv = folder / "train.csv", folder / "test.csv"
        if args.holdout:
            full = pd.read_csv(train_csv)
            position = full.groupby("unique_id").cumcount(ascending=False)  # 0 = last value
            train_csv, test_csv = work / "holdout-train.csv", work / "holdout-test.csv"
            full[position >= horizon].to_csv(train_csv, index=False)
            full[position < horizon].to_csv(test_csv, index=False)
        train_s = 0.0 if args.skip_train else run([*forecast, "train", str(train_csv), "--horizon", str(horizon),
                       "--out", str(work / "model"), "--quiet", *SET_FLAGS.get(name, []), *args.extra], code)
        predict_s = run([*forecast, "predict", str(work / "model"), str(train_csv),
                         "--output", str(work / "forecast.csv"), "--quiet"], code)
        train = pd.read_csv(train_csv)
        test = pd.read_csv(test_csv)
        fc = pd.read_csv(work / "forecast.csv")
        scores = score_set(train, test, fc, horizon, season)
        val = json.loads((work / "model" / "metrics.json").read_text())
        results[name] = {"train_seconds": train_s, "predict_seconds": predict_s, "scores": scores,
                         "published": published, "validation_skill": val.get("skill_vs_seasonal_naive"),
                         "blend_weight": val.get("blend_weight", 1.0)}
        split = "holdout: last h of train.csv" if args.holdout else "test.csv"
        flags = [*SET_FLAGS.get(name, []), *args.extra]
        print(f"\n## {name} (h={horizon}, season {season}) label={args.label} scored on {split}; "
              f"flags={' '.join(flags) or '(none)'}")
        print(f"train {train_s:.0f}s, predict {predict_s:.1f}s; validation skill vs seasonal naive {val.get('skill_vs_seasonal_naive'):+.3f}; "
              f"LSTM weight in the blend {val.get('blend_weight', 1.0):g}")
        print("| method | sMAPE | MASE | MAPE | OWA |\n|---|---|---|---|---|")
        for method, s in scores.items():
            print(f"| {method} (ours) | {s['smape']:.3f} | {s['mase']:.3f} | {s['mape']:.2f} | {s['owa']:.3f} |")
        for method, s in published.items():
            cells = [f"{s[k]:.3f}" if k in s else "" for k in ("smape", "mase", "mape", "owa")]
            print(f"| {method} (published) | {' | '.join(cells)} |")
        sys.stdout.flush()
    (ROOT / "bench" / "runs" / args.label / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
