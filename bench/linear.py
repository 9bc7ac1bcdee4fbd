"""A global linear forecast beside the LSTM and the partner, on the models of `bench/suite.py
--holdout --dump-validation` runs: no network training. DLinear and NLinear, which lead ETTh1
"M", are one linear map from the input window to the horizon; here that map is fitted by ridge
regression (closed form) to the very windows the run's network learnt from (the same lookback,
scaling and level taken off), so that it is what the tool could offer as a third forecast at the
cost of a matrix solve.

Each run's training and validation windows are cut again from its `train.csv` by the installed
`forecast_cli` with the run's config; the validation windows must be the saved ones. The map fitted
on the training windows forecasts the validation windows; the map fitted again on every window
(the refit's) forecasts the holdout from each series' last values.

Rules (comma-separated in `--rules`):
  inverse:P    the tool's rule: the LSTM against the partner, 1 / MASE**P (no linear forecast)
  three:P      the LSTM, the partner and the linear forecast each weighed by 1 / MASE**P
  net:P        the LSTM against the linear forecast by 1 / MASE**P first, then that against
               the partner
  linear:P     the linear forecast in the LSTM's place
  mix:P        the partner and the linear forecast at 2 to 1 (ETS, Theta and the linear map a
               third each), then the LSTM against that by 1 / MASE**P
  even:P       the LSTM and the linear forecast half each, then that against the partner
  alone        the linear forecast alone (its own quality; not a rule to ship)

Usage:
    python bench/linear.py --labels vdump-a,vdump-b --rules inverse:3,three:3,net:3,linear:3,alone
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

import suite
from choices import window_errors
from margins import read_run, rules_main
from members import ship, weigh_pair, weights

RIDGE = float(os.environ.get("LINEAR_RIDGE", "1e-3"))  # the penalty, relative to the mean diagonal of X'X


def _design(x: np.ndarray) -> np.ndarray:
    """The windows `x` (n, ...) flattened, with a column of ones for the intercept."""
    return np.hstack([x.reshape(len(x), -1).astype("float64"), np.ones((len(x), 1))])


def fit_linear(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Ridge regression of the outputs `y` (n, horizon) on the flattened windows `x` (n, ...)
    with an intercept: the coefficients (features + 1, horizon)."""
    design = _design(x)
    gram = design.T @ design
    penalty = ridge * np.trace(gram) / len(gram) * np.eye(len(gram))
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    return np.linalg.solve(gram + penalty, design.T @ y.astype("float64"))


def apply_linear(coef: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _design(x) @ coef


def linear_forecasts(work: Path, config, saved) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The linear forecast of the run's validation windows (in the saved order) and of its holdout
    (series in `train.csv` order), and that order."""
    from forecast_cli.config import validation_series
    from forecast_cli.pipeline import cut_windows
    from forecast_cli.windows import invert_outputs, prediction_inputs

    series = suite.by_series(pd.read_csv(work / "train.csv"))
    ws = cut_windows(series, config, None, validation_series(list(series), config.seed))
    coef = fit_linear(ws.x_train, ws.y_train)
    val = invert_outputs(apply_linear(coef, ws.x_val), ws.val_base, [ws.scalings[u] for u in ws.val_ids])
    # The saved windows, in the tool's order (series sorted by id), each series' oldest first.
    where = {key: i for i, key in enumerate(_occurrences(ws.val_ids))}
    order = [where[key] for key in _occurrences(list(saved["ids"]))]
    if not np.allclose(ws.val_actual[order], saved["actual"]):
        raise SystemExit(f"Error: {work}: the validation windows cut from train.csv are not the saved ones")
    full = cut_windows(series, config, None, refit=True)
    coef = fit_linear(full.x_train, full.y_train)
    inputs, base = prediction_inputs(series, full.scalings, config.lookback, config.window_norm,
                                     config.season, config.horizon)
    ahead = invert_outputs(apply_linear(coef, inputs), base, [full.scalings[u] for u in series])
    return val[order], ahead, list(series)


def _occurrences(ids: list[str]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    out = []
    for uid in ids:
        seen[uid] = seen.get(uid, 0) + 1
        out.append((uid, seen[uid]))
    return out


def rule_weights(rule: str, score) -> np.ndarray:
    """The weights of the LSTM, the partner and the linear forecast under `rule`; `score(w)` is
    the validation MASE of the forecast that weighs the three by `w`."""
    lstm, partner, linear = np.eye(3)
    if rule == "alone":
        return linear
    kind, power = rule.split(":")
    power = float(power)
    if kind == "three":
        return weights([score(lstm), score(partner), score(linear)], power)
    if kind == "inverse":
        first = lstm
    elif kind == "linear":
        first = linear
    elif kind == "even":
        first = (lstm + linear) / 2
    elif kind == "mix":
        partner = (2 * partner + linear) / 3
        first = lstm
    elif kind == "net":
        first = weigh_pair(score, lstm, linear, power)
    else:
        raise SystemExit(f"Error: unknown rule {rule!r}; expected inverse:P, three:P, net:P, linear:P, mix:P, even:P or alone")
    return weigh_pair(score, first, partner, power)


def run_scores(work: Path, name: str, test, rules: list[str]) -> tuple[float, list[float], str]:
    """(the run's default MASE on the holdout, the MASE each rule ships, a line of detail)."""
    run = read_run(work, name, test)
    saved = np.load(work / "validation.npz")
    val_linear, ahead, order = linear_forecasts(work, run.config, saved)
    test_order = list(suite.by_series(test))
    ahead = ahead[[order.index(uid) for uid in test_order]]
    validation = np.stack([saved["point"], saved["base"], val_linear])
    holdout = np.stack([run.lstm, run.partner, ahead])

    def score(w: np.ndarray) -> float:
        return float(np.nanmean(window_errors(saved["actual"], np.tensordot(w, validation, 1), saved["scales"])))

    return ship(work.name, run, rules, lambda rule: rule_weights(rule, score), score, holdout,
                ("LSTM", "partner", "linear"), keeps_guard=lambda rule: rule != "alone")


def main() -> None:
    rules_main(__doc__, "inverse:3,three:3,net:3,linear:3,alone", run_scores)


if __name__ == "__main__":
    main()
