"""What every benchmark script shares: run a frozen copy of the code, and time a command.

A benchmark runs for minutes to hours; editing the project meanwhile must change nothing in it,
so each run copies `forecast_cli/` to `bench/runs/<label>/code` and imports only that copy, in
this process and in the `forecast` processes it starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def freeze(base: Path, refresh: bool = True) -> Path:
    """Copy the code to `base/code` (with `refresh` False, keep the copy of an earlier run, whose
    models are being reused) and import it from there, here and in child processes."""
    code = base / "code"
    if refresh:
        shutil.rmtree(code, ignore_errors=True)
        shutil.copytree(ROOT / "forecast_cli", code / "forecast_cli")
    os.environ["PYTHONPATH"] = str(code)
    sys.path.insert(0, str(code))
    return code


def run(cmd: list[str], cwd: Path) -> float:
    """Run a command to completion (an error stops the benchmark); its wall time in seconds."""
    started = time.monotonic()
    subprocess.run(cmd, check=True, cwd=cwd)  # not the project folder: `-m` would import its code
    return time.monotonic() - started
