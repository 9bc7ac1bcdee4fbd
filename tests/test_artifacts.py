"""artifacts.py: atomic writes and manifest validation."""

from __future__ import annotations

import json
import os

import pytest

from forecast_cli import artifacts
from forecast_cli.errors import ModelDirError, OutputError


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f.csv"
    artifacts.atomic_write_text(target, "old\n")
    artifacts.atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["f.csv"]


def test_atomic_write_into_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        artifacts.atomic_write_text(tmp_path / "nope" / "f.csv", "x")


def test_staged_directory_keeps_the_old_one_on_failure(tmp_path):
    final = tmp_path / "model"
    final.mkdir()
    (final / "manifest.json").write_text("old")
    with pytest.raises(RuntimeError):
        with artifacts.staged_directory(final) as tmp:
            (tmp / "manifest.json").write_text("new")
            raise RuntimeError("boom")
    assert (final / "manifest.json").read_text() == "old"
    assert os.listdir(tmp_path) == ["model"]
    with artifacts.staged_directory(final) as tmp:
        (tmp / "manifest.json").write_text("new")
    assert (final / "manifest.json").read_text() == "new" and os.listdir(tmp_path) == ["model"]


def test_stale_temp_of_a_dead_process_is_removed(tmp_path):
    stale = tmp_path / ".model.tmp-999999999-abcd"
    stale.mkdir()
    artifacts.remove_stale_temps(tmp_path / "model")
    assert not stale.exists()


def test_manifest_of_trained_model_parses(trained_model):
    model_dir, _ = trained_model
    manifest = artifacts.read_manifest(model_dir)
    assert manifest.config.lookback == 8 and set(manifest.series) == {"s0", "s1", "s2"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format_version=99), "format version 99 is newer"),
        (lambda d: d.update(format_version="1"), "key 'format_version' should be int, got str"),
        (lambda d: d["config"].update(lookback="8"), "training config is not valid"),
        (lambda d: d.pop("series"), "required key 'series' is missing"),
        (lambda d: d["series"]["s0"].update(scale=0.0), "scale finite and above 0"),
        (lambda d: d.update(freq="every tuesday"), "is not a pandas frequency"),
        (lambda d: d["columns"].update(all_columns=[1, 2]), "list of strings"),
    ],
)
def test_bad_manifests_are_refused(trained_model, change, message):
    model_dir, _ = trained_model
    doc = json.loads((model_dir / "manifest.json").read_text())
    change(doc)
    with pytest.raises(ModelDirError, match=message):
        artifacts.parse_manifest(doc, "manifest.json")
