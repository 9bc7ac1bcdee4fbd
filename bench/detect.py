"""Benchmark `forecast detect` on real series with injected spikes: recall and false alarms.

Sets (../shared/datasets/):
- taylor: the Taylor half-hourly electricity demand (one series, 4,032 values); the model is
  trained with `forecast train --horizon 48` on all but the last `--checked` values.
- etth1: ETTh1's seven columns as seven hourly series; the model is trained with `--horizon 24`
  on the papers' training rows [0, 8640); the checked values follow them (validation rows).

Then, for each of `--seeds` seeds, a copy of the checked values gets spikes at `--rate` of its
positions (at random, none adjacent to another), each `--size` times the series' median absolute
one-step change in the training part, up or down at random, and `forecast detect` checks them as
a nightly cron job would: one run per horizon of checked values (`--as-of` the end of that
"night", `--last` left at its default, the horizon; every other setting at its default: level
0.99, the band from the model's one-step errors on the values before, earlier nights' spikes
included). Recall: the share of spikes flagged. False alarms: the share of the other checked
values flagged. The clean run (no spike) is reported too.

Training runs `forecast train` from a frozen copy of the code (`bench/runs/detect-<label>/code`),
detection calls `forecast_cli.detect.detect` from that copy: the same code as the CLI command.

Usage:
    python bench/detect.py [--sets taylor,etth1] [--checked 1000] [--rate 0.02] [--seeds 3] [--label default]
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
DATA = ROOT.parent / "shared" / "datasets"
ETTH1_TRAIN_END = 8640


def load_set(name: str, checked: int) -> tuple[pd.DataFrame, int, int]:
    """(long frame unique_id, ds, y of the training part + the checked part, horizon, checked)."""
    if name == "taylor":
        raw = pd.read_csv(DATA / "classic" / "taylor_halfhourly_electricity.csv")
        frame = pd.DataFrame({"unique_id": "taylor", "ds": raw["timestamp"], "y": raw["demand_mw"].astype(float)})
        return frame, 48, checked
    if name == "etth1":
        raw = pd.read_csv(DATA / "etth1" / "ETTh1.csv").iloc[: ETTH1_TRAIN_END + checked]
        frame = raw.melt(id_vars="date", var_name="unique_id", value_name="y").rename(columns={"date": "ds"})
        return frame[["unique_id", "ds", "y"]], 24, checked
    raise SystemExit(f"unknown set {name!r}: expected taylor or etth1")


def inject(frame: pd.DataFrame, checked: int, rate: float, size: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A copy of `frame` with spikes in the last `checked` values of each series, and a boolean
    mask (in the frame's row order) of the spiked rows."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    spiked = np.zeros(len(frame), dtype=bool)
    for uid, rows in frame.groupby("unique_id", sort=False):
        index = rows.index.to_numpy()
        values = rows["y"].to_numpy()
        step = float(np.median(np.abs(np.diff(values[:-checked]))))
        count = max(1, int(round(rate * checked)))
        candidates = np.arange(1, checked - 1)  # not the first or last: every spike has clean neighbours
        chosen: list[int] = []
        for position in rng.permutation(candidates):
            if all(abs(position - c) > 1 for c in chosen):
                chosen.append(int(position))
            if len(chosen) == count:
                break
        at = index[len(index) - checked + np.array(chosen)]
        out.loc[at, "y"] = out.loc[at, "y"] + size * step * rng.choice([-1.0, 1.0], size=len(at))
        spiked[np.isin(frame.index.to_numpy(), at)] = True
    return out, spiked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="taylor,etth1")
    parser.add_argument("--checked", type=int, default=1000, help="values checked per series")
    parser.add_argument("--rate", type=float, default=0.005, help="share of the checked values spiked")
    parser.add_argument("--size", type=float, default=5.0, help="spike size in median absolute one-step changes")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--level", type=float, default=None, help="detect's --level [default: its own]")
    parser.add_argument("--label", default="default")
    parser.add_argument("--skip-train", action="store_true", help="reuse the models of an earlier run of this label")
    args = parser.parse_args()
    base = ROOT / "bench" / "runs" / f"detect-{args.label}"
    code = freeze(base)  # always the current code, also when reusing the models (--skip-train)
    from forecast_cli.detect import DEFAULT_LEVEL, detect
    from forecast_cli.pipeline import Predictor

    level = args.level or DEFAULT_LEVEL
    print("| set | series | checked per series | spikes | recall | false alarms | clean run: false alarms | "
          "band (x median error) | error correction | train s | detect s per night |")
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    results = {}
    for name in args.sets.split(","):
        frame, horizon, checked = load_set(name, args.checked)
        work = base / name
        work.mkdir(parents=True, exist_ok=True)
        train_csv = work / "train.csv"
        cut = frame.groupby("unique_id", sort=False).head(frame.groupby("unique_id").size().min() - checked)
        cut.to_csv(train_csv, index=False)
        started = time.monotonic()
        if not args.skip_train:
            subprocess.run([sys.executable, "-m", "forecast_cli.cli", "train", str(train_csv), "--horizon", str(horizon),
                            "--out", str(work / "model"), "--quiet"], check=True, cwd=code)
        train_s = time.monotonic() - started
        predictor = Predictor(work / "model")
        runs = []
        for seed in range(args.seeds + 1):  # seed 0: the clean run
            data, spiked = (frame, np.zeros(len(frame), dtype=bool)) if seed == 0 else \
                inject(frame, checked, args.rate, args.size, seed)
            path = work / f"checked-{seed}.csv"
            data.to_csv(path, index=False)
            started = time.monotonic()
            stamps = pd.Series(pd.to_datetime(data["ds"]).unique()).sort_values().to_numpy()[-checked:]
            nights = [detect(predictor, path, level=level, as_of=str(pd.Timestamp(stamps[end - 1])))
                      for end in range(horizon, checked + 1, horizon)]
            detect_s = (time.monotonic() - started) / len(nights)
            table = pd.concat([night.table for night in nights], ignore_index=True)
            found = nights[0]
            truth = pd.DataFrame({"unique_id": data["unique_id"].astype(str), "ds": pd.to_datetime(data["ds"]),
                                  "spike": spiked})
            merged = table.merge(truth, on=["unique_id", "ds"], how="left", validate="one_to_one")
            if merged["spike"].isna().any() or len(merged) != (checked // horizon) * horizon * frame["unique_id"].nunique():
                raise SystemExit(f"{name}: the checked rows do not match the data's last {checked} per series")
            spikes = merged[merged["spike"].astype(bool)]
            clean = merged[~merged["spike"].astype(bool)]
            if not np.isfinite(table[["forecast", "lower", "upper"]].to_numpy()).all():
                raise SystemExit(f"{name}: detect returned a non-finite forecast or band")
            runs.append({"seed": seed, "spikes": int(len(spikes)),
                         "recall": float(spikes["anomaly"].mean()) if len(spikes) else None,
                         "false_alarms": float(clean["anomaly"].mean()), "seconds": detect_s,
                         "multiplier": found.multiplier, "correction": found.correction})
        spiked_runs = runs[1:]
        recall = float(np.sum([r["recall"] * r["spikes"] for r in spiked_runs]) / np.sum([r["spikes"] for r in spiked_runs]))
        false = float(np.mean([r["false_alarms"] for r in spiked_runs]))
        results[name] = {"runs": runs, "recall": recall, "false_alarms": false, "train_seconds": train_s,
                         "horizon": horizon, "checked": checked, "level": level, "size": args.size, "rate": args.rate}
        print(f"| {name} | {frame['unique_id'].nunique()} | {checked} | {sum(r['spikes'] for r in spiked_runs)} | "
              f"{recall:.3f} | {false:.2%} | {runs[0]['false_alarms']:.2%} | {runs[0]['multiplier']:.2f} | {', '.join(f'{lag}: {share:.2f}' for lag, share in runs[0]['correction'].items())} | "
              f"{train_s:.0f} | {np.mean([r['seconds'] for r in runs]):.2f} |", flush=True)
    (base / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
