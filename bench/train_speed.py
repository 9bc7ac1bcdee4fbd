"""How fast `forecast train` trains, and how its cost grows with the number of series.

(a) Throughput: the windows per second of the tool's network fit (`model.fit` in
    forecast_cli/model.py: early stopping, the epoch callback, validation each epoch) against a
    plain Keras `model.fit` of the same network (built and compiled the same way) on the same
    arrays, `--epochs` epochs each, in one process, one after the other. The data: tourism
    monthly's training file, windowed as `train` windows it. The ratio is the figure; the times
    depend on the machine.
(b) Scale: `forecast train --horizon 24 --quiet`-like runs (defaults otherwise) on 100, 1,000,
    10,000 (and with `--series` 100,000) series of 150 to 300 monthly values, each a series of
    the shared tourism monthly, M3 and M4 sets resampled to that length and jittered (noise of
    2% of its level, a random level factor): wall time and peak memory of the whole process.
(c) Where the time goes, from the moments `train`'s progress lines reach stderr (not --quiet,
    not a terminal: one line each): reading and checking the data (to "Detected"), windowing
    (to "Training on"), fitting the network (to the last epoch line before "Refitting"), the
    refit (to "Fitting the ETS baseline"), and the rest: the final model's ETS fits and writing
    the model directory.

(d) With `--fit-options EPOCHS` only: the plain fit's throughput under each fit setting (XLA,
    steps per execution, an unrolled LSTM, larger batches), `fit_options`.
(e) With `--fit-threads EPOCHS` only: the same under TensorFlow's thread settings and with two
    replicas of the network on the two cores, a process each, `fit_threads`.

Usage:
    python bench/train_speed.py [--throughput-epochs 3] [--series 100,1000,10000] [--label train-speed]
    python bench/train_speed.py --fit-options 3 --label fit-options
    python bench/train_speed.py --fit-threads 3 --label fit-threads
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from frozen import freeze

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "datasets"
FORECAST = str(Path(sys.executable).with_name("forecast"))
SOURCES = ("tourism-monthly", "m3-quarterly", "m3-other", "m4-weekly")


def throughput(epochs: int) -> dict:
    """(a): windows a second of the tool's fit and of a plain model.fit, same network and arrays."""
    from forecast_cli import model as lstm

    config, ws = tourism_windows()
    config = dataclasses.replace(config, epochs=epochs, patience=epochs + 1)  # every epoch runs
    keras = lstm.keras_module()
    lstm.fit(config, ws.x_train[:512], ws.y_train[:512], ws.x_val, ws.y_val, epochs=1)  # warm up TensorFlow
    started = time.monotonic()
    lstm.fit(config, ws.x_train, ws.y_train, ws.x_val, ws.y_val)
    tool = time.monotonic() - started
    lstm.seed_everything(config.seed)
    plain_model = lstm.build_model(config)
    plain_model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate), loss=lstm._loss(config))
    started = time.monotonic()
    plain_model.fit(ws.x_train, ws.y_train, epochs=epochs, batch_size=config.batch_size, shuffle=True, verbose=0)
    plain = time.monotonic() - started
    n = len(ws.x_train) * epochs
    return {"windows": len(ws.x_train), "epochs": epochs, "batch_size": config.batch_size,
            "lookback": config.lookback, "tool_windows_per_s": round(n / tool), "plain_windows_per_s": round(n / plain),
            "ratio": round(plain / tool, 3)}


def tourism_windows():
    """Tourism monthly's training file windowed as `train` windows it: the resolved config (batch
    size included) and the `WindowSet`."""
    from forecast_cli.config import TrainConfig, default_batch_size, resolve_config
    from forecast_cli.data import load_series, series_arrays
    from forecast_cli.windows import make_windows

    dataset = load_series(DATA / "tourism-monthly" / "train.csv")
    series = series_arrays(dataset.frame)
    config = resolve_config(TrainConfig(horizon=24), series, dataset.seasons, dataset.source)
    ws = make_windows(series, config.lookback, config.horizon, config.val_windows, config.max_windows,
                      config.window_norm, config.season, log=config.transform == "log", scaling=config.scaling)
    return dataclasses.replace(config, batch_size=default_batch_size(len(ws.x_train))), ws


def plain_network(keras, config, unroll: bool = False):
    """The tool's network (one LSTM layer, a dense output), built without the tool's code."""
    inputs = keras.Input(shape=(config.input_steps, config.n_features))
    hidden = keras.layers.LSTM(config.units, unroll=unroll)(inputs)
    return keras.Model(inputs, keras.layers.Dense(config.n_outputs)(hidden))


def timed_fit(model, ws, epochs: int, batch: int) -> dict:
    """A warm-up fit (tracing, compiling), then `epochs` timed epochs: windows a second, last loss."""
    model.fit(ws.x_train[:4096], ws.y_train[:4096], epochs=1, batch_size=batch, verbose=0)
    started = time.monotonic()
    history = model.fit(ws.x_train, ws.y_train, epochs=epochs, batch_size=batch, shuffle=True, verbose=0)
    seconds = time.monotonic() - started
    return {"batch_size": batch, "windows_per_s": round(len(ws.x_train) * epochs / seconds),
            "last_loss": round(float(history.history["loss"][-1]), 4)}


def fit_options(epochs: int) -> list[dict]:
    """(d): windows a second of a plain `model.fit` of the tool's network on tourism monthly's
    windows under each fit setting that leaves the arithmetic as it is (XLA, several steps per
    call, the LSTM unrolled over its 24 steps) and under larger batches (which change training,
    so they would need the accuracy suite too); the same seed each time."""
    from forecast_cli import model as lstm

    config, ws = tourism_windows()
    keras = lstm.keras_module()

    variants = {
        "as the tool fits": {},
        "jit_compile (XLA)": {"jit_compile": True},
        "steps_per_execution 16": {"steps_per_execution": 16},
        "unrolled LSTM": {"unroll": True},
        "XLA + unrolled": {"jit_compile": True, "unroll": True},
        "batch 512": {"batch_size": 512},
        "batch 1024": {"batch_size": 1024},
    }
    rows = []
    for name, options in variants.items():
        options = dict(options)
        batch = options.pop("batch_size", config.batch_size)
        lstm.seed_everything(config.seed)
        model = plain_network(keras, config, options.pop("unroll", False))
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate), loss=lstm._loss(config),
                      **options)
        rows.append({"variant": name, **timed_fit(model, ws, epochs, batch)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


# (e) TensorFlow's thread pools and devices are fixed when it starts: one process a setting.
THREAD_SETTINGS = {
    "TensorFlow's default threads": {},
    "1 intra-op, 1 inter-op thread": {"intra": 1, "inter": 1},
    "2 intra-op, 2 inter-op threads": {"intra": 2, "inter": 2},
    # Two logical CPU devices, each computing half of every batch (the same mean gradient). One
    # step per call: Keras 3.15's multi-step loop failed under MirroredStrategy ("You must feed a
    # value for placeholder tensor").
    "2 replicas (MirroredStrategy), 1 step per call": {"replicas": 2, "steps": 1},
}


def fit_threads(epochs: int) -> list[dict]:
    """(e): the plain fit (16 steps per call, as the tool) under each thread setting, each in a
    process of its own."""
    rows = []
    for name, setting in THREAD_SETTINGS.items():
        spec = json.dumps({"epochs": epochs, **setting})
        done = subprocess.run([sys.executable, __file__, "--fit-threads-child", spec],
                              capture_output=True, text=True, check=True)
        rows.append({"variant": name, **json.loads(done.stdout.strip().splitlines()[-1])})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def fit_threads_child(spec: dict) -> None:
    """One setting of (e), in a fresh process; prints its row as JSON."""
    from forecast_cli import model as lstm

    keras = lstm.keras_module()
    import tensorflow as tf

    if spec.get("intra"):
        tf.config.threading.set_intra_op_parallelism_threads(spec["intra"])
        tf.config.threading.set_inter_op_parallelism_threads(spec["inter"])
    scope = contextlib.nullcontext()
    if spec.get("replicas"):
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * spec["replicas"])
        scope = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(spec["replicas"])]).scope()
    config, ws = tourism_windows()
    keras.utils.set_random_seed(config.seed)
    with scope:
        model = plain_network(keras, config)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate), loss=lstm._loss(config),
                      steps_per_execution=spec.get("steps", lstm.STEPS_PER_EXECUTION))
    print(json.dumps(timed_fit(model, ws, spec["epochs"], config.batch_size)), flush=True)


def make_series(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """`n` monthly series of 150 to 300 values, each a shared-dataset series stretched or shrunk
    to that length (linear interpolation), scaled by a random level and jittered by 2% noise."""
    pool = []
    for name in SOURCES:
        frame = pd.read_csv(DATA / name / "train.csv")
        pool += [g["y"].to_numpy(dtype=float) for _, g in frame.groupby("unique_id", sort=False) if len(g) >= 24]
    lengths = rng.integers(150, 301, n)
    ids, times, values = [], [], []
    for k in range(n):
        source = pool[rng.integers(len(pool))]
        length = int(lengths[k])
        stretched = np.interp(np.linspace(0, len(source) - 1, length), np.arange(len(source)), source)
        level = rng.lognormal(0, 0.5)
        y = np.maximum(0.0, stretched * level * (1 + rng.normal(0, 0.02, length)))
        ids.append(np.full(length, f"s{k:06d}"))
        times.append(pd.date_range(end="2025-12-01", periods=length, freq="MS").strftime("%Y-%m-%d"))
        values.append(np.round(y, 3))
    return pd.DataFrame({"unique_id": np.concatenate(ids), "ds": np.concatenate(times), "y": np.concatenate(values)})


def watch(proc: subprocess.Popen, peak: list[int], stop: threading.Event) -> None:
    import psutil

    root = psutil.Process(proc.pid)
    while not stop.is_set():
        try:
            rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            peak[0] = max(peak[0], rss)
        except psutil.NoSuchProcess:
            return
        time.sleep(0.2)


# (stage, the progress line that ends it): the line "Refitting" follows the fit, and so on.
STAGES = (("read", "Detected"), ("windows", "Training on"), ("fit", "Refitting"), ("refit", "Fitting the ETS"))


def scale(n: int, base: Path, code: Path) -> dict:
    """(b) and (c) for `n` series."""
    data = base / f"series-{n}.csv"
    if not data.exists():
        make_series(n, np.random.default_rng(n)).to_csv(data, index=False)
    cmd = [FORECAST, "train", str(data), "--horizon", "24", "--out", str(base / f"model-{n}")]
    peak, stop = [0], threading.Event()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=code, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    watcher = threading.Thread(target=watch, args=(proc, peak, stop))
    watcher.start()
    seen: dict[str, float] = {}
    windows = None
    for line in proc.stderr:  # each progress line, timed as it arrives
        for _, marker in STAGES:
            if line.startswith(marker) and marker not in seen:
                seen[marker] = time.monotonic() - started
        found = re.match(r"Training on (\d+) windows", line)
        windows = int(found.group(1)) if found and windows is None else windows
    proc.wait()
    total = time.monotonic() - started
    stop.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"train on {n} series failed with exit {proc.returncode}")
    # Each stage runs from the line before it to its own line (a stage a run skips, such as the
    # ETS fits of a model that ships the LSTM alone, is left out); the rest runs to the exit.
    ends = [(name, seen[marker]) for name, marker in STAGES if marker in seen] + [("rest", total)]
    stages, before = {}, 0.0
    for name, at in ends:
        stages[name], before = round(at - before, 1), at
    metrics = json.loads((base / f"model-{n}" / "metrics.json").read_text())
    return {"series": n, "seconds": round(total, 1), "peak_gb": round(peak[0] / 2**30, 2), "stages_s": stages,
            "train_windows": windows, "choice": metrics.get("choice", {}).get("shipped")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--throughput-epochs", type=int, default=3)
    parser.add_argument("--series", default="100,1000,10000")
    parser.add_argument("--label", default="train-speed")
    parser.add_argument("--fit-options", type=int, default=0, help="(d) only: epochs per fit setting")
    parser.add_argument("--fit-threads", type=int, default=0, help="(e) only: epochs per thread setting")
    parser.add_argument("--fit-threads-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_threads_child:  # a process started by --fit-threads, the code already frozen
        fit_threads_child(json.loads(args.fit_threads_child))
        return
    base = ROOT / "bench" / "runs" / args.label
    base.mkdir(parents=True, exist_ok=True)
    code = freeze(base)
    results = {}
    if args.fit_options:
        results["fit_options"] = fit_options(args.fit_options)
        (base / "fit-options.json").write_text(json.dumps(results, indent=2))
        return
    if args.fit_threads:
        results["fit_threads"] = fit_threads(args.fit_threads)
        (base / "fit-threads.json").write_text(json.dumps(results, indent=2))
        return
    if args.throughput_epochs:
        results["throughput"] = throughput(args.throughput_epochs)
        print(json.dumps(results["throughput"]), flush=True)
    results["scale"] = []
    for n in [int(s) for s in args.series.split(",") if s]:
        results["scale"].append(scale(n, base, code))
        print(json.dumps(results["scale"][-1]), flush=True)
    (base / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
