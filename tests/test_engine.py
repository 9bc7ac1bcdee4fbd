"""engine.py: ONNX and Keras give the same forecasts, and ONNX predict never imports TensorFlow."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.errors import ExitCode
from forecast_cli.manifest import read_manifest
from tests.conftest import ROOT

runner = CliRunner()


def _predict(model_dir, data, engine):
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--engine", engine])
    assert result.exit_code == 0, result.output
    return pd.read_csv(pd.io.common.StringIO(result.stdout))


def test_onnx_was_checked_at_train_time(trained_model):
    model_dir, _ = trained_model
    onnx = json.loads((model_dir / "manifest.json").read_text())["onnx"]
    assert onnx["file"] == "model.onnx" and 0 <= onnx["max_abs_diff"] <= onnx["tolerance"]


def test_both_engines_agree_to_float32_round_off(trained_model):
    model_dir, data = trained_model
    a, b = _predict(model_dir, data, "onnx"), _predict(model_dir, data, "keras")
    assert a[["unique_id", "ds"]].equals(b[["unique_id", "ds"]])
    np.testing.assert_allclose(a["yhat"], b["yhat"], rtol=1e-5)


def test_onnx_runs_in_batches_and_each_row_is_the_same_in_any_batch(trained_model, monkeypatch):
    """ONNX Runtime holds a whole run's LSTM gates at once, so predict runs it in batches; the
    forecast must not depend on how the rows fall into them (predict on a cluster relies on it)."""
    from forecast_cli import engine

    model_dir, data = trained_model
    whole = _predict(model_dir, data, "onnx")
    network = engine.load_onnx(model_dir, read_manifest(model_dir))
    inputs = np.random.default_rng(0).normal(size=(7, *network.io_shapes[0][1:])).astype("float32")
    monkeypatch.setattr(engine, "ONNX_BATCH", 3)
    assert np.array_equal(network.predict(inputs), np.concatenate([network.predict(row[None]) for row in inputs]))
    assert _predict(model_dir, data, "onnx").equals(whole)


def _run(code: str) -> str:
    """Run Python code in a fresh process (to see what it imports); slow: marked so."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_onnx_predict_never_imports_tensorflow(trained_model, tmp_path):
    model_dir, data = trained_model
    out = tmp_path / "f.csv"
    loaded = _run(
        "import sys\n"
        "from forecast_cli.cli import app\n"
        f"try:\n    app(['predict', {str(model_dir)!r}, {str(data)!r}, '--output', {str(out)!r}, '--quiet'])\n"
        "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'onnxruntime') if m in sys.modules))\n"
    )
    assert loaded.strip() == "['onnxruntime']"
    assert len(pd.read_csv(out)) == 12


@pytest.mark.slow
@pytest.mark.parametrize("command", [[], ["train"], ["predict"], ["backtest"], ["evaluate"], ["doctor"]])
def test_help_imports_neither_tensorflow_nor_onnxruntime(command):
    loaded = _run(
        "import sys\n"
        "from forecast_cli.cli import app\n"
        f"try:\n    app({[*command, '--help']!r})\n"
        "except SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras', 'onnxruntime', 'pandas') if m in sys.modules))\n"
    )
    assert "HEAVY []" in loaded


def test_engine_onnx_without_onnx_file_is_a_model_error(trained_model, tmp_path):
    import shutil

    model_dir, data = trained_model
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    (copy / "model.onnx").unlink()
    result = runner.invoke(app, ["predict", str(copy), str(data)])
    assert result.exit_code == ExitCode.MODEL and "no model.onnx recorded" not in result.stderr
    assert "model.onnx" in result.stderr  # a recorded file that is gone: the directory is damaged
    # a model whose export was not kept (as train does when the check fails)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["onnx"] = {"file": None, "reason": "export failed: test"}
    del manifest["files"]["model.onnx"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["predict", str(copy), str(data), "--engine", "onnx"])
    assert result.exit_code == ExitCode.MODEL and "no usable model.onnx (export failed: test)" in result.stderr
    result = runner.invoke(app, ["predict", str(copy), str(data), "--engine", "auto"])
    assert result.exit_code == 0  # auto falls back to Keras


def test_a_network_reading_patches_runs_the_same_in_both_engines(tmp_path):
    """--patch 4 on windows of 10 steps: the oldest 2 are dropped, the LSTM runs over 2 patches
    of 4; ONNX and Keras agree, and inspect says how the window is read."""
    from tests.conftest import TINY, make_long

    data = tmp_path / "long.csv"
    make_long(3, 48).to_csv(data, index=False)
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(out), *TINY,
                                 "--lookback", "10", "--patch", "4"])
    assert result.exit_code == 0, result.output
    assert "lookback 10, read in patches of 4" in result.stderr
    manifest = read_manifest(out)
    assert (manifest.config.lookback, manifest.config.patch) == (10, 4)
    keras_config = json.loads(zipfile.ZipFile(out / "model.keras").read("config.json"))
    layers = [layer["config"]["name"] for layer in keras_config["config"]["layers"]]
    assert "align_patches" in layers and "patches" in layers
    a, b = _predict(out, data, "onnx"), _predict(out, data, "keras")
    np.testing.assert_allclose(a["yhat"], b["yhat"], rtol=1e-5)
    assert "read in patches of 4" in runner.invoke(app, ["inspect", str(out)]).stderr
    bad = runner.invoke(app, ["train", str(data), "--horizon", "4", "--patch", "0"])
    assert bad.exit_code == ExitCode.USAGE and "--patch must be a whole number of at least 1" in bad.stderr
    long = runner.invoke(app, ["train", str(data), "--horizon", "4", "--lookback", "8", "--patch", "9"])
    assert long.exit_code == ExitCode.USAGE and "Give --patch 8 or less" in long.stderr


def test_the_default_reads_short_windows_step_by_step(trained_model):
    model_dir, _ = trained_model  # windows of 8 steps: too short for six patches
    assert read_manifest(model_dir).config.patch == 1


@pytest.mark.parametrize("lookback, patch", [(48, 8), (24, 4)])
def test_the_default_patch_follows_the_window(tmp_path, lookback, patch):
    """With no --patch, train reads the window in the longest patch of 8 or 4 steps that it
    holds six of, however little data there is (here one series of 144 months)."""
    data = ROOT / "sample_data" / "airpassengers.csv"
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--lookback", str(lookback), "--epochs", "1",
                                 "--units", "8", "--no-refit", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert read_manifest(out).config.patch == patch
    assert f"lookback {lookback}, read in patches of {patch}" in result.stderr
    forecast = runner.invoke(app, ["predict", str(out), str(data)])
    assert forecast.exit_code == 0 and len(pd.read_csv(io.StringIO(forecast.stdout))) == 4


@pytest.mark.parametrize("engine_name", ["onnx", "keras"])
def test_a_model_directory_replaced_while_it_loads_gives_one_model_never_a_mix(trained_model, tmp_path, monkeypatch,
                                                                               engine_name):
    """A nightly predict that overlaps a retraining: `train` swaps the model directory whole, and
    predict must forecast with the old model or the new one, never the one's network with the
    other's scalings, and not fail as if the files were damaged."""
    from forecast_cli import engine
    from forecast_cli.pipeline import Predictor
    from tests.conftest import TINY

    _, data = trained_model
    old, new = tmp_path / "model", tmp_path / "new"
    for path, seed in ((old, "42"), (new, "7")):  # the network alone, so that the two forecasts differ
        result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(path), *TINY, "--seed", seed,
                                     "--blend", "1"])
        assert result.exit_code == 0, result.output
    expected = {name: Predictor(path, engine_name).forecast(data) for name, path in (("old", old), ("new", new))}
    assert not expected["old"]["yhat"].equals(expected["new"]["yhat"])

    def swap() -> None:  # what `train` does with the directory it wrote: the two exchanged in one step
        spare = tmp_path / "spare"
        old.rename(spare)
        new.rename(old)
        spare.rename(new)

    # The swap right after the manifest is read: its digests no longer match; the new model is read.
    read_manifest_once = engine.read_manifest
    calls = []

    def read_then_swap(folder):
        manifest = read_manifest_once(folder)
        calls.append(folder)
        if len(calls) == 1:
            swap()
        return manifest

    monkeypatch.setattr(engine, "read_manifest", read_then_swap)
    assert Predictor(old, engine_name).forecast(data).equals(expected["new"])
    monkeypatch.undo()
    swap()  # back as they were

    # The swap right after the files were read and checked: the network is the checked bytes'.
    read_once = engine.verified_bytes
    read = []

    def verified_then_swap(folder, manifest, name):
        data_bytes = read_once(folder, manifest, name)
        read.append(name)
        if len(read) == len(manifest.files):
            swap()
        return data_bytes

    monkeypatch.setattr(engine, "verified_bytes", verified_then_swap)
    assert Predictor(old, engine_name).forecast(data).equals(expected["old"])


def test_keras_loads_its_checked_bytes_even_with_no_room_for_a_copy(trained_model, monkeypatch):
    """The Keras engine loads a private copy of the bytes checked against the manifest; where the
    temporary folder cannot take it (a full /tmp), it loads the file itself and checks it again."""
    import errno
    import tempfile

    model_dir, data = trained_model
    expected = _predict(model_dir, data, "keras")

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", full)
    assert _predict(model_dir, data, "keras").equals(expected)
