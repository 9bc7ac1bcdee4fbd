"""The everyday conveniences: --version, shell completion, --output-dir made when missing,
`forecast inspect`, and training settings from a --config TOML file."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli import __version__
from forecast_cli.cli import app
from forecast_cli.errors import ExitCode
from tests.conftest import TINY

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"forecast {__version__}\n"


def test_shell_completion_is_offered():
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_output_dir_is_created_when_missing(trained_model, tmp_path):
    model_dir, data = trained_model
    out = tmp_path / "nightly" / "out"
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (out / f"{data.stem}.forecast.csv").is_file()
    refused = tmp_path / "refused"  # a usage error leaves no new folder behind
    result = runner.invoke(app, ["predict", str(model_dir), str(data), str(data.with_name("other.csv")),
                                 "--output-dir", str(refused), "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == ExitCode.USAGE and not refused.exists()
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("x")
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output-dir", str(in_the_way)])
    assert result.exit_code == ExitCode.OUTPUT and "is a file; expected a folder" in result.stderr


def test_inspect_says_what_a_model_is(trained_model):
    model_dir, data = trained_model
    result = runner.invoke(app, ["inspect", str(model_dir), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert summary["trained_on"]["source"] == data.name and summary["trained_on"]["series"] == 3
    assert summary["trained_on"]["sha256"] == manifest["data"]["sha256"]
    assert (summary["trained_on"]["freq"], summary["trained_on"]["season"]) == ("MS", 12)
    assert (summary["forecast"]["horizon"], summary["forecast"]["lookback"]) == (4, 8)
    assert summary["config"] == manifest["config"] and summary["versions"]["forecast"] == __version__
    assert summary["validation"] == json.loads((model_dir / "metrics.json").read_text())
    text = runner.invoke(app, ["inspect", str(model_dir)])
    assert text.exit_code == 0 and text.stdout == ""  # a person's view goes to stderr
    assert f"trained on {data.name}" in text.stderr and "4 steps from the last 8" in text.stderr
    assert "validation 3 windows: forecast MASE" in text.stderr


def test_inspect_gives_mae_where_a_series_repeats_its_season_exactly(tmp_path):
    """Seasonal naive has no error on the history of a series that repeats its season exactly, so
    there is no MASE: the validation line gave no score at all; it gives the MAE."""
    import pandas as pd

    pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=60, freq="D"),
                  "y": [10, 12, 15, 11, 9, 20, 25] * 8 + [10, 12, 15, 11]}).to_csv(tmp_path / "week.csv", index=False)
    trained = runner.invoke(app, ["train", str(tmp_path / "week.csv"), "--horizon", "7", "--out", str(tmp_path / "m"),
                                  *TINY])
    assert trained.exit_code == 0, trained.output
    text = runner.invoke(app, ["inspect", str(tmp_path / "m")])
    assert re.search(r"validation 1 window: forecast MAE [\d.e-]+; LSTM alone MAE .*; seasonal naive MAE 0\n",
                     text.stderr), text.stderr


def test_inspect_says_when_metrics_json_cannot_be_read(trained_model, tmp_path):
    """A metrics.json that is not JSON was reported as "no metrics.json in the model directory",
    as though it were missing. It says what is wrong with it (predict never reads it)."""
    import shutil

    model_dir, _ = trained_model
    shutil.copytree(model_dir, tmp_path / "m")
    (tmp_path / "m" / "metrics.json").write_text("{broken")
    result = runner.invoke(app, ["inspect", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "validation metrics.json cannot be read (Expecting property name" in result.stderr
    summary = json.loads(runner.invoke(app, ["inspect", str(tmp_path / "m"), "--json"]).stdout)
    assert summary["validation"] is None and summary["validation_unreadable"].startswith("Expecting property name")


def test_inspect_refuses_what_is_not_a_model(tmp_path):
    result = runner.invoke(app, ["inspect", str(tmp_path)])
    assert result.exit_code == ExitCode.MODEL and "has no manifest.json" in result.stderr


def test_settings_from_a_config_file_and_flags_win(long_csv, tmp_path):
    settings = tmp_path / "train.toml"
    settings.write_text('horizon = 4\nlookback = 8\nepochs = 2\nunits = 8\npatience = 1\nrefit = false\n'
                        'window-norm = "last"\nquantiles = [0.1, 0.9]\nseed = 5\n')
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", str(long_csv), "--config", str(settings), "--seed", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "manifest.json").read_text())["config"]
    assert (config["horizon"], config["lookback"], config["units"], config["refit"]) == (4, 8, 8, False)
    assert config["window_norm"] == "last" and config["quantiles"] == [0.1, 0.5, 0.9]
    assert config["seed"] == 9  # the command line wins over the file


def test_column_roles_from_a_config_file(tmp_path):
    from tests.conftest import make_long

    frame = make_long(2, 36).rename(columns={"unique_id": "store", "ds": "when", "y": "sales"})
    frame["price"] = 1.0
    path = tmp_path / "named.csv"
    frame.to_csv(path, index=False)
    settings = tmp_path / "train.toml"
    settings.write_text('horizon = 4\nid-col = "store"\ntime_col = "when"\ntarget-col = "sales"\n'
                        'past-covariates = "none"\nfreq = "MS"\n')
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", str(path), "--config", str(settings), "--out", str(out), *TINY])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["columns"]["id_col"], manifest["columns"]["time_col"], manifest["columns"]["target_col"]) == (
        "store", "when", "sales")
    assert manifest["config"]["past_covariates"] == [] and set(manifest["series"]) == {"s0", "s1"}


@pytest.mark.parametrize(("text", "message"), [
    ("horizon = 4\ncolour = 'red'\n", r"'colour' is not a training setting\. Expected flag names such as aggregate, baseline"),
    ("horizon = 4\nepoch = 3\n", r"'epoch' is not a training setting\. Did you mean 'epochs'\?"),
    ("[train]\nhorizon = 4\n", r"'train' is not a training setting\. Settings are top-level lines \(lookback = 48\), "
                               r"not a \[train\] table"),
    ("horizon = 4\nlookback = 'long'\n", r"lookback should be a whole number. Received: 'long'"),
    ("horizon = 4\nrefit = 1\n", r"refit should be true or false"),
    ("horizon = = 4\n", r"is not valid TOML"),
    ("horizon = 4\nas-of = '2018-01-01'\n", r"'as-of' is not a training setting\. The data's cut-off .* --as-of\."),
    ("horizon = 0\n", r"--horizon must be a whole number of at least 1. Received: horizon=0"),
])
def test_bad_config_files_are_usage_errors(long_csv, tmp_path, text, message):
    settings = tmp_path / "train.toml"
    settings.write_text(text)
    result = runner.invoke(app, ["backtest", str(long_csv), "--config", str(settings), *TINY])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.startswith("Error: ") and re.search(message, result.stderr), result.stderr


def test_a_missing_config_file_is_named(long_csv, tmp_path):
    result = runner.invoke(app, ["train", str(long_csv), "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == ExitCode.USAGE and "nope.toml: no such file" in result.stderr


def _stores_and_products(length: int = 40):
    """A retailer's export: each series is a store and a product together (store 1's bread,
    store 2's bread, ...), the store a number, the product a name."""
    import pandas as pd

    from tests.conftest import make_long

    frame = make_long(4, length)
    return pd.DataFrame({"date": frame["ds"], "store_nbr": frame["unique_id"].str[1:].astype(int) % 2 + 1,
                         "family": ["BREAD" if int(u[1:]) < 2 else "MILK" for u in frame["unique_id"]],
                         "sales": frame["y"]})


def test_series_told_apart_by_several_columns_are_named_with_one_id_col(tmp_path):
    """`--id-col store_nbr,family` joins the columns into one id (1/BREAD) in train, in predict
    (the model reads later files so) and in evaluate's actuals; without it the errors say to
    name both, and a column it names that the file lacks is named."""
    import pandas as pd

    frame = _stores_and_products()
    frame.to_csv(tmp_path / "sales.csv", index=False)
    refused = runner.invoke(app, ["train", str(tmp_path / "sales.csv"), "--horizon", "4", *TINY])
    assert refused.exit_code == ExitCode.USAGE
    assert ("told apart by 'family' and 'store_nbr' together: name both with --id-col store_nbr,family"
            in refused.stderr)
    refused = runner.invoke(app, ["train", str(tmp_path / "sales.csv"), "--horizon", "4", "--id-col", "store_nbr",
                                  *TINY])
    assert refused.exit_code == ExitCode.DATA and "name them all: --id-col store_nbr,family" in refused.stderr
    model = tmp_path / "model"
    trained = runner.invoke(app, ["train", str(tmp_path / "sales.csv"), "--horizon", "4", "--id-col",
                                  "store_nbr,family", "--out", str(model), *TINY])
    assert trained.exit_code == 0, trained.output
    assert "4 series (long format)" in trained.stderr and "id='store_nbr,family'" in trained.stderr
    forecast = runner.invoke(app, ["predict", str(model), str(tmp_path / "sales.csv"), "--output",
                                   str(tmp_path / "f.csv")])
    assert forecast.exit_code == 0, forecast.output
    written = pd.read_csv(tmp_path / "f.csv")
    assert sorted(written["unique_id"].unique()) == ["1/BREAD", "1/MILK", "2/BREAD", "2/MILK"]
    # an export that now writes the store numbers as decimals names no series the model knows: a warning, as with one id
    frame.astype({"store_nbr": float}).to_csv(tmp_path / "decimal.csv", index=False)
    decimal = runner.invoke(app, ["predict", str(model), str(tmp_path / "decimal.csv"), "--output",
                                  str(tmp_path / "d.csv")])
    assert decimal.exit_code == 0, decimal.output
    assert ("decimal.csv: 4 of its 4 series are not ones the model was trained on, and 4 of those are the model's ids "
            "written another way ('1.0/BREAD' here, '1/BREAD' in training): column 'store_nbr' stored as decimal "
            "numbers?"
            ) in " ".join(decimal.stderr.split())
    later = _stores_and_products(44)
    later.groupby(["store_nbr", "family"]).tail(4).to_csv(tmp_path / "actuals.csv", index=False)
    scored = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "actuals.csv"), "--id-col",
                                 "store_nbr,family", "--json"])
    assert scored.exit_code == 0, scored.output
    summary = json.loads(scored.stdout)
    assert summary["matched"] == 16 and summary["unmatched_forecasts"] == 0
    assert sorted(row["unique_id"] for row in summary["by_series"]) == ["1/BREAD", "1/MILK", "2/BREAD", "2/MILK"]
    frame.assign(note="x").to_csv(tmp_path / "noted.csv", index=False)
    noted = runner.invoke(app, ["predict", str(model), str(tmp_path / "noted.csv")])
    assert noted.exit_code == ExitCode.DATA
    assert "(unexpected: note). Expected date, store_nbr, family, sales;" in noted.stderr
    frame.rename(columns={"family": "product"}).to_csv(tmp_path / "other.csv", index=False)
    missing = runner.invoke(app, ["predict", str(model), str(tmp_path / "other.csv")])
    assert missing.exit_code == ExitCode.DATA
    assert "its series are told apart by store_nbr, family together, and" in missing.stderr
    assert "other.csv has no column 'family'" in missing.stderr
    missing = runner.invoke(app, ["train", str(tmp_path / "other.csv"), "--id-col", "store_nbr,family", *TINY])
    assert missing.exit_code == ExitCode.USAGE
    assert "--id-col 'store_nbr,family': " in missing.stderr and "has no column 'family'" in missing.stderr
    # a row with an empty part is named by its line; values that join alike are named
    frame.astype({"store_nbr": object}).assign(store_nbr=lambda f: f["store_nbr"].mask(f.index == 5)).to_csv(
        tmp_path / "empty.csv", index=False)
    empty = runner.invoke(app, ["train", str(tmp_path / "empty.csv"), "--id-col", "store_nbr,family", *TINY])
    assert empty.exit_code == ExitCode.DATA and "line 7: column 'store_nbr,family' is empty" in empty.stderr
    frame.assign(store_nbr=frame["store_nbr"].map({1: "x", 2: "x/MILK"}),
                 family=frame["family"].where(frame["store_nbr"] == 1, "B").replace("MILK", "MILK/B")).to_csv(
        tmp_path / "alike.csv", index=False)
    alike = runner.invoke(app, ["train", str(tmp_path / "alike.csv"), "--id-col", "store_nbr,family", *TINY])
    assert alike.exit_code == ExitCode.USAGE, alike.output
    assert "the values ('x/MILK', 'B') and ('x', 'MILK/B')" in alike.stderr and "give one id, 'x/MILK/B'" in alike.stderr


def test_forecasts_of_several_id_columns_carry_those_columns_to_join_back(tmp_path):
    """The outputs of a model with `--id-col store_nbr,family` hold store_nbr and family beside
    the joined unique_id, each with the series' own values (a family holding the `/` of the id,
    BREAD/BAKERY, cannot be split back out of `1/BREAD/BAKERY`), so they join to the data by
    those columns; a Parquet table's store numbers stay numbers. Predict, detect and backtest."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _stores_and_products().replace({"family": {"BREAD": "BREAD/BAKERY"}})
    frame.to_csv(tmp_path / "sales.csv", index=False)
    frame.assign(date=pd.to_datetime(frame["date"])).to_parquet(tmp_path / "sales.parquet", index=False)
    model = tmp_path / "model"
    trained = runner.invoke(app, ["train", str(tmp_path / "sales.parquet"), "--horizon", "4", "--id-col",
                                  "store_nbr,family", "--out", str(model), *TINY])
    assert trained.exit_code == 0, trained.output
    pairs = frame[["store_nbr", "family"]].drop_duplicates()
    for name in ("f.csv", "f.parquet"):
        source = tmp_path / ("sales.parquet" if name.endswith("parquet") else "sales.csv")
        done = runner.invoke(app, ["predict", str(model), str(source), "--output", str(tmp_path / name)])
        assert done.exit_code == 0, done.output
        written = pd.read_csv(tmp_path / name) if name.endswith("csv") else pd.read_parquet(tmp_path / name)
        assert list(written.columns) == ["unique_id", "store_nbr", "family", "ds", "yhat"]
        assert (written["unique_id"] == written["store_nbr"].astype(str) + "/" + written["family"]).all()
        joined = written.merge(pairs, on=["store_nbr", "family"], validate="many_to_one")
        assert len(joined) == len(written) == 16 and set(written["family"]) == {"BREAD/BAKERY", "MILK"}
    assert pq.read_schema(tmp_path / "f.parquet").field("store_nbr").type == pa.int64()
    # evaluate reads the actuals by the columns the forecasts carry, with no --id-col, and its
    # scores carry them (as a CSV writes them: text); actuals whose ids were joined already are
    # read by their unique_id as before
    later = _stores_and_products(44).replace({"family": {"BREAD": "BREAD/BAKERY"}})
    later.to_csv(tmp_path / "actuals.csv", index=False)
    later.assign(unique_id=later["store_nbr"].astype(str) + "/" + later["family"]).drop(
        columns=["store_nbr", "family"]).to_csv(tmp_path / "joined.csv", index=False)
    for name, actuals in (("f.csv", "actuals.csv"), ("f.parquet", "actuals.csv"), ("f.csv", "joined.csv")):
        scored = runner.invoke(app, ["evaluate", str(tmp_path / name), str(tmp_path / actuals), "--json"])
        assert scored.exit_code == 0, scored.output
        assert json.loads(scored.stdout)["matched"] == 16, (name, actuals)
        first = json.loads(scored.stdout)["by_series"][0]
        assert (first["unique_id"], first.get("store_nbr"), first.get("family")) == (
            ("1/BREAD/BAKERY", "1", "BREAD/BAKERY") if actuals == "actuals.csv" else ("1/BREAD/BAKERY", None, None))
    spiked = frame.copy()
    last = spiked.index[(spiked["store_nbr"] == 2) & (spiked["family"] == "BREAD/BAKERY")][-1]
    spiked.loc[last, "sales"] *= 10  # an anomaly, for detect to name by its columns too
    spiked.assign(date=pd.to_datetime(spiked["date"])).to_parquet(tmp_path / "spiked.parquet", index=False)
    found = runner.invoke(app, ["detect", str(model), str(tmp_path / "spiked.parquet"), "--last", "2", "--output",
                                str(tmp_path / "d.csv"), "--json"])
    assert found.exit_code == 0, found.output
    checked = pd.read_csv(tmp_path / "d.csv")
    assert list(checked.columns[:4]) == ["unique_id", "store_nbr", "family", "ds"] and len(checked) == 8
    assert (checked["unique_id"] == checked["store_nbr"].astype(str) + "/" + checked["family"]).all()
    told = json.loads(found.stdout)["found"]
    assert {"unique_id": "2/BREAD/BAKERY", "store_nbr": 2, "family": "BREAD/BAKERY"}.items() <= told[0].items()
    tested = runner.invoke(app, ["backtest", str(tmp_path / "sales.csv"), "--id-col", "store_nbr,family",
                                 "--horizon", "4", "--folds", "1", "--output-dir", str(tmp_path / "bt"), *TINY])
    assert tested.exit_code == 0, tested.output
    folds = pd.read_csv(tmp_path / "bt" / "forecasts.csv")
    assert list(folds.columns[:4]) == ["fold", "unique_id", "store_nbr", "family"]
    assert (folds["unique_id"] == folds["store_nbr"].astype(str) + "/" + folds["family"]).all()


def _sales_at_any_time(days: int, seed: int = 0):
    """Two shops' sales at any time of day, several a day, in no order (a till's export)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for shop in ("north", "south"):
        for day in range(days):
            for _ in range(int(rng.integers(3, 8))):
                t = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day, seconds=int(rng.integers(8 * 3600, 20 * 3600)))
                rows.append((shop, t.strftime("%Y-%m-%d %H:%M:%S"), round(float(rng.gamma(2, 10)), 2)))
    return pd.DataFrame(rows, columns=["shop", "time", "amount"]).sample(frac=1, random_state=seed)


def test_sales_at_any_time_are_summed_per_day_by_train_predict_and_evaluate(tmp_path):
    """`--freq D --aggregate sum` trains on each shop's daily totals; the model sums a later
    file's sales the same way (recorded in its manifest), and evaluate sums the actual sales."""
    import pandas as pd

    _sales_at_any_time(60).to_csv(tmp_path / "sales.csv", index=False)
    flags = ["--freq", "D", "--aggregate", "sum", "--horizon", "7", *TINY]
    alone = runner.invoke(app, ["train", str(tmp_path / "sales.csv"), "--out", str(tmp_path / "one"), *flags])
    assert alone.exit_code == 0, alone.output  # the shops summed together, with the fix said
    assert "summed as one series, and 'shop' not read; if they tell series apart, name them with --id-col shop" \
        in alone.stderr
    model = tmp_path / "model"
    trained = runner.invoke(app, ["train", str(tmp_path / "sales.csv"), "--id-col", "shop", "--out", str(model), *flags])
    assert trained.exit_code == 0, trained.output
    assert "2 series (long format), 120 rows" in trained.stderr and "rows summed into 120 periods of D" in trained.stderr
    assert json.loads((model / "manifest.json").read_text())["config"]["aggregate"] == "sum"
    inspected = runner.invoke(app, ["inspect", str(model)])
    assert "dates, frequency D (summed per period: --aggregate sum)" in inspected.output
    later = _sales_at_any_time(67)  # a week more of sales
    later[pd.to_datetime(later["time"]) < "2024-03-01"].to_csv(tmp_path / "later.csv", index=False)
    forecast = runner.invoke(app, ["predict", str(model), str(tmp_path / "later.csv"), "--output", str(tmp_path / "f.csv")])
    assert forecast.exit_code == 0, forecast.output
    written = pd.read_csv(tmp_path / "f.csv")
    assert written.groupby("unique_id")["ds"].first().tolist() == ["2024-03-01", "2024-03-01"]
    later.to_csv(tmp_path / "actuals.csv", index=False)
    scored = runner.invoke(app, ["evaluate", str(tmp_path / "f.csv"), str(tmp_path / "actuals.csv"), "--id-col", "shop",
                                 "--freq", "D", "--aggregate", "sum", "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["matched"] == 14
    refused = runner.invoke(app, ["doctor", str(tmp_path / "sales.csv"), "--aggregate", "sum"])
    assert refused.exit_code == ExitCode.USAGE and "--aggregate sum needs --freq" in refused.stderr
    # the shops as the folders' names (shop=north/): the partition column, left out, is named too
    sales = pd.read_csv(tmp_path / "sales.csv")
    sales.assign(time=pd.to_datetime(sales["time"])).to_parquet(tmp_path / "parts", partition_cols=["shop"], index=False)
    checked = runner.invoke(app, ["doctor", str(tmp_path / "parts"), "--freq", "D", "--aggregate", "sum"])
    assert "summed as one series, and 'shop' not read; if they tell series apart, name them with --id-col shop" \
        in checked.stderr, checked.stderr


def test_train_backtest_and_doctor_read_the_data_as_of_a_time(tmp_path):
    """`--as-of` on train, backtest and doctor reads the rows up to that time only, as predict's
    does: a model trained on a growing file as of a day is the model of the file cut there (and
    says so in the manifest, `inspect` and --json), a backtest's last fold ends there."""
    from tests.conftest import make_long

    frame = make_long(3, 40)  # months 2015-01 to 2018-04
    frame.to_csv(tmp_path / "all.csv", index=False)
    frame[frame["ds"] <= "2017-12-01"].to_csv(tmp_path / "cut.csv", index=False)
    args = ["--horizon", "4", *TINY]
    result = runner.invoke(app, ["train", str(tmp_path / "all.csv"), "--as-of", "2017-12", "--out", str(tmp_path / "a"),
                                 "--json", *args])
    assert result.exit_code == 0, result.output
    assert "Data as of 2017-12: 12 row(s) after it left out" in result.stderr
    assert json.loads(result.stdout)["as_of"] == "2017-12"
    assert runner.invoke(app, ["train", str(tmp_path / "cut.csv"), "--out", str(tmp_path / "c"), "--quiet",
                               *args]).exit_code == 0
    manifests = [json.loads((tmp_path / m / "manifest.json").read_text()) for m in ("a", "c")]
    assert manifests[0]["series"] == manifests[1]["series"] and manifests[0]["config"] == manifests[1]["config"]
    assert manifests[0]["data"]["as_of"] == "2017-12" and "as_of" not in manifests[1]["data"]
    forecasts = [runner.invoke(app, ["predict", str(tmp_path / m), str(tmp_path / "cut.csv")]).stdout for m in "ac"]
    assert forecasts[0] == forecasts[1] and "2018-01-01" in forecasts[0]
    shown = runner.invoke(app, ["inspect", str(tmp_path / "a")]).stderr
    assert "trained on all.csv (sha256 " in shown and "...) as of 2017-12: 3 series" in shown

    result = runner.invoke(app, ["backtest", str(tmp_path / "all.csv"), "--as-of", "2017-12-01", "--folds", "2",
                                 "--output-dir", str(tmp_path / "bt"), "--json", "--quiet", *args])
    assert result.exit_code == 0, result.output
    folds = json.loads(result.stdout)
    assert folds["as_of"] == "2017-12-01"
    scored = pd.read_csv(tmp_path / "bt" / "forecasts.csv")
    assert scored["ds"].max() == "2017-12-01" and scored["ds"].min() == "2017-05-01"

    result = runner.invoke(app, ["doctor", str(tmp_path / "all.csv"), "--as-of", "2017-12", "--horizon", "4"])
    assert result.exit_code == 0, result.output
    assert "data as of 2017-12: 12 row(s) after it left out" in result.stderr
    assert "series lengths 36 to 36" in result.stderr
