"""Benchmark `forecast train` on ETTh1, univariate "S" (OT only), with the papers' protocol.

The protocol (Informer, DLinear, PatchTST; ../shared/datasets/README.md): rows [0, 8640) train,
[8640, 11520) validation, [11520, 14400) test; z-score with the train rows' mean and standard
deviation; MSE and MAE on that scale over every test window (stride 1) and step.

What runs: `forecast train` on the OT column of rows [0, 11520) (train and validation rows: the
tool takes its validation windows from the end, that is from the validation rows, and with its
default `--refit` trains once more on all of them), with only `--horizon` given (plus any extra
flags after `--`). The saved model then forecasts every test window from the `lookback` rows
before it, with the model's own per-series scaling, through the same ONNX engine as
`forecast predict`. The repeat-last-value baseline is scored the same way.

Usage:
    python bench/etth1.py [--horizons 24,48,168,336,720] [--label default] [-- extra train flags]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--horizons", default=",".join(map(str, INFORMER)))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "etth1" / "ETTh1.csv"))
    parser.add_argument("--label", default="default")
    parser.add_argument("--skip-train", action="store_true", help="reuse the models of an earlier run of this label")
    parser.add_argument("extra", nargs="*", help="extra flags for forecast train (after --)")
    args = parser.parse_args()
    base = ROOT / "bench" / "runs" / f"etth1-{args.label}"
    code = freeze(base, refresh=not args.skip_train)
    from forecast_cli.engine import load_network
    from forecast_cli.manifest import read_manifest
    from forecast_cli.pipeline import forecast_series

    table = pd.read_csv(args.data, usecols=["date", "OT"])
    ot = table["OT"].to_numpy(dtype="float64")
    mean, std = ot[:TRAIN_END].mean(), ot[:TRAIN_END].std()
    base.mkdir(parents=True, exist_ok=True)
    train_csv = base / "train.csv"
    table.iloc[:VAL_END].to_csv(train_csv, index=False)
    results = {}
    for horizon in map(int, args.horizons.split(",")):
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
        scaling = manifest.scaling("OT")
        starts = np.arange(VAL_END, TEST_END - horizon + 1)
        # The network reads each window's last `lookback` rows; a blended ETS baseline gets the
        # whole history before the window, as `forecast predict` on the file would give it.
        whole = config.blend < 1.0 and config.baseline == "ets" and not config.covariates
        windows = {str(t): ot[:t] if whole else ot[t - config.lookback : t] for t in starts}
        started = time.monotonic()
        forecast = forecast_series(network.predict, config, windows, {k: scaling for k in windows},
                                   calendar_covariates(config, manifest, table["date"], starts),
                                   {k: manifest.series["OT"].ets for k in windows})
        predict_s = time.monotonic() - started
        actual = np.stack([ot[t : t + horizon] for t in starts])
        last = np.repeat(ot[starts - 1][:, None], horizon, axis=1)
        z = lambda a: (a - mean) / std  # noqa: E731
        scores = {name: {"mse": float(np.mean((z(pred) - z(actual)) ** 2)), "mae": float(np.mean(np.abs(z(pred) - z(actual))))}
                  for name, pred in (("lstm", forecast), ("repeat_last", last))}
        results[horizon] = {"train_seconds": train_s, "predict_seconds": predict_s, "windows": len(starts),
                            "lookback": config.lookback, "epochs": json.loads((work / "model" / "metrics.json").read_text()).get("refit_epochs"),
                            "scores": scores, "informer": INFORMER.get(horizon), "blend_weight": config.blend}
        inf = INFORMER.get(horizon, (float("nan"), float("nan")))
        print(f"| {horizon} | {config.lookback} | {scores['lstm']['mse']:.4f} | {scores['lstm']['mae']:.4f} | "
              f"{scores['repeat_last']['mse']:.4f} | {scores['repeat_last']['mae']:.4f} | {inf[0]:.3f} | {inf[1]:.3f} | "
              f"{train_s:.0f} | {len(starts)} | {config.blend:g} |", flush=True)
    (base / "results.json").write_text(json.dumps(results, indent=2))


def calendar_covariates(config, manifest, dates: pd.Series, starts: np.ndarray):
    """With `--calendar`, each test window's calendar features (its lookback rows, then its
    horizon's), as `forecast predict` computes them from the timestamps; None without."""
    if not config.covariates:
        return None
    from forecast_cli.data import CALENDAR_PREFIX, calendar_features
    from forecast_cli.windows import Covariates

    if config.covariates != config.future_covariates or not all(c.startswith(CALENDAR_PREFIX) for c in config.covariates):
        raise SystemExit(f"bench/etth1.py scores univariate ETTh1: only --calendar covariates, not {config.covariates}")
    features = calendar_features(pd.to_datetime(dates), tuple(config.covariates)).to_numpy(dtype="float64")
    values = {str(t): features[t - config.lookback : t + config.horizon] for t in starts}
    return Covariates(values, 0, len(config.covariates), manifest.covariate_scalings())


if __name__ == "__main__":
    print("| H | L | LSTM MSE | LSTM MAE | repeat-last MSE | repeat-last MAE | Informer MSE | Informer MAE | train s | "
          "test windows | LSTM weight in the blend |")
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    main()
