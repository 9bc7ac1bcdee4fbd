"""Lookbacks longer than the shortest series, the short series padded: screened on the holdouts
without changing the tool.

The default lookback is capped at the shortest series, so that every series can be forecast:
on tourism yearly's holdout one series of 3 years holds the network of all 518 to 3 years. A
longer window would need the short series padded (N-BEATS reads 2 to 7 horizons, padding short
histories). This screen emulates it with today's tool: each series shorter than the lookback L
is padded to L values in the training and forecast file, its first value repeated at earlier
times (a flat past); `forecast train --lookback L` on that file (series too short for a window
give none, as before: the padding only lets them be forecast), and the shipped forecast taken
as the tool would blend it were the padding inside the network alone: the model's weight w times
its network's forecast from the padded history, plus 1 − w times the partner fitted to the real
history (ETS+Theta, or seasonal naive where the guard chose it). Series long enough are not
padded: their emulated forecast is the tool's own `predict` output, which the script checks.
Scored on the last horizon of each real history, beside the default run of the same seed.

Usage:
    python bench/padding.py --sets tourism-yearly,m3-yearly --lookbacks 8,12 --seeds 42,7,3 --label pad-a
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import suite
from frozen import freeze, run


def padded(history: pd.DataFrame, least: int) -> tuple[pd.DataFrame, int]:
    """`history` with every series shorter than `least` values padded to it by its first value
    repeated at earlier times (yearly dates or integer steps); and how many series were padded."""
    pieces, count = [], 0
    for uid, group in history.groupby("unique_id", sort=False):
        missing = least - len(group)
        if missing > 0:
            count += 1
            first = group.iloc[0]
            if isinstance(first["ds"], str):  # yearly dates, as the yearly sets write them
                start = pd.Timestamp(first["ds"])
                times = [(start - pd.DateOffset(years=k)).strftime("%Y-%m-%d") for k in range(missing, 0, -1)]
            else:
                times = list(range(int(first["ds"]) - missing, int(first["ds"])))
            pieces.append(pd.DataFrame({"unique_id": uid, "ds": times, "y": first["y"]}))
        pieces.append(group)
    return pd.concat(pieces, ignore_index=True), count


def emulated(work: Path, spec: suite.Set, real: pd.DataFrame, order: list[str]) -> np.ndarray:
    """The padded model's blend as the tool would ship it with padding inside the network alone."""
    from forecast_cli import baselines
    from forecast_cli.manifest import read_manifest

    config = read_manifest(work / "model").config
    network = suite.lstm_alone(work / "model", work / "train.csv", order)
    history = suite.by_series(real)
    histories = [history[uid] for uid in order]
    season, log = config.baseline_season, config.transform == "log"
    if config.baseline == "snaive":
        partner = baselines.forecasts(histories, spec.horizon, season, "snaive")
    else:
        params = [baselines.FITS[config.baseline](h, season, log) for h in histories]
        partner = baselines.forecasts(histories, spec.horizon, season, config.baseline, log, params)
    weight = 1.0 if config.blend is None else config.blend
    return weight * network + (1.0 - weight) * partner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="tourism-yearly,m3-yearly")
    parser.add_argument("--lookbacks", default="8,12", help="the lookback L for each set, in order")
    parser.add_argument("--seeds", default="42,7,3")
    parser.add_argument("--label", default="padding")
    parser.add_argument("--data-root", default=str(suite.ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    base = suite.ROOT / "bench" / "runs" / args.label
    freeze(base)  # the children import this copy of the code (PYTHONPATH)
    forecast = [sys.executable, "-m", "forecast_cli.cli"]
    results = {}
    for name, lookback in zip(args.sets.split(","), (int(v) for v in args.lookbacks.split(","))):
        spec = suite.SETS[name]
        history, held = suite.holdout_split(name, Path(args.data_root))
        order, actual, scales = suite.held_out(history, held, spec)
        pad, count = padded(history, lookback)
        for seed in (int(s) for s in args.seeds.split(",")):
            row = {}
            for variant, frame, flags in (("default", history, []), (f"lookback {lookback}, padded", pad,
                                                                       ["--lookback", str(lookback)])):
                work = base / f"{name}@{seed}" / ("default" if not flags else f"lb{lookback}")
                work.mkdir(parents=True, exist_ok=True)
                frame.to_csv(work / "train.csv", index=False)
                seconds = run([*forecast, "train", "train.csv", "--horizon", str(spec.horizon), "--out", "model",
                               "--quiet", "--seed", str(seed), *spec.flags, *flags], work)
                run([*forecast, "predict", "model", "train.csv", "--output", "forecast.csv", "--quiet"], work)
                shipped = suite.by_series(pd.read_csv(work / "forecast.csv"), "yhat")
                tool = np.stack([shipped[uid] for uid in order])
                if flags:
                    mine = emulated(work, spec, history, order)
                    lengths = history.groupby("unique_id").size()
                    whole = np.array([lengths[uid] >= lookback for uid in order])  # not padded
                    gap = float(np.max(np.abs(mine[whole] - tool[whole]) / np.maximum(1.0, np.abs(tool[whole]))))
                    if gap > 1e-5:
                        raise SystemExit(f"bench/padding.py: {name} seed {seed}: the emulated blend differs from "
                                         f"predict by {gap:.2g} on series that needed no padding")
                    tool = mine
                scores = suite.score(actual, tool, scales, f"{name} {variant}")
                row[variant] = {**scores, "train_seconds": round(seconds, 1)}
                print(f"{name} seed {seed}, {variant} ({count} series padded): MASE {scores['mase']:.4f}, "
                      f"sMAPE {scores['smape']:.3f}, MAPE {scores['mape']:.3f}, {seconds:.0f} s", flush=True)
            results[f"{name}@{seed}"] = row
            (base / "results.json").write_text(json.dumps(results, indent=2))
    print("\n| set, seed | default MASE / sMAPE / MAPE | padded | MASE ratio |\n|---|---|---|---|")
    ratios: dict[str, list[float]] = {}
    for key, row in results.items():
        default, pad_row = row["default"], next(v for k, v in row.items() if k != "default")
        ratio = pad_row["mase"] / default["mase"]
        ratios.setdefault(key.split("@")[0], []).append(math.log(ratio))
        print(f"| {key} | {default['mase']:.4f} / {default['smape']:.3f} / {default['mape']:.3f} | "
              f"{pad_row['mase']:.4f} / {pad_row['smape']:.3f} / {pad_row['mape']:.3f} | {ratio:.3f} |")
    for name, logs in ratios.items():
        print(f"{name}: padded / default MASE, geometric mean over the seeds {math.exp(np.mean(logs)):.3f}")


if __name__ == "__main__":
    main()
