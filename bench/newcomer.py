"""New series shorter than the horizon among established ones: what the default lookback makes
of them, on the holdouts.

The default lookback is no longer than the shortest series, so that every series can be
forecast from its own values, but never below the horizon: a series shorter than that is read
with its first value repeated before it (`config.fitting_lookback`). Before that floor, one new
product of a few months held the network of every series to those few months. This screen puts
that case on real sets: every `--every`-th series of the holdout history (by sorted id; 1 in 10
by default) keeps only its last K values, as products added K steps ago would, and the model
is trained on that file with the set's flags, for each seed and each variant:

- `cut`: `--lookback K`, which is what the defaults read before the floor;
- `default`: the defaults of the code frozen for the run (the horizon, the new series padded).

Scored on the held-out horizon, apart for the established series (whose forecast the cut
changed) and the new ones, MASE scaled by each series' whole holdout history (the new ones'
too: K values are too few for a seasonal scale).

Usage:
    python bench/newcomer.py --sets m3-quarterly,m3-yearly --keep 6,4 --seeds 42,7,3 --label newcomer
    python bench/newcomer.py ... --variants default --label other-padding  # another padding, same cut runs
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import suite
from frozen import freeze


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="m3-quarterly,m3-yearly")
    parser.add_argument("--keep", default="6,4", help="the values K the new series keep, for each set in order")
    parser.add_argument("--every", type=int, default=10, help="every N-th series (by sorted id) is new")
    parser.add_argument("--variants", default="cut,default")
    parser.add_argument("--seeds", default="42,7,3")
    parser.add_argument("--label", default="newcomer")
    parser.add_argument("--data-root", default=str(suite.ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    base = suite.ROOT / "bench" / "runs" / args.label
    freeze(base)  # the children import this copy of the code (PYTHONPATH)

    results: dict[str, dict] = {}
    for name, keep in zip(args.sets.split(","), (int(v) for v in args.keep.split(","))):
        spec = suite.SETS[name]
        if keep >= spec.horizon:
            raise SystemExit(f"bench/newcomer.py: --keep {keep} for {name} is not shorter than its horizon "
                             f"{spec.horizon}; the floor changes nothing there")
        whole, held = suite.holdout_split(name, Path(args.data_root))
        new = set(sorted(whole["unique_id"].astype(str).unique())[:: args.every])
        position = whole.groupby("unique_id", sort=False).cumcount(ascending=False)
        history = whole[~whole["unique_id"].astype(str).isin(new) | (position < keep)].reset_index(drop=True)
        order, actual, scales = suite.held_out(whole, held, spec)  # scales from the whole history
        fresh = np.array([uid in new for uid in order])
        for seed in (int(s) for s in args.seeds.split(",")):
            row = {}
            for variant in args.variants.split(","):
                flags = ["--lookback", str(keep)] if variant == "cut" else []
                work = base / f"{name}@{seed}" / variant
                forecast = suite.trained_forecast(work, history, spec, ["--seed", str(seed), *flags])
                by = suite.by_series(forecast, "yhat")
                predicted = np.stack([by[uid] for uid in order])
                scores = {}
                for part, rows in (("established", ~fresh), ("new", fresh)):
                    for metric, value in suite.score(actual[rows], predicted[rows], scales[rows],
                                                     f"{name} {variant} {part}").items():
                        scores[f"{part}_{metric}"] = value
                lookback = json.loads((work / "model" / "manifest.json").read_text())["config"]["lookback"]
                row[variant] = {**scores, "lookback": lookback}
                print(f"{name} seed {seed}, {variant} (lookback {lookback}; {len(new)} new series of {keep}): "
                      f"established MASE {scores['established_mase']:.4f}, sMAPE {scores['established_smape']:.3f}; "
                      f"new MASE {scores['new_mase']:.4f}, sMAPE {scores['new_smape']:.3f}", flush=True)
            results[f"{name}@{seed}"] = row
            (base / "results.json").write_text(json.dumps(results, indent=2))
    variants = args.variants.split(",")
    print("\n| set, seed | " + " | ".join(f"{v}: lookback, established / new MASE" for v in variants) + " |")
    print("|---|" + "---|" * len(variants))
    for key, row in results.items():
        print(f"| {key} | " + " | ".join(f"{row[v]['lookback']}, {row[v]['established_mase']:.4f} / "
                                          f"{row[v]['new_mase']:.4f}" for v in variants) + " |")
    for name in dict.fromkeys(key.split("@")[0] for key in results):
        rows = [row for key, row in results.items() if key.split("@")[0] == name]
        means = {v: {part: math.exp(np.mean([math.log(r[v][f"{part}_mase"]) for r in rows]))
                     for part in ("established", "new")} for v in variants}
        print(f"{name}, geometric mean MASE over {len(rows)} seeds: "
              + "; ".join(f"{v} established {m['established']:.4f}, new {m['new']:.4f}" for v, m in means.items()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
