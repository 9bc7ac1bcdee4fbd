"""Cron-grade predict: many files per run, a JSON summary, locking and --as-of."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from filelock import FileLock
from typer.testing import CliRunner

from forecast_cli.batch import expand_inputs, lock_path_for, warn_late
from forecast_cli.cli import app
from forecast_cli.errors import ExitCode
from forecast_cli.output import SilentReporter
from tests.conftest import make_long

runner = CliRunner()


def _incoming(tmp_path, bad: bool = True):
    folder = tmp_path / "incoming"
    folder.mkdir()
    make_long(3, 30, seed=1).to_csv(folder / "a.csv", index=False)
    make_long(2, 20, seed=2).to_csv(folder / "b.csv", index=False)
    if bad:
        (folder / "c.csv").write_text("unique_id,ds,y\ns0,2020-01-01,oops\n")
    out = tmp_path / "out"
    out.mkdir()
    return folder, out


def test_glob_writes_one_output_per_input_and_reports_failures(trained_model, tmp_path):
    model_dir, _ = trained_model
    folder, out = _incoming(tmp_path)
    result = runner.invoke(app, ["predict", str(model_dir), str(folder / "*.csv"), "--output-dir", str(out), "--json"])
    assert result.exit_code == ExitCode.PARTIAL, result.output
    summary = json.loads(result.stdout)
    assert (summary["ok"], summary["failed"], summary["engine"]) == (2, 1, "onnx")
    by_name = {f["input"].rsplit("/", 1)[-1]: f for f in summary["files"]}
    assert by_name["a.csv"]["status"] == "ok" and by_name["a.csv"]["series"] == 3 and by_name["a.csv"]["rows"] == 12
    assert by_name["c.csv"]["status"] == "error" and by_name["c.csv"]["exit_code"] == ExitCode.DATA
    assert "'oops' in column 'y' is not a number" in by_name["c.csv"]["error"]
    error = next(line for line in result.stderr.splitlines() if line.startswith("Error: "))
    assert error.count("c.csv") == 1, error  # the message names its file; not twice over
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["a.forecast.csv", "b.forecast.csv"]
    assert len(pd.read_csv(out / "b.forecast.csv")) == 8


def test_all_good_files_exit_0_and_same_bytes_every_run(trained_model, tmp_path):
    model_dir, _ = trained_model
    folder, out = _incoming(tmp_path, bad=False)
    args = ["predict", str(model_dir), str(folder / "a.csv"), str(folder / "b.csv"), "--output-dir", str(out), "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    first = (out / "a.forecast.csv").read_bytes()
    assert runner.invoke(app, args).exit_code == 0
    assert (out / "a.forecast.csv").read_bytes() == first


def test_gzipped_inputs_get_plain_forecasts_named_without_the_suffixes(trained_model, tmp_path):
    import gzip

    model_dir, _ = trained_model
    folder, out = _incoming(tmp_path, bad=False)
    for name in ("a.csv", "b.csv"):
        (folder / f"{name}.gz").write_bytes(gzip.compress((folder / name).read_bytes()))
    plain = tmp_path / "plain"
    assert runner.invoke(app, ["predict", str(model_dir), str(folder / "a.csv"), "--output-dir", str(plain), "--quiet"]).exit_code == 0
    result = runner.invoke(app, ["predict", str(model_dir), str(folder / "*.csv.gz"), "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["a.forecast.csv", "b.forecast.csv"]
    assert (out / "a.forecast.csv").read_bytes() == (plain / "a.forecast.csv").read_bytes()
    # a.csv and a.csv.gz would write the same file: refused before anything is written
    result = runner.invoke(app, ["predict", str(model_dir), str(folder / "a.csv"), str(folder / "a.csv.gz"),
                                 "--output-dir", str(tmp_path / "both")])
    assert result.exit_code == ExitCode.USAGE and "would both write" in result.stderr and "a.csv.gz" in result.stderr
    assert not (tmp_path / "both").exists()


def test_several_inputs_need_an_output_dir(trained_model, tmp_path):
    model_dir, _ = trained_model
    folder, _ = _incoming(tmp_path, bad=False)
    result = runner.invoke(app, ["predict", str(model_dir), str(folder / "*.csv")])
    assert result.exit_code == ExitCode.USAGE and "needs --output-dir" in result.stderr
    result = runner.invoke(app, ["predict", str(model_dir), str(folder / "a.csv"), "--json"])
    assert result.exit_code == ExitCode.USAGE and "--json prints its summary on stdout" in result.stderr


def test_a_glob_matching_nothing_is_a_data_error(trained_model, tmp_path):
    model_dir, _ = trained_model
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "*.csv"), "--output-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.DATA and "no file matches" in result.stderr


def test_second_run_waits_for_the_lock_then_exits_6(trained_model, tmp_path):
    model_dir, data = trained_model
    target = tmp_path / "forecast.csv"
    with FileLock(str(lock_path_for(target))):
        result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(target), "--lock-timeout", "0.5"])
    assert result.exit_code == ExitCode.LOCKED, result.output
    assert "another forecast run holds the lock" in result.stderr and not target.exists()
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(target), "--lock-timeout", "0.5"])
    assert result.exit_code == 0 and target.exists()


def test_as_of_forecasts_from_the_cut_off(trained_model, tmp_path):
    model_dir, data = trained_model
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--as-of", "2017-12-01"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert frame.groupby("unique_id")["ds"].min().eq("2018-01-01").all()
    cut = pd.read_csv(data)
    cut[cut["ds"] <= "2017-12-01"].to_csv(tmp_path / "cut.csv", index=False)
    same = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "cut.csv")])
    assert same.stdout == result.stdout


def test_expand_inputs_sorts_and_deduplicates(tmp_path):
    for name in ("b.csv", "a.csv"):
        (tmp_path / name).write_text("x")
    got = expand_inputs([str(tmp_path / "*.csv"), str(tmp_path / "a.csv")])
    assert [p.name for p in got] == ["a.csv", "b.csv"]


class _Warnings(SilentReporter):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def warn(self, message: str) -> None:
        self.seen.append(message)


def test_series_that_end_early_are_named_with_how_many_and_integer_steps_are_not():
    """Dates: the series whose forecasts start before the latest are counted, the first named
    with its start; integer steps (each series counting from its own start) are not judged."""
    ids = np.array(["a", "b", "c", "d"], dtype=object)
    starts = pd.to_datetime(["2024-03-01", "2024-01-01", "2024-03-01", "2024-02-01 06:00"], format="ISO8601").to_numpy()
    reporter = _Warnings()
    assert warn_late("sales.csv", ids, starts, reporter) == ["b", "d"]
    assert reporter.seen == ["sales.csv: 2 series end before the others (e.g. 'b', whose forecast starts at 2024-01-01; "
                             "the latest at 2024-03-01). Their latest values may not have arrived."]
    assert warn_late("sales.csv", ids[:1], starts[:1], reporter) == []
    assert warn_late("steps.csv", ids, np.array([40, 12, 40, 7]), reporter) == [] and len(reporter.seen) == 1


def test_an_output_that_would_replace_or_be_read_as_the_data_is_refused(trained_model, tmp_path):
    """`--output data.csv` replaced the data with its forecast; an output inside a folder of
    Parquet parts, or matching the input pattern, is read as data by the next run. Each is a
    usage error (exit 2) naming both, and the data is left as it was."""
    model_dir, data = trained_model
    copy = tmp_path / "data.csv"
    copy.write_bytes(data.read_bytes())
    parts = tmp_path / "parts"
    parts.mkdir()
    pd.read_csv(data).assign(ds=lambda f: pd.to_datetime(f["ds"])).to_parquet(parts / "part-0.parquet")
    cases = [
        (["predict", str(model_dir), str(copy), "--output", str(copy)], "is the input"),
        (["predict", str(model_dir), str(copy), "--output", "x.csv", "--plot", str(copy)], "(--plot) is the input"),
        (["detect", str(model_dir), str(copy), "--output", str(copy)], "is the input"),
        (["predict", str(model_dir), str(parts), "--output", str(parts / "forecast.parquet")], "inside the input folder"),
        (["predict", str(model_dir), f"{tmp_path}/*.csv", "--output-dir", str(tmp_path)], "matches the input pattern"),
        (["backtest", str(tmp_path / "folds.csv"), "--output-dir", str(tmp_path)], "is the input"),
        (["predict", str(model_dir), str(copy), "--output", str(model_dir / "manifest.json")],
         "is inside the model directory"),
        (["detect", str(model_dir), str(copy), "--output", str(model_dir / "anomalies.csv")],
         "is inside the model directory"),
    ]
    (tmp_path / "folds.csv").write_bytes(data.read_bytes())
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == ExitCode.USAGE and message in result.stderr, (args, result.output)
    assert copy.read_bytes() == data.read_bytes()


def test_an_output_ending_in_gz_is_gzipped_csv_the_same_bytes_each_run(trained_model, tmp_path):
    """`--output forecast.csv.gz` wrote plain text under a .gz name; it is gzip now, with no time
    or name in its header so that a rerun gives the same bytes; .bz2 and .xz alike."""
    import bz2
    import gzip
    import lzma

    model_dir, data = trained_model
    runs = []
    for name in ("plain.csv", "one.csv.gz", "two.csv.gz"):
        result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / name), "--quiet"])
        assert result.exit_code == 0, result.output
        runs.append((tmp_path / name).read_bytes())
    assert runs[1][:2] == b"\x1f\x8b" and runs[1] == runs[2]
    assert gzip.decompress(runs[1]) == runs[0]
    result = runner.invoke(app, ["detect", str(model_dir), str(data), "--output", str(tmp_path / "d.csv.gz"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert gzip.decompress((tmp_path / "d.csv.gz").read_bytes()).startswith(b"unique_id,ds,actual,forecast")
    for suffix, decompress in ((".bz2", bz2.decompress), (".xz", lzma.decompress)):
        result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / f"f.csv{suffix}")])
        assert result.exit_code == 0, result.output
        assert decompress((tmp_path / f"f.csv{suffix}").read_bytes()) == runs[0]


def test_an_output_that_is_a_pipe_is_written_into_not_replaced(trained_model, tmp_path):
    """A device or named pipe as --output (/dev/null for a cron job that wants only --json) is
    written into: renaming the finished file over it replaced it (run as root, /dev/null became
    a regular file), and the lock file went beside it. A FIFO stands in for /dev/null here."""
    import os
    import stat
    import threading

    model_dir, data = trained_model
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(fifo), "--json", "--quiet"])
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received and received[0].startswith(b"unique_id,ds,yhat\n")
    assert json.loads(result.stdout)["files"][0]["status"] == "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no lock file, no temporary file


def test_plots_and_tables_are_written_in_the_format_their_name_says(trained_model, tmp_path):
    """--plot takes .png, .svg or .pdf (the same bytes on every run: no date inside); a name
    ending in another format (--plot x.jpg held PNG bytes, --output x.xlsx CSV text, x.tsv commas) is refused
    before any work."""
    model_dir, data = trained_model
    for suffix, magic in ((".svg", b"<?xml"), (".pdf", b"%PDF"), (".png", b"\x89PNG")):
        runs = []
        for name in ("a", "b"):
            plot = tmp_path / f"{name}{suffix}"
            result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / "f.csv"),
                                         "--plot", str(plot), "--quiet"])
            assert result.exit_code == 0, result.output
            runs.append(plot.read_bytes())
        assert runs[0].startswith(magic) and runs[0] == runs[1], suffix
    for flags, message in ((["--plot", str(tmp_path / "p.jpg")], "plots are written as PNG, SVG or PDF"),
                           (["--output", str(tmp_path / "f.xlsx")], "tables are written as CSV"),
                           (["--output", str(tmp_path / "f.tsv")], "tables are written as CSV")):
        result = runner.invoke(app, ["predict", str(model_dir), str(data), *flags])
        assert result.exit_code == ExitCode.USAGE and message in result.stderr, result.output
    assert not (tmp_path / "p.jpg").exists() and not (tmp_path / "f.xlsx").exists()


def test_json_summary_is_never_empty_when_a_run_fails_as_a_whole(trained_model, tmp_path):
    """A cron job writes `--json` to a file: an empty incoming folder, a missing model or an
    unreadable file still leave one JSON object there, with the error and the exit code."""
    model_dir, data = trained_model
    (tmp_path / "incoming").mkdir()
    runs = [
        (["predict", str(model_dir), str(tmp_path / "incoming" / "*.csv"), "--output-dir", str(tmp_path / "out"),
          "--json"], ExitCode.DATA, "no file matches"),
        (["detect", str(tmp_path / "nomodel"), str(data), "--output", str(tmp_path / "a.csv"), "--json"],
         ExitCode.MODEL, "no such model directory"),
        (["evaluate", str(tmp_path / "none.csv"), str(data), "--json"], ExitCode.DATA, "none.csv"),
    ]
    for args, code, words in runs:
        result = runner.invoke(app, args)
        assert result.exit_code == code, result.output
        summary = json.loads(result.stdout)
        assert summary["exit_code"] == code and words in summary["error"]
        assert f"Error: {summary['error']}" in result.stderr
    # A command line refused before the command runs (Typer's own usage errors) alike; and
    # without --json, stdout stays empty.
    refused = [
        (["predict", str(model_dir), str(data), "--json", "--lock-timout", "300"], "No such option: --lock-timout"),
        (["detect", str(model_dir), "--json"], "Missing argument"),
        (["predict", str(model_dir), str(data), "--json", "--lock-timeout", "soon"], "Invalid value for '--lock-timeout'"),
        (["predcit", str(model_dir), str(data), "--json"], "No such command 'predcit'"),
    ]
    for args, words in refused:
        result = runner.invoke(app, args)
        assert result.exit_code == ExitCode.USAGE, result.output
        summary = json.loads(result.stdout)
        assert summary["exit_code"] == ExitCode.USAGE and words in summary["error"], summary
        assert words in result.stderr
    quiet = runner.invoke(app, ["predict", str(model_dir), str(data), "--lock-timout", "300"])
    assert quiet.exit_code == ExitCode.USAGE and quiet.stdout == ""


@pytest.mark.parametrize(("as_of", "message"), [
    ("", r"--as-of '' is empty \(an unset variable in --as-of \"\$CUTOFF\"\?\)"),
    ("NaT", r"--as-of 'NaT' is not a date or time"),
    ("nan", r"--as-of 'nan' is not a date or time"),
    ("-5", r"--as-of '-5' is not a date or time"),
])
def test_an_as_of_that_is_no_time_is_a_usage_error(trained_model, as_of, message):
    """pandas reads "" (a cron line's unset variable), "NaT" and "nan" as no time and "-5" as a
    year before the Common Era: each cut every row, exit 3 "no row is at or before"."""
    model_dir, data = trained_model
    for command in (["predict", str(model_dir), str(data)], ["doctor", str(data)]):
        result = runner.invoke(app, [*command, "--as-of", as_of])
        assert result.exit_code == ExitCode.USAGE, result.output
        assert re.search(message, result.stderr), result.stderr
