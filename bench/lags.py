"""Last week's values as a known-ahead input of the network, screened on the suite's holdouts
without changing the tool.

The network reads two or three days of hourly data (a week's lookback forecast ETTh1 worse), so
it never sees what the weekly seasonal naive sees: the value one week before each step it
forecasts. Here that value is given to it as a future covariate (`--future-covariates lag`): a
column holding each series' value one week (168 hours, 336 half-hours) before the row, put on
the basis the tool scales the series on (the signed log where it takes the log, less the series'
mean; with no log, a z-score), in the training file and in the rows after each series' last
value that `predict` reads for the horizon (a week back from any of them is still history, for
horizons up to a week). The first week of each series, which has no lag, is left out.

With a future covariate `--blend auto` ships the LSTM alone (the partner cannot read it), so
what is compared first is the network: its holdout MASE here against the LSTM alone and the
default of `bench/suite.py --holdout` runs on the same machine and seeds (`--against`). Then what
the tool would ship if it blended this network with its partner as it does today: the weight by
1 / MASE^3 of the lag network's validation score and the partner's (from the run without the
lag), on that run's partner forecast.

Usage:
    python bench/lags.py --label lags-a --sets taylor-h48,etth1-h24 --seeds 42,43,44 --against ens-a,ens-b
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import suite
from frozen import freeze, run


def week_of(spec: suite.Set) -> int:
    """The lag: the data's longest season (a week of its steps)."""
    return spec.seasons[-1]


def model_basis(history: np.ndarray, log: bool):
    """The map that puts values on the basis the tool scales a series of this history on
    (`--transform auto`, `--scaling auto`): the signed log less its mean, or a z-score."""
    from forecast_cli.windows import signed_log

    moved = signed_log(history) if log else history
    centre, scale = float(moved.mean()), (1.0 if log else float(moved.std() or 1.0))
    return lambda values: ((signed_log(values) if log else values) - centre) / scale


def next_times(ds: pd.Series, horizon: int) -> list:
    """The `horizon` times after a series' last one, written as its `ds` is."""
    if pd.api.types.is_integer_dtype(ds):
        return list(int(ds.iloc[-1]) + np.arange(1, horizon + 1))
    times = pd.to_datetime(ds)
    step = times.iloc[-1] - times.iloc[-2]
    return [(times.iloc[-1] + step * k).strftime("%Y-%m-%d %H:%M:%S") for k in range(1, horizon + 1)]


def lag_files(history: pd.DataFrame, horizon: int, lag: int, folder: Path) -> None:
    """`train.csv` (each series from its second week, with its lag column) and `predict.csv` (the
    same, and the horizon's rows with the lag alone)."""
    log = bool((history["y"] >= 0).all())
    train, ahead = [], []
    for uid, group in history.groupby("unique_id", sort=False):
        y = group["y"].to_numpy(dtype="float64")
        basis = model_basis(y, log)
        train.append(group.iloc[lag:].assign(lag=basis(y[:-lag])))
        ahead.append(pd.DataFrame({"unique_id": uid, "ds": next_times(group["ds"], horizon), "y": np.nan,
                                   "lag": basis(y[len(y) - lag:len(y) - lag + horizon])}))
    folder.mkdir(parents=True, exist_ok=True)
    pd.concat(train, ignore_index=True).to_csv(folder / "train.csv", index=False)
    pd.concat([*train, *ahead], ignore_index=True).to_csv(folder / "predict.csv", index=False)


def against(labels: list[str], key: str) -> Path:
    """The folder of `key`'s run in the first of the `bench/suite.py --holdout` runs `labels` that has it."""
    for label in labels:
        work = suite.ROOT / "bench" / "runs" / label / "holdout" / key
        if (work / "forecast.csv").exists():
            return work
    raise SystemExit(f"Error: no run of {key} in {', '.join(labels)}; run bench/suite.py --holdout for it first")


def blended(name: str, work: Path, test: pd.DataFrame, network: np.ndarray, validation: float) -> tuple[float, float, float, float]:
    """The run at `work` (without the lag)'s holdout MASE of its LSTM alone and its default, and
    what the tool's rule would ship blending the lag network instead: its weight by 1 / MASE^3 of
    the lag network's and the run's partner's validation scores, on the run's partner forecast.
    (The two runs' validation windows differ a little: the lag run's series start a week later.)"""
    from forecast_cli.blend import inverse_error_weight
    from forecast_cli.manifest import read_manifest

    spec = suite.SETS[name]
    actual, scales, methods, config = suite.method_forecasts(name, spec, work, work / "train.csv", test)
    partner_val = json.loads((work / "model" / "metrics.json").read_text())["choice"]["candidates"]
    partner_val = next(v for k, v in partner_val.items() if k.endswith(" alone") and k.startswith("ETS"))
    season = read_manifest(work / "model").config.baseline_season
    partner = methods[f"ETS+Theta (season {season})"]
    w = inverse_error_weight(validation, partner_val, 3)
    mase = {k: suite.score(actual, f, scales, k)["mase"] for k, f in
            {"alone": methods["lstm alone"], "default": methods["default"], "blend": w * network + (1 - w) * partner}.items()}
    return mase["alone"], mase["default"], mase["blend"], w


def main() -> None:
    from forecast_cli import metrics

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True)
    parser.add_argument("--sets", default="taylor-h48,taylor-h336,etth1-h24,etth1-h168,etth1-chunks")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--against", default="ens-a,ens-b", help="bench/suite.py --holdout runs to compare with")
    parser.add_argument("--data-root", default=str(suite.ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    base = suite.ROOT / "bench" / "runs" / args.label
    code = freeze(base)
    forecast = [sys.executable, "-m", "forecast_cli.cli"]
    results = {}
    for name in args.sets.split(","):
        spec = suite.SETS[name]
        history, test = suite.holdout_split(name, Path(args.data_root))
        lag = week_of(spec)
        if spec.horizon > lag:
            raise SystemExit(f"Error: {name}: horizon {spec.horizon} is longer than the lag {lag}")
        full = suite.by_series(history)
        actual_by = suite.by_series(test)
        order = list(actual_by)
        actual = np.stack([actual_by[uid] for uid in order])
        scales = np.array([metrics.mase_scale(full[uid], spec.mase_season) for uid in order])
        for seed in [int(s) for s in args.seeds.split(",")]:
            key = name if seed == 42 else f"{name}@{seed}"
            work = base / key
            lag_files(history, spec.horizon, lag, work)
            seconds = run([*forecast, "train", str(work / "train.csv"), "--horizon", str(spec.horizon),
                           "--future-covariates", "lag", "--out", str(work / "model"), "--quiet", "--seed", str(seed),
                           *spec.flags], code)
            run([*forecast, "predict", str(work / "model"), str(work / "predict.csv"), "--output",
                 str(work / "forecast.csv"), "--quiet"], code)
            # The network alone (the guard may have shipped seasonal naive) and its validation score.
            network = suite.lstm_alone(work / "model", work / "predict.csv", order)
            mase = suite.score(actual, network, scales, key)["mase"]
            choice = json.loads((work / "model" / "metrics.json").read_text())["choice"]
            validation = choice["candidates"]["LSTM alone"]
            alone, default, blend, w = blended(name, against(args.against.split(","), key), test, network, validation)
            results[key] = {"lag": mase, "lstm_alone": alone, "default": default, "blend": blend, "weight": w,
                            "validation": validation, "train_seconds": seconds}
            print(f"{key}: the network with last week's values {mase:.4f} (validation {validation:.4f}), blended "
                  f"(weight {w:.2f}) {blend:.4f}; without: LSTM alone {alone:.4f}, default {default:.4f}; "
                  f"{seconds:.0f} s", flush=True)
            (base / "lags.json").write_text(json.dumps(results, indent=2))
    fields = ("lag", "lstm_alone", "blend", "default")
    print("\n| holdout MASE, geometric mean over seeds | seeds | network with last week | network without "
          "| blend with last week | default without |")
    print("|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        runs = [r for k, r in results.items() if k.split("@")[0] == name]
        mean = {field: float(np.exp(np.mean(np.log([r[field] for r in runs])))) for field in fields}
        print(f"| {name} | {len(runs)} | " + " | ".join(f"{mean[f]:.4f}" for f in fields) + " |")


if __name__ == "__main__":
    main()
