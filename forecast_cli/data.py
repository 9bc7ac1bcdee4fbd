"""Read and validate a CSV of series into one long frame (unique_id, ds, y) with its frequency."""

from __future__ import annotations

import bz2
import csv
import dataclasses
import decimal
import difflib
import glob
import gzip
import hashlib
import io
import itertools
import lzma
import os
import re
import sys
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.cells import (MISSING_MARKERS, PARQUET_SUFFIX, all_numbers, as_numbers, as_text, empty_cells_hint,
                                is_naive_times, is_numeric, is_parquet, line_of, partition, partitioned_parts, place)
from forecast_cli.config import AGGREGATES, FILLS, TrainConfig, parse_columns
from forecast_cli.errors import DataError, UsageError
from forecast_cli.timecells import (COMPACT_NOTE, TIME_OF_DAY, UTC_OFFSET, compact_dates, day_first_of,
                                    hours_of_day, parse_time, split_year, unix_times)
from forecast_cli.timegrid import (WEEKS, default_horizon, guess_freq, is_weekly, parse_freq, season_of, seasons_of,
                                   suggest_seasons)

ID, TIME, TARGET = "unique_id", "ds", "y"
_TIME_SAMPLE = 1000  # cells tried when the time column is found by what it holds (`_time_by_content`)
TIME_NAMES = ("ds", "date", "datetime", "timestamp", "time", "month", "week", "year", "period")
MADE = "_made"  # `_regularise`'s column of the target values it filled in (`Dataset.made`)
KEEP = "keep"  # no fill, for values to score (`evaluate`'s actuals): no row added, an empty value left out
DELIMITERS = ",;\t|"
# Compressed CSV files, known by their first bytes rather than their names (a nightly export
# renamed, or a `.gz` without `.csv`): each format's signature, as a pattern matched at the
# start (bzip2's in full, block or end of stream after "BZh" and a level, since a CSV header
# may start "BZh"), and its stdlib decompressor (a zip is opened apart: one file in it).
_COMPRESSED = (
    (re.compile(rb"\x1f\x8b"), "gzip", gzip.decompress),
    (re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)"), "bzip2", bz2.decompress),
    (re.compile(rb"\xfd7zXZ\x00"), "xz", lzma.decompress),
    (re.compile(rb"PK\x03\x04"), "zip", None),
)
# Their usual file suffixes, which `predict --output-dir` drops from a forecast's name.
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Excel 97-2003 workbook (.xls)
_EXCEL_FIX = "Save the sheet as CSV (UTF-8) or Parquet and pass that file."
_PARQUET_MAGIC = b"PAR1"  # the first bytes of a Parquet file
# Other formats of tables, known by their first bytes where the first 4 KB hold a NUL byte, as no
# text does (a header may begin "ORC..."): (signature, what it is, how to pass it). A pickle is
# never loaded: reading one can run any code it holds.
_TO_PARQUET = ("convert it to Parquet or CSV, e.g. python -c \"import pandas as pd; "
               "pd.{}('{}').to_parquet('data.parquet')\"")
_OTHER_FORMATS = (
    (re.compile(rb"ARROW1|FEA1"), "Arrow IPC (Feather) data", _TO_PARQUET.format("read_feather", "{}")),
    (re.compile(rb"ORC"), "ORC data", _TO_PARQUET.format("read_orc", "{}")),
    (re.compile(rb"Obj\x01"), "Avro data", "export it as Parquet or CSV"),
    (re.compile(rb"\x89HDF\r\n\x1a\n"), "an HDF5 file", _TO_PARQUET.format("read_hdf", "{}")),
    (re.compile(rb"SQLite format 3\x00"), "an SQLite database",
     "export the table as CSV, e.g. sqlite3 -header -csv {} 'SELECT * FROM sales' > data.csv"),
    (re.compile(rb"\x80[\x02-\x05]"), "a Python pickle, never loaded (reading one can run any code it holds)",
     "save the frame with df.to_parquet('data.parquet') or df.to_csv('data.csv', index=False)"),
)


@dataclasses.dataclass(frozen=True)
class Columns:
    """Which column of the source file plays which role (`id_col` is None for one series).

    A wide file (`--wide`: one column per series, `date,north,south`) names its columns in
    `series`; it is read as long format, so there `id_col` and `target_col` are the names it is
    read under (unique_id, y), not columns of the file.
    """

    time_col: str
    target_col: str
    id_col: str | None
    all_columns: tuple[str, ...]
    # Left out of a manifest when empty, so that a long file's model directory reads as before.
    series: tuple[str, ...] = dataclasses.field(default=(), metadata={"omit": ()})
    # Dates written with the day and month before the year: True if read with the day first, as
    # later files are read then (`timecells._day_month_order`); None for other times (and left out).
    day_first: bool | None = dataclasses.field(default=None, metadata={"omit": None})

    @property
    def id_names(self) -> tuple[str, ...]:
        """The file's id columns, whose values make each series' id (none for one series, or
        for a wide file, whose ids are its column names)."""
        return () if self.id_col is None or self.series else tuple(self.id_col.split(","))

    @property
    def used(self) -> tuple[str, ...]:
        if self.series:
            return (self.time_col, *self.series)
        return tuple(c for c in (self.id_col, self.time_col, self.target_col) if c is not None)

    @property
    def ignored(self) -> tuple[str, ...]:
        return tuple(c for c in self.all_columns if c not in self.used)

    def roles(self) -> str:
        """Which column plays which role, for messages: `id='store', time='date', target='sales'`."""
        if self.series:
            return f"time={self.time_col!r}, series={listed(self.series)}"
        roles = f"time={self.time_col!r}, target={self.target_col!r}"
        return roles if self.id_col is None else f"id={self.id_col!r}, " + roles


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A validated long frame and what was detected about it."""

    frame: pd.DataFrame  # columns unique_id (str), ds (datetime64 or int64), y (float64); sorted
    columns: Columns
    time_kind: str  # "datetime" or "integer"
    freq: str | None  # pandas offset alias for datetimes, None for integer steps
    step: int  # integer step size (1 for datetimes)
    season: int  # the shortest cycle of `seasons` (a day for hourly data)
    source: str
    filled: int  # values filled in (missing values and missing timestamps)
    sha256: str
    covariates: tuple[str, ...] = ()  # numeric columns kept in `frame` beside y, by their own names
    future: pd.DataFrame | None = None  # rows after each series' last value (unique_id, ds, covariates)
    missing_values: int = 0  # empty cells in the target column as read (before filling; not future rows)
    seasons: tuple[int, ...] = ()  # every cycle of the frequency, shortest first (`seasons_of`)
    time_note: str = ""  # how times with UTC offsets, day-month dates or ISO weeks were read, else empty
    made: np.ndarray | None = None  # by row of `frame`: the value was filled in, not read (None: none was)
    before: int = 0  # empty rows before a series' first value, left out (nothing recorded yet)
    empty: tuple[str, ...] = ()  # series with no value at all, left out (`load_series`'s `split_future`)
    found_written: Written | None = None  # numbers found written with commas (`_comma_numbers`), no flag given
    layout: tuple[str, ...] = ()  # partition columns (hive folders' names) left out as playing no role
    after: int = 0  # rows after `--as-of`, left out
    first_gap: tuple[str, Any] | None = None  # the first timestamp missing from the grid (filled in): id, time
    gaps_skipped_hour: bool = False  # every missing timestamp is in the hour a local clock skips (`_skipped_hour`)
    keys: pd.DataFrame | None = None  # several id columns (`_joined_ids`): each id's values of them, by id

    @property
    def n_series(self) -> int:
        return int(self.frame[ID].nunique())

    def as_read(self) -> pd.DataFrame:
        """The frame with the values its file gave: a value filled in (`made`) is empty again,
        for what is scored against the data or drawn from it."""
        if self.made is None:
            return self.frame
        return self.frame.assign(**{TARGET: self.frame[TARGET].mask(self.made)})

    def describe(self) -> str:
        shape = "one series" if self.columns.id_col is None else f"{self.n_series} series (long format)"
        time = f"dates, frequency {self.freq}" if self.time_kind == "datetime" else f"integer steps of {self.step}"
        if self.columns.series:
            shape = f"{self.n_series} series (wide: one column each)"
        roles = self.columns.roles()
        # Integer steps carry no season: a "season 1" there read as a refusal of the --season given.
        season = f"season {self.season}" if self.time_kind == "datetime" else "no season of their own"
        text = f"{self.source}: {shape}, {len(self.frame)} rows; {roles}; {time}; {season}"
        if self.covariates:
            text += f"; covariates: {', '.join(self.covariates)}"
        ignored = sorted(set(self.columns.ignored) - set(self.covariates))
        if ignored:
            text += f"; ignored columns: {', '.join(ignored)}"
        if self.before:
            text += f"; {self.before} empty row(s) before the first values left out"
        if self.future is not None and len(self.future):
            text += f"; {len(self.future)} future row(s) after the last values"
        if self.filled:
            text += f"; filled {self.filled} missing value(s)"
        if self.time_note:
            text += f"; {self.time_note}"
        if self.found_written is not None:
            text += ("; numbers with a decimal comma (12,5) read as --decimal-comma reads them"
                     if self.found_written.decimal_comma else
                     "; numbers with commas between thousands (1,234.5) read as --thousands-comma reads them")
        return text


HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
PARTITIONS = "partition_columns"  # a frame read from hive-partitioned Parquet: its partition columns (in `attrs`)
DELIMITER = "delimiter"  # a frame read from a CSV: its delimiter (in `attrs`)


def partition_values(part: Path) -> dict[str, str]:
    """The column values a part's folders name in the hive layout (`partitioned_parts`), outermost
    first: {} for a part in a plain folder. They are the part's values of those columns, which the
    file itself leaves out."""
    found = []
    for folder in part.parents:
        pair = partition(folder.name)
        if pair is None:
            break
        found.append(pair)
    return dict(reversed(found))


def part_label(part: Path) -> str:
    """A part's name in the data's digest: its partition folders and file name
    (`unique_id=a/part-0.parquet`; the file name alone in a plain folder), so that two parts of one
    name in different partitions differ."""
    return "/".join([*(f"{key}={value}" for key, value in partition_values(part).items()), part.name])


STDIN = "-"  # the data argument that reads standard input: a CSV, plain or compressed


def source_name(path: str | os.PathLike[str]) -> str:
    """How messages and the model directory name the data at `path`: `stdin` for `-`."""
    return "stdin" if str(path) == STDIN else str(path)


def read_table(path: str | os.PathLike[str], encoding: str = "utf-8") -> tuple[pd.DataFrame, str]:
    """Read the data at `path` as strings: Parquet (`is_parquet`) or a CSV file (`read_csv`, in
    `encoding`). Both go through the same column rules afterwards, so a CSV and its Parquet copy
    give the same series."""
    return read_parquet(path) if is_parquet(path) else read_csv(path, encoding)


# A number as written where the comma marks the decimals and points group the thousands
# (1.234,5; 12,5; -3; 1,2e3), as spreadsheets in much of Europe save CSV files; or spaces group
# them (1 234,5), as in France, Scandinavia and Eastern Europe: a space, a no-break space or a
# narrow one, as the locale's spreadsheet writes it.
_GROUPS = ".\u0020\u00a0\u202f"
_DECIMAL_COMMA = rf"[-+]?(?:\d{{1,3}}(?:[{_GROUPS}]\d{{3}})+|\d*)(?:,\d*)?(?:[eE][-+]?\d+)?"


def _written_as(col: pd.Series, pattern: str) -> bool:
    """Whether a column of text holds numbers written as `pattern` says (`_DECIMAL_COMMA`,
    `_THOUSANDS_COMMA`): every cell such a number or a plain one (or empty), and at least one
    cell not a plain number."""
    if is_numeric(col):
        return False
    text, values = as_numbers(col)
    present = (text.notna() & ~text.isin(MISSING_MARKERS)).to_numpy(dtype=bool)
    cells, plain = text[present], values[present].notna()
    written = cells.str.fullmatch(pattern) & cells.str.contains(r"\d")
    return bool(len(cells) and (written | plain).all() and (written & ~plain).any())


# A number with commas between groups of three digits and a point for the decimals (1,234.5;
# 12,345,678), as spreadsheets in the US and UK save cells formatted with thousands separators.
_THOUSANDS_COMMA = r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"


def _comma_numbers(raw: pd.DataFrame, written: Written) -> Written | None:
    """How the numbers of a file given neither --decimal-comma nor --thousands-comma are written,
    where its cells leave no doubt: `written` with the flag that reads them, else None.

    A decimal comma: a column of numbers holds one that only it reads (`12,5`, `1.234,5`), no
    cell anywhere is one only commas between thousands read (`1,234.5`), and no cell is a number
    with a point for its decimals (`100.5`; in a column of decimal commas `1.234` groups
    thousands): a file that mixes the two is left to the flags, since reading it one way would
    change the other's numbers a thousandfold. Commas between thousands: a column holds one only
    they read, and no cell is one only a decimal comma reads. `1,234` alone could be either, and
    is left to the flags. Only columns whose first 1,000 cells are mostly numbers are looked at,
    and only where one of them shows a comma between digits."""
    looks = rf"[-+]?[\d,{_GROUPS}]*\d(?:[eE][-+]?\d+)?"  # digits, commas and the groups' marks
    texts = {}
    for name in raw.columns:
        col = raw[name]
        if is_numeric(col) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue
        head = col.head(1000).dropna().astype("string").str.strip()
        if len(head) and head.str.fullmatch(looks).mean() >= 0.5:
            texts[name] = col.astype("string").str.strip()
    if not any(text.head(1000).str.contains(r"\d,\d", regex=True).any() for text in texts.values()):
        return _space_groups(texts, written)
    decimal_cols, thousands_cols, only_decimal, only_thousands = set(), set(), False, False
    for name, text in texts.items():
        decimal = text.str.fullmatch(_DECIMAL_COMMA).fillna(False) & text.str.contains(",").fillna(False)
        thousands = text.str.fullmatch(_THOUSANDS_COMMA).fillna(False)
        decimal_alone, thousands_alone = bool((decimal & ~thousands).any()), bool((thousands & ~decimal).any())
        only_decimal |= decimal_alone
        only_thousands |= thousands_alone
        if decimal_alone and _written_as(raw[name], _DECIMAL_COMMA):
            decimal_cols.add(name)
        if thousands_alone and _written_as(raw[name], _THOUSANDS_COMMA):
            thousands_cols.add(name)
    if decimal_cols and not only_thousands:
        for name, text in texts.items():
            points = text.str.fullmatch(r"[-+]?\d*\.\d+").fillna(False)
            if name in decimal_cols:
                points &= ~text.str.fullmatch(r"[-+]?\d{1,3}(?:\.\d{3})+").fillna(False)
            if points.any():
                return None
        return dataclasses.replace(written, decimal_comma=True)
    if thousands_cols and not only_decimal:
        return dataclasses.replace(written, thousands_comma=True)
    return None


def _space_groups(texts: dict[str, pd.Series], written: Written) -> Written | None:
    """Whole numbers with spaces between groups of three digits (1 234; a no-break or narrow
    space too), as spreadsheets in France, Scandinavia and Eastern Europe write them, in a file
    with no comma between digits and no number with a decimal point (1 234.5 may be either
    custom): `written` read as --decimal-comma reads them, the custom of those places (a later
    file's 1 234,5 is then 1234.5); else None. `texts`: the columns that look like numbers."""
    spaced = rf"[-+]?\d{{1,3}}(?:[{_GROUPS[1:]}]\d{{3}})+"
    if any(text.str.fullmatch(r"[-+]?\d*\.\d+").any() for text in texts.values()):
        return None
    if any(text.str.fullmatch(spaced).any() and _written_as(text, _DECIMAL_COMMA) for text in texts.values()):
        return dataclasses.replace(written, decimal_comma=True)
    return None


def with_decimal_points(raw: pd.DataFrame) -> pd.DataFrame:
    """The frame with every cell written as a decimal-comma number rewritten with a point
    (`1.234,5` -> `1234.5`), so that the usual rules read it; other cells (dates, text, a number
    written with a point that is not a thousands group, such as `1.5`) stay as they are."""
    return _rewritten_numbers(raw, _DECIMAL_COMMA,
                              lambda text: text.str.replace(f"[{_GROUPS}]", "", regex=True).str.replace(",", ".", regex=False))


def without_thousands_commas(raw: pd.DataFrame) -> pd.DataFrame:
    """The frame with every cell written with commas between thousands rewritten without them
    (`1,234.5` -> `1234.5`); other cells stay as they are."""
    return _rewritten_numbers(raw, _THOUSANDS_COMMA, lambda text: text.str.replace(",", "", regex=False))


def _rewritten_numbers(raw: pd.DataFrame, pattern: str, rewrite: Callable[[pd.Series], pd.Series]) -> pd.DataFrame:
    """The frame with each text cell that is a number written as `pattern` says rewritten by
    `rewrite` (of the stripped text), as the usual rules read numbers."""
    out = raw.copy()
    for name in raw.columns:
        col = raw[name]
        if is_numeric(col) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue
        text = col.astype("string").str.strip()
        hit = (text.str.fullmatch(pattern) & text.str.contains(r"\d")).fillna(False).to_numpy(dtype=bool)
        if hit.any():
            out[name] = col.astype(object).where(~hit, rewrite(text).astype(object))
    return out


def glob_files(pattern: str) -> list[Path]:
    """The files a glob pattern matches, sorted; an error when there are none.

    Example:
        >>> glob_files("incoming/*.csv")
        [PosixPath('incoming/a.csv'), PosixPath('incoming/b.csv')]
    """
    matches = sorted(Path(m) for m in glob.glob(pattern) if Path(m).is_file())
    if not matches:
        raise DataError(f"no file matches {pattern!r}. Check the pattern and the folder.")
    return matches


_CSV_NAME = re.compile(r"(?i).+\.(csv|tsv|txt)(\.(gz|bz2|xz|zip))?")


def _csv_parts_error(where: str, files: list[Path]) -> DataError | None:
    """The error for CSV files given where one table is read (a folder of them, as Spark and Dask
    write CSV parts, or a glob pattern): None when `files` holds none."""
    found = [f for f in files if f.is_file() and _CSV_NAME.fullmatch(f.name) and not f.name.startswith((".", "_"))]
    if not found:
        return None
    suffix = _CSV_NAME.fullmatch(found[0].name).group(1, 2)
    joined = f"{where.rstrip('/')}/*.{suffix[0]}{suffix[1] or ''}" if Path(where).is_dir() else where
    return DataError(
        f"{where} names {len(found)} CSV file(s) (e.g. {found[0].name}), read as one table only from Parquet "
        f"parts. Read them as one CSV: pipe them joined to the command with - as the data, e.g. cat {joined} | "
        "forecast train - (or predict MODEL -; each file's repeated header line is left out); or write them as "
        "Parquet parts."
    )


def parquet_parts(path: str | os.PathLike[str]) -> list[Path]:
    """The Parquet files of a `.parquet` file, a folder of parts (`*.parquet`, sorted by name, as
    Spark, Dask and pyarrow write them) or a glob pattern (its matches, sorted)."""
    text = str(path)
    if glob.has_magic(text):
        matches = glob_files(text)
        csv = _csv_parts_error(text, matches) if not any(m.name.endswith(PARQUET_SUFFIX) for m in matches) else None
        if csv is not None:
            raise csv
        return _with_rows(matches)
    p = Path(text)
    if p.is_dir():
        _not_a_model(p)
        parts = sorted(p.glob(f"*{PARQUET_SUFFIX}")) or sorted(partitioned_parts(p))
        if not parts:
            raise (_csv_parts_error(text, sorted(p.iterdir())) or
                   DataError(f"{p} is a directory with no {PARQUET_SUFFIX} files; expected a CSV file or Parquet parts."))
        return _with_rows(parts)
    if not p.exists():
        raise DataError(f"{p}: no such file. Check the path, or pass the file to read.")
    return [p]


MANIFEST = "manifest.json"  # the file that makes a folder a model directory (its schema: `manifest.py`)


def _not_a_model(folder: Path) -> None:
    """Refuse a model directory given as data (its history.csv made it look like CSV parts)."""
    if (folder / MANIFEST).is_file():
        raise DataError(f"{folder} is a model directory written by `forecast train`, not data. Give a CSV or Parquet "
                        f"file of the series here; a model directory is the first argument of predict and detect "
                        f"(forecast predict {folder} DATA).")


_SMALL_PART = 64 * 1024  # bytes: a Parquet part with no rows is its schema alone, a few kilobytes


def _with_rows(parts: list[Path]) -> list[Path]:
    """The parts that hold rows, where some do. Spark and Dask write a part for every partition,
    empty ones too (a filter that emptied a partition); one holds nothing to read, and on a
    cluster, where each part is a unit of work, it was refused as data with no rows. Only small
    files are opened, their footers alone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def empty(part: Path) -> bool:
        try:
            return part.stat().st_size < _SMALL_PART and pq.read_metadata(part).num_rows == 0
        except (OSError, pa.ArrowException, ValueError):  # not readable: `read_parquet` names it
            return False

    return [part for part in parts if not empty(part)] or parts


def read_parquet(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, str]:
    """Read Parquet data (one file, or every part of a folder or glob, in name order). Numbers,
    naive timestamps and strings keep their types (`load_series` reads them as it reads the same
    values written out in a CSV, without the cost of text: a million rows as strings take several
    times the memory); any other column is read as text, as `read_csv` would give it (see
    `as_text`). Returns the frame and the SHA-256 of the parts' names and bytes.

    Example:
        >>> raw, digest = read_parquet("data/")
        >>> len(raw), len(digest)
        (132, 64)
    """
    digest = hashlib.sha256()
    frames: list[pd.DataFrame] = []
    for part in parquet_parts(path):
        frame, data = read_part(part)
        partitions = partition_values(part)
        if frames:
            frame = in_first_order(frame, list(frames[0].columns), part)
        digest.update(part_label(part).encode() + b"\0" + data)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame = pd.DataFrame({str(name).strip(): frame[name] if _typed(frame[name]) else as_text(frame[name])
                          for name in frame.columns})
    # The partition columns say where a part lies (a bucket, a date, the series), not what was
    # recorded: never a series of a wide file, and left out unless a role needs them (`_without_layout`).
    frame.attrs[PARTITIONS] = tuple(partitions)
    if frame.empty:
        raise DataError(f"{path} has columns ({', '.join(frame.columns)}) but no rows of data.")
    return frame, digest.hexdigest()


def read_part(part: Path) -> tuple[pd.DataFrame, bytes]:
    """One Parquet part as a frame (`part_frame`), and its bytes; a part that cannot be read is
    refused naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        data = part.read_bytes()
        table = pq.read_table(pa.BufferReader(data))
    except OSError as exc:
        raise DataError(f"{part}: cannot be read ({exc.strerror or exc}). Check its permissions.") from None
    except (pa.ArrowException, ValueError) as exc:
        try:
            names = pq.read_schema(pa.BufferReader(data)).names
        except (pa.ArrowException, ValueError):
            names = []
        _check_repeated_names(names, part)
        detail = " ".join(str(exc).split())
        raise DataError(f"{part}: not a readable Parquet file ({detail}). Write it again, or pass a CSV.") from None
    return part_frame(table, part), data


def part_frame(table: Any, part: Path) -> pd.DataFrame:
    """One Parquet part's table as a frame: an index kept in pandas' metadata as columns, and
    the values its folders name (`partition_values`) as columns of text."""
    frame = table.to_pandas()
    if not isinstance(frame.index, pd.RangeIndex):  # a frame's index, kept in pandas' metadata: its columns
        frame = _pandas_index(frame.reset_index(names=[UNNAMED if name in (None, DASK_NO_INDEX) else name
                                                       for name in frame.index.names]))
    for key, value in partition_values(part).items():
        if key in frame.columns:
            raise DataError(f"{part}: column {key!r} is both in the file and in its folder's name ({key}={value}); "
                            "expected it in one of them. Write the parts again partitioned by another column.")
        # Spark and pyarrow name a partition of nulls __HIVE_DEFAULT_PARTITION__: empty cells here.
        frame[key] = pd.Series([None if value == HIVE_NULL else value] * len(frame), dtype="string")
    return frame


def in_first_order(frame: pd.DataFrame, first: list[Any], part: Path) -> pd.DataFrame:
    """A part's frame with the first part's columns, `first`, in their order (parts written apart
    may order the same columns differently); a part of other columns is refused."""
    if list(frame.columns) != first and sorted(map(str, frame.columns)) == sorted(map(str, first)):
        frame = frame[first]
    if list(frame.columns) != first:
        raise DataError(f"{part}: its columns ({', '.join(map(str, frame.columns))}) differ from the first part's "
                        f"({', '.join(map(str, first))}). Every part needs the same columns.")
    return frame


def _typed(col: pd.Series) -> bool:
    """Whether `load_series` reads a Parquet column as it is: float or integer numbers, naive
    timestamps, strings. (Booleans, decimals, dates, time-zone-aware times and the like are read
    as text, the rules for a CSV deciding what they may be.)"""
    return is_numeric(col) or is_naive_times(col) or isinstance(col.dtype, pd.StringDtype)


def read_csv(path: str | os.PathLike[str], encoding: str = "utf-8") -> tuple[pd.DataFrame, str]:
    """Read a CSV file, plain or compressed (`_decompressed`), as strings, detecting `,` `;` tab
    or `|` as the delimiter.

    Args:
        path: the file to read, or `-` for standard input (read once, to its end).
        encoding: the text's encoding (`config.parse_encoding`); UTF-8 may begin with a byte
            order mark, as Excel's "CSV UTF-8" does.

    Returns:
        The raw frame (every cell a string or NaN) and the SHA-256 of the file's bytes (as
        stored, compressed or not).

    Example:
        >>> raw, digest = read_csv("sample_data/airpassengers.csv")
    """
    stdin = str(path) == STDIN
    p = Path(source_name(path))
    if stdin:
        if sys.stdin is None or sys.stdin.isatty():
            raise DataError("- reads the data from standard input, which is a terminal here. Pipe a CSV in "
                            "(`cat data.csv | forecast ...`), or pass the file's path.")
        data = sys.stdin.buffer.read()
    else:
        if not p.exists():
            raise DataError(f"{p}: no such file. Check the path, or pass the CSV file to read.")
        if p.is_dir():
            _not_a_model(p)
            raise (_csv_parts_error(str(path), sorted(p.iterdir())) or
                   DataError(f"{p} is a directory with no {PARQUET_SUFFIX} files; expected a CSV file or a folder of "
                             "Parquet parts. Pass the file inside it."))
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise DataError(f"{p}: cannot be read ({exc.strerror}). Check its permissions.") from None
    if not data.strip():
        raise DataError(f"{p} is empty; expected a header line and rows of data.")
    if data.startswith(_PARQUET_MAGIC):
        raise DataError(f"{p} is Parquet data, read only from a file or folder whose name ends in {PARQUET_SUFFIX}. "
                        f"Pass it as such a file{'' if stdin else ' (rename it)'}.")
    for magic, what, fix in _OTHER_FORMATS if b"\x00" in data[:4096] else ():
        if magic.match(data):
            raise DataError(f"{p} is {what}, not a CSV file; expected CSV or Parquet. To pass it, {fix.format(p)}.")
    digest = hashlib.sha256(data).hexdigest()  # of the file as stored, compressed or not
    data = _decompressed(p, data)
    if not data.strip():
        raise DataError(f"{p} holds an empty CSV; expected a header line and rows of data.")
    codec = "utf-8-sig" if encoding == "utf-8" else encoding  # UTF-8 with or without a byte order mark
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise _encoding_error(p, data, exc, encoding) from None
    if re.match(r'\s*(?:\[\s*[\[{]|\{\s*")', text):  # records as JSON: an array of them, or one a line
        raise DataError(
            f"{p} is JSON, not a CSV file; expected CSV or Parquet. To pass it, convert it, e.g. python -c \"import "
            f"pandas as pd; pd.read_json('{p}').to_csv('data.csv', index=False)\" (with lines=True for one "
            "record a line)."
        )
    lines = _first_lines(text)
    # Excel writes `sep=;` above the header of a CSV it saves for a locale whose delimiter differs.
    excel_sep = re.fullmatch(r"sep=([,;\t|])", lines[0].strip("\r\n"))
    skip = 1 if excel_sep and len(lines) > 1 else 0
    header = lines[skip]
    if not any(d in header for d in DELIMITERS):
        _check_title(text, skip, p)
    delimiter = excel_sep.group(1) if excel_sep else _sniff_delimiter(header)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: rows with one field more than the header (a delimiter at the end of
            # each line) would otherwise make pandas take the first column for an index, shifting
            # every value one column to the left without a word.
            frame = pd.read_csv(
                io.BytesIO(data), sep=delimiter, dtype=str, encoding=codec, skipinitialspace=True,
                keep_default_na=False, na_values=[""], index_col=False, skiprows=skip, skip_blank_lines=False,
            )
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split())
        raise DataError(f"{p}: not a well-formed CSV ({detail}). Each row needs as many fields as the header.") from None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        _check_longer_rows(text, delimiter, skip, p)
    # Blank lines, and lines of delimiters alone (the rows Excel writes below a table whose empty
    # cells were once formatted), hold no data; dropped after reading, so that the other rows keep
    # their line numbers.
    frame = _markers_as_missing(frame.dropna(how="all"))
    frame.index = frame.index + skip  # "line N" counts the file's lines, the `sep=` line too
    frame.columns = [str(c).strip() for c in frame.columns]
    # A delimiter after the last header name too: a last column with no name and no values.
    while len(frame.columns) > 1 and frame.columns[-1].startswith("Unnamed: ") and frame.iloc[:, -1].isna().all():
        frame = frame.iloc[:, :-1]
    _check_header(frame.columns, header, p)
    frame = _pandas_index(frame)
    # Files joined one after the other (`cat monday.csv tuesday.csv`), each with its header: the
    # repeated header lines are no data.
    repeats = (frame.iloc[:, 0].str.strip() == frame.columns[0]).to_numpy(dtype=bool, na_value=False)
    if repeats.any():
        for name in frame.columns[1:]:
            repeats = repeats & (frame[name].str.strip() == name).to_numpy(dtype=bool, na_value=False)
        frame = frame[~repeats]
    _check_repeated_names(next(csv.reader([header.strip("\r\n")], delimiter=delimiter)), p)
    duplicated = sorted(c for c, n in Counter(frame.columns).items() if n > 1)
    unnamed = duplicated or any(c.startswith("Unnamed: ") for c in frame.columns)
    # A title above the table in the table's own delimiters (`Sales report,,,` as a spreadsheet
    # exports it, or a title with a comma in it): the table's header is read as a row of data.
    below = _header_below(frame) if unnamed or _time_by_name(list(frame.columns)) is None else None
    if below is not None and (unnamed or _time_by_name(list(frame.loc[below])) is not None):
        line = below + 2
        raise DataError(
            f"{p}: line {line} ({delimiter.join(frame.loc[below])!r}) reads as the table's header, below "
            f"{header.strip()[:60]!r}" + _title_fix(line, p)
        )
    if unnamed:
        raise DataError(
            f"{p}: the header has empty or repeated column names ({', '.join(frame.columns)}). "
            "Give every column a unique name."
        )
    if frame.empty:
        raise DataError(f"{p} has a header ({', '.join(frame.columns)}) but no rows of data.")
    frame.attrs[DELIMITER] = delimiter
    return frame, digest


def _markers_as_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the words for a missing value (`MISSING_MARKERS`: NA, NaN, NULL) as missing
    values in its columns of numbers. In a column of text they stay text, as in Parquet, where a
    missing value is no word: a series id NA (Namibia, North America) is an id, not an empty
    cell; a time or value column that holds text besides takes them for empty cells where it is
    read (`parse_time`, `_parse_target`)."""
    words = [m for m in MISSING_MARKERS if m]
    for name in frame.columns:
        col = frame[name]
        marked = col.isin(words).to_numpy(dtype=bool)
        if not marked.any():
            continue
        rest = col[~marked].dropna()
        if pd.to_numeric(rest.str.strip(), errors="coerce").notna().all():
            frame[name] = col.mask(marked)
    return frame


UNNAMED = "Unnamed: 0"  # pandas' name for a first column whose header cell is empty
DASK_NO_INDEX = "__null_dask_index__"  # Dask's `to_parquet` name for a frame's unnamed index: row numbers


def _pandas_index(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without the row numbers pandas writes first under no name (`to_csv` without
    `index=False`, or a Parquet file of a sorted or filtered frame: whole numbers in any order,
    no data), and with the dates a frame indexed by them writes there (`pd.DataFrame(values,
    index=pd.date_range(...))`) as its time, named ds. Other first columns are left as they are."""
    index = frame.iloc[:, 0] if len(frame.columns) > 1 and frame.columns[0] == UNNAMED else None
    if index is None or index.isna().any():
        return frame
    if is_numeric(index):
        numbers = pd.api.types.is_integer_dtype(index.dtype)
    else:
        numbers = not is_naive_times(index) and bool(index.astype("string").str.fullmatch(r"\d+").all())
    if numbers:
        return frame.iloc[:, 1:]
    if TIME not in frame.columns and (pd.api.types.is_datetime64_any_dtype(index.dtype) or _a_time(str(index.iloc[0]))):
        return frame.rename(columns={UNNAMED: TIME})
    return frame


def _a_time(cell: str) -> bool:
    """Whether a cell reads as a date or time (2024-01-31, 2024-01-31 13:00, 31/01/2024).

    Example:
        >>> _a_time("2024-01-31 13:00"), _a_time("store 7"), _a_time("12.5")
        (True, False, False)
    """
    if not re.search(r"\d[-/:.T ]\d", cell.strip()) or re.fullmatch(r"[-+]?\d+\.\d+", cell.strip()):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pd.Timestamp(cell.strip())
        except (ValueError, TypeError):
            return False
    return True


def _encoding_error(path: Path, data: bytes, exc: UnicodeDecodeError, encoding: str) -> DataError:
    """The error for a file that is not text in `encoding`: where, and the encoding to give."""
    if encoding == "utf-8" and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return DataError(f"{path} is UTF-16 text (as Excel saves \"Unicode Text\"), not UTF-8. "
                         "Pass --encoding utf-16, or save the file as CSV UTF-8.")
    line = data[: exc.start].count(b"\n") + 1
    where = f"{path}: line {line} is not {'UTF-8' if encoding == 'utf-8' else encoding} (byte 0x{data[exc.start]:02x})"
    if encoding != "utf-8":
        return DataError(f"{where}. The file is in another encoding than --encoding {encoding}: give its own, "
                         "or save the file as UTF-8 and leave --encoding out.")
    return DataError(
        f"{where}. A CSV saved by Excel on Windows is cp1252 (Western Europe and the Americas; cp1250 for "
        "Central Europe): pass --encoding cp1252 to train, doctor or evaluate (a model trained so reads later "
        "files so), or save the file as UTF-8, e.g. `iconv -f cp1252 -t utf-8 in.csv > out.csv`."
    )


# One line and the line break after it, if any: \n, \r\n or \r, as pandas reads them.
_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n)?")


def _first_lines(text: str) -> list[str]:
    """The first line of `text` and the second if there is one, found without splitting the
    whole file into lines (a copy of every line of a large file, to read two)."""
    first = _LINE.match(text)
    if first.group(2) is None or first.end() == len(text):
        return [first.group(1)]
    return [first.group(1), _LINE.match(text, first.end()).group(1)]


def _check_title(text: str, skip: int, p: Path) -> None:
    """Refuse a first line without a delimiter above lines with them: a title (and blank lines)
    above the table, as reports exported from a spreadsheet carry; the table's header would be
    read as its first row. Only the first lines are looked at."""
    lines, at = [], 0
    while at < len(text) and len(lines) < 12:
        line = _LINE.match(text, at)
        lines.append(line.group(1))
        at = line.end()
    start = next((i for i in range(skip + 1, len(lines)) if any(d in lines[i] for d in DELIMITERS)), None)
    if start is None or start + 1 >= len(lines) or not any(d in lines[start + 1] for d in DELIMITERS):
        return
    names = lines[start].split(_sniff_delimiter(lines[start]))
    if any(re.fullmatch(_DATA_CELL, name.strip()) for name in names):  # a row of data, not a header
        return
    raise DataError(
        f"{p}: line {skip + 1} ({lines[skip][:60]!r}) holds no delimiter, but the lines from {start + 1} do "
        f"({lines[start][:60]!r})" + _title_fix(start + 1, p)
    )


def _title_fix(header_line: int, p: Path) -> str:
    """The end of the errors for a title above a table whose header is at `header_line`."""
    return (": a title above the table? Remove the lines above its header, or read the file from there: "
            f"tail -n +{header_line} {p} | forecast train - (or predict MODEL -).")


def _header_below(frame: pd.DataFrame) -> int | None:
    """The index of the first of the top rows that reads as a header (a name in every cell, none
    of them a number or date) above a row of data, else None."""
    top = frame.head(12)
    for k in range(len(top) - 1):
        cells, after = top.iloc[k], top.iloc[k + 1]
        if cells.isna().any() or len(cells) < 2:
            continue
        if any(re.fullmatch(_DATA_CELL, str(c).strip()) for c in cells):
            continue
        if any(re.fullmatch(_DATA_CELL, str(c).strip()) for c in after.dropna()):
            return int(top.index[k])
    return None


def _check_longer_rows(text: str, delimiter: str, skip: int, p: Path) -> None:
    """Refuse a row with more fields than the header unless the extra ones are empty (a delimiter
    at the end of each line), which pandas would drop without a word."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    width = None
    for row in reader:
        if reader.line_num <= skip:
            continue
        if width is None:
            width = len(row)
        elif len(row) > width and any(cell.strip() for cell in row[width:]):
            raise DataError(
                f"{p}, line {reader.line_num}: {len(row)} fields where the header names {width} "
                f"({delimiter.join(row)[:80]!r}). Each row needs as many fields as the header: name the extra "
                "column in the header, or remove the extra fields."
            )


# A column name that is a date (2024-01-31, 31.01.2024, 2024-01, Jan 2024, 2024Q1): dates across the header.
_DATE_NAME = (r"\d{4}-\d{1,2}(?:-\d{1,2})?|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}/\d{1,2}(?:/\d{1,2})?|"
              r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[ -]\d{2,4}|\d{4}-?Q[1-4]|Q[1-4][ -]?\d{4}")


# A header cell that is data: a number, or something written like a date (2024-01-31, 31.01.2024).
_DATA_CELL = r"[-+]?\d+(?:[.,]\d+)?|\d{1,4}[-./]\d{1,2}(?:[-./]\d{1,4})?(?:[ T][\d:.]+)?"


def _check_repeated_names(names: list[str], p: Path | str) -> None:
    """Refuse columns that name one twice (a CSV header `ds,y,y`, a join gone wrong): pandas reads
    the second as `y.1`, which became a covariate of its own (a series in a wide file) without a
    word; pyarrow refuses to read such a Parquet file with its own words."""
    names = [str(name).strip() for name in names]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name and name in seen:
            raise DataError(
                f"{p} has two columns named {name!r} (columns {seen[name]} and {position}); each would be read "
                "as a column of its own. Rename or drop one of them."
            )
        seen.setdefault(name, position)


def _check_header(columns: list[str], header: str, p: Path) -> None:
    """Refuse a first line that is data (`2024-01-31,5`): the file has no header, and its first
    row would name the columns."""
    if all(re.fullmatch(_DATA_CELL, str(c)) for c in columns):
        raise DataError(
            f"{p}: the first line ({header.strip()[:80]!r}) holds values, not column names: the file has no header. "
            "Add one naming the columns, e.g. `sed -i '1i date,value' FILE` (ds,y for the usual names; "
            "unique_id,ds,y with a series id first)."
        )


def _decompressed(p: Path, data: bytes) -> bytes:
    """A CSV file's bytes, decompressed where its first bytes say gzip, bzip2, xz or a zip archive
    of one file; an error naming the file for an Excel workbook, an archive of several files or a
    truncated stream.

    Example:
        >>> _decompressed(Path("a.csv.gz"), gzip.compress(b"ds,y\\n1,2\\n"))
        b'ds,y\\n1,2\\n'
    """
    if data.startswith(_OLE2):
        raise DataError(f"{p} is an Excel 97-2003 workbook, not a CSV file. {_EXCEL_FIX}")
    kind = next(((name, decompress) for magic, name, decompress in _COMPRESSED if magic.match(data)), None)
    if kind is None:
        return data
    name, decompress = kind
    try:
        if decompress is not None:
            return decompress(data)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = [info.filename for info in archive.infolist() if not info.is_dir()]
            if "[Content_Types].xml" in files or any(f.startswith("xl/") for f in files):
                raise DataError(f"{p} is an Excel workbook, not a CSV file. {_EXCEL_FIX}")
            if "mimetype" in files and b"opendocument.spreadsheet" in archive.read("mimetype"):
                raise DataError(f"{p} is an OpenDocument spreadsheet (LibreOffice Calc), not a CSV file. {_EXCEL_FIX}")
            if len(files) != 1:
                raise DataError(f"{p} is a zip archive of {len(files)} files ({', '.join(files[:5])}); "
                                "expected one CSV file in it. Unzip it and pass the CSV file.")
            return archive.read(files[0])
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{p}: a {name} file that cannot be decompressed ({exc}); it may be cut short. "
                        "Write the file again, or pass it uncompressed.") from None


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        return ","
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return best


def _spelt_like(name: str, columns: list[Any]) -> str:
    """" Did you mean 'price'?" where a column is the name in another case or nearly it (a flag
    misspelt), else nothing.

    Example:
        >>> _spelt_like("Price", ["unique_id", "ds", "y", "price"]), _spelt_like("cost", ["ds", "y"])
        (" Did you mean 'price'?", '')
    """
    names = [str(c) for c in columns]
    same = [c for c in names if c.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return f" Did you mean {close[0]!r}?" if close else ""


def detect_columns(
    frame: pd.DataFrame,
    source: str,
    time_col: str | None = None,
    target_col: str | None = None,
    id_col: str | None = None,
    wide: bool = False,
) -> Columns:
    """Decide which column is the id, the time and the target.

    Long format is detected by a `unique_id` column (or `--id-col`); otherwise the file holds one
    series. The time column is `--time-col`, else one with a usual name (ds, date, timestamp, ...),
    else the first column, or a column of dates where that holds none (`_time_by_content`).
    The target is `--target-col`, else `y`, else the one column left.
    With `wide`, every other column that holds a number is a series of its own.

    Args:
        frame: the raw frame from `read_csv`.
        source: the file name, for messages.
        time_col, target_col, id_col: explicit roles; None to detect.
        wide: one column per series (`--wide`).

    Returns:
        The column roles.

    Example:
        >>> raw = pd.DataFrame({"date": ["2016-07-01 00:00"], "HUFL": ["5.827"], "OT": ["30.531"]})
        >>> detect_columns(raw, "data.csv", target_col="OT")
        Columns(time_col='date', target_col='OT', id_col=None, all_columns=('date', 'HUFL', 'OT'), series=(), day_first=None)
    """
    columns = list(frame.columns)
    named = {"--time-col": time_col, "--target-col": target_col, "--id-col": id_col}
    absent = {flag: col for flag, col in named.items() if col is not None and col not in columns}
    if absent:
        said = ", ".join(f"{flag} {col!r}" for flag, col in absent.items())
        raise UsageError(f"{source} has no column {said}; its columns are: {', '.join(map(str, columns))}."
                         + "".join(_spelt_like(col, columns) for col in absent.values()))
    # Dates as column names, and no column named as a time column is: the dates run across.
    across = [c for c in columns if re.fullmatch(_DATE_NAME, str(c))]
    if time_col is None and _time_by_name(columns) is None and len(across) >= 2 and len(across) * 2 >= len(columns):
        first = next((c for c in columns if c not in across), "id")
        raise UsageError(
            f"{source}: the dates run across the header ({', '.join(across[:3])}, ...), one row per series; "
            "expected one row per time. Turn the table, e.g. with pandas: python -c \"import pandas as pd; "
            f"pd.read_csv('{Path(source).name}').melt(id_vars='{first}', var_name='ds', value_name='y')"
            f".rename(columns={{'{first}': 'unique_id'}}).to_csv('long.csv', index=False)\" (docs/input.md)."
        )
    if wide:
        return _wide_columns(frame, source, time_col, target_col, id_col)
    if id_col is None and ID in columns and target_col != ID and time_col != ID:
        id_col = ID
    rest = [c for c in columns if c != id_col]
    if time_col is None:
        time_col = _time_by_name([c for c in rest if c != target_col])
        if time_col is None:
            time_col = _time_by_content(frame, [c for c in rest if c != target_col]) if len(rest) > 1 else None
    if time_col is None:
        raise DataError(
            f"{source} has only the column(s) {', '.join(columns)}; expected a time column and a "
            "value column (and an id column for many series). Add a time column."
        )
    rest = [c for c in rest if c != time_col]
    # Only where no id is named: a long file with its `unique_id` skips the pass over its times.
    repeated = frame[time_col].duplicated(keep=False) if id_col is None else pd.Series(False, index=frame.index)
    if repeated.any():
        # The times repeat, so the rows hold several series: the one column of text is their id
        # (`Date, Store, Sales`), as `unique_id` would be.
        text = [c for c in rest if c != target_col and not all_numbers(frame[c])]
        clock = [c for c in text if frame[c].astype("string").str.strip().str.fullmatch(TIME_OF_DAY).all()]
        hours = [] if clock else [c for c in rest if c != target_col and hours_of_day(c, frame[c])]
        if clock or hours:
            other, what, how = (
                (clock[0], "times of day", "docs/input.md shows a pandas line that does it") if clock else
                (hours[0], "hours of the day", f"e.g. in pandas: d.insert(0, 'ds', pd.to_datetime(d.pop({time_col!r})) "
                 f"+ pd.to_timedelta(d.pop({hours[0]!r}), unit='h')) (docs/input.md has the whole line)"))
            raise UsageError(
                f"{source}: the dates in {time_col!r} repeat and {other!r} holds {what}: the time is split over two "
                f"columns. Join them into one (2024-01-31 13:00) and pass that file; {how}."
            )
        split = split_year(frame, [c for c in [time_col, *rest] if c != target_col])
        if split is not None:
            year, period, joined = split
            raise UsageError(
                f"{source}: the time is split over the columns {year!r} and {period!r}. Join them into one date "
                f"and pass that file, e.g. in pandas: d.insert(0, 'ds', {joined}) (docs/input.md has the whole line)."
            )
        if len(text) > 1:  # beside another, a column of one text throughout (a note, a unit) tells none apart;
            # alone it may be a Parquet part's partition column, one store's part of many (`cluster_train`)
            text = [c for c in text if frame[c].nunique() > 1] or text
        if len(text) == 1:
            id_col = text[0]
            rest.remove(id_col)
    if target_col is None:
        if TARGET in rest:
            target_col = TARGET
        elif len(rest) == 1:
            target_col = rest[0]
        elif not rest:
            raise DataError(
                f"{source} has a time column {time_col!r} but no value column. "
                "Expected a numeric column beside it."
            )
        elif len(numeric := [c for c in rest if all_numbers(frame[c])]) == 1:
            target_col = numeric[0]  # the one column of numbers; the text beside it is ignored
        else:
            decimal = [c for c in rest if _written_as(frame[c], _DECIMAL_COMMA)]
            thousands = [c for c in rest if _written_as(frame[c], _THOUSANDS_COMMA)]
            if not numeric and (decimal or thousands):
                names = ", ".join(map(repr, dict.fromkeys(decimal + thousands)))
                if not thousands:
                    how = "with a decimal comma (1.234,5). Pass --decimal-comma to read them so."
                elif not decimal:
                    how = "with commas between thousands (1,234.5). Pass --thousands-comma to read them so."
                else:
                    how = ("with commas. Pass --decimal-comma if the comma marks the decimals (1.234,5), or "
                           "--thousands-comma if it separates thousands (1,234.5).")
                raise UsageError(f"{source}: no column beside the time holds plain numbers (1234.5), and {names} "
                                 f"hold numbers written {how}")
            numeric = numeric or rest
            if id_col is not None:
                series = f" The series are told apart by {id_col!r}."
                # a store number beside a product name: a second key, not a value to forecast
                if frame[[id_col, time_col]].duplicated().any():
                    apart = _telling_apart(frame, [id_col, time_col], numeric, most=1)
                    if apart:
                        series = (f" The series are told apart by {id_col!r} and {apart[0]!r} together: name both "
                                  f"with --id-col {apart[0]},{id_col} and the values with --target-col.")
            elif repeated.any():
                time = frame[time_col].iloc[int(np.flatnonzero(repeated.to_numpy())[0])]
                # whole numbers that repeat over the times and tell the rows apart: a store number
                key = _telling_apart(frame, [time_col], numeric, most=1)
                key = key[0] if key and frame[key[0]].nunique() * 2 <= len(frame) else None
                repeat = (f"repeat ({time!r} on {int((frame[time_col] == time).sum())} rows), so the file holds "
                          "several series: name their id column with --id-col"
                          + (f" ({key!r} tells them apart: --id-col {key})." if key else "."))
                if key and len(numeric) == 2:  # the id named, the one column left is the value
                    value = next(c for c in numeric if c != key)
                    raise UsageError(f"{source}: the times {repeat} The values are then {value!r}.")
                series = f" The times {repeat}"
            else:
                series = ""
            raise UsageError(
                f"{source} has several candidate target columns ({', '.join(numeric)}).{series} "
                "Choose one with --target-col (the other numeric columns become its past covariates)"
                + ("." if series else "; or, to forecast each column as a series of its own, pass --wide.")
            )
    if len({time_col, target_col, id_col} - {None}) < len([c for c in (time_col, target_col, id_col) if c]):
        raise UsageError(
            f"{source}: one column cannot play two roles (time={time_col!r}, target={target_col!r}, "
            f"id={id_col!r}). Give each role its own column."
        )
    return Columns(time_col=time_col, target_col=target_col, id_col=id_col, all_columns=tuple(columns))


def _skipped_hour(times: pd.Series, freq: str | None) -> bool:
    """Whether missing timestamps of times without a UTC offset are all in the hour a local clock
    skips when daylight saving starts: 02:00 to 02:59 on a Sunday (Europe, North America,
    Australia), in data of steps shorter than an hour or of an hour.

    Example:
        >>> _skipped_hour(pd.Series(pd.to_datetime(["2026-03-29 02:00", "2026-03-29 02:30"])), "30min")
        True
        >>> _skipped_hour(pd.Series(pd.to_datetime(["2026-03-30 02:00"])), "h")
        False
    """
    step = pd.tseries.frequencies.to_offset(freq) if freq is not None else None
    if not isinstance(step, pd.offsets.Tick) or step.nanos > pd.Timedelta(hours=1).value or times.dt.tz is not None:
        return False
    return bool(((times.dt.hour == 2) & (times.dt.day_of_week == 6)).all())


def _time_by_content(frame: pd.DataFrame, candidates: list[str]) -> str:
    """The time column where no column has a usual time name: the first candidate, unless its
    first cells hold no dates (no time at all: `Stadt,Monat,Umsatz`; or whole numbers, which read
    as integer steps: `StoreID,OrderDate,Amount`) and another column's are dates (compact ones,
    20240131, too); then that one. Only the first `_TIME_SAMPLE` cells are tried: the column
    chosen is parsed whole afterwards, and one that fails there is named as the first column would
    be.

    Example:
        >>> raw = pd.DataFrame({"Stadt": ["Bern", "Basel"], "Monat": ["2024-01", "2024-01"], "Umsatz": ["5", "6"]})
        >>> _time_by_content(raw, ["Stadt", "Monat", "Umsatz"])
        'Monat'
        >>> _time_by_content(raw.assign(Stadt=["101", "102"]), ["Stadt", "Monat", "Umsatz"])
        'Monat'
    """
    first = candidates[0]
    if _time_kind(frame[first]) == "datetime":
        return first
    return next((c for c in candidates[1:] if _time_kind(frame[c]) == "datetime"), first)


def _time_kind(col: pd.Series) -> str | None:
    """What a column's first `_TIME_SAMPLE` cells read as, parsed as the time column would be:
    "datetime", "integer" (steps), or None (no time)."""
    try:
        return parse_time(col.head(_TIME_SAMPLE), "", str(col.name))[1]
    except (DataError, UsageError):
        return None


def _time_by_name(columns: list[str]) -> str | None:
    """The column whose name says it holds the time (`TIME_NAMES`, any case, in that order of
    preference), else None."""
    lower = {str(c).lower(): c for c in columns}
    return next((lower[n] for n in TIME_NAMES if n in lower), None)


def _wide_columns(frame: pd.DataFrame, source: str, time_col: str | None, target_col: str | None,
                  id_col: str | None) -> Columns:
    """The roles in a wide file: the time column (named, else found as in long files) and, as
    series, every other column with a number in it (a column of text only, a note or a weekday
    name, is ignored; one of numbers with a stray word is a series, refused where the word is)."""
    flags = [flag for flag, given in (("--target-col", target_col), ("--id-col", id_col)) if given is not None]
    if flags:
        raise UsageError(
            f"--wide reads every column of {source} but the time as a series of its own, so {' and '.join(flags)} "
            "has no column to name. Drop " + ("them" if len(flags) > 1 else "it") + ", or drop --wide to forecast one column."
        )
    columns = [str(c) for c in frame.columns]
    if ID in columns:
        raise UsageError(
            f"{source} has a {ID!r} column: it is in long format, one row per series and time, not one column "
            "per series. Drop --wide."
        )
    if time_col is None:
        time_col = _time_by_name(columns) or columns[0]
    rest = [c for c in columns if c != time_col and c not in frame.attrs.get(PARTITIONS, ())]
    series = tuple(_with_numbers(frame, rest))
    if not series:
        raise DataError(
            f"{source} has no column of numbers beside its time column {time_col!r} (columns: {', '.join(columns)}); "
            "--wide expects one column of values per series."
        )
    return Columns(time_col=time_col, target_col=TARGET, id_col=ID, all_columns=tuple(columns), series=series)


def time_text(time: Any) -> str:
    """A time for a message: a date alone at midnight (2019-04-01, not 2019-04-01 00:00:00), an
    integer step as it is.

    Example:
        >>> time_text(pd.Timestamp("2019-04-01")), time_text(np.datetime64("2019-04-01T13:00")), time_text(7)
        ('2019-04-01', '2019-04-01 13:00:00', '7')
    """
    if isinstance(time, (pd.Timestamp, np.datetime64)):
        return str(pd.Timestamp(time)).removesuffix(" 00:00:00")
    return str(time)


def repeated_row(frame: pd.DataFrame, lines: np.ndarray) -> tuple[str, Any, list[int]] | None:
    """The first series and time that `frame` holds more than once, with the lines of its rows
    (`lines`: each row's line in its file), or None: for the messages that name them.

    Example:
        >>> frame = pd.DataFrame({ID: ["a", "b", "a"], TIME: [1, 1, 1]})
        >>> uid, when, lines = repeated_row(frame, np.arange(len(frame)) + 2)
        >>> uid, int(when), lines
        ('a', 1, [2, 4])
    """
    repeated = frame.duplicated([ID, TIME], keep=False).to_numpy()
    if not repeated.any():
        return None
    first = frame[repeated].iloc[0]
    same = repeated & (frame[ID] == first[ID]).to_numpy() & (frame[TIME] == first[TIME]).to_numpy()
    return first[ID], first[TIME], np.asarray(lines)[same].tolist()


def listed(names: tuple[str, ...], most: int = 6) -> str:
    """Names for a message: all of them, or the first few and how many more."""
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


@dataclasses.dataclass(frozen=True)
class Written:
    """How a file writes its numbers and its text: `--decimal-comma` (1.234,5),
    `--thousands-comma` (1,234.5) and `--encoding` (`config.parse_encoding`). A model records
    them (`TrainConfig`) and reads every later file the same way (`Written.of`).

    Example:
        >>> Written(decimal_comma=True, thousands_comma=True)
        Traceback (most recent call last):
        ...
        forecast_cli.errors.UsageError: --decimal-comma and --thousands-comma cannot both be given: ...
    """

    decimal_comma: bool = False
    thousands_comma: bool = False
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        if self.decimal_comma and self.thousands_comma:
            raise UsageError("--decimal-comma and --thousands-comma cannot both be given: the comma marks the decimals "
                             "(1.234,5) or separates thousands (1,234.5). Give the one the file is written in.")

    @classmethod
    def of(cls, config: TrainConfig) -> Written:
        """How the files of a model trained with `config` are written."""
        return cls(config.decimal_comma, config.thousands_comma, config.encoding)


def load_series(
    path: str | os.PathLike[str],
    time_col: str | None = None,
    target_col: str | None = None,
    id_col: str | None = None,
    freq: str | None = None,
    fill: str = "interpolate",
    columns: Columns | None = None,
    expect_time_kind: str | None = None,
    as_of: str | None = None,
    covariates: tuple[str, ...] = (),
    auto_covariates: bool = False,
    split_future: bool = False,
    wide: bool = False,
    written: Written = Written(),
    expected_times: pd.DatetimeIndex | None = None,
    aggregate: str | None = None,
    known_ahead: bool = False,
) -> Dataset:
    """Read, validate and regularise a CSV of one or many series.

    Args:
        path: the CSV file.
        time_col, target_col, id_col: explicit column roles (detected when None).
        freq: a pandas frequency alias (`D`, `h`, `MS`, `W-SUN`, ...) overriding the inferred one.
        fill: how missing values and missing timestamps are filled: `interpolate` (linear),
            `ffill`, `zero`, or `none` to refuse them; `KEEP` adds no row and leaves out the rows
            whose value is empty (actual values to score a forecast against: none made up).
        columns: the column roles of a trained model; the file must have exactly its columns.
        expect_time_kind: `datetime` or `integer` when a trained model requires one.
        as_of: keep only rows at or before this time (a date, or an integer step); a series
            with no rows left is dropped.
        known_ahead: with `as_of` and `split_future`, a series' rows after the cut are kept as
            future rows, their values not read: they carry the known-ahead covariates of the
            forecast from the cut (a promotion planned then), as the rows after a series' last
            value do in a nightly file.
        covariates: numeric columns to keep beside the target (filled like it).
        auto_covariates: also keep every other column whose cells are all numbers or empty.
        split_future: move each series' rows after its last value (empty target) to
            `Dataset.future` instead of filling them: they carry future covariates. A series
            with no value at all is then left out and named in `Dataset.empty` (a product
            listed before its first sale): training leaves it out, a forecast counts it short.
        wide: one column per series (`--wide`), each read from its first value to its last.
        written: how the file writes its numbers and text (`Written`: `with_decimal_points`,
            `without_thousands_commas`, a CSV's encoding).
        expected_times: where day-month dates allow both orders (01/02/2024), the order that
            puts more of them among these times is taken (the forecasts actual values are for).
        aggregate: `sum` or `mean`: each series' rows per period of `freq` (which must be given)
            summed or averaged first (`_aggregated`): events at any time (transactions), or
            readings at odd times, as a series of periods.

    Returns:
        A `Dataset` whose frame is sorted by series and time, on a regular grid, with no gaps.

    Example:
        >>> ds = load_series("sample_data/airpassengers.csv")
        >>> ds.freq, ds.season
        ('MS', 12)
    """
    if fill not in FILLS and fill != KEEP:
        raise UsageError(f"--fill must be one of {', '.join(FILLS)}. Received: fill={fill!r}.")
    if aggregate is not None and aggregate not in AGGREGATES:
        raise UsageError(f"--aggregate must be one of {', '.join(AGGREGATES)}. Received: {aggregate!r}.")
    if aggregate is not None and freq is None:
        raise UsageError(f"--aggregate {aggregate} needs --freq, the period to {aggregate} the rows over "
                         "(e.g. --freq D for days, h for hours, W-SUN for weeks ending Sunday, MS for months).")
    if aggregate is not None:
        freq = parse_freq(freq)  # `W` is a week ending on Sunday here: the periods are made, not found
    source = source_name(path)
    raw, digest = read_table(path, written.encoding)
    # Excel saves CSV with `;` where the comma is the decimal mark: the day-first places
    # (`timecells._day_month_order`), as a decimal comma is.
    semicolons = raw.attrs.get(DELIMITER) == ";"
    detected = columns is None
    found_written = None  # how numbers are written, found in the cells where no flag says
    if detected and not (written.decimal_comma or written.thousands_comma):
        found_written = _comma_numbers(raw, written)
    written = found_written or written
    if written.decimal_comma:
        raw = with_decimal_points(raw)
    if written.thousands_comma:
        raw = without_thousands_commas(raw)
    raw, keys = _joined_ids(raw, id_col if detected else columns.id_col, source, model=not detected)
    if detected:
        columns = detect_columns(raw, source, time_col, target_col, id_col, wide)
    kept = (*(columns.used if detected else columns.all_columns), *covariates)
    layout = tuple(c for c in raw.attrs.get(PARTITIONS, ()) if c not in kept)
    raw, columns = _without_layout(raw, columns, layout)
    if not detected and columns.series:
        columns = _later_wide_columns(raw, columns, source)
    elif not detected:
        check_columns(raw, columns, source)
    try:
        times, time_kind, time_note = parse_time(raw[columns.time_col], source, columns.time_col, columns.day_first,
                                                  expect_time_kind, expected_times, written.decimal_comma or semicolons)
    except DataError as error:
        if detected and time_col is None and _time_by_name([columns.time_col]) is None:  # taken as the first column
            raise DataError(f"{error} The time column was taken to be {columns.time_col!r}, the first column, as no "
                            "column has a usual time name (ds, date, time, timestamp, ...); if the time is in "
                            "another column, name it with --time-col.") from None
        raise
    if detected:  # the order day-month dates were read in, for the files read by this file's model
        columns = dataclasses.replace(columns, day_first=day_first_of(time_note))
    if expect_time_kind is not None and time_kind != expect_time_kind:
        kinds = {"datetime": "dates", "integer": "integer steps"}
        raise DataError(
            f"{source}: the time column {columns.time_col!r} holds {kinds[time_kind]}, but the model "
            f"was trained on {kinds[expect_time_kind]}. Give the time in the same form as in training."
            + (" Earlier versions of forecast read dates written as numbers (20240131) as integer steps, a series mostly "
               "of gaps: retrain the model." if time_note.startswith(COMPACT_NOTE) else "")
        )
    after = 0
    if as_of is not None:
        # Rows summed per period are cut by their period: --as-of 2024-02-29 keeps that whole day.
        cut = _period_labels(times, freq) if aggregate is not None and time_kind == "datetime" else times
        keep = _as_of_mask(cut, time_kind, as_of, source, columns.day_first, time_note.startswith(COMPACT_NOTE))
        if not keep.any():
            raise NothingAsOf(source, as_of, times.min(), len(times))
        after = int((~keep).sum())
        if known_ahead and split_future and not columns.series:
            ids = _series_ids(raw, columns)
            began = ids.isin(ids[keep.to_numpy()]).to_numpy()
            ahead = ~keep.to_numpy() & began  # a series begun by the cut: its later rows' covariates, not values
            raw = raw.assign(**{columns.target_col: raw[columns.target_col].mask(ahead)})
            keep = keep | ahead
        raw, times = raw[keep.to_numpy()], times[keep.to_numpy()]
    names = _covariate_columns(raw, columns, covariates, auto_covariates, source, model=not detected)
    if columns.series:
        raw, times = _melted(raw, times, columns, source, written.decimal_comma)
    ids = _series_ids(raw, columns)
    missing_id = ids.isna()
    if missing_id.any():
        row = int(np.flatnonzero(missing_id.to_numpy())[0])
        raise DataError(
            f"{source}, {place(source, line_of(ids, row))}: column {columns.id_col!r} is empty; every row needs a "
            "series id."
            + empty_cells_hint(missing_id.to_numpy(), columns.id_col)
        )
    values = _parse_target(raw[columns.target_col], source, columns.target_col, written.decimal_comma)
    frame = pd.DataFrame({ID: ids.astype(str).to_numpy(), TIME: times.to_numpy(), TARGET: values})
    for name in names:
        frame[name] = _parse_target(raw[name], source, name, written.decimal_comma, flags=True)
    frame["_line"] = raw.index.to_numpy() + 2
    frame = frame.sort_values([ID, TIME], kind="stable").reset_index(drop=True)
    future, empty = None, []
    if split_future:
        # Rows after a series' last value: none of them has a value, nor any row after them.
        reverse = frame.iloc[::-1]
        seen = reverse[TARGET].notna().groupby(reverse[ID], sort=False).cummax().iloc[::-1]
        future = frame.loc[~seen, [ID, TIME, *names]].reset_index(drop=True)
        frame = frame[seen].reset_index(drop=True)  # never empty: _parse_target refuses a column of no values
        empty = sorted(set(future[ID].unique()) - set(frame[ID].unique()))  # a set of each id took 1 s a million rows
        if empty:  # for the caller to leave out (`Dataset.empty`)
            future = future[~future[ID].isin(empty)].reset_index(drop=True)
    # Rows before a series' first value (a shop not yet open, in a long export of every date):
    # nothing was recorded yet, so they are left out, as a wide file's empty cells before a
    # column's first value are; filling them would invent a flat history. (A series with no value
    # at all keeps its rows, for the error that names it.)
    present = frame[TARGET].notna()
    by_series = present.groupby(frame[ID], sort=False)
    started = by_series.cummax() | ~by_series.transform("any")
    before = int((~started).sum())
    if before:
        frame = frame[started.to_numpy()].reset_index(drop=True)
    if aggregate is not None:
        if time_kind != "datetime":
            raise UsageError(f"--aggregate {aggregate} sums or averages the rows of each period of dates, but "
                             f"{source}'s column {columns.time_col!r} holds integer steps. Drop --aggregate.")
        rows = len(frame)
        frame = _aggregated(frame, freq, aggregate, names)
        time_note = "; ".join(n for n in (time_note, f"{rows} rows {'summed' if aggregate == 'sum' else 'averaged'} "
                                          f"into {len(frame)} periods of {freq}") if n)
    missing_values = int(frame[TARGET].isna().sum())  # the rows set aside above are not missing values
    repeat = repeated_row(frame, frame["_line"].to_numpy())
    if repeat is not None:
        uid, when, lines = repeat
        clock = time_kind == "datetime" and when != when.normalize()
        raise DataError(
            f"{source}: series {uid!r} has the timestamp {time_text(when)} more than once "
            f"({place(source, *lines[:5])}); expected one row per series and time. "
            "Remove or aggregate the duplicates" + ("" if columns.series else _AGGREGATE_HINT) + "."
            + (" If they are a local clock's times, which repeat an hour when daylight saving ends, write "
               "each time with its UTC offset (02:00+02:00, then 02:00+01:00) or in UTC." if clock else "")
            + _several_series_hint(raw, columns)
        )
    if time_kind == "datetime":
        try:
            freq, weeks_note = _resolve_freq(frame, source, freq, _resample_hint(columns))
            time_note = "; ".join(n for n in (time_note, weeks_note) if n)
        except DataError:
            if fill != KEEP:
                raise
            freq = None  # values to score are matched on their times: a night's few need no frequency
        step = 1
    else:
        if freq is not None:
            raise UsageError(
                f"--freq {freq!r} was given but {source}'s column {columns.time_col!r} holds integer "
                "steps, not dates. Drop --freq, or give the column dates."
            )
        step = _integer_step(frame, source)
    frame, filled = _regularise(frame, source, freq, step, fill, for_model=not detected,
                                hint=_resample_hint(columns, freq) if time_kind == "datetime" and detected else "")
    season = season_of(freq) if time_kind == "datetime" else 1
    made = frame.pop(MADE).fillna(False).to_numpy(dtype=bool) if MADE in frame else None
    first_gap, skipped_hour = None, False
    if filled > missing_values:  # values filled in beyond the empty cells: rows on the grid, not in the file
        gap_rows = frame["_line"].isna().to_numpy()
        first = int(gap_rows.argmax())
        first_gap = (str(frame[ID].iloc[first]), frame[TIME].iloc[first])
        skipped_hour = _skipped_hour(frame[TIME][gap_rows], freq)
    return Dataset(
        frame=frame.drop(columns="_line").reset_index(drop=True),
        columns=columns,
        time_kind=time_kind,
        freq=freq,
        step=step,
        season=season,
        source=source,
        filled=filled,
        sha256=digest,
        covariates=names,
        future=future,
        missing_values=missing_values,
        seasons=seasons_of(freq) if time_kind == "datetime" else (1,),
        time_note=time_note,
        made=made,
        first_gap=first_gap,
        gaps_skipped_hour=skipped_hour,
        before=before,
        empty=tuple(empty),
        found_written=found_written,
        layout=layout,
        after=after,
        keys=keys,
    )


def _series_ids(raw: pd.DataFrame, columns: Columns) -> pd.Series:
    """Each row's series id as text, or for a file of one series the target's name."""
    if columns.id_col is not None:
        return raw[columns.id_col].astype("string").str.strip()
    return pd.Series(columns.target_col, index=raw.index, dtype="string")


class NothingAsOf(DataError):
    """No row of a file is at or before `--as-of`. Of one file, an error; of one Parquet part
    read on a cluster, a part of series that began later, which holds nothing yet (the driver
    fails the run only when no part has a row: `cluster.with_rows`)."""

    def __init__(self, source: str, as_of: str, first: Any, rows: int) -> None:
        super().__init__(f"{source}: no row is at or before --as-of {as_of} (the first time is {time_text(first)}). "
                         "Choose a later --as-of.")
        self.first, self.rows = first, rows  # the file's first time, and its rows (all after --as-of)


def _without_layout(raw: pd.DataFrame, columns: Columns, layout: tuple[str, ...]) -> tuple[pd.DataFrame, Columns]:
    """The frame and its roles without the `layout` columns: the partition columns of
    hive-partitioned Parquet that play no role (a role, a covariate, a column of the model). They
    say where a part lies (a bucket, a date range), not what was recorded, so a model and its later
    files need not share a layout."""
    if not layout:
        return raw, columns
    return raw.drop(columns=list(layout)), dataclasses.replace(
        columns, all_columns=tuple(c for c in columns.all_columns if c not in layout))


def _melted(raw: pd.DataFrame, times: pd.Series, columns: Columns, source: str,
            decimal_comma: bool = False) -> tuple[pd.DataFrame, pd.Series]:
    """A wide file's series columns as long rows (unique_id, y) and their times, each row labelled
    with its line in the file. A series spans its first value to its last: the empty cells before
    and after are times it was not recorded (a store not yet open, a sensor not yet read), not
    missing values to fill. A column with no value at all (a store not yet open, or none left
    before --as-of) is a series with no rows, as in a long file; at least one must have values."""
    names = [name for name in columns.series if raw[name].notna().any()]
    if not names:
        raise DataError(f"{source}: none of the series columns ({listed(columns.series)}) has a value; expected "
                        "numbers in at least one.")
    parsed = [_parse_target(raw[name], source, name, decimal_comma) for name in names]
    taken = np.tile(np.arange(len(raw)), len(parsed))
    long_times = times.iloc[taken]
    long = pd.DataFrame({ID: np.repeat(np.array(names, dtype=object), len(raw)),
                         TARGET: np.concatenate(parsed)}, index=long_times.index)
    present = long[TARGET].notna()
    span = long_times[present].groupby(long.loc[present, ID]).agg(["min", "max"])
    keep = ((long_times >= long[ID].map(span["min"])) & (long_times <= long[ID].map(span["max"]))).to_numpy()
    return long[keep], long_times[keep]


def _aggregated(frame: pd.DataFrame, period: str, how: str, names: tuple[str, ...]) -> pd.DataFrame:
    """Each series' rows per `period` made one: summed (`how` "sum": events such as sales, so a
    period without a row is 0) or averaged ("mean": readings, so a period without one is a
    missing value, filled as --fill says), from its first period to its last, each labelled as
    pandas labels a period of that frequency (a day by its date, MS by the month's first day, W-SUN
    by the Sunday it ends on). Covariates are averaged; a period's line is its first row's.

    Example:
        >>> rows = pd.DataFrame({ID: ["a"] * 3, TIME: pd.to_datetime(["2024-01-01 09:00", "2024-01-01 17:00",
        ...                      "2024-01-03 10:00"]), TARGET: [2.0, 3.0, 4.0], "_line": [2, 3, 4]})
        >>> _aggregated(rows, "D", "sum", ()).set_index(TIME)[TARGET].to_dict()
        {Timestamp('2024-01-01 00:00:00'): 5.0, Timestamp('2024-01-02 00:00:00'): 0.0, Timestamp('2024-01-03 00:00:00'): 4.0}
    """
    periods = frame.set_index(TIME).groupby(ID, sort=True).resample(period)
    if how == "sum":  # a period of rows whose values are all empty stays empty; one of no rows is 0
        values = periods[TARGET].sum(min_count=1).mask(periods[TARGET].size() == 0, 0.0)
    else:
        values = periods[TARGET].mean()
    out = values.rename(TARGET).reset_index()
    for name in names:
        out[name] = periods[name].mean().to_numpy()
    # A series' first period holds its first row, so every empty period after it takes a line before it.
    out["_line"] = periods["_line"].min().ffill().to_numpy().astype("int64")
    return out


def _period_labels(times: pd.Series, period: str) -> pd.Series:
    """Each time's period of `period` as `_aggregated` labels it (the day of a time of that day,
    the Sunday that ends its week for W-SUN).

    Example:
        >>> times = pd.Series(pd.to_datetime(["2024-01-08 01:00", "2024-01-03 10:00", "2024-01-07 23:00"]))
        >>> _period_labels(times, "W-SUN").dt.strftime("%a %d").tolist()
        ['Sun 14', 'Sun 07', 'Sun 07']
    """
    order = np.argsort(times.to_numpy(), kind="stable")  # a Grouper numbers the rows in time order
    grouped = pd.DataFrame({TIME: times.iloc[order].reset_index(drop=True)}).groupby(pd.Grouper(key=TIME, freq=period))
    # Group numbers count every period from the first, empty ones too, as `size` lists them.
    codes = np.empty(len(times), dtype="int64")
    codes[order] = grouped.ngroup().to_numpy()
    return pd.Series(grouped.size().index[codes], index=times.index)


def _resample_hint(columns: Columns, freq: str | None = None) -> str:
    """For times that lie on no grid (transactions, readings at odd times): the flags that sum or
    average them per period; empty for a wide file."""
    if columns.series:
        return ""
    period = freq or "D"
    return (f" Events at irregular times (transactions) are summed per period with --freq {period} --aggregate sum "
            "(readings at odd times averaged with --aggregate mean)"
            + ("; several series: name their id column with --id-col" if columns.id_col is None and columns.ignored
               else "") + ".")


# How rows of one series and time (a day's transactions) become one: the end of the duplicates error.
_AGGREGATE_HINT = (" (to sum the rows of each period into one: --freq with the period and --aggregate sum; mean "
                   "for readings)")


ID_JOIN = "/"  # between the values of several id columns (`--id-col store,family`) in the one id


def _joined_ids(raw: pd.DataFrame, name: str | None, source: str,
                model: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A file whose series are told apart by several columns (`--id-col store,family`, as a
    retailer's export keys its series by store and product) with those columns joined into one
    id column of that name, in the first one's place (`1/BREAD`); other files as they are. Also
    each id's values of those columns (`key_values`), by id, for the outputs to carry
    (`with_keys`): a value may hold the `/` (`BREAD/BAKERY`), so the id cannot be split back.
    None for one id column. `model`: the columns are a trained model's, not this run's flag."""
    if name is None or "," not in name or name in raw.columns:
        return raw, None
    keys = [key.strip() for key in name.split(",")]
    missing = [key for key in keys if key not in raw.columns]
    if missing and model:
        raise DataError(f"{source} does not have the columns the model was trained on: its series are told apart by "
                        f"{', '.join(keys)} together, and {source} has no column {missing[0]!r} (its columns: "
                        f"{', '.join(map(str, raw.columns))}). Rename the columns to match.")
    if missing:
        raise UsageError(f"--id-col {name!r}: {source} has no column {missing[0]!r}; expected the columns that tell "
                         f"its series apart, between commas. Its columns: {', '.join(map(str, raw.columns))}."
                         + _spelt_like(missing[0], list(raw.columns)))
    if len(set(keys)) < len(keys):
        raise UsageError(f"--id-col {name!r} names a column twice; name each column that tells the series apart once.")
    parts = raw[keys].astype("string").apply(lambda col: col.str.strip())
    joined = join_ids(parts, keys)  # empty where a part is
    whole = parts[joined.notna().to_numpy()]  # a row with an empty part is refused later, naming its line
    firsts = whole.drop_duplicates()  # each series' first row
    if joined.nunique() < len(firsts):
        pair = whole.assign(id=joined).drop_duplicates().loc[lambda d: d["id"].duplicated(keep=False)].head(2)
        shown = " and ".join("(" + ", ".join(map(repr, row[keys])) + ")" for _, row in pair.iterrows())
        raise UsageError(f"--id-col {name!r}: joined with {ID_JOIN!r} between them, the values {shown} of {source}'s "
                         f"columns {', '.join(keys)} give one id, {pair['id'].iloc[0]!r}; rename the values that hold "
                         f"{ID_JOIN!r}.")
    at = list(raw.columns).index(keys[0])
    out = raw.drop(columns=keys)
    out.insert(min(at, len(out.columns)), name, joined)
    out.attrs = dict(raw.attrs)
    if PARTITIONS in out.attrs:  # a key read from the folders' names is in the id now
        out.attrs[PARTITIONS] = tuple(c for c in out.attrs[PARTITIONS] if c not in keys)
    rows = firsts.index
    values = pd.DataFrame({key: key_values(raw[key].loc[rows], firsts[key]) for key in keys})
    return out, values.set_index(pd.Index(joined.loc[rows].to_numpy(), name=ID))


def join_ids(parts: pd.DataFrame, keys: list[str]) -> pd.Series:
    """The one id of each row from the text of its id columns `keys` in `parts` (stripped):
    joined with `ID_JOIN` (`1/BREAD`); empty where a part is.

    Example:
        >>> join_ids(pd.DataFrame({"store": ["1", "2"], "family": ["BREAD/BAKERY", None]}, dtype="string"),
        ...          ["store", "family"]).tolist()
        ['1/BREAD/BAKERY', <NA>]
    """
    return parts[keys[0]].str.cat([parts[key] for key in keys[1:]], sep=ID_JOIN)


def plain_id(uid: str) -> str:
    """An id with each of its joined columns' values (`join_ids`; one id has one) that is a whole
    number written one way, however the file wrote it (101, 101.0, 1.01e2, 007): two ids alike
    so are the same series written another way (an export that stored an id column as decimal
    numbers, a spreadsheet that dropped leading zeros).

    Read as decimals, exactly: ids of twenty digits that a float would round alike stay apart.

    Example:
        >>> plain_id("101.0"), plain_id("007/BREAD/BAKERY"), plain_id("1.5/x"), plain_id("12345678901234567891")
        ('101', '7/BREAD/BAKERY', '1.5/x', '12345678901234567891')
    """
    def whole(part: str) -> str:
        try:
            number = decimal.Decimal(part)
        except decimal.InvalidOperation:
            return part
        integral = number.is_finite() and number.adjusted() < 40 and number == number.to_integral_value()
        return str(int(number)) if integral else part  # (not 1e999999999: an int of a billion digits)

    return ID_JOIN.join(whole(part) for part in uid.split(ID_JOIN))


def written_otherwise(ids: Iterable[str], known: Iterable[str]) -> list[tuple[str, str]]:
    """Each of `ids` (none of them in `known`) that is one of `known` written another way
    (`plain_id`), with that one.

    Example:
        >>> written_otherwise(["101.0", "7", "y"], ["101", "x"])
        [('101.0', '101')]
    """
    plain = {plain_id(uid): uid for uid in known}
    return [(uid, plain[key]) for uid in ids if (key := plain_id(uid)) in plain]


def written_why(here: str, before: str, names: Sequence[str] = ()) -> str:
    """Why an id reads `here` where it read `before` (alike by `plain_id`), as a question. With
    the id columns' `names` (`store_nbr,family` split), it names the column whose values differ,
    where each id splits into a value per column (a value holding the `/` leaves it unnamed).

    Example:
        >>> written_why("1/7", "1/007")
        'their leading zeros dropped, as a spreadsheet or a column of numbers drops them?'
        >>> written_why("1.0/BREAD", "1/BREAD", ["store_nbr", "family"])
        "column 'store_nbr' stored as decimal numbers?"
        >>> written_why("1.0/BREAD/BAKERY", "1/BREAD/BAKERY", ["store_nbr", "family"])
        'an id column stored as decimal numbers?'
    """
    now, was = here.split(ID_JOIN), before.split(ID_JOIN)
    changed = [k for k, (a, b) in enumerate(zip(now, was)) if a != b]
    which = " and ".join(repr(names[k]) for k in changed) if len(names) == len(now) == len(was) else ""
    if any(was[k].startswith("0") and not now[k].startswith("0") for k in changed):
        where = f" in {which}" if which else ""
        return f"their leading zeros dropped{where}, as a spreadsheet or a column of numbers drops them?"
    return f"{f'column {which}' if which else 'an id column'} stored as decimal numbers?"


def key_values(column: pd.Series, text: pd.Series | None = None) -> pd.Series:
    """An id column's values as the outputs carry them: numbers (a store number), booleans and
    times as they are, so that a Parquet table joins them back to its own without a cast; anything
    else as text without the spaces around it (`text`, when the caller has it), as the id holds it.

    Example:
        >>> key_values(pd.Series([1, 2])).tolist(), key_values(pd.Series([" a", 3], dtype=object)).tolist()
        ([1, 2], ['a', '3'])
    """
    kind = column.dtype  # booleans count as numbers; an object column (types mixed) does not
    if pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_datetime64_any_dtype(kind):
        return column
    return text if text is not None else column.astype("string").str.strip()


def common_keys(table: pd.DataFrame, id_col: str | None) -> pd.DataFrame:
    """A table joined from the tables of parts read apart (a cluster's), each with the key columns
    (`with_keys`) of its own part's type, with those columns as one process gives them: a store
    number of int32 in one part and int64 in another is int64, of numbers in one and text in
    another is text (`key_values` of the joined column)."""
    names = parse_columns(id_col) if id_col and "," in id_col else ()
    found = [name for name in names if name in table.columns and name not in (ID, TIME)]
    return table.assign(**{name: key_values(table[name]) for name in found}) if found else table


def with_keys(table: pd.DataFrame, keys: pd.DataFrame | None) -> pd.DataFrame:
    """A result table (forecasts, detections) with the id columns a model with several of them
    reads (`Dataset.keys`) after its unique_id, each row given its series' values: the table then
    joins back to the data by those columns. A column whose name the table already has (a key
    named ds) is left out; the table as it is for one id column.

    Example:
        >>> keys = pd.DataFrame({"store": [1, 2], "family": ["BREAD/BAKERY", "EGGS"]},
        ...                     index=["1/BREAD/BAKERY", "2/EGGS"])
        >>> with_keys(pd.DataFrame({ID: ["2/EGGS", "1/BREAD/BAKERY"], "yhat": [3.0, 4.0]}), keys)
                unique_id  store        family  yhat
        0          2/EGGS      2          EGGS   3.0
        1  1/BREAD/BAKERY      1  BREAD/BAKERY   4.0
    """
    if keys is None:
        return table
    extra = [key for key in keys.columns if key not in table.columns]
    ids = table[ID].to_numpy()
    # A series' rows lie together: its values looked up once and repeated (a lookup a row took
    # seconds on a million series' forecasts)
    starts = np.flatnonzero(np.concatenate([[len(ids) > 0], ids[1:] != ids[:-1]]))
    found = keys[extra].reindex(ids[starts])
    lengths = np.diff(np.append(starts, len(ids)))
    at = list(table.columns).index(ID) + 1
    out = table.copy() if extra else table
    for k, key in enumerate(extra):
        out.insert(at + k, key, found[key].array.take(np.repeat(np.arange(len(starts)), lengths)))
    return out


def _several_series_hint(raw: pd.DataFrame, columns: Columns) -> str:
    """For times that repeat: the other columns (one or two) that with the id, if any, tell the
    rows apart (a store and a product, read as one series, or as the product's alone), and the
    `--id-col` that names them all."""
    if columns.series:
        return ""
    roles = [c for c in (columns.id_col, columns.time_col) if c is not None]
    others = [c for c in columns.all_columns if c not in (*roles, columns.target_col) and c in raw.columns][:6]
    extra = _telling_apart(raw, roles, others, most=2)
    if extra is None:
        return ""
    keys = [*(columns.id_col.split(",") if columns.id_col else []), *extra]
    if len(keys) == 1:
        return f" If the rows hold several series told apart by {keys[0]!r}, name it: --id-col {keys[0]}."
    return (f" If the rows hold several series told apart by {', '.join(map(repr, keys))}, name them "
            f"all: --id-col {','.join(keys)} (one id, their values joined with {ID_JOIN!r}).")


def _telling_apart(frame: pd.DataFrame, roles: list[str], candidates: list[str],
                   most: int) -> tuple[str, ...] | None:
    """The first of `candidates`, or pair of them up to `most`, whose values beside the `roles`
    columns (the id and the time) leave no two rows alike: the columns that, with the id, tell the
    series apart. None if none does. Those of fewest distinct values are tried first: a key
    repeats over the times, where a column of values (sales, a price) tells every row apart."""
    candidates = sorted(candidates, key=lambda c: frame[c].nunique())
    for size in range(1, most + 1):
        for extra in itertools.combinations(candidates, size):
            if not frame[[*roles, *extra]].duplicated().any():
                return extra
    return None


def _covariate_columns(
    raw: pd.DataFrame, columns: Columns, wanted: tuple[str, ...], auto: bool, source: str, model: bool
) -> tuple[str, ...]:
    """The covariate columns to read: the named ones (each must exist and play no other role),
    and with `auto` every other column whose cells are all numbers or empty, in the file's order.
    `model`: the names are a trained model's covariates, not this run's flags."""
    if columns.series:
        if wanted:
            raise UsageError(
                f"{source} is read with --wide, where every column of numbers is a series, so none is left to "
                f"be a covariate ({', '.join(wanted)}). Drop the covariate flags, or write the file in long "
                "format with the covariates as columns beside y (docs/input.md shows how)."
            )
        return ()
    roles = {columns.id_col: "the series id", columns.time_col: "the time", columns.target_col: "the target"}
    shown = each_column(raw.columns, columns.id_col)  # the file's own columns
    for name in wanted:
        if name not in raw.columns and model:
            raise DataError(
                f"{source} has no column {name!r}, a covariate of this model; its columns are: "
                f"{', '.join(shown)}. Add the column."
            )
        if name not in raw.columns:  # this run's --past-covariates or --future-covariates
            raise UsageError(
                f"{source} has no column {name!r}, named by --past-covariates or --future-covariates; its columns "
                f"are: {', '.join(shown)}." + _spelt_like(name, shown)
            )
        if name in roles:
            raise UsageError(
                f"{source}: column {name!r} is {roles[name]} column, so it cannot also be a covariate. Drop it "
                "from --past-covariates/--future-covariates"
                + (" (the target's own past values are always read)." if name == columns.target_col else ".")
            )
        if name in (ID, TIME, TARGET):
            raise UsageError(
                f"{source}: column {name!r} cannot be a covariate: {ID}, {TIME} and {TARGET} name the id, time "
                "and target columns. Rename it."
            )
    if not auto:
        return tuple(wanted)
    return tuple(name for name in columns.ignored
                 if name in wanted or (name not in (ID, TIME, TARGET) and all_numbers(raw[name])))


def _as_of_mask(times: pd.Series, time_kind: str, as_of: str, source: str, day_first: bool | None = None,
                compact: bool = False) -> pd.Series:
    """The rows at or before `--as-of`: an integer step, a Unix time, or a date written as the
    time column may write it (`01.02.2024` in the column's order of day and month, `2023 Q4`,
    `2023M12`, `Dec-23`), which pandas alone would read otherwise (2 January; the 23rd of December
    of the year 1) or not at all. With `compact` (the column writes its times as numbers,
    `compact_dates`), a number that reads so is such a time before a Unix time (2024013113 is
    13:00 on 31 January 2024 there, not a second of 2034)."""
    if time_kind == "integer":
        try:
            cutoff = int(as_of)
        except ValueError:
            raise UsageError(
                f"--as-of {as_of!r} is not an integer step, but {source}'s time column holds integer steps."
            ) from None
        return times <= cutoff
    cutoff = None
    numbered = compact_dates(pd.Series([as_of.strip()])) if compact else None
    if numbered is not None:
        cutoff = pd.Timestamp(numbered[0].iloc[0])
    unix = unix_times(pd.Series([int(as_of)])) if cutoff is None and re.fullmatch(r"\d+", as_of.strip()) else None
    if unix is not None:  # a Unix time (1711000800), on the times' clock: UTC, or the dates of UTC midnights
        cutoff = on_clock(pd.Timestamp(unix[0].iloc[0]), times.dt.tz is not None)
    if cutoff is None:
        try:
            parsed, kind, _ = parse_time(pd.Series([as_of.strip()]), source, "--as-of", day_first, "datetime")
            cutoff = pd.Timestamp(parsed.iloc[0]) if kind == "datetime" else None
        except (DataError, ValueError, TypeError):
            pass  # read by pandas below, or refused there
    try:
        cutoff = pd.Timestamp(as_of) if cutoff is None else cutoff
    except ValueError:
        cutoff = pd.NaT
    # pandas reads "" (an unset variable in `--as-of "$CUTOFF"`), "NaT" and "nan" as no time, "-5" as a year
    # before the Common Era: none is a cut-off.
    if pd.isna(cutoff) or cutoff.year < 1:
        raise UsageError(f"--as-of {as_of!r} is " + ("empty (an unset variable in --as-of \"$CUTOFF\"?)" if not as_of.strip()
                                                    else "not a date or time")
                         + "; expected e.g. 2024-01-31 or 2024-01-31T13:00, or a Unix time (1711000800).")
    if cutoff.year == 1 or re.fullmatch(TIME_OF_DAY, as_of.strip()):  # pandas' year 1, or today at that time
        raise UsageError(f"--as-of {as_of!r} has no {'year' if cutoff.year == 1 else 'date'}; expected e.g. "
                         "2024-01-31 or 2024-01-31T13:00, or a Unix time (1711000800).")
    if times.dt.tz is not None and cutoff.tzinfo is None and re.search(UTC_OFFSET, as_of.strip()):
        cutoff = on_clock(pd.Timestamp(as_of.strip()), zoned=True)  # a midnight with its offset, read above as a date
    if (cutoff.tzinfo is None) != (times.dt.tz is None):
        raise UsageError(
            f"--as-of {as_of!r} and {source}'s times differ in having a time zone; give --as-of "
            "the same way (e.g. 2024-01-31T00:00+00:00 for times with a zone)."
        )
    return times <= cutoff


def on_clock(time: pd.Timestamp, zoned: bool) -> pd.Timestamp:
    """A time on the clock of times with a zone (`zoned`: in UTC) or without one, as a model
    reads a file either way: times with a zone in UTC, a time without one taken as UTC.

    Example:
        >>> on_clock(pd.Timestamp("2024-03-01 23:00+02:00"), False), on_clock(pd.Timestamp("2024-03-01 21:00"), True)
        (Timestamp('2024-03-01 21:00:00'), Timestamp('2024-03-01 21:00:00+0000', tz='UTC'))
    """
    time = time.tz_convert("UTC") if time.tzinfo is not None else time.tz_localize("UTC")
    return time if zoned else time.tz_localize(None)


def _later_wide_columns(raw: pd.DataFrame, columns: Columns, source: str) -> Columns:
    """A later file's roles for a model trained on a wide file: its series are its own columns of
    numbers beside the model's time column, found as in training, so that, as in long format, a
    new column is a new series (scaled from its own history) and a column gone is a series with
    no rows."""
    have = [str(c) for c in raw.columns]
    if columns.time_col not in have or ID in have:
        raise DataError(
            f"{source} is not a file of one column per series with the time in {columns.time_col!r}, as the model "
            f"was trained on (--wide; columns: {listed(tuple(have))}). Give the file with its time column "
            f"{columns.time_col!r} and a column of values per series."
        )
    return dataclasses.replace(_wide_columns(raw, source, columns.time_col, None, None), day_first=columns.day_first)


def each_column(names: Iterable[Any], id_col: str | None) -> list[str]:
    """Column names as a person reads them: several id columns (`--id-col shop,family`), one
    joined column once read, named one by one.

    Example:
        >>> each_column(["date", "shop,family", "sales"], "shop,family")
        ['date', 'shop', 'family', 'sales']
    """
    return [part for column in map(str, names)
            for part in (parse_columns(column) if column == id_col else (column,))]


def check_columns(raw: pd.DataFrame, columns: Columns, source: str) -> None:
    """Refuse a file whose columns differ from the ones a model was trained on."""
    have = set(raw.columns)
    missing = sorted(set(columns.used) - have)
    unexpected = sorted(have - set(columns.all_columns))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing: {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected: {', '.join(unexpected)}")
        raise DataError(
            f"{source} does not have the columns the model was trained on ({'; '.join(parts)}). "
            f"Expected {', '.join(each_column(columns.all_columns, columns.id_col))}; rename or drop columns to match."
        )


def _with_numbers(frame: pd.DataFrame, names: list[str]) -> list[str]:
    """The columns of `names` that hold a number anywhere. The first cells of every column are
    parsed at once (a wide file's thousands of columns of numbers each show one there; a column
    at a time cost a millisecond each), the whole column only where they hold none."""
    if not names:
        return []
    head = frame[names].head(100)
    cells = pd.Series(head.to_numpy(dtype=object).ravel(order="F"))  # column by column
    seen = as_numbers(cells)[1].notna().to_numpy().reshape(len(names), len(head)).any(axis=1)
    return [name for name, found in zip(names, seen) if found or as_numbers(frame[name])[1].notna().any()]


def _parse_target(col: pd.Series, source: str, name: str, decimal_comma: bool = False,
                  flags: bool = False) -> np.ndarray:
    """A column of numbers as floats (NaN where empty), refused where a cell is no number, with a
    hint at what it may be (`decimal_comma`: the file was read with --decimal-comma). `flags`: a
    covariate, which may also be a column of True and False (a holiday, a promotion), read as 1
    and 0."""
    if is_numeric(col):
        # A Parquet column of numbers: the values as they are, their text only for a message.
        array = col.to_numpy(dtype="float64", na_value=np.nan)
        return _finite(array, col, lambda row: str(col.iloc[row]), source, name)
    text, values = as_numbers(col)
    bad = values.isna() & text.notna() & ~text.isin(MISSING_MARKERS)
    if flags and bad.any():  # True and False, as pandas, Excel and Spark write booleans, and a Parquet boolean reads
        words = text.str.lower()
        truth = words.isin(["true", "false"])
        if truth[bad].all():
            values, bad = values.mask(truth, words.eq("true").astype("float64")), bad & ~truth
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = text.iloc[row]
        hint = ""
        if value.lower() in ("true", "false") and not flags:
            hint = (" (True and False: a covariate may hold them, read as 1 and 0, but the values forecast must be "
                    "numbers; write 1 and 0 to forecast the share of True)")
        elif re.fullmatch(r"[-+]?\s*[$€£¥]?\s*[-+]?[\d.,]*\d[\d.,]*\s*[$€£¥%]?", value.strip()) and re.search(r"[$€£¥%]", value):
            hint = " (a currency or percent sign? write the number alone: 1234.5, not $1,234.50 or 12%)"
        elif re.fullmatch(_THOUSANDS_COMMA, value.strip()):
            hint = " (commas between thousands? --thousands-comma reads 1,234.5 as 1234.5" + (
                "; a decimal comma? --decimal-comma reads 1,5 as 1.5" if "." not in value else "")
            hint += "; a model trained with it reads later files so)"
        elif re.fullmatch(rf"[-+]?\d{{1,3}}(?:[{_GROUPS[1:]}]\d{{3}})+(?:\.\d*)?", value.strip()):
            hint = (" (spaces between groups of three digits? --decimal-comma reads 1 234 and 1 234,5, as French and "
                    "Scandinavian spreadsheets write them; with a decimal point, 1 234.5, write the number without "
                    "spaces)")
        elif re.fullmatch(r"[-+]?\d{1,3}(?:['\u2019]\d{3})+(?:\.\d*)?", value.strip()):
            hint = (" (apostrophes between groups of three digits, as Swiss spreadsheets write 1'234.5? write the "
                    "number without them: 1234.5, saving the column formatted as plain numbers)")
        elif "," in value and decimal_comma:
            hint = (" (read with --decimal-comma: a comma for the decimals and points or spaces between groups of "
                    "three digits, as in 1.234,5 or 1 234,5)")
        elif "," in value:
            hint = " (a decimal comma? --decimal-comma reads 1,5 as 1.5, and a model trained with it reads later files so)"
        elif re.fullmatch(r"#(N/A|DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!)", value.strip(), flags=re.IGNORECASE):
            hint = " (a spreadsheet's error value: mend the formula, or write an empty cell where no value is known)"
        elif re.fullmatch(r"\(\s*[$€£¥]?\s*[\d.,]*\d[\d.,]*\s*\)", value.strip()):
            hint = (f" (an accountant's negative number? write it with a minus sign, -{value.strip()[1:-1].strip()} "
                    f"for {value.strip()}: save the column formatted as plain numbers)")
        elif re.fullmatch(r"[-\u2013\u2014]", value.strip()):
            hint = (" (an accounting format's zero? write 0, saving the column formatted as plain numbers; or leave "
                    "the cell empty for a missing value)")
        elif re.fullmatch(r"(?i):|\.\.|n\.?\s?a\.?|n/a|x", value.strip()):
            hint = (" (a mark for a value not available, as Eurostat writes ':' and the World Bank and the OECD '..'? "
                    "leave those cells empty: they are missing values, filled as --fill says)")
        elif re.fullmatch(r"[-+]?[\d.,]*\d\s*[a-z]{1,3}", value.strip()):
            hint = (" (a number with a unit, or with a flag, as Eurostat marks provisional (p) and estimated (e) "
                    "values? write the number alone)")
        raise DataError(
            f"{source}, {place(source, line_of(col, row))}: {value!r} in column {name!r} is not a number{hint}; "
            f"{int(bad.sum())} such value(s) in all. Expected numbers; leave a cell empty for a "
            "missing value."
        )
    return _finite(values.to_numpy(dtype="float64"), col, lambda row: text.iloc[row], source, name)


TOO_LARGE = 1e100  # the largest magnitude a value may have (`_finite`)


def _finite(array: np.ndarray, col: pd.Series, text_at: Callable[[int], str], source: str, name: str) -> np.ndarray:
    """A column's numbers, refused when infinite, too large or all missing (`text_at(row)`: the
    cell as written, for the message)."""
    inf = np.isinf(array)
    if inf.any():
        row = int(np.flatnonzero(inf)[0])
        raise DataError(
            f"{source}, {place(source, line_of(col, row))}: column {name!r} holds an infinite value ({text_at(row)}). "
            "Replace it with a finite number or leave the cell empty."
        )
    if np.isnan(array).all():
        raise DataError(f"{source}: column {name!r} has no values at all; expected numbers.")
    # Squares of differences (variances, squared errors) must stay finite summed over millions of
    # values: ±1e154 in one series overflowed them, and the blend's weights came out NaN.
    big = np.abs(array) > TOO_LARGE
    if big.any():
        row = int(np.flatnonzero(big)[0])
        raise DataError(
            f"{source}, {place(source, line_of(col, row))}: column {name!r} holds {text_at(row)}, too large to scale "
            f"safely (limit {TOO_LARGE:g}). Rescale the column."
        )
    return array


def _resolve_freq(frame: pd.DataFrame, source: str, freq: str | None, hint: str = "") -> tuple[str, str]:
    """The data's frequency (`freq`: the one given, else inferred from a sample of the series),
    and a note for the detected line when weekly series fall on different weekdays (then
    `WEEKS`), else empty. `hint` ends the error for times that give no frequency."""
    if freq is not None:
        given = parse_freq(freq)
        # `--freq W`, no day named: weekly data on the data's days, as a weekly model reads later files.
        return _weekdays(frame) if is_weekly(given) and "-" not in freq else (given, "")
    by_series: dict[str, str | None] = {}
    sizes = frame.groupby(ID, sort=False).size()
    eligible = sizes.index[sizes.to_numpy() >= 3]
    if len(eligible) > 40:  # a sample is enough; the grid check later catches any series off it
        eligible = eligible[np.linspace(0, len(eligible) - 1, 40).astype(int)]
    # Only the sampled series are cut out of the frame (cutting out every series cost 2 s for
    # 20,000 of them); in the order they come in the file, as the sample was drawn.
    for uid, group in frame[frame[ID].isin(eligible)].groupby(ID, sort=False):
        by_series[str(uid)] = guess_freq(group[TIME])
    found = Counter(f for f in by_series.values() if f is not None)
    if not found:
        raise DataError(
            f"{source}: cannot infer the frequency of the time column (too few or irregular "
            "timestamps). Give it with --freq (e.g. --freq D, --freq MS, --freq h)." + hint
        )
    if all(is_weekly(f) for f in found):
        return _weekdays(frame)
    if len(found) > 1:
        (common, _), (other, _) = found.most_common(2)
        example = next(u for u, f in by_series.items() if f == other)
        if (season_of(common), default_horizon(common)) == (season_of(other), default_horizon(other)):
            raise DataError(
                f"{source}: series have one period but are dated differently ({common} for most, {other} for "
                f"series {example!r}). Write every series' dates one way, e.g. as each period's first day."
            )
        raise DataError(
            f"{source}: series have different frequencies ({common} for most, {other} for "
            f"series {example!r}). Put series of one frequency per file, or force one with --freq."
        )
    return next(iter(found)), ""


def _weekdays(frame: pd.DataFrame) -> tuple[str, str]:
    """Weekly data's frequency: the weekday's (W-SUN, ...) when every row falls on one, else
    `WEEKS`, each series every seven days from its own first day, with a note naming two of the
    days. Every row is looked at, not the sample a frequency is found from: one shop in a
    thousand that ends its week on a Monday would otherwise be off the grid."""
    days = frame[TIME].dt.dayofweek.to_numpy()
    other = np.flatnonzero(days != days[0])
    names = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
    if not len(other):
        return f"W-{names[days[0]]}", ""
    first, then = frame[ID].iloc[0], frame[ID].iloc[int(other[0])]
    return WEEKS, (f"weeks ending on different days (W-{names[days[0]]} for series {str(first)!r}, "
                   f"W-{names[days[other[0]]]} for {str(then)!r}): each series every 7 days from its own day")


def _integer_step(frame: pd.DataFrame, source: str) -> int:
    diffs = frame.groupby(ID, sort=False)[TIME].diff().dropna()
    if diffs.empty:
        return 1
    return int(diffs.mode().iloc[0])


def _grid_positions(times: pd.Series, freq: str | None, step: int, ids: pd.Series) -> np.ndarray | None:
    """Each time's index on one regular grid shared by all series (`WEEKS`: on its own series'
    grid, from the series' first time), or None if some are off it."""
    if freq == WEEKS:
        week = pd.Timedelta(days=7)
        since = times - times.groupby(ids.to_numpy(), sort=False).transform("min")
        return (since // week).to_numpy(dtype="int64") if (since % week == pd.Timedelta(0)).all() else None
    if freq is None:
        origin = int(times.min())
        offsets = times.to_numpy(dtype="int64") - origin
        return offsets // step if (offsets % step == 0).all() else None
    if _grid_size(times.min(), times.max(), freq, step) > GRID_LIMIT:
        return None
    grid = pd.date_range(times.min(), times.max(), freq=freq)
    if len(grid) == 0:
        return None
    values = pd.DatetimeIndex(times)
    pos = grid.searchsorted(values)
    inside = pos < len(grid)
    if not inside.all() or not (grid[pos] == values).all():
        return None
    return pos.astype("int64")


GRID_LIMIT = 50_000_000  # times on one grid made at most; past it, positions are not computed, a series is refused


def _grid_size(start: Any, end: Any, freq: str | None, step: int) -> int:
    """How many times a grid of `freq` (None: integer steps of `step`) from `start` to `end`
    holds, counted without making it where the step is a fixed length (times a nanosecond apart
    over two days are 1.7e14 steps, whose grid would take a petabyte; so would steps 1 to 40 and
    then 10**13); 0 for calendar steps (months, weeks), whose grids are short.

    Example:
        >>> _grid_size(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02"), "h", 1), _grid_size(1, 41, None, 2)
        (25, 21)
    """
    if freq is None:
        return int(end - start) // step + 1
    offset = pd.tseries.frequencies.to_offset(freq)
    if not isinstance(offset, pd.offsets.Tick):
        return 0
    return int((end - start).value // offset.nanos) + 1


def _regularise(
    frame: pd.DataFrame, source: str, freq: str | None, step: int, fill: str, for_model: bool = False,
    hint: str = "",
) -> tuple[pd.DataFrame, int]:
    """Put every series on its full time grid, then fill missing values by the `fill` policy.
    `for_model`: the grid is a trained model's (a later file has no --freq to give). `KEEP`:
    the rows as read, less those whose value is empty."""
    if fill == KEEP:
        return frame[frame[TARGET].notna()], 0
    value_cols = [c for c in frame.columns if c not in (ID, TIME, "_line")]  # y, then covariates
    pos = _grid_positions(frame[TIME], freq, step, frame[ID])
    if pos is not None:
        spans = pd.DataFrame({ID: frame[ID], "p": pos}).groupby(ID, sort=False)["p"].agg(["min", "max", "size"])
        gappy = set(spans.index[(spans["max"] - spans["min"] + 1) != spans["size"]])
    else:
        gappy = set(frame[ID].unique())
    gappy |= set(frame.loc[frame[value_cols].isna().any(axis=1), ID].unique())
    if not gappy:
        return frame, 0
    keep = frame[~frame[ID].isin(gappy)]
    pieces = [keep]
    total_filled = 0
    for uid, group in frame[frame[ID].isin(gappy)].groupby(ID, sort=False):
        times = group[TIME]
        most = 10 * len(group) + 100  # steps a series may spread over
        size = _grid_size(times.iloc[0], times.iloc[-1], freq, step)
        if size > max(most, GRID_LIMIT):  # a grid too large to make, refused before it is made
            _mostly_gaps(source, uid, len(group), size, freq or step, for_model)
        if freq is not None:
            grid = pd.date_range(times.iloc[0], times.iloc[-1], freq=freq)
            if len(grid) == 0 or grid[0] != times.iloc[0]:
                grid = pd.DatetimeIndex([])
        else:
            grid = pd.Index(np.arange(times.iloc[0], times.iloc[-1] + 1, step, dtype="int64"))
        off = ~pd.Index(times).isin(grid)
        if off.any():
            row = group.iloc[int(np.flatnonzero(off)[0])]
            what = f"frequency {freq}" if freq is not None else f"step {step}"
            raise DataError(
                f"{source}, {place(source, int(row['_line']))}: series {uid!r} has the timestamp "
                f"{time_text(row[TIME])}, "
                f"which is off the regular {what} grid (irregular or mixed frequencies). "
                + ("The model was trained on that grid: resample the series to it, or train a model on this data."
                   if for_model else "Resample the series to one frequency, or give the right one with --freq.") + hint
            )
        if len(grid) > most:  # spread over more steps than it may: mostly gaps
            _mostly_gaps(source, uid, len(group), len(grid), freq or step, for_model)
        lines = pd.Series(group["_line"].to_numpy(), index=pd.Index(times)).reindex(grid)
        piece = {ID: uid, TIME: grid}
        for col in value_cols:
            values = pd.Series(group[col].to_numpy(), index=pd.Index(times)).reindex(grid)
            missing = values.isna()
            n_missing = int(missing.sum())
            what = "" if col == TARGET else f" in column {col!r}"
            if n_missing == len(values):
                raise DataError(
                    f"{source}: series {uid!r} has no values{what} at all; expected numbers. "
                    "Fill it in or remove its rows."
                )
            if n_missing:
                if fill == "none":
                    where = values.index[missing.to_numpy()][0]
                    raise DataError(
                        f"{source}: series {uid!r} has {n_missing} missing value(s){what} or missing "
                        f"timestamp(s), the first at {where}. "
                        + ("The model was trained with --fill none, which refuses gaps in later files too: fill "
                           "them, or train with --fill interpolate, ffill or zero." if for_model else
                           "Fill them, or choose --fill interpolate, ffill or zero.")
                    )
                values = _fill(values, fill)
            total_filled += n_missing
            piece[col] = values.to_numpy(dtype="float64")
            if col == TARGET:
                piece[MADE] = missing.to_numpy()
        piece["_line"] = lines.to_numpy()
        pieces.append(pd.DataFrame(piece))
    out = pd.concat(pieces, ignore_index=True).sort_values([ID, TIME], kind="stable")
    return out.reset_index(drop=True), total_filled


def on_grid(data: Dataset, fill: str = "interpolate") -> pd.DataFrame:
    """The frame of `data` read with `fill=KEEP` (the values as read, no row added) put on each
    series' full time grid and filled by `fill`, as `load_series` reads the file with that fill:
    for `evaluate`, whose actuals are scored as read and scale MASE by the history as `train`
    reads it, without reading the file twice.

    Raises:
        DataError: the grid cannot be made (no frequency was found, a time lies off the grid, a
            series is mostly gaps); as the file is not read again, the message names no line.

    Example:
        >>> kept = Dataset(frame=pd.DataFrame({ID: ["a", "a"], TIME: [1, 4], TARGET: [1.0, 4.0]}),
        ...                columns=None, time_kind="integer", freq=None, step=1, season=1, source="x.csv",
        ...                filled=0, sha256="")
        >>> on_grid(kept)[TARGET].tolist()
        [1.0, 2.0, 3.0, 4.0]
    """
    if data.time_kind == "datetime" and data.freq is None:
        raise DataError(f"{data.source}: no frequency was found in its times, so its gaps cannot be filled.")
    frame, _ = _regularise(data.frame.assign(_line=0), data.source, data.freq, data.step, fill)
    return frame.drop(columns=["_line", MADE], errors="ignore")


def _mostly_gaps(source: str, uid: Any, rows: int, steps: int, freq: str | int, for_model: bool) -> None:
    """Refuse a series whose rows are spread over more than ten times as many steps of the grid."""
    raise DataError(
        f"{source}: series {uid!r} has {rows} rows spread over {steps} steps of {freq}; it is mostly gaps. "
        + ("The model was trained on that step: resample the series to it, or train a model on this data."
           if for_model else "Check --freq, or resample the series.")
    )


def _fill(values: pd.Series, fill: str) -> pd.Series:
    if fill == "zero":
        return values.fillna(0.0)
    if fill == "ffill":
        return values.ffill().bfill()
    positions = pd.Series(values.to_numpy(), index=np.arange(len(values)))
    return pd.Series(
        positions.interpolate(method="linear", limit_direction="both").to_numpy(), index=values.index
    )


def season_hint(dataset: Dataset, named: tuple[int, ...] = ()) -> str | None:
    """What to tell a user whose time column is integer steps (no frequency, so no season unless
    `--season` gives one) when the values repeat at a cycle (`suggest_seasons`) that the seasons
    `named` by `--season` leave out (a week beside the day of `--season 24`; a named multiple of a
    cycle repeats it too): the flag that would use it. None for dates, or when no cycle shows
    that `named` lacks.

    Example:
        >>> season_hint(load_series("sample_data/airpassengers.csv")) is None  # dates: season 12
        True
    """
    if dataset.time_kind != "integer":
        return None
    seasons, strength = suggest_seasons(list(series_arrays(dataset.frame).values()))
    named = tuple(s for s in named if s > 1)
    missing = [s for s in seasons if not any(n % s == 0 for n in named)]  # a named multiple repeats it too
    if not missing:
        return None
    told = f"; --season {','.join(map(str, named))} leaves out {' and '.join(map(str, missing))}" if named else ""
    return (f"{dataset.source}: the time column is integer steps, which carry no season unless --season gives "
            f"one; the values repeat every {' and '.join(map(str, seasons))} steps (autocorrelation of their "
            f"changes {strength:.2f}){told}. If that is their cycle, train with "
            f"--season {','.join(map(str, sorted({*seasons, *named})))}.")


def series_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each series' values in time order, keyed by id (ids in sorted order)."""
    if not frame[ID].is_monotonic_increasing:  # `load_series` leaves frames sorted; the stable sort keeps time order
        frame = frame.sort_values(ID, kind="stable")
    ids, values = frame[ID].to_numpy(), frame[TARGET].to_numpy(dtype="float64")
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.array([], dtype="int64")
    return {str(ids[a]): values[a:b] for a, b in zip(starts, [*starts[1:], len(ids)])}
