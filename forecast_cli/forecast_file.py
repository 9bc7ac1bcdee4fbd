"""The forecast file: its columns (unique_id, ds, yhat, and q0.1, ... for quantiles), writing it and reading it back."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np
import pandas as pd

from forecast_cli.blend import point_forecast
from forecast_cli.config import TrainConfig
from forecast_cli.cells import PARQUET_SUFFIX, as_text, is_parquet
from forecast_cli.data import ID, TIME, Columns, join_ids, parquet_parts, read_table, source_name
from forecast_cli.errors import DataError


def quantile_column(level: float) -> str:
    """The forecast file's column for one quantile level.

    Example:
        >>> quantile_column(0.1), quantile_column(0.975)
        ('q0.1', 'q0.975')
    """
    return f"q{level:g}"


QUANTILE_COLUMN = re.compile(r"^q(0?\.\d+)$")


def quantile_levels(frame: pd.DataFrame) -> dict[str, float]:
    """The quantile columns of a forecast frame (q0.1, q0.5, ...) and their levels, increasing."""
    found = {c: float(m.group(1)) for c in frame.columns if (m := QUANTILE_COLUMN.match(str(c)))}
    return dict(sorted(found.items(), key=lambda item: item[1]))


def forecast_frame(ids: list[str], times: np.ndarray, forecasts: np.ndarray, config: TrainConfig) -> pd.DataFrame:
    """The forecast file's rows: unique_id, ds, yhat, and one column per quantile (q0.1, ...); as
    many steps a series as `forecasts` holds (the model's horizon, or the first of them)."""
    columns = {ID: np.repeat(ids, forecasts.shape[1]), TIME: times,
               "yhat": point_forecast(forecasts, config.quantiles).reshape(-1)}
    for k, level in enumerate(config.quantiles):
        columns[quantile_column(level)] = forecasts[..., k].reshape(-1)
    return pd.DataFrame(columns)


ROW_GROUP_ROWS = 1 << 20  # rows per Parquet row group, however the table arrives (in one piece or many)


def date_detail(times: pd.Series) -> int:
    """How much of a datetime column a CSV must show: 0 dates only (every time is midnight), 1
    to the second, 2 to the microsecond, 3 zoned times (written in full by pandas); 0 for integer
    steps. The most detailed of a file's pieces decides its format, so a file written in pieces
    reads as if written whole."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        return 3
    if not pd.api.types.is_datetime64_dtype(times):
        return 0
    ns = times.to_numpy(dtype="datetime64[ns]").astype("int64")
    if (ns % 1_000_000_000 != 0).any():
        return 2
    return 0 if (ns % 86_400_000_000_000 == 0).all() else 1


CSV_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", None)


# A CSV output's compression by its name's ending (`forecast.csv.gz`), as the inputs are read:
# gzip with no time or name in its header, so that the same forecast gives the same bytes (the
# file is written under a temporary name first); bzip2 and xz store neither.
COMPRESSORS: dict[str, Callable[[BinaryIO], BinaryIO]] = {
    "gz": lambda fh: gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0),
    "bz2": lambda fh: bz2.BZ2File(fh, mode="wb"),
    "xz": lambda fh: lzma.LZMAFile(fh, mode="wb"),
}


class CsvSink:
    """The forecast CSV written piece by piece: one header, fixed float formatting (`%.8g`) so
    equal forecasts give equal bytes, and dates shown to the detail `date_detail` found in the
    whole table (given up front), so the pieces join into the file one write would give."""

    def __init__(self, fh: BinaryIO, detail: int, compression: str | None = None) -> None:
        self.zipped = COMPRESSORS[compression](fh) if compression else None
        self.fh = self.zipped or fh
        self.date_format, self.header = CSV_DATE_FORMATS[detail], True

    def write(self, table: Any) -> None:
        frame = table if isinstance(table, pd.DataFrame) else table.to_pandas()
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=self.header, float_format="%.8g", lineterminator="\n",
                     date_format=self.date_format)
        self.header = False
        self.fh.write(buffer.getvalue().encode("utf-8"))

    def close(self) -> None:
        if self.zipped is not None:
            self.zipped.close()  # the compressed stream's end; the file itself stays open for its writer


def source_types(source: str | Path | None, columns: Columns, target: str | Path | None) -> dict[str, Any]:
    """The Arrow types of Parquet data `source` that a Parquet output `target` keeps, by the
    output's column: the time column's (`columns.time_col`) where it holds dates (date32),
    timestamps of any unit and zone, or integer steps; and a single id column's
    (`columns.id_col`) where it holds whole numbers (store numbers). A table of `ds date, store
    bigint` then takes the forecasts as they are, with no cast before a join or an append; a type
    that the parts of a folder give differently (int32 in one, int64 in another) is not kept. Empty
    for a CSV (in or out), standard input, a time read from the folders' names, or text; and for
    several id columns (`with_keys` carries those, typed) or a wide file's columns.

    Example:
        >>> source_types("data/", Columns("month", "passengers", None, ()), "out.parquet")
        {'ds': TimestampType(timestamp[...])}
        >>> source_types("data/", Columns("month", "passengers", None, ()), "out.csv")
        {}
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if target is None or not str(target).lower().endswith(PARQUET_SUFFIX):
        return {}
    if source is None or str(source) == "-" or not is_parquet(source):
        return {}
    parts = parquet_parts(source)
    if not parts:
        return {}
    # a column's type where every part gives it alike: a cluster's workers each see one part
    # (`cluster.common_types`), and the forecast is the same there as here
    schemas = [{str(field.name).strip(): field.type for field in pq.read_schema(part)} for part in parts]
    schema = {name: kind for name, kind in schemas[0].items() if all(s.get(name) == kind for s in schemas)}
    found = {}
    time = schema.get(columns.time_col)
    if time is not None and (pa.types.is_date(time) or pa.types.is_timestamp(time) or pa.types.is_integer(time)):
        found[TIME] = time
    single = columns.id_col is not None and "," not in columns.id_col and not columns.series
    uid = schema.get(columns.id_col) if single else None
    if uid is not None and pa.types.is_integer(uid):
        found[ID] = uid
    return found


def _cast_unchanged(table: Any, name: str, kind: Any) -> Any | None:
    """`table` with its column `name` cast to `kind`, or None where the cast changes a value (it
    is read back and compared) or cannot be made."""
    import pyarrow as pa

    column = table.column(name)
    if column.type == kind:
        return table
    try:
        cast = column.cast(kind)
        same = cast.cast(column.type).equals(column)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table.set_column(table.schema.get_field_index(name), name, cast) if same else None


def fits_type(table: Any, time_type: Any) -> Any | None:
    """`table` with its time column cast to `time_type`, or None where that would change a time
    (a time of day in a date, a fraction of a second in seconds, a step past int32, a date as a
    count): the forecast times are read back from the cast and compared. Times with a zone are
    forecast in UTC and keep their instants in the input's zone; midnights with a zone, read as
    the dates (`timecells._with_offsets`), are forecast as dates and stay so, as the CSV shows them
    and `evaluate` reads them."""
    import pyarrow as pa

    column = table.column(TIME)
    if column.type == time_type:
        return table
    if pa.types.is_integer(column.type) != pa.types.is_integer(time_type):
        return None  # Unix times read as dates: their forecasts are dates, not counts in another unit
    if pa.types.is_timestamp(time_type) and (time_type.tz is None) != (column.type.tz is None):
        return None
    return _cast_unchanged(table, TIME, time_type)


def fits_id_type(table: Any, id_type: Any) -> Any | None:
    """`table` with its id column (text, as every table of the tool holds ids) cast to the whole
    numbers `id_type`, or None where that would change an id (`07` is not 7, `1e3` not 1000).

    Example:
        >>> import pyarrow as pa
        >>> fits_id_type(pa.table({"unique_id": ["7", "12"]}), pa.int32()).column("unique_id").to_pylist()
        [7, 12]
        >>> fits_id_type(pa.table({"unique_id": ["07"]}), pa.int64()) is None
        True
    """
    cast = _cast_unchanged(table, ID, id_type)
    # pandas' own note of the columns' types (the schema's metadata) still says text, and pandas
    # would read the numbers back as text by it: without it the Arrow types decide, alike for the rest
    return None if cast is None else cast.replace_schema_metadata(None)


FITS = {TIME: fits_type, ID: fits_id_type}  # how a table is cast to a source's type, by column (`source_types`)


def fitted(table: Any, types: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """`table` cast to every type of `types` (`source_types`) that it fits, and those types."""
    kept = {}
    for column, kind in types.items():
        cast = FITS[column](table, kind)
        if cast is not None:
            table, kept[column] = cast, kind
    return table, kept


class ParquetSink:
    """The forecast Parquet file written piece by piece: row groups of exactly `ROW_GROUP_ROWS`
    rows (the last one shorter) whatever the pieces, each from contiguous arrays, so the pieces
    give the bytes one write of the whole table would (Parquet stores no write time). With
    `types` (`source_types`) the times and ids keep the input's types where every value fits
    them; else the times are timestamps (or integers), as pandas gives them, and the ids text."""

    def __init__(self, fh: BinaryIO, types: dict[str, Any] | None = None) -> None:
        self.fh, self.writer, self.pending, self.rows = fh, None, [], 0
        self.types = types or {}
        self.kept: dict[str, Any] | None = None  # the types the first piece fitted

    def write(self, table: Any) -> None:
        import pyarrow as pa

        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table, preserve_index=False)
        if self.types:
            cast, kept = fitted(table, self.types if self.kept is None else self.kept)
            if self.kept is None:
                self.kept = kept
            elif kept != self.kept:  # pieces of one forecast share its time grid and the input's ids: a bug
                raise AssertionError(f"a later piece of the forecast does not fit {self.kept}")
            table = cast
        self.pending.append(table)
        self.rows += table.num_rows
        while self.rows >= ROW_GROUP_ROWS:
            self._flush(ROW_GROUP_ROWS)

    def _flush(self, rows: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.concat_tables(self.pending)
        head, rest = table.slice(0, rows).combine_chunks(), table.slice(rows)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.fh, head.schema)
        self.writer.write_table(head, row_group_size=ROW_GROUP_ROWS)
        self.pending, self.rows = [rest], rest.num_rows

    def close(self) -> None:
        if self.rows or self.writer is None:
            self._flush(self.rows)
        self.writer.close()


def table_sink(fh: BinaryIO, target: str | Path, detail: int,
               types: dict[str, Any] | None = None) -> CsvSink | ParquetSink:
    """The sink writing a result table to `fh` as the file `target` names it: Parquet for a
    `.parquet` path (times and ids as `types` where they fit them, see `ParquetSink`), else CSV with
    dates to `detail` (see `date_detail`), compressed as its ending says (`COMPRESSORS`)."""
    name = str(target).lower()
    if name.endswith(PARQUET_SUFFIX):
        return ParquetSink(fh, types)
    return CsvSink(fh, detail, next((c for c in COMPRESSORS if name.endswith(f".{c}")), None))


def encode_table(frame: pd.DataFrame, target: str | Path, types: dict[str, Any] | None = None) -> bytes:
    """A result table (forecasts, detections) as the bytes of the file `target` names (see
    `table_sink`): Parquet keeps full float64 precision and the times and ids as `types` where
    they fit them (else timestamps and text), no index."""
    buffer = io.BytesIO()
    sink = table_sink(buffer, target, date_detail(frame[TIME]), types)
    sink.write(frame)
    sink.close()
    return buffer.getvalue()


def forecasts_to_csv(frame: pd.DataFrame) -> str:
    """The forecast file's text (see `CsvSink`), for stdout."""
    buffer = io.BytesIO()
    CsvSink(buffer, date_detail(frame[TIME])).write(frame)
    return buffer.getvalue().decode("utf-8")


def read_forecasts(path: str | Path) -> pd.DataFrame:
    """A forecast file as `predict` wrote it: unique_id, ds (as text), yhat and any quantile columns.

    Example:
        >>> read_forecasts("forecast.csv").columns.tolist()
        ['unique_id', 'ds', 'yhat']
    """
    raw, _ = read_table(path)
    path = source_name(path)
    missing = sorted({ID, TIME, "yhat"} - set(raw.columns))
    if missing:
        raise DataError(
            f"{path} is not a forecast file: missing column(s) {', '.join(missing)}. Expected the "
            "unique_id, ds, yhat written by `forecast predict`."
        )
    numbers = ["yhat", *quantile_levels(raw)]
    frame = raw[[ID, TIME, *numbers]].copy()
    for column in numbers:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
        # predict never writes an infinity: one (a forecast edited by hand, or another tool's) would
        # make every score of its series inf or NaN, so it is refused as an empty cell is.
        bad = ~np.isfinite(frame[column].to_numpy(dtype="float64", na_value=np.nan))
        if bad.any():
            line = int(np.flatnonzero(bad)[0])
            value = frame[column].iloc[line]
            what = "is not a number" if pd.isna(value) else f"is {value} (not a finite number)"
            raise DataError(
                f"{path}, line {line + 2}: {column} {what}. Expected the file as `forecast predict` wrote it."
            )
    frame[ID] = frame[ID].astype(str)
    frame[TIME] = as_text(frame[TIME])  # a Parquet file's timestamps, written as the CSV has them
    frame.attrs[ID_COLUMNS] = id_columns(raw)
    return frame


ID_COLUMNS = "id_columns"  # a forecast frame read back (`read_forecasts`): the id columns it carries (in `attrs`)


def id_columns(raw: pd.DataFrame) -> tuple[str, ...]:
    """The id columns a forecast file of a model with several carries after its unique_id
    (`data.with_keys`: `unique_id,store_nbr,family,ds,...`), where their values joined give the
    unique_id (checked on the first rows); () for any other file.

    Example:
        >>> row = {"unique_id": ["1/BREAD"], "store": [1], "family": ["BREAD"], "ds": ["2024-01-01"]}
        >>> id_columns(pd.DataFrame(row)), id_columns(pd.DataFrame(row | {"unique_id": ["a"]}))
        (('store', 'family'), ())
    """
    names = list(raw.columns)
    between = names[names.index(ID) + 1:names.index(TIME)] if names.index(ID) < names.index(TIME) else []
    if len(between) < 2:
        return ()
    head = raw.head(1000)
    joined = join_ids(head[between].astype(str).apply(lambda col: col.str.strip()), between)
    return tuple(between) if (joined == head[ID].astype(str)).all() else ()
