"""Models written by earlier releases (tests/fixtures/) still load and forecast the same numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.manifest import FORMAT_VERSION, read_manifest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RELEASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "model").is_dir())
runner = CliRunner()


def test_there_is_a_fixture_for_the_first_release_and_for_each_later_format():
    assert "model-0.1.0" in RELEASES
    formats = {read_manifest(FIXTURES / release / "model").format_version for release in RELEASES}
    assert formats == set(range(1, FORMAT_VERSION + 1))


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize(("engine", "expected"), [("onnx", "forecast.csv"), ("keras", "forecast-keras.csv")])
def test_a_saved_model_forecasts_as_it_did(release, engine, expected, tmp_path):
    """The model directory is read as the release left it (never regenerated): same series, same
    timestamps, same numbers to float32 round-off (ONNX Runtime and Keras may differ in the last
    digits across their own versions, so the numbers are compared to 1e-6, not as bytes)."""
    folder = FIXTURES / release
    manifest = read_manifest(folder / "model")
    assert manifest.data is not None and manifest.data.source == "data.csv"
    out = tmp_path / "forecast.csv"
    result = runner.invoke(app, ["predict", str(folder / "model"), str(folder / "data.csv"), "--engine", engine,
                                 "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    got, want = pd.read_csv(out), pd.read_csv(folder / expected)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got[["unique_id", "ds"]], want[["unique_id", "ds"]])
    numbers = [c for c in want.columns if c not in ("unique_id", "ds")]
    np.testing.assert_allclose(got[numbers].to_numpy(), want[numbers].to_numpy(), rtol=1e-6)
