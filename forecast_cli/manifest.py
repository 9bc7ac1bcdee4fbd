"""The model directory's schema: `manifest.json` declared once, as dataclasses, and checked from that declaration.

Each dataclass below is one JSON object of the manifest; its fields are the object's keys and
their type hints are what `read_manifest` accepts. `to_json` writes the same fields, so the writer,
the reader and the checks cannot drift apart. A field's `metadata["check"]` adds a rule the type
cannot say (a range, a digest's length), and `_check_across` the rules that join two fields.
Nothing in a model directory is executed: the manifest is JSON, the network a safe-mode Keras or
an ONNX file, checked against the digests recorded here before it is opened.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import types
import typing
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from forecast_cli.baselines import ETS_KEYS, MISSING, THETA_KEY
from forecast_cli.config import TrainConfig, omitted
from forecast_cli.data import MANIFEST, Columns
from forecast_cli.errors import ModelDirError, UsageError
from forecast_cli.timegrid import WEEKS, is_weekly
from forecast_cli.windows import Scaling

# The newest model format this reads. Format 2 adds a series' `unit`, written only by models
# that have one (a series of values below 1 on a log scale): a release before it would read
# such a model without the unit and forecast nonsense, so it must refuse it. Format 3 adds the
# config's `min_history`, written only by models that pad series shorter than the lookback: a
# release before it would refuse the key as unknown and call the manifest damaged, where it
# should say to upgrade. Others stay 1.
FORMAT_VERSION = 3
KERAS_FILE = "model.keras"
ONNX_FILE = "model.onnx"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
RETRAIN = "Retrain the model with `forecast train`."


def _field(check: Callable[[Any], str | None] | None = None, omit: Any = dataclasses.MISSING, **kwargs) -> Any:
    """A schema field: `check` returns what is wrong with a value (None when it is fine); a value
    equal to `omit` is left out of the JSON (and is the default when the key is absent)."""
    if omit is not dataclasses.MISSING:
        kwargs.setdefault("default", omit)
    return dataclasses.field(metadata={"check": check, "omit": omit}, **kwargs)


def _finite(value: float) -> str | None:
    return None if math.isfinite(value) else "must be a finite number"


def _positive(value: float) -> str | None:
    return None if math.isfinite(value) and value > 0 else "must be finite and above 0"


def _at_least_one(value: int) -> str | None:
    return None if value >= 1 else "must be at least 1"


def _digests(files: dict[str, str]) -> str | None:
    ok = all(len(v) == 64 and all(c in "0123456789abcdef" for c in v) for v in files.values())
    return None if ok else "must map file names to SHA-256 digests"


def _ets(params: Any) -> str | None:
    if params is None or params == MISSING:
        return None
    keys = sorted(params)
    ok = keys in (sorted(ETS_KEYS), sorted((*ETS_KEYS, THETA_KEY))) and all(0.0 <= params[k] <= 1.0 for k in keys)
    return None if ok else f"must be null or {', '.join(ETS_KEYS)} (and {THETA_KEY}), each from 0 to 1"


@dataclasses.dataclass(frozen=True)
class ScalingEntry:
    """A mean and scale fitted on training data (a covariate column's, or inside `SeriesInfo`)."""

    mean: float = _field(_finite)
    scale: float = _field(_positive)

    def scaling(self, log: bool = False) -> Scaling:
        return Scaling(self.mean, self.scale, log)


@dataclasses.dataclass(frozen=True)
class SeriesInfo:
    """What a model keeps of one training series: its scaling statistics, where it ended, and the
    smoothing parameters of its statistical partner (ETS's alpha, beta, gamma, phi; with
    `--baseline ets+theta`, Theta's `theta` too): null where ETS
    does not apply (seasonal naive is used), absent (`MISSING`) where none were fitted (fitted at
    predict)."""

    mean: float = _field(_finite)
    scale: float = _field(_positive)
    last: str | int = _field()  # an ISO timestamp, or an integer step
    unit: float = _field(_positive, omit=1.0)  # on a log scale, what the values are counted in (`windows.log_unit`)
    ets: dict[str, float] | None = _field(_ets, omit=MISSING)


def format_of(series: dict[str, SeriesInfo], config: TrainConfig) -> int:
    """The oldest format version that holds these series and settings (1, which earlier
    releases read, unless a series has a unit or the model pads short series)."""
    if config.min_history is not None:
        return 3
    return 2 if any(info.unit != 1.0 for info in series.values()) else 1


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """The training file: its name, the SHA-256 of its bytes, how many series it held, and the
    `--as-of` it was read up to (None: all of it)."""

    source: str
    sha256: str
    series: int
    as_of: str | None = _field(omit=None)


@dataclasses.dataclass(frozen=True)
class Manifest:
    """`manifest.json`: everything needed to forecast with the network, and how it was made."""

    format_version: int
    created_at: str
    versions: dict[str, str]
    config: TrainConfig
    columns: Columns
    time_kind: typing.Literal["datetime", "integer"]
    freq: str | None
    step: int = _field(_at_least_one)
    season: int = _field(_at_least_one)
    files: dict[str, str] = _field(_digests)  # each model file's SHA-256
    series: dict[str, SeriesInfo] = _field()
    data: DataInfo | None = _field(omit=None)
    onnx: dict[str, Any] | None = _field(omit=None)  # the export's outcome: file (or null), checks
    covariates: dict[str, ScalingEntry] = _field(default_factory=dict)  # column: z-score

    @property
    def log(self) -> bool:
        return self.config.transform == "log"

    @property
    def grid_freq(self) -> str | None:
        """The frequency later files are read and forecast on: the model's, but any weekday for a
        weekly model (`WEEKS`): a shop that reports on a Monday beside a model of Sunday shops is
        forecast on its own day, and a nightly file is not refused for it."""
        return WEEKS if is_weekly(self.freq) else self.freq

    def scaling(self, uid: str) -> Scaling | None:
        """The training scaling of series `uid`, or None for a series the model never saw."""
        info = self.series.get(uid)
        return None if info is None else Scaling(info.mean, info.scale, self.log, info.unit)

    def covariate_scalings(self) -> list[Scaling]:
        """One scaling per covariate column, in the order of the network's features."""
        return [self.covariates[name].scaling() for name in self.config.covariates]

    def ets_params(self) -> dict[str, dict[str, float] | None | str]:
        return {uid: info.ets for uid, info in self.series.items()}

    def to_json(self) -> str:
        return json.dumps(_dump(self), indent=1) + "\n"

    @property
    def identity(self) -> str:
        """What tells this model from another written to the same folder: when it was written
        and the digests of its files."""
        return hashlib.sha256(json.dumps([self.created_at, self.files], sort_keys=True).encode()).hexdigest()


# How a model saved before a setting existed behaves: before --blend, the LSTM alone; before
# --baseline, blended with seasonal naive; before covariates, none; before --refit-start, a new
# network refitted; before --patch, step by step; before --refit-average, the refit's last
# weights. (A key absent from a config takes this value; absent from any other object, the
# field's default.)
ABSENT_CONFIG = {"blend": 1.0, "baseline": "snaive", "past_covariates": (), "refit_start": "new", "patch": 1,
                 "refit_average": 0.0}
STRICT = (TrainConfig,)  # objects whose unknown keys are refused, so that a typo cannot hide


# ---------------------------------------------------------------- the generic reader and writer


def _dump(value: Any) -> Any:
    """A schema object as JSON-ready values (tuples as lists; fields equal to their `omit` left out)."""
    if dataclasses.is_dataclass(value):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if omitted(f, item):
                continue
            out[f.name] = _dump(item)
        return out
    if isinstance(value, dict):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    return value


class _Invalid(Exception):
    """A value that does not fit its declared type (caught and reported with where it was)."""


def _describe(hint: Any) -> str:
    if hint is type(None):
        return "null"
    if isinstance(hint, type):
        return {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
                "dict": "an object"}.get(hint.__name__, "an object")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin in (list, tuple):
        return "a list"
    return "an object"


@functools.cache
def _kind(hint: Any) -> tuple[Any, tuple[Any, ...], bool]:
    """A type hint's origin, arguments and whether it is a dataclass, worked out once per hint:
    a manifest checks the same few hints for every series (a third of the time of reading one of
    20,000 series went to asking typing again)."""
    return typing.get_origin(hint), typing.get_args(hint), dataclasses.is_dataclass(hint)


def _load(hint: Any, value: Any, where: str) -> Any:
    """`value` read as `hint` declares it, or ModelDirError naming `where`."""
    if hint is Any:
        return value
    origin, args, is_class = _kind(hint)
    if is_class:
        return _load_object(hint, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _load(arg, value, where)
            except _Invalid:
                continue
        raise _Invalid(f"{where} should be {_describe(hint)}, got {value!r:.60}")
    if origin is typing.Literal:
        if value in args:
            return value
        raise _Invalid(f"{where} must be {_describe(hint)}, got {value!r:.60}")
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid(f"{where} should be an object, got {type(value).__name__}")
        return {str(k): _load(args[1], v, f"{where}[{k!r}]") for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise _Invalid(f"{where} should be a list, got {type(value).__name__}")
        items = [_load(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(hint, type) and isinstance(value, hint) and (hint is bool or not isinstance(value, bool)):
        return value
    raise _Invalid(f"{where} should be {_describe(hint)}, got {type(value).__name__} ({value!r:.60})")


@functools.cache
def _schema(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field]]:
    """A dataclass's field types and fields (read once per class: a manifest holds one entry per series)."""
    return typing.get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls)}


def _load_object(cls: type, doc: Any, where: str) -> Any:
    """A dataclass from a JSON object: every declared field checked, absent ones defaulted."""
    if not isinstance(doc, dict):
        raise _Invalid(f"{where} should be an object, got {type(doc).__name__}")
    hints, fields = _schema(cls)
    if cls in STRICT:
        unknown = sorted(set(doc) - set(fields))
        if unknown:
            raise _Invalid(f"{where} has unknown keys: {', '.join(unknown)}")
    values = {}
    for name, f in fields.items():
        at = f"{where}.{name}"
        if name not in doc:
            if cls is TrainConfig and name in ABSENT_CONFIG:
                values[name] = ABSENT_CONFIG[name]
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _Invalid(f"{at}: required key is missing")
            continue
        value = _load(hints[name], doc[name], at)
        check = f.metadata.get("check")
        problem = check(value) if check is not None else None
        if problem:
            raise _Invalid(f"{at} {problem}, got {value!r:.60}")
        values[name] = value
    try:
        return cls(**values)
    except UsageError as exc:  # TrainConfig's own checks of ranges and choices
        raise _Invalid(f"{where} is not valid ({exc})") from None


def _check_across(manifest: Manifest, where: str) -> None:
    """The rules that join several fields."""
    cfg = manifest.config
    if (cfg.horizon is None or cfg.lookback is None or cfg.season is None or cfg.batch_size is None
            or "auto" in (cfg.transform, cfg.scaling, cfg.loss)):
        raise _Invalid(f"{where}: config lacks horizon, lookback, season, batch_size or transform")
    if manifest.time_kind == "datetime":
        if manifest.freq is None:
            raise _Invalid(f"{where}: a datetime model needs a freq")
        try:
            pd.tseries.frequencies.to_offset(manifest.freq)
        except ValueError:
            raise _Invalid(f"{where}: freq {manifest.freq!r} is not a pandas frequency") from None
    for uid, info in manifest.series.items():
        if manifest.time_kind == "integer" and not isinstance(info.last, int):
            raise _Invalid(f"{where} series {uid!r}: last should be an integer step, got {info.last!r:.40}")
        if manifest.time_kind == "datetime":
            try:
                pd.Timestamp(info.last)
            except (ValueError, TypeError):
                raise _Invalid(f"{where} series {uid!r}: last {info.last!r:.40} is not a timestamp") from None
    absent = [name for name in cfg.covariates if name not in manifest.covariates]
    if absent:
        raise _Invalid(f"{where} covariates {absent[0]!r}: the scaling of this covariate is missing")


def config_from_json(doc: Any, where: str = "config") -> TrainConfig:
    """A training config as the manifest stores it (keys a release before the setting existed did
    not write take `ABSENT_CONFIG`'s values).

    Example:
        >>> config_from_json({"horizon": 4, "blend": 0.5}).baseline  # a model from before --baseline
        'snaive'
    """
    try:
        return _load_object(TrainConfig, doc, where)
    except _Invalid as exc:
        raise ModelDirError(f"{exc}. {RETRAIN}") from None


def parse_manifest(doc: Any, where: str) -> Manifest:
    """Check a manifest's types, ranges and required keys against the schema, before anything uses it.

    Raises:
        ModelDirError: for any departure from the schema (the message names the key). A failure
            that is not one (a bug in forecast itself) keeps its traceback.
    """
    if not isinstance(doc, dict):
        raise ModelDirError(f"{where}: expected a JSON object, got {type(doc).__name__}. {RETRAIN}")
    version = doc.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ModelDirError(
            f"{where}: model format version {version} is newer than this forecast understands "
            f"(up to {FORMAT_VERSION}). Upgrade forecast (pip install -U forecast-cli) or retrain."
        )
    try:
        manifest = _load_object(Manifest, doc, "manifest")
        if manifest.format_version < 1:
            raise _Invalid(f"manifest.format_version {manifest.format_version} is not valid")
        _check_across(manifest, "manifest")
    except _Invalid as exc:
        raise ModelDirError(f"{where}: {exc}. The manifest is damaged or not from forecast; {RETRAIN[0].lower()}{RETRAIN[1:]}") from None
    if manifest.config.past_covariates is None:  # written as null: no past covariates
        manifest = dataclasses.replace(manifest, config=dataclasses.replace(manifest.config, past_covariates=()))
    return manifest


def read_manifest(model_dir: str | Path) -> Manifest:
    """Check that `model_dir` looks like a model directory and return its validated manifest.

    Example:
        >>> read_manifest("model").config.horizon
        12
    """
    root = Path(model_dir)
    if not root.exists():
        raise ModelDirError(f"{root}: no such model directory. Train one with `forecast train DATA.csv --out {root}`.")
    if not root.is_dir():
        raise ModelDirError(f"{root} is a file; expected a model directory written by `forecast train`.")
    path = root / MANIFEST
    if not path.is_file():
        raise ModelDirError(
            f"{root} has no {MANIFEST}; it is not a model directory (or training did not finish). "
            "Train one with `forecast train`."
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelDirError(f"{path} is not valid JSON ({exc}). {RETRAIN}") from None
    return parse_manifest(doc, str(path))


def file_digests(folder: Path, names: list[str]) -> dict[str, str]:
    """SHA-256 of each named file in `folder` (recorded in the manifest, checked on load)."""
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names if (folder / name).is_file()}


def verified_bytes(model_dir: Path, manifest: Manifest, name: str) -> bytes:
    """A model file's bytes, read once and matched against the manifest's digest (else
    ModelDirError): what is loaded is what was checked, even if the file is replaced after."""
    path = model_dir / name
    expected = manifest.files.get(name)
    if expected is None:
        raise ModelDirError(f"{model_dir} has no {name} recorded in its manifest. {RETRAIN}")
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise ModelDirError(f"{path} is missing, though the manifest records it: the model directory is incomplete. "
                            f"{RETRAIN}") from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise ModelDirError(
            f"{path} does not match the digest in the manifest: it is truncated, damaged or was replaced. {RETRAIN}"
        )
    return data
