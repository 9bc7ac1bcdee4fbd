"""predict on a Dask cluster: a real LocalCluster of two worker processes, on small data."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.errors import DataError, ExitCode
from tests.conftest import ROOT, TINY, make_long

runner = CliRunner()
pytestmark = pytest.mark.slow  # starts Dask worker processes


def _invoke(*args, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def parted(tmp_path_factory):
    """40 series as a CSV and as four Parquet parts whose series interleave in id order (s0, s4,
    ... in the first part), so joining the parts in part order would be the wrong order; a model
    trained on the CSV; and the one-process forecasts of the parts as CSV and Parquet."""
    folder = tmp_path_factory.mktemp("cluster")
    frame = make_long(40, 40, seed=3)
    frame.to_csv(folder / "data.csv", index=False)
    typed = frame.assign(ds=pd.to_datetime(frame["ds"]))
    ids = sorted(typed["unique_id"].unique())
    (folder / "parts").mkdir()
    for k in range(4):
        typed[typed["unique_id"].isin(ids[k::4])].to_parquet(folder / "parts" / f"part-{k}.parquet", index=False)
    _invoke("train", folder / "data.csv", "--horizon", 4, "--out", folder / "model", *TINY, "--quiet")
    for suffix in ("csv", "parquet"):
        _invoke("predict", folder / "model", folder / "parts", "--output", folder / f"plain.{suffix}", "--quiet")
    return folder


@pytest.fixture(scope="module")
def scheduler():
    """A LocalCluster of two worker processes for the --dask tests; its address."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            yield cluster.scheduler_address, client


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]


def test_workers_give_the_one_process_forecast_byte_for_byte(parted):
    for suffix in ("csv", "parquet"):
        out = parted / f"workers.{suffix}"
        result = _invoke("predict", parted / "model", parted / "parts", "--output", out, "--workers", 2, "--json")
        assert out.read_bytes() == (parted / f"plain.{suffix}").read_bytes(), suffix
        summary = json.loads(result.stdout)
        assert summary["cluster"] == {"workers": 2}
        assert summary["files"][0] | {"seconds": 0} == {
            "input": str(parted / "parts"), "output": str(out), "status": "ok", "series": 40, "rows": 160,
            "seconds": 0, "error": None, "exit_code": 0, "parts": 4, "skipped": 0, "late": 0, "late_series": []}
    assert "Forecast part 4/4" in result.stderr
    assert _leftovers(parted) == []
    forecast = pd.read_csv(parted / "workers.csv")
    assert forecast["unique_id"].is_monotonic_increasing and len(forecast) == 160


def test_workers_write_the_first_steps_as_one_process_does(parted, tmp_path):
    for where in ("here", "there"):
        _invoke("predict", parted / "model", parted / "parts", "--horizon", 2, "--output", tmp_path / f"{where}.parquet",
                *(("--workers", 2) if where == "there" else ()))
    assert (tmp_path / "here.parquet").read_bytes() == (tmp_path / "there.parquet").read_bytes()
    assert len(pd.read_parquet(tmp_path / "there.parquet")) == 40 * 2


def test_workers_keep_the_parts_date_type_as_one_process_does(parted, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "dates").mkdir()
    for part in sorted((parted / "parts").iterdir()):
        table = pq.read_table(part)
        pq.write_table(table.set_column(1, "ds", table.column("ds").cast(pa.date32())), tmp_path / "dates" / part.name)
    for where in ("here", "there"):
        _invoke("predict", parted / "model", tmp_path / "dates", "--output", tmp_path / f"{where}.parquet",
                *(("--workers", 2) if where == "there" else ()))
    assert (tmp_path / "here.parquet").read_bytes() == (tmp_path / "there.parquet").read_bytes()
    assert pq.read_schema(tmp_path / "there.parquet").field("ds").type == pa.date32()
    plain = pd.read_parquet(parted / "plain.parquet")
    dates = pd.read_parquet(tmp_path / "there.parquet")
    assert (pd.to_datetime(dates["ds"]) == plain["ds"]).all() and dates["yhat"].equals(plain["yhat"])


def test_workers_carry_several_id_columns_of_the_parts_types_as_one_process_does(tmp_path):
    """A model with `--id-col store,family` writes both columns beside unique_id. Parts written
    apart may type a store number differently (int32 in one, int64 in another, text in a third):
    the joined file takes one type as one process's reading of the parts does (text here), and
    the forecasts and detections are the one-process files byte for byte."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = make_long(6, 40, seed=5)
    number = frame["unique_id"].str[1:].astype(int)
    typed = pd.DataFrame({"store": number // 2 + 1, "family": np.where(number % 2, "BREAD/BAKERY", "EGGS"),
                          "ds": pd.to_datetime(frame["ds"]), "y": frame["y"]})
    typed.to_parquet(tmp_path / "all.parquet", index=False)
    _invoke("train", tmp_path / "all.parquet", "--id-col", "store,family", "--horizon", 4, "--out", tmp_path / "model",
            *TINY, "--quiet")
    (tmp_path / "parts").mkdir()
    for store, cast in ((1, "int32"), (2, "int64"), (3, "str")):
        typed[typed["store"] == store].astype({"store": cast}).to_parquet(
            tmp_path / "parts" / f"part-{store}.parquet", index=False)
    for command, flags in (("predict", ()), ("detect", ("--last", 2))):
        for where in ("here", "there"):
            _invoke(command, tmp_path / "model", tmp_path / "parts", *flags, "--output",
                    tmp_path / f"{command}-{where}.parquet", *(("--workers", 2) if where == "there" else ()))
        there = tmp_path / f"{command}-there.parquet"
        assert (tmp_path / f"{command}-here.parquet").read_bytes() == there.read_bytes(), command
        assert pq.read_schema(there).names[:4] == ["unique_id", "store", "family", "ds"]
        assert pa.types.is_string(pq.read_schema(there).field("store").type) or pa.types.is_large_string(
            pq.read_schema(there).field("store").type)
        written = pd.read_parquet(there)
        assert (written["unique_id"] == written["store"] + "/" + written["family"]).all()
        assert written["store"].nunique() == 3
    # parts of one type keep it (store numbers stay numbers)
    (tmp_path / "same").mkdir()
    for store in (1, 2, 3):
        typed[typed["store"] == store].to_parquet(tmp_path / "same" / f"part-{store}.parquet", index=False)
    _invoke("predict", tmp_path / "model", tmp_path / "same", "--output", tmp_path / "same.parquet", "--workers", 2)
    assert pq.read_schema(tmp_path / "same.parquet").field("store").type == pa.int64()
    # a table cut by day is regrouped by this model's id columns: one process's forecast
    typed.assign(ds=typed["ds"].dt.strftime("%Y-%m-%d")).to_parquet(tmp_path / "lake", partition_cols=["ds"],
                                                                      index=False)
    for where in ("here", "there"):
        result = _invoke("predict", tmp_path / "model", tmp_path / "lake", "--output", tmp_path / f"lake-{where}.csv",
                         *(("--workers", 2) if where == "there" else ()))
    assert "regrouping them by series (store, family) on the cluster first" in " ".join(result.stderr.split())
    assert (tmp_path / "lake-here.csv").read_bytes() == (tmp_path / "lake-there.csv").read_bytes()


def test_workers_keep_a_time_type_only_where_every_parts_times_fit_it(tmp_path, monkeypatch):
    """Integer steps stored as int32: a series counted up to near int32's largest value has
    forecast steps past it. Where one part's forecast fits the type and another's does not, the
    file takes int64 throughout, as one process writes it, however the joined file is cut into
    pieces; a part whose steps fit alone keeps int32."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from forecast_cli import cluster

    (tmp_path / "parts").mkdir()
    for k, (uid, end) in enumerate((("a", 100), ("b", 2 ** 31 - 3))):  # b's forecast steps pass 2**31 - 1
        steps = np.arange(end - 39, end + 1)
        y = 50 + 5 * np.sin(steps % 7 * 2 * np.pi / 7) + k
        table = pa.table({"unique_id": [uid] * 40, "ds": pa.array(steps, pa.int32()), "y": y})
        pq.write_table(table, tmp_path / "parts" / f"part-{k}.parquet")
    _invoke("train", tmp_path / "parts", "--horizon", 4, "--season", 7, "--out", tmp_path / "m", *TINY, "--quiet")
    monkeypatch.setattr(cluster, "SERIES_PER_PIECE", 1)  # a's forecast, which fits, is written first alone
    for where in ("here", "there"):
        _invoke("predict", tmp_path / "m", tmp_path / "parts", "--output", tmp_path / f"{where}.parquet", "--quiet",
                *(("--workers", 2) if where == "there" else ()))
    assert (tmp_path / "here.parquet").read_bytes() == (tmp_path / "there.parquet").read_bytes()
    assert pq.read_schema(tmp_path / "there.parquet").field("ds").type == pa.int64()
    assert pd.read_parquet(tmp_path / "there.parquet")["ds"].max() == 2 ** 31 + 1
    _invoke("predict", tmp_path / "m", tmp_path / "parts" / "part-0.parquet", "--output", tmp_path / "a.parquet",
            "--quiet")
    assert pq.read_schema(tmp_path / "a.parquet").field("ds").type == pa.int32()  # a alone keeps it


def test_workers_keep_the_store_numbers_type_where_every_part_gives_it_alike(tmp_path):
    """Parts keyed by integer store numbers: the forecast's unique_id keeps their type, on the
    cluster as in one process (the same bytes); parts that type them differently (int32 in one,
    int64 in another) give text in both, as they give no one type to keep."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = make_long(4, 40, seed=5)
    frame = frame.assign(store=frame["unique_id"].str[1:].astype("int64") + 100, ds=pd.to_datetime(frame["ds"]))
    frame = frame.drop(columns="unique_id")
    frame.to_csv(tmp_path / "data.csv", index=False)
    _invoke("train", tmp_path / "data.csv", "--id-col", "store", "--horizon", 4, "--out", tmp_path / "m", *TINY,
            "--quiet")
    for name, kinds in (("alike", ("int64", "int64")), ("mixed", ("int32", "int64"))):
        (tmp_path / name).mkdir()
        for k, kind in enumerate(kinds):
            part = frame[frame["store"] % 2 == k]
            part = part.assign(store=part["store"].astype(kind))
            part.to_parquet(tmp_path / name / f"part-{k}.parquet", index=False)
        for where in ("here", "there"):
            _invoke("predict", tmp_path / "m", tmp_path / name, "--output", tmp_path / f"{name}-{where}.parquet",
                    "--quiet", *(("--workers", 2) if where == "there" else ()))
        assert (tmp_path / f"{name}-here.parquet").read_bytes() == (tmp_path / f"{name}-there.parquet").read_bytes()
        kind = pq.read_schema(tmp_path / f"{name}-there.parquet").field("unique_id").type
        assert kind == pa.int64() if name == "alike" else pa.types.is_large_string(kind) or pa.types.is_string(kind)
        assert pd.read_parquet(tmp_path / f"{name}-there.parquet")["unique_id"].astype(int).unique().tolist() == [
            100, 101, 102, 103]


def test_a_part_result_holds_its_own_ids_not_the_whole_forecast(parted, tmp_path):
    """A part's result waits on its worker until the join: it must not keep the forecast's id
    column (horizon x the series) alive through a view."""
    from forecast_cli.cluster import ModelRef, forecast_part
    from forecast_cli.manifest import read_manifest

    model = ModelRef.of(parted / "model", "onnx", read_manifest(parted / "model"))
    result = forecast_part(model, None, False, 0, str(parted / "parts" / "part-0.parquet"), str(tmp_path / "out.parquet"))
    assert result.ids.base is None
    assert list(result.ids) == sorted(pd.read_csv(parted / "data.csv")["unique_id"].unique())[0::4]
    assert result.rows == 40 and len(pd.read_parquet(tmp_path / "out.parquet")) == 40


def test_a_worker_refuses_a_model_directory_trained_again_during_the_run(parted, tmp_path):
    """The driver checked one model; a worker that finds another in the folder (a retraining
    replaced it meanwhile) must not forecast its part with it: the parts would mix two models."""
    import dataclasses

    from forecast_cli.cluster import ModelRef, forecast_part
    from forecast_cli.errors import ModelDirError
    from forecast_cli.manifest import read_manifest

    checked = ModelRef.of(parted / "model", "onnx", read_manifest(parted / "model"))
    earlier = dataclasses.replace(checked, identity="0" * 64)  # what the driver had read before the retraining
    with pytest.raises(ModelDirError, match=r"was replaced by another model .* during this run.*run again"):
        forecast_part(earlier, None, False, 0, str(parted / "parts" / "part-0.parquet"), str(tmp_path / "out.parquet"))
    assert not (tmp_path / "out.parquet").exists()


@contextlib.contextmanager
def _killing_once(client, marker: Path, task: str):
    """Meanwhile, the first worker to start a task of function `task` kills its own process."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class KillOnce(WorkerPlugin):  # defined here so that it is sent to the workers by value
        def transition(self, key, start, finish, **kwargs):
            if finish == "executing" and task in str(key) and not marker.exists():
                marker.write_text(str(os.getpid()))
                os._exit(1)

    client.register_plugin(KillOnce(), name="kill-once")
    try:
        yield
    finally:
        client.unregister_worker_plugin("kill-once")
    assert marker.exists(), "no worker was killed: the test tested nothing"


def test_an_existing_scheduler_and_a_worker_killed_mid_run(parted, scheduler, tmp_path):
    """The first task to start kills its worker process; Dask reruns the part elsewhere and the
    output is still the one-process forecast, with no part left behind."""
    address, client = scheduler
    out = tmp_path / "forecast.parquet"
    with _killing_once(client, tmp_path / "killed", "forecast_part"):
        result = _invoke("predict", parted / "model", parted / "parts", "--output", out, "--dask", address, "--json")
    assert out.read_bytes() == (parted / "plain.parquet").read_bytes()
    assert json.loads(result.stdout)["cluster"] == {"scheduler": address}
    assert _leftovers(tmp_path) == []


def test_a_bad_part_is_named_and_the_previous_output_is_kept(parted, tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    for part in sorted((parted / "parts").iterdir()):
        (parts / part.name).write_bytes(part.read_bytes())
    bad = pd.read_parquet(parts / "part-2.parquet").astype({"y": "string"})
    bad.loc[5, "y"] = "n/a"
    bad.to_parquet(parts / "part-2.parquet", index=False)
    out = tmp_path / "forecast.csv"
    out.write_text("yesterday's forecast\n")
    result = _invoke("predict", parted / "model", parts, "--output", out, "--workers", 2, code=ExitCode.DATA)
    assert "part-2.parquet" in result.stderr and "'y'" in result.stderr and "n/a" in result.stderr
    assert "Traceback" not in result.output
    assert out.read_text() == "yesterday's forecast\n"
    assert _leftovers(tmp_path) == []


def test_a_series_split_across_parts_is_regrouped_once_found(parted, tmp_path):
    """A series in two parts other than the first two (which would have been regrouped up front,
    as parts cut by time are) is found once the parts are read: the parts are then regrouped by
    series and read again, giving what one process gives reading them whole (they had been
    refused); a piece left out as too short is still a piece."""
    frame = pd.read_parquet(parted / "parts" / "part-0.parquet")
    parts = tmp_path / "parts"
    parts.mkdir()
    shutil.copy(parted / "parts" / "part-1.parquet", parts / "a.parquet")  # other series
    frame.iloc[:20].to_parquet(parts / "b.parquet", index=False)  # s0's first half ...
    frame.iloc[20:].to_parquet(parts / "c.parquet", index=False)  # ... and its second half
    said = ("series 's0' is in more than one part (b.parquet and c.parquet), found once the parts were read; "
            "regrouping them by series (unique_id) on the cluster first")
    for command, name in (("predict", "f.csv"), ("predict", "f.parquet"), ("detect", "d.csv")):
        _invoke(command, parted / "model", parts, "--output", tmp_path / f"here-{name}", "--quiet")
        result = _invoke(command, parted / "model", parts, "--output", tmp_path / name, "--workers", 2)
        assert said in " ".join(result.stderr.split()), result.stderr
        assert (tmp_path / name).read_bytes() == (tmp_path / f"here-{name}").read_bytes(), name
    # a piece too short to read (5 values, the lookback 8), left out by --skip-short, is still a piece
    frame.iloc[:5].to_parquet(parts / "b.parquet", index=False)
    frame.iloc[5:].to_parquet(parts / "c.parquet", index=False)
    _invoke("predict", parted / "model", parts, "--output", tmp_path / "here.csv", "--skip-short", "--quiet")
    result = _invoke("predict", parted / "model", parts, "--output", tmp_path / "there.csv", "--workers", 2,
                     "--skip-short")
    assert said in " ".join(result.stderr.split())
    assert (tmp_path / "there.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("flags, message", [
    (["--workers", "2"], "need --output FILE or --output-dir"),
    (["--workers", "0", "--output", "x.csv"], "expected at least 1 worker"),
    (["--workers", "2", "--dask", "tcp://127.0.0.1:1", "--output", "x.csv"], "not both"),
])
def test_cluster_flags_that_cannot_work_are_usage_errors(parted, flags, message, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = _invoke("predict", parted / "model", parted / "parts", *flags, code=ExitCode.USAGE)
    assert message in " ".join(result.stderr.split())


def _drawn(panels) -> list:
    """What a plot's panels draw, as plain lists to compare."""
    return [(p.title, [list(map(str, p.history[0])), list(p.history[1])],
             [(list(map(str, x)), list(y), label) for x, y, label in p.forecasts]) for p in panels]


def test_predict_plots_on_a_cluster_what_one_process_plots(parted, scheduler, tmp_path):
    """`predict --plot` on a cluster draws the first series by id with their histories, as one
    process draws them, though those series lie in different parts (each worker sends its own
    first series' rows), and the same for a table cut by time that is regrouped first."""
    from forecast_cli import plots

    typed = pd.read_parquet(parted / "parts")
    typed.assign(ds=typed["ds"].dt.strftime("%Y-%m-%d")).to_parquet(tmp_path / "lake", partition_cols=["ds"],
                                                                     index=False)
    drawn = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plots, "save_panels", lambda panels, path, title: drawn.append((_drawn(panels), title)))
        for data in (parted / "parts", tmp_path / "lake"):
            for n in (5, 50):
                for where, flags in (("here", []), ("there", ["--dask", scheduler[0]])):
                    _invoke("predict", parted / "model", data, "--output", tmp_path / f"{where}.csv", "--plot",
                            tmp_path / f"{where}.png", "--plot-series", n, "--quiet", *flags)
                    assert (tmp_path / f"{where}.csv").exists()
                assert drawn[-1] == drawn[-2], (data, n)
    panels, title = drawn[0]
    assert [p[0] for p in panels] == ["s0", "s1", "s10", "s11", "s12"]  # from the four parts
    assert title.endswith("\n5 of 40 series: the first by id (--plot-series draws more)")
    assert len(drawn[2][0]) == 40 and "\n" not in drawn[2][1]
    assert _leftovers(tmp_path) == []


def test_detect_plots_on_a_cluster_what_one_process_plots(parted, tmp_path):
    """`detect --plot` on a cluster draws the series one process draws (those with anomalies
    first, the farthest first) with their recent history, which the workers read from the parts
    holding them; with --state, as one process, only the values not reported before count, and a
    night with nothing new says so."""
    from forecast_cli import plots

    parts = _copy_parts(parted, tmp_path / "parts")
    for k, name in ((2, "part-2.parquet"), (3, "part-3.parquet")):  # a spike in a series of two parts
        frame = pd.read_parquet(parts / name)
        frame.loc[frame.index[-1 - k], "y"] *= 2 + k
        frame.to_parquet(parts / name, index=False)
    drawn = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plots, "save_panels", lambda panels, path, title: drawn.append((
            [(p.title, [list(map(str, p.history[0])), list(p.history[1])], list(map(str, p.marks[0])))
             for p in panels], title)))
        for night in (1, 2):
            for where, flags in (("here", []), ("there", ["--workers", 2])):
                _invoke("detect", parted / "model", parts, "--output", tmp_path / f"{where}.csv", "--plot",
                        tmp_path / f"{where}.png", "--state", tmp_path / f"{where}.json", "--quiet", *flags)
            assert drawn[-1] == drawn[-2], night
    panels, title = drawn[0]
    assert len(panels) == 4 and all(len(p[1][1]) == 12 for p in panels)  # 3 x the 4 values checked
    assert [len(p[2]) for p in panels[:2]] == [1, 1] and [len(p[2]) for p in panels[2:]] == [0, 0]
    assert drawn[2][0] == [] and "no new values to check" in drawn[2][1]
    assert _leftovers(tmp_path) == []


def test_an_unreachable_scheduler_is_a_cluster_error(parted, monkeypatch, tmp_path):
    from forecast_cli import cluster

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)  # Dask retries a refused connection until then
    result = _invoke("predict", parted / "model", parted / "parts", "--output", tmp_path / "f.csv",
                     "--dask", "tcp://127.0.0.1:9", code=ExitCode.CLUSTER)
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.output


def test_train_fits_the_statistical_forecasts_on_workers_and_gives_the_same_model(parted, scheduler, tmp_path):
    """The ETS fits (validation and final) run on the cluster; everything the model directory
    says about the forecast is the same as one process's, and so is the forecast."""
    address, _ = scheduler
    args = ["train", parted / "data.csv", "--horizon", 4, *TINY, "--quiet"]
    _invoke(*args, "--out", tmp_path / "here")
    _invoke(*args, "--out", tmp_path / "there", "--dask", address)
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    fits = [entry.get("ets") for entry in there["series"].values()]
    assert there["config"]["baseline"] == "ets+theta" and all(fits), "no ETS fit: the test tested nothing"
    for key in ("config", "series"):  # the settings chosen, each series' scaling and ETS parameters
        assert here[key] == there[key], key
    metrics = [json.loads((tmp_path / m / "metrics.json").read_text()) for m in ("here", "there")]
    assert metrics[0]["choice"] == metrics[1]["choice"]
    forecasts = [_invoke("predict", tmp_path / m, parted / "data.csv").stdout for m in ("here", "there")]
    assert forecasts[0] == forecasts[1]


def test_backtest_fits_each_folds_statistical_forecasts_on_workers_with_the_same_scores(parted, scheduler, tmp_path):
    from distributed import get_task_stream

    address, client = scheduler
    args = ["backtest", parted / "data.csv", "--horizon", 4, "--folds", 2, *TINY, "--quiet"]
    _invoke(*args, "--output-dir", tmp_path / "here")
    with get_task_stream(client) as stream:
        _invoke(*args, "--output-dir", tmp_path / "there", "--dask", address)
    assert any(str(task["key"]).startswith("starmap") for task in stream.data), "no fit ran on the workers"
    summary = json.loads((tmp_path / "there" / "backtest.json").read_text())
    assert summary["config"]["baseline"] == "ets+theta" and min(summary["blend_weights"]) < 1, "the fits unused"
    for name in ("forecasts.csv", "backtest.json"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "there" / name).read_bytes(), name
    _invoke(*args, "--output-dir", tmp_path / "x", "--workers", 2, "--dask", address, code=ExitCode.USAGE)


def test_train_on_a_local_cluster(parted, tmp_path):
    result = _invoke("train", parted / "data.csv", "--horizon", 4, *TINY, "--out", tmp_path / "m", "--workers", 2)
    assert (tmp_path / "m" / "manifest.json").is_file()
    assert "data.csv is not Parquet parts, so it is read here" in result.stderr
    result = _invoke("train", parted / "data.csv", "--horizon", 4, *TINY, "--out", tmp_path / "m", "--workers", 0,
                     code=ExitCode.USAGE)
    assert "expected at least 1 worker" in result.stderr


def _copy_parts(parted: Path, folder: Path) -> Path:
    folder.mkdir()
    for part in sorted((parted / "parts").iterdir()):
        (folder / part.name).write_bytes(part.read_bytes())
    return folder


@pytest.mark.parametrize("validated", [None, 10])
def test_train_reads_and_windows_the_parts_on_workers_and_gives_the_one_process_model(
        parted, scheduler, validated, monkeypatch, tmp_path):
    """From Parquet parts the workers read, check and window the data; the network trained here
    on what they send back is the one a single process trains on the same data (the training
    losses, the manifest, the forecast), also when validation draws 10 of the 40 series."""
    from forecast_cli import config

    if validated:
        monkeypatch.setattr(config, "VALIDATION_SERIES", validated)
    address, _ = scheduler
    args = ["train", parted / "parts", "--horizon", 4, *TINY[:-1], "--blend", "0.5"]  # with the refit
    _invoke(*args, "--quiet", "--out", tmp_path / "here")
    result = _invoke(*args, "--out", tmp_path / "there", "--dask", address)
    assert "40 series in 4 Parquet parts" in result.stderr and "read and windowed on the workers" in result.stderr
    assert f"of {validated or 40} series" in result.stderr
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    for key in ("config", "series", "data", "columns"):
        assert here[key] == there[key], key
    histories = [(tmp_path / m / "history.csv").read_text() for m in ("here", "there")]
    assert histories[0] == histories[1] and "refit" in histories[0]
    metrics = [json.loads((tmp_path / m / "metrics.json").read_text()) for m in ("here", "there")]
    assert metrics[0] == metrics[1] and metrics[0]["windows"] == (validated or 40)
    forecasts = [_invoke("predict", tmp_path / m, parted / "data.csv").stdout for m in ("here", "there")]
    assert forecasts[0] == forecasts[1]


def test_parts_of_the_same_columns_in_another_order_read_as_the_parts_in_order(parted, scheduler, tmp_path):
    """Parts written apart may order their columns differently: read in one process and trained
    on the cluster, they give the model and forecast of the parts in one order."""
    parts = _copy_parts(parted, tmp_path / "parts")
    third = pd.read_parquet(parts / "part-2.parquet")
    third[["y", "ds", "unique_id"]].to_parquet(parts / "part-2.parquet", index=False)
    args = ["--horizon", 4, *TINY, "--blend", "1"]
    _invoke("train", parted / "parts", *args, "--out", tmp_path / "ordered")
    _invoke("train", parts, *args, "--out", tmp_path / "here")
    _invoke("train", parts, *args, "--out", tmp_path / "there", "--dask", scheduler[0])
    manifests = [json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("ordered", "here", "there")]
    assert manifests[0]["columns"] == manifests[1]["columns"] == manifests[2]["columns"]
    forecasts = [_invoke("predict", tmp_path / m, parts).stdout for m in ("ordered", "here", "there")]
    assert forecasts[0] == forecasts[1] == forecasts[2]


def test_train_on_parts_names_a_bad_part_and_keeps_the_previous_model(parted, scheduler, tmp_path):
    parts = _copy_parts(parted, tmp_path / "parts")
    bad = pd.read_parquet(parts / "part-1.parquet").astype({"y": "string"})
    bad.loc[3, "y"] = "n/a"
    bad.to_parquet(parts / "part-1.parquet", index=False)
    args = ["train", parts, "--horizon", 4, *TINY, "--quiet", "--out", tmp_path / "m", "--dask", scheduler[0]]
    _invoke("train", parted / "data.csv", "--horizon", 4, *TINY, "--quiet", "--out", tmp_path / "m")
    before = (tmp_path / "m" / "manifest.json").read_text()
    result = _invoke(*args, code=ExitCode.DATA)
    assert "part-1.parquet" in result.stderr and "'y'" in result.stderr and "n/a" in result.stderr
    assert "Traceback" not in result.output
    assert (tmp_path / "m" / "manifest.json").read_text() == before


def test_train_on_parts_regroups_a_series_split_across_parts(parted, scheduler, tmp_path):
    """A series found in two parts once they are surveyed has the parts regrouped by the id column
    they were read with (`--id-col store`) and the network of one process trained."""
    frame = pd.read_parquet(parted / "parts" / "part-0.parquet").rename(columns={"unique_id": "store"})
    parts = tmp_path / "parts"
    parts.mkdir()
    pd.read_parquet(parted / "parts" / "part-1.parquet").rename(columns={"unique_id": "store"}).to_parquet(
        parts / "a.parquet", index=False)  # other series: the first two parts hold none in common
    frame.iloc[:20].to_parquet(parts / "b.parquet", index=False)  # s0's first half ...
    frame.iloc[20:].to_parquet(parts / "c.parquet", index=False)  # ... and its second half
    for where, flags in (("here", ["--quiet"]), ("there", ["--dask", scheduler[0]])):
        result = _invoke("train", parts, "--id-col", "store", "--horizon", 4, *TINY, "--out", tmp_path / where, *flags)
    assert ("series 's0' is in more than one part (b.parquet and c.parquet), found once the parts were read; "
            "regrouping them by series (store)") in " ".join(result.stderr.split())
    forecasts = [_invoke("predict", tmp_path / m, parts).stdout for m in ("here", "there")]
    assert forecasts[0] == forecasts[1] and forecasts[0].count("\n") == 1 + 20 * 4
    assert _leftovers(tmp_path) == []


def test_train_plots_on_a_cluster_what_it_reads_here(parted, scheduler, tmp_path):
    """`train --plot` draws from the data read in this process: a CSV is read here with a cluster
    too (only the per-series fits go to the workers), so it is drawn, the panels of one process;
    Parquet parts are read by the workers, so it is refused before anything is read."""
    from forecast_cli import plots

    drawn = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plots, "save_panels", lambda panels, path, title: drawn.append((
            [(p.title, list(p.history[1]), list(p.forecasts[0][1])) for p in panels], title)))
        for where, flags in (("here", []), ("there", ["--dask", scheduler[0]])):
            _invoke("train", parted / "data.csv", "--horizon", 4, *TINY, "--quiet", "--out", tmp_path / where,
                    "--plot", tmp_path / f"{where}.png", *flags)
    assert len(drawn) == 2 and drawn[0] == drawn[1] and len(drawn[0][0]) == 4
    result = _invoke("train", parted / "parts", "--horizon", 4, *TINY, "--out", tmp_path / "m", "--plot",
                     tmp_path / "p.png", "--dask", scheduler[0], code=ExitCode.USAGE)
    assert "the workers read the Parquet parts of" in " ".join(result.stderr.split())
    assert not (tmp_path / "m").exists() and not (tmp_path / "p.png").exists()


def test_train_on_parts_refuses_parts_of_different_frequencies(parted, scheduler, tmp_path):
    parts = _copy_parts(parted, tmp_path / "parts")
    daily = make_long(3, 40, freq="D", seed=1).assign(unique_id=lambda f: "d" + f["unique_id"])
    daily.assign(ds=pd.to_datetime(daily["ds"])).to_parquet(parts / "part-9.parquet", index=False)
    result = _invoke("train", parts, "--horizon", 4, *TINY, "--out", tmp_path / "m", "--dask", scheduler[0],
                     code=ExitCode.DATA)
    assert "part-9.parquet has frequency D" in result.stderr and "frequency MS" in result.stderr


def test_parts_of_times_with_an_offset_beside_times_without_are_refused_on_a_cluster(parted, scheduler, tmp_path):
    """One process refuses a file whose times mix UTC offsets with local times; the cluster read
    each part alone and trained a model one process could not, and predict and detect failed
    with tracebacks (times of day: dates at midnight with an offset are read as the dates either
    way)."""
    parts = tmp_path / "parts"
    parts.mkdir()
    hourly = make_long(8, 60, freq="h", seed=2)
    hourly = hourly.assign(ds=pd.to_datetime(hourly["ds"]))
    for k, ids in enumerate((["s0", "s1", "s2", "s3"], ["s4", "s5", "s6", "s7"])):
        part = hourly[hourly["unique_id"].isin(ids)]
        part.assign(ds=part["ds"].dt.tz_localize("UTC") if k else part["ds"]).to_parquet(parts / f"part-{k}.parquet")
    _invoke("train", parts, "--horizon", 4, *TINY, "--out", tmp_path / "here", code=ExitCode.DATA)
    result = _invoke("train", parts, "--horizon", 4, *TINY, "--out", tmp_path / "m", "--dask", scheduler[0],
                     code=ExitCode.DATA)
    assert "part-1.parquet has times with a UTC offset but" in result.stderr and "part-0.parquet" in result.stderr
    # predict and detect too: the forecasts' join was an ArrowInvalid traceback, detect's a TypeError
    _invoke("train", parts / "part-0.parquet", "--horizon", 4, *TINY, "--out", tmp_path / "m")
    for command in ("predict", "detect"):
        _invoke(command, tmp_path / "m", parts, "--output", tmp_path / "here.csv", code=ExitCode.DATA)
        result = _invoke(command, tmp_path / "m", parts, "--output", tmp_path / "out.csv", "--dask", scheduler[0],
                         code=ExitCode.DATA)
        assert "part-1.parquet has times with a UTC offset but" in result.stderr and "part-0.parquet" in result.stderr
        assert not (tmp_path / "out.csv").exists()


def test_parts_of_weekly_series_on_different_weekdays_train_the_one_process_model(scheduler, tmp_path):
    """A part of Sunday shops reads as W-SUN and a part of Monday shops as W-MON, which were
    refused as different frequencies: together they are weekly data on several days, as the
    file of both reads in one process, and the model and its forecast are that process's."""
    shops = pd.concat([make_long(1, 40, freq=f"W-{day}", seed=k).assign(unique_id=f"shop{k}")
                       for k, day in enumerate(["SUN", "SUN", "MON", "MON"])], ignore_index=True)
    (tmp_path / "parts").mkdir()
    for k, pair in enumerate([["shop0", "shop1"], ["shop2", "shop3"]]):
        shops[shops["unique_id"].isin(pair)].to_parquet(tmp_path / "parts" / f"part-{k}.parquet", index=False)
    args = ["train", tmp_path / "parts", "--horizon", 4, *TINY, "--quiet"]
    _invoke(*args, "--out", tmp_path / "here")
    _invoke(*args, "--out", tmp_path / "there", "--dask", scheduler[0])
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    assert here["freq"] == there["freq"] == "7D" and here["config"] == there["config"]
    assert here["series"] == there["series"]
    forecasts = [_invoke("predict", tmp_path / m, tmp_path / "parts").stdout for m in ("here", "there")]
    assert forecasts[0] == forecasts[1]


def test_train_on_parts_names_the_roles_when_a_part_of_one_series_finds_no_id(scheduler, tmp_path):
    """The id of `Date,Store,Sales` is found where the times repeat: in a part of two stores, not
    in a part of one. The roles differ by part, and the error gives the flags that settle them."""
    stores = make_long(3, 40).rename(columns={"unique_id": "Store", "ds": "Date", "y": "Sales"})
    (tmp_path / "parts").mkdir()
    stores[stores["Store"] != "s2"].to_parquet(tmp_path / "parts" / "a.parquet", index=False)
    stores[stores["Store"] == "s2"].to_parquet(tmp_path / "parts" / "b.parquet", index=False)
    result = _invoke("train", tmp_path / "parts", "--horizon", 4, *TINY, "--out", tmp_path / "m", "--dask", scheduler[0],
                     code=ExitCode.DATA)
    assert "b.parquet reads as time='Date'" in result.stderr and "a.parquet as id='Store'" in result.stderr
    assert "--id-col Store --time-col Date --target-col Sales" in result.stderr and not (tmp_path / "m").exists()
    # Sales summed per month, the stores as the folders' names (Store=s0/...): one store's part
    # has two sales at one time, so its constant partition column is found as the id; the other's
    # is left out, unused, and the columns differed (a message without the fix).
    sales = pd.concat([stores, stores[stores["Store"] == "s0"].head(1)])
    sales.assign(Date=pd.to_datetime(sales["Date"])).to_parquet(tmp_path / "hive", partition_cols=["Store"], index=False)
    result = _invoke("train", tmp_path / "hive", "--horizon", 4, "--freq", "MS", "--aggregate", "sum", *TINY, "--out",
                     tmp_path / "m", "--dask", scheduler[0], code=ExitCode.DATA)
    assert "reads as time='Date'" in result.stderr and "as id='Store'" in result.stderr, result.stderr
    assert "--id-col Store --time-col Date --target-col Sales" in result.stderr


def test_spread_sends_large_arguments_without_dask_advice_on_stderr(scheduler):
    """Ten thousand validation histories make tasks of over 10 MB, where Dask warns with advice
    for its own users; the fits still run, in order."""
    import warnings

    import numpy as np

    from forecast_cli import cluster

    _, client = scheduler
    histories = [np.full(1_500, float(k)) for k in range(1_000)]  # 12 MB
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sums = cluster.spread(client)(np.sum, histories)
    assert sums == [1_500.0 * k for k in range(1_000)]


def test_train_on_parts_survives_a_worker_killed_mid_run(parted, scheduler, tmp_path):
    """A worker dies while windowing a part: Dask reruns the part elsewhere, and the model is the
    one-process model still."""
    address, client = scheduler
    args = ["train", parted / "parts", "--horizon", 4, *TINY, "--quiet"]
    _invoke(*args, "--out", tmp_path / "here")
    with _killing_once(client, tmp_path / "killed", "window_part"):
        _invoke(*args, "--out", tmp_path / "there", "--dask", address)
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    assert (here["config"], here["series"]) == (there["config"], there["series"])
    assert (tmp_path / "here" / "history.csv").read_text() == (tmp_path / "there" / "history.csv").read_text()


def _write_later(path: str, seconds: float) -> None:
    import time

    time.sleep(seconds)
    Path(path).write_text("late")


def test_settle_waits_for_a_cancelled_task_that_had_started(scheduler, tmp_path):
    """A cancel does not stop a running task: `settle` waits for it to end, so that a failed
    predict removes its staging folder only once no part is still being written into it."""
    import time

    from forecast_cli import cluster

    _, client = scheduler
    target = tmp_path / "late.txt"
    future = client.submit(_write_later, str(target), 2.0, pure=False)
    deadline = time.monotonic() + 30
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # started on its worker
    client.cancel([future])
    assert not target.exists()
    cluster.settle(client, [future])
    assert target.read_text() == "late"


def test_train_on_parts_finds_the_week_of_integer_hours_as_one_process_does(scheduler, tmp_path):
    """With one --season on integer steps the partner may take a longer cycle found in the
    validation histories; on a cluster those histories come back from the workers, and the
    search, the choice and the model are the one process's."""
    t = np.arange(600)
    rng = np.random.default_rng(5)
    frame = pd.concat([pd.DataFrame({
        "unique_id": f"h{k}", "ds": t + 1,
        "y": (50 + k + 10 * np.sin(2 * np.pi * t / 24) + 20 * ((t - 597) % 168 < 48)
              + rng.normal(0, 0.5, len(t))).round(3)}) for k in range(8)])
    (tmp_path / "parts").mkdir()
    for k in range(2):
        frame[frame["unique_id"].isin([f"h{i}" for i in range(k, 8, 2)])].to_parquet(
            tmp_path / "parts" / f"part-{k}.parquet", index=False)
    address, _ = scheduler
    args = ["train", tmp_path / "parts", "--horizon", 4, "--season", 24, *TINY]
    _invoke(*args, "--quiet", "--out", tmp_path / "here")
    _invoke(*args, "--quiet", "--out", tmp_path / "there", "--dask", address)
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    assert here["config"] == there["config"] and here["config"]["partner_season"] == 168
    metrics = [json.loads((tmp_path / m / "metrics.json").read_text()) for m in ("here", "there")]
    assert metrics[0] == metrics[1] and metrics[0]["longer_season"]["season"] == 168


def test_wide_parts_split_by_rows_are_joined_and_train_the_one_process_model(scheduler, tmp_path):
    """Parts of a wide file cut by rows each hold a piece of every series: the cluster joins them
    into one part first (they were refused) and trains the model one process trains on them,
    a column with no number in one part included."""
    wide = make_long(3, 40).pivot(index="ds", columns="unique_id", values="y").reset_index()
    (tmp_path / "parts").mkdir()
    wide.iloc[:20].assign(s2=np.nan).to_parquet(tmp_path / "parts" / "a.parquet", index=False)
    wide.iloc[20:].to_parquet(tmp_path / "parts" / "b.parquet", index=False)
    for where, flags in (("here", []), ("there", ["--dask", scheduler[0]])):
        _invoke("train", tmp_path / "parts", "--wide", "--horizon", 4, *TINY, "--out", tmp_path / where, *flags)
    forecasts = [_invoke("predict", tmp_path / m, tmp_path / "parts").stdout for m in ("here", "there")]
    assert forecasts[0] == forecasts[1] and "s2" in forecasts[0]


def test_skip_short_leaves_a_new_series_out_on_the_cluster_as_in_one_process(parted, scheduler, tmp_path):
    """A series newer than the lookback (8 values) in one part: without --skip-short the file
    fails; with it the others are forecast, the same bytes as one process writes, and the
    summary counts what was left out."""
    parts = tmp_path / "parts"
    shutil.copytree(parted / "parts", parts)
    first = pd.read_parquet(parts / "part-0.parquet")
    new = first[first["unique_id"] == "s0"].tail(5).assign(unique_id="new")
    pd.concat([first, new]).to_parquet(parts / "part-0.parquet", index=False)
    failed = _invoke("predict", parted / "model", parts, "--output", tmp_path / "f.csv", "--dask", scheduler[0],
                     code=ExitCode.DATA)
    assert "series 'new' has 5 values" in failed.stderr and "--skip-short" in failed.stderr
    out, said = {}, {}
    for where in ("one", "cluster"):
        flags = ["--dask", scheduler[0]] if where == "cluster" else []
        result = _invoke("predict", parted / "model", parts, "--output", tmp_path / f"{where}.csv", "--skip-short",
                         "--json", *flags)
        assert json.loads(result.stdout)["files"][0]["skipped"] == 1 and "left out 1 series" in result.stderr
        out[where] = (tmp_path / f"{where}.csv").read_bytes()
        said[where] = [line for line in result.stderr.splitlines() if "left out" in line]
    assert out["one"] == out["cluster"] == (parted / "plain.csv").read_bytes()
    # the warning names the series left out, on the cluster as in one process
    assert said["one"] == said["cluster"] and "(e.g. 'new', 5 values): --skip-short." in said["one"][0]


def test_series_whose_data_ends_early_are_named_on_the_cluster_as_in_one_process(parted, scheduler, tmp_path):
    """A series whose last two values have not arrived: its forecast starts two steps before the
    others', and the run warns, naming it, with its count in --json (`late`), by one process and
    by the cluster alike."""
    parts = tmp_path / "parts"
    shutil.copytree(parted / "parts", parts)
    third = pd.read_parquet(parts / "part-2.parquet")
    last = third["ds"].max()
    third[~((third["unique_id"] == "s14") & (third["ds"] > last - pd.DateOffset(months=2)))].to_parquet(
        parts / "part-2.parquet", index=False)
    warnings = {}
    for where in ("one", "cluster"):
        flags = ["--dask", scheduler[0]] if where == "cluster" else []
        result = _invoke("predict", parted / "model", parts, "--output", tmp_path / f"{where}.csv", "--json", *flags)
        assert {"late": 1, "late_series": ["s14"]}.items() <= json.loads(result.stdout)["files"][0].items()
        warnings[where] = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings["one"] == warnings["cluster"] and len(warnings["one"]) == 1
    assert "series 's14' ends before the others: its forecast starts at " in warnings["one"][0]
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "cluster.csv").read_bytes()


def test_what_reading_a_part_warns_of_is_said_by_the_driver_once(parted, scheduler, tmp_path):
    """A part's series read every third month by a monthly model (two values in three filled in)
    is warned of by predict and detect on the cluster, naming the part and the series, as one
    process warns of the folder; a short series left out (--skip-short) is said once, of the
    whole folder, not again by its part."""
    parts = _spiked_parts(parted, tmp_path)
    second = pd.read_parquet(parts / "part-1.parquet")
    position = second.groupby("unique_id").cumcount()
    sparse = (second["unique_id"] != "s13") | (position % 3 == 0) | (position == position.max())
    second[sparse].to_parquet(parts / "part-1.parquet", index=False)
    for command in ("predict", "detect"):
        for flags in ([], ["--dask", scheduler[0]]):
            result = _invoke(command, parted / "model", parts, "--output", tmp_path / f"{command}.csv", "--skip-short",
                             "--quiet", *flags)
            warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
            filled = [w for w in warnings if "more values filled in" in w]
            assert len(filled) == 1 and "'s13'" in filled[0], result.stderr
            assert ("part-1.parquet" if flags else f"{parts.name}:") in filled[0]
            assert len([w for w in warnings if "left out 1 series" in w]) == 1, result.stderr


def test_the_parts_warnings_beyond_a_few_are_counted():
    from forecast_cli.cluster import RELAYED, Notes, relay

    said = Notes()
    relay([[f"part-{k}: a warning" for k in range(RELAYED + 2)], ["part-0: a warning"]], said)
    assert said.warnings == [f"part-{k}: a warning" for k in range(RELAYED)] + [
        "... and 2 more warning(s) from reading the parts."]


def test_skip_short_takes_a_part_of_only_new_series_and_fails_a_file_of_only_short_ones(parted, scheduler, tmp_path):
    """Parts are often cut by when a series began, so one part can hold only series newer than
    the lookback: with --skip-short that part has no forecast and the file the others' (the bytes
    one process writes); a file none of whose series is long enough fails, on the cluster as in
    one process, with the same message."""
    parts = tmp_path / "parts"
    shutil.copytree(parted / "parts", parts)
    first = pd.read_parquet(parts / "part-0.parquet")
    recent = first.groupby("unique_id").tail(5)
    recent.assign(unique_id="new-" + recent["unique_id"]).to_parquet(parts / "part-4.parquet", index=False)
    out = {}
    for where in ("one", "cluster"):
        flags = ["--dask", scheduler[0]] if where == "cluster" else []
        result = _invoke("predict", parted / "model", parts, "--output", tmp_path / f"{where}.csv", "--skip-short",
                         "--json", *flags)
        assert json.loads(result.stdout)["files"][0]["skipped"] == 10
        out[where] = (tmp_path / f"{where}.csv").read_bytes()
    assert out["one"] == out["cluster"] == (parted / "plain.csv").read_bytes()

    only_short = tmp_path / "short"
    only_short.mkdir()
    for k in range(2):
        part = pd.read_parquet(parted / "parts" / f"part-{k}.parquet")
        part.groupby("unique_id").tail(5).to_parquet(only_short / f"part-{k}.parquet", index=False)
    errors = {}
    for where in ("one", "cluster"):
        flags = ["--dask", scheduler[0]] if where == "cluster" else []
        result = _invoke("predict", parted / "model", only_short, "--output", tmp_path / "none.csv", "--skip-short",
                         *flags, code=ExitCode.DATA)
        errors[where] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "20 series are that short, every one in the file" in errors["cluster"][0]
    assert errors["one"] == errors["cluster"]
    assert not (tmp_path / "none.csv").exists()


def _spiked_parts(parted, tmp_path) -> Path:
    """The parts with a spike in the last value of s13 (in the second part) and a new series of
    5 values, too short to check, in a part of its own."""
    parts = tmp_path / "parts"
    shutil.copytree(parted / "parts", parts)
    second = pd.read_parquet(parts / "part-1.parquet")
    last = second.index[second["unique_id"] == "s13"][-1]
    second.loc[last, "y"] *= 3
    second.to_parquet(parts / "part-1.parquet", index=False)
    first = pd.read_parquet(parts / "part-0.parquet")
    first[first["unique_id"] == "s0"].tail(5).assign(unique_id="new").to_parquet(parts / "part-4.parquet", index=False)
    return parts


def test_detect_on_the_cluster_flags_what_one_process_flags(parted, scheduler, tmp_path):
    """The band pools every series, so the cluster measures every part before judging any: the
    same checked values, band and anomalies as one process, byte for byte, with the short series
    left out alike (--skip-short) and the error alike without it."""
    parts = _spiked_parts(parted, tmp_path)
    out, summaries, stderr = {}, {}, {}
    for where in ("one", "workers", "dask"):
        flags = {"one": [], "workers": ["--workers", 2], "dask": ["--dask", scheduler[0]]}[where]
        result = _invoke("detect", parted / "model", parts, "--output", tmp_path / f"{where}.csv", "--json",
                         "--skip-short", "--last", 2, *flags)
        out[where] = (tmp_path / f"{where}.csv").read_bytes()
        summaries[where] = {k: v for k, v in json.loads(result.stdout).items() if k != "cluster"}
        stderr[where] = [line for line in result.stderr.splitlines() if line.startswith(("Warning", "Band"))]
    assert out["one"] == out["workers"] == out["dask"]
    assert summaries["one"] == summaries["workers"] == summaries["dask"]
    assert stderr["one"] == stderr["dask"]
    summary = summaries["one"]
    assert summary["series"] == 40 and summary["skipped"] == 1 and summary["checked"] == 80
    assert "s13" in summary["series_with_anomalies"] and summary["calibration_errors"] > 0
    for flags in ([], ["--workers", 2]):
        # A real process: the workers of --workers write their logs to its stderr, which the
        # test runner's stream does not see. The part's worker raised the error: said once, with
        # no worker log or traceback around it.
        failed = subprocess.run(
            [sys.executable, "-m", "forecast_cli.cli", "detect", str(parted / "model"), str(parts), "--output",
             str(tmp_path / "failed.csv"), "--quiet", *map(str, flags)], capture_output=True, text=True, cwd=ROOT)
        assert failed.returncode == ExitCode.DATA, failed.stderr
        assert failed.stderr.startswith("Error: ") and "series 'new' has 5 values" in failed.stderr
        assert "Traceback" not in failed.stderr and "Compute Failed" not in failed.stderr, failed.stderr


def test_parts_that_read_their_dates_in_different_orders_are_refused(tmp_path):
    """Each part's day-month order is found from its own values: 25/12/2023 has the day first,
    while a part of 01/01/2024 to 12/01/2024 reads with the month first too (the first of twelve
    months, the custom of `/`). Training on such parts is refused, naming both, where the second
    part's days had become months."""
    from forecast_cli.cluster_train import check_agree, survey_part
    from forecast_cli.config import TrainConfig
    from forecast_cli.pipeline import ColumnOptions

    days = {"a": pd.date_range("2023-12-20", "2024-01-10"), "b": pd.date_range("2024-01-01", "2024-01-12")}
    for name, dates in days.items():
        pd.DataFrame({"unique_id": name, "ds": dates.strftime("%d/%m/%Y"), "y": 1.0 + np.arange(len(dates))}).to_csv(
            tmp_path / f"{name}.csv", index=False)
    config = TrainConfig(horizon=2, lookback=4)
    surveys = [survey_part(str(tmp_path / f"{name}.csv"), config, ColumnOptions()) for name in days]
    assert [s.columns.day_first for s in surveys] == [True, False]
    with pytest.raises(DataError, match=r"b\.csv reads its dates with the month first but .*a\.csv with the day "
                                        r"first: each part's order is found from its own values"):
        check_agree(surveys)


def test_detect_with_a_quantile_band_on_the_cluster_as_in_one_process(parted, scheduler, tmp_path):
    """A model whose quantiles make the band has no calibration round: the survey and the
    judging alone give the one-process rows."""
    _invoke("train", parted / "data.csv", "--horizon", 4, "--quantiles", "0.005,0.5,0.995", "--out",
            tmp_path / "model", *TINY, "--quiet")
    out = {}
    for where in ("one", "dask"):
        flags = ["--dask", scheduler[0]] if where == "dask" else []
        result = _invoke("detect", tmp_path / "model", parted / "parts", "--output", tmp_path / f"{where}.parquet",
                         "--json", *flags)
        assert json.loads(result.stdout)["band"] == "quantiles"
        out[where] = (tmp_path / f"{where}.parquet").read_bytes()
    assert out["one"] == out["dask"]


def test_parts_of_small_values_get_the_units_one_process_gives_them(parted, scheduler, tmp_path):
    """Series of values below 1 are counted in a larger unit before the log, each by its own
    values: from parts on the workers, the same units, model and format as in one process."""
    address, _ = scheduler
    (tmp_path / "small").mkdir()
    for part in sorted((parted / "parts").iterdir()):
        frame = pd.read_parquet(part)
        frame.assign(y=frame["y"] * 1e-6).to_parquet(tmp_path / "small" / part.name, index=False)
    args = ["train", tmp_path / "small", "--horizon", 4, *TINY, "--quiet"]
    _invoke(*args, "--out", tmp_path / "here")
    _invoke(*args, "--out", tmp_path / "there", "--dask", address)
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    assert here["series"] == there["series"] and here["format_version"] == there["format_version"] == 2
    assert {info["unit"] for info in here["series"].values()} == {1e-7}


def test_train_on_parts_names_a_default_lookback_cut_by_one_short_series(parted, scheduler, tmp_path):
    """The lengths come from the workers' survey; the warning is the one process's."""
    parts = _copy_parts(parted, tmp_path / "parts")
    frame = pd.read_parquet(parts / "part-1.parquet")
    first = frame["unique_id"].iloc[0]
    keep = (frame["unique_id"] != first) | (frame.groupby("unique_id").cumcount() < 5)
    frame[keep].to_parquet(parts / "part-1.parquet", index=False)
    result = _invoke("train", parts, "--horizon", 4, "--epochs", 1, "--units", 8, "--patience", 1, "--no-refit",
                     "--out", tmp_path / "m", "--dask", scheduler[0])
    assert f"is cut to 5, the length of the shortest series ({first!r})" in result.stderr


def test_train_on_parts_says_when_series_are_intermittent(scheduler, tmp_path):
    """The zero shares come from the workers' survey; the note is the one process's, naming the
    series with the most zeros of all the parts."""
    rng = np.random.default_rng(5)
    ds = pd.date_range("2024-01-01", periods=60, freq="D")
    (tmp_path / "parts").mkdir()
    for k in range(2):
        ids = [f"p{k}{i}" for i in range(3)]
        y = rng.poisson([[0.3], [0.4], [3.0]], (3, 60)).ravel()
        pd.DataFrame({"unique_id": np.repeat(ids, 60), "ds": np.tile(ds, 3), "y": y}).to_parquet(
            tmp_path / "parts" / f"part-{k}.parquet", index=False)
    whole = pd.concat(pd.read_parquet(p) for p in sorted((tmp_path / "parts").glob("*.parquet")))
    zeros = whole.groupby("unique_id")["y"].apply(lambda v: (v == 0).mean())
    result = _invoke("train", tmp_path / "parts", "--horizon", 7, "--lookback", 14, "--epochs", 1, "--units", 8,
                     "--patience", 1, "--no-refit", "--out", tmp_path / "m", "--dask", scheduler[0])
    assert "4 of 6 series are intermittent" in result.stderr
    assert f"e.g. {zeros.idxmax()!r}, {zeros.max():.0%} zeros" in result.stderr


def test_train_on_parts_pads_a_series_shorter_than_the_horizon_and_predict_forecasts_it_as_one_process(
        parted, scheduler, tmp_path):
    """A series of 3 months among series of 40, 4 months ahead: the workers' survey gives the
    lengths, the network reads the horizon (4) and the short series is forecast padded, on the
    workers as in one process."""
    parts = _copy_parts(parted, tmp_path / "parts")
    frame = pd.read_parquet(parts / "part-2.parquet")
    first = frame["unique_id"].iloc[0]
    frame[(frame["unique_id"] != first) | (frame.groupby("unique_id").cumcount() >= 37)].to_parquet(
        parts / "part-2.parquet", index=False)
    result = _invoke("train", parts, "--horizon", 4, "--epochs", 1, "--units", 8, "--patience", 1, "--no-refit",
                     "--out", tmp_path / "m", "--dask", scheduler[0])
    assert f"1 series shorter than the lookback of 4 ({first!r}, 3 values) is read with the first season (12 steps)" in result.stderr
    config = json.loads((tmp_path / "m" / "manifest.json").read_text())["config"]
    assert (config["lookback"], config["min_history"]) == (4, 3)
    _invoke("predict", tmp_path / "m", parts, "--output", tmp_path / "here.csv", "--quiet")
    there = _invoke("predict", tmp_path / "m", parts, "--output", tmp_path / "there.csv", "--dask", scheduler[0])
    assert (tmp_path / "here.csv").read_bytes() == (tmp_path / "there.csv").read_bytes()
    assert f"1 series shorter than the lookback of 4 ({first!r}, 3 values) is read with the first" in there.stderr
    assert len(pd.read_csv(tmp_path / "there.csv").query("unique_id == @first")) == 4


def test_parts_partitioned_by_column_values_are_forecast_and_trained_on_workers(parted, scheduler, tmp_path):
    """Parts in folders named by a column's values (bucket=0/part.parquet, as Spark's partitionBy
    writes them): each worker reads its part's column values from the folder names, so the
    cluster forecasts them as one process forecasts the plain parts, byte for byte, and trains
    the model one process trains."""
    typed = pd.read_parquet(parted / "parts")
    ids = sorted(typed["unique_id"].unique())
    bucket = typed["unique_id"].map({uid: k % 4 for k, uid in enumerate(ids)})
    typed.assign(bucket=bucket).to_parquet(tmp_path / "lake", partition_cols=["bucket"], index=False)
    _invoke("predict", parted / "model", tmp_path / "lake", "--output", tmp_path / "out.csv", "--workers", 2)
    assert (tmp_path / "out.csv").read_bytes() == (parted / "plain.csv").read_bytes()
    address, _ = scheduler
    args = ["train", tmp_path / "lake", "--horizon", 4, *TINY]
    _invoke(*args, "--quiet", "--out", tmp_path / "here")
    result = _invoke(*args, "--out", tmp_path / "there", "--dask", address)
    assert "40 series in 4 Parquet parts" in result.stderr
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    assert here["series"] == there["series"] and here["data"] == there["data"]


def test_detect_on_the_cluster_measures_in_the_survey_what_a_part_alone_already_sets(parted, scheduler, tmp_path,
                                                                                      monkeypatch):
    """Where a part's own count of series already sets the calibration stretch the whole file's
    count will (the fewest values a series from 100 series a part; here a stretch given with
    --calibration), the survey measures it and no calibration round reads the parts again: the
    same bytes as one process. With the default stretch these parts of 10 series need the round."""
    from forecast_cli import cluster_detect

    rounds = []
    each_part = cluster_detect._each_part
    monkeypatch.setattr(cluster_detect, "_each_part",
                        lambda client, what, *rest: rounds.append(what) or each_part(client, what, *rest))
    for flags in (["--calibration", 15], []):
        out = {}
        for where in ("one", "dask"):
            cluster = ["--dask", scheduler[0]] if where == "dask" else []
            _invoke("detect", parted / "model", parted / "parts", "--output", tmp_path / f"{where}.csv", "--last", 2,
                    "--quiet", *flags, *cluster)
            out[where] = (tmp_path / f"{where}.csv").read_bytes()
        assert out["one"] == out["dask"]
        assert ("the calibration of the parts" in rounds) == (not flags), rounds
        assert rounds[-1] == "the parts"
        rounds.clear()


def test_empty_parts_as_spark_and_dask_write_them_are_left_out_on_the_cluster(parted, scheduler, tmp_path):
    """A part with the schema and no rows (a partition a filter emptied) was refused on the
    cluster, where each part is a unit of work, though one process read the folder: now predict,
    detect and train leave it out, and give what they give on the parts with rows."""
    shutil.copytree(parted / "parts", tmp_path / "lake")
    pd.read_parquet(parted / "parts" / "part-0.parquet").iloc[:0].to_parquet(tmp_path / "lake" / "part-9.parquet")
    _invoke("predict", parted / "model", tmp_path / "lake", "--output", tmp_path / "out.csv", "--workers", 2)
    assert (tmp_path / "out.csv").read_bytes() == (parted / "plain.csv").read_bytes()
    _invoke("detect", parted / "model", tmp_path / "lake", "--output", tmp_path / "found.csv", "--workers", 2)
    address, _ = scheduler
    args = ["train", tmp_path / "lake", "--horizon", 4, *TINY]
    result = _invoke(*args, "--out", tmp_path / "there", "--dask", address)
    assert "40 series in 4 Parquet parts" in result.stderr
    _invoke(*args, "--quiet", "--out", tmp_path / "here")
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    assert here["series"] == there["series"] and here["data"] == there["data"]


def test_as_of_leaves_out_a_part_of_series_that_began_later_on_the_cluster_as_in_one_process(
        parted, scheduler, tmp_path):
    """Parts cut by when a series began: with --as-of before a new part's first row, that part
    holds nothing yet. One process reading the folder leaves its series out; predict, detect and
    train on the cluster do too (they failed with "no row is at or before --as-of", naming the
    part), and fail with the one process's message only when no part has a row that early."""
    parts = tmp_path / "parts"
    shutil.copytree(parted / "parts", parts)
    first = pd.read_parquet(parts / "part-0.parquet")
    first.groupby("unique_id").tail(3).assign(unique_id=lambda f: "new-" + f["unique_id"]).to_parquet(
        parts / "part-4.parquet", index=False)
    as_of = "2018-01-01"  # the last month of the new part's series is 2018-04, their first 2018-02
    for command, flags in (("predict", []), ("detect", ["--last", 2])):
        out = {}
        for where in ("one", "cluster"):
            cluster = ["--dask", scheduler[0]] if where == "cluster" else []
            _invoke(command, parted / "model", parts, "--as-of", as_of, "--output", tmp_path / f"{where}.csv",
                    "--quiet", *flags, *cluster)
            out[where] = (tmp_path / f"{where}.csv").read_bytes()
        _invoke(command, parted / "model", parted / "parts", "--as-of", as_of, "--output", tmp_path / "old.csv",
                "--quiet", *flags)
        assert out["one"] == out["cluster"] == (tmp_path / "old.csv").read_bytes(), command
        assert b"new-" not in out["cluster"]
    args = ["train", parts, "--horizon", 4, *TINY, "--as-of", as_of]
    _invoke(*args, "--quiet", "--out", tmp_path / "here")
    result = _invoke(*args, "--out", tmp_path / "there", "--dask", scheduler[0])
    assert "40 series in 4 Parquet parts" in result.stderr
    assert "Data as of 2018-01-01: 150 row(s) after it left out" in result.stderr  # 3 of 40 series and 10 new
    here, there = (json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("here", "there"))
    for key in ("config", "series", "data"):
        assert here[key] == there[key], key
    assert there["data"]["as_of"] == as_of and len(there["series"]) == 40
    errors = {}
    for where in ("one", "cluster"):
        cluster = ["--dask", scheduler[0]] if where == "cluster" else []
        for command in ("predict", "detect"):
            result = _invoke(command, parted / "model", parts, "--as-of", "2014-01-01", "--output",
                             tmp_path / "none.csv", *cluster, code=ExitCode.DATA)
            errors[where, command] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        result = _invoke("train", parts, "--horizon", 4, *TINY, "--as-of", "2014-01-01", "--out", tmp_path / "none",
                         *cluster, code=ExitCode.DATA)
        errors[where, "train"] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(set(map(tuple, errors.values()))) == 1, errors
    assert "no row is at or before --as-of 2014-01-01 (the first time is 2015-01-01)" in errors["one", "predict"][0]


def test_parts_cut_by_time_are_regrouped_by_series_on_the_cluster(parted, scheduler, tmp_path):
    """A table partitioned by day (ds=2015-01-01/ folders, as warehouses write them) holds a
    piece of every series in each part, where a cluster reads each part alone: predict, detect
    and train regroup it by series on the cluster first (they had refused it), and give what one
    process gives reading the table whole; the regrouped copy is gone afterwards. Folders of
    other columns, a bucket above the day or the year a row was loaded, say where a part lay,
    not what was recorded: left out, as one process leaves them out."""
    address, _ = scheduler
    typed = pd.read_parquet(parted / "parts")
    lake, buckets = tmp_path / "lake", tmp_path / "buckets"
    typed.assign(ds=typed["ds"].dt.strftime("%Y-%m-%d")).to_parquet(lake, partition_cols=["ds"], index=False)
    typed.assign(ds=typed["ds"].dt.strftime("%Y-%m-%d"), bucket=typed["unique_id"].str[-1:]).to_parquet(
        buckets, partition_cols=["bucket", "ds"], index=False)
    said = ("lake: the time column 'ds' names the parts' folders (ds=2015-01-01); regrouping them by series "
            "(unique_id) on the cluster first, each row moved once")
    out = tmp_path / "out"
    out.mkdir()
    for command, suffix in (("predict", "csv"), ("predict", "parquet"), ("detect", "csv")):
        here, there = out / f"{command}-here.{suffix}", out / f"{command}-there.{suffix}"
        _invoke(command, parted / "model", lake, "--output", here, "--quiet")
        result = _invoke(command, parted / "model", lake, "--output", there, "--dask", address)
        assert said in " ".join(result.stderr.split()), result.stderr
        assert there.read_bytes() == here.read_bytes(), (command, suffix)
        if command == "predict":  # 1,600 rows in 40 daily parts: a part for each of the two workers, not 40
            assert "Forecast part 2/2:" in result.stderr and "Forecast part 3/" not in result.stderr
    assert (out / "predict-there.csv").read_bytes() == (parted / "plain.csv").read_bytes()
    _invoke("predict", parted / "model", buckets, "--output", out / "buckets.csv", "--dask", address)
    assert (out / "buckets.csv").read_bytes() == (parted / "plain.csv").read_bytes()
    typed.assign(loaded=typed["ds"].dt.year.astype(str)).to_parquet(tmp_path / "loads", partition_cols=["loaded"],
                                                                       index=False)
    result = _invoke("predict", parted / "model", tmp_path / "loads", "--output", out / "loads.csv", "--dask", address)
    assert "loaded=2015/" in result.stderr and "loaded=2016/" in result.stderr
    assert (out / "loads.csv").read_bytes() == (parted / "plain.csv").read_bytes()
    # train: the network one process trains on the table (the same forecast)
    _invoke("train", lake, "--horizon", 4, *TINY, "--out", tmp_path / "here", "--quiet")
    _invoke("train", lake, "--horizon", 4, *TINY, "--out", tmp_path / "there", "--dask", address)
    for model in ("here", "there"):
        _invoke("predict", tmp_path / model, parted / "data.csv", "--output", out / f"{model}.csv", "--quiet")
    assert (out / "there.csv").read_bytes() == (out / "here.csv").read_bytes()
    assert _leftovers(out) == [] and _leftovers(tmp_path) == []


def test_files_a_day_or_of_one_series_are_regrouped_on_the_cluster(parted, scheduler, tmp_path):
    """Plain files of one time each (a file a month here; the first two hold the same series),
    and a series without an id column cut into files of a few years: each file alone was a
    series too short, or of no frequency (predict and train failed). Regrouped on the cluster
    first (one part for the id-less series), they are forecast as one process forecasts them."""
    address, _ = scheduler
    typed = pd.read_parquet(parted / "parts")
    (tmp_path / "files").mkdir()
    for k, (_, rows) in enumerate(typed.groupby("ds")):
        rows.to_parquet(tmp_path / "files" / f"{k:03d}.parquet", index=False)
    result = _invoke("predict", parted / "model", tmp_path / "files", "--output", tmp_path / "f.csv", "--dask", address)
    assert "000.parquet and 001.parquet hold the same series; regrouping them by series" in " ".join(
        result.stderr.split())
    assert (tmp_path / "f.csv").read_bytes() == (parted / "plain.csv").read_bytes()
    # dates stored as Parquet dates stay dates in a Parquet forecast, as one process writes it
    (tmp_path / "dates").mkdir()
    for k, (_, rows) in enumerate(typed.groupby("ds")):
        rows.assign(ds=rows["ds"].dt.date).to_parquet(tmp_path / "dates" / f"{k:03d}.parquet", index=False)
    for where, flags in (("here", []), ("there", ["--dask", address])):
        _invoke("predict", parted / "model", tmp_path / "dates", "--output", tmp_path / f"dates-{where}.parquet", *flags)
    assert (tmp_path / "dates-there.parquet").read_bytes() == (tmp_path / "dates-here.parquet").read_bytes()
    _invoke("train", tmp_path / "files", "--horizon", 4, *TINY, "--out", tmp_path / "m", "--dask", address)
    _invoke("predict", tmp_path / "m", parted / "data.csv", "--output", tmp_path / "there.csv", "--quiet")
    _invoke("train", parted / "parts", "--horizon", 4, *TINY, "--out", tmp_path / "m1", "--quiet")
    _invoke("predict", tmp_path / "m1", parted / "data.csv", "--output", tmp_path / "here.csv", "--quiet")
    assert (tmp_path / "there.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()
    # one series, no id column, in three files
    one = typed[typed["unique_id"] == "s0"].drop(columns="unique_id")
    (tmp_path / "one").mkdir()
    for k in range(3):
        one.iloc[k * 14:(k + 1) * 14].to_parquet(tmp_path / "one" / f"y{k}.parquet", index=False)
    _invoke("train", tmp_path / "one", "--horizon", 4, *TINY, "--out", tmp_path / "m2", "--quiet")
    _invoke("predict", tmp_path / "m2", tmp_path / "one", "--output", tmp_path / "one-here.csv", "--quiet")
    result = _invoke("predict", tmp_path / "m2", tmp_path / "one", "--output", tmp_path / "one-there.csv",
                     "--dask", address)
    assert "its 3 parts have no id column: each holds a piece of the same series; joining them" in (
        " ".join(result.stderr.split()))
    assert (tmp_path / "one-there.csv").read_bytes() == (tmp_path / "one-here.csv").read_bytes()
    assert _leftovers(tmp_path) == []


def test_train_on_a_table_cut_by_time_asks_for_an_id_it_cannot_know(scheduler, tmp_path):
    """`Date,Store,Sales` partitioned by day, trained without --id-col: no unique_id column to
    regroup the days by, and an id found from the values is found part by part. The error asks
    for --id-col; given it, the parts are regrouped and the one-process model trained."""
    stores = make_long(3, 40).rename(columns={"unique_id": "Store", "ds": "Date", "y": "Sales"})
    stores.assign(Date=stores["Date"].dt.strftime("%Y-%m-%d")).to_parquet(tmp_path / "lake", partition_cols=["Date"],
                                                                          index=False)
    result = _invoke("train", tmp_path / "lake", "--horizon", 4, *TINY, "--out", tmp_path / "m", "--dask", scheduler[0],
                     code=ExitCode.DATA)
    assert "the time column 'Date' names the parts' folders (Date=2015-01-01)" in result.stderr
    assert "Name the id column(s) with --id-col" in " ".join(result.stderr.split()) and not (tmp_path / "m").exists()
    for where, flags in (("here", []), ("there", ["--dask", scheduler[0]])):
        _invoke("train", tmp_path / "lake", "--id-col", "Store", "--horizon", 4, *TINY, "--out", tmp_path / where,
                *flags)
    forecasts = [_invoke("predict", tmp_path / m, tmp_path / "lake").stdout for m in ("here", "there")]
    assert forecasts[0] == forecasts[1] and forecasts[0].count("\n") == 13
