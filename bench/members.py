"""The partner's two members weighed apart, on the models of `bench/suite.py --holdout
--dump-validation` runs: no training. The partner (ETS+Theta) is the even mean of ETS and Theta;
`--blend auto` weighs the LSTM against that mean by 1 / MASE^3 of each on the validation
windows. Here ETS and Theta are scored apart on the same windows, so that each of the three
forecasts can take its own weight.

Each run saved its validation windows (`validation.npz`: series, actual values, the network's and
the partner's forecasts); their histories are cut again from the run's `train.csv` (each window
the end of its series, or one of its last blocks of `horizon` values), ETS and Theta are fitted
to each by the installed `forecast_cli`, and their mean must score what the saved partner scored
(to 0.1%), so that a partner changed since the run stops the screen instead of skewing it. On the holdout, Theta's forecast is twice ETS+Theta's less ETS's.

Rules (comma-separated in `--rules`):
  inverse:P    the tool's rule: the LSTM against the even mean of ETS and Theta, 1 / MASE**P
  three:P      the LSTM, ETS and Theta each weighed by 1 / MASE**P, the weights to two decimals
  nested:P     ETS against Theta by 1 / MASE**P first, then the LSTM against that partner

Usage:
    python bench/members.py --labels vdump-a,vdump-b --rules inverse:3,three:3,nested:3
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

import suite
from choices import window_errors
from margins import Run, read_run, rules_main


def validation_histories(train_csv: Path, ids: np.ndarray, horizon: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Each saved validation window's history (its series' values before the window) and actual
    values. A series' windows are its last blocks of `horizon` values, saved oldest first."""
    series = suite.by_series(pd.read_csv(train_csv))
    blocks = {uid: int((ids == uid).sum()) for uid in np.unique(ids)}
    seen: dict[str, int] = {}
    histories, actual = [], []
    for uid in ids:
        seen[uid] = seen.get(uid, 0) + 1
        back = blocks[uid] - seen[uid]  # blocks after this one
        values = series[uid]
        end = len(values) - back * horizon
        histories.append(values[: end - horizon])
        actual.append(values[end - horizon : end])
    return histories, np.stack(actual)


def weights(scores: list[float], power: float) -> np.ndarray:
    """Weights in proportion to 1 / score**power, to two decimals, summing to one."""
    raw = np.array([score ** -power for score in scores])
    out = np.round(raw / raw.sum(), 2)
    out[int(np.argmax(out))] += 1.0 - out.sum()
    return out


def weigh_pair(score: Callable[[np.ndarray], float], a: np.ndarray, b: np.ndarray, power: float) -> np.ndarray:
    """Two forecasts' weight vectors `a` and `b` combined as the tool combines the LSTM and the
    partner: `inverse_error_weight` of their validation scores `score(a)` and `score(b)`."""
    from forecast_cli.blend import inverse_error_weight

    w = inverse_error_weight(score(a), score(b), power)
    return w * a + (1 - w) * b


def rule_weights(rule: str, score: Callable[[np.ndarray], float]) -> np.ndarray:
    """The weights of the LSTM, ETS and Theta under `rule`; `score(w)` is the validation MASE of
    the forecast that weighs the three by `w`."""
    kind, power = rule.split(":")
    power = float(power)
    lstm, ets, theta = np.eye(3)
    if kind == "three":
        return weights([score(lstm), score(ets), score(theta)], power)
    if kind == "inverse":
        partner = (ets + theta) / 2
    elif kind == "nested":
        partner = weigh_pair(score, ets, theta, power)
    else:
        raise SystemExit(f"Error: unknown rule {rule!r}; expected inverse:P, three:P or nested:P")
    return weigh_pair(score, lstm, partner, power)


def dumped_run(work: Path, name: str, test) -> tuple[Run, Any, list[np.ndarray]]:
    """A dumped run of set `name` (`margins.read_run`), its saved validation windows, and their
    histories cut again from its `train.csv` (stops where they are not the saved windows)."""
    run = read_run(work, name, test)
    saved = np.load(work / "validation.npz")
    histories, actual = validation_histories(work / "train.csv", saved["ids"], run.config.horizon)
    if not np.allclose(actual, saved["actual"]):
        raise SystemExit(f"Error: {work}: the validation windows cut from train.csv are not the saved ones")
    return run, saved, histories


def run_scores(work: Path, name: str, test, rules: list[str]) -> tuple[float, list[float], str]:
    """(the run's default MASE on the holdout, the MASE each rule ships, a line of detail)."""
    from forecast_cli import baselines

    run, saved, histories = dumped_run(work, name, test)
    config = run.config
    log, season = config.transform == "log", config.baseline_season
    # Fitted and forecast one history at a time, as the validation did.
    ets = baselines.forecasts(histories, config.horizon, season, "ets", log)
    mix = baselines.forecasts(histories, config.horizon, season, "ets+theta", log)
    validation = np.stack([saved["point"], ets, 2 * mix - ets])  # the LSTM, ETS, Theta

    def score_of(forecasts: np.ndarray, w: np.ndarray) -> float:
        return float(np.nanmean(window_errors(saved["actual"], np.tensordot(w, forecasts, 1), saved["scales"])))

    def score(w: np.ndarray) -> float:
        return score_of(validation, w)

    # The fits may differ in the last digits from the run's (made in a worker process: up to 0.3%
    # on a few of ETTh1's values); the partner's validation score must agree to 0.1%.
    refitted, kept = score(np.array([0, 0.5, 0.5])), score_of(saved["base"][None], np.ones(1))
    if not abs(refitted / kept - 1) < 1e-3:
        raise SystemExit(f"Error: {work}: the partner refitted scores {refitted:.5f} on the validation "
                         f"windows, the saved forecast {kept:.5f}")
    ets_ahead = run.methods[f"{baselines.LABELS['ets']} (season {season})"]
    holdout = np.stack([run.lstm, ets_ahead, 2 * run.partner - ets_ahead])
    return ship(work.name, run, rules, lambda rule: rule_weights(rule, score), score, holdout, ("LSTM", "ETS", "Theta"))


def ship(name: str, run, rules: list[str], weigh: Callable[[str], np.ndarray], score: Callable[[np.ndarray], float],
         holdout: np.ndarray, labels: tuple[str, ...], keeps_guard: Callable[[str], bool] = lambda rule: True,
         ) -> tuple[float, list[float], str]:
    """What each rule ships on the holdout of `run` (named `name`): the forecasts `holdout` (one
    per label) weighed by `weigh(rule)`, or the run's own default where the guard shipped seasonal
    naive and `keeps_guard(rule)`; `score(w)` is the validation MASE of weights `w`. Returns (the
    run's default MASE, the MASE each rule ships, a line of detail)."""
    shipped = []
    for rule in rules:
        forecast = np.tensordot(weigh(rule), holdout, 1)
        guarded = run.guarded and keeps_guard(rule)
        shipped.append(run.default if guarded else suite.score(run.actual, forecast, run.scales, f"{name} {rule}")["mase"])
    members = " ".join(f"{label} {score(w):.3f}" for label, w in zip(labels, np.eye(len(labels))))
    detail = (f"{name}: validation {members}; holdout default {run.default:.4f}; "
              + "; ".join(f"{rule} {value:.4f}" for rule, value in zip(rules, shipped)))
    return run.default, shipped, detail


def main() -> None:
    rules_main(__doc__, "inverse:3,three:3,nested:3", run_scores)


if __name__ == "__main__":
    main()
