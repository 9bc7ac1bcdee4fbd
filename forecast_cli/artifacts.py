"""The model directory: manifest schema and validation, atomic writes of files and directories."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import errno
import hashlib
import json
import math
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from forecast_cli.baselines import ETS_KEYS
from forecast_cli.config import TrainConfig
from forecast_cli.data import Columns
from forecast_cli.errors import ModelDirError, OutputError
from forecast_cli.windows import Scaling

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KERAS_FILE = "model.keras"
ONNX_FILE = "model.onnx"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"


MISSING = "missing"  # no ETS parameters stored for a series


@dataclasses.dataclass(frozen=True)
class SeriesInfo:
    """What a model keeps of one training series: its scaling and where it ended."""

    scaling: Scaling
    last: Any  # pd.Timestamp or int
    length: int
    # The --baseline ets smoothing parameters fitted to it (alpha, beta, gamma, phi); None where ETS
    # does not apply (seasonal naive is used); MISSING where none were fitted (fitted at predict).
    ets: dict[str, float] | None | str = MISSING


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A validated `manifest.json`."""

    config: TrainConfig
    columns: Columns
    time_kind: str
    freq: str | None
    step: int
    season: int
    series: dict[str, SeriesInfo]
    onnx: dict[str, Any] | None
    files: dict[str, str]
    raw: dict[str, Any]
    covariates: dict[str, Scaling] = dataclasses.field(default_factory=dict)  # column: z-score


# ---------------------------------------------------------------- atomic writes


def _temp_name(final: Path, kind: str) -> Path:
    return final.with_name(f".{final.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def check_writable(final: Path) -> None:
    """Refuse, before any work, an output path whose folder is missing or not writable."""
    _check_parent(Path(final))
    if Path(final).is_dir():
        raise OutputError(f"cannot write {final}: it is a directory. Give a file path.")


def _check_parent(final: Path) -> None:
    parent = final.parent
    if not parent.exists():
        raise OutputError(
            f"cannot write {final}: the folder {parent} does not exist. Create it first "
            f"(mkdir -p {parent}) or choose another path."
        )
    if not parent.is_dir():
        raise OutputError(f"cannot write {final}: {parent} is not a folder. Choose another path.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {final}: the folder {parent} is not writable. Choose another path.")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` whole or not at all (temporary file in the same folder, then rename).

    Example:
        >>> atomic_write_bytes(Path("out.csv"), b"unique_id,ds,yhat\\n")
    """
    final = Path(path)
    _check_parent(final)
    if final.is_dir():
        raise OutputError(f"cannot write {final}: it is a directory. Give a file path.")
    tmp = _temp_name(final, "tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {exc.strerror}. Choose another path.") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux renameat2(RENAME_EXCHANGE); False if unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(final: Path) -> None:
    """Remove temporary directories a killed run left beside `final` (their process is gone)."""
    if not final.parent.is_dir():
        return
    for entry in final.parent.glob(f".{final.name}.*-*-*"):
        try:
            pid = int(entry.name.rsplit("-", 2)[1])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; on success it replaces `final` in one step.

    If the block raises (or the process dies), `final` is left exactly as it was and the
    temporary folder is removed (or, after a kill, removed by the next run).
    """
    final = Path(final)
    _check_parent(final)
    if final.exists() and not final.is_dir():
        raise OutputError(f"cannot write the model directory {final}: a file of that name exists. Choose another --out.")
    remove_stale_temps(final)
    tmp = _temp_name(final, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        _fsync_dir(tmp)
        if final.exists():
            if _exchange(tmp, final):
                shutil.rmtree(tmp, ignore_errors=True)
            else:  # not Linux: two renames, with the old copy kept until the new is in place
                old = _temp_name(final, "old")
                os.rename(final, old)
                os.rename(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_dir(path: Path) -> None:
    for entry in [path, *path.iterdir()] if path.is_dir() else [path]:
        with contextlib.suppress(OSError):
            fd = os.open(entry, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


# ---------------------------------------------------------------- manifest


def manifest_dict(
    *,
    config: TrainConfig,
    columns: Columns,
    time_kind: str,
    freq: str | None,
    step: int,
    season: int,
    series: dict[str, SeriesInfo],
    data_sha256: str,
    source: str,
    versions: dict[str, str],
    created_at: str,
    onnx: dict[str, Any] | None = None,
    covariates: dict[str, Scaling] | None = None,
) -> dict[str, Any]:
    """The JSON document written as `manifest.json`."""
    return {
        "covariates": {name: {"mean": s.mean, "scale": s.scale} for name, s in (covariates or {}).items()},
        "format_version": FORMAT_VERSION,
        "created_at": created_at,
        "versions": versions,
        "config": config.to_dict(),
        "columns": {
            "time_col": columns.time_col,
            "target_col": columns.target_col,
            "id_col": columns.id_col,
            "all_columns": list(columns.all_columns),
        },
        "time_kind": time_kind,
        "freq": freq,
        "step": step,
        "season": season,
        "data": {"source": source, "sha256": data_sha256, "series": len(series)},
        "onnx": onnx,
        "series": {
            uid: {
                "mean": info.scaling.mean,
                "scale": info.scaling.scale,
                "last": info.last if time_kind == "integer" else pd.Timestamp(info.last).isoformat(),
                "length": info.length,
                **({} if info.ets == MISSING else {"ets": info.ets}),
            }
            for uid, info in series.items()
        },
    }


def file_digests(folder: Path, names: list[str]) -> dict[str, str]:
    """SHA-256 of each named file in `folder` (recorded in the manifest, checked on load)."""
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names if (folder / name).is_file()}


def verify_file(model_dir: Path, manifest: "Manifest", name: str) -> Path:
    """The path of a model file whose bytes match the manifest's digest (else ModelDirError)."""
    path = model_dir / name
    expected = manifest.files.get(name)
    if expected is None:
        raise ModelDirError(f"{model_dir} has no {name} recorded in its manifest. Retrain the model with `forecast train`.")
    if not path.is_file():
        raise ModelDirError(
            f"{path} is missing, though the manifest records it: the model directory is incomplete. "
            "Retrain the model with `forecast train`."
        )
    if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise ModelDirError(
            f"{path} does not match the digest in the manifest: it is truncated, damaged or was "
            "replaced. Retrain the model with `forecast train`."
        )
    return path


def _require(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in doc:
        raise ModelDirError(f"{where}: required key {key!r} is missing. Retrain the model with `forecast train`.")
    value = doc[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ModelDirError(
            f"{where}: key {key!r} should be {names}, got {type(value).__name__} ({value!r:.60}). "
            "The manifest is damaged; retrain the model with `forecast train`."
        )
    return value


def _scaling(info: dict[str, Any], at: str, log: bool = False) -> Scaling:
    """A stored mean and scale, checked: finite, and the scale above 0."""
    mean = _require(info, "mean", (int, float), at)
    scale = _require(info, "scale", (int, float), at)
    if not (math.isfinite(mean) and math.isfinite(scale) and scale > 0):
        raise ModelDirError(f"{at}: mean must be finite and scale finite and above 0. Retrain the model.")
    return Scaling(float(mean), float(scale), log)


def _ets(info: dict[str, Any], at: str) -> dict[str, float] | None | str:
    """A series' stored ETS parameters, checked: four smoothing weights in [0, 1]."""
    if "ets" not in info:
        return MISSING
    params = info["ets"]
    if params is None:
        return None
    keys = ETS_KEYS
    if (not isinstance(params, dict) or sorted(params) != sorted(keys)
            or not all(isinstance(params[k], (int, float)) and not isinstance(params[k], bool)
                       and 0.0 <= params[k] <= 1.0 for k in keys)):
        raise ModelDirError(f"{at}: 'ets' must be null or {', '.join(keys)}, each from 0 to 1. Retrain the model.")
    return {k: float(params[k]) for k in keys}


def parse_manifest(doc: Any, where: str) -> Manifest:
    """Validate a manifest's types, ranges and required keys before anything uses it."""
    if not isinstance(doc, dict):
        raise ModelDirError(f"{where}: expected a JSON object, got {type(doc).__name__}. Retrain the model.")
    version = _require(doc, "format_version", int, where)
    if version > FORMAT_VERSION:
        raise ModelDirError(
            f"{where}: model format version {version} is newer than this forecast understands "
            f"(up to {FORMAT_VERSION}). Upgrade forecast (pip install -U forecast-cli) or retrain."
        )
    if version < 1:
        raise ModelDirError(f"{where}: format_version {version} is not valid. Retrain the model.")
    cfg = _require(doc, "config", dict, where)
    try:
        config = TrainConfig.from_dict(cfg)
    except (TypeError, ValueError, Exception) as exc:  # UsageError is a ValueError's cousin here
        raise ModelDirError(f"{where}: the training config is not valid ({exc}). Retrain the model.") from None
    if config.lookback is None or config.season is None or config.batch_size is None or "auto" in (config.transform, config.scaling, config.loss):
        raise ModelDirError(f"{where}: config lacks lookback, season, batch_size or transform. Retrain the model.")
    cols = _require(doc, "columns", dict, where)
    time_col = _require(cols, "time_col", str, where + " columns")
    target_col = _require(cols, "target_col", str, where + " columns")
    id_col = _require(cols, "id_col", (str, type(None)), where + " columns")
    all_columns = _require(cols, "all_columns", list, where + " columns")
    if not all(isinstance(c, str) for c in all_columns):
        raise ModelDirError(f"{where}: columns.all_columns must be a list of strings. Retrain the model.")
    time_kind = _require(doc, "time_kind", str, where)
    if time_kind not in ("datetime", "integer"):
        raise ModelDirError(f"{where}: time_kind must be 'datetime' or 'integer', got {time_kind!r}.")
    freq = _require(doc, "freq", (str, type(None)), where)
    if time_kind == "datetime":
        if freq is None:
            raise ModelDirError(f"{where}: a datetime model needs a freq. Retrain the model.")
        try:
            pd.tseries.frequencies.to_offset(freq)
        except ValueError:
            raise ModelDirError(f"{where}: freq {freq!r} is not a pandas frequency. Retrain the model.") from None
    step = _require(doc, "step", int, where)
    season = _require(doc, "season", int, where)
    if step < 1 or season < 1:
        raise ModelDirError(f"{where}: step and season must be at least 1. Retrain the model.")
    raw_series = _require(doc, "series", dict, where)
    series: dict[str, SeriesInfo] = {}
    for uid, info in raw_series.items():
        at = f"{where} series {uid!r}"
        if not isinstance(info, dict):
            raise ModelDirError(f"{at}: expected an object. Retrain the model.")
        scaling = _scaling(info, at, config.transform == "log")
        length = _require(info, "length", int, at)
        if time_kind == "integer":
            last = _require(info, "last", int, at)
        else:
            text = _require(info, "last", str, at)
            try:
                last = pd.Timestamp(text)
            except ValueError:
                raise ModelDirError(f"{at}: last {text!r} is not a timestamp. Retrain the model.") from None
        series[str(uid)] = SeriesInfo(scaling, last, length, _ets(info, at))
    onnx = doc.get("onnx")
    if onnx is not None and not isinstance(onnx, dict):
        raise ModelDirError(f"{where}: key 'onnx' should be an object or null. Retrain the model.")
    files = _require(doc, "files", dict, where)
    if not all(isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in files.items()):
        raise ModelDirError(f"{where}: 'files' must map file names to SHA-256 digests. Retrain the model.")
    covariates: dict[str, Scaling] = {}
    raw_covariates = doc.get("covariates", {})
    if not isinstance(raw_covariates, dict):
        raise ModelDirError(f"{where}: key 'covariates' should be an object. Retrain the model.")
    for name in config.covariates:
        info = raw_covariates.get(name)
        at = f"{where} covariates {name!r}"
        if not isinstance(info, dict):
            raise ModelDirError(f"{at}: the scaling of this covariate is missing. Retrain the model.")
        covariates[name] = _scaling(info, at)
    if config.past_covariates is None:  # a model from before covariates existed
        config = dataclasses.replace(config, past_covariates=())
    columns = Columns(time_col=time_col, target_col=target_col, id_col=id_col, all_columns=tuple(all_columns))
    return Manifest(config=config, columns=columns, time_kind=time_kind, freq=freq, step=step,
                    season=season, series=series, onnx=onnx, files=files, raw=doc, covariates=covariates)


def read_manifest(model_dir: str | os.PathLike[str]) -> Manifest:
    """Check that `model_dir` looks like a model directory and return its validated manifest."""
    root = Path(model_dir)
    if not root.exists():
        raise ModelDirError(
            f"{root}: no such model directory. Train one with `forecast train DATA.csv --out {root}`."
        )
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
        raise ModelDirError(f"{path} is not valid JSON ({exc}). Retrain the model with `forecast train`.") from None
    return parse_manifest(doc, str(path))
