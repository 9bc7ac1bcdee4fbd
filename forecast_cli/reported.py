"""`forecast detect --state FILE`: each value reported once, by the run that first checks it.

A nightly `detect` checks the last `--last` values of each series (by default the model's
horizon, two weeks of a daily series), so without a memory of its own an anomaly would be
reported, and mailed, night after night until it fell out of that window. The state file keeps
each series' latest value checked; a run with it reports only the values after that (the ones
that arrived since), and then moves the mark on. A series with no new value (a feed that
stopped) reports nothing; a series new to the file reports its last `--last` values, as on a
first run with no state file.

The file is JSON: `{"format": 1, "series": {"<id>": "<ISO time>" or <integer step>}}`, written
whole (temporary file, then rename) after the outputs, so a run that fails leaves it as it was
and the next run reports those values again. Series absent from a night's file keep their mark.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.data import ID, TIME, on_clock, time_text
from forecast_cli.errors import DataError

FORMAT = 1


@dataclasses.dataclass(frozen=True)
class Reported:
    """Each series' latest value checked by the earlier runs that kept this state file."""

    marks: dict[str, Any]  # id -> pd.Timestamp, or an int for integer steps

    @classmethod
    def read(cls, path: Path, time_kind: str) -> Reported:
        """The state at `path` (none yet: every value is new); `time_kind` the model's."""
        if not path.exists():
            return cls({})
        fix = f"Delete {path} to report every checked value once more, or give another --state file."
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"--state {path} is not JSON ({exc}); expected the file detect keeps. {fix}") from None
        except OSError as exc:
            raise DataError(f"cannot read --state {path}: {exc.strerror}. {fix}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("series"), dict):
            raise DataError(f"--state {path} is not a state file of this version of detect "
                            f"(expected {{\"format\": {FORMAT}, \"series\": {{...}}}}). {fix}")
        marks = {}
        for uid, mark in doc["series"].items():
            try:
                marks[uid] = _time(mark, time_kind)
            except (TypeError, ValueError):
                kind = "an integer step" if time_kind == "integer" else "a time"
                raise DataError(f"--state {path}: series {uid!r} has {mark!r:.40} where {kind} was expected: "
                                f"was it kept for a model of another kind of time? {fix}") from None
        return cls(marks)

    def new(self, table: pd.DataFrame) -> np.ndarray:
        """Which rows of a detection table (`detect.COLUMNS`) come after their series' mark."""
        if not self.marks:
            return np.ones(len(table), dtype=bool)
        # A series without a mark compares as NaT or NaN: never at or before it, so new.
        return ~(table[TIME] <= table[ID].map(self._on_clock(table))).to_numpy()

    def skipped(self, table: pd.DataFrame, freq: str | None, step: int) -> tuple[int, tuple[str, str, str] | None]:
        """The series whose values after their mark begin before the first one checked (runs
        missed while more than `--last` values arrived): their count, and one of them (id, its
        mark, the first time checked)."""
        first = table.groupby(ID, sort=True)[TIME].min()
        marks = first.index.to_series().map(self._on_clock(table))
        known = marks.notna()
        first, marks = first[known], marks[known]
        if not len(first):
            return 0, None
        after = marks + (pd.tseries.frequencies.to_offset(freq) if freq is not None else step)
        missed = first > after
        if not missed.any():
            return 0, None
        uid = missed.idxmax()
        return int(missed.sum()), (str(uid), time_text(marks[uid]), time_text(first[uid]))

    def _on_clock(self, table: pd.DataFrame) -> dict[str, Any]:
        """The marks as the table's times are written: in UTC where they carry a zone, else
        without one. A model reads a night's file whether or not its times carry an offset (times
        with one are read in UTC), so a state kept from a feed with offsets meets one without
        (and the other way round) when the feed changes; a time without a zone is taken as UTC."""
        if not pd.api.types.is_datetime64_any_dtype(table[TIME]):
            return self.marks
        zoned = table[TIME].dt.tz is not None
        return {uid: on_clock(mark, zoned) for uid, mark in self.marks.items()}

    def to_bytes(self, table: pd.DataFrame) -> bytes:
        """The state after this run: each checked series marked at its latest value checked, the
        others as they were."""
        marks = dict(self.marks)
        for uid, latest in table.groupby(ID, sort=True)[TIME].max().items():
            marks[str(uid)] = latest
        series = {uid: int(mark) if isinstance(mark, (int, np.integer)) else pd.Timestamp(mark).isoformat()
                  for uid, mark in sorted(marks.items())}
        return (json.dumps({"format": FORMAT, "series": series}, indent=1) + "\n").encode()


def _time(mark: Any, time_kind: str) -> Any:
    if time_kind == "integer":
        if not isinstance(mark, int) or isinstance(mark, bool):
            raise TypeError(mark)
        return mark
    if not isinstance(mark, str):
        raise TypeError(mark)
    return pd.Timestamp(mark)
