"""The Keras LSTM: build, fit, save and load (the only module that imports TensorFlow)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from forecast_cli.config import TrainConfig

STEPS_PER_EXECUTION = 16  # training batches run per call into TensorFlow
EpochHook = Callable[[int, int, dict[str, float], float], None]


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the C++ log lines TensorFlow writes to stderr while it loads."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def deferred_interrupts(on_signal: Callable[[], None] = lambda: None):
    """Hold Ctrl-C (SIGINT) and SIGTERM while TensorFlow runs, then raise KeyboardInterrupt here.

    A KeyboardInterrupt raised from inside Keras's training loop crashed the process (SIGSEGV,
    about one interrupted run in eight, before any message). Here a signal only calls
    `on_signal` (which asks the loop to stop after the current batch) and the interrupt is
    raised once TensorFlow has returned. Outside the main thread signals cannot be handled, so
    nothing changes there.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum, frame):
        received.append(signum)
        on_signal()

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt


def keras_module():
    """Import Keras (and TensorFlow) on first use, with TensorFlow's own logging silenced and one
    thread within and between its ops.

    One thread: the same sums in the same order whatever cores the process is given, so that
    training under `taskset`, in a container's CPU set or on a machine of another core count
    gives the same network and forecasts (with TensorFlow's default of a thread a core, a made
    monthly set's third epoch differed in the loss's eighth digit between one core and two, and
    after 60 epochs the forecast). The network's matrices are too small for more threads to help:
    one thread trained faster than a thread a core on two cores (bench/RESULTS.md, "One
    TensorFlow thread"). TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS set in the environment
    are kept."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _quiet_stderr():
        import tensorflow as tf  # noqa: F401  (the backend)
        import keras
    tf.get_logger().setLevel("ERROR")
    return keras


def build_model(config: TrainConfig) -> Any:
    """An LSTM stack reading (input_steps, n_features) windows and a dense layer writing the
    horizon's values (times the quantile levels, if any). With `config.patch` above 1 the window
    is read in patches of that many steps, aligned to its end (the oldest remainder dropped):
    a dense map of each patch (a strided convolution), then the LSTM over the patches.

    Example:
        >>> model = build_model(TrainConfig(horizon=12, lookback=24))
    """
    keras = keras_module()
    inputs = keras.Input(shape=(config.input_steps, config.n_features), name="window")
    x = inputs
    patch = config.patch or 1
    if patch > 1:
        extra = config.input_steps % patch
        if extra:
            x = keras.layers.Cropping1D((extra, 0), name="align_patches")(x)
        x = keras.layers.Conv1D(config.units, patch, strides=patch, name="patches")(x)
    for layer in range(config.layers):
        last = layer == config.layers - 1
        x = keras.layers.LSTM(config.units, return_sequences=not last, name=f"lstm_{layer + 1}")(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, seed=config.seed + layer)(x)
    # With quantiles, the outputs are horizon x quantiles values, step-major (step 1's levels first).
    outputs = keras.layers.Dense(config.n_outputs, name="forecast")(x)
    return keras.Model(inputs, outputs, name=f"lstm_seed{config.seed}")


def average(models: list[Any]) -> Any:
    """One network averaging the outputs of several (an ensemble); a single model is returned as is."""
    if len(models) == 1:
        return models[0]
    keras = keras_module()
    members = []
    for model in models:  # uncompiled copies: a saved member carries no training (loss) settings
        member = keras.Model.from_config(model.get_config())
        member.set_weights(model.get_weights())
        members.append(member)
    inputs = keras.Input(shape=models[0].input_shape[1:], name="window")
    outputs = keras.layers.Average(name="ensemble_mean")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name="forecast_lstm_ensemble")


def _loss(config: TrainConfig):
    keras = keras_module()
    name = config.loss
    if name == "ape":
        return _relative_error
    if name == "pinball":
        return _pinball(config.quantiles, config.horizon)
    return {"mae": keras.losses.MeanAbsoluteError(), "mse": keras.losses.MeanSquaredError(),
            "huber": keras.losses.Huber(delta=1.0)}[name]


def _relative_error(y_true, y_pred):
    """A relative-error loss for outputs on a log scale with the mean taken off (scale 1), where
    d = ŷ − y is log(ŷ / y): half the absolute percentage error |ŷ/y − 1| = |exp(d) − 1| and half
    the absolute log error |d|. The log part keeps a gradient for forecasts far too low (where
    the percentage error stops growing at 100%); beyond d = 1 the exponential goes on as a
    straight line so that no single window's gradient explodes."""
    from keras import ops

    d = y_pred - y_true
    e = float(np.e)
    over = ops.where(d > 1.0, e * (d - 1.0) + (e - 1.0), ops.expm1(ops.minimum(d, 1.0)))
    return ops.mean(0.5 * ops.abs(d) + 0.5 * ops.abs(over), axis=-1)


def _pinball(levels: tuple[float, ...], horizon: int):
    """The pinball (quantile) loss averaged over steps and levels: for level q and error
    e = y − ŷ_q, max(q·e, (q − 1)·e). Its minimiser is the q-quantile of y."""
    from keras import ops

    q = np.asarray(levels, dtype="float32")

    def pinball(y_true, y_pred):
        pred = ops.reshape(y_pred, (-1, horizon, len(levels)))
        error = ops.expand_dims(y_true, -1) - pred
        return ops.mean(ops.maximum(q * error, (q - 1.0) * error), axis=(-2, -1))

    return pinball


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's ops deterministic.

    Keras draws each layer's starting weights' seed from Python's shared `random`, which other
    threads of this process draw from too: a Dask client's, gathering the parts' windows, did so
    while a network was built, and training on a cluster gave other weights run to run. Keras
    draws them from a generator of its own here, seeded as `random` is (the same draws, so the
    same network as before where nothing else drew)."""
    keras = keras_module()
    import tensorflow as tf
    from keras.src.random import seed_generator

    keras.utils.set_random_seed(seed)
    if hasattr(seed_generator, "python_random"):  # Keras 3.3 to 3.15 at least; a test says if it moves
        seed_generator.python_random = random.Random(seed)
    tf.config.experimental.enable_op_determinism()


def fit(
    config: TrainConfig,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    on_epoch: EpochHook | None = None,
    epochs: int | None = None,
    start: Any = None,
) -> tuple[Any, list[dict[str, float]]]:
    """Train a network (new, or from `start`) with Adam and early stopping on the validation loss
    (best weights kept).

    Args:
        config: the resolved training settings (lookback set).
        x_train, y_train, x_val, y_val: windows from `windows.make_windows`; with no validation
            windows (None), training runs for exactly `epochs` epochs.
        on_epoch: called after each epoch with (epoch, epochs, logs, seconds so far).
        epochs: epochs to run instead of `config.epochs`.
        start: a trained network of the same shape to go on from (a fresh optimiser), instead of
            new weights.

    Returns:
        The trained model and the per-epoch history (epoch, loss, val_loss).
    """
    keras = keras_module()
    seed_everything(config.seed)
    model = build_model(config)
    if start is not None:
        model.set_weights(start.get_weights())
    # Several batches per call into TensorFlow: the same arithmetic, less Python between batches
    # (tourism monthly's windows: 19,900 a second against 16,100, bench/RESULTS.md). Never more
    # than an epoch's batches, where some Keras releases returned no loss.
    steps = min(STEPS_PER_EXECUTION, max(1, -(-len(x_train) // config.batch_size)))
    # A refit (no validation windows) ends on a moving average of its weights (`refit_average`):
    # with a constant learning rate the last batch's weights jitter about where training has got
    # to, and their average sits nearer its middle (bench/RESULTS.md: the geometric mean of MASE
    # over the frequency suite 0.65% better on its holdouts, 0.4% on its test splits). The
    # validated run is not averaged: averaged there too, the better-scored network took more of
    # the blend and lost on a day-ahead holdout. Keras's `fit` puts the average in the model
    # when it ends.
    average = config.refit_average if x_val is None else 0.0
    optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate, use_ema=average > 0,
                                      ema_momentum=average or 0.99)
    model.compile(optimizer=optimizer, loss=_loss(config), steps_per_execution=steps)
    epochs = epochs or config.epochs
    history: list[dict[str, float]] = []
    started = time.monotonic()

    stopping: list[bool] = []

    class _Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if stopping:  # a signal while fit was setting up, before it reset stop_training
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if stopping:  # interrupted mid-epoch: not an epoch to report
                return
            logs = logs or {}
            row = {"epoch": epoch + 1, "loss": float(logs.get("loss", np.nan)),
                   "val_loss": float(logs.get("val_loss", np.nan))}
            history.append(row)
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, row, time.monotonic() - started)

    callbacks: list[Any] = [_Record()]
    validation = None
    if x_val is not None:
        validation = (x_val, y_val)
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.patience, restore_best_weights=True))
    if config.lr_schedule == "plateau":  # on the validation loss, or the training loss in a refit
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss" if x_val is not None else "loss", factor=0.5,
            patience=max(1, config.patience // 2), min_lr=config.learning_rate / 64))

    def stop() -> None:
        stopping.append(True)
        model.stop_training = True  # Keras checks it after every batch

    with deferred_interrupts(stop):
        model.fit(
            x_train, y_train, validation_data=validation, epochs=epochs,
            batch_size=config.batch_size, shuffle=True, callbacks=callbacks, verbose=0,
        )
    return model, history


def predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    """Run the network on windows (n, lookback, features) -> (n, horizon)."""
    if len(inputs) == 0:
        return np.zeros((0, model.output_shape[-1]), dtype="float32")
    with deferred_interrupts():
        return np.asarray(model.predict(inputs, batch_size=1024, verbose=0))


def save(model: Any, path: Path) -> None:
    model.save(path)


def load(path: Path) -> Any:
    """Load `model.keras` in safe mode: a file holding code (a Lambda layer) is refused."""
    keras = keras_module()
    return keras.saving.load_model(path, compile=False, safe_mode=True)


def export_onnx(model: Any, path: Path) -> None:
    """Write the network as ONNX with Keras's own exporter (tf2onnx underneath)."""
    import warnings

    keras_module()
    with warnings.catch_warnings(), _quiet_stderr():
        warnings.simplefilter("ignore")
        with deferred_interrupts():
            model.export(str(path), format="onnx", verbose=False)
