"""The frequency-diverse accuracy suite: `forecast train` with default flags on every set of
../shared/datasets/, scored beside the tool's own statistical forecasts and seasonal naive.

Sets (horizon; the season MASE is scaled by; the seasons seasonal naive is scored at):
  yearly       tourism-yearly (h 4), m3-yearly (h 6)
  quarterly    tourism-quarterly (h 8), m3-quarterly (h 8)
  monthly      tourism-monthly (h 24)
  weekly       m4-weekly (h 13; ds is 1, 2, 3, ... so --season 52 is given, as the rules allow)
  other        m3-other (h 8)
  hourly       ETTh1's seven columns as seven series (h 24 and 168; rows [0, 11520) are the
               history, as in the papers' protocol, the next h rows the test)
  half-hourly  the Taylor electricity demand series (h 48 and 336; the last h values the test)
  hourly, many short series   etth1-chunks: ETTh1's seven columns cut into 126 series of 960
               hours, ds 1, 2, 3, ... (so --season 24 is given), h 48, the last 48 of each the
               test: hourly data as a data platform holds it, a few hundred series of several
               hundred integer steps, the shape on which a day and a week must be found
  half-hourly as steps   taylor-steps (h 48 and 336): the Taylor series with ds 1, 2, 3, ... (so
               --season 48 is given): the week must be found without dates

Per set: the default forecast (`forecast train` with only --horizon, then `forecast predict`),
the LSTM alone (the same model with its blend weight set to 1), naive, seasonal naive at each
season the data carries (for hourly data a day and a week), the tool's ETS and ETS+Theta, with
MASE, sMAPE and MAPE, and train seconds. Then the geometric mean over sets of MASE relative to seasonal naive at
the data's longest season. A NaN in any forecast stops the run with an error.

--holdout scores the last h values of each history, the model trained on the values before them,
and never reads a test file: use it for choosing anything. Without it the test files are scored:
for reporting, once.

--dump-validation also saves each run's validation windows (`bench/validation_dump.py`), from
which `bench/choices.py` screens other ways of choosing the blend, and `bench/members.py` other
weights for the partner's two members, without training.

--seeds 42,7,3 trains each set once per seed (`--seed`; the first seed's results keep the set's
name, the others are `set@seed`) and ends with each set's mean and spread over the seeds: the
same defaults move a set's holdout MASE by about 3% from seed to seed (bench/RESULTS.md), so a
screen that moves it by less says nothing unless the seeds agree.

Usage:
    python bench/suite.py [--holdout] [--sets tourism-yearly,...] [--label NAME] [--skip-train]
        [--seeds 42,7,3] [--dump-validation] [-- extra train flags]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from frozen import freeze, run

ROOT = Path(__file__).resolve().parent.parent
ETT_HISTORY = 11520  # rows [0, 11520): the ETT protocol's train and validation rows
ETT_COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
CHUNK = 960  # hours in each etth1-chunks series (40 days)


@dataclasses.dataclass(frozen=True)
class Set:
    """One benchmark set: how to read it and how to score it."""

    horizon: int
    mase_season: int  # the season of MASE's in-sample scale, as the set's competition defines it
    seasons: tuple[int, ...]  # seasonal naive is scored at each; the last is the data's longest
    source: str  # a folder with train.csv/test.csv, or "etth1" / "taylor"
    flags: tuple[str, ...] = ()  # train flags the data needs (--season where ds has no dates)


SETS = {
    "tourism-yearly": Set(4, 1, (1,), "tourism-yearly"),
    "tourism-quarterly": Set(8, 4, (4,), "tourism-quarterly"),
    "tourism-monthly": Set(24, 12, (12,), "tourism-monthly"),
    "m3-yearly": Set(6, 1, (1,), "m3-yearly"),
    "m3-quarterly": Set(8, 4, (4,), "m3-quarterly"),
    "m3-other": Set(8, 1, (1,), "m3-other"),
    "m4-weekly": Set(13, 1, (52,), "m4-weekly", ("--season", "52")),
    "etth1-h24": Set(24, 24, (24, 168), "etth1"),
    "etth1-h168": Set(168, 24, (24, 168), "etth1"),
    "taylor-h48": Set(48, 48, (48, 336), "taylor"),
    "taylor-h336": Set(336, 48, (48, 336), "taylor"),
    "etth1-chunks": Set(48, 24, (24, 168), "etth1-chunks", ("--season", "24")),
    "taylor-steps-h48": Set(48, 48, (48, 336), "taylor-steps", ("--season", "48")),
    "taylor-steps-h336": Set(336, 48, (48, 336), "taylor-steps", ("--season", "48")),
}


def long_format(name: str, spec: Set, root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The set's history and test rows, both `unique_id, ds, y`."""
    if spec.source == "etth1":
        table = pd.read_csv(root / "etth1" / "ETTh1.csv")
        rows = table.iloc[: ETT_HISTORY + spec.horizon]
        frame = rows.melt(id_vars="date", value_vars=list(ETT_COLUMNS), var_name="unique_id", value_name="y")
        frame = frame.rename(columns={"date": "ds"})[["unique_id", "ds", "y"]]
        last = frame.groupby("unique_id").cumcount() >= ETT_HISTORY
        return frame[~last].reset_index(drop=True), frame[last].reset_index(drop=True)
    if spec.source == "etth1-chunks":
        table = pd.read_csv(root / "etth1" / "ETTh1.csv")
        chunks = len(table) // CHUNK
        frames = [pd.DataFrame({"unique_id": f"{column}-{k:02d}", "ds": np.arange(1, CHUNK + 1),
                                "y": table[column].to_numpy(dtype="float64")[k * CHUNK:(k + 1) * CHUNK]})
                  for column in ETT_COLUMNS for k in range(chunks)]
        return cut_holdout(pd.concat(frames, ignore_index=True), spec.horizon)
    if spec.source in ("taylor", "taylor-steps"):
        table = pd.read_csv(root / "classic" / "taylor_halfhourly_electricity.csv")
        ds = table["timestamp"] if spec.source == "taylor" else np.arange(1, len(table) + 1)
        frame = pd.DataFrame({"unique_id": "taylor", "ds": ds, "y": table["demand_mw"].astype(float)})
        cut = len(frame) - spec.horizon
        return frame.iloc[:cut].reset_index(drop=True), frame.iloc[cut:].reset_index(drop=True)
    folder = root / spec.source
    return pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")


def cut_holdout(history: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The history without each series' last `horizon` values, and those values."""
    position = history.groupby("unique_id", sort=False).cumcount(ascending=False)  # 0 = last value
    return history[position >= horizon].reset_index(drop=True), history[position < horizon].reset_index(drop=True)


def holdout_split(name: str, root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A set's `--holdout` rows: its history without each series' last horizon, and that horizon
    (the test files are not read)."""
    return cut_holdout(long_format(name, SETS[name], root)[0], SETS[name].horizon)


def write_made_set(full: pd.DataFrame, horizon: int, folder: Path) -> None:
    """A made set's files in `folder`: `train.csv` (each series without its last `horizon`
    values) and `test.csv` (those values), as the made hourly, daily and monthly sets write them."""
    folder.mkdir(parents=True, exist_ok=True)
    history, test = cut_holdout(full, horizon)
    history.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)


def by_series(frame: pd.DataFrame, column: str = "y") -> dict[str, np.ndarray]:
    return {str(uid): g[column].to_numpy(dtype="float64") for uid, g in frame.groupby("unique_id", sort=False)}


def held_out(history: pd.DataFrame, held: pd.DataFrame, spec: Set) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The series of `held` (in its order), their values held out (a horizon each) and their
    MASE scales, from `history`."""
    from forecast_cli import metrics

    past, actual_by = by_series(history), by_series(held)
    order = list(actual_by)
    actual = np.stack([actual_by[uid][: spec.horizon] for uid in order])
    return order, actual, np.array([metrics.mase_scale(past[uid], spec.mase_season) for uid in order])


def trained_forecast(work: Path, history: pd.DataFrame, spec: Set, flags: list[str]) -> pd.DataFrame:
    """`forecast train` on `history` in `work` (the set's flags, then `flags`; the frozen code),
    then its `forecast predict` of the same file: the forecast."""
    work.mkdir(parents=True, exist_ok=True)
    history.to_csv(work / "train.csv", index=False)
    forecast = [sys.executable, "-m", "forecast_cli.cli"]
    run([*forecast, "train", "train.csv", "--horizon", str(spec.horizon), "--out", "model", "--quiet", *spec.flags,
         *flags], work)
    run([*forecast, "predict", "model", "train.csv", "--output", "forecast.csv", "--quiet"], work)
    return pd.read_csv(work / "forecast.csv")


def lstm_alone(model: Path, train_csv: Path, order: list[str]) -> np.ndarray:
    """The model's network forecast without its statistical partner (blend weight 1)."""
    from forecast_cli.pipeline import Predictor, forecast_series

    predictor = Predictor(model)
    ready = predictor.prepare(train_csv)
    config = dataclasses.replace(predictor.manifest.config, blend=1.0)
    forecast = forecast_series(predictor.network.predict, config, ready.series, ready.scalings, ready.covariates)
    if config.quantiles:
        forecast = forecast[..., config.quantiles.index(0.5)]
    rows = {uid: row for uid, row in zip(ready.series, forecast)}
    return np.stack([rows[uid] for uid in order])


def score(actual: np.ndarray, forecast: np.ndarray, scales: np.ndarray, what: str) -> dict[str, float]:
    from forecast_cli import metrics

    if not np.isfinite(forecast).all():
        raise SystemExit(f"bench/suite.py: {what} has {int((~np.isfinite(forecast)).sum())} non-finite values; "
                         "a forecast must never be NaN. Fix the tool, then run again.")
    return {"mase": metrics.mase(actual, forecast, scales), "smape": metrics.smape(actual, forecast),
            "mape": metrics.mape(actual, forecast)}


def method_forecasts(name: str, spec: Set, work: Path, train_csv: Path,
                     test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], Any]:
    """The actual values of one set, their MASE scales, every method's forecast of them (the
    model already trained and its forecast written) and the model's config."""
    from forecast_cli import baselines
    from forecast_cli.manifest import read_manifest

    train = pd.read_csv(train_csv)
    order, actual, scales = held_out(train, test, spec)
    history = by_series(train)
    default = by_series(pd.read_csv(work / "forecast.csv"), "yhat")
    config = read_manifest(work / "model").config
    histories = [history[uid] for uid in order]
    methods = {"default": np.stack([default[uid] for uid in order]), "lstm alone": lstm_alone(work / "model", train_csv, order),
               "naive": baselines.forecasts(histories, spec.horizon, 1, "naive")}
    for season in spec.seasons:
        if season > 1:
            methods[f"seasonal naive {season}"] = baselines.forecasts(histories, spec.horizon, season, "snaive")
    log, season = config.transform == "log", config.baseline_season
    # ETS+Theta's parameters hold ETS's as they are: fitted once, they serve both forecasts.
    params = [baselines.FITS["ets+theta"](h, season, log) for h in histories]
    for method in ("ets", "ets+theta"):
        methods[f"{baselines.LABELS[method]} (season {season})"] = baselines.forecasts(
            histories, spec.horizon, season, method, log, params)
    return actual, scales, methods, config


def reference(spec: Set) -> str:
    """The method MASE is compared with: seasonal naive at the data's longest season (naive without one)."""
    return f"seasonal naive {spec.seasons[-1]}" if spec.seasons[-1] > 1 else "naive"


def evaluate(name: str, spec: Set, work: Path, train_csv: Path, test: pd.DataFrame) -> dict:
    """Every method's scores on one set (the model already trained and its forecast written)."""
    actual, scales, methods, config = method_forecasts(name, spec, work, train_csv, test)
    scores = {method: score(actual, forecast, scales, f"{name}: {method}") for method, forecast in methods.items()}
    metrics_json = json.loads((work / "model" / "metrics.json").read_text())
    return {"scores": scores, "reference": reference(spec), "season": config.season, "lookback": config.lookback,
            "blend": config.blend, "baseline": config.baseline, "choice": metrics_json.get("choice")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--data-root", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--label", default="suite")
    parser.add_argument("--holdout", action="store_true", help="score the end of each history, never the test files")
    parser.add_argument("--skip-train", action="store_true", help="reuse the models of an earlier run of this label")
    parser.add_argument("--seeds", default="42", help="train each set once per seed (comma-separated)")
    parser.add_argument("--dump-validation", action="store_true",
                        help="save each run's validation windows (validation.npz) for bench/choices.py")
    parser.add_argument("extra", nargs="*", help="extra flags for forecast train (after --)")
    args = parser.parse_args()
    base = ROOT / "bench" / "runs" / args.label
    code = freeze(base, refresh=not args.skip_train)
    forecast = [sys.executable, "-m", "forecast_cli.cli"]
    trainer = [sys.executable, str(ROOT / "bench" / "validation_dump.py")] if args.dump_validation else forecast
    results_file = base / ("holdout.json" if args.holdout else "test.json")
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    seeds = [int(seed) for seed in args.seeds.split(",")]
    for name in args.sets.split(","):
        spec = SETS[name]
        history, test = long_format(name, spec, Path(args.data_root))
        if args.holdout:
            history, test = cut_holdout(history, spec.horizon)
        for seed in seeds:
            key = name if seed == seeds[0] else f"{name}@{seed}"
            work = base / ("holdout" if args.holdout else "test") / key
            work.mkdir(parents=True, exist_ok=True)
            train_csv = work / "train.csv"
            history.to_csv(train_csv, index=False)
            # The default seed alone passes no --seed, so that runs keep the flags they had before --seeds.
            flags = [*spec.flags, *args.extra, *(["--seed", str(seed)] if seeds != [42] else [])]
            if args.dump_validation:
                os.environ["BENCH_VALIDATION_DUMP"] = str(work / "validation.npz")
            train_s = results.get(key, {}).get("train_seconds", math.nan) if args.skip_train else run(
                [*trainer, "train", str(train_csv), "--horizon", str(spec.horizon), "--out", str(work / "model"),
                 "--quiet", *flags], code)
            run([*forecast, "predict", str(work / "model"), str(train_csv), "--output", str(work / "forecast.csv"),
                 "--quiet"], code)
            results[key] = {"train_seconds": train_s, "flags": flags, **evaluate(name, spec, work, train_csv, test)}
            results_file.write_text(json.dumps(results, indent=2))
            print_set(key, spec, results[key], args.holdout)
    print_summary(results)


def print_set(name: str, spec: Set, result: dict, holdout: bool) -> None:
    split = "holdout (end of the history)" if holdout else "test"
    choice = result.get("choice")
    shipped = choice["shipped"] if choice else f"LSTM weight {result['blend']:g} beside {result['baseline']}"
    print(f"\n### {name} (h {spec.horizon}, MASE season {spec.mase_season}), {split}; "
          f"train {result['train_seconds']:.0f} s; season {result['season']}, lookback {result['lookback']}, "
          f"shipped: {shipped}")
    print("| method | MASE | sMAPE | MAPE |\n|---|---|---|---|")
    for method, s in result["scores"].items():
        print(f"| {method} | {s['mase']:.3f} | {s['smape']:.3f} | {s['mape']:.2f} |")
    sys.stdout.flush()


def print_summary(results: dict) -> None:
    """Each set's default MASE relative to seasonal naive at its longest season and to the best
    statistical forecast, and the geometric mean over sets."""
    print("\n| set | default MASE | / seasonal naive (longest) | / best statistical | LSTM alone / seasonal naive | train s |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for name, r in results.items():
        s = r["scores"]
        ref = s[r["reference"]]["mase"]
        stats = min(v["mase"] for k, v in s.items() if k not in ("default", "lstm alone"))
        ratios.append(s["default"]["mase"] / ref)
        print(f"| {name} | {s['default']['mase']:.3f} | {ratios[-1]:.3f} | {s['default']['mase'] / stats:.3f} | "
              f"{s['lstm alone']['mase'] / ref:.3f} | {r['train_seconds']:.0f} |")
    print(f"\nGeometric mean over {len(ratios)} runs of the default's MASE / seasonal naive's: "
          f"{math.exp(np.mean(np.log(ratios))):.3f}")
    by_set: dict[str, list[float]] = {}
    for key, r in results.items():
        by_set.setdefault(key.split("@")[0], []).append(r["scores"]["default"]["mase"])
    if any(len(v) > 1 for v in by_set.values()):
        print("\n| set | seeds | default MASE, mean | lowest | highest |\n|---|---|---|---|---|")
        for name, values in by_set.items():
            print(f"| {name} | {len(values)} | {np.mean(values):.4f} | {min(values):.4f} | {max(values):.4f} |")


if __name__ == "__main__":
    main()
