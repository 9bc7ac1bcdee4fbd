"""Parquet in and out: a file, a folder of parts or a glob read as CSV is; forecasts written as Parquet."""

from __future__ import annotations

import datetime
import io
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.data import load_series, read_table
from forecast_cli.errors import ExitCode
from tests.conftest import TINY, make_long

runner = CliRunner()


def _invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """The same long data as a CSV, a Parquet file (dates as timestamps, one value missing in
    both), a folder of two parts split between series, and a model trained on each."""
    folder = tmp_path_factory.mktemp("parquet")
    frame = make_long(3, 40, seed=4)
    frame.loc[7, "y"] = np.nan
    frame.to_csv(folder / "data.csv", index=False)
    typed = frame.assign(ds=pd.to_datetime(frame["ds"]))
    typed.to_parquet(folder / "data.parquet", index=False)
    (folder / "parts").mkdir()
    typed[typed["unique_id"] == "s0"].to_parquet(folder / "parts" / "part-0.parquet", index=False)
    typed[typed["unique_id"] != "s0"].to_parquet(folder / "parts" / "part-1.parquet", index=False)
    for name, data in (("csv", "data.csv"), ("parquet", "data.parquet"), ("parts", "parts")):
        _invoke("train", folder / data, "--horizon", 4, "--out", folder / f"model-{name}", *TINY, "--quiet")
    return folder


def test_a_csv_and_its_parquet_copies_give_the_same_forecast(copies):
    csv = _invoke("predict", copies / "model-csv", copies / "data.csv").stdout
    assert len(pd.read_csv(io.StringIO(csv))) == 12
    for model in ("model-parquet", "model-parts"):
        for data in ("data.csv", "data.parquet", "parts"):
            assert _invoke("predict", copies / model, copies / data).stdout == csv, (model, data)
    glob = _invoke("predict", copies / "model-csv", copies / "parts" / "*.parquet", "--output-dir", copies / "out")
    assert "part-1.forecast.parquet" in glob.stderr
    assert sorted(p.name for p in (copies / "out").glob("*.parquet")) == ["part-0.forecast.parquet", "part-1.forecast.parquet"]


def test_forecasts_written_as_parquet_keep_full_precision_and_read_back(copies):
    _invoke("predict", copies / "model-csv", copies / "data.csv", "--output", copies / "fc.parquet")
    table = pd.read_parquet(copies / "fc.parquet")
    assert list(table.columns) == ["unique_id", "ds", "yhat"]
    assert pd.api.types.is_datetime64_any_dtype(table["ds"]) and len(table) == 12
    csv = pd.read_csv(io.StringIO(_invoke("predict", copies / "model-csv", copies / "data.csv").stdout))
    assert np.allclose(table["yhat"], csv["yhat"], rtol=1e-7) and (table["yhat"] != csv["yhat"]).any()
    # evaluate reads a Parquet forecast file against Parquet actuals: the last 4 months, forecast as of before them
    as_of = sorted(pd.read_csv(copies / "data.csv")["ds"].unique())[-5]
    _invoke("predict", copies / "model-csv", copies / "data.parquet", "--as-of", as_of, "--output", copies / "back.parquet")
    scores = json.loads(_invoke("evaluate", copies / "back.parquet", copies / "data.parquet", "--json").stdout)
    assert scores["matched"] == 12 and np.isfinite(scores["overall"]["mae"])
    _invoke("detect", copies / "model-csv", copies / "parts", "--output", copies / "checked.parquet", "--quiet")
    checked = pd.read_parquet(copies / "checked.parquet")
    assert len(checked) == 12 and checked["anomaly"].dtype == bool


def test_a_glob_of_parts_trains_one_model_on_all_of_them(copies):
    _invoke("train", copies / "parts" / "part-*.parquet", "--horizon", 4, "--out", copies / "model-glob", *TINY, "--quiet")
    manifest = (copies / "model-glob" / "manifest.json").read_text()
    assert all(f'"{uid}"' in manifest for uid in ("s0", "s1", "s2"))


def test_bad_parquet_data_names_the_file_and_the_fix(copies, tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet at all")
    result = runner.invoke(app, ["predict", str(copies / "model-csv"), str(bad)])
    assert result.exit_code == ExitCode.DATA and "broken.parquet: not a readable Parquet file" in result.stderr
    assert "Traceback" not in result.output
    parts = tmp_path / "parts"
    parts.mkdir()
    make_long(1, 40).to_parquet(parts / "a.parquet", index=False)
    make_long(1, 40).rename(columns={"y": "value"}).to_parquet(parts / "b.parquet", index=False)
    result = runner.invoke(app, ["train", str(parts), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA and "b.parquet: its columns (unique_id, ds, value) differ" in result.stderr
    # pyarrow writes a table naming a column twice, and refuses to read it in its own words
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = make_long(1, 40)
    pq.write_table(pa.table([frame["ds"], frame["y"], frame["y"]], names=["ds", "y", "y"]), tmp_path / "twice.parquet")
    result = runner.invoke(app, ["train", str(tmp_path / "twice.parquet"), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA and "twice.parquet has two columns named 'y' (columns 2 and 3)" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["train", str(empty), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA and "no .parquet files" in result.stderr
    words = make_long(1, 40)
    words["y"] = words["y"].astype(str)
    words.loc[5, "y"] = "oops"
    words.to_parquet(tmp_path / "words.parquet", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "words.parquet"), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA and "'y'" in result.stderr and "oops" in result.stderr
    # Parquet has no lines: a cell is named by its row, counted from 1 (the sixth row here)
    assert "words.parquet, row 6: 'oops'" in result.stderr and "line" not in result.stderr
    words.to_csv(tmp_path / "words.csv", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "words.csv"), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA and "words.csv, line 7: 'oops'" in result.stderr
    pd.concat([frame, frame.iloc[[3]]]).to_parquet(tmp_path / "twice_a_time.parquet", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "twice_a_time.parquet"), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA and "more than once (rows 4, 41)" in result.stderr, result.stderr
    # a column of times of day (pyarrow's time64) read as today at those times: made-up dates
    clock = make_long(1, 40).assign(ds=[datetime.time(k % 24) for k in range(40)])
    clock.to_parquet(tmp_path / "clock.parquet", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "clock.parquet"), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA, result.stderr
    assert "'00:00:00' in the time column 'ds' is a time of day without a date" in result.stderr


def test_typed_parquet_columns_are_read_as_their_csv_text_would_be(tmp_path):
    """Parquet numbers and timestamps are read without a detour through text: integer steps and
    ids, timestamps and floats give what the CSV copy gives, and a bad cell is refused with the
    CSV's message (row and column named)."""
    frame = make_long(2, 30, seed=6)
    frame["ds"] = frame.groupby("unique_id").cumcount() + 1  # integer steps
    frame["unique_id"] = frame["unique_id"].str[1:].astype(int)  # integer ids
    frame.to_csv(tmp_path / "steps.csv", index=False)
    frame.to_parquet(tmp_path / "steps.parquet", index=False)
    raw, _ = read_table(tmp_path / "steps.parquet")
    assert [str(t) for t in raw.dtypes] == ["int64", "int64", "float64"]  # no text in between
    _invoke("train", tmp_path / "steps.csv", "--horizon", 3, "--season", 1, "--out", tmp_path / "model", *TINY, "--quiet")
    csv = _invoke("predict", tmp_path / "model", tmp_path / "steps.csv").stdout
    assert _invoke("predict", tmp_path / "model", tmp_path / "steps.parquet").stdout == csv
    for column, value, expected in (("y", np.inf, "row 6: column 'y' holds an infinite value (inf)"),
                                    ("y", 1e301, "row 6: column 'y' holds 1e+301, too large"),
                                    ("ds", None, "row 6: the time column 'ds' is empty")):
        bad = make_long(1, 30).assign(ds=lambda f: pd.to_datetime(f["ds"]))
        bad[column] = bad[column].astype("datetime64[us]" if column == "ds" else float)
        bad.loc[5, column] = value
        bad.to_parquet(tmp_path / "bad.parquet", index=False)
        result = runner.invoke(app, ["train", str(tmp_path / "bad.parquet"), "--horizon", "4"])
        assert result.exit_code == ExitCode.DATA and expected in result.stderr, result.stderr


def test_a_folder_partitioned_by_column_values_is_read_as_its_parts(copies, tmp_path):
    """Parquet partitioned as Spark's partitionBy and pandas' partition_cols write it
    (unique_id=s0/part.parquet: the column's values in the folder names, not in the files) was
    refused ("a directory with no .parquet files"). Now it reads as the same data: the same
    forecast as the CSV's, and a model trained on it is the CSV's. A bucket column in the folder
    names is not a covariate; bookkeeping files (_SUCCESS, .crc) are not parts."""
    typed = pd.read_parquet(copies / "data.parquet")
    typed.to_parquet(tmp_path / "by-id", partition_cols=["unique_id"], index=False)
    (tmp_path / "by-id" / "_SUCCESS").write_text("")
    assert sorted(p.name for p in (tmp_path / "by-id").iterdir()) == ["_SUCCESS", "unique_id=s0", "unique_id=s1",
                                                                     "unique_id=s2"]
    csv = _invoke("predict", copies / "model-csv", copies / "data.csv").stdout
    assert _invoke("predict", copies / "model-csv", tmp_path / "by-id").stdout == csv
    _invoke("train", tmp_path / "by-id", "--horizon", 4, "--out", tmp_path / "model", *TINY, "--quiet")
    assert _invoke("predict", tmp_path / "model", copies / "data.csv").stdout == csv
    typed.assign(bucket=typed["unique_id"].map({"s0": 0, "s1": 1, "s2": 1})).to_parquet(
        tmp_path / "by-bucket", partition_cols=["bucket"], index=False)
    doctor = runner.invoke(app, ["doctor", str(tmp_path / "by-bucket"), "--horizon", "4"])
    assert doctor.exit_code == 0 and "3 series (long format)" in doctor.stderr and "ignored columns" not in doctor.stderr
    trained = _invoke("train", tmp_path / "by-bucket", "--horizon", 4, "--out", tmp_path / "model-b", *TINY)
    assert "covariates" not in trained.stderr
    assert _invoke("predict", tmp_path / "model-b", tmp_path / "by-bucket").stdout == csv
    # Its parts one by one (a glob) share file names across partitions: the advice is the folder.
    parts = runner.invoke(app, ["predict", str(copies / "model-csv"), str(tmp_path / "by-bucket" / "*" / "*.parquet"),
                                "--output-dir", str(tmp_path / "out")])
    assert parts.exit_code == ExitCode.USAGE, parts.output
    assert f"They are parts of the partitioned folder {tmp_path / 'by-bucket'}: pass" in parts.stderr
    nulls = typed.astype({"unique_id": object})
    nulls.loc[nulls.index[:3], "unique_id"] = None  # a partition of nulls: __HIVE_DEFAULT_PARTITION__
    nulls.to_parquet(tmp_path / "nulls", partition_cols=["unique_id"], index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "nulls"), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA and "column 'unique_id' is empty; every row needs a series id" in result.stderr
    clash = tmp_path / "clash" / "unique_id=s0"
    clash.mkdir(parents=True)
    typed[typed["unique_id"] == "s0"].to_parquet(clash / "part.parquet", index=False)
    result = runner.invoke(app, ["train", str(tmp_path / "clash"), "--horizon", "4"])
    assert result.exit_code == ExitCode.DATA and "column 'unique_id' is both in the file and in its folder's name" \
        in result.stderr


def test_a_frame_index_pandas_keeps_in_parquet_reads_as_its_csv_does(tmp_path):
    """pandas stores a frame's index in the Parquet file's metadata, out of its columns: a frame
    indexed by its dates (the time, ds), by its series and times (a groupby's result), or a
    filtered frame's row numbers (no data). Each reads as the CSV pandas writes of it; the first
    failed with a traceback, the second lost its id and time columns."""
    from tests.conftest import make_long

    days = pd.date_range("2024-01-01", periods=30, freq="D")
    dated = pd.DataFrame({"a": np.arange(30.0), "b": 2 * np.arange(30.0)}, index=days)
    long = make_long(3, 30, seed=5).assign(ds=lambda f: pd.to_datetime(f["ds"]))
    frames = {"dated": dated, "indexed": long.set_index(["unique_id", "ds"]),
              "filtered": long[long["unique_id"] != "s1"]}
    for name, frame in frames.items():
        frame.to_parquet(tmp_path / f"{name}.parquet")
        frame.to_csv(tmp_path / f"{name}.csv")
        wide = name == "dated"
        from_parquet = load_series(tmp_path / f"{name}.parquet", wide=wide)
        from_csv = load_series(tmp_path / f"{name}.csv", wide=wide)
        assert from_parquet.columns.time_col == from_csv.columns.time_col == "ds", name
        pd.testing.assert_frame_equal(from_parquet.frame.drop(columns="_line", errors="ignore"),
                                      from_csv.frame.drop(columns="_line", errors="ignore"), check_dtype=False)


def test_parts_dask_writes_with_its_row_numbers_read_as_the_data_alone(tmp_path):
    """Dask's `to_parquet` keeps a frame's unnamed index as a column `__null_dask_index__` (the
    row numbers, noted as the index in the file's metadata): it had been read as a column of
    data, a covariate in `train` and an unexpected column in `predict`."""
    import dask.dataframe as dd

    long = make_long(3, 30, seed=5).assign(ds=lambda f: pd.to_datetime(f["ds"]))
    long.to_parquet(tmp_path / "plain.parquet", index=False)
    dd.from_pandas(long, npartitions=2).shuffle("unique_id").to_parquet(tmp_path / "by-dask")
    assert "__null_dask_index__" in pd.read_parquet(tmp_path / "by-dask").reset_index().columns
    pd.testing.assert_frame_equal(load_series(tmp_path / "by-dask").frame, load_series(tmp_path / "plain.parquet").frame)
    runner = CliRunner()
    result = runner.invoke(app, ["train", str(tmp_path / "by-dask"), "--horizon", "4", "--out", str(tmp_path / "m"), *TINY])
    assert result.exit_code == 0, result.output
    assert "covariates" not in result.stderr  # the row numbers had been taken as one
    for data in ("by-dask", "plain.parquet"):
        result = runner.invoke(app, ["predict", str(tmp_path / "m"), str(tmp_path / data), "--output",
                                     str(tmp_path / f"{data}.csv"), "--quiet"])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "by-dask.csv").read_bytes() == (tmp_path / "plain.parquet.csv").read_bytes()


def test_csv_parts_where_one_table_is_read_get_the_command_that_reads_them(tmp_path):
    """Spark and Dask write CSV as a folder of parts (beside _SUCCESS and hidden .crc files); a
    folder or glob of them was "a directory with no .parquet files" or "not a readable Parquet
    file". The error gives the pipe that reads them, and that pipe reads the joined data."""
    frame = make_long(3, 30)
    (tmp_path / "out").mkdir()
    for k, uid in enumerate(["s0", "s1", "s2"]):
        frame[frame["unique_id"] == uid].to_csv(tmp_path / "out" / f"part-0000{k}-c000.csv", index=False)
    (tmp_path / "out" / "_SUCCESS").write_text("")
    (tmp_path / "out" / ".part-00000-c000.csv.crc").write_text("x")
    for given in (tmp_path / "out", f"{tmp_path / 'out'}/*.csv"):
        result = runner.invoke(app, ["train", str(given), "--horizon", "4", "--out", str(tmp_path / "m"), *TINY])
        assert result.exit_code == ExitCode.DATA, result.output
        assert (f"names 3 CSV file(s) (e.g. part-00000-c000.csv), read as one table only from Parquet parts. Read "
                f"them as one CSV: pipe them joined to the command with - as the data, e.g. cat {tmp_path}/out/*.csv "
                "| forecast train -") in " ".join(result.stderr.split())
    joined = b"".join(p.read_bytes() for p in sorted((tmp_path / "out").glob("*.csv")))
    result = runner.invoke(app, ["doctor", "-", "--horizon", "4"], input=joined)
    assert result.exit_code == 0 and "3 series (long format), 90 rows" in result.stderr


def _time_type(path):
    import pyarrow.parquet as pq

    return pq.read_schema(path).field("ds").type


def test_forecasts_and_checks_keep_the_time_type_of_parquet_input(copies, tmp_path):
    """A warehouse table of `ds date` (or timestamps in ms, or with a zone, or int32 steps) takes
    the forecasts back without a cast: a Parquet output keeps the input's time type, times unchanged."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    frame = pd.read_parquet(copies / "data.parquet")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    kinds = {"date32": pa.date32(), "ms": pa.timestamp("ms"), "berlin": pa.timestamp("us", tz="Europe/Berlin")}
    csv = _invoke("predict", copies / "model-csv", copies / "data.csv").stdout
    for name, kind in kinds.items():
        # (Berlin: UTC's midnights, 01:00 or 02:00 in Berlin, read in UTC and forecast in UTC)
        pq.write_table(table.set_column(1, "ds", table.column("ds").cast(kind)), tmp_path / f"{name}.parquet")
        out = tmp_path / f"{name}-fc.parquet"
        _invoke("predict", copies / "model-csv", tmp_path / f"{name}.parquet", "--output", out)
        assert _time_type(out) == kind, name
        back = pd.to_datetime(pd.read_parquet(out)["ds"])
        utc = back.dt.tz_convert("UTC").dt.tz_localize(None) if name == "berlin" else back
        assert (utc.dt.strftime("%Y-%m-%d %H:%M") == pd.read_csv(io.StringIO(csv))["ds"] + " 00:00").all(), name
        if name != "berlin":  # a CSV output of that input is the CSV input's forecast, byte for byte
            assert _invoke("predict", copies / "model-csv", tmp_path / f"{name}.parquet").stdout == csv, name
    # Berlin's midnights are read as the dates and forecast as dates: timestamps without a zone,
    # as before, which evaluate matches to the actuals as it matches the CSV's dates
    midnights = pc.assume_timezone(table.column("ds"), "Europe/Berlin")
    pq.write_table(table.set_column(1, "ds", midnights), tmp_path / "midnights.parquet")
    _invoke("detect", copies / "model-csv", tmp_path / "date32.parquet", "--output", tmp_path / "checked.parquet")
    assert _time_type(tmp_path / "checked.parquet") == pa.date32()
    # evaluate reads a date32 forecast against date32 actuals
    as_of = sorted(pd.read_csv(copies / "data.csv")["ds"].unique())[-5]
    _invoke("predict", copies / "model-csv", tmp_path / "date32.parquet", "--as-of", as_of,
            "--output", tmp_path / "back.parquet")
    scores = json.loads(_invoke("evaluate", tmp_path / "back.parquet", tmp_path / "date32.parquet", "--json").stdout)
    assert scores["matched"] == 12
    for name in ("berlin", "midnights"):
        _invoke("predict", copies / "model-csv", tmp_path / f"{name}.parquet", "--as-of", as_of,
                "--output", tmp_path / f"back-{name}.parquet")
        scores = json.loads(_invoke("evaluate", tmp_path / f"back-{name}.parquet", tmp_path / f"{name}.parquet",
                                    "--json").stdout)
        assert scores["matched"] == 12, name
    assert _time_type(tmp_path / "back-midnights.parquet") == pa.timestamp("us")


def test_integer_steps_keep_their_integer_type_in_a_parquet_forecast(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = make_long(2, 40, freq=None)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.set_column(1, "ds", table.column("ds").cast(pa.int32())), tmp_path / "steps.parquet")
    _invoke("train", tmp_path / "steps.parquet", "--horizon", 3, "--season", 12, "--out", tmp_path / "m", *TINY, "--quiet")
    _invoke("predict", tmp_path / "m", tmp_path / "steps.parquet", "--output", tmp_path / "fc.parquet")
    assert _time_type(tmp_path / "fc.parquet") == pa.int32()
    assert pd.read_parquet(tmp_path / "fc.parquet")["ds"].tolist() == [41, 42, 43] * 2
    # Unix times in seconds are read as dates, and forecast as timestamps
    hours = pd.date_range("2024-01-01", periods=60, freq="h")
    unix = (hours - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    pd.DataFrame({"ds": unix, "y": np.arange(60.0) % 24 + 5}).to_parquet(tmp_path / "unix.parquet", index=False)
    _invoke("train", tmp_path / "unix.parquet", "--horizon", 2, "--out", tmp_path / "mu", *TINY, "--quiet")
    _invoke("predict", tmp_path / "mu", tmp_path / "unix.parquet", "--output", tmp_path / "fu.parquet")
    after = pd.date_range(hours[-1], periods=3, freq="h", tz="UTC")[1:]  # Unix times are instants: read in UTC
    assert pd.read_parquet(tmp_path / "fu.parquet")["ds"].tolist() == list(after)


def test_store_numbers_come_back_as_numbers_in_a_parquet_forecast(tmp_path):
    """A table keyed by an integer store number (`store bigint`) joins the forecasts and checks
    back without a cast: a Parquet output keeps a single id column's whole numbers in its
    unique_id (pandas read it back as text, and a merge on the store refused the two types). A
    CSV output is as before, and evaluate reads the typed forecast."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = make_long(3, 40, seed=2)
    frame["unique_id"] = frame["unique_id"].map({"s0": 7, "s1": 12, "s2": 250})
    frame = frame.rename(columns={"unique_id": "store"}).assign(ds=pd.to_datetime(frame["ds"]))
    frame.to_parquet(tmp_path / "data.parquet", index=False)
    frame.assign(store=frame["store"].astype("int32")).to_parquet(tmp_path / "data32.parquet", index=False)
    _invoke("train", tmp_path / "data.parquet", "--id-col", "store", "--horizon", 4, "--out", tmp_path / "m", *TINY,
            "--quiet")
    csv = pd.read_csv(io.StringIO(_invoke("predict", tmp_path / "m", tmp_path / "data.parquet").stdout))
    for data, kind in (("data", pa.int64()), ("data32", pa.int32())):
        _invoke("predict", tmp_path / "m", tmp_path / f"{data}.parquet", "--output", tmp_path / f"{data}-fc.parquet")
        assert pq.read_schema(tmp_path / f"{data}-fc.parquet").field("unique_id").type == kind, data
        back = pd.read_parquet(tmp_path / f"{data}-fc.parquet")
        assert back["unique_id"].tolist() == csv["unique_id"].tolist() == [12] * 4 + [250] * 4 + [7] * 4
        assert np.allclose(back["yhat"], csv["yhat"], rtol=1e-6)
        joined = back.merge(frame, left_on="unique_id", right_on="store")  # refused before: int64 and str
        assert len(joined) == 12 * 40
    _invoke("detect", tmp_path / "m", tmp_path / "data.parquet", "--output", tmp_path / "checked.parquet")
    assert pd.read_parquet(tmp_path / "checked.parquet")["unique_id"].dtype == np.int64
    as_of = str(frame["ds"].iloc[-5].date())
    _invoke("predict", tmp_path / "m", tmp_path / "data.parquet", "--as-of", as_of,
            "--output", tmp_path / "back.parquet")
    scores = json.loads(_invoke("evaluate", tmp_path / "back.parquet", tmp_path / "data.parquet", "--id-col", "store",
                                "--json").stdout)
    assert scores["matched"] == 12
    # ids written with a leading zero are text in the data, and stay so
    from forecast_cli.forecast_file import fits_id_type

    assert fits_id_type(pa.table({"unique_id": ["007"]}), pa.int64()) is None


def test_a_time_that_does_not_fit_the_input_type_keeps_the_timestamp():
    """A time of day does not fit a date, nor a millisecond a timestamp in seconds: the output
    keeps pandas' timestamps rather than change a time."""
    import pyarrow as pa

    from forecast_cli.forecast_file import fits_type

    hours = pa.table({"ds": pa.array(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 13:00"]))})
    assert fits_type(hours, pa.date32()) is None
    assert fits_type(hours, pa.timestamp("s")).column("ds").type == pa.timestamp("s")
    fine = pa.table({"ds": pa.array(pd.to_datetime(["2024-01-01 00:00:00.5"]))})
    assert fits_type(fine, pa.timestamp("s")) is None
    assert fits_type(pa.table({"ds": pa.array([2 ** 40])}), pa.int32()) is None
    # Unix times (int64 seconds) are read as dates: their forecast stays timestamps, not microseconds
    assert fits_type(fine, pa.int64()) is None and fits_type(pa.table({"ds": pa.array([7])}), pa.date32()) is None
    # times with a zone, forecast in UTC, keep their instants in the input's zone; dates stay dates
    utc = pa.table({"ds": pa.array(pd.to_datetime(["2024-03-31 01:00"]).tz_localize("UTC"))})
    berlin = fits_type(utc, pa.timestamp("us", tz="Europe/Berlin")).column("ds")
    assert berlin.type.tz == "Europe/Berlin" and berlin.cast(pa.timestamp("us", tz="UTC")).equals(utc.column("ds"))
    assert fits_type(hours, pa.timestamp("us", tz="Europe/Berlin")) is None
