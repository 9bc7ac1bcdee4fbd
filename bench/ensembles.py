"""Ensembles of networks, screened on the models of `bench/suite.py --holdout --dump-validation`
runs of consecutive seeds: no training.

`forecast train --ensemble K --seed S` trains the networks of seeds S, S+1, ..., S+K-1, each
exactly as a single run of that seed trains it (the refit included), and averages their outputs.
So single runs of seeds 42, 43 and 44 hold the members of the ensembles of those seeds: their
validation forecasts averaged are what the ensemble's blend weight is chosen from (the tool's
rule, `forecast_cli.blend.inverse_error_weight`; the script stops where the tool's guard against
seasonal naive would replace that blend, which it does not model), their holdout forecasts of
the network alone averaged are the ensemble network's forecast, and the partner is the same in
every run of a set. One approximation: the tool averages
the networks' outputs on the model's scale, before the log is undone, where this script averages
the forecasts; the two agree closely when the members do (a real `--ensemble` run checks it).

Prints, per set, the holdout MASE of the single runs and of every ensemble of each size (every
combination of that many of the runs), each size's mean relative to the singles' mean (in log
terms), then their geometric mean over the sets.

Usage:
    python bench/ensembles.py --labels ens-a,ens-b --sizes 1,2,3
"""

from __future__ import annotations

import argparse
import itertools
import math
from pathlib import Path

import numpy as np

import suite
from choices import choose, window_errors
from margins import WEIGHTS, read_run


def ensemble_mase(runs: list, saved: list[dict[str, np.ndarray]]) -> tuple[float, float, float]:
    """(the holdout MASE, the LSTM's weight, the holdout MASE of the network alone) of the
    ensemble of `runs`, whose validation dumps are `saved`."""
    from forecast_cli import blend

    first = saved[0]
    for other in saved[1:]:
        if not (np.array_equal(other["actual"], first["actual"], equal_nan=True)
                and np.array_equal(other["base"], first["base"], equal_nan=True)):
            raise SystemExit("bench/ensembles.py: runs of one set validated on other windows or partners; "
                             "an ensemble screen needs runs of the same code and flags, the seed apart")
    point = np.mean([s["point"] for s in saved], axis=0)
    errors = {w: window_errors(first["actual"], blend.blend(point, first["base"], w), first["scales"]) for w in WEIGHTS}
    weight = choose(errors, "inverse:3")
    ok = np.isfinite(first["scales"]) & (first["scales"] > 0)
    chosen = float(window_errors(first["actual"], blend.blend(point, first["base"], weight), first["scales"])[ok].mean())
    snaive = runs[0].choice["candidates"].get("seasonal naive alone", math.inf)
    if chosen > snaive:
        raise SystemExit(f"bench/ensembles.py: the guard would act on {runs[0].choice} (weight {weight}, "
                         f"{chosen:.4f} against seasonal naive {snaive:.4f}); this screen does not model it")
    lstm = np.mean([run.lstm for run in runs], axis=0)
    forecast = blend.blend(lstm, runs[0].partner, weight)
    alone = suite.score(runs[0].actual, lstm, runs[0].scales, "ensemble network")["mase"]
    return suite.score(runs[0].actual, forecast, runs[0].scales, "ensemble")["mase"], weight, alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", required=True, help="bench/suite.py --holdout --dump-validation runs, comma-separated")
    parser.add_argument("--sizes", default="1,2,3", help="ensemble sizes to score (1: the single runs)")
    parser.add_argument("--data-root", default=str(suite.ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    works: dict[str, list[Path]] = {}
    for label in args.labels.split(","):
        for work in sorted((suite.ROOT / "bench" / "runs" / label / "holdout").iterdir()):
            if (work / "forecast.csv").exists() and (work / "validation.npz").exists():
                works.setdefault(work.name.split("@")[0], []).append(work)
    relative: dict[str, list[float]] = {}
    networks: dict[str, list[float]] = {}
    for name, folders in works.items():
        test = suite.holdout_split(name, Path(args.data_root))[1]
        runs = [read_run(work, name, test) for work in folders]
        saved = [dict(np.load(work / "validation.npz")) for work in folders]
        logs, alone = {}, {}
        for size in sizes:
            if size > len(runs):
                continue
            scored = [ensemble_mase([runs[i] for i in combo], [saved[i] for i in combo])
                      for combo in itertools.combinations(range(len(runs)), size)]
            logs[size] = float(np.mean([math.log(mase) for mase, _, _ in scored]))
            alone[size] = float(np.mean([math.log(network) for _, _, network in scored]))
            print(f"{name}, {size} network(s): MASE " + " / ".join(f"{m:.4f} (w {w:g}, alone {a:.4f})" for m, w, a in scored),
                  flush=True)
        relative[name] = [math.exp(logs[size] - logs[sizes[0]]) if size in logs else math.nan for size in sizes]
        networks[name] = [math.exp(alone[size] - alone[sizes[0]]) if size in alone else math.nan for size in sizes]
    for what, table in (("the shipped forecast", relative), ("the network alone", networks)):
        print(f"\n| set: {what}, holdout MASE relative to {sizes[0]} network(s), mean of the combinations | "
              + " | ".join(f"{size}" for size in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for name, row in table.items():
            print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
        overall = [math.exp(np.nanmean([math.log(row[i]) for row in table.values()])) for i in range(len(sizes))]
        print("| geometric mean | " + " | ".join(f"**{v:.4f}**" for v in overall) + " |")


if __name__ == "__main__":
    main()
