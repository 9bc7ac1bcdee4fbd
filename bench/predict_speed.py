"""Wall time of whole `forecast` processes: --help, predict of 1 series with each engine, and
predict of 10,000 series (48 steps each) in one long file.

Usage:
    python bench/predict_speed.py [--repeat 5] [--series 10000]

Targets on the 2-core machine: 1 series end to end under 1.5 s with ONNX; 10,000 series under
15 s; `forecast --help` under 0.5 s. Each figure is the median of --repeat runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "runs" / "speed"
FORECAST = [str(Path(sys.executable).with_name("forecast"))]


def timed(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - started)
    return statistics.median(times)


def make_data(n_series: int, length: int, path: Path) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(length)
    ids = np.repeat([f"s{k}" for k in range(n_series)], length)
    ds = np.tile(pd.date_range("2024-01-01", periods=length, freq="D").strftime("%Y-%m-%d"), n_series)
    level = rng.uniform(50, 500, n_series)[:, None]
    y = level * (1 + 0.2 * np.sin(2 * np.pi * t / 7)[None, :]) + rng.normal(0, 5, (n_series, length))
    pd.DataFrame({"unique_id": ids, "ds": ds, "y": y.reshape(-1).round(3)}).to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--series", type=int, default=10_000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    one, many = WORK / "one.csv", WORK / "many.csv"
    make_data(1, 48, one)
    make_data(args.series, 48, many)
    model = WORK / "model"
    # A small daily model (horizon 7, lookback 14) trained on part of the long file.
    make_data(200, 48, WORK / "train.csv")
    subprocess.run([*FORECAST, "train", str(WORK / "train.csv"), "--horizon", "7", "--lookback", "14",
                    "--epochs", "3", "--out", str(model), "--quiet"], check=True)
    rows = [
        ("forecast --help", timed([*FORECAST, "--help"], args.repeat)),
        ("predict, 1 series, onnx", timed([*FORECAST, "predict", str(model), str(one), "--engine", "onnx",
                                           "--output", str(WORK / "f1.csv"), "--quiet"], args.repeat)),
        ("predict, 1 series, keras", timed([*FORECAST, "predict", str(model), str(one), "--engine", "keras",
                                            "--output", str(WORK / "f2.csv"), "--quiet"], args.repeat)),
        (f"predict, {args.series:,} series x 48 steps, onnx",
         timed([*FORECAST, "predict", str(model), str(many), "--output", str(WORK / "f3.csv"), "--quiet"], args.repeat)),
    ]
    print("| what | median wall time (s) |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
