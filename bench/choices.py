"""Other ways of choosing the blend, on the models of `bench/suite.py --holdout --dump-validation`
runs: no training. Each run saved the validation windows `--blend auto` chose on (its series,
actual values, the network's and the partner's forecasts, the MASE scales); the networks do not
depend on the choice, so these and the run's holdout forecasts (the LSTM alone, the partner
alone) give what each rule would have shipped there, exactly as a new run would. Runs where the
guard shipped seasonal naive keep it.

Rules (comma-separated in `--rules`):
  margin          the rule until 2026-12-02 (`margins.choose_blend`): the even blend unless the
                  LSTM alone or the partner alone scores over 1% lower; reproduces each run
                  made before then
  significant:Z   as `margin`, and the lead must also pass Z standard errors of the
                  window-by-window difference from the even blend (the guard's noise, for the
                  blend's choice)
  per-series:K    each series with K or more validation windows chooses by `margin` on its own
                  windows; the others take the run's choice
  inverse:P       no grid: the LSTM's weight in proportion to 1 / MASE**P of the LSTM alone and
                  the partner alone on the validation windows (P 1: a partner twice as good
                  takes two thirds; the weight rounded to two decimals: P 3 is the tool's rule
                  since 2026-12-02, `forecast_cli.blend.inverse_error_weight`)
  geo:P           as `inverse:P` with each forecast's geometric mean of its window errors in
                  place of their mean: a few windows of large MASE weigh less
  median:P        as `inverse:P` with the median window error
  tilt:K          `inverse:3` with the LSTM's validation score multiplied by K first: the
                  validated network is scored, but the refit (the same network trained on
                  through the validation period) ships; K below 1 credits the refit with
                  that much gain, above 1 distrusts the network
  steps:B[:L]     `inverse:3` apart for each of B blocks of the horizon's steps (the first
                  steps, ..., the last), each block its own weight from its own steps'
                  errors; with L, fewer blocks where the horizon is short, so that each block
                  holds L steps or more (one block, today's rule, below 2 L)
  shrink:K        `inverse:3` apart for each series, from its own validation errors pulled
                  toward the file's: each forecast's score is the mean of the series' window
                  errors and K windows at the file's mean error (K 0: each series on its own
                  windows; K large: today's rule); a series with no validation window takes
                  the file's weight

Prints each run's holdout MASE under each rule, then per set the MASE relative to the run's own
default (averaged over the seeds in log terms) and their geometric mean over the sets.

Usage:
    python bench/choices.py --labels vdump-a,vdump-b --rules margin,significant:2,per-series:1
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import suite
from margins import WEIGHTS, choose_blend, read_run, rules_main


def window_errors(actual: np.ndarray, forecast: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Each window's MAE over its MASE scale (NaN where the window has no scale)."""
    ok = np.isfinite(scales) & (scales > 0)
    errors = np.full(len(actual), np.nan)
    errors[ok] = np.abs(actual[ok] - forecast[ok]).mean(axis=1) / scales[ok]
    return errors


def choose(errors: dict[float, np.ndarray], rule: str) -> float:
    """The weight a rule takes from each weight's window errors."""
    from forecast_cli.blend import inverse_error_weight

    ok = np.isfinite(errors[0.5])
    scores = {w: float(errors[w][ok].mean()) for w in WEIGHTS}
    if rule.startswith("inverse:"):
        return inverse_error_weight(scores[1.0], scores[0.0], float(rule.split(":")[1]))
    if rule.startswith(("geo:", "median:")):  # robust summaries of the window errors
        both = ok & (errors[1.0] > 0) & (errors[0.0] > 0)
        if rule.startswith("geo:"):
            network, partner = (float(np.exp(np.log(errors[w][both]).mean())) for w in (1.0, 0.0))
        else:
            network, partner = (float(np.median(errors[w][both])) for w in (1.0, 0.0))
        return inverse_error_weight(network, partner, float(rule.split(":")[1]))
    if rule.startswith("tilt:"):
        return inverse_error_weight(scores[1.0] * float(rule.split(":")[1]), scores[0.0])
    chosen = choose_blend(scores)
    if rule.startswith("significant:") and chosen != 0.5:
        lead = errors[0.5][ok] - errors[chosen][ok]
        spread = lead.std(ddof=1) / math.sqrt(len(lead)) if len(lead) > 1 else math.inf
        return chosen if lead.mean() > float(rule.split(":")[1]) * spread else 0.5
    return chosen


def by_steps(saved, lstm: np.ndarray, partner: np.ndarray, blocks: int, least: int = 1) -> np.ndarray:
    """The LSTM and the partner weighed by `inverse_error_weight` apart for each block of the
    horizon's steps, from the validation errors on that block's steps alone."""
    from forecast_cli import blend

    horizon = lstm.shape[1]
    blocks = max(1, min(blocks, horizon // least))
    edges = np.linspace(0, horizon, blocks + 1).round().astype(int)
    forecast = np.empty_like(lstm)
    for lo, hi in zip(edges[:-1], edges[1:]):
        part = slice(lo, hi)
        network, base = (float(np.nanmean(window_errors(saved["actual"][:, part], f[:, part], saved["scales"])))
                         for f in (saved["point"], saved["base"]))
        forecast[:, part] = blend.blend(lstm[:, part], partner[:, part], blend.inverse_error_weight(network, base))
    return forecast


def run_scores(work: Path, name: str, test, rules: list[str]) -> tuple[float, list[float], str]:
    """(the run's default MASE on the holdout, the MASE each rule ships, a line of detail)."""
    from forecast_cli import blend

    run = read_run(work, name, test)
    if run.guarded:
        return run.default, [run.default] * len(rules), f"{work.name}: the guard shipped {run.choice['shipped']}"
    lstm, partner = run.lstm, run.partner
    saved = np.load(work / "validation.npz")
    errors = {w: window_errors(saved["actual"], blend.blend(saved["point"], saved["base"], w), saved["scales"])
              for w in WEIGHTS}
    order = list(suite.by_series(test))  # the rows of the holdout forecasts
    shipped = []
    for rule in rules:
        if rule.startswith("steps:"):
            forecast = by_steps(saved, lstm, partner, *(int(part) for part in rule.split(":")[1:]))
        else:
            forecast = blend.blend(lstm, partner, choose(errors, rule)).copy()  # rows change below
        if rule.startswith("shrink:"):
            strength = float(rule.split(":")[1])
            ok = np.isfinite(errors[0.5])
            pooled = {w: float(errors[w][ok].mean()) for w in (1.0, 0.0)}
            for row, uid in enumerate(order):
                mine = (saved["ids"] == uid) & ok
                own = {w: (float(errors[w][mine].sum()) + strength * pooled[w]) / (mine.sum() + strength)
                       if mine.sum() + strength > 0 else pooled[w] for w in (1.0, 0.0)}
                forecast[row] = blend.blend(lstm[row], partner[row], blend.inverse_error_weight(own[1.0], own[0.0]))
        if rule.startswith("per-series:"):
            for row, uid in enumerate(order):
                mine = saved["ids"] == uid
                if mine.sum() >= int(rule.split(":")[1]) and np.isfinite(errors[0.5][mine]).all():
                    weight = choose({w: e[mine] for w, e in errors.items()}, "margin")
                    forecast[row] = blend.blend(lstm[row], partner[row], weight)
        shipped.append(suite.score(run.actual, forecast, run.scales, f"{work.name} {rule}")["mase"])
    detail = (f"{work.name}: shipped {run.choice['shipped']}, {run.default:.4f}; "
              + "; ".join(f"{rule} {value:.4f}" for rule, value in zip(rules, shipped)))
    return run.default, shipped, detail


def main() -> None:
    rules_main(__doc__, "margin,significant:1,significant:2,per-series:1,per-series:5,inverse:2,inverse:3", run_scores)


if __name__ == "__main__":
    main()
