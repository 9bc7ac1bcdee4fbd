"""A catalogue of bad inputs: each gets its exit code and a message naming the file and the row,
column or series at fault with the fix, and leaves no output created or changed."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.errors import ExitCode
from forecast_cli.manifest import FORMAT_VERSION
from tests.conftest import TINY, make_long

runner = CliRunner()
DATA, USAGE, MODEL, OUTPUT = ExitCode.DATA, ExitCode.USAGE, ExitCode.MODEL, ExitCode.OUTPUT


def _monthly(n: int = 40, start: str = "2015-01-01") -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, periods=n, freq="MS")]


def _csv(rows: list[str], header: str = "ds,y") -> str:
    return "\n".join([header, *rows]) + "\n"


def _series(values: list[object], dates: list[str] | None = None) -> str:
    dates = dates or _monthly(len(values))
    return _csv([f"{d},{v}" for d, v in zip(dates, values)])


GOOD = [100 + (i % 12) * 3 + i for i in range(40)]

# id, file content (str, bytes, None = no file, "DIR" = a directory), extra train args, exit code, message
TRAIN_CASES = [
    ("missing-file", None, [], DATA, r"data\.csv: no such file"),
    ("directory", "DIR", [], DATA, r"data\.csv is a directory with no \.parquet files; expected a CSV file"),
    ("empty-file", "", [], DATA, r"data\.csv is empty; expected a header line"),
    ("no-header", "\n".join(f"{d},{v}" for d, v in zip(_monthly(), GOOD)) + "\n", [], DATA,
     r"the first line \('2015-01-01,100'\) holds values, not column names: the file has no header\. Add one"),
    ("a-field-more-than-the-header", _csv([f"{d},{v},{v}" for d, v in zip(_monthly(), GOOD)]), [], DATA,
     r"data\.csv, line 2: 3 fields where the header names 2 \('2015-01-01,100,100'\)"),
    ("header-only", "ds,y\n", [], DATA, r"has a header \(ds, y\) but no rows"),
    ("date-and-hour-in-two-columns",
     _csv([f"2024-01-{1 + k // 24:02d},{k % 24},{100 + k % 7}" for k in range(72)], "date,hour,load"), [], USAGE,
     r"the dates in 'date' repeat and 'hour' holds hours of the day: the time is split over two columns.*"
     r"pd\.to_timedelta\(d\.pop\('hour'\), unit='h'\)"),
    ("year-and-month-in-two-columns", _csv([f"{2015 + k // 12},{1 + k % 12},{v}" for k, v in enumerate(GOOD)],
                                           "year,month,sales"), [], USAGE,
     r"the time is split over the columns 'year' and 'month'.*pd\.PeriodIndex\.from_fields\(year=d\.pop\('year'\), "
     r"month=d\.pop\('month'\), freq='M'\)"),
    ("year-and-quarter-name-in-two-columns",
     _csv([f"{2015 + k // 4},Q{1 + k % 4},{v}" for k, v in enumerate(GOOD)], "Year,Qtr,sales"), [], USAGE,
     r"split over the columns 'Year' and 'Qtr'.*quarter=d\.pop\('Qtr'\)\.str\[-1\]\.astype\(int\)"),
    # pandas read a time of day as today at that time: made-up dates that moved every day
    ("times-of-day-without-dates", _csv([f"{k // 60:02d}:{k % 60:02d},{v}" for k, v in enumerate(GOOD)], "time,load"),
     [], DATA, r"line 2: '00:00' in the time column 'time' is a time of day without a date; expected dates"),
    ("times-of-day-as-hours", _csv([f"{1 + k % 12}{'am' if k % 24 < 12 else 'pm'},{v}" for k, v in enumerate(GOOD)],
                                   "time,load"),
     [], DATA, r"line 2: '1am' in the time column 'time' is a time of day without a date"),
    ("a-time-of-day-among-dates", _csv([f"{d},{v}" for d, v in zip([*_monthly()[:3], "1:00 PM", *_monthly()[4:]], GOOD)]),
     [], DATA, r"line 5: '1:00 PM' in the time column 'ds' is a time of day without a date"),
    # pandas gave a date without a year the year 1: forecasts dated 0001-12-24
    ("dates-without-a-year", _csv([f"{d[5:7]}/{d[8:]},{v}" for d, v in zip(_monthly(), GOOD)]), [], DATA,
     r"line 2: '01/01' in the time column 'ds' has no year; expected dates like 2024-01-31"),
    # days of months, Jan 01 to Feb 09, were read as months of the years 2001 to 2031
    ("days-of-months-without-a-year", _csv([f"{d:%b %d},{v}" for d, v in zip(pd.date_range("2015-01-01", periods=40),
                                                                             GOOD)]), [], DATA,
     r"line 2: 'Jan 01' in the time column 'ds' has no year"),
    ("a-month-and-a-two-digit-year", _csv([f"{d[5:7]}/{d[2:4]},{v}" for d, v in zip(_monthly(), GOOD)]), [], DATA,
     r"'01/15' in the time column 'ds' has no year.* If '01/15' is a month and a two-digit year, write it as YYYY-MM"),
    ("eurostat-not-available", _series([*GOOD[:5], ":", *GOOD[6:]]), [], DATA,
     r"line 7: ':' in column 'y' is not a number \(a mark for a value not available, as Eurostat writes ':' and the "
     r"World Bank and the OECD '\.\.'\? leave those cells empty"),
    ("eurostat-flag", _series([*GOOD[:5], "105 p", *GOOD[6:]]), [], DATA,
     r"line 7: '105 p' in column 'y' is not a number \(a number with a unit, or with a flag, as Eurostat marks "
     r"provisional \(p\)"),
    ("swiss-apostrophes", _series([*GOOD[:5], "1'234.5", *GOOD[6:]]), [], DATA,
     r"line 7: \"1'234\.5\" in column 'y' is not a number \(apostrophes between groups of three digits"),
    # nanoseconds apart, then two days later: the grid of a nanosecond step (1.7e14 times) was made
    # before the check that refuses it (a MemoryError traceback)
    ("a-grid-too-large-to-make", _csv([f"1970-01-01 00:00:00.{k:09d},{v}" for k, v in enumerate(GOOD[:-1], start=1)]
                                      + [f"1970-01-03 00:00:00.000000001,{GOOD[-1]}"]), [], DATA,
     r"series 'y' has 40 rows spread over 172800000000001 steps of ns; it is mostly gaps"),
    ("integer-steps-too-far-apart", _csv([f"{k},{v}" for k, v in enumerate(GOOD[:-1], start=1)] + [f"{10**13},{GOOD[-1]}"]),
     ["--horizon", "4"], DATA, r"series 'y' has 40 rows spread over 10000000000000 steps of 1; it is mostly gaps"),
    # +-1e154 in one series overflowed squared differences, and the blend's weight came out NaN
    # (reported as a bad --blend, exit 2)
    ("values-too-large-to-square", _series([*GOOD[:-2], "1e154", "-1e154"]), [], DATA,
     r"line 40: column 'y' holds 1e154, too large to scale safely \(limit 1e\+100\)\. Rescale the column"),
    # pandas reads a repeated name as y.1: a covariate (a series with --wide) the user never named
    ("a-column-named-twice", _csv([f"{d},{v},{v + 1}" for d, v in zip(_monthly(), GOOD)], "ds,y, y"), [], DATA,
     r"data\.csv has two columns named 'y' \(columns 2 and 3\).*Rename or drop one of them"),
    ("a-wide-column-named-twice", _csv([f"{d},{v},{v + 1}" for d, v in zip(_monthly(), GOOD)], "month,north,north"),
     ["--wide"], DATA, r"has two columns named 'north' \(columns 2 and 3\)"),
    ("not-utf8", b"ds,y\n2020-01-01,1\n2020-02-01,\xe9\n", [], DATA,
     r"line 3 is not UTF-8 \(byte 0xe9\)\. A CSV saved by Excel on Windows is cp1252.*pass --encoding cp1252.*iconv"),
    ("utf-16", _series(GOOD).encode("utf-16"), [], DATA, r"data\.csv is UTF-16 text .*Pass --encoding utf-16"),
    ("not-the-encoding-given", b"ds,y\n2020-01-01,1\n2020-02-01,\x81\n", ["--encoding", "cp1252"], DATA,
     r"line 3 is not cp1252 \(byte 0x81\)\. The file is in another encoding than --encoding cp1252"),
    ("unknown-encoding", _series(GOOD), ["--encoding", "latin-9000"], USAGE,
     r"--encoding 'latin-9000' is not a text encoding Python knows"),
    ("accounting-negative", _series([*GOOD[:5], "(12.5)", *GOOD[6:]]), [], DATA,
     r"line 7: '\(12\.5\)' in column 'y' is not a number \(an accountant's negative number\? write it with a minus "
     r"sign, -12\.5 for \(12\.5\)"),
    ("accounting-zero", _series([*GOOD[:5], " - ", *GOOD[6:]]), [], DATA,
     r"line 7: '-' in column 'y' is not a number \(an accounting format's zero\? write 0"),
    ("day-out-of-range", _csv([f"{d:%d.%m.%Y},{v}" for d, v in zip(pd.date_range("2015-01-01", periods=40, freq="MS"),
                                                                    GOOD)][:5] + ["31.02.2018,5"]), [], DATA,
     r"line 7: '31\.02\.2018' in column 'ds' is no date with the day first"),
    ("totals-row", _series(GOOD) + "Grand Total,5000\n", [], DATA,
     r"line 42: 'Grand Total' in column 'ds' is not a date or time.*A row of totals below the table: drop the rows "
     r"from line 42 on, or read the file without them: head -n 41 .*data\.csv \| forecast train -"),
    ("totals-row-inside", _series(GOOD[:20]) + "Total,5000\n" + _series(GOOD[20:], _monthly(20, "2016-09-01"))[5:],
     [], DATA, r"line 22: 'Total' in column 'ds' is not a date or time.*A row of totals: drop it from the file"),
    ("note-below-a-blank-line", _series(GOOD) + "\n\nSource: ERP export\n", [], DATA,
     r"line 44: 'Source: ERP export' in column 'ds' is not a date.*A note below the table: drop the rows from line 44 "
     r"on, or read the file without them: head -n 43 "),
    ("value-after-a-blank-line", _series(GOOD[:10]) + "\n" + _series(["x", *GOOD[11:]], _monthly(30, "2015-11-01"))[5:],
     [], DATA, r"line 13: 'x' in column 'y' is not a number"),
    ("thousands-separator", _series([*GOOD[:5], '"1,234"', *GOOD[6:]]), [], DATA,
     r"line 7: '1,234' in column 'y' is not a number \(commas between thousands\? --thousands-comma reads"),
    ("currency", _series([*GOOD[:5], '"$1,234.50"', *GOOD[6:]]), [], DATA,
     r"line 7: '\$1,234.50' in column 'y' is not a number \(a currency or percent sign\? write the number alone"),
    ("percent", _series([*GOOD[:5], "12%", *GOOD[6:]]), [], DATA, r"line 7: '12%' in column 'y' is not a number \(a currency or"),
    ("n/a-text", _series([*GOOD[:3], "n/a", *GOOD[4:]]), [], DATA, r"line 5: 'n/a' in column 'y' is not a number.*leave a cell empty"),
    ("spreadsheet-error", _series([*GOOD[:3], "#N/A", *GOOD[4:]]), [], DATA,
     r"line 5: '#N/A' in column 'y' is not a number \(a spreadsheet's error value: mend the formula"),
    ("all-missing", _series([""] * 40), [], DATA, r"column 'y' has no values at all"),
    ("gaps-refused", _series([*GOOD[:10], "", "", *GOOD[12:]]), ["--fill", "none"], DATA,
     r"series 'y' has 2 missing value\(s\).*first at 2015-11-01.*--fill interpolate"),
    ("inf", _series([*GOOD[:8], "inf", *GOOD[9:]]), [], DATA, r"line 10: column 'y' holds an infinite value"),
    ("duplicate-timestamp", _series(GOOD, [*_monthly(39), _monthly(39)[-1]]), [], DATA,
     r"series 'y' has the timestamp 2018-03-01 more than once \(lines 40, 41\).*Remove or aggregate the duplicates "
     r"\(to sum the rows of each period into one: --freq with the period and --aggregate sum; mean for readings\)"),
    ("irregular-times", _csv([f"2020-01-01 {h:02d}:{m:02d},{i}" for i, (h, m) in enumerate(
        [(0, 0), (0, 7), (1, 13), (1, 59), (3, 2), (3, 11), (5, 40), (6, 1), (8, 30), (9, 9)] * 1)]), [], DATA,
     r"cannot infer the frequency.*--freq.*Events at irregular times \(transactions\) are summed per period with "
     r"--freq D --aggregate sum \(readings at odd times averaged with --aggregate mean\)\.$"),
    ("irregular-times-with-freq", _csv([f"s,2020-01-0{d} {h:02d}:{m:02d},{i}" for i, (d, h, m) in enumerate(
        [(1, 0, 0), (1, 7, 3), (2, 1, 13), (2, 11, 59), (3, 3, 2), (4, 3, 11), (5, 5, 40), (6, 6, 1)])],
        header="store,ds,y"), ["--freq", "h"], DATA,
     r"off the regular frequency h grid.*summed per period with --freq h --aggregate sum"),
    ("mixed-frequencies", _csv(
        [f"a,{d},{v}" for d, v in zip(_monthly(40), GOOD)]
        + [f"b,{d.strftime('%Y-%m-%d')},{v}" for d, v in zip(pd.date_range("2015-01-01", periods=40, freq="D"), GOOD)],
        header="unique_id,ds,y"), [], DATA, r"series have different frequencies \(MS for most, D for series 'b'\)|off the regular"),
    ("title-above-the-table", "Monthly sales report\n\n" + _series(GOOD), [], DATA,
     r"data\.csv: line 1 \('Monthly sales report'\) holds no delimiter, but the lines from 3 do \('ds,y'\): a title "
     r"above the table\? .*tail -n \+3 .*data\.csv \| forecast train -"),
    # The title in the table's delimiters, as a spreadsheet exports it (`Title,` and a line of
    # commas), or with a comma in it: the table's header was read as a row of data ("empty column
    # names", or its time name "is not a date").
    ("title-with-the-tables-delimiters", "Monthly sales report,\n,\n" + _series(GOOD), [], DATA,
     r"data\.csv: line 3 \('ds,y'\) reads as the table's header, below 'Monthly sales report,': a title above the "
     r"table\? .*tail -n \+3 .*data\.csv \| forecast train -"),
    # Cells a spreadsheet leaves empty: a row of units under the header, a group's id or time
    # written on its first row only (merged or grouped cells).
    ("units-row-under-the-header", "ds,y\n,EUR\n" + _series(GOOD).split("\n", 1)[1], [], DATA,
     r"line 2: the time column 'ds' is empty\. Every row needs a time\. The first row under the header alone has none: "
     r"a row of units or notes\? Remove it\.$"),
    ("ids-on-each-groups-first-row", _csv([f"{'ab'[k] if i == 0 else ''},{d},{v}" for k in range(2)
                                           for i, (d, v) in enumerate(zip(_monthly(40), GOOD))], header="shop,ds,y"),
     ["--id-col", "shop"], DATA, r"line 3: column 'shop' is empty; every row needs a series id\. 78 of 80 rows have "
     r"none, below rows that have: cells merged .* df\['shop'\] = df\['shop'\]\.ffill\(\)\)\.$"),
    ("times-on-each-groups-first-row", _csv([f"{d if k == 0 else ''},{'ab'[k]},{v}" for d, v in zip(_monthly(40), GOOD)
                                             for k in range(2)], header="ds,shop,y"),
     [], DATA, r"line 3: the time column 'ds' is empty\. Every row needs a time\. 40 of 80 rows have none, below rows "
     r"that have: cells merged"),
    ("title-with-a-comma", "Sales, by month\n" + _series(GOOD), [], DATA,
     r"line 2 \('ds,y'\) reads as the table's header, below 'Sales, by month'.*tail -n \+2 "),
    ("month-starts-and-month-ends", _csv(
        [f"a,{d},{v}" for d, v in zip(_monthly(40), GOOD)]
        + [f"b,{d.strftime('%Y-%m-%d')},{v}" for d, v in zip(pd.date_range("2015-01-31", periods=40, freq="ME"), GOOD)],
        header="unique_id,ds,y"), [], DATA,
     r"series have one period but are dated differently \(MS for most, ME for series 'b'\)\. Write every series' "
     r"dates one way"),
    ("tz-mixed", _csv([f"2020-01-01T{h:02d}:00{'+01:00' if h % 2 else ''},{h}" for h in range(24)]), [], DATA,
     r"mixes times with a UTC offset \(line 3: '2020-01-01T01:00\+01:00'\) and times without one \(line 2"),
    ("local-clock-repeats-an-hour", _csv(["2024-10-27 01:00,1", "2024-10-27 02:00,2", "2024-10-27 02:00,3",
                                          *(f"2024-10-27 {h:02d}:00,{h}" for h in range(3, 24))]), [], DATA,
     r"more than once \(lines 3, 4\).*daylight saving ends, write each time with its UTC offset"),
    ("dates-and-integers", _csv([*(f"{d},{v}" for d, v in zip(_monthly(20), GOOD)), "21,5", "22,6"]), [], DATA,
     r"line 2\d: the time column 'ds' mixes integers \('21'\) with dates"),
    ("not-a-date", _series(GOOD, [*_monthly(10), "someday", *_monthly(29, "2016-04-01")]), [], DATA,
     r"line 12: 'someday' in column 'ds' is not a date"),
    ("single-row", _csv(["2020-01-01,5"]), [], DATA, r"cannot infer the frequency"),
    ("single-row-integer", _csv(["1,5"]), [], DATA, r"the longest series has 1 rows.*need at least"),
    ("all-series-too-short", _series(GOOD[:14]), ["--lookback", "8"], DATA,
     r"longest series has 14 rows, but lookback 8 \+ horizon 4.*need at least 16"),
    ("lookback-larger-than-data", _series(GOOD), ["--lookback", "500"], DATA,
     r"longest series has 40 rows, but lookback 500.*Use a smaller --lookback"),
    ("horizon-zero", _series(GOOD), ["--horizon", "0"], USAGE, r"--horizon must be a whole number of at least 1. Received: horizon=0"),
    ("horizon-negative", _series(GOOD), ["--horizon", "-2"], USAGE, r"Received: horizon=-2"),
    ("bad-fill", _series(GOOD), ["--fill", "mean"], USAGE, r"--fill must be one of interpolate, ffill, zero, none"),
    # A season no series holds once: a mistyped 12000000000000 filled memory (a traceback).
    ("season-longer-than-data", _series(GOOD), ["--season", "12000000000000"], DATA,
     r"--season 12000000000000 is longer than the longest series \(40 rows\).*shorter --season \(this data's frequency has 12\)"),
    # TensorFlow's out-of-memory traceback came after the data was read.
    ("units-beyond-memory", _series(GOOD), ["--units", "100000000"], USAGE,
     r"--units 100000000 with --layers 1 makes a network whose weights .* more than this machine's [\d,]+ GiB of memory"),
    ("seasons-longer-than-data", _series(GOOD), ["--season", "41,82"], DATA, r"--season 41 is longer than the longest"),
    ("bad-freq", _series(GOOD), ["--freq", "fortnightly"], USAGE, r"--freq 'fortnightly' is not a pandas frequency"),
    ("unknown-target-col", _series(GOOD), ["--target-col", "sales"], USAGE, r"has no column --target-col 'sales'; its columns are: ds, y"),
    # A flag that names a column in another case or nearly (a typo) is told the column meant.
    ("target-col-in-another-case", _series(GOOD), ["--target-col", "Y"], USAGE, r"has no column --target-col 'Y'; .* Did you mean 'y'\?$"),
    ("misspelt-covariate", _csv([f"{d},{v},1.5" for d, v in zip(_monthly(40), GOOD)], header="ds,y,price"),
     ["--future-covariates", "prise"], USAGE, r"has no column 'prise', named by --past-covariates or --future-covariates; "
     r"its columns are: ds, y, price\. Did you mean 'price'\?$"),
    # Several id columns are one joined column when the covariates are read: the list named 'shop,family'.
    ("misspelt-covariate-beside-two-id-columns",
     _csv([f"{shop},{fam},{d},{v},1.5" for d, v in zip(_monthly(40), GOOD) for shop in "nm" for fam in "AB"],
          header="shop,family,ds,y,price"),
     ["--id-col", "shop,family", "--past-covariates", "prise"], USAGE,
     r"its columns are: shop, family, ds, y, price\. Did you mean 'price'\?$"),
    ("ambiguous-target", _csv([f"{d},1,2" for d in _monthly(40)], header="ds,a,b"), [], USAGE,
     r"several candidate target columns \(a, b\)\. Choose one with --target-col.*; or, to forecast each column as a "
     r"series of its own, pass --wide\.$"),
    ("ambiguous-target-of-named-stores", _csv([f"{d},{store},1,0" for d in _monthly(40) for store in "AB"], header="ds,store,sales,promo"),
     [], USAGE, r"several candidate target columns \(sales, promo\)\. The series are told apart by 'store'"),
    ("ambiguous-target-of-numbered-stores", _csv([f"{d},{store},1,0" for d in _monthly(40) for store in (1, 2)],
                                                 header="ds,store,sales,promo"), [], USAGE,
     r"\(store, sales, promo\)\. The times repeat \('2015-01-01' on 2 rows\), so the file holds several series: "
     r"name their id column with --id-col"),
    ("series-told-apart-by-two-columns", _csv([f"{d},{region},{product},1" for d in _monthly(40) for region in "NS"
                                               for product in "ab"], header="ds,region,product,sales"), [], DATA,
     r"more than once \(lines 2, 3, 4, 5\).*told apart by 'region', 'product', name them all: --id-col region,product "
     r"\(one id, their values joined with '/'\)"),
    ("series-told-apart-by-a-column-of-numbers", _csv([f"{d},{store},1" for d in _monthly(40) for store in (1, 2)],
                                                      header="ds,store,sales"), ["--target-col", "sales"], DATA,
     r"more than once \(lines 2, 3\).*told apart by 'store', name it: --id-col store\.$"),
    ("one-column", _csv([str(v) for v in GOOD], header="y"), [], DATA, r"has only the column\(s\) y; expected a time column"),
    ("empty-id", _csv([f"{'' if i == 3 else 'a'},{d},{v}" for i, (d, v) in enumerate(zip(_monthly(40), GOOD))],
                      header="unique_id,ds,y"), [], DATA, r"line 5: column 'unique_id' is empty"),
    ("ragged-rows", "ds,y\n2020-01-01,1\n2020-02-01,2,3,4\n", [], DATA, r"not a well-formed CSV"),
    ("huge-value", _series([*GOOD[:4], "1e305", *GOOD[5:]]), [], DATA, r"line 6: column 'y' holds 1e305, too large"),
]


def _write(path: Path, content) -> None:
    if content is None:
        return
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("content", "args", "code", "message"),
                         [c[1:] for c in TRAIN_CASES], ids=[c[0] for c in TRAIN_CASES])
def test_train_refuses(tmp_path, content, args, code, message):
    data = tmp_path / "data.csv"
    _write(data, content)
    out = tmp_path / "model"
    args = ["--horizon", "4", *args] if "--horizon" not in args else args
    result = runner.invoke(app, ["train", str(data), "--out", str(out), *TINY, *args])
    assert result.exit_code == code, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "Traceback" not in result.output
    assert pd.Series([last]).str.contains(message, regex=True).iloc[0], last
    if code == DATA and content not in (None, "DIR"):
        assert "data.csv" in last  # the file is named
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == (["data.csv"] if content is not None else [])


def test_train_failure_leaves_the_previous_model_unchanged(trained_model, tmp_path):
    model_dir, _ = trained_model
    out = tmp_path / "model"
    shutil.copytree(model_dir, out)
    before = _snapshot(out)
    (tmp_path / "bad.csv").write_text(_series([*GOOD[:3], "n/a", *GOOD[4:]]))
    result = runner.invoke(app, ["train", str(tmp_path / "bad.csv"), "--horizon", "4", "--out", str(out), *TINY])
    assert result.exit_code == DATA and _snapshot(out) == before


def test_a_full_disk_while_the_model_is_written_is_an_output_error(trained_model, tmp_path, monkeypatch):
    """No space left (or a quota) while the model directory is written: exit 5, saying so and to
    free space, no traceback, the previous model as it was and no temporary folder left."""
    import errno

    from forecast_cli import model as lstm

    model_dir, data = trained_model
    out = tmp_path / "model"
    shutil.copytree(model_dir, out)
    before = _snapshot(out)

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lstm, "save", full)
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(out), *TINY])
    assert result.exit_code == OUTPUT, result.output
    assert (f"\nError: cannot write the model directory {out}: No space left on device. "
            "Free some space, or choose another --out; any previous model is unchanged.\n") in result.stderr
    assert "Traceback" not in result.output
    assert _snapshot(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize(
    ("name", "content", "code", "message"),
    [
        ("constant", _series([5.0] * 40), 0, None),
        ("zeros-and-negatives", _series([0, -3, 0, 2, -1] * 8), 0, None),
        ("near-1e30", _series([1e30 * (1 + 0.01 * (i % 12)) for i in range(40)]), 0, None),
        ("semicolon", _series(GOOD).replace(",", ";"), 0, None),
        ("tab", _series(GOOD).replace(",", "\t"), 0, None),
        ("gaps-filled", _series([*GOOD[:10], "", "", *GOOD[12:]]), 0, "filled 2 missing value"),
        ("missing-timestamps-filled", _series(GOOD[:20] + GOOD[22:], _monthly(20) + _monthly(40)[22:]), 0, "filled 2 missing value"),
        ("mixed-type-ids", _csv([f"{u},{d},{v}" for u in ("1", "a", "2.5") for d, v in zip(_monthly(40), GOOD)],
                                header="unique_id,ds,y"), 0, "3 series"),
        ("one-series-too-short-skipped", _csv([f"a,{d},{v}" for d, v in zip(_monthly(40), GOOD)] + ["b,2015-01-01,3", "b,2015-02-01,4", "b,2015-03-01,5"],
                                             header="unique_id,ds,y"), 0, "1 series shorter than lookback 8 \\+ horizon 4 was not used for training: 'b'. It can still be forecast"),
        ("extra-column-ignored", _csv([f"a,{d},{v},x" for d, v in zip(_monthly(40), GOOD)], header="unique_id,ds,y,note"), 0, "ignored columns: note"),
    ],
)
def test_awkward_but_valid_inputs_train_and_predict(tmp_path, name, content, code, message):
    data = tmp_path / "data.csv"
    data.write_text(content)
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(tmp_path / "m"), *TINY])
    assert result.exit_code == code, result.output
    if message:
        assert pd.Series([result.stderr]).str.contains(message, regex=True).iloc[0], result.stderr
    scores = json.loads((tmp_path / "m" / "metrics.json").read_text())
    for model in ("lstm", "naive", "seasonal_naive"):
        assert all(v is None or np.isfinite(v) for v in scores[model].values())
    if name == "one-series-too-short-skipped":
        return  # 'b' has 3 values, fewer than the lookback: predict would rightly refuse it
    result = runner.invoke(app, ["predict", str(tmp_path / "m"), str(data)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert np.isfinite(frame["yhat"]).all() and len(frame) % 4 == 0


def _truncate(model_dir: Path) -> None:
    data = (model_dir / "model.keras").read_bytes()
    (model_dir / "model.keras").write_bytes(data[: len(data) // 2])


def _edit_manifest(change):
    def apply(model_dir: Path) -> None:
        doc = json.loads((model_dir / "manifest.json").read_text())
        change(doc)
        (model_dir / "manifest.json").write_text(json.dumps(doc))
    return apply


MODEL_CASES = [
    ("no-such-dir", lambda d: shutil.rmtree(d), r"no such model directory.*forecast train"),
    ("no-manifest", lambda d: (d / "manifest.json").unlink(), r"has no manifest.json; it is not a model directory"),
    ("manifest-not-json", lambda d: (d / "manifest.json").write_text("{not json"), r"manifest.json is not valid JSON"),
    ("newer-format", _edit_manifest(lambda m: m.update(format_version=FORMAT_VERSION + 1)), r"format version \d+ is newer than this forecast understands"),
    ("no-horizon", _edit_manifest(lambda m: m["config"].update(horizon=None)), r"config lacks horizon"),
    ("unknown-fill", _edit_manifest(lambda m: m["config"].update(fill="mean")), r"manifest.config is not valid \(--fill must be one of"),
    ("wrong-types", _edit_manifest(lambda m: m["config"].update(horizon="four")), r"manifest.config.horizon should be a whole number or null, got 'four'.*retrain the model"),
    ("truncated-keras", _truncate, r"model.keras does not match the digest.*truncated"),
    ("a-file-not-a-dir", lambda d: (shutil.rmtree(d), d.write_text("x")), r"is a file; expected a model directory"),
]


@pytest.mark.parametrize(("breaks", "message"), [c[1:] for c in MODEL_CASES], ids=[c[0] for c in MODEL_CASES])
def test_predict_refuses_bad_model_directories(trained_model, tmp_path, breaks, message):
    model_dir, data = trained_model
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    breaks(copy)
    out = tmp_path / "forecast.csv"
    result = runner.invoke(app, ["predict", str(copy), str(data), "--output", str(out)])
    assert result.exit_code == MODEL, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and pd.Series([last]).str.contains(message, regex=True).iloc[0], last
    assert not out.exists()


def test_a_lambda_layer_is_refused_by_safe_mode(trained_model, tmp_path):
    """A model.keras holding a Lambda layer (code) is never run, even with a matching digest."""
    from forecast_cli.model import keras_module

    keras = keras_module()
    model_dir, data = trained_model
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    inputs = keras.Input((8, 1))
    flat = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Lambda(lambda x: x[:, :4] * 2.0)(flat)
    keras.Model(inputs, outputs).save(copy / "model.keras")
    doc = json.loads((copy / "manifest.json").read_text())
    doc["files"]["model.keras"] = hashlib.sha256((copy / "model.keras").read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(doc))
    result = runner.invoke(app, ["predict", str(copy), str(data), "--engine", "keras"])
    assert result.exit_code == MODEL, result.output
    assert "cannot be loaded safely" in result.stderr and "Lambda" in result.stderr
    with zipfile.ZipFile(copy / "model.keras") as archive:
        assert "Lambda" in archive.read("config.json").decode()


PREDICT_DATA_CASES = [
    ("missing-column", lambda f: f.drop(columns="y"), r"missing: y.*Expected unique_id, ds, y"),
    ("unexpected-column", lambda f: f.assign(extra=1), r"unexpected: extra"),
    ("integers-for-dates", lambda f: f.assign(ds=np.arange(len(f))), r"holds integer steps, but the model was trained on dates"),
    # predict has no --freq: the fix is the model's grid or another model
    ("off-grid-dates", lambda f: f.assign(ds=pd.to_datetime(f["ds"]) + pd.Timedelta(days=3)),
     r"off the regular frequency MS grid.*The model was trained on that grid: resample the series to it, or train a model"),
    ("weekly-for-monthly", lambda f: f.assign(ds=np.tile(pd.date_range("2020-01-05", periods=24, freq="W-SUN"), 3)),
     r"off the regular frequency MS grid.*train a model on this data\.$"),
]


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in PREDICT_DATA_CASES], ids=[c[0] for c in PREDICT_DATA_CASES])
def test_predict_refuses_bad_data(trained_model, tmp_path, change, message):
    model_dir, _ = trained_model
    data = tmp_path / "new.csv"
    change(make_long(3, 24)).to_csv(data, index=False)
    out = tmp_path / "forecast.csv"
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(out)])
    assert result.exit_code == DATA, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert "new.csv" in last and pd.Series([last]).str.contains(message, regex=True).iloc[0], last
    assert not out.exists()


@pytest.mark.parametrize(
    ("output", "message"),
    [("nowhere/forecast.csv", r"the folder .*nowhere does not exist.*mkdir -p"),
     ("adir", r"adir: it is a directory. Give a file path"),
     ("afile/forecast.csv", r"afile is not a folder")],
)
def test_unwritable_outputs_are_refused_before_any_work(trained_model, tmp_path, output, message):
    model_dir, data = trained_model
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir" / "notes.txt").write_text("not a model")
    (tmp_path / "afile").write_text("x")
    before = _snapshot(tmp_path)
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(tmp_path / output)])
    assert result.exit_code == OUTPUT, result.output
    assert pd.Series([result.stderr]).str.contains(message, regex=True).iloc[0], result.stderr
    assert _snapshot(tmp_path) == before
    result = runner.invoke(app, ["train", str(data), "--horizon", "4", "--out", str(tmp_path / output), *TINY])
    assert result.exit_code == OUTPUT, result.output
    assert _snapshot(tmp_path) == before


def test_existing_output_is_replaced_only_on_success(trained_model, tmp_path):
    model_dir, data = trained_model
    out = tmp_path / "forecast.csv"
    out.write_text("previous\n")
    (tmp_path / "bad.csv").write_text("unique_id,ds,y\n")
    result = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "bad.csv"), "--output", str(out)])
    assert result.exit_code == DATA and out.read_text() == "previous\n"
    result = runner.invoke(app, ["predict", str(model_dir), str(data), "--output", str(out)])
    assert result.exit_code == 0 and out.read_text().startswith("unique_id,ds,yhat\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".forecast.csv.lock", "bad.csv", "forecast.csv"]


def test_a_number_still_unread_with_decimal_comma_is_not_told_to_pass_the_flag(tmp_path):
    """With --decimal-comma given, a cell it cannot read either (two commas) gets the flag's rule,
    not the advice to pass the flag."""
    path = tmp_path / "fr.csv"
    path.write_text("date;ventes\n2024-01-01;1,234,5\n2024-01-02;13,0\n2024-01-03;9,5\n")
    result = runner.invoke(app, ["doctor", str(path), "--decimal-comma"])
    assert "read with --decimal-comma: a comma for the decimals" in result.output
    assert "a decimal comma? --decimal-comma reads" not in result.output
