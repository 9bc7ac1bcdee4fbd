"""Other statistical partners for the LSTM, on the models of `bench/suite.py --holdout
--dump-validation` runs: no training. The partner today is the even mean of ETS (damped trend,
season) and Theta; `--blend auto` weighs the LSTM against it by 1 / MASE^3 of each on the
validation windows. Here each candidate partner is forecast on the same validation windows (their
histories cut again from the run's `train.csv`, as `bench/members.py` does) and on the holdout,
weighed against the run's own network by the same rule, and scored on the holdout.

Candidates come from this package (`ets`, `theta`: today's members; `naive`, `snaive`) and
from statsforecast's automatic models, fitted on the model's scale (the signed log where the run
took the log): `autotheta` (the Theta family chosen per series: standard, optimised, dynamic),
`dotm` (the dynamic optimised Theta), `stm` (the standard Theta), `ces` (complex exponential
smoothing), `arima` (AutoARIMA; seasonal up to a season of 52), `autoets`; and today's members
bagged (Bergmeir, Hyndman and Benitez 2016, "Bagging exponential smoothing methods using STL
decomposition and Box-Cox transformation"): each history on the model's scale is split into a
smooth part (STL's trend and periodic season, or for a history without a season a local linear
LOESS over 6 values) and a remainder; the remainder is resampled in moving blocks (twice the
season, or 8 values) and added back, `PARTNERS_BAGS` series in all (the first the history itself;
`PARTNERS_BAG_SEED` draws the others again, cached apart); ETS and Theta are fitted to each,
and their forecasts averaged (`bagets`, `bagtheta`) or their median taken (`mbagets`,
`mbagtheta`). A partner is written `a+b+...` (their mean) or `median:a+b+...`;
`three:PARTNER/EXTRA` weighs the LSTM, the partner and one more forecast each by 1 / MASE^3.

The members' forecasts are cached by set in `bench/runs/partners-cache/`, so that a second
screen of the same runs only combines them.

Prints each run's holdout MASE under each partner, then per set the MASE relative to the run's
own default (averaged over the seeds in log terms) and their geometric mean over the sets.

Usage (statsforecast is not a dependency of the tool: install it beside it for the screen):
    python bench/partners.py --labels vdump-c,vdump-d --rules ets+theta,ets+autotheta,median:ets+theta+arima+ces
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import suite
from choices import window_errors
from margins import rules_main
from members import dumped_run
from members import weights as members_weights

CACHE = suite.ROOT / "bench" / "runs" / "partners-cache"
LONGEST = int(os.environ.get("PARTNERS_LONGEST", "2000"))  # statsforecast fits read the latest values only
BAGS = int(os.environ.get("PARTNERS_BAGS", "20"))  # bootstrapped series a history, itself among them
BAG_SEED = int(os.environ.get("PARTNERS_BAG_SEED", "0"))  # another draw of the bootstraps (cached apart)
OWN = ("ets", "theta", "naive", "snaive")
BAGGED = ("bagets", "bagtheta", "mbagets", "mbagtheta")
EXTERNAL = ("autotheta", "dotm", "stm", "ces", "arima", "autoets")


def moving_blocks(remainder: np.ndarray, block: int, rng: np.random.Generator) -> np.ndarray:
    """A moving-block bootstrap of `remainder`, as long as it: blocks of `block` values drawn with
    replacement, joined, and cut at a random start within the first block."""
    n = len(remainder)
    count = n // block + 2
    starts = rng.integers(0, n - block + 1, size=count)
    joined = np.concatenate([remainder[s:s + block] for s in starts])
    start = int(rng.integers(0, block))
    return joined[start:start + n]


def bootstraps(values: np.ndarray, season: int, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`count` series like `values` (on the model's scale), the first `values` itself: its smooth
    part plus a moving-block bootstrap of its remainder."""
    from statsmodels.nonparametric.smoothers_lowess import lowess
    from statsmodels.tsa.seasonal import STL

    n = len(values)
    if season > 1 and n > 2 * season:
        fit = STL(values, period=season, seasonal=10 * n + 1).fit()  # a seasonal smoother this long: periodic
        smooth, block = fit.trend + fit.seasonal, 2 * season
    else:
        smooth = lowess(values, np.arange(n, dtype="float64"), frac=min(1.0, 6 / n), it=0, return_sorted=False)
        block = min(8, n // 2)
    remainder = values - smooth
    return [values] + [smooth + moving_blocks(remainder, block, rng) for _ in range(count - 1)]


def bagged(histories: list[np.ndarray], horizon: int, season: int, log: bool, ets: np.ndarray,
           theta_only: bool = False) -> dict[str, np.ndarray]:
    """ETS's and Theta's forecasts of each history bagged over `BAGS` bootstrapped series (mean and
    median); histories too short for ETS keep `ets` (the tool's forecast of them). `theta_only`
    fits Theta alone (a fraction of the time): only `bagtheta` and `mbagtheta`, and a bootstrapped
    series whose Theta fit fails is left out (with ETS, it took ETS's forecast)."""
    from forecast_cli import baselines
    from forecast_cli.windows import signed_exp, signed_log

    out = {name: np.array(ets, dtype="float64") for name in BAGGED if not theta_only or "theta" in name}
    for i, history in enumerate(histories):
        values = np.asarray(history, dtype="float64")
        if len(values) < baselines.ETS_MIN_VALUES or not np.isfinite(values).all():
            continue
        scaled = signed_log(values) if log else values
        rng = np.random.default_rng([i, len(values)] + ([BAG_SEED] if BAG_SEED else []))
        series = [signed_exp(b) if log else b for b in bootstraps(scaled, season, BAGS, rng)]
        if theta_only:
            alphas = [baselines.fit_theta(b, season) for b in series]
            kept = [k for k, a in enumerate(alphas) if a is not None]
            theta = baselines.theta_forecasts([series[k] for k in kept], [alphas[k] for k in kept], horizon, season)
            stacks = [("theta", theta)]
        else:
            params = [baselines.fit_ets_theta(b, season, log) for b in series]
            ets_part = baselines.forecasts(series, horizon, season, "ets", log, params)
            # Theta's forecast where its fit held, ETS's elsewhere (as the tool's partner falls back)
            theta = 2 * baselines.with_theta(ets_part, series, params, horizon, season) - ets_part
            stacks = [("ets", ets_part), ("theta", theta)]
        for name, stack in stacks:
            good = stack[np.isfinite(stack).all(axis=1)]
            if len(good):
                out["bag" + name][i] = good.mean(axis=0)
                out["mbag" + name][i] = np.median(good, axis=0)
    return out


def external(member: str, histories: list[np.ndarray], horizon: int, season: int, log: bool,
             ets: np.ndarray) -> np.ndarray:
    """statsforecast's `member` forecast of each history (n, horizon), on the model's scale;
    `ets` is the tool's ETS forecast of the same histories."""
    from statsforecast import StatsForecast
    from statsforecast import models as sf

    from forecast_cli import baselines
    from forecast_cli.windows import signed_exp, signed_log

    make = {
        "autotheta": lambda: sf.AutoTheta(season_length=season),
        "dotm": lambda: sf.DynamicOptimizedTheta(season_length=season),
        "stm": lambda: sf.Theta(season_length=season),
        "ces": lambda: sf.AutoCES(season_length=season),
        "arima": lambda: sf.AutoARIMA(season_length=season if season <= 52 else 1),
        "autoets": lambda: sf.AutoETS(season_length=season if season <= 24 else 1),
    }[member]
    # Histories too short for the tool's ETS (it forecasts them by seasonal naive) keep its
    # forecast here too; a fit that fails takes naive (statsforecast's fallback) on the same scale.
    forecast = np.array(ets, dtype="float64")
    fit = [i for i, h in enumerate(histories) if len(h) >= baselines.ETS_MIN_VALUES]
    rows = []
    for i in fit:
        values = np.asarray(histories[i], dtype="float64")[-LONGEST:]
        values = signed_log(values) if log else values
        rows.append(pd.DataFrame({"unique_id": i, "ds": np.arange(len(values)), "y": values}))
    if rows:
        frame = pd.concat(rows, ignore_index=True)
        out = StatsForecast(models=[make()], freq=1, n_jobs=1, fallback_model=sf.Naive()).forecast(df=frame, h=horizon)
        column = [c for c in out.columns if c not in ("unique_id", "ds")][0]
        out = out.sort_values(["unique_id", "ds"])
        values = out[column].to_numpy().reshape(-1, horizon)
        ids = out["unique_id"].to_numpy()[::horizon].astype(int)
        values = signed_exp(values) if log else values
        good = np.isfinite(values).all(axis=1)
        forecast[ids[good]] = values[good]
    return forecast


def members(name: str, part: str, histories: list[np.ndarray], horizon: int, season: int, log: bool,
            wanted: set[str]) -> dict[str, np.ndarray]:
    """Every member in `wanted` forecast for `histories`, cached by set and part (validation or
    holdout): the histories of a set are the same in every run of it."""
    from forecast_cli import baselines

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-{part}-s{season}-{'log' if log else 'raw'}{f'-bag{BAG_SEED}' if BAG_SEED else ''}.npz"
    cached = dict(np.load(path)) if path.exists() else {}
    if "ets" not in cached or "theta" not in cached:
        ets = baselines.forecasts(histories, horizon, season, "ets", log)
        mix = baselines.forecasts(histories, horizon, season, "ets+theta", log)
        cached.update(ets=ets, theta=2 * mix - ets)
    if "snaive" not in cached:
        cached.update(naive=baselines.forecasts(histories, horizon, 1, "naive"),
                      snaive=baselines.forecasts(histories, horizon, season, "snaive"))
    if wanted & (set(BAGGED) - set(cached)):
        start = time.perf_counter()
        theta_only = not wanted & {"bagets", "mbagets"}
        cached.update(bagged(histories, horizon, season, log, cached["ets"], theta_only))
        print(f"  {name} {part}: bagged {'Theta' if theta_only else 'ETS and Theta'} ({BAGS} series) in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
    for member in sorted(wanted - set(cached) - set(BAGGED)):
        start = time.perf_counter()
        cached[member] = external(member, histories, horizon, season, log, cached["ets"])
        print(f"  {name} {part}: {member} forecast in {time.perf_counter() - start:.0f} s", flush=True)
    np.savez(path, **cached)
    return cached


def partner_of(rule: str, forecasts: dict[str, np.ndarray]) -> np.ndarray:
    """The partner a rule names: the mean (or, after `median:`, the median) of its members."""
    how, _, names = rule.rpartition(":")
    stack = np.stack([forecasts[m] for m in names.split("+")])
    return np.median(stack, axis=0) if how == "median" else stack.mean(axis=0)


def split_rule(rule: str) -> tuple[str, str | None]:
    """`three:PARTNER/EXTRA` -> (PARTNER, EXTRA): the LSTM, the partner and one more forecast each
    weighed by 1 / MASE^3; any other rule -> (the rule, None): the partner against the LSTM."""
    if rule.startswith("three:"):
        partner, _, extra = rule[len("three:"):].partition("/")
        return partner, extra
    return rule, None


def picks(rule: str) -> tuple[str, list[str]]:
    """`pick:A|B` or `pickblend:A|B` -> (how, [A, B]); any other rule -> ("", [the rule])."""
    how, _, rest = rule.partition(":")
    if how in ("pick", "pickblend"):
        return how, rest.split("|")
    return "", [rule]


def wanted_members(rules: list[str]) -> set[str]:
    specs = [part for rule in rules for spec in picks(rule)[1] for part in split_rule(spec) if part]
    names = {m for spec in specs for m in spec.rpartition(":")[2].split("+")}
    unknown = names - set(OWN) - set(BAGGED) - set(EXTERNAL)
    if unknown:
        raise SystemExit(f"Error: unknown members {sorted(unknown)}; "
                         f"expected some of {', '.join(OWN + BAGGED + EXTERNAL)}")
    return names


def run_scores(work: Path, name: str, test, rules: list[str]) -> tuple[float, list[float], str]:
    """(the run's default MASE on the holdout, the MASE each partner ships, a line of detail)."""
    from forecast_cli.blend import inverse_error_weight

    run, saved, histories = dumped_run(work, name, test)
    config = run.config
    log, season = config.transform == "log", config.baseline_season
    wanted = wanted_members(rules)
    valid = members(name, "validation", histories, config.horizon, season, log, wanted)
    train = suite.by_series(pd.read_csv(work / "train.csv"))
    order = list(suite.by_series(test))
    ahead = members(name, "holdout", [train[uid] for uid in order], config.horizon, season, log, wanted)

    def score(forecast: np.ndarray) -> float:
        return float(np.nanmean(window_errors(saved["actual"], forecast, saved["scales"])))

    today = score((valid["ets"] + valid["theta"]) / 2)
    if not abs(today / score(saved["base"]) - 1) < 1e-3:
        raise SystemExit(f"Error: {work}: the partner refitted scores {today:.5f} on the validation windows, "
                         f"the saved forecast {score(saved['base']):.5f}")
    lstm = score(saved["point"])
    holdout, notes = {}, {}
    for rule in rules:
        how, candidates = picks(rule)
        if how:
            def blend_score(spec: str) -> float:
                other = score(partner_of(spec, valid))
                w = inverse_error_weight(lstm, other, 3)
                return score(w * saved["point"] + (1 - w) * partner_of(spec, valid))
            judge = blend_score if how == "pickblend" else (lambda spec: score(partner_of(spec, valid)))
            partner = min(candidates, key=judge)
            rule_partner, extra = partner, None
        else:
            rule_partner, extra = split_rule(rule)
        partner = rule_partner
        scores = [lstm, score(partner_of(partner, valid))]
        if extra is None:
            w = inverse_error_weight(scores[0], scores[1], 3)
            weights = np.array([w, 1 - w])
        else:
            scores.append(score(partner_of(extra, valid)))
            weights = members_weights(scores, 3)
        ahead_of = [run.lstm, partner_of(partner, ahead)] + ([partner_of(extra, ahead)] if extra else [])
        holdout[rule] = np.tensordot(weights, np.stack(ahead_of), 1)
        notes[rule] = (f"[{partner}] " if how else "") + "/".join(f"{v:.3f}" for v in scores[1:]) + " (w " + "/".join(f"{w:.2f}" for w in weights) + ")"
    shipped = [run.default if run.guarded else suite.score(run.actual, holdout[rule], run.scales, rule)["mase"]
               for rule in rules]
    detail = (f"{work.name}: validation LSTM {lstm:.3f}; "
              + "; ".join(f"{rule} {notes[rule]} -> {value:.4f}" for rule, value in zip(rules, shipped))
              + f"; holdout default {run.default:.4f}")
    return run.default, shipped, detail


def main() -> None:
    rules_main(__doc__, "ets+theta,ets+autotheta,ets+theta+arima,median:ets+theta+arima+ces", run_scores)


if __name__ == "__main__":
    main()
