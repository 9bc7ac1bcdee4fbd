"""Property-based: random small CSVs either train and predict, or fail with the tool's own
`Error:` line and a documented exit code; never an unhandled exception."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.errors import ExitCode

runner = CliRunner()
ALLOWED = {ExitCode.OK, ExitCode.USAGE, ExitCode.DATA}
JUNK = ["", "n/a", "1,5", "abc", "inf", "-inf", "1e400", "NaN", " 7 ", "0", "-1"]


@st.composite
def csv_files(draw):
    n_series = draw(st.integers(1, 3))
    long = n_series > 1 or draw(st.booleans())
    time_kind = draw(st.sampled_from(["D", "MS", "h", "int", "mixed"]))
    frames = []
    for k in range(n_series):
        length = draw(st.integers(1, 40))
        if time_kind == "int":
            times = [str(t) for t in range(length)]
        elif time_kind == "mixed":
            times = [str(t) if t % 3 else f"2020-01-{t % 28 + 1:02d}" for t in range(length)]
        else:
            times = [str(t) for t in pd.date_range("2020-01-01", periods=length, freq=time_kind)]
        values = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=length, max_size=length))
        cells = [f"{v:.4g}" for v in values]
        for i in draw(st.lists(st.integers(0, max(length - 1, 0)), max_size=4)):
            cells[i] = draw(st.sampled_from(JUNK))
        frames.append(pd.DataFrame({"unique_id": f"s{k}" if draw(st.booleans()) else k, "ds": times, "y": cells}))
    frame = pd.concat(frames, ignore_index=True)
    if draw(st.booleans()):
        frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 10)))
    if draw(st.booleans()) and len(frame) > 1:
        frame = pd.concat([frame, frame.iloc[[0]]])  # a duplicate row
    if draw(st.booleans()):
        frame["extra"] = draw(st.sampled_from(["x", "1.5", ""]))
    if not long:
        frame = frame.drop(columns="unique_id")
    sep = draw(st.sampled_from([",", ";", "\t"]))
    return frame.to_csv(index=False, sep=sep)


# The same examples every run by default, so that a run fails on a change of the code and not on
# a draw (a failing draw on a fresh clone blocks everything else); FORECAST_EXPLORE=1 draws new
# ones, 100 of them: run it by hand now and then, and keep what it finds as an @example.
EXPLORE = os.environ.get("FORECAST_EXPLORE") == "1"


@settings(max_examples=100 if EXPLORE else 25, derandomize=not EXPLORE, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=csv_files(), horizon=st.integers(1, 3), lookback=st.integers(1, 6))
# Found by a run: the partner's validation MASE near 1e-166 made the blend weight's ratio
# overflow when raised to its power (OverflowError, a traceback instead of a model).
@example(text="unique_id,ds,y\n" + "".join(f"0,2020-01-{d:02d},{1.6 if d == 12 else 0}\n" for d in range(1, 14))
         + "".join(f"1,2020-01-{d:02d},{4.19e-166 if d == 5 else 0}\n" for d in range(1, 7)), horizon=1, lookback=1)
def test_random_csvs_train_and_predict_or_fail_cleanly(tmp_path_factory, text, horizon, lookback):
    folder = tmp_path_factory.mktemp("prop")
    data = folder / "data.csv"
    data.write_text(text)
    result = runner.invoke(app, ["train", str(data), "--horizon", str(horizon), "--lookback", str(lookback),
                                 "--out", str(folder / "m"), "--epochs", "1", "--units", "4", "--quiet"])
    _assert_clean(result)
    if result.exit_code == 0:
        result = runner.invoke(app, ["predict", str(folder / "m"), str(data)])
        _assert_clean(result)
        if result.exit_code == 0:
            frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
            assert np.isfinite(frame["yhat"]).all() and len(frame) % horizon == 0


def _assert_clean(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in ALLOWED, (result.exit_code, result.output)
    if result.exit_code != 0:
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: "), result.stderr
