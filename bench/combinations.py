"""Fixed combinations of the forecasts a suite holdout run already holds: the LSTM alone, ETS,
naive and seasonal naive, and their equal-weight means, scored on the holdout. An offline look
at candidates the blend does not offer yet (no training; the models of an earlier
`bench/suite.py --holdout --label LABEL` run are read), not a choice: a candidate worth adding
must then be chosen on the validation windows and screened like any default.

Usage:
    python bench/combinations.py --label refit-validated --sets tourism-yearly,m3-yearly
"""

from __future__ import annotations

import argparse
from pathlib import Path

import suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True, help="a bench/suite.py --holdout run")
    parser.add_argument("--sets", default=",".join(suite.SETS))
    parser.add_argument("--data-root", default=str(suite.ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    print("| set | forecast | MASE | sMAPE | MAPE |\n|---|---|---|---|---|")
    for name in args.sets.split(","):
        spec = suite.SETS[name]
        work = suite.ROOT / "bench" / "runs" / args.label / "holdout" / name
        test = suite.holdout_split(name, Path(args.data_root))[1]
        actual, scales, methods, config = suite.method_forecasts(name, spec, work, work / "train.csv", test)
        lstm, naive = methods["lstm alone"], methods["naive"]
        ets, snaive = methods[f"ETS (season {config.baseline_season})"], methods[suite.reference(spec)]
        forecasts = {"LSTM": lstm, "ETS": ets, "naive": naive, f"seasonal naive {spec.seasons[-1]}": snaive,
                     "LSTM + ETS": (lstm + ets) / 2, "LSTM + naive": (lstm + naive) / 2,
                     "LSTM + ETS + seasonal naive": (lstm + ets + snaive) / 3, "ETS + seasonal naive": (ets + snaive) / 2}
        for what, forecast in forecasts.items():
            s = suite.score(actual, forecast, scales, f"{name}: {what}")
            print(f"| {name} | {what} | {s['mase']:.3f} | {s['smape']:.2f} | {s['mape']:.2f} |")


if __name__ == "__main__":
    main()
