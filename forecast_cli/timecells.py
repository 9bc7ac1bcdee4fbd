"""The time column's cells read as timestamps or integer steps, in whatever way a file writes them."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from forecast_cli.cells import (MISSING_MARKERS, as_numbers, as_text, empty_cells_hint, is_naive_times, is_numeric,
                                line_of, place)
from forecast_cli.errors import DataError


def parse_time(col: pd.Series, source: str, name: str, day_first: bool | None = None,
                expect: str | None = None, expected_times: pd.DatetimeIndex | None = None,
                day_first_likely: bool = False) -> tuple[pd.Series, str, str]:
    """The time column parsed: (times, "datetime" or "integer", a note on how times with UTC
    offsets, dates with the day and month first, ISO weeks or Unix times were read, else "").
    `expect`: the kind a trained model was trained on (None in training): a model of integer
    steps reads Unix times as the steps they were to it, a model of dates reads them as times.
    `day_first_likely`: the file is written as where dates are written day first (`_day_month_order`)."""
    if is_numeric(col) and pd.api.types.is_integer_dtype(col.dtype):
        # A Parquet column of integers: steps, as in a CSV, or dates written as numbers.
        return compact_dates(col) or _excel_days(col, name, expect) or _integer_times(col.astype("int64"), expect)
    if is_naive_times(col):
        return _timestamps(col, source, name), "datetime", ""
    if is_numeric(col):
        unix = unix_times(col.astype("float64")) if expect != "integer" else None
        if unix is not None:  # seconds as floats (a Parquet column of doubles)
            return unix
        col = as_text(col)  # other floats as a CSV writes them: refused below as neither steps nor dates
    text = col.astype("string").str.strip()
    empty = (text.isna() | text.isin(MISSING_MARKERS)).to_numpy(dtype=bool)
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise DataError(f"{source}, {place(source, line_of(col, row))}: the time column {name!r} is empty. Every row "
                        "needs a time." + empty_cells_hint(empty, name))
    clock = text.str.fullmatch(TIME_OF_DAY).to_numpy(dtype=bool)
    if clock.any():
        # pandas reads `13:00` as today at 13:00: the forecast's dates would be made up, and move every day.
        row = int(np.flatnonzero(clock)[0])
        raise DataError(
            f"{source}, {place(source, line_of(text, row))}: {text.iloc[row]!r} "
            f"in the time column {name!r} is a time of "
            "day without a date; expected dates or date-times like 2024-01-31 13:00. Write the date with each time; "
            "where the dates are in another column, join the two into one (docs/input.md shows a pandas line)."
        )
    is_int = text.str.fullmatch(r"[+-]?\d+")
    if is_int.all():
        return compact_dates(text) or _excel_days(text, name, expect) or _integer_times(text.astype("int64"), expect)
    if expect != "integer" and text.str.fullmatch(r"\d+\.\d*").all():  # seconds as floats: 1711000800.0
        found = unix_times(text.astype("float64")) or _excel_days(text, name, expect)
        if found is not None:
            return found
    if is_int.any():  # some integers, some not
        looks_like_date = text.str.contains(r"[-/:T ]", regex=True)
        if looks_like_date.any():
            row = int(np.flatnonzero(is_int.to_numpy())[0])
            raise DataError(
                f"{source}, {place(source, line_of(text, row))}: the time column {name!r} mixes integers "
                f"({text.iloc[row]!r}) with dates. Use one kind throughout."
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(text, format="ISO8601")
        except (ValueError, TypeError):
            pass
        else:
            return _with_offsets(text) if parsed.dt.tz is not None else (parsed, "datetime", "")
        zoned = text.str.contains(_TIME_WITH_OFFSET, regex=True)
        if zoned.all():  # several offsets: a local clock through daylight saving
            try:
                return _with_offsets(text)
            except (ValueError, TypeError):
                pass  # not ISO 8601: the bad time is named below
        if text.str.fullmatch(_ISO_WEEK).all():
            try:
                return _iso_weeks(text), "datetime", "ISO weeks read as their Mondays"
            except ValueError:
                row = next(i for i in range(len(text)) if _iso_week_error(text.iloc[i]))
                raise DataError(f"{source}, {place(source, line_of(text, row))}: {text.iloc[row]!r} in column {name!r} "
                                "is not a week of that year (a year has 52 ISO weeks, some 53). Check the week.") from None
        named = _named_periods(text)
        if named is not None:
            return named
        ordered = _day_month_order(text, source, name, day_first, expected_times, day_first_likely)
        if ordered is not None:
            return ordered
        try:
            parsed = pd.to_datetime(text, format="mixed")
        except (ValueError, TypeError):
            bad = _first_bad_time(text)
            if bad is not None:
                # Reports and spreadsheet exports often end with a row of totals, or a note.
                total = re.fullmatch(r"(?i)(grand\s+)?(total|sum|summe|gesamt|totaal|totale?)\b.*", text.iloc[bad])
                last = len(text) - bad <= 3 and all(_first_bad_time(text.iloc[i:i + 1]) == 0
                                                    for i in range(bad, len(text)))
                hint = (" A row of totals: drop it from the file (every row is a value at a time)." if total and not last
                        else f" {'A row of totals' if total else 'A note'} below the table: drop the rows from line "
                             f"{line_of(text, bad)} on, or read the file without them: "
                             f"head -n {line_of(text, bad) - 1} "
                             f"{source} | forecast train - (or predict MODEL -)." if last else "")
                raise DataError(
                    f"{source}, {place(source, line_of(text, bad))}: {text.iloc[bad]!r} "
                    f"in column {name!r} is not a date "
                    "or time; expected ISO dates like 2024-01-31 or 2024-01-31 13:00." + hint
                ) from None
            parsed = None
    if parsed is None or parsed.dtype == object:
        if zoned.all() or not zoned.any():
            raise DataError(f"{source}: the time column {name!r} could not be read as dates or times; "
                            "expected ISO dates like 2024-01-31 or 2024-01-31 13:00, in one form throughout.")
        with_zone, without = int(np.flatnonzero(zoned.to_numpy())[0]), int(np.flatnonzero(~zoned.to_numpy())[0])
        raise DataError(
            f"{source}: the time column {name!r} mixes times with a UTC offset "
            f"({place(source, line_of(text, with_zone))}: {text.iloc[with_zone]!r}) and times without one "
            f"({place(source, line_of(text, without))}: {text.iloc[without]!r}). "
            "Give every time an offset (e.g. +00:00), or none."
        )
    # pandas fills a year left out (`Jan`, `Jan 31`, `01/20`) with the year 1: made-up dates.
    yearless = ((parsed.dt.year == 1) & ~text.str.contains(r"\d{4}")).to_numpy(dtype=bool)
    if yearless.any():
        row = int(np.flatnonzero(yearless)[0])
        hint = (f" If {text.iloc[row]!r} is a month and a two-digit year, write it as YYYY-MM (2020-01 for 01/20)."
                if re.fullmatch(r"\d{1,2}[/.-]\d{2}", text.iloc[row]) else "")
        raise DataError(
            f"{source}, {place(source, line_of(text, row))}: {text.iloc[row]!r} "
            f"in the time column {name!r} has no year; "
            "expected dates like 2024-01-31 (pandas read it as in the year 1). Write the year in every date." + hint
        )
    if parsed.dt.tz is not None:  # a zone by name (2024-01-31 13:00 UTC): read in UTC, as offsets are
        return parsed.dt.tz_convert("UTC"), "datetime", "times with a time zone, read in UTC (forecasts in UTC)"
    return parsed, "datetime", ""


def hours_of_day(name: str, col: pd.Series) -> bool:
    """Whether a column named as an hour (hour, hr, HE for "hour ending", hour_of_day, ...) holds
    whole numbers of 0 to 24 only: the other half of a date split over two columns, as energy
    markets and meters export readings (`date,hour,load`).

    Example:
        >>> hours_of_day("Hour", pd.Series(["0", "1", "23"])), hours_of_day("store", pd.Series(["1", "2"]))
        (True, False)
    """
    pattern = r"(?i)\s*(?:hours?|hr|he|hour[ _]?(?:ending|of[ _]?(?:the[ _]?)?day|beginning))\s*"
    return bool(re.fullmatch(pattern, name)) and _whole_numbers(col, 0, 24)


def _whole_numbers(col: pd.Series, low: int, high: int) -> bool:
    """Whether every cell of a column is a whole number from `low` to `high`."""
    values = as_numbers(col)[1]
    return bool(values.notna().all() and (values % 1 == 0).all() and values.between(low, high).all())


_YEAR_NAME = r"(?i)\s*(?:year|yr|yyyy|jahr|ann[ée]e|a[ñn]o)\s*"
_PERIOD_NAMES = {"month": r"(?i)\s*(?:month|mon|mm|monat|mois|mes)\s*", "quarter": r"(?i)\s*(?:quarter|qtr|q)\s*",
                 "week": r"(?i)\s*(?:week|wk|iso[ _]?week|week[ _]?(?:no|nr|number))\s*"}


def split_year(frame: pd.DataFrame, names: list[str]) -> tuple[str, str, str] | None:
    """A year column and a month, quarter or week column among `names` that together are the
    time (`year,month,sales`, as statistical offices export tables), with the pandas expression
    that joins them into one date; else None.

    Example:
        >>> frame = pd.DataFrame({"Year": ["2024", "2024"], "Month": ["Jan", "Feb"], "sales": ["1", "2"]})
        >>> split_year(frame, ["Year", "Month"])
        ('Year', 'Month', "pd.to_datetime(d.pop('Year').astype(str) + ' ' + d.pop('Month'), format='%Y %b')")
    """
    year = next((c for c in names if re.fullmatch(_YEAR_NAME, c) and _whole_numbers(frame[c], 1800, 2200)), None)
    if year is None:
        return None
    fields = f"year=d.pop({year!r}), "
    for kind, pattern in _PERIOD_NAMES.items():
        period = next((c for c in names if c != year and re.fullmatch(pattern, c)), None)
        if period is None:
            continue
        text = frame[period].astype("string").str.strip()
        named = f"pd.to_datetime(d.pop({year!r}).astype(str) + ' ' + d.pop({period!r}), format="
        if kind == "month" and _whole_numbers(text, 1, 12):
            return year, period, f"pd.PeriodIndex.from_fields({fields}month=d.pop({period!r}), freq='M').to_timestamp()"
        if kind == "month" and text.str.fullmatch(r"[A-Za-z]{3}").all():
            return year, period, named + "'%Y %b')"
        if kind == "month" and text.str.fullmatch(r"[A-Za-z]{3,9}").all():
            return year, period, named + "'%Y %B')"
        if kind == "quarter" and _whole_numbers(text, 1, 4):
            return year, period, (f"pd.PeriodIndex.from_fields({fields}quarter=d.pop({period!r}), "
                                  "freq='Q').to_timestamp()")
        if kind == "quarter" and text.str.fullmatch(r"[Qq][1-4]").all():
            return year, period, (f"pd.PeriodIndex.from_fields({fields}quarter=d.pop({period!r}).str[-1].astype(int), "
                                  "freq='Q').to_timestamp()")
        if kind == "week" and _whole_numbers(text, 1, 53):
            return year, period, (f"pd.to_datetime(d.pop({year!r}).astype(str) + '-W' + d.pop({period!r}).astype(str) "
                                  "+ '-1', format='%G-W%V-%u')")
    return None


# A time of day alone: 13:00, 13:00:00.5, 1:00 PM, 1pm, 1 p.m., T13:00 (ISO's time), 13h00 (French); the
# other half of a date split over two columns.
# Python's whitespace (`\s`, which is `str.isspace`) spelled out as characters: pandas hands a
# pattern with `\s` to Python's `re` one cell at a time (RE2's `\s` misses some of them), where
# this one goes to pyarrow whole: 0.1 s instead of 0.8 s for two million times.
_SPACE = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
TIME_OF_DAY = (r"T?\d{1,2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?(?:" + _SPACE + r"?[AaPp]\.?[Mm]\.?)?|" + _SPACE
                + r"?[AaPp]\.?[Mm]\.?|[hH]\d{2})")


# Dates and times written as numbers: digits, format, what the note calls them.
_COMPACT = ((14, "%Y%m%d%H%M%S", "YYYYMMDDHHMMSS"), (12, "%Y%m%d%H%M", "YYYYMMDDHHMM"),
            (10, "%Y%m%d%H", "YYYYMMDDHH, hours"), (8, "%Y%m%d", "YYYYMMDD"), (6, "%Y%m", "YYYYMM, months"))


def compact_dates(values: pd.Series) -> tuple[pd.Series, str, str] | None:
    """Dates written as numbers, as databases and loggers export them: YYYYMMDD (20240131) or
    YYYYMM (202401, a month), and times as YYYYMMDDHH (2024013113, as weather services write
    hours), YYYYMMDDHHMM or YYYYMMDDHHMMSS; else None. Read as integer steps they would be a
    series mostly of gaps (20240131 to 20240201 is 70 steps; 202401312300 to 202402010000, 7,700).
    Every value must be such a date between the years 1800 and 2199. `values`: integers, or
    their text; the first value alone rules out integer steps (1, 2, ...) before any pass over
    the column.

    Example:
        >>> compact_dates(pd.Series(["202401312300", "202402010000"]))[0].tolist()
        [Timestamp('2024-01-31 23:00:00'), Timestamp('2024-02-01 00:00:00')]
    """
    for digits, fmt, called in _COMPACT:
        note = f"{COMPACT_NOTE} ({called})"
        pattern = rf"(?:18|19|20|21)\d{{{digits - 2}}}"
        if not len(values) or not re.fullmatch(pattern, str(values.iloc[0]).strip()):
            continue
        text = values.astype("string").str.strip()
        if not text.str.fullmatch(pattern).all():
            continue
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            return parsed, "datetime", note
    return None


COMPACT_NOTE = "dates written as numbers read as dates"

# Excel's day numbers, as a sheet saves a date column formatted as a number (General): day 0 is
# 1899-12-30 (Excel's 1900 system, which counts a 29 February 1900 that never was), a fraction
# the time of day. Read as dates only from a column whose name says dates, between 1990 and 2100.
_EXCEL_NAME = re.compile(r"(?i).*(date|datum|day|fecha).*")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_FROM, _EXCEL_TO = 32_874, 73_051  # 1990-01-01 and 2100-01-01 as Excel day numbers
_EXCEL_NOTE = "Excel day numbers read as dates (45292 is 2024-01-01)"


def _excel_days(values: pd.Series, name: str, expect: str | None) -> tuple[pd.Series, str, str] | None:
    """Excel's day numbers (45292 is 2024-01-01, 45292.5 its noon) as times, when the column's
    name says dates (`Date`, `OrderDate`, `day`) and every value lies between 1990 and 2100;
    else None, as for a model trained on integer steps (`expect`). As integer steps daily data had
    no frequency (its week unseen, no default horizon), and months, 28 to 31 days apart, were
    refused as irregular.

    Example:
        >>> _excel_days(pd.Series([45292, 45293.75]), "Date", None)[0].tolist()
        [Timestamp('2024-01-01 00:00:00'), Timestamp('2024-01-02 18:00:00')]
        >>> _excel_days(pd.Series([45292]), "t", None), _excel_days(pd.Series([7, 8]), "day", None)
        (None, None)
    """
    if expect == "integer" or not _EXCEL_NAME.fullmatch(name) or not len(values):
        return None
    numbers = values.to_numpy(dtype="float64")
    if not np.isfinite(numbers).all() or numbers.min() < _EXCEL_FROM or numbers.max() >= _EXCEL_TO:
        return None
    times = (_EXCEL_EPOCH + pd.to_timedelta(numbers, unit="D")).round("s")
    return pd.Series(times, index=values.index), "datetime", _EXCEL_NOTE


# Unix times as logs, metrics stores and message queues export them, told apart by their size:
# seconds, milliseconds, microseconds or nanoseconds since 1970-01-01 UTC, between 1990 and 2100.
_UNIX_UNITS = (("s", "seconds", 1), ("ms", "milliseconds", 10**3), ("us", "microseconds", 10**6),
               ("ns", "nanoseconds", 10**9))
_UNIX_FROM, _UNIX_TO = 631_152_000, 4_102_444_800  # 1990-01-01 and 2100-01-01 in seconds


def _integer_times(values: pd.Series, expect: str | None = None) -> tuple[pd.Series, str, str]:
    """A column of integers (int64) as Unix times where they are ones, else as integer steps.

    They are Unix times when every value lies between 1990 and 2100 in one unit and falls on a
    whole second (a model trained on such times reads them in any case; one trained on integer
    steps, as earlier versions read them, keeps reading steps). As steps they carried no
    frequency: no horizon or season by default, and the hours' day and week unseen.

    Example:
        >>> _integer_times(pd.Series([1711000800, 1711004400]))[0].tolist()
        [Timestamp('2024-03-21 06:00:00+0000', tz='UTC'), Timestamp('2024-03-21 07:00:00+0000', tz='UTC')]
        >>> _integer_times(pd.Series([1, 2]))[1:]
        ('integer', '')
    """
    if expect != "integer":
        found = unix_times(values, whole_seconds=expect is None)
        if found is not None:
            return found
    return values, "integer", ""


def unix_times(values: pd.Series, whole_seconds: bool = False) -> tuple[pd.Series, str, str] | None:
    """Numbers (integers, or floats as `time.time()` and some exports write seconds:
    1711000800.0, 1711000800.5) as Unix times in UTC when every one lies between 1990 and 2100 in
    one unit (and, with `whole_seconds`, falls on a whole second), else None. Floats are read to
    the microsecond, below which their digits are rounding."""
    numbers = values.to_numpy()
    if not len(numbers) or (numbers.dtype.kind == "f" and not np.isfinite(numbers).all()):
        return None
    for unit, name, scale in _UNIX_UNITS:
        if _UNIX_FROM * scale <= numbers.min() and numbers.max() < _UNIX_TO * scale:
            if whole_seconds and (numbers % scale).any():
                return None
            times = pd.to_datetime(numbers, unit=unit, utc=True)
            if numbers.dtype.kind == "f":
                times = times.round("us")
            if (times == times.normalize()).all():
                # Days (months, years) written as their midnights: the dates, as for midnights with offsets.
                return (pd.Series(times.tz_localize(None), index=values.index), "datetime",
                        f"Unix times ({name} since 1970) at midnight UTC read as the dates")
            return (pd.Series(times, index=values.index), "datetime",
                    f"Unix times ({name} since 1970) read as UTC times (forecasts in UTC)")
    return None


# Quarters and months named the way spreadsheets, reports and statistical offices write them:
# Q1 2024 (Q1-2024, Q1/2024) and 2024 Q1 (2024:Q1, as national statistics offices publish
# quarters); 2024M01 and 2024m1 (the IMF's months, and Stata's %tm); Jan-24 (Jan 24, January-24:
# a month and a two-digit year, which pandas would otherwise read as the 24th of January of no
# year).
_QUARTER_YEAR = r"[Qq]([1-4])[ ./-]?(\d{4})"
_YEAR_QUARTER = r"(\d{4}) ?[.:/-]? ?[Qq]([1-4])"
_YEAR_MONTH = r"(\d{4})[.:-]?[Mm](0?[1-9]|1[0-2])"
_MONTH_SHORT_YEAR = r"([A-Za-z]{3,9})[ ./-](\d{2})"


def _named_periods(text: pd.Series) -> tuple[pd.Series, str, str] | None:
    """`Q1 2024` and `2024 Q1` as the quarter's first day, `2024M01` and `Jan-24` as the month's,
    else None.

    Example:
        >>> [_named_periods(pd.Series(t))[0].dt.strftime("%Y-%m-%d").tolist()
        ...  for t in (["Q4 2023", "Q1 2024"], ["2023 Q4", "2024:Q1"], ["2023M12", "2024m1"])]
        [['2023-10-01', '2024-01-01'], ['2023-10-01', '2024-01-01'], ['2023-12-01', '2024-01-01']]
    """
    for pattern, year, quarter in ((_QUARTER_YEAR, 1, 0), (_YEAR_QUARTER, 0, 1)):
        quarters = text.str.extract(f"^{pattern}$")
        if quarters[0].notna().all():
            starts = pd.PeriodIndex(quarters[year] + "Q" + quarters[quarter], freq="Q").to_timestamp()
            return pd.Series(starts, index=text.index), "datetime", "quarters (Q1 2024) read as their first days"
    numbered = text.str.extract(f"^{_YEAR_MONTH}$")
    if numbered[0].notna().all():
        starts = pd.to_datetime(numbered[0] + "-" + numbered[1].str.zfill(2) + "-01", format="%Y-%m-%d")
        return starts, "datetime", "months written 2024M01 read as their first days"
    months = text.str.extract(f"^{_MONTH_SHORT_YEAR}$")
    if months[0].notna().all() and not _days_of_months(months[0].str.lower(), months[1].astype(int)):
        for fmt in ("%b %y", "%B %y"):
            parsed = pd.to_datetime(months[0] + " " + months[1], format=fmt, errors="coerce")
            if parsed.notna().all():
                return parsed, "datetime", "months with two-digit years (Jan-24) read as their first days"
    return None


def _days_of_months(month: pd.Series, number: pd.Series) -> bool:
    """Whether `Jan 01, Jan 02, ..., Jan 31, Feb 01` in file order are days without a year rather
    than months of two-digit years (`Jan-24, Feb-24`): mostly the next number in the same month,
    and starting again at 1 with the next month.

    Example:
        >>> days = pd.Series(["jan"] * 31 + ["feb"] * 3), pd.Series([*range(1, 32), 1, 2, 3])
        >>> _days_of_months(*days), _days_of_months(pd.Series(["jan", "feb", "mar"]), pd.Series([24, 24, 24]))
        (True, False)
    """
    same = month.eq(month.shift()).to_numpy()
    step = (number.diff() == 1).to_numpy()
    again = (~same & (number == 1).to_numpy() & (number.shift() >= 28).to_numpy())[1:]
    return bool((same & step)[1:].mean() > 0.5 and again.any()) if len(month) > 1 else False


# An ISO 8601 week (2024-W05, 2024W05), perhaps with its day (2024-W05-3, Monday = 1).
_ISO_WEEK = r"(\d{4})-?W(\d{2})(?:-?([1-7]))?"


def _iso_weeks(text: pd.Series) -> pd.Series:
    """ISO weeks as the dates of their Mondays (or of the day given).

    Example:
        >>> _iso_weeks(pd.Series(["2024-W01", "2024W02-3"])).tolist()
        [Timestamp('2024-01-01 00:00:00'), Timestamp('2024-01-10 00:00:00')]
    """
    fields = text.str.extract(f"^{_ISO_WEEK}$")
    return pd.to_datetime(fields[0] + "-" + fields[1] + "-" + fields[2].fillna("1"), format="%G-%V-%u")


def _iso_week_error(value: str) -> bool:
    """Whether one ISO week does not exist (2021-W53)."""
    try:
        _iso_weeks(pd.Series([value]))
    except ValueError:
        return True
    return False


# Dates written with the day and month first and the year last (31.12.2023, 12/31/2023, 31-12-23),
# perhaps with a time after them.
_DAY_MONTH_YEAR = r"^(\d{1,2})([./-])(\d{1,2})[./-](?:\d{4}|\d{2})(?:[ T]\d.*)?$"


def _day_month_order(text: pd.Series, source: str = "", name: str = "", day_first: bool | None = None,
                     expected: pd.DatetimeIndex | None = None,
                     day_first_likely: bool = False) -> tuple[pd.Series, str, str] | None:
    """Dates with the day and month before the year, read in one order for the whole column
    (None for other dates). The order is `day_first` where a model gives it (the order its
    training file was read in: a later file of the first days of a month allows both), else the
    one the values allow (a first field above 12 is a day; a second one, a month), else the one
    that puts more of them among the `expected` times (the forecasts a file of actual values is
    scored against), else the one that gives a regular series of one frequency, else the day
    first in a file of numbers with a decimal comma or of `;` between its fields
    (`day_first_likely`: Europe and Latin America, where dates are written day first, 01/02/2020
    for 1 February, and Excel saves CSV so), else the custom of the separator: the day first
    with `.` and `-` (31.12.2023, 31-12-2023), the month first with `/` (12/31/2023).
    Parsed value by value, each date could take its own order, and a year of monthly dates
    become days in January.

    Example:
        >>> _day_month_order(pd.Series(["01.02.2024", "01.03.2024"]))[0].tolist()
        [Timestamp('2024-02-01 00:00:00'), Timestamp('2024-03-01 00:00:00')]
    """
    fields = text.str.extract(_DAY_MONTH_YEAR)
    if fields[0].isna().any():
        return None
    first, second = fields[0].astype(int), fields[2].astype(int)
    if (first > 12).any() and (second > 12).any():
        day, month = int(np.argmax((first > 12).to_numpy())), int(np.argmax((second > 12).to_numpy()))
        raise DataError(f"{source}: the time column {name!r} has dates with the day first "
                        f"({place(source, line_of(text, day))}: {text.iloc[day]!r}) and with the month first "
                        f"({place(source, line_of(text, month))}: {text.iloc[month]!r}). "
                        "Write them in one order, best as YYYY-MM-DD.")
    if day_first is not None:
        other = (second if day_first else first) > 12
        if other.any():
            row = int(np.argmax(other.to_numpy()))
            raise DataError(
                f"{source}, {place(source, line_of(text, row))}: {text.iloc[row]!r} "
                f"in the time column {name!r} has the "
                f"{'month' if day_first else 'day'} first, but the model read its training dates with the "
                f"{'day' if day_first else 'month'} first. Write the dates in one order (best YYYY-MM-DD) and "
                "retrain, or give them in the model's order."
            )
        why = "as the model's training dates"
        read = {day_first: _in_order(text, day_first, source, name)}
    elif (first > 12).any() or (second > 12).any():
        day_first, why = bool((first > 12).any()), "the only order every value allows"
        read = {day_first: _in_order(text, day_first, source, name)}
    else:
        read = {order: _in_order(text, order, source, name) for order in (True, False)}
        among = {order: int(times.isin(expected).sum()) if expected is not None else 0 for order, times in read.items()}
        if among[True] != among[False]:
            day_first, why = among[True] > among[False], "the order that matches the forecasts' dates"
        elif (regular := _regular(read[True])) != _regular(read[False]):
            day_first, why = regular, "the order that gives a regular series"
        elif day_first_likely:
            day_first, why = True, ("as in files of decimal commas or ';' between fields; write YYYY-MM-DD dates if "
                                    "that is wrong")
        else:
            day_first = fields[1].iloc[0] != "/"
            why = f"the custom with '{fields[1].iloc[0]}'; write YYYY-MM-DD dates if that is wrong"
    return read[day_first], "datetime", f"{DAY_FIRST_NOTE if day_first else MONTH_FIRST_NOTE} ({why})"


DAY_FIRST_NOTE, MONTH_FIRST_NOTE = "dates read day first", "dates read month first"


def day_first_of(note: str) -> bool | None:
    """The order `_day_month_order` read dates in, from its note (None: no day-month dates)."""
    return True if note.startswith(DAY_FIRST_NOTE) else False if note.startswith(MONTH_FIRST_NOTE) else None


def _regular(times: pd.Series) -> bool:
    """Whether distinct times (three or more) lie on a grid of one pandas frequency."""
    distinct = pd.DatetimeIndex(times.unique()).sort_values()
    return len(distinct) > 2 and pd.infer_freq(distinct) is not None


def _in_order(text: pd.Series, day_first: bool, source: str = "", name: str = "") -> pd.Series:
    """Day-month dates read in one order: by the format of the first (pandas' guess; 20 times
    faster than reading value by value), else value by value; a date that is none in that order
    (`61.01.2018`, `31.02.2018`) is refused, naming its line."""
    from pandas.tseries.api import guess_datetime_format

    form = guess_datetime_format(text.iloc[0], dayfirst=day_first)
    if form is not None:
        try:
            return pd.to_datetime(text, format=form)
        except ValueError:
            pass  # a later value written otherwise (no seconds, say)
    try:
        return pd.to_datetime(text, dayfirst=day_first, format="mixed")
    except ValueError:
        each = (pd.to_datetime(text.iloc[i:i + 1], dayfirst=day_first, format="mixed", errors="coerce").iloc[0]
                for i in range(len(text)))  # lazily: stops at the first that is no date
        row = next(i for i, when in enumerate(each) if pd.isna(when))
        raise DataError(
            f"{source}, {place(source, line_of(text, row))}: {text.iloc[row]!r} in column {name!r} is no date with the "
            f"{'day' if day_first else 'month'} first, the order of the column's other dates (a day or month out "
            "of range). Correct the date."
        ) from None


# A time's UTC offset at its end: Z, +01:00, -0500, +01; and a time of day that carries one (a
# date alone does not: 31-12-23 ends as an offset would).
UTC_OFFSET = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"
_TIME_WITH_OFFSET = r"\d:\d\d(?::\d\d(?:\.\d*)?)?\s*" + UTC_OFFSET


def _with_offsets(text: pd.Series) -> tuple[pd.Series, str, str]:
    """Times written with their UTC offsets (`2024-10-27T02:00+02:00`), one offset or several (a
    local clock through daylight saving).

    Dates at midnight are read as the dates they name (a day is a day in any zone, and in UTC
    the midnights would move by an hour between summer and winter); other times as the instants
    they are, in UTC, where the hours run on evenly (the local clock repeats an hour in autumn
    and skips one in spring) and one file's forecasts are written alike whichever offsets the
    file happens to span.

    Example:
        >>> _with_offsets(pd.Series(["2024-10-27T02:00+02:00", "2024-10-27T02:00+01:00"]))[0].tolist()
        [Timestamp('2024-10-27 00:00:00+0000', tz='UTC'), Timestamp('2024-10-27 01:00:00+0000', tz='UTC')]
    """
    clock = pd.to_datetime(text.str.replace(UTC_OFFSET, "", regex=True), format="ISO8601")
    if (clock == clock.dt.normalize()).all():
        return clock, "datetime", "dates at midnight with UTC offsets, read as the dates"
    instants = pd.to_datetime(text, format="ISO8601", utc=True)
    return instants, "datetime", "times with UTC offsets, read in UTC (forecasts in UTC)"


def _timestamps(col: pd.Series, source: str, name: str) -> pd.Series:
    """A Parquet column of naive timestamps, in the unit their text would be parsed to (see
    `parse_time`): microseconds, nanoseconds where a time has a fraction finer than that."""
    missing = col.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(f"{source}, {place(source, line_of(col, row))}: the time column {name!r} is empty. Every row "
                        "needs a time.")
    as_ns = col.astype("datetime64[ns]")
    fine = (as_ns.to_numpy().view("int64") % 1000 != 0).any()
    return as_ns if fine else col.astype("datetime64[us]")


def _first_bad_time(text: pd.Series) -> int | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, value in enumerate(text):
            try:
                pd.Timestamp(value)
            except (ValueError, TypeError):
                return i
    return None
