"""data.py: reading, column detection, frequency, regular grid and filling."""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import shlex
import subprocess
import sys
import zipfile

import pandas as pd
import pytest

import numpy as np

from forecast_cli.data import Written, load_series
from forecast_cli.errors import DataError, UsageError
from forecast_cli.timegrid import WEEKS, calendar_columns, default_horizon
from tests.conftest import ROOT, SAMPLE, make_long


def test_single_series_detects_columns_and_monthly_frequency():
    ds = load_series(SAMPLE / "airpassengers.csv")
    assert (ds.columns.time_col, ds.columns.target_col, ds.columns.id_col) == ("month", "passengers", None)
    assert ds.freq == "MS" and ds.season == 12 and ds.time_kind == "datetime"
    assert len(ds.frame) == 144 and ds.frame["unique_id"].unique().tolist() == ["passengers"]
    assert ds.frame["y"].iloc[0] == 112


def test_long_format_is_detected_and_sorted(tmp_path):
    frame = make_long(3, 30).sample(frac=1, random_state=1)
    frame.to_csv(tmp_path / "d.csv", index=False)
    ds = load_series(tmp_path / "d.csv")
    assert ds.columns.id_col == "unique_id" and ds.n_series == 3
    for _, group in ds.frame.groupby("unique_id"):
        assert group["ds"].is_monotonic_increasing


def test_integer_time_gives_integer_steps_and_season_one():
    ds = load_series(SAMPLE / "nile_yearly.csv")
    assert ds.time_kind == "integer" and ds.step == 1 and ds.season == 1 and ds.freq is None


def test_missing_values_are_interpolated_and_counted():
    ds = load_series(SAMPLE / "co2_weekly_maunaloa.csv")
    assert ds.filled == 59 and ds.frame["y"].notna().all()
    assert ds.freq.startswith("W-") and ds.season == 52


def test_fill_none_refuses_gaps():
    with pytest.raises(DataError, match="missing value"):
        load_series(SAMPLE / "co2_weekly_maunaloa.csv", fill="none")


def test_missing_timestamps_are_put_on_the_grid(tmp_path):
    frame = make_long(1, 24).drop(index=[5, 6])
    frame.to_csv(tmp_path / "gap.csv", index=False)
    ds = load_series(tmp_path / "gap.csv")
    assert len(ds.frame) == 24 and ds.filled == 2


def test_half_hourly_season_is_a_day():
    ds = load_series(SAMPLE / "taylor_halfhourly_electricity.csv")
    assert ds.freq == "30min" and ds.season == 48


def _shops(days: list[str], length: int = 30) -> pd.DataFrame:
    """Weekly series, one per weekday named (`SUN`, `MON`, ...), each on its own day."""
    return pd.concat([make_long(1, length, freq=f"W-{day}", seed=k).assign(unique_id=f"shop{k:02d}")
                      for k, day in enumerate(days)], ignore_index=True)


def test_weekly_series_on_different_weekdays_are_weekly_data(tmp_path):
    """Shops whose weeks end on different days were refused as of different frequencies, and
    --freq, which the error advised, put every shop but one off its grid. Also when the one shop
    of another day is not among the series the frequency is inferred from (40 of 45 here)."""
    frame = _shops(["SUN", "MON", "WED"]).drop(index=[40])  # a missing week of the Monday shop
    frame.to_csv(tmp_path / "shops.csv", index=False)
    dataset = load_series(tmp_path / "shops.csv")
    assert dataset.freq == WEEKS and dataset.season == 52 and dataset.seasons == (52,) and dataset.filled == 1
    assert ("weeks ending on different days (W-SUN for series 'shop00', W-MON for 'shop01'): each series every 7 "
            "days from its own day") in dataset.describe()
    for k, group in dataset.frame.groupby("unique_id"):
        expected = pd.date_range(group["ds"].iloc[0], periods=30, freq="7D")
        assert group["ds"].tolist() == list(expected) and group["ds"].dt.dayofweek.nunique() == 1
    assert default_horizon(WEEKS) == 13 and calendar_columns(WEEKS) == calendar_columns("W-SUN")
    assert load_series(tmp_path / "shops.csv", freq="W").freq == WEEKS  # weekly, any day
    one_off = _shops(["SUN"] * 17 + ["MON"] + ["SUN"] * 27)
    one_off.to_csv(tmp_path / "one_off.csv", index=False)
    assert load_series(tmp_path / "one_off.csv").freq == WEEKS
    _shops(["SAT", "SAT"]).to_csv(tmp_path / "saturdays.csv", index=False)
    assert load_series(tmp_path / "saturdays.csv").freq == "W-SAT"
    assert load_series(tmp_path / "saturdays.csv", freq="W").freq == "W-SAT"  # W names no day: the data's
    with pytest.raises(DataError, match=r"off the regular frequency W-SUN grid"):
        load_series(tmp_path / "saturdays.csv", freq="W-SUN")  # a day named is kept to
    moved = _shops(["SUN", "MON"])
    moved.loc[35, "ds"] += pd.Timedelta(days=1)  # the Monday shop's sixth week on a Tuesday
    moved.to_csv(tmp_path / "moved.csv", index=False)
    with pytest.raises(DataError, match=r"series 'shop01' has the timestamp 2015-02-10, which is off the regular "
                                        r"frequency 7D grid"):
        load_series(tmp_path / "moved.csv")


def test_a_series_id_that_is_a_word_for_missing_is_an_id(tmp_path):
    """Namibia's code NA (or a product `null`) was read as an empty id and the file refused; in a
    column of numbers NA is still a missing value, and in the time column an empty time."""
    frame = pd.concat([make_long(1, 30, seed=k).assign(unique_id=uid) for k, uid in enumerate(["NA", "DE", "null"])])
    frame = frame.astype({"ds": str, "y": str})
    frame.iloc[[5, 40], frame.columns.get_loc("y")] = ["NA", "NULL"]
    frame.to_csv(tmp_path / "countries.csv", index=False)
    dataset = load_series(tmp_path / "countries.csv")
    assert sorted(dataset.frame["unique_id"].unique()) == ["DE", "NA", "null"]
    assert dataset.missing_values == 2 and dataset.frame["y"].notna().all()
    frame.iloc[7, frame.columns.get_loc("ds")] = "NA"
    frame.to_csv(tmp_path / "no_time.csv", index=False)
    with pytest.raises(DataError, match=r"line 9: the time column 'ds' is empty"):
        load_series(tmp_path / "no_time.csv")


def test_as_of_ignores_later_rows(tmp_path):
    path = tmp_path / "d.csv"
    frame = make_long(2, 30).astype({"y": object})
    frame.loc[frame.index[-1], "y"] = "junk after the cut-off"
    frame.to_csv(path, index=False)
    ds = load_series(path, as_of="2016-06-01")
    assert ds.frame.groupby("unique_id")["ds"].max().eq(pd.Timestamp("2016-06-01")).all()
    with pytest.raises(DataError, match="no row is at or before --as-of 1990-01-01"):
        load_series(path, as_of="1990-01-01")
    with pytest.raises(UsageError, match="--as-of 'soon' is not a date"):
        load_series(path, as_of="soon")
    # pandas reads these as in the year 1, and as today at that time: no cut-off anyone meant
    for written, missing in (("Jun 1", "year"), ("Jun", "year"), ("13:00", "date"), ("1:00 PM", "date")):
        with pytest.raises(UsageError, match=f"--as-of '{written}' has no {missing}; expected e.g. 2024-01-31"):
            load_series(path, as_of=written)


def _transactions(path, zone: str = ""):
    """Sales at any time of day, in no order: shop a sells on days 1, 1, 3 (none on day 2) and
    a last sale on day 5; shop b on days 1 to 5, one empty amount on day 4."""
    rows = [("a", "2024-01-03 10:00", "4"), ("b", "2024-01-02 09:30", "1"), ("a", "2024-01-01 17:45", "3"),
            ("b", "2024-01-01 08:00", "2"), ("a", "2024-01-01 09:15", "2"), ("b", "2024-01-03 12:00", "3"),
            ("b", "2024-01-04 12:00", ""), ("b", "2024-01-05 23:59", "5"), ("a", "2024-01-05 00:00", "6"),
            ("b", "2024-01-04 18:00", "2")]
    path.write_text("shop,time,amount\n" + "".join(f"{s},{t}{zone},{v}\n" for s, t, v in rows))
    return path


def test_aggregate_makes_the_rows_of_each_period_one(tmp_path):
    """--aggregate sum: a day's sales summed, a day without one 0 (not filled in), an empty
    amount beside others left out; mean: a day without a reading missing, filled as --fill says;
    --as-of cuts whole periods; the period is needed, and dates."""
    path = _transactions(tmp_path / "sales.csv")
    summed = load_series(path, freq="D", aggregate="sum", id_col="shop")
    by_shop = {uid: g.set_index("ds")["y"].tolist() for uid, g in summed.frame.groupby("unique_id")}
    assert by_shop == {"a": [5.0, 0.0, 4.0, 0.0, 6.0], "b": [2.0, 1.0, 3.0, 2.0, 5.0]}
    assert summed.freq == "D" and summed.filled == 0 and "10 rows summed into 10 periods of D" in summed.time_note
    averaged = load_series(path, freq="D", aggregate="mean", id_col="shop")
    assert averaged.frame[averaged.frame["unique_id"] == "a"]["y"].tolist() == [2.5, 3.25, 4.0, 5.0, 6.0]
    assert averaged.filled == 2  # shop a's days 2 and 4, interpolated
    cut = load_series(path, freq="D", aggregate="sum", as_of="2024-01-04", id_col="shop")  # the whole of day 4, not its midnight
    assert cut.frame[cut.frame["unique_id"] == "b"]["y"].tolist() == [2.0, 1.0, 3.0, 2.0]
    weekly = load_series(path, freq="W", aggregate="sum", id_col="shop")  # weeks ending Sunday: all in the week to 7 January
    assert weekly.freq == "W-SUN" and weekly.frame["y"].tolist() == [15.0, 13.0]
    zoned = load_series(_transactions(tmp_path / "zoned.csv", "+00:00"), freq="D", aggregate="sum",
                        as_of="2024-01-04T00:00Z", id_col="shop")
    assert zoned.frame.groupby("unique_id")["y"].sum().to_dict() == {"a": 9.0, "b": 8.0}
    with pytest.raises(UsageError, match="--aggregate sum needs --freq, the period to sum the rows over"):
        load_series(path, aggregate="sum")
    with pytest.raises(UsageError, match="--aggregate must be one of sum, mean"):
        load_series(path, freq="D", aggregate="max")
    (tmp_path / "steps.csv").write_text("t,y\n" + "".join(f"{i},{i}\n" for i in range(1, 20)))
    with pytest.raises(UsageError, match="holds integer steps. Drop --aggregate"):
        load_series(tmp_path / "steps.csv", freq="D", aggregate="sum")
    with pytest.raises(DataError, match="cannot infer the frequency.*summed per period with --freq D --aggregate sum.*"
                                        "several series: name their id column with --id-col"):
        load_series(path)


def test_explicit_columns_and_unknown_column(tmp_path):
    path = tmp_path / "wide.csv"
    pd.DataFrame({"when": pd.date_range("2020-01-01", periods=10, freq="D"), "a": range(10), "b": range(10)}).to_csv(path, index=False)
    with pytest.raises(UsageError, match="several candidate target columns"):
        load_series(path)
    ds = load_series(path, target_col="b")
    assert ds.columns.ignored == ("a",)
    with pytest.raises(UsageError, match="no column --target-col 'c'"):
        load_series(path, target_col="c")


def test_a_text_column_is_the_id_where_the_times_repeat(tmp_path):
    path = tmp_path / "stores.csv"
    frame = make_long(3, 30).rename(columns={"unique_id": "Store", "ds": "Date", "y": "Sales"})
    frame[["Date", "Store", "Sales"]].to_csv(path, index=False)
    dataset = load_series(path)
    assert (dataset.columns.id_col, dataset.columns.time_col, dataset.columns.target_col) == ("Store", "Date", "Sales")
    assert dataset.n_series == 3 and "3 series (long format)" in dataset.describe()
    # One series with a text column beside it: its times do not repeat, so the text is ignored.
    one = frame[frame["Store"] == "s0"].assign(Note="checked")[["Date", "Sales", "Note"]]
    one.to_csv(path, index=False)
    dataset = load_series(path)
    assert dataset.columns.id_col is None and dataset.columns.target_col == "Sales" and dataset.columns.ignored == ("Note",)


@pytest.mark.parametrize(("form", "order"), [("%d.%m.%Y", "day"), ("%d/%m/%Y", "day"), ("%d-%m-%Y", "day"),
                                             ("%m/%d/%Y", "month")])
def test_dates_with_the_day_and_month_first_are_read_in_one_order(tmp_path, form, order):
    air = load_series(SAMPLE / "airpassengers.csv").frame
    daily = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=60, freq="D"), "y": np.arange(60.0)})
    # Monthly dates on the 1st never show a field above 12: the order is the one that gives a
    # regular series. Daily dates do show one: the order is the only one every value allows.
    for frame, why in ((air[["ds", "y"]], "regular series"), (daily, "every value allows")):
        path = tmp_path / "dates.csv"
        frame.assign(ds=frame["ds"].dt.strftime(form)).to_csv(path, index=False)
        dataset = load_series(path)
        assert dataset.frame["ds"].tolist() == frame["ds"].tolist()
        assert f"dates read {order} first" in dataset.describe() and why in dataset.describe()


def test_times_with_a_zone_by_name_are_read_in_utc_and_said_so(tmp_path):
    hours = pd.date_range("2024-01-01", periods=48, freq="h", tz="UTC")
    path = tmp_path / "utc.csv"
    pd.DataFrame({"time": hours.strftime("%Y-%m-%d %H:%M UTC"), "y": np.arange(48.0)}).to_csv(path, index=False)
    dataset = load_series(path)
    assert dataset.freq == "h" and dataset.frame["ds"].tolist() == list(hours)
    assert "times with a time zone, read in UTC (forecasts in UTC)" in dataset.describe()


def test_iso_weeks_are_read_as_their_mondays(tmp_path):
    mondays = pd.date_range("2020-12-21", periods=60, freq="W-MON")  # 2020 has a week 53
    path = tmp_path / "weeks.csv"
    pd.DataFrame({"week": mondays.strftime("%G-W%V"), "y": np.arange(60.0)}).to_csv(path, index=False)
    dataset = load_series(path)
    assert dataset.freq == "W-MON" and dataset.frame["ds"].tolist() == list(mondays)
    assert "ISO weeks read as their Mondays" in dataset.describe()
    path.write_text("week,y\n2021-W52,1\n2021-W53,2\n")
    with pytest.raises(DataError, match=r"line 3: '2021-W53' in column 'week' is not a week of that year"):
        load_series(path)


@pytest.mark.parametrize("freq, periods, write, freq_read, note", [
    ("D", 40, lambda t: t.strftime("%Y%m%d"), "D", "dates written as numbers read as dates (YYYYMMDD)"),
    ("MS", 30, lambda t: t.strftime("%Y%m"), "MS", "dates written as numbers read as dates (YYYYMM, months)"),
    ("h", 60, lambda t: t.strftime("%Y%m%d%H"), "h", "dates written as numbers read as dates (YYYYMMDDHH, hours)"),
    ("15min", 120, lambda t: t.strftime("%Y%m%d%H%M"), "15min", "dates written as numbers read as dates (YYYYMMDDHHMM)"),
    ("h", 60, lambda t: t.strftime("%Y%m%d%H%M%S").astype("int64"), "h",
     "dates written as numbers read as dates (YYYYMMDDHHMMSS)"),
    ("QS", 16, lambda t: [f"Q{d.quarter} {d.year}" for d in t], "QS-JAN", "quarters (Q1 2024) read as their first days"),
    ("QS", 16, lambda t: [f"Q{d.quarter}-{d.year}" for d in t], "QS-JAN", "quarters (Q1 2024) read as their first days"),
    ("QS", 16, lambda t: [f"{d.year} Q{d.quarter}" for d in t], "QS-JAN", "quarters (Q1 2024) read as their first days"),
    ("QS", 16, lambda t: [f"{d.year}:Q{d.quarter}" for d in t], "QS-JAN", "quarters (Q1 2024) read as their first days"),
    ("MS", 30, lambda t: t.strftime("%YM%m"), "MS", "months written 2024M01 read as their first days"),
    ("MS", 30, lambda t: [f"{d.year}m{d.month}" for d in t], "MS", "months written 2024M01 read as their first days"),
    ("MS", 30, lambda t: t.strftime("%b-%y"), "MS", "months with two-digit years (Jan-24) read as their first days"),
    ("MS", 30, lambda t: t.strftime("%B %y"), "MS", "months with two-digit years (Jan-24) read as their first days"),
])
def test_dates_as_reports_and_databases_write_them(tmp_path, freq, periods, write, freq_read, note):
    """20240131 and 202401 were integer steps (a series mostly of gaps, filled without a word), as
    were 2024013113 (hours, as weather services write them) and 202401311300 until they were read;
    Jan-24 was the 24th of January of the year 1; Q1 2024, 2024 Q1 (national statistics
    offices), 2024M01 (the IMF) and 2024m1 (Stata) were not dates."""
    times = pd.date_range("2017-11-01", periods=periods, freq=freq)
    path = tmp_path / "dates.csv"
    pd.DataFrame({"period": write(times), "y": np.arange(periods, dtype=float)}).to_csv(path, index=False)
    dataset = load_series(path)
    assert dataset.freq == freq_read and dataset.frame["ds"].tolist() == list(times) and dataset.filled == 0
    assert note in dataset.describe()
    if "(YYYYMMDDHH" in note:  # --as-of written as the column writes times: not a Unix time of 2034
        cut = load_series(path, as_of=str(write(times[[9]])[0]))
        assert cut.frame["ds"].max() == times[9]


@pytest.mark.parametrize("freq, periods", [("D", 60), ("MS", 40), ("h", 100)])
@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_excel_day_numbers_in_a_date_column_are_dates(tmp_path, freq, periods, form):
    """A sheet saves a date column formatted as a number as Excel's day numbers (45292 is
    2024-01-01; hours as fractions). They were integer steps: daily data without its week or a
    default horizon, and months, 28 to 31 days apart, refused as off the grid of a step of 31."""
    times = pd.date_range("2023-11-01", periods=periods, freq=freq)
    days = (times - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    frame = pd.DataFrame({"Order Date": days.astype("int64") if freq != "h" else days.round(9),
                          "Sales": np.arange(periods, dtype=float)})
    path = tmp_path / f"sheet.{form}"
    frame.to_csv(path, index=False) if form == "csv" else frame.to_parquet(path, index=False)
    dataset = load_series(path)
    assert dataset.freq == freq and dataset.frame["ds"].tolist() == list(times) and dataset.filled == 0
    assert "Excel day numbers read as dates (45292 is 2024-01-01)" in dataset.describe()


def test_excel_day_numbers_stay_steps_without_a_date_name_or_for_a_model_of_steps(tmp_path):
    from forecast_cli.data import Columns

    pd.DataFrame({"t": np.arange(45292, 45352), "y": np.arange(60.0)}).to_csv(tmp_path / "t.csv", index=False)
    assert load_series(tmp_path / "t.csv").time_kind == "integer"
    pd.DataFrame({"date": np.arange(45292, 45352), "y": np.arange(60.0)}).to_csv(tmp_path / "d.csv", index=False)
    later = load_series(tmp_path / "d.csv", columns=Columns("date", "y", None, ("date", "y")), expect_time_kind="integer")
    assert later.time_kind == "integer" and later.frame["ds"].tolist() == list(range(45292, 45352))


def test_dates_written_as_integers_in_parquet_and_integers_that_are_not_dates(tmp_path):
    days = pd.date_range("2023-12-20", periods=20, freq="D")
    pd.DataFrame({"ds": days.strftime("%Y%m%d").astype("int64"), "y": np.arange(20.0)}).to_parquet(tmp_path / "d.parquet")
    assert load_series(tmp_path / "d.parquet").frame["ds"].tolist() == list(days)
    for steps in (np.arange(1, 41), np.arange(100001, 100041), np.arange(20231201, 20231241)):  # 20231232 is no date
        path = tmp_path / "steps.csv"
        pd.DataFrame({"t": steps, "y": np.arange(40.0)}).to_csv(path, index=False)
        dataset = load_series(path)
        assert dataset.time_kind == "integer" and dataset.frame["ds"].tolist() == list(steps)


def test_a_model_of_integer_steps_asked_about_dates_written_as_numbers_is_told_to_retrain(tmp_path):
    from forecast_cli.data import Columns

    days = pd.date_range("2023-12-20", periods=20, freq="D")
    path = tmp_path / "d.csv"
    pd.DataFrame({"t": days.strftime("%Y%m%d"), "y": np.arange(20.0)}).to_csv(path, index=False)
    columns = Columns("t", "y", None, ("t", "y"))
    with pytest.raises(DataError, match=r"holds dates, but the model was trained on integer steps\..*Earlier versions "
                                        r"of forecast read dates written as numbers \(20240131\) as integer steps"):
        load_series(path, columns=columns, expect_time_kind="integer")


def test_day_month_dates_that_no_order_settles_follow_the_separator():
    from forecast_cli.timecells import _day_month_order

    dots, slashes = pd.Series(["05.06.2024", "06.06.2024"]), pd.Series(["05/06/2024", "06/06/2024"])
    assert _day_month_order(dots)[0].tolist() == [pd.Timestamp("2024-06-05"), pd.Timestamp("2024-06-06")]
    assert _day_month_order(slashes)[0].tolist() == [pd.Timestamp("2024-05-06"), pd.Timestamp("2024-06-06")]
    assert "the custom with '/'" in _day_month_order(slashes)[2]


def test_day_month_dates_that_no_order_settles_are_day_first_in_a_european_file(tmp_path):
    """01/01/2020, 01/02/2020, 01/03/2020 read regularly both ways (three days, or three months);
    in a file whose numbers have a decimal comma, or whose fields Excel separated with `;` (both
    where dates are written day first), they are three months; with commas and points, as in the
    US, still three days."""
    rows = [("01/01/2020", "1,5"), ("01/02/2020", "2,5"), ("01/03/2020", "3,25")]
    files = {"semicolons.csv": "date;value\n" + "".join(f"{d};{v[0]}\n" for d, v in rows),
             "decimal-commas.csv": "date\tvalue\n" + "".join(f"{d}\t{v}\n" for d, v in rows),
             "us.csv": "date,value\n" + "".join(f"{d},{v[0]}\n" for d, v in rows)}
    read = {}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        dataset = load_series(tmp_path / name)
        read[name] = (dataset.freq, dataset.columns.day_first)
    assert read == {"semicolons.csv": ("MS", True), "decimal-commas.csv": ("MS", True), "us.csv": ("D", False)}


def test_day_month_dates_in_both_orders_are_refused_naming_one_of_each(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("ds,y\n30.01.2024,1\n01.31.2024,2\n")
    with pytest.raises(DataError, match=r"day first \(line 2: '30.01.2024'\) and with the month first \(line 3: '01.31.2024'\)"):
        load_series(path)


def test_semicolon_delimiter_is_detected(tmp_path):
    path = tmp_path / "semi.csv"
    make_long(1, 20)[["ds", "y"]].to_csv(path, index=False, sep=";")
    assert len(load_series(path).frame) == 20


def test_non_numeric_target_names_line_and_value(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("ds,y\n2020-01-01,1\n2020-01-02,\"1,234\"\n2020-01-03,3\n")
    with pytest.raises(DataError, match=r"line 3: '1,234' in column 'y' is not a number \(commas between thousands\? "
                                        r"--thousands-comma reads 1,234.5 as 1234.5; a decimal comma\? --decimal-comma"):
        load_series(path)


def test_a_delimiter_at_the_end_of_each_line_and_excels_sep_line(tmp_path):
    """Rows ending in a delimiter had one field more than the header, and pandas took the first
    column for an index: every value moved one column left (the dates became the values)."""
    months = make_long(1, 30)
    rows = [f"{d:%Y-%m-%d};{v};" for d, v in zip(months["ds"], months["y"])]
    for header in ("ds;y", "ds;y;", "sep=;\nds;y"):
        path = tmp_path / "export.csv"
        path.write_text("\n".join([header, *rows]) + "\n")
        dataset = load_series(path)
        assert dataset.frame["y"].tolist() == months["y"].tolist() and dataset.columns.all_columns == ("ds", "y")
    rows[4] = "2015-05-01;x;"
    path.write_text("\n".join(["sep=;", "ds;y", *rows]) + "\n")
    with pytest.raises(DataError, match=r"export\.csv, line 7: 'x' in column 'y' is not a number"):
        load_series(path)  # the line in the file, counting the sep= line


def test_a_decimal_comma_is_named_as_such_and_read_with_the_flag(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("Datum;Umsatz;Filiale\n01.01.2020;1,5;Nord\n02.01.2020;1.234,5;Nord\n03.01.2020;-2;Nord\n"
                    "04.01.2020;;Nord\n05.01.2020;1,2e3;Nord\n06.01.2020;1.5;Nord\n07.01.2020;7,;Nord\n")
    with pytest.raises(UsageError, match=r"'Umsatz' hold numbers written with a decimal comma \(1.234,5\)\. Pass "
                                         r"--decimal-comma"):
        load_series(path)  # Filiale is text, so which column is the target is known only with the flag
    with pytest.raises(DataError, match=r"line 2: '1,5' in column 'Umsatz' is not a number \(a decimal comma\? "
                                        r"--decimal-comma reads 1,5 as 1.5"):
        load_series(path, target_col="Umsatz")
    dataset = load_series(path, written=Written(decimal_comma=True))
    # Points group thousands only in threes: 1.5 is not a decimal-comma number, and stays 1.5.
    assert dataset.frame["y"].tolist()[:3] == [1.5, 1234.5, -2.0] and dataset.frame["y"].tolist()[4:] == [1200.0, 1.5, 7.0]
    assert dataset.frame["y"].iloc[3] == 599.0 and dataset.missing_values == 1  # the empty cell, filled
    assert dataset.frame["ds"].iloc[1] == pd.Timestamp("2020-01-02") and dataset.columns.target_col == "Umsatz"


@pytest.mark.parametrize("cells, found", [
    (["1.234,5", "12,25", "-3", "1.000"], Written(decimal_comma=True)),  # 1.000 groups thousands here
    (["12,5", "13,5", "100.5", "7"], None),  # a point decimal beside decimal commas: the flags decide
    (["12,5", "1,234.5", "7", "8"], None),  # both kinds
    (["1,500", "2,250", "3,000", "7"], None),  # either kind
    (["1,234.5", "2,000", "12,345,678", "7.25"], Written(thousands_comma=True)),
    # whole numbers with spaces between thousands, as in France or Sweden: read as --decimal-comma does
    (["1 234", "12\u00a0300", "980", "1\u202f000\u202f000"], Written(decimal_comma=True)),
    (["1 234.5", "12 300", "980", "7"], None),  # a decimal point: the custom is unknown, the number refused
])
def test_numbers_written_with_commas_are_read_without_a_flag_where_no_doubt_remains(tmp_path, cells, found):
    """The cells that only one flag reads decide it, as that flag would: a nightly file from a
    European spreadsheet trains without --decimal-comma; a file that mixes the two ways is left
    to the flags, since reading it one way would change the other's numbers a thousandfold."""
    path = tmp_path / "sheet.csv"
    pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=len(cells), freq="MS"), "y": cells}).to_csv(
        path, index=False, sep=";")
    if found is None:
        with pytest.raises(DataError, match=r"is not a number"):
            load_series(path)
        if " " in cells[0]:
            with pytest.raises(DataError, match=r"\(spaces between groups of three digits\? --decimal-comma reads"):
                load_series(path)
        return
    dataset = load_series(path)
    assert dataset.found_written == found
    assert dataset.frame["y"].tolist() == load_series(path, written=found).frame["y"].tolist()


def test_commas_between_thousands_are_named_as_such_and_read_with_the_flag(tmp_path):
    """Excel in the US and UK saves cells formatted with thousands separators as `"1,234.50"`:
    read with --thousands-comma, and so without it where a cell leaves no doubt; where the comma
    could mark decimals as well (`1,500` alone) the error names both flags."""
    path = tmp_path / "us.csv"
    path.write_text('Date,Sales,Store\n01/01/2020,"1,234.50",North\n01/02/2020,"12,345,678",North\n'
                    '01/03/2020,-2,North\n01/04/2020,,North\n01/05/2020,"1,500",North\n01/06/2020,7.25,North\n')
    dataset = load_series(path, written=Written(thousands_comma=True))
    assert dataset.frame["y"].tolist() == [1234.5, 12345678.0, -2.0, pytest.approx(-2 + 1502 / 2), 1500.0, 7.25]
    assert dataset.columns.target_col == "Sales" and dataset.frame["ds"].iloc[1] == pd.Timestamp("2020-01-02")
    found = load_series(path)  # 1,234.50 leaves no doubt: read as the flag reads it
    assert found.frame["y"].tolist() == dataset.frame["y"].tolist() and found.found_written == Written(thousands_comma=True)
    assert "numbers with commas between thousands (1,234.5) read as --thousands-comma reads them" in found.describe()
    path.write_text('Date,Sales,Store\n2020-01-01,"1,500",North\n2020-01-02,"2,250",North\n')
    with pytest.raises(UsageError, match=r"'Sales' hold numbers written with commas\. Pass --decimal-comma if the comma "
                                         r"marks the decimals \(1.234,5\), or --thousands-comma if it separates"):
        load_series(path)
    with pytest.raises(UsageError, match=r"--decimal-comma and --thousands-comma cannot both be given"):
        load_series(path, written=Written(decimal_comma=True, thousands_comma=True))


@pytest.mark.parametrize("kind", ["gzip", "bz2", "xz", "zip"])
def test_compressed_csv_files_read_as_the_plain_file(tmp_path, kind):
    plain = tmp_path / "plain.csv"
    make_long(2, 20).to_csv(plain, index=False)
    path = tmp_path / "data.export"  # known by its first bytes, not its name
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.write(plain, "inner.csv")
    else:
        path.write_bytes({"gzip": gzip, "bz2": bz2, "xz": lzma}[kind].compress(plain.read_bytes()))
    expected, got = load_series(plain), load_series(path)
    pd.testing.assert_frame_equal(got.frame, expected.frame)
    assert got.freq == expected.freq and got.sha256 != expected.sha256  # the digest of the file as stored


def test_standard_input_is_read_as_a_file_and_named_stdin(monkeypatch, tmp_path):
    import io

    data = (SAMPLE / "airpassengers.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data))))
    dataset = load_series("-")
    assert dataset.source == "stdin" and dataset.frame.equals(load_series(SAMPLE / "airpassengers.csv").frame)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(DataError, match=r"^stdin is empty"):
        load_series("-")
    monkeypatch.setattr(sys, "stdin", type("Terminal", (io.StringIO,), {"isatty": lambda self: True})())
    with pytest.raises(DataError, match=r"standard input, which is a terminal here. Pipe a CSV in"):
        load_series("-")
    pd.DataFrame({"ds": [1, 2], "y": [1.0, 2.0]}).to_parquet(tmp_path / "data.parquet")
    (tmp_path / "data.csv").write_bytes((tmp_path / "data.parquet").read_bytes())
    with pytest.raises(DataError, match=r"data.csv is Parquet data.*\.parquet.*rename it"):
        load_series(tmp_path / "data.csv")


def test_a_header_that_starts_like_a_compressed_file_is_read_as_text(tmp_path):
    path = tmp_path / "bz.csv"
    path.write_text("BZh_sales,ds\n" + "".join(f"{i},2020-0{i}-01\n" for i in range(1, 6)))
    assert load_series(path, target_col="BZh_sales").frame["y"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def _zip(path, names):
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "ds,y\n1,2\n")


def _ods(path):  # LibreOffice's spreadsheet: a zip whose first file names its kind
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64), r"book\.xlsx is an Excel 97-2003 workbook.*Save the sheet as CSV"),
    (lambda p: _zip(p, ["[Content_Types].xml", "xl/workbook.xml"]), r"book\.xlsx is an Excel workbook, not a CSV file"),
    (_ods, r"book\.xlsx is an OpenDocument spreadsheet"),
    (lambda p: _zip(p, ["a.csv", "b.csv"]), r"book\.xlsx is a zip archive of 2 files \(a\.csv, b\.csv\).*Unzip it"),
    (lambda p: p.write_bytes(gzip.compress(b"ds,y\n" * 500)[:40]), r"book\.xlsx: a gzip file that cannot be decompressed.*cut short"),
])
def test_workbooks_archives_and_cut_files_are_named(tmp_path, make, message):
    path = tmp_path / "book.xlsx"
    make(path)
    with pytest.raises(DataError, match=message):
        load_series(path)


def test_other_table_formats_are_named_and_the_line_given_converts_them(tmp_path):
    """Feather, ORC, pickles, SQLite and JSON, known by their first bytes whatever their names:
    each is named (a pickle is never loaded), and the pandas line given makes a file that reads."""
    import sqlite3

    frame = make_long(2, 30)
    writers = {"feather": frame.to_feather, "orc": frame.to_orc, "pickle": frame.to_pickle,
               "json": lambda p: frame.to_json(p, orient="records", date_format="iso"),
               "jsonl": lambda p: frame.to_json(p, orient="records", lines=True, date_format="iso")}
    for kind, message in (("feather", r"is Arrow IPC \(Feather\) data, not a CSV file"), ("orc", "is ORC data"),
                          ("pickle", "is a Python pickle, never loaded"), ("json", "is JSON, not a CSV file"),
                          ("jsonl", "is JSON, not a CSV file"), ("sqlite", "is an SQLite database")):
        path = tmp_path / f"{kind}.csv"
        if kind == "sqlite":
            with sqlite3.connect(path) as db:
                frame.to_sql("sales", db)
        else:
            writers[kind](path)
        with pytest.raises(DataError, match=message) as raised:
            load_series(path)
        if kind in ("feather", "json"):
            line = re.search(r'python -c "(.*?)"', str(raised.value)).group(1)
            subprocess.run([sys.executable, "-c", line], cwd=tmp_path, check=True)
            converted = tmp_path / ("data.parquet" if kind == "feather" else "data.csv")
            assert len(load_series(converted).frame) == len(frame)
    # a header that starts as ORC's signature does is text still
    (tmp_path / "orcid.csv").write_text("ORCID,ds\n" + "".join(f"{i},2020-0{i}-01\n" for i in range(1, 6)))
    assert len(load_series(tmp_path / "orcid.csv", target_col="ORCID").frame) == 5


def test_the_reshape_in_the_input_docs_makes_a_wide_file_long(tmp_path):
    docs = (ROOT / "docs" / "input.md").read_text()
    command = shlex.split(re.search(r"^\s*(python -c .*melt.*)$", docs, re.MULTILINE).group(1))
    dates = pd.date_range("2020-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "north": range(30), "south": range(100, 130)}).to_csv(tmp_path / "wide.csv", index=False)
    subprocess.run([sys.executable, *command[1:]], cwd=tmp_path, check=True)
    dataset = load_series(tmp_path / "long.csv")
    assert sorted(dataset.frame["unique_id"].unique()) == ["north", "south"] and len(dataset.frame) == 60
    pd.testing.assert_frame_equal(dataset.frame, load_series(tmp_path / "wide.csv", wide=True).frame)


def test_dates_across_the_header_are_named_and_the_line_given_turns_the_table(tmp_path):
    """A spreadsheet's layout, one row per series and a column per month: the error gives a
    pandas line, and the file it writes reads as the series."""
    months = pd.date_range("2020-01-01", periods=30, freq="MS")
    table = pd.DataFrame(np.arange(90.0).reshape(3, 30), columns=months.strftime("%b %Y"))
    table.insert(0, "store", ["a", "b", "c"])
    table.to_csv(tmp_path / "table.csv", index=False)
    with pytest.raises(UsageError, match=r"the dates run across the header \(Jan 2020, Feb 2020, Mar 2020, \.\.\.\)") as caught:
        load_series(tmp_path / "table.csv")
    command = shlex.split(re.search(r"(python -c \".*\")", str(caught.value)).group(1))
    subprocess.run([sys.executable, *command[1:]], cwd=tmp_path, check=True)
    dataset = load_series(tmp_path / "long.csv")
    assert dataset.n_series == 3 and dataset.freq == "MS" and dataset.frame["ds"].iloc[0] == months[0]
    wide = pd.DataFrame({"date": months.strftime("%Y-%m-%d"), "Store 12": 1.0, "Store 13": 2.0})
    wide.to_csv(tmp_path / "stores.csv", index=False)  # names that end in numbers are not dates
    assert load_series(tmp_path / "stores.csv", wide=True).n_series == 2
    seasons = pd.DataFrame({"date": months.strftime("%Y-%m-%d"), "2019-20": 1.0, "2020-21": 2.0})
    seasons.to_csv(tmp_path / "seasons.csv", index=False)  # with a time column, dated names are series
    assert load_series(tmp_path / "seasons.csv", wide=True).columns.series == ("2019-20", "2020-21")


def test_a_date_and_time_split_over_two_columns_is_named_and_the_docs_line_joins_them(tmp_path):
    docs = (ROOT / "docs" / "input.md").read_text()
    command = shlex.split(re.search(r"^\s*(python -c .*split\.csv.*)$", docs, re.MULTILINE).group(1))
    hours = pd.date_range("2024-01-01", periods=72, freq="h")
    pd.DataFrame({"date": hours.strftime("%Y-%m-%d"), "time": hours.strftime("%H:%M"), "load": np.arange(72.0)}).to_csv(
        tmp_path / "split.csv", index=False)
    with pytest.raises(UsageError, match=r"the dates in 'date' repeat and 'time' holds times of day"):
        load_series(tmp_path / "split.csv")
    subprocess.run([sys.executable, *command[1:]], cwd=tmp_path, check=True)
    dataset = load_series(tmp_path / "joined.csv")
    assert dataset.freq == "h" and dataset.frame["ds"].tolist() == list(hours)


def test_duplicate_timestamps_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("ds,y\n2020-01-01,1\n2020-01-01,2\n2020-01-02,3\n")
    with pytest.raises(DataError, match=r"more than once \(lines 2, 3\)"):
        load_series(path)


def _berlin(times: pd.DatetimeIndex) -> list[str]:
    """Times as a local clock exports them: each with its own UTC offset (+01:00 or +02:00)."""
    return [t.isoformat() for t in times.tz_convert("Europe/Berlin")]


def test_hours_with_their_offsets_are_read_in_utc_through_daylight_saving_or_not(tmp_path):
    # Autumn: the local clock shows 02:00 twice (+02:00, then +01:00); spring: it skips 02:00.
    hours = pd.date_range("2024-10-26 12:00", "2024-10-28 00:00", freq="h", tz="UTC").append(
        pd.date_range("2025-03-29 12:00", "2025-03-31 00:00", freq="h", tz="UTC"))
    for part, times in (("autumn", hours[:37]), ("spring", hours[37:])):
        path = tmp_path / f"{part}.csv"
        pd.DataFrame({"time": _berlin(times), "load": np.arange(len(times), dtype=float)}).to_csv(path, index=False)
        dataset = load_series(path)
        assert dataset.freq == "h" and dataset.filled == 0 and str(dataset.frame["ds"].dt.tz) == "UTC"
        assert dataset.frame["ds"].tolist() == list(times) and dataset.frame["y"].tolist() == list(range(len(times)))
        assert "times with UTC offsets, read in UTC" in dataset.describe()
    # One offset throughout (the winter alone) is read in UTC too, so that a nightly file gives
    # forecasts written alike whether or not it spans a change of offset.
    path = tmp_path / "winter.csv"
    winter = hours[15:37]
    pd.DataFrame({"time": _berlin(winter), "load": np.arange(22.0)}).to_csv(path, index=False)
    times = load_series(path).frame["ds"]
    assert str(times.dt.tz) == "UTC" and times.tolist() == list(winter)


def test_dates_at_midnight_with_offsets_are_read_as_the_dates(tmp_path):
    days = pd.date_range("2024-10-01", "2024-11-30", freq="D", tz="Europe/Berlin")
    path = tmp_path / "daily.csv"
    pd.DataFrame({"date": [t.isoformat() for t in days], "sales": np.arange(len(days), dtype=float)}).to_csv(path, index=False)
    dataset = load_series(path)
    assert dataset.freq == "D" and dataset.frame["ds"].dt.tz is None
    assert dataset.frame["ds"].tolist() == list(days.tz_localize(None)) and "read as the dates" in dataset.describe()
    pd.DataFrame({"date": [t.isoformat() for t in days[:20]], "sales": np.arange(20.0)}).to_csv(path, index=False)
    assert load_series(path).frame["ds"].tolist() == list(days[:20].tz_localize(None))  # +02:00 throughout


def test_the_cycles_of_integer_step_data_are_suggested_not_used(tmp_path):
    from forecast_cli.data import season_hint
    from forecast_cli.timegrid import suggest_seasons

    classic = {name: pd.read_csv(SAMPLE / f"{name}.csv").iloc[:, -1].to_numpy(dtype="float64")
               for name in ("airpassengers", "taylor_halfhourly_electricity", "wineind_monthly", "nile_yearly")}
    assert suggest_seasons([classic["airpassengers"]])[0] == (12,)
    assert suggest_seasons([classic["wineind_monthly"]])[0] == (12,)
    # Taylor's day; its week moves the level, which the changes hardly show.
    assert suggest_seasons([classic["taylor_halfhourly_electricity"]])[0] == (48,)
    assert suggest_seasons([classic["nile_yearly"]]) == ((), 0.0)  # no cycle: nothing named
    walk = np.cumsum(np.random.default_rng(3).normal(size=(20, 300)), axis=1)
    assert suggest_seasons(list(walk)) == ((), 0.0)  # random walks: their drifts make no cycle
    # Air passengers with its dates replaced by steps 1..144: no season is used, the hint says 12.
    frame = pd.read_csv(SAMPLE / "airpassengers.csv")
    frame[frame.columns[0]] = np.arange(1, len(frame) + 1)
    frame.to_csv(tmp_path / "steps.csv", index=False)
    dataset = load_series(tmp_path / "steps.csv")
    hint = season_hint(dataset)
    assert dataset.season == 1 and "repeat every 12 steps" in hint and "--season 12" in hint
    assert season_hint(load_series(SAMPLE / "airpassengers.csv")) is None


@pytest.mark.parametrize("unit, scale", [("seconds", 1), ("milliseconds", 10**3), ("nanoseconds", 10**9)])
def test_unix_times_are_read_as_utc_times(tmp_path, unit, scale):
    """Logs and metrics stores export times as seconds (or milliseconds) since 1970: read as
    integer steps they had no frequency, so no default horizon or season, and the hours' day unseen."""
    hours = pd.date_range("2024-03-20 00:00:17", periods=72, freq="h", tz="UTC")  # any second, as a query's start
    seconds = (hours - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta("1s")
    frame = pd.DataFrame({"timestamp": np.asarray(seconds, dtype="int64") * scale, "y": np.arange(72.0)})
    frame.to_csv(tmp_path / "unix.csv", index=False)
    frame.to_parquet(tmp_path / "unix.parquet")
    for path in (tmp_path / "unix.csv", tmp_path / "unix.parquet"):
        dataset = load_series(path)
        assert dataset.time_kind == "datetime" and dataset.freq == "h" and dataset.season == 24
        assert dataset.frame["ds"].tolist() == list(hours)
        assert f"Unix times ({unit} since 1970) read as UTC times (forecasts in UTC)" in dataset.describe()
        cut = load_series(path, as_of=str(frame["timestamp"].iloc[9] + scale))  # --as-of as a Unix time too
        assert cut.frame["ds"].tolist() == list(hours[:10])


def test_integers_that_are_not_unix_times_and_a_model_of_integer_steps_keep_steps(tmp_path):
    from forecast_cli.data import Columns

    start = 1_711_000_800
    for steps in (np.arange(start * 1000, start * 1000 + 40),  # milliseconds, but not on whole seconds
                  np.arange(8_000_000, 8_000_040) * 60, np.arange(42_000_000, 42_000_040) * 10**11):  # 1985, 2103
        path = tmp_path / "steps.csv"
        pd.DataFrame({"t": steps, "y": np.arange(40.0)}).to_csv(path, index=False)
        dataset = load_series(path)
        assert dataset.time_kind == "integer" and dataset.frame["ds"].tolist() == list(steps)
    # A model trained on Unix times as integer steps (as earlier versions read them) reads them so again,
    # and one trained on them as times reads a later file's times off the whole second as times.
    pd.DataFrame({"t": np.arange(start, start + 40 * 3600, 3600), "y": np.arange(40.0)}).to_csv(path, index=False)
    columns = Columns("t", "y", None, ("t", "y"))
    assert load_series(path, columns=columns, expect_time_kind="integer").time_kind == "integer"
    later = np.arange(start, start + 40 * 3600, 3600) * 1000 + 500
    pd.DataFrame({"t": later, "y": np.arange(40.0)}).to_csv(path, index=False)
    dataset = load_series(path, columns=columns, expect_time_kind="datetime")
    assert dataset.frame["ds"].iloc[0] == pd.Timestamp("2024-03-21 06:00:00.5", tz="UTC")


def test_unix_times_written_as_floats_are_read_as_utc_times(tmp_path):
    """Seconds as floats, as `time.time()`, a column with a gap in pandas and some exports write
    them (1711000800.0, or with a fraction every row shares): times, to the microsecond."""
    hours = pd.date_range("2024-03-20 00:00:00.5", periods=48, freq="h", tz="UTC")
    seconds = np.asarray((hours - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta("1s"))
    for shift, name in ((0.0, "half.csv"), (-0.5, "whole.csv")):
        pd.DataFrame({"t": seconds + shift, "y": np.arange(48.0)}).to_csv(tmp_path / name, index=False)
        dataset = load_series(tmp_path / name)
        assert dataset.freq == "h" and dataset.frame["ds"].tolist() == list(hours + pd.Timedelta(seconds=shift))
        assert "Unix times (seconds since 1970) read as UTC times" in dataset.describe()
    pd.DataFrame({"t": seconds, "y": np.arange(48.0)}).to_parquet(tmp_path / "doubles.parquet")
    assert load_series(tmp_path / "doubles.parquet").frame["ds"].tolist() == list(hours)
    (tmp_path / "steps.csv").write_text("t,y\n1.0,1\n2.0,2\n3.0,3\n")  # floats that are no times: refused as before
    with pytest.raises(DataError, match=r"'1\.0' in column 't' is not a date or time"):
        load_series(tmp_path / "steps.csv")


def test_a_time_column_taken_as_the_first_column_says_so_and_names_the_flag(tmp_path):
    """No column has a usual time name, so the first one is the time: when it holds no time and no
    other column holds dates, the error says which column was taken and why, and that --time-col
    names the right one."""
    path = tmp_path / "values-first.csv"
    pd.DataFrame({"load": [1.5, 2.5, 3.5], "t": ["soon", "later", "never"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"'1\.5' in column 'load' is not a date or time.* taken to be 'load', the "
                                        r"first column.*name it with --time-col"):
        load_series(path)


def test_a_time_column_with_no_usual_name_is_found_by_its_dates(tmp_path):
    """No column has a usual time name (a German export: Stadt, Monat, Umsatz) and the first holds
    no time: the column whose cells are dates is the time, as --time-col would name it, and the
    text column beside the repeating times is the series id. Whole numbers first (a store number,
    a row number) read as integer steps, but a column of dates is the time before them; with no
    column of dates they stay the time."""
    months = pd.date_range("2022-01-01", periods=30, freq="MS").strftime("%Y-%m").tolist()
    german = pd.DataFrame({"Stadt": np.repeat(["Zürich", "Bern"], 30), "Monat": months * 2,
                           "Umsatz": np.arange(60, dtype=float) + 100})
    german.to_csv(tmp_path / "staedte.csv", index=False)
    found = load_series(tmp_path / "staedte.csv")
    named = load_series(tmp_path / "staedte.csv", time_col="Monat", id_col="Stadt")
    assert (found.columns.time_col, found.columns.id_col, found.columns.target_col) == ("Monat", "Stadt", "Umsatz")
    pd.testing.assert_frame_equal(found.frame, named.frame)
    path = tmp_path / "values-first.csv"
    pd.DataFrame({"load": [1.5, 2.5, 3.5], "t": ["2024-01-01", "2024-01-02", "2024-01-03"]}).to_csv(path, index=False)
    assert load_series(path).frame["y"].tolist() == [1.5, 2.5, 3.5]
    numbered = pd.DataFrame({"row": range(1, 31), "when": months, "load": np.arange(30.0)})
    numbered.to_csv(tmp_path / "numbered.csv", index=False)
    assert load_series(tmp_path / "numbered.csv", target_col="load").columns.time_col == "when"
    numbered.drop(columns="when").to_csv(tmp_path / "steps.csv", index=False)
    assert load_series(tmp_path / "steps.csv", target_col="load").columns.time_col == "row"
    # store numbers first: they were read as 30 steps of series named by the dates, without a word
    stores = german.assign(Stadt=np.repeat([101, 102], 30))
    stores.to_csv(tmp_path / "stores.csv", index=False)
    with pytest.raises(UsageError, match=r"stores.csv: the times repeat \('2022-01' on 2 rows\), so the file holds "
                                         r"several series: name their id column with --id-col \('Stadt' tells them "
                                         r"apart: --id-col Stadt\)\. The values are then 'Umsatz'\."):
        load_series(tmp_path / "stores.csv")
    assert load_series(tmp_path / "stores.csv", id_col="Stadt").columns.time_col == "Monat"
    # dates written as numbers (20220101) after a column of values; a note of one text throughout
    # beside the cities, which tells no series apart
    compact = german.assign(Monat=np.tile(pd.date_range("2022-01-01", periods=30, freq="D").strftime("%Y%m%d"), 2),
                            Notiz="x")[["Umsatz", "Notiz", "Monat", "Stadt"]]
    compact.to_csv(tmp_path / "compact.csv", index=False)
    found = load_series(tmp_path / "compact.csv")
    assert (found.columns.time_col, found.columns.id_col, found.columns.target_col) == ("Monat", "Stadt", "Umsatz")


def test_the_key_beside_the_id_is_told_from_the_values(tmp_path):
    """A city and a product number tell the rows apart; the sales, before the product in the file,
    tell every row apart too, but are the values: the hint names the product, which repeats over
    the times."""
    months = pd.date_range("2022-01-01", periods=20, freq="MS").strftime("%Y-%m-%d").tolist()
    frame = pd.DataFrame({"date": months * 4, "city": np.repeat(["Bern", "Basel"], 40),
                          "sales": np.arange(80, dtype=float) + 0.5, "product": np.tile(np.repeat([7, 8], 20), 2)})
    frame.to_csv(tmp_path / "sales.csv", index=False)
    with pytest.raises(UsageError, match=r"told apart by 'city' and 'product' together: name both with --id-col "
                                         r"product,city"):
        load_series(tmp_path / "sales.csv")


def test_the_row_index_pandas_writes_first_is_left_out(tmp_path):
    """`frame.to_csv(path)` without `index=False` writes the row numbers first, under no name: the
    file reads as the one without them (training, and later files of a model trained on either);
    a column without a name that holds data is still refused."""
    from tests.conftest import make_long

    frame = make_long(3, 30, seed=2)
    frame.to_csv(tmp_path / "plain.csv", index=False)
    frame.sample(frac=1.0, random_state=0).to_csv(tmp_path / "indexed.csv")  # shuffled: the numbers in any order
    plain, indexed = load_series(tmp_path / "plain.csv"), load_series(tmp_path / "indexed.csv")
    pd.testing.assert_frame_equal(plain.frame, indexed.frame)
    assert load_series(tmp_path / "indexed.csv", columns=plain.columns).frame.equals(plain.frame)
    (tmp_path / "unnamed.csv").write_text(",ds,y\nx,2024-01-01,1\ny,2024-01-02,2\n")
    with pytest.raises(DataError, match=r"empty or repeated column names \(Unnamed: 0, ds, y\)"):
        load_series(tmp_path / "unnamed.csv")


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u202f"])
def test_decimal_commas_with_spaces_between_thousands(tmp_path, space):
    """France, Scandinavia and Eastern Europe group thousands with a space (a no-break or narrow
    one, as the spreadsheet writes it): read with --decimal-comma as with points between them."""
    from forecast_cli.data import Written

    path = tmp_path / "fr.csv"
    path.write_text(f"date;ventes\n2024-01-01;1{space}234,5\n2024-01-02;12{space}300\n2024-01-03;980,25\n",
                    encoding="utf-8")
    assert load_series(path, written=Written(decimal_comma=True)).frame["y"].tolist() == [1234.5, 12300.0, 980.25]


def test_files_joined_with_their_headers_read_as_one(tmp_path):
    """`cat monday.csv tuesday.csv > week.csv` repeats the header line between the days: it is no
    data, so the joined file reads as the days' rows together (it was a time that is no date, or
    a file with "no value column")."""
    from tests.conftest import make_long

    frame = make_long(2, 20, seed=4)
    days = [frame.iloc[:15], frame.iloc[15:]]
    joined = "".join(part.to_csv(index=False) for part in days)
    (tmp_path / "joined.csv").write_text(joined)
    frame.to_csv(tmp_path / "whole.csv", index=False)
    pd.testing.assert_frame_equal(load_series(tmp_path / "joined.csv").frame, load_series(tmp_path / "whole.csv").frame)
    single = "month,passengers\n2024-01,1\n2024-02,2\nmonth,passengers\n2024-03,3\n"
    (tmp_path / "single.csv").write_text(single)
    assert load_series(tmp_path / "single.csv").frame["y"].tolist() == [1.0, 2.0, 3.0]


def test_unix_times_at_midnight_utc_are_the_dates(tmp_path):
    """Daily (or monthly) values exported as Unix times are midnights UTC: read as the dates, as
    midnights with UTC offsets are, so a model of them writes 2024-03-21, not 2024-03-21 00:00:00+00:00;
    --as-of takes a Unix time there too."""
    days = pd.date_range("2024-03-01", periods=40, freq="D")
    seconds = np.asarray((days - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s"), dtype="int64")
    path = tmp_path / "daily.csv"
    pd.DataFrame({"t": seconds, "y": np.arange(40.0)}).to_csv(path, index=False)
    dataset = load_series(path)
    assert dataset.freq == "D" and dataset.frame["ds"].tolist() == list(days)
    assert "Unix times (seconds since 1970) at midnight UTC read as the dates" in dataset.describe()
    assert load_series(path, as_of=str(seconds[9])).frame["ds"].tolist() == list(days[:10])


def test_dates_pandas_writes_first_as_the_index_are_the_time(tmp_path):
    """A frame or series indexed by its dates writes them first under no name (`,a,b`): they are
    the time (named ds), where the file was refused for an empty column name. A first column with
    no name that holds neither row numbers nor dates is still refused."""
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    pd.DataFrame({"a": np.arange(30.0), "b": 2 * np.arange(30.0)}, index=days).to_csv(tmp_path / "frame.csv")
    wide = load_series(tmp_path / "frame.csv", wide=True)
    assert wide.columns.time_col == "ds" and sorted(wide.frame["unique_id"].unique()) == ["a", "b"]
    assert wide.frame["ds"].tolist()[:30] == list(days)
    pd.Series(np.arange(30.0), index=days).to_csv(tmp_path / "series.csv")
    assert load_series(tmp_path / "series.csv").frame["y"].tolist() == list(np.arange(30.0))
    (tmp_path / "text.csv").write_text(",y\nstore 7,1\nstore 8,2\n")
    with pytest.raises(DataError, match=r"empty or repeated column names \(Unnamed: 0, y\)"):
        load_series(tmp_path / "text.csv")


def test_rows_of_delimiters_alone_below_a_table_are_no_data(tmp_path):
    """Excel writes `,,` rows below a table whose empty cells were once formatted: they were read
    as rows without a time, and the file refused."""
    path = tmp_path / "sheet.csv"
    make_long(1, 30)[["ds", "y"]].to_csv(path, index=False)
    path.write_text(path.read_text() + ",\n,\n\n,\n")
    assert len(load_series(path).frame) == 30


@pytest.mark.parametrize("written, as_of, last", [
    (lambda t: t.strftime("%d.%m.%Y"), "01.02.2020", "2020-02-01"),  # pandas alone: 2 January
    (lambda t: [f"{d.year} Q{(d.month - 1) // 3 + 1}" for d in t], "2019 Q4", "2019-10-01"),  # pandas: no date
    (lambda t: t.strftime("%YM%m"), "2019M12", "2019-12-01"),
    (lambda t: t.strftime("%b-%y"), "Dec-19", "2019-12-01"),  # pandas: the 23rd... of the year 1
])
def test_as_of_is_read_as_the_time_column_writes_dates(tmp_path, written, as_of, last):
    """`--as-of` in the form of the file's dates, day and month in the column's order."""
    times = pd.date_range("2018-01-01", periods=30, freq="QS" if "Q" in as_of else "MS")
    path = tmp_path / "d.csv"
    pd.DataFrame({"period": written(times), "y": np.arange(30.0)}).to_csv(path, index=False)
    dataset = load_series(path, as_of=as_of)
    assert dataset.frame["ds"].max() == pd.Timestamp(last)


def test_the_time_of_day_pattern_spells_out_pythons_whitespace():
    """A time of day in the time column is refused; the pattern that finds it spells Python's
    `\\s` out as characters so that pandas can hand it to pyarrow whole (with `\\s` it matched
    each cell in Python: 0.8 s for two million times). Through pandas' own string path, it matches
    what `\\s` matches, cell for cell, around every whitespace character there is."""
    from forecast_cli import timecells

    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if re.fullmatch(timecells._SPACE, c)] == spaces
    python = timecells.TIME_OF_DAY.replace(timecells._SPACE, r"\s")
    cells = [shape.format(c) for c in [*spaces, "x", ""] for shape in
             ("1:00{}PM", "1{}am", "12:30:15.5{}a.m.", "T9:05{}P.M", "2024-01-01{}1:00", "1:00{0}{0}pm")]
    found = pd.Series(cells, dtype="string").str.fullmatch(timecells.TIME_OF_DAY).to_numpy(dtype=bool)
    assert found.tolist() == [re.fullmatch(python, cell) is not None for cell in cells]
    # the first four shapes with any one space, and with none (where the doubled space is none too)
    assert found.sum() == 4 * len(spaces) + 5
