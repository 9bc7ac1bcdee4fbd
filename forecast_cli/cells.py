"""What a cell of an input table holds, and where its reader finds it: a CSV line or a Parquet row."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd


MISSING_MARKERS = ("", "NA", "NaN", "nan", "NULL", "null")  # read as missing values; others must be numbers


PARQUET_SUFFIX = ".parquet"


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """Whether `path` names Parquet data: a `.parquet` file, a folder of `.parquet` parts, or a
    glob pattern (Parquet parts read as one table)."""
    text = str(path)
    p = Path(text)
    return (text.lower().endswith(PARQUET_SUFFIX) or glob.has_magic(text)
            or (p.is_dir() and (any(p.glob(f"*{PARQUET_SUFFIX}")) or any(partitioned_parts(p)))))


def partitioned_parts(root: Path) -> Iterator[Path]:
    """The Parquet parts of a folder partitioned by column values (the hive layout that Spark's
    `partitionBy`, pandas' `partition_cols`, pyarrow and Dask write: root/unique_id=a/part-0.parquet),
    each under folders all named column=value; hidden and bookkeeping entries (`.crc` files,
    `_SUCCESS`, `_temporary`) are not parts."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if partition(name)]  # nowhere else (a home folder given by mistake)
        if Path(folder) != root:
            yield from (Path(folder) / name for name in files
                        if name.endswith(PARQUET_SUFFIX) and not name.startswith((".", "_")))


def partition(name: str) -> tuple[str, str] | None:
    """A partition folder's column and value (`unique_id=a`, URL-quoted as pyarrow writes them),
    or None for a folder named otherwise."""
    from urllib.parse import unquote

    key, equals, value = name.partition("=")
    return (unquote(key), unquote(value)) if equals and key and not name.startswith((".", "_")) else None


def is_numeric(col: pd.Series) -> bool:
    """A column of float or integer numbers (not booleans, which pandas counts as numbers)."""
    return pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)


def is_naive_times(col: pd.Series) -> bool:
    """A column of timestamps without a time zone."""
    return pd.api.types.is_datetime64_dtype(col.dtype) and getattr(col.dtype, "tz", None) is None


def as_text(col: pd.Series) -> pd.Series:
    """A Parquet column as `read_csv` would give it: strings, NaN where empty."""
    missing = col.isna()
    if pd.api.types.is_float_dtype(col):
        text = col.map(repr)
    else:
        text = col.astype(str)
    return text.astype(object).where(~missing, np.nan)


def empty_cells_hint(empty: np.ndarray, name: str) -> str:
    """What the empty cells of a time or id column suggest: the first row alone (a row of units
    or notes under the header), or many, each group's first cell filled (a spreadsheet's merged
    or grouped cells, exported with only the first of each group written); else nothing.

    Example:
        >>> empty_cells_hint(np.array([True] + [False] * 9), "date")
        ' The first row under the header alone has none: a row of units or notes? Remove it.'
        >>> empty_cells_hint(np.array([False, True, True, False, True, True]), "shop")[:62]
        ' 4 of 6 rows have none, below rows that have: cells merged or '
        >>> empty_cells_hint(np.array([False] * 50 + [True] + [False] * 49), "date")
        ''
    """
    if empty[0] and empty.sum() == 1 and len(empty) > 2:
        return " The first row under the header alone has none: a row of units or notes? Remove it."
    if not empty[0] and empty.sum() >= 2 and empty.mean() >= 0.1:
        return (f" {int(empty.sum())} of {len(empty)} rows have none, below rows that have: cells merged or left empty "
                "below the first of each group, as a spreadsheet exports grouped rows? Fill each empty cell with "
                f"the one above first (pandas: df[{name!r}] = df[{name!r}].ffill()).")
    return ""


def all_numbers(col: pd.Series) -> bool:
    """Whether a column's cells are all numbers or empty (and not all empty)."""
    text, values = as_numbers(col)
    present = text.notna() & ~text.isin(MISSING_MARKERS)
    return bool(present.any() and values[present].notna().all())


def as_numbers(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A column's stripped text and its numbers (NaN where the text is not a number)."""
    text = col.astype("string").str.strip()
    return text, pd.to_numeric(text, errors="coerce")


def line_of(col: pd.Series, row: int) -> int:
    """The file line of a column's `row`-th cell: its label counts the file's data rows from 0
    (rows dropped by --as-of keep their labels), after the header line."""
    return int(col.index[row]) + 2


def place(source: str, *lines: int) -> str:
    """Where cells are, as the reader of `source` finds them: the lines of a CSV file (header on
    line 1), or the rows of Parquet data, which has no lines, counted from 1 over its parts in
    order.

    Example:
        >>> place("sales.csv", 7), place("sales.csv", 5, 50), place("sales.parquet", 7)
        ('line 7', 'lines 5, 50', 'row 6')
    """
    parquet = source not in ("", "stdin") and is_parquet(source)  # "": a trial parse's discarded message
    numbers = [line - 1 for line in lines] if parquet else list(lines)
    word = "row" if parquet else "line"
    return f"{word}{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}"
