"""windows.py: chronological split, leakage-safe scaling, window shapes and inversion."""

from __future__ import annotations

import numpy as np

from forecast_cli.windows import (Scaling, apply_rows, fit_scaling, invert_outputs, invert_rows, make_windows,
                                 merge_windows, output_base, prediction_inputs, window_level)


def test_scaling_uses_only_the_training_part():
    values = np.concatenate([np.zeros(30), np.full(4, 1000.0)])  # validation part is huge
    ws = make_windows({"a": values + np.arange(34) * 0.0 + np.r_[np.arange(30) % 2, np.zeros(4)]}, 8, 4)
    stats = ws.scalings["a"]
    assert stats.mean < 1.0  # 1000s of the last 4 values did not leak into the mean


def test_window_counts_and_targets():
    series = {"a": np.arange(40.0)}
    ws = make_windows(series, lookback=8, horizon=4, window_norm="none")
    assert ws.x_train.shape == (25, 8, 1) and ws.y_train.shape == (25, 4)
    assert ws.x_val.shape == (1, 8, 1)
    np.testing.assert_allclose(ws.val_actual[0], [36, 37, 38, 39])
    # the last training target ends before the validation part starts
    scaling = ws.scalings["a"]
    last_target = scaling.invert(ws.y_train[-1].astype("float64"))
    np.testing.assert_allclose(last_target, [32, 33, 34, 35], rtol=1e-5)


def test_max_windows_keeps_the_most_recent():
    ws = make_windows({"a": np.arange(100.0)}, 8, 4, max_windows=5, window_norm="none")
    assert len(ws.x_train) == 5
    last = ws.scalings["a"].invert(ws.y_train[-1].astype("float64"))
    np.testing.assert_allclose(last, [92, 93, 94, 95], rtol=1e-5)


def test_short_series_are_listed_and_skipped():
    ws = make_windows({"long": np.arange(40.0), "short": np.arange(10.0)}, 8, 4)
    assert ws.short == ["short"] and ws.train_series == 1 and "short" in ws.scalings


def test_constant_series_never_divides_by_zero():
    scaling = fit_scaling(np.full(20, 7.0))
    assert scaling.scale == 7.0
    assert fit_scaling(np.zeros(5)).scale == 1.0
    ws = make_windows({"c": np.full(30, 7.0)}, 8, 4)
    assert np.isfinite(ws.x_train).all() and np.isfinite(ws.y_train).all()


def test_window_levels():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    assert window_level(x, "none", 2)[0, 0] == 0
    assert window_level(x, "last", 2)[0, 0] == 4
    assert window_level(x, "season", 2)[0, 0] == 3.5


def test_prediction_round_trip_recovers_the_level():
    values = np.linspace(100, 200, 30)
    scaling = fit_scaling(values)
    inputs, base = prediction_inputs({"a": values}, {"a": scaling}, 8, "last", 1, 3)
    zero_change = np.zeros((1, 3))
    restored = invert_outputs(zero_change, base, [scaling])
    np.testing.assert_allclose(restored, [[200, 200, 200]])
    assert inputs.shape == (1, 8, 1) and inputs[0, -1, 0] == 0


def test_snaive_base_repeats_the_last_season():
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(output_base(x, "snaive", 3, 5), [[4, 5, 6, 4, 5]])
    np.testing.assert_array_equal(output_base(x, "snaive", 1, 2), [[6, 6]])
    np.testing.assert_array_equal(output_base(x, "season", 2, 2), [[5.5, 5.5]])
    # zero network output with snaive gives exactly the seasonal naive forecast
    values = np.arange(1.0, 25.0)
    scaling = fit_scaling(values)
    _, base = prediction_inputs({"a": values}, {"a": scaling}, 12, "snaive", 4, 6)
    np.testing.assert_allclose(invert_outputs(np.zeros((1, 6)), base, [scaling]), [[21, 22, 23, 24, 21, 22]])


def test_windows_cut_in_groups_and_merged_are_the_windows_of_the_whole():
    """Series cut in interleaved groups (the parts of the data on a cluster) and merged give every
    array of cutting them all at once, in the same order; `validate` keeps the validation windows
    of the named series only, and the others still keep their validation part out of training."""
    rng = np.random.default_rng(0)
    series = {f"s{k:02d}": rng.normal(10, 1, 30 + 3 * k) for k in range(12)}
    series["short"] = rng.normal(10, 1, 5)
    series = dict(sorted(series.items()))
    args = dict(lookback=6, horizon=3, val_windows=2, max_windows=7, season=4, log=True)
    validate = frozenset(["s03", "s07", "s10"])
    whole = make_windows(series, **args, validate=validate)
    groups = [dict(sorted(g.items())) for g in ({u: v for u, v in series.items() if list(series).index(u) % 3 == k}
                                                for k in range(3))]
    merged = merge_windows([make_windows(g, **args, validate=validate) for g in groups])
    for name in ("x_train", "y_train", "x_val", "y_val", "val_base", "val_actual"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name), err_msg=name)
    assert merged.val_ids == whole.val_ids == ["s03", "s03", "s07", "s07", "s10", "s10"]
    assert all(np.array_equal(a, b) for a, b in zip(merged.val_history, whole.val_history, strict=True))
    assert merged.scalings == whole.scalings and list(merged.scalings) == list(series)
    assert (merged.counts, merged.short, merged.train_series) == (whole.counts, whole.short, whole.train_series)
    everything = make_windows(series, **args)
    assert len(everything.x_val) == 2 * 12 and len(everything.x_train) == len(whole.x_train)


def test_small_values_are_counted_in_a_unit_that_makes_their_log_a_log():
    """log(1 + y) is nearly y below 1: a series of rates around 0.05 (or amounts in millions
    around 1e-6) left the network changes a thousand times smaller than the same series in larger
    units. Counted in a unit that puts their typical value in the thousands, they give the network
    the relative changes a series of thousands gives it; series of 1 or more, and zeros, keep
    log(1 + y) as it was."""
    t = np.arange(60)
    shape = 1.0 + 0.2 * np.sin(2 * np.pi * t / 12) + 0.01 * t
    large = fit_scaling(3000.0 * shape, log=True, method="mean")
    assert large.unit == 1.0
    for size in (0.05, 2e-6):
        small = fit_scaling(size * shape, log=True, method="mean")
        assert 1e3 <= size / small.unit < 1e4
        spread = np.std(small.apply(size * shape))
        np.testing.assert_allclose(spread, np.std(large.apply(3000.0 * shape)), rtol=0.01)
        np.testing.assert_allclose(small.invert(small.apply(size * shape)), size * shape, rtol=1e-12)
    with_zeros = fit_scaling(np.r_[0.0, 0.0, 0.04 * shape], log=True, method="mean")
    assert with_zeros.apply(np.zeros(1))[0] == -with_zeros.mean  # zero stays zero before the mean
    assert fit_scaling(np.r_[0.0, 1.5, 2.0], log=True).unit == 1.0  # counts keep log(1 + y)
    assert fit_scaling(np.zeros(5), log=True).unit == 1.0


def test_scaling_rows_at_once_are_each_row_alone_bit_for_bit():
    """predict and detect scale every series' inputs, and restore every output, in one array
    operation; each row must get exactly what its own scaling gives it (log or not, a unit, a
    quantile model's (horizon, levels) rows)."""
    rng = np.random.default_rng(3)
    scalings = [Scaling(rng.normal(), rng.uniform(0.1, 3), log=bool(k % 2), unit=[1.0, 1e-5, 0.01][k % 3])
                for k in range(30)]
    rows = rng.normal(0, 50, (30, 16)) ** 2 * np.where(np.arange(30) % 5 == 0, -1, 1)[:, None]
    before = rows.copy()
    assert np.array_equal(apply_rows(scalings, rows), np.stack([s.apply(r) for s, r in zip(scalings, rows)]))
    assert np.array_equal(rows, before)  # the inputs are left as they were
    for outputs in (rng.normal(size=(30, 6)), rng.normal(size=(30, 6, 3))):
        assert np.array_equal(invert_rows(scalings, outputs), np.stack([s.invert(r) for s, r in zip(scalings, outputs)]))
