"""Running a saved network: ONNX Runtime (no TensorFlow import) or Keras, behind one interface; the checked ONNX export."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from forecast_cli.errors import ModelDirError, UsageError
from forecast_cli.manifest import KERAS_FILE, ONNX_FILE, Manifest, read_manifest, verified_bytes
from forecast_cli.output import Reporter, counted

ENGINES = ("auto", "onnx", "keras")
ONNX_BATCH = 2048  # windows per ONNX Runtime run (see OnnxNetwork.predict)


class Network(Protocol):
    name: str

    def predict(self, inputs: np.ndarray) -> np.ndarray: ...


class OnnxNetwork:
    """The network as `model.onnx`, run by ONNX Runtime on the CPU."""

    name = "onnx"

    def __init__(self, path: Path, data: bytes | None = None) -> None:
        """The network of `path`, or of `data`, its bytes already read (`path` then names it)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1  # one thread: the same sums in the same order every run
        try:
            self.session = ort.InferenceSession(str(path) if data is None else data, options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own types for a damaged file
            raise ModelDirError(
                f"{path} cannot be loaded by ONNX Runtime ({str(exc).splitlines()[0][:200]}). "
                "It is damaged; retrain, or use --engine keras."
            ) from None
        self.input_name = self.session.get_inputs()[0].name

    @property
    def io_shapes(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return tuple(self.session.get_inputs()[0].shape), tuple(self.session.get_outputs()[0].shape)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """The network's outputs, ONNX_BATCH rows per run: ONNX Runtime's LSTM holds every gate of
        every step of a run at once (a run of 25,000 windows of 48 steps took 1.6 GB), so the
        memory stays that of one batch however many series a file has. Each row's result does
        not depend on the batch it is in."""
        if len(inputs) == 0:
            return np.zeros((0, self.io_shapes[1][-1]), dtype="float32")
        inputs = inputs.astype("float32")
        outputs = [self.session.run(None, {self.input_name: inputs[start:start + ONNX_BATCH]})[0]
                   for start in range(0, len(inputs), ONNX_BATCH)]
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)


class KerasNetwork:
    """The network as `model.keras`, loaded in safe mode (imports TensorFlow)."""

    name = "keras"

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        from forecast_cli import model as lstm

        return lstm.predict(self.model, inputs)


def load_keras(model_dir: Path, manifest: Manifest, data: bytes | None = None) -> KerasNetwork:
    """Load `model.keras` in safe mode, from the bytes checked against the manifest (`data`, or
    read now), and check it matches the manifest."""
    import tempfile

    from forecast_cli import model as lstm

    path = model_dir / KERAS_FILE
    data = verified_bytes(model_dir, manifest, KERAS_FILE) if data is None else data
    with contextlib.ExitStack() as stack:
        try:  # Keras loads from a file: a private copy of the bytes checked
            checked = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forecast-keras-"))) / KERAS_FILE
            checked.write_bytes(data)
        except OSError:  # no room for the copy: the file itself, checked again once loaded
            checked = path
        try:
            network = lstm.load(checked)
        except Exception as exc:  # Keras raises many kinds for a damaged or unsafe file
            reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            raise ModelDirError(
                f"{path} cannot be loaded safely ({reason.replace(str(checked), str(path))}). It is damaged, or holds "
                "code (such as a Lambda layer) that forecast refuses to run. Retrain the model with `forecast train`."
            ) from None
        if checked == path and verified_bytes(model_dir, manifest, KERAS_FILE) != data:
            raise ModelDirError(f"{path} changed while it was read: run again.")
    cfg = manifest.config
    expected_in, expected_out = (None, cfg.input_steps, cfg.n_features), (None, cfg.n_outputs)
    if tuple(network.input_shape) != expected_in or tuple(network.output_shape) != expected_out:
        raise ModelDirError(
            f"{path} reads {network.input_shape} and writes {network.output_shape}, but the manifest "
            f"says {cfg.input_steps} steps of {cfg.n_features} features and {cfg.n_outputs} outputs. Retrain the model."
        )
    return KerasNetwork(network)


def load_onnx(model_dir: Path, manifest: Manifest, data: bytes | None = None) -> OnnxNetwork:
    """Load `model.onnx` from the bytes checked against the manifest (`data`, or read now), and
    check it matches the manifest."""
    path = model_dir / ONNX_FILE
    network = OnnxNetwork(path, verified_bytes(model_dir, manifest, ONNX_FILE) if data is None else data)
    (_, lookback, features), (_, horizon) = network.io_shapes
    cfg = manifest.config
    if (lookback, features, horizon) != (cfg.input_steps, cfg.n_features, cfg.n_outputs):
        raise ModelDirError(
            f"{path} reads {lookback} steps of {features} features and writes {horizon} values, but the "
            f"manifest says {cfg.input_steps} steps of {cfg.n_features} and {cfg.n_outputs} outputs. Retrain the model."
        )
    return network


def has_onnx(model_dir: Path, manifest: Manifest) -> bool:
    return bool(manifest.onnx and manifest.onnx.get("file")) and (model_dir / ONNX_FILE).is_file()


def load_network(model_dir: Path, manifest: Manifest, engine: str = "auto") -> Network:
    """The network to run: ONNX when asked for or, with `auto`, when the model has a checked
    `model.onnx`; Keras otherwise.

    Example:
        >>> from forecast_cli.manifest import read_manifest
        >>> network = load_network(Path("model"), read_manifest("model"), "auto")
        >>> network.io_shapes[1][1]  # (windows, horizon)
        12
    """
    if engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}. Received: engine={engine!r}.")
    # A damaged file is refused whichever engine runs; the network is loaded from the bytes checked.
    files = {name: verified_bytes(model_dir, manifest, name) for name in manifest.files}
    if engine == "onnx" or (engine == "auto" and has_onnx(model_dir, manifest)):
        if not has_onnx(model_dir, manifest):
            reason = (manifest.onnx or {}).get("reason", "it was not exported")
            raise ModelDirError(
                f"{model_dir} has no usable {ONNX_FILE} ({reason}). Use --engine keras or auto."
            )
        return load_onnx(model_dir, manifest, files.get(ONNX_FILE))
    return load_keras(model_dir, manifest, files.get(KERAS_FILE))


def load_model(model_dir: Path, engine: str = "auto", attempts: int = 3) -> tuple[Manifest, Network]:
    """A model directory's manifest and network, read as one model. Each file is loaded from the
    bytes matched against the manifest's digests, so a directory that `train` replaces meanwhile
    (a nightly `predict` that overlaps a retraining) gives the old model or the new one, never the
    one's network with the other's scalings. A file that fails its digest because the whole
    directory was replaced after the manifest was read is read again from the new manifest.

    Example:
        >>> manifest, network = load_model(Path("model"))
        >>> manifest.config.horizon, network.name
        (12, 'onnx')
    """
    for attempt in range(1, attempts + 1):
        manifest = read_manifest(model_dir)
        try:
            return manifest, load_network(model_dir, manifest, engine)
        except ModelDirError:
            if attempt == attempts or not _replaced(model_dir, manifest):
                raise
    raise AssertionError("unreachable")


def _replaced(model_dir: Path, manifest: Manifest) -> bool:
    """Whether `model_dir` now holds another model than `manifest` describes."""
    try:
        now = read_manifest(model_dir)
    except ModelDirError:
        return False
    return now.identity != manifest.identity


ONNX_TOLERANCE = 1e-4  # largest |ONNX - Keras| output accepted, on the network's scaled outputs


def export_checked(network: Any, folder: Path, x_check: np.ndarray, reporter: Reporter) -> dict[str, Any]:
    """Write model.onnx into `folder` and check it against Keras on the validation windows; drop
    it if they differ (predict then uses Keras). Returns the manifest's `onnx` entry."""
    from forecast_cli import model as lstm

    path = folder / ONNX_FILE
    try:
        expected = lstm.predict(network, x_check)  # also builds a network never called yet
        lstm.export_onnx(network, path)
        diff = float(np.max(np.abs(OnnxNetwork(path).predict(x_check) - expected)))
    except Exception as exc:  # the exporter's failures are many; training still succeeds
        path.unlink(missing_ok=True)
        reason = f"export failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        reporter.warn(f"no model.onnx written ({reason}); predict will use Keras.")
        return {"file": None, "reason": reason}
    if not diff <= ONNX_TOLERANCE:
        path.unlink(missing_ok=True)
        reason = f"ONNX and Keras outputs differ by up to {diff:.3g} (tolerance {ONNX_TOLERANCE})"
        reporter.warn(f"no model.onnx written: {reason}; predict will use Keras.")
        return {"file": None, "reason": reason, "max_abs_diff": diff}
    reporter.info(f"Exported model.onnx (largest difference from Keras {diff:.2g} on {counted(len(x_check), 'window')})")
    return {"file": ONNX_FILE, "max_abs_diff": diff, "checked_windows": int(len(x_check)),
            "tolerance": ONNX_TOLERANCE}
