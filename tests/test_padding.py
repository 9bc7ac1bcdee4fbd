"""Series shorter than the horizon: the default lookback reads the horizon all the same, and a
series shorter than the lookback is forecast padded by its first season (yearly data: its first
value), down to the shortest series the model was trained on (`TrainConfig.min_history`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.config import TrainConfig, resolve_settings
from forecast_cli.errors import ExitCode
from forecast_cli.windows import Covariates, Scaling, prediction_inputs
from tests.conftest import make_long

runner = CliRunner()


def _yearly(lengths: tuple[int, ...] = (3, 14, 18, 22)) -> pd.DataFrame:
    """Yearly series ending in 2023, one per length, each a random walk with drift on its own level."""
    rng = np.random.default_rng(4)
    frames = []
    for k, n in enumerate(lengths):
        y = 100 * (k + 1) * np.exp(np.cumsum(rng.normal(0.04, 0.05, n)))
        frames.append(pd.DataFrame({"unique_id": f"r{k}", "ds": [f"{2024 - n + t}-01-01" for t in range(n)],
                                    "y": y.round(2)}))
    return pd.concat(frames, ignore_index=True)


def _resolve(lengths: list[int], **flags) -> TrainConfig:
    return resolve_settings(TrainConfig(horizon=4, **flags), np.array(lengths), True, (1,), "y.csv")


def test_the_default_lookback_reads_the_horizon_when_the_shortest_series_is_shorter():
    padded = _resolve([3, 14, 30])
    assert (padded.lookback, padded.min_history, padded.least_history) == (4, 3, 3)
    assert _resolve([10, 14, 30]).min_history is None  # every series holds the default lookback
    given = _resolve([3, 14, 30], lookback=4)  # a lookback given is the user's: nothing is padded
    assert (given.lookback, given.min_history, given.least_history) == (4, None, 4)
    covariates = _resolve([3, 14, 30], past_covariates=("price",))  # covariates have no rows to pad
    assert (covariates.lookback, covariates.min_history) == (3, None)


def test_covariates_are_never_padded():
    """The caller decides which series may be padded; covariates cannot be, so a short series
    with them is a bug, not a forecast from made-up rows."""
    series = {"a": np.arange(1.0, 4.0)}
    covariates = Covariates(values={"a": np.ones((3, 1))}, scalings=[Scaling(0.0, 1.0)], n_past=1, n_future=0)
    with pytest.raises(ValueError, match="series 'a' is shorter than the lookback"):
        prediction_inputs(series, {"a": Scaling(0.0, 1.0)}, 4, "none", 1, 2, covariates)


@pytest.fixture(scope="module")
def padded_model(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    """A model trained with the defaults on yearly series of 3 to 22 years, 4 years ahead, the
    network alone (--blend 1), so that its forecast is the network's: (model, data, frame)."""
    folder = tmp_path_factory.mktemp("padded")
    frame = _yearly()
    frame.to_csv(folder / "data.csv", index=False)
    result = runner.invoke(app, ["train", str(folder / "data.csv"), "--horizon", "4", "--out", str(folder / "model"),
                                 "--epochs", "1", "--units", "8", "--patience", "1", "--no-refit", "--blend", "1"])
    assert result.exit_code == 0, result.output
    assert ("data.csv: 1 series shorter than the lookback of 4 ('r0', 3 values) is read with the first value "
            "repeated before the series began.") in result.stderr
    return folder / "model", folder / "data.csv", frame


def test_a_series_shorter_than_the_lookback_is_forecast_as_if_its_first_value_came_before(padded_model, tmp_path):
    model, data, frame = padded_model
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["format_version"] == 3
    assert (manifest["config"]["lookback"], manifest["config"]["min_history"]) == (4, 3)
    result = runner.invoke(app, ["predict", str(model), str(data)])
    assert result.exit_code == 0, result.output
    assert "1 series shorter than the lookback of 4 ('r0', 3 values) is read with the first value" in result.stderr
    forecast = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert forecast.groupby("unique_id").size().to_dict() == {"r0": 4, "r1": 4, "r2": 4, "r3": 4}
    # r0 written out padded, its first value a year earlier: the same forecast, to the digit.
    r0 = frame[frame["unique_id"] == "r0"]
    earlier = r0.iloc[:1].assign(ds="2020-01-01")
    pd.concat([earlier, r0]).to_csv(tmp_path / "r0.csv", index=False)
    written = runner.invoke(app, ["predict", str(model), str(tmp_path / "r0.csv")])
    assert written.exit_code == 0, written.output
    assert "is read with the first value" not in written.stderr
    ours = forecast[forecast["unique_id"] == "r0"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, pd.read_csv(pd.io.common.StringIO(written.stdout)))
    shown = runner.invoke(app, ["inspect", str(model)])
    assert "4 steps from the last 4, series of 3 or more (shorter than 4: padded by their first season)" in shown.stderr


def test_a_series_shorter_than_the_shortest_trained_on_is_refused_or_skipped(padded_model, tmp_path):
    model, _, frame = padded_model
    cut = frame[(frame["unique_id"] != "r0") | (frame["ds"] >= "2022-01-01")]  # r0: 2 values
    cut.to_csv(tmp_path / "cut.csv", index=False)
    refused = runner.invoke(app, ["predict", str(model), str(tmp_path / "cut.csv")])
    assert refused.exit_code == ExitCode.DATA
    assert ("series 'r0' has 2 values but the model forecasts series of at least 3 values (the shortest it was "
            "trained on; it reads the last 4") in refused.stderr
    skipped = runner.invoke(app, ["predict", str(model), str(tmp_path / "cut.csv"), "--skip-short"])
    assert skipped.exit_code == 0, skipped.output
    assert "left out 1 series shorter than the 3 values the model forecasts from (e.g. 'r0', 2 values)" in skipped.stderr
    assert sorted(pd.read_csv(pd.io.common.StringIO(skipped.stdout))["unique_id"].unique()) == ["r1", "r2", "r3"]


def test_doctor_says_which_series_would_be_padded(tmp_path):
    _yearly().to_csv(tmp_path / "data.csv", index=False)
    result = runner.invoke(app, ["doctor", str(tmp_path / "data.csv"), "--horizon", "4"])
    assert result.exit_code == 0, result.output
    assert "the network reads 4 steps (lookback) to forecast 4" in result.stderr
    assert "1 series shorter than the lookback of 4 ('r0', 3 values) is read with the first value" in result.stderr
    assert "cannot be forecast" not in result.stderr
    assert "largest --lookback that keeps every series forecastable: 3" in result.stderr  # a given one pads nothing


def test_a_lookback_cut_to_the_horizon_is_named_with_the_way_to_read_more(tmp_path):
    """Monthly series read two years; one new series of 3 months cuts that to the horizon (6),
    and the warning says so, as it does for a cut to the shortest series."""
    frame = make_long(3, 48)
    new = frame[frame["unique_id"] == "s0"].tail(3).assign(unique_id="new")
    pd.concat([frame, new]).to_csv(tmp_path / "data.csv", index=False)
    result = runner.invoke(app, ["doctor", str(tmp_path / "data.csv"), "--horizon", "6"])
    assert result.exit_code == 0, result.output
    assert ("The default lookback, 24 steps, is cut to 6, the horizon, as the shortest series ('new') has 3 values, "
            "so that every series can be forecast: the network reads 6 steps of every series, shorter ones padded. "
            "To read 24, give --lookback 24") in " ".join(result.stderr.split())


def test_a_seasonal_series_shorter_than_the_lookback_is_read_as_though_its_first_season_came_before():
    """Six quarters read eight back: the two steps before the first take the values of their
    quarters in the first year; a series shorter than a season repeats its first value."""
    series = {"q": np.array([10.0, 20.0, 30.0, 40.0, 11.0, 21.0]), "new": np.array([7.0, 8.0])}
    inputs, _ = prediction_inputs(series, {u: Scaling(0.0, 1.0) for u in series}, 8, "none", 4, 4)
    assert inputs[..., 0].tolist() == [[30.0, 40.0, 10.0, 20.0, 30.0, 40.0, 11.0, 21.0],
                                       [7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 8.0]]
