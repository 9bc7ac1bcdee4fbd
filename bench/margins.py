"""The blend's choice under other margins, on the models of earlier `bench/suite.py --holdout` runs:
no training. Until 2026-12-02 `--blend auto` kept the even blend unless the LSTM alone or the
partner alone scored more than a margin (1%) lower on the validation windows (`choose_blend`
below; the tool now weighs the two by their scores, `forecast_cli.blend.inverse_error_weight`). The
networks do not depend on the margin, so each run's validation scores (its `metrics.json`) and
its three holdout forecasts (the LSTM alone, the partner alone, their even blend) give what
every margin would have shipped there, exactly as a new run would (runs where the guard shipped
seasonal naive keep it). Prints each run's scores, then, per set and margin, the shipped MASE
relative to the run's own default (averaged over the seeds in log terms), and their geometric
mean over the sets.

Usage:
    python bench/margins.py --labels theta-a,theta-b --margins 0.01,0.05,0.1,0.15,0.3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

import suite

WEIGHTS = (1.0, 0.5, 0.0)  # the LSTM alone, the even blend, the partner alone
BLEND_MARGIN = 0.01  # the margin `--blend auto` used until 2026-12-02


def choose_blend(scores: dict[float, float], margin: float = BLEND_MARGIN) -> float:
    """`--blend auto`'s choice until 2026-12-02: the even blend (0.5) unless another weight scores
    more than `margin` lower (relative); then the lowest-scoring weight, on a tie the larger one
    (more of the network).

    Example:
        >>> choose_blend({0.0: 2.0, 0.5: 1.0, 1.0: 0.999}), choose_blend({0.0: 2.0, 0.5: 1.0, 1.0: 0.9})
        (0.5, 1.0)
    """
    best = min(scores.values())
    if not best < scores[0.5] * (1 - margin):
        return 0.5
    return max(weight for weight, value in scores.items() if value <= best * (1 + 1e-9))


@dataclasses.dataclass
class Run:
    """One holdout run of `bench/suite.py`: what it shipped and why, and the forecasts a choice
    of the blend is made from."""

    choice: dict[str, Any]  # metrics.json's `choice`
    actual: np.ndarray  # the holdout values, (series, horizon)
    scales: np.ndarray  # their MASE scales
    default: float  # the holdout MASE of what the run shipped
    lstm: np.ndarray  # the LSTM alone's holdout forecast
    partner: np.ndarray  # the partner's alone
    config: Any  # the model's TrainConfig
    methods: dict[str, np.ndarray]  # every method's holdout forecast (`suite.method_forecasts`)

    @property
    def guarded(self) -> bool:
        """The guard shipped seasonal naive: every rule keeps it."""
        return "seasonal naive" in self.choice["shipped"]


def read_run(work: Path, name: str, test) -> Run:
    """The run in `work` of set `name`, scored against its holdout rows `test`."""
    from forecast_cli import baselines

    choice = json.loads((work / "model" / "metrics.json").read_text())["choice"]
    actual, scales, methods, config = suite.method_forecasts(name, suite.SETS[name], work, work / "train.csv", test)
    partner = methods[f"{baselines.LABELS[config.baseline]} (season {config.baseline_season})"]
    default = suite.score(actual, methods["default"], scales, work.name)["mase"]
    return Run(choice, actual, scales, default, methods["lstm alone"], partner, config, methods)


def run_scores(work: Path, name: str, test, margins: list[float]) -> tuple[float, list[float], str]:
    """(the run's default MASE on the holdout, the MASE each margin ships, a line of detail)."""
    from forecast_cli import blend

    run = read_run(work, name, test)
    choice, default = run.choice, run.default
    forecasts = {w: blend.blend(run.lstm, run.partner, w) for w in WEIGHTS}
    holdout = {w: suite.score(run.actual, f, run.scales, f"{work.name} {w}")["mase"] for w, f in forecasts.items()}
    validation = {w: choice["candidates"][blend.blend_text(w, run.config.baseline)] for w in WEIGHTS}
    shipped = [default if run.guarded else holdout[choose_blend(validation, m)] for m in margins]
    detail = (f"{work.name}: shipped {choice['shipped']}; validation LSTM / blend / partner "
              + " / ".join(f"{validation[w]:.3f}" for w in WEIGHTS) + "; holdout "
              + " / ".join(f"{holdout[w]:.3f}" for w in WEIGHTS))
    return default, shipped, detail


def screen(labels: list[str], data_root: Path, columns: list[str],
           scorer: Callable[[Path, str, object], tuple[float, list[float], str]]) -> None:
    """Score every run of the `bench/suite.py --holdout` runs `labels` with `scorer(run folder,
    set, holdout rows)` -> (the run's default MASE, the MASE under each of `columns`, a line of
    detail); print the lines, then per set the MASE relative to the run's own default (averaged
    over the seeds in log terms) and their geometric mean over the sets."""
    logs: dict[str, list[list[float]]] = {}
    tests: dict = {}
    for label in labels:
        for work in sorted((suite.ROOT / "bench" / "runs" / label / "holdout").iterdir()):
            name = work.name.split("@")[0]  # "set@seed" for the seeds after the first
            if not (work / "forecast.csv").exists():
                print(f"{work.name}: no forecast yet (a run in progress?), left out", flush=True)
                continue
            if name not in tests:
                tests[name] = suite.holdout_split(name, data_root)[1]
            default, shipped, detail = scorer(work, name, tests[name])
            print(detail, flush=True)
            logs.setdefault(name, []).append([math.log(s / default) for s in shipped])
    print("\n| set | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    means = {name: [sum(col) / len(col) for col in zip(*rows)] for name, rows in logs.items()}
    for name, row in means.items():
        print(f"| {name} | " + " | ".join(f"{math.exp(v):.3f}" for v in row) + " |")
    overall = [math.exp(sum(col) / len(col)) for col in zip(*means.values())]
    print("| geometric mean | " + " | ".join(f"**{v:.4f}**" for v in overall) + " |")


def rules_main(doc: str, default_rules: str,
               run_scores: Callable[[Path, str, object, list[str]], tuple[float, list[float], str]]) -> None:
    """The command line of the offline screens of dumped runs (`choices.py`, `members.py`):
    `--labels` runs, `--rules` scored by `run_scores(run folder, set, holdout rows, rules)`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", required=True, help="bench/suite.py --holdout --dump-validation runs, comma-separated")
    parser.add_argument("--rules", default=default_rules)
    parser.add_argument("--data-root", default=str(suite.ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    rules = args.rules.split(",")
    screen(args.labels.split(","), Path(args.data_root), rules,
           lambda work, name, test: run_scores(work, name, test, rules))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", required=True, help="bench/suite.py --holdout runs, comma-separated")
    parser.add_argument("--margins", default="0.01,0.03,0.05,0.1,0.15,0.2,0.3,1")
    parser.add_argument("--data-root", default=str(suite.ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    margins = [float(m) for m in args.margins.split(",")]
    screen(args.labels.split(","), Path(args.data_root), [f"margin {m:g}" for m in margins],
           lambda work, name, test: run_scores(work, name, test, margins))


if __name__ == "__main__":
    main()
