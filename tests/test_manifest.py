"""manifest.py: the model directory's schema, checked from its declaration."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from forecast_cli import manifest as schema
from forecast_cli.cli import app
from forecast_cli.config import TrainConfig
from forecast_cli.errors import ExitCode, ModelDirError


def test_manifest_of_trained_model_parses(trained_model):
    model_dir, _ = trained_model
    manifest = schema.read_manifest(model_dir)
    assert manifest.config.lookback == 8 and set(manifest.series) == {"s0", "s1", "s2"}


def test_writer_and_reader_agree(trained_model):
    """What `to_json` writes reads back to the same manifest, key for key."""
    model_dir, _ = trained_model
    manifest = schema.read_manifest(model_dir)
    again = schema.parse_manifest(json.loads(manifest.to_json()), "again")
    assert again == manifest
    assert json.loads(again.to_json()) == json.loads((model_dir / "manifest.json").read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format_version=99), "format version 99 is newer"),
        (lambda d: d.update(format_version="1"), r"manifest.format_version should be a whole number, got str"),
        (lambda d: d["config"].update(lookback="8"), r"manifest.config.lookback should be a whole number or null"),
        (lambda d: d["config"].update(colour="red"), r"manifest.config has unknown keys: colour"),
        (lambda d: d["config"].update(horizon=0), r"manifest.config is not valid \(--horizon must be"),
        (lambda d: d.pop("series"), r"manifest.series: required key is missing"),
        (lambda d: d["series"]["s0"].update(scale=0.0), r"manifest.series\['s0'\].scale must be finite and above 0"),
        (lambda d: d["series"]["s0"].update(unit=-1e-5), r"manifest.series\['s0'\].unit must be finite and above 0"),
        (lambda d: d["series"]["s0"].update(ets={"alpha": 2.0}), r"\.ets must be null or alpha, beta, gamma, phi"),
        (lambda d: d.update(freq="every tuesday"), "is not a pandas frequency"),
        (lambda d: d.update(time_kind="weeks"), r"manifest.time_kind must be one of 'datetime', 'integer'"),
        (lambda d: d["columns"].update(all_columns=[1, 2]), r"manifest.columns.all_columns\[0\] should be a string"),
        (lambda d: d["files"].update({"model.keras": "abc"}), "must map file names to SHA-256 digests"),
        (lambda d: d.update(step=0), r"manifest.step must be at least 1"),
    ],
)
def test_bad_manifests_are_refused(trained_model, change, message):
    model_dir, _ = trained_model
    doc = json.loads((model_dir / "manifest.json").read_text())
    change(doc)
    with pytest.raises(ModelDirError, match=message):
        schema.parse_manifest(doc, "manifest.json")


def test_a_bug_in_manifest_reading_keeps_its_traceback(trained_model, monkeypatch):
    """Only the tool's own errors become exit 4 ("retrain"); a bug in forecast itself is exit 1
    with its traceback, so that it gets reported rather than retrained around."""
    model_dir, data = trained_model

    def broken(manifest, where):
        raise RuntimeError("a bug in the checks")

    monkeypatch.setattr(schema, "_check_across", broken)
    result = CliRunner().invoke(app, ["predict", str(model_dir), str(data)])
    assert result.exit_code == ExitCode.INTERNAL
    assert isinstance(result.exception, RuntimeError) and "a bug in the checks" in str(result.exception)


def test_config_round_trips_through_json():
    config = TrainConfig(horizon=12, lookback=24, season=12, batch_size=32, quantiles=(0.1, 0.5, 0.9))
    again = schema.config_from_json(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.n_outputs == 36


def test_configs_of_older_releases_keep_their_behaviour():
    """A model saved before --blend forecast with the LSTM alone; before --baseline, its blend was
    with seasonal naive; before covariates, it had none; before --refit-start, its refit trained a
    new network; before --patch, it read its windows step by step; before --refit-average, its
    refit ended on the last batch's weights."""
    old = schema.config_from_json({"horizon": 4})
    assert (old.blend, old.baseline, old.past_covariates, old.refit_start) == (1.0, "snaive", (), "new")
    assert old.patch == 1 and old.refit_average == 0.0
    assert schema.config_from_json({"horizon": 4, "blend": 0.5}).baseline == "snaive"


def test_a_season_longer_than_the_data_allocates_nothing_for_it(trained_model, tmp_path):
    """A manifest edited to a season far longer than any history (10**12 steps) forecasts and
    checks as a model without a season: Theta and ETS sized arrays by the season (7 TiB) before
    finding that no history holds two of them (a MemoryError traceback)."""
    import shutil

    model_dir, data = trained_model
    edited = tmp_path / "model"
    shutil.copytree(model_dir, edited)
    doc = json.loads((edited / "manifest.json").read_text())
    doc["season"] = doc["config"]["season"] = 10**12
    (edited / "manifest.json").write_text(json.dumps(doc))
    runner = CliRunner()
    for command in (["predict", str(edited), str(data)],
                    ["detect", str(edited), str(data), "--output", str(tmp_path / "checked.csv")]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command[0], result.output, result.exception)
    assert "s2" in runner.invoke(app, ["predict", str(edited), str(data)]).stdout
