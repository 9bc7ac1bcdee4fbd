"""Benchmark `forecast train` on ETTh1 with the papers' protocol: univariate "S" (OT only) or
multivariate "M" (all seven columns, each forecast on its own as PatchTST does).

The protocol (Informer, DLinear, PatchTST; ../shared/datasets/README.md): rows [0, 8640) train,
[8640, 11520) validation, [11520, 14400) test; z-score each column with the train rows' mean and
standard deviation; MSE and MAE on that scale over every test window (stride 1), step and (M)
column.

What runs: `forecast train` on rows [0, 11520) (train and validation rows: the tool takes its
validation windows from the end, that is from the validation rows, and with its default `--refit`
trains once more on all of them), with only `--horizon` given (plus any extra flags after `--`).
"S" trains on the OT column; "M" on the seven columns as seven series of one long file (one global
model, channel-independent). The saved model then forecasts every test window from the rows
before it, with the model's own per-series scaling, through the same ONNX engine as `forecast
predict`. The repeat-last-value baseline is scored the same way.

Usage:
    python bench/etth1.py [--mode S] [--horizons 24,48,168,336,720] [--label default] [-- extra train flags]
    python bench/etth1.py --mode M [--horizons 96,192,336,720] [--label default]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from frozen import freeze

ROOT = Path(__file__).resolve().parent.parent
TRAIN_END, VAL_END, TEST_END = 8640, 11520, 14400
INFORMER = {24: (0.098, 0.247), 48: (0.158, 0.319), 168: (0.183, 0.346), 336: (0.222, 0.387), 720: (0.269, 0.435)}
# "M" (MSE, MAE), ../shared/datasets/README.md: DLinear (L = 336) and PatchTST/42.
DLINEAR = {96: (0.375, 0.399), 192: (0.405, 0.416), 336: (0.439, 0.443), 720: (0.472, 0.490)}
PATCHTST = {96: (0.375, 0.399), 192: (0.414, 0.421), 336: (0.431, 0.436), 720: (0.449, 0.466)}
COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("S", "M"), default="S", help="S: OT alone; M: all seven columns")
    parser.add_argument("--horizons", default=None, help="default: 24,48,168,336,720 (S), 96,192,336,720 (M)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "etth1" / "ETTh1.csv"))
    parser.add_argument("--label", default="default")
    parser.add_argument("--skip-train", action="store_true", help="reuse the models of an earlier run of this label")
    parser.add_argument("extra", nargs="*", help="extra flags for forecast train (after --)")
    args = parser.parse_args()
    multi = args.mode == "M"
    reference = DLINEAR if multi else INFORMER
    horizons = args.horizons or ",".join(map(str, reference))
    base = ROOT / "bench" / "runs" / (f"etth1-M-{args.label}" if multi else f"etth1-{args.label}")
    code = freeze(base, refresh=not args.skip_train)
    from forecast_cli.baselines import FITS
    from forecast_cli.engine import load_network
    from forecast_cli.manifest import read_manifest
    from forecast_cli.pipeline import forecast_series

    columns = COLUMNS if multi else ("OT",)
    table = pd.read_csv(args.data, usecols=["date", *columns])
    base.mkdir(parents=True, exist_ok=True)
    train_csv = base / "train.csv"
    if multi:  # one long file: the seven columns as seven series
        long = table.iloc[:VAL_END].melt(id_vars="date", value_vars=list(columns), var_name="unique_id", value_name="y")
        long.rename(columns={"date": "ds"})[["unique_id", "ds", "y"]].to_csv(train_csv, index=False)
    else:
        table.iloc[:VAL_END].to_csv(train_csv, index=False)
    results = {}
    for horizon in map(int, horizons.split(",")):
        work = base / f"h{horizon}"
        work.mkdir(exist_ok=True)
        started = time.monotonic()
        if not args.skip_train:
            subprocess.run([sys.executable, "-m", "forecast_cli.cli", "train", str(train_csv), "--horizon", str(horizon),
                            "--out", str(work / "model"), "--quiet", *args.extra], check=True, cwd=code)
        train_s = time.monotonic() - started
        manifest = read_manifest(work / "model")
        config = manifest.config
        network = load_network(work / "model", manifest, "auto")
        starts = np.arange(VAL_END, TEST_END - horizon + 1)
        # The network reads each window's last `lookback` rows; a blended fitted baseline (ETS,
        # ETS+Theta) gets the whole history before the window, as `forecast predict` on the file
        # would give it.
        whole = config.blend < 1.0 and config.baseline in FITS and not config.covariates
        windows, scalings, ets, errors = {}, {}, {}, {}
        for column in columns:
            values = table[column].to_numpy(dtype="float64")
            for t in starts:
                key = f"{column}@{t}"
                windows[key] = values[:t] if whole else values[t - config.lookback : t]
                scalings[key] = manifest.scaling(column)
                ets[key] = manifest.series[column].ets
        started = time.monotonic()
        forecast = forecast_series(network.predict, config, windows, scalings,
                                   calendar_covariates(config, manifest, table["date"], starts, columns), ets)
        predict_s = time.monotonic() - started
        for k, column in enumerate(columns):
            values = table[column].to_numpy(dtype="float64")
            std = values[:TRAIN_END].std()  # errors on the standardized scale, as the papers score
            actual = np.stack([values[t : t + horizon] for t in starts])
            last = np.repeat(values[starts - 1][:, None], horizon, axis=1)
            mine = forecast[k * len(starts) : (k + 1) * len(starts)]
            errors[column] = {name: (pred - actual) / std for name, pred in (("lstm", mine), ("repeat_last", last))}
        scores = {name: {"mse": float(np.mean([np.mean(e[name] ** 2) for e in errors.values()])),
                         "mae": float(np.mean([np.mean(np.abs(e[name])) for e in errors.values()]))}
                  for name in ("lstm", "repeat_last")}
        per_column = {c: {"mse": float(np.mean(e["lstm"] ** 2)), "mae": float(np.mean(np.abs(e["lstm"])))}
                      for c, e in errors.items()}
        results[horizon] = {"train_seconds": train_s, "predict_seconds": predict_s, "windows": len(starts) * len(columns),
                            "lookback": config.lookback, "epochs": json.loads((work / "model" / "metrics.json").read_text()).get("refit_epochs"),
                            "scores": scores, "per_column": per_column, "reference": reference.get(horizon),
                            "blend_weight": config.blend, "baseline": config.baseline,
                            "partner_season": config.baseline_season}
        ref = reference.get(horizon, (float("nan"), float("nan")))
        print(f"| {horizon} | {config.lookback} | {scores['lstm']['mse']:.4f} | {scores['lstm']['mae']:.4f} | "
              f"{scores['repeat_last']['mse']:.4f} | {scores['repeat_last']['mae']:.4f} | {ref[0]:.3f} | {ref[1]:.3f} | "
              f"{train_s:.0f} | {len(starts) * len(columns)} | {config.blend:g} {config.baseline} |", flush=True)
    (base / "results.json").write_text(json.dumps(results, indent=2))


def calendar_covariates(config, manifest, dates: pd.Series, starts: np.ndarray, columns: tuple[str, ...]):
    """With `--calendar`, each test window's calendar features (its lookback rows, then its
    horizon's), as `forecast predict` computes them from the timestamps; None without."""
    if not config.covariates:
        return None
    from forecast_cli.timegrid import CALENDAR_PREFIX, calendar_features
    from forecast_cli.windows import Covariates

    if config.covariates != config.future_covariates or not all(c.startswith(CALENDAR_PREFIX) for c in config.covariates):
        raise SystemExit(f"bench/etth1.py: only --calendar covariates, not {config.covariates}")
    features = calendar_features(pd.to_datetime(dates), tuple(config.covariates)).to_numpy(dtype="float64")
    values = {f"{c}@{t}": features[t - config.lookback : t + config.horizon] for c in columns for t in starts}
    return Covariates(values, 0, len(config.covariates), manifest.covariate_scalings())


if __name__ == "__main__":
    print("| H | L | LSTM MSE | LSTM MAE | repeat-last MSE | repeat-last MAE | reference MSE (Informer S, DLinear M) | "
          "reference MAE | train s | test windows | LSTM weight, partner |")
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    main()
