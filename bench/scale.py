"""predict over very many series from Parquet parts with `--workers 1` and `--workers 2`: wall
time, the speed-up, the driver's and each worker's peak memory, and whether the two outputs are
the same bytes.

The data is made here: hourly series (a daily cycle, a weekly swell, a level and noise drawn per
series), `--length` values each, written as `--parts` Parquet parts partitioned by series. A
small model (horizon 48, lookback 48, 2 epochs) is trained on 2,000 such series of 240 values; only
predict is measured. Memory is the peak resident set of each process, sampled every 0.2 s.

Targets: 1,000,000 series x 48 steps, `--workers 2` at least 1.6x faster than `--workers 1`,
no worker above 4 GB.

`--train N,M` measures instead `forecast train --horizon 24` from 20 Parquet parts of N monthly
series (150 to 300 values, as `bench/train_speed.py` makes them) with each `--workers` count (0:
without the cluster flags, the data read whole in the train process): wall time, the driver's
and each worker's peak memory. With the workers, the driver holds the window sample, not the
data.

`--fits N` measures instead train's per-series work on N series (150 to 300 values each): the ETS
fits and forecasts that `train --workers` spreads over the cluster (`baselines.forecasts` with
`cluster.spread`), on a LocalCluster of each worker count, with the same results checked;
with `--pool`, on a process pool of that many processes (`pool.local_mapper`, what `train` uses
without the cluster flags).

`--detect` measures instead `forecast detect` (defaults: the last 48 values checked, the band
from 20 calibration errors a series) on the same parts with each `--workers` count (0: without
the cluster flags, one process), and whether every output is the same bytes.

Usage:
    python bench/scale.py [--series 1000000] [--parts 40] [--length 72] [--workers 1,2] [--label scale]
    python bench/scale.py --detect --series 50000 --parts 10 --workers 0,1,2 [--label scale-detect]
    python bench/scale.py --fits 100000 [--workers 1,2] [--pool] [--label scale-fits]
    python bench/scale.py --train 10000,100000 --workers 0,2 [--label scale-train]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from frozen import freeze

ROOT = Path(__file__).resolve().parent.parent
FORECAST = str(Path(sys.executable).with_name("forecast"))
HORIZON = 48
TRAIN_PARTS = 20


def series_frame(rng: np.random.Generator, first: int, n: int, length: int) -> pd.DataFrame:
    """Hourly series s<first>, s<first + 1>, ... in long format."""
    t = np.arange(length)
    level = rng.lognormal(4, 1, n)[:, None]
    shape = 1 + 0.3 * np.sin(2 * np.pi * (t[None, :] + rng.integers(0, 24, n)[:, None]) / 24)
    swell = 1 + 0.1 * np.sin(2 * np.pi * t[None, :] / 168)
    y = level * shape * swell * (1 + rng.normal(0, 0.05, (n, length)))
    ids = np.array([f"s{i:07d}" for i in range(first, first + n)])
    times = pd.date_range("2024-01-01", periods=length, freq="h")
    return pd.DataFrame({"unique_id": np.repeat(ids, length), "ds": np.tile(times, n), "y": y.reshape(-1).round(3)})


def make_parts(folder: Path, n_series: int, parts: int, length: int) -> None:
    """`parts` Parquet files of hourly series, each series in one part."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    bounds = np.linspace(0, n_series, parts + 1).astype(int)
    for k in range(parts):
        frame = series_frame(rng, bounds[k], bounds[k + 1] - bounds[k], length)
        frame.to_parquet(folder / f"part-{k:05d}.parquet", index=False)


def watch(proc: subprocess.Popen, peaks: dict[int, int], stop: threading.Event) -> None:
    """Record the peak resident memory of `proc` and every process under it."""
    import psutil

    root = psutil.Process(proc.pid)
    while not stop.is_set():
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    peaks[p.pid] = max(peaks.get(p.pid, 0), p.memory_info().rss)
                except psutil.NoSuchProcess:
                    pass
        except psutil.NoSuchProcess:
            return
        time.sleep(0.2)


def measured(cmd: list[str], cwd: Path, workers: int) -> tuple[float, bytes, float, list[float]]:
    """Run `cmd`; its wall seconds, stdout, the driver's peak memory and the `workers` biggest of
    its children's (GB)."""
    peaks: dict[int, int] = {}
    stop = threading.Event()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE)
    watcher = threading.Thread(target=watch, args=(proc, peaks, stop))
    watcher.start()
    stdout, _ = proc.communicate()
    seconds = time.monotonic() - started
    stop.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[1:3])} --workers {workers} failed with exit {proc.returncode}")
    driver = peaks.pop(proc.pid)
    # The workers are the biggest of the driver's children (the others: Dask's small helper processes).
    workers_rss = sorted(peaks.values(), reverse=True)[:workers]
    return seconds, stdout, round(driver / 2**30, 2), [round(r / 2**30, 2) for r in workers_rss]


def predict(model: Path, parts: Path, out: Path, workers: int, cwd: Path) -> dict:
    cmd = [FORECAST, "predict", str(model), str(parts), "--output", str(out), "--workers", str(workers),
           "--json", "--quiet"]
    seconds, stdout, driver, workers_gb = measured(cmd, cwd, workers)
    summary = json.loads(stdout)
    return {"workers": workers, "seconds": round(seconds, 1), "series": summary["files"][0]["series"],
            "rows": summary["files"][0]["rows"], "driver_peak_gb": driver, "worker_peak_gb": workers_gb}


def detect(model: Path, parts: Path, out: Path, workers: int, cwd: Path) -> dict:
    cluster = ["--workers", str(workers)] if workers else []
    cmd = [FORECAST, "detect", str(model), str(parts), "--output", str(out), *cluster, "--json", "--quiet"]
    seconds, stdout, driver, workers_gb = measured(cmd, cwd, workers)
    summary = json.loads(stdout)
    return {"workers": workers, "seconds": round(seconds, 1), "series": summary["series"],
            "checked": summary["checked"], "anomalies": summary["anomalies"], "driver_peak_gb": driver,
            "worker_peak_gb": workers_gb}


def train(counts: list[int], worker_counts: list[int], base: Path, code: Path) -> None:
    """`forecast train --horizon 24` on Parquet parts of N monthly series (150 to 300 values,
    `train_speed.make_series`, 20 parts), with each worker count (0: no cluster flags, the data
    read in the train process): wall time, the driver's and the workers' peak memory."""
    from train_speed import make_series

    rows = []
    for n in counts:
        parts = base / f"train-parts-{n}"
        if not parts.exists():
            parts.mkdir(parents=True)
            frame = make_series(n, np.random.default_rng(n))
            ids = frame["unique_id"].unique()
            for k, chunk in enumerate(np.array_split(ids, TRAIN_PARTS)):
                frame[frame["unique_id"].isin(chunk)].to_parquet(parts / f"part-{k:03d}.parquet", index=False)
        for workers in worker_counts:
            out = base / f"model-{n}-w{workers}"
            cmd = [FORECAST, "train", str(parts), "--horizon", "24", "--out", str(out), "--quiet"]
            cmd += ["--workers", str(workers)] if workers else []
            seconds, _, driver, workers_gb = measured(cmd, code, workers)
            metrics = json.loads((out / "metrics.json").read_text())
            rows.append({"series": n, "workers": workers, "seconds": round(seconds, 1), "driver_peak_gb": driver,
                         "worker_peak_gb": workers_gb, "validation_windows": metrics["windows"],
                         "validation_mase": metrics["lstm"]["mase"]})
            print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"train": rows}, indent=2))


def fits(n_series: int, worker_counts: list[int], local: bool = False) -> None:
    """Time the per-series ETS work of `train` on each cluster size (`local`: on a process pool of
    that many processes instead, as `train` without the cluster flags); the forecasts must agree."""
    from distributed import Client, LocalCluster

    from forecast_cli import baselines, cluster, pool

    rng = np.random.default_rng(5)
    lengths = rng.integers(150, 301, n_series)
    frame = series_frame(rng, 0, n_series, 300)
    values = frame["y"].to_numpy().reshape(n_series, 300)
    histories = [values[k, 300 - lengths[k]:] for k in range(n_series)]
    @contextlib.contextmanager
    def mapper_of(workers: int):
        if local:  # train's default without the cluster flags: a process pool on this machine
            with pool.local_mapper(processes=workers) as mapper:
                yield mapper
        else:
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
                    Client(lc) as client:
                yield cluster.spread(client)

    rows, first = [], None
    for workers in worker_counts:
        with mapper_of(workers) as mapper:
            started = time.monotonic()
            result = baselines.forecasts(histories, HORIZON, 24, "ets", True, mapper=mapper)
            seconds = time.monotonic() - started
        first = result if first is None else first
        rows.append({"workers": workers, "series": n_series, "seconds": round(seconds, 1),
                     "same_forecasts": bool(np.array_equal(result, first, equal_nan=True))})
        print(json.dumps(rows[-1]), flush=True)
    one = next((r for r in rows if r["workers"] == 1), None)
    for r in rows:
        r["speedup"] = round(one["seconds"] / r["seconds"], 2) if one else None
    print(json.dumps({"fits": rows}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=40)
    parser.add_argument("--length", type=int, default=72)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--label", default="scale")
    parser.add_argument("--fits", type=int, default=None)
    parser.add_argument("--pool", action="store_true", help="with --fits: a local process pool, not a Dask cluster")
    parser.add_argument("--train", default=None, help="series counts to train on from parts, e.g. 10000,100000")
    parser.add_argument("--detect", action="store_true", help="measure detect instead of predict (workers 0: one process)")
    args = parser.parse_args()
    base = ROOT / "bench" / "runs" / args.label
    code = freeze(base)
    if args.train:
        train([int(n) for n in args.train.split(",")], [int(w) for w in args.workers.split(",")], base, code)
        return
    if args.fits:
        fits(args.fits, [int(w) for w in args.workers.split(",")], args.pool)
        return
    data = base / f"parts-{args.series}x{args.length}"
    if not data.exists():
        started = time.monotonic()
        make_parts(data, args.series, args.parts, args.length)
        print(f"made {args.series} series in {args.parts} parts in {time.monotonic() - started:.0f}s", file=sys.stderr)
    model = base / "model"
    if not model.exists():
        sample = base / "sample.csv"
        series_frame(np.random.default_rng(1), 0, 2000, 240).to_csv(sample, index=False)
        subprocess.run([FORECAST, "train", str(sample), "--horizon", str(HORIZON), "--lookback", "48", "--epochs", "2",
                        "--out", str(model), "--quiet"], check=True, cwd=base)
    rows = []
    command, name = (detect, "detect") if args.detect else (predict, "forecast")
    for workers in [int(w) for w in args.workers.split(",")]:
        out = base / f"{name}-w{workers}.parquet"
        rows.append(command(model, data, out, workers, base))
        print(json.dumps(rows[-1]), flush=True)
    outputs = [(base / f"{name}-w{r['workers']}.parquet").read_bytes() for r in rows]
    same = all(o == outputs[0] for o in outputs)
    one = next((r for r in rows if r["workers"] == 1), None)
    for r in rows:
        r["speedup"] = round(one["seconds"] / r["seconds"], 2) if one else None
    print(json.dumps({"series": args.series, "length": args.length, "parts": args.parts, "identical_outputs": same,
                      "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
