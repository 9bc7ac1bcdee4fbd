"""Crash safety with real processes: a train killed (SIGKILL) or interrupted (Ctrl-C) mid-epoch
leaves the earlier model directory intact and loadable, and nothing predict would accept."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.errors import ExitCode
from tests.conftest import ROOT, make_long

pytestmark = pytest.mark.slow  # real processes, killed and interrupted mid-epoch
runner = CliRunner()


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _start_training(data: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "forecast_cli.cli", "train", str(data), "--horizon", "4", "--out", str(out),
         "--epochs", "500", "--patience", "500", "--units", "16", "--lookback", "8"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for_epoch(process: subprocess.Popen, epoch: int) -> list[str]:
    lines = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith(f"epoch {epoch}/"):
            return lines
    process.kill()
    pytest.fail("training never reached epoch %d:\n%s" % (epoch, "".join(lines)))


@pytest.fixture
def setup(trained_model, tmp_path):
    model_dir, _ = trained_model
    out = tmp_path / "model"
    shutil.copytree(model_dir, out)
    data = tmp_path / "big.csv"
    make_long(20, 200).to_csv(data, index=False)
    return out, data, _snapshot(out)


def _still_works(out: Path, data: Path) -> None:
    result = runner.invoke(app, ["predict", str(out), str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + 20 * 4


def _interrupt(out: Path, data: Path, sig: int, epoch: int) -> tuple[int, str]:
    """Start a real training run, send it `sig` once it reports `epoch`; its exit code and stderr."""
    process = _start_training(data, out)
    _wait_for_epoch(process, epoch)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


def test_sigkill_mid_epoch_leaves_the_old_model(setup):
    out, data, before = setup
    code, _ = _interrupt(out, data, signal.SIGKILL, 2)
    assert code == -signal.SIGKILL
    assert _snapshot(out) == before
    _still_works(out, data)
    leftovers = [p for p in out.parent.iterdir() if p.name.startswith(".model.")]
    for leftover in leftovers:  # a killed run's temporary folder is never taken for a model
        result = runner.invoke(app, ["predict", str(leftover), str(data)])
        assert result.exit_code == ExitCode.MODEL
    # the next run clears what the killed one left
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(out), "--epochs", "1",
                                 "--units", "4", "--lookback", "8", "--quiet"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".model.")] == []
    assert _snapshot(out) != before


def test_ctrl_c_exits_130_with_one_line(setup):
    out, data, before = setup
    code, err = _interrupt(out, data, signal.SIGINT, 2)
    assert code == ExitCode.INTERRUPTED
    tail = [line for line in err.splitlines() if not line.startswith("epoch ")]
    assert tail == ["Interrupted; earlier outputs are unchanged."], err[-2000:]
    assert _snapshot(out) == before
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".model.")] == []
    _still_works(out, data)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_tensorflow_work_is_raised_after_it(sig):
    """Raising KeyboardInterrupt inside Keras's loop crashed about one run in eight (SIGSEGV):
    the signal is held, the loop asked to stop, and the interrupt raised once it returned."""
    from forecast_cli.model import deferred_interrupts

    before = signal.getsignal(sig)
    events = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts(lambda: events.append("asked to stop")):
            os.kill(os.getpid(), sig)
            time.sleep(0.05)  # the handler has run by now; no interrupt raised in here
            events.append("ran to the end")
    assert events == ["asked to stop", "ran to the end"]
    assert signal.getsignal(sig) is before


def test_sigterm_is_handled_like_ctrl_c(setup):
    out, data, before = setup
    code, _ = _interrupt(out, data, signal.SIGTERM, 1)
    assert code == ExitCode.INTERRUPTED
    assert _snapshot(out) == before
